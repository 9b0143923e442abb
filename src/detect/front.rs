//! The pipeline's front stage: detect, then track.

use crate::error::Result;
use crate::frame::Frame;
use crate::pipeline::FrontStage;
use crate::track::Tracker;
use crate::update::Analysis;

use super::Detector;

/// Detector plus tracker, as one [`FrontStage`].
#[derive(Debug)]
pub struct FaceFront {
    detector: Detector,
    tracker: Tracker,
}

impl FaceFront {
    pub fn new(detector: Detector, tracker: Tracker) -> Self {
        Self { detector, tracker }
    }
}

impl FrontStage for FaceFront {
    fn name(&self) -> &'static str {
        "detect"
    }

    fn process(&mut self, frame: Frame) -> Result<Analysis> {
        let detections = self.detector.detect(&frame.image)?;
        let update = self.tracker.update_confirmed(&detections);
        Ok(Analysis {
            frame,
            faces: update.faces,
            ended: update.ended,
        })
    }
}

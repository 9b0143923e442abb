//! The pipeline's front stage: detect, then track.

use crate::error::Result;
use crate::frame::Frame;
use crate::pipeline::FrontStage;
use crate::track::Tracker;
use crate::update::Analysis;

use super::Detector;

/// Detector plus tracker, as one [`FrontStage`]. While faces are tracked,
/// the full scan runs every `detect.full_scan_every_n_frames` frames and the
/// frames between only re-check the tracked faces ([`Detector::detect_near`]).
#[derive(Debug)]
pub struct FaceFront {
    detector: Detector,
    tracker: Tracker,
    /// Frames since the last full scan.
    since_full_scan: u32,
}

impl FaceFront {
    pub fn new(detector: Detector, tracker: Tracker) -> Self {
        Self {
            detector,
            tracker,
            since_full_scan: 0,
        }
    }

    /// The detections of one frame: a full scan, or a re-check of the tracks.
    fn detect(&mut self, frame: &Frame) -> Result<Vec<crate::face::Detection>> {
        let every = self.detector.config().full_scan_every_n_frames.max(1);
        let priors = self.tracker.predictions();
        self.since_full_scan += 1;
        if priors.is_empty() || self.since_full_scan >= every {
            self.since_full_scan = 0;
            return Ok(self.detector.detect(&frame.image)?);
        }
        Ok(self.detector.detect_near(&frame.image, &priors)?)
    }
}

impl FrontStage for FaceFront {
    fn name(&self) -> &'static str {
        "detect"
    }

    fn process(&mut self, frame: Frame) -> Result<Analysis> {
        let detections = self.detect(&frame)?;
        let update = self.tracker.update_confirmed(&detections);
        Ok(Analysis {
            frame,
            faces: update.faces,
            ended: update.ended,
        })
    }
}

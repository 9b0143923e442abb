//! The pipeline's front stage: detect, then track. Lives in the app because
//! it joins two stages (`detect` and `track`), which never import each other.

use crate::capture::SourceEvent;
use crate::core::face::{Detection, TrackId};
use crate::core::frame::Frame;
use crate::detect::{DetectError, Detector};
use crate::pipeline::{Analysis, FrontStage, StageResult};
use crate::track::Tracker;

/// Detector plus tracker, as one [`FrontStage`]. While faces are tracked,
/// the full scan runs every `detect.full_scan_every_n_frames` frames and the
/// frames between only re-check the tracked faces ([`Detector::detect_near`]).
#[derive(Debug)]
pub struct FaceFront {
    detector: Detector,
    tracker: Tracker,
    /// Frames since the last full scan.
    since_full_scan: u32,
    /// Tracks ended by a lost source, reported with the next frame.
    ended_by_loss: Vec<TrackId>,
}

impl FaceFront {
    /// The stage's name in statistics and errors.
    pub const NAME: &'static str = "detect";

    /// Joins a detector and a tracker.
    pub fn new(detector: Detector, tracker: Tracker) -> Self {
        Self {
            detector,
            tracker,
            since_full_scan: 0,
            ended_by_loss: Vec::new(),
        }
    }

    /// The detections of one frame: a full scan, or a re-check of the tracks.
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Detection>, DetectError> {
        let every = self.detector.config().full_scan_every_n_frames.max(1);
        let priors = self.tracker.predictions();
        self.since_full_scan += 1;
        if priors.is_empty() || self.since_full_scan >= every {
            self.since_full_scan = 0;
            return self.detector.detect(&frame.image);
        }
        self.detector.detect_near(&frame.image, &priors)
    }
}

impl FrontStage for FaceFront {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn process(&mut self, frame: Frame) -> StageResult<Analysis> {
        let detections = self.detect(&frame)?;
        let update = self.tracker.update_confirmed(&detections);
        let mut ended = std::mem::take(&mut self.ended_by_loss);
        ended.extend(update.ended);
        Ok(Analysis {
            frame,
            faces: update.faces,
            ended,
        })
    }

    fn source_event(&mut self, event: &SourceEvent) {
        if let SourceEvent::Lost { .. } = event {
            self.ended_by_loss.extend(self.tracker.clear());
            self.since_full_scan = 0;
        }
    }
}

/// Front stage used when face detection is off: frames pass with no faces.
#[derive(Debug, Default)]
pub struct FrameOnly;

impl FrontStage for FrameOnly {
    fn name(&self) -> &'static str {
        "frame"
    }

    fn process(&mut self, frame: Frame) -> StageResult<Analysis> {
        Ok(Analysis {
            frame,
            faces: Vec::new(),
            ended: Vec::new(),
        })
    }
}

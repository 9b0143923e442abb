//! The messages that flow from the stages to the presenter.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::face::{TrackId, TrackedFace};
use crate::frame::Frame;

/// Where a result came from: the frame it was computed on.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub seq: u64,
    pub media_time: Duration,
    pub captured: Instant,
}

impl Stamp {
    pub fn of(frame: &Frame) -> Self {
        Self {
            seq: frame.seq,
            media_time: frame.media_time,
            captured: frame.captured,
        }
    }
}

/// The front stage's view of one frame: the faces found and their tracks.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub frame: Frame,
    pub faces: Vec<TrackedFace>,
    /// Tracks that ended at this frame (their per-track state should be dropped).
    pub ended: Vec<TrackId>,
}

impl Analysis {
    pub fn stamp(&self) -> Stamp {
        Stamp::of(&self.frame)
    }
}

/// One label with its probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub label: String,
    pub score: f32,
}

/// The scene consumer's verdict on a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneVerdict {
    /// Best label first.
    pub top: Vec<Scored>,
}

impl SceneVerdict {
    pub fn best(&self) -> Option<&Scored> {
        self.top.first()
    }
}

/// A message to the presenter.
#[derive(Debug, Clone)]
pub enum Update {
    /// A frame went through the front stage (sent for every processed frame).
    Faces(Arc<Analysis>),
    Scene(Stamp, SceneVerdict),
    Verify(Stamp, crate::verify::report::VerifyVerdict),
}

impl Update {
    pub fn stamp(&self) -> Stamp {
        match self {
            Update::Faces(a) => a.stamp(),
            Update::Scene(s, _) => *s,
            Update::Verify(s, _) => *s,
        }
    }

    /// True for consumer verdicts (counted in capture-to-verdict latency).
    pub fn is_verdict(&self) -> bool {
        !matches!(self, Update::Faces(_))
    }
}

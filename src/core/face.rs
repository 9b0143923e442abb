//! What the detector says about one face, and the identity of a tracked face.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::geometry::{BoundingBox, Landmarks};

/// One face found in one frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The calibrated, squared O-Net box, in frame pixels (may cross the border).
    pub bbox: BoundingBox,
    /// O-Net face probability.
    pub score: f32,
    /// The five landmarks, in frame pixels.
    pub landmarks: Landmarks,
}

/// Identity of a face followed across frames by the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TrackId(pub u64);

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A detection assigned to a track in the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackedFace {
    /// The track this detection continues or starts.
    pub track: TrackId,
    /// The face as detected in this frame.
    pub detection: Detection,
    /// Frames this track has been seen in, this one included.
    pub age: u32,
}

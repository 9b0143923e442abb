//! What the verifier tells the presenter: per-face identity, the lock state,
//! and state-change notices (written as events).

use serde::Serialize;

use super::decision::Identity;
use super::liveness::{Cues, Liveness};
use crate::core::face::TrackId;

/// The verifier's view of one tracked face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceVerdict {
    pub track: TrackId,
    #[serde(flatten)]
    pub identity: Identity,
    /// Nearest enrolled person and distance at the last embedding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
    #[serde(flatten)]
    pub liveness: Liveness,
}

/// A state change worth an event line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verify", rename_all = "snake_case")]
pub enum VerifyNotice {
    /// A track's identity changed (decided, or changed on refresh).
    Identity {
        track: TrackId,
        #[serde(flatten)]
        identity: Identity,
        #[serde(skip_serializing_if = "Option::is_none")]
        distance: Option<f32>,
    },
    Unlocked {
        track: TrackId,
        name: String,
        distance: f32,
    },
    Locked {
        reason: String,
    },
    UnlockFailed {
        track: TrackId,
        reason: String,
    },
    LivenessFailed {
        track: TrackId,
        reason: String,
        cues: Cues,
    },
    LockedOut {
        track: TrackId,
        remaining_s: f64,
    },
    /// An error on the unlock path (the device stays locked).
    Error {
        message: String,
    },
}

/// The verifier's output for one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyVerdict {
    pub faces: Vec<FaceVerdict>,
    pub unlocked: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<VerifyNotice>,
}

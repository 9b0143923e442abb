//! What the verifier tells the presenter: per-face identity, the lock state,
//! and state-change notices (written as events).

use serde::Serialize;

use super::decision::Identity;
use super::liveness::{Cues, Liveness};
use crate::core::face::TrackId;

/// The verifier's view of one tracked face.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceVerdict {
    /// The tracked face this is about.
    pub track: TrackId,
    /// Who the vote says it is (pending, an owner, or unknown).
    #[serde(flatten)]
    pub identity: Identity,
    /// Nearest enrolled person and distance at the last embedding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best: Option<String>,
    /// Distance to that person's nearest template at the last embedding, in
    /// the configured metric; `None` before the first or with nobody enrolled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
    /// The liveness verdict shown for the track: the sliding window's for
    /// an owner trying to unlock while the device is locked, `live` for the
    /// track that unlocked (for its whole life: a later window failing does
    /// not undo the unlock), `pending` otherwise (not judged). Never `spoof`
    /// while the device is unlocked.
    #[serde(flatten)]
    pub liveness: Liveness,
    /// What the owner is asked to do after a failed liveness attempt
    /// ("move your head slightly"), while they keep trying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// A state change worth an event line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "verify", rename_all = "snake_case")]
pub enum VerifyNotice {
    /// A track's identity changed (decided, or changed on refresh).
    Identity {
        /// The tracked face.
        track: TrackId,
        /// Its new identity.
        #[serde(flatten)]
        identity: Identity,
        /// Distance of the last embedding to the best match, in the
        /// configured metric, when there was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        distance: Option<f32>,
    },
    /// The unlock command succeeded (or none is configured): the device is
    /// unlocked for this owner.
    Unlocked {
        /// The owner's track.
        track: TrackId,
        /// The owner's enrolled name.
        name: String,
        /// Distance of the deciding embedding, in the configured metric.
        distance: f32,
    },
    /// The device locked again.
    Locked {
        /// Why: the unlock period ran out, the source was lost, the run ended;
        /// with the lock command's failure appended when it failed.
        reason: String,
    },
    /// An owner was recognised but the unlock did not happen.
    UnlockFailed {
        /// The owner's track.
        track: TrackId,
        /// Why (the command's failure, the audit log unavailable).
        reason: String,
    },
    /// A recognised owner showed no live window within one liveness
    /// attempt (counted by the rate limit); the next attempt has started.
    LivenessFailed {
        /// The track.
        track: TrackId,
        /// The failed cue of the last window, or no live verdict in time.
        reason: String,
        /// The cues measured over the last window.
        cues: Cues,
        /// What the owner is asked to do ("move your head slightly").
        prompt: String,
    },
    /// An owner was recognised during a lockout and not unlocked.
    LockedOut {
        /// The track.
        track: TrackId,
        /// Seconds of lockout left.
        remaining_s: f64,
    },
    /// An error on the unlock path (the device stays locked).
    Error {
        /// What failed.
        message: String,
    },
    /// The gallery file changed and was loaded again (an enrolment or a
    /// removal): every track is verified afresh against it.
    GalleryReloaded {
        /// The names now enrolled (no biometric data).
        people: Vec<String>,
    },
}

/// The verifier's output for one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyVerdict {
    /// One verdict per tracked face in the frame.
    pub faces: Vec<FaceVerdict>,
    /// True while the device is unlocked.
    pub unlocked: bool,
    /// State changes during this frame, in order (often none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<VerifyNotice>,
}

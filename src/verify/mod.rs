//! Layer 3, a stage: owner verification and unlock. May use core, models and
//! pipeline; never another stage or the app.
//!
//! ```text
//! aligned chip ─▶ embed ─▶ best match in the gallery ─▶ N-of-M vote per track ─┐
//! landmarks + pixels per track ─▶ liveness ─────────────────────────────────────┼─▶ unlock action
//!                                             rate limit, audit log ────────────┘
//! ```
//! Every error on this path leaves the device locked: a gallery that cannot be
//! read means nobody is enrolled, a failed embedding is no vote, a failed,
//! hanging or killed unlock command is no unlock.

pub mod audit;
pub mod config;
pub mod decision;
pub mod embed;
pub mod enroll;
pub mod gallery;
pub mod liveness;
pub mod metrics;
mod phase;
pub mod planarity;
pub mod pose;
pub mod quality;
pub mod ratelimit;
pub mod report;
pub mod spec;
pub mod stage;
pub mod unlock;
pub mod watch;

use thiserror::Error;

use crate::models::ModelError;

pub use audit::{AuditError, AuditKind, AuditLog, AuditRecord, AuditSink, Decision};
pub use config::{LivenessConfig, StatePaths, UnlockConfig, VerifyConfig};
pub use decision::{Identity, TrackVotes, VoteRule};
pub use embed::{Embedding, EmbeddingModel, FaceEmbedder, Metric, NetEmbedder};
pub use gallery::{Gallery, GalleryError, GalleryStore};
pub use ratelimit::RateLimiter;
pub use unlock::{LockState, UnlockController, UnlockError};

/// Any failure of the verification path; each leaves the device locked.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The embedding model failed to load or run.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The gallery could not be read, verified or written.
    #[error(transparent)]
    Gallery(#[from] GalleryError),
    /// The audit log could not be opened or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The unlock or lock command failed.
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    /// The aligned face chip is not the size the embedding takes.
    #[error("face chip is {width}x{height}, the embedding takes {side}x{side}")]
    ChipSize {
        /// Chip width, in pixels.
        width: u32,
        /// Chip height, in pixels.
        height: u32,
        /// The side the network takes.
        side: u32,
    },
}

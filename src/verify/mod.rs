//! Owner verification and unlock.
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
pub mod pose;
pub mod quality;
pub mod ratelimit;
pub mod report;
pub mod spec;
pub mod stage;
pub mod unlock;

use thiserror::Error;

use crate::models::ModelError;

pub use audit::{AuditError, AuditKind, AuditLog, AuditRecord, AuditSink, Decision};
pub use config::{LivenessConfig, StatePaths, UnlockConfig, VerifyConfig};
pub use decision::{Identity, TrackVotes, VoteRule};
pub use embed::{Embedding, FaceEmbedder, Metric, NetEmbedder};
pub use gallery::{Gallery, GalleryError, GalleryStore};
pub use ratelimit::RateLimiter;
pub use unlock::{LockState, UnlockController, UnlockError};

#[derive(Debug, Error)]
pub enum VerifyError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Gallery(#[from] GalleryError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Unlock(#[from] UnlockError),
    #[error("face chip is {width}x{height}, the embedding takes 150x150")]
    ChipSize { width: u32, height: u32 },
}

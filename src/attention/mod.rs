//! Attention stage: driver eye closure (PERCLOS, microsleep), yawning and
//! head-pose distraction, on the driver's track only, every
//! `attention.every_n_frames` frames.
//!
//! - [`crop`]: upright eye and mouth crops from the five MTCNN landmarks.
//! - [`classifier`]: the eye-state and yawn networks (trained by
//!   `models/train-attention/`).
//! - [`pose`]: yaw, pitch and roll from the landmarks against a generic 3-D face.
//! - [`monitor`]: PERCLOS, microsleep, yawn and distraction alerts over media time.
//! - [`stage`]: the pipeline consumer tying them together.
//! - [`config`]: the `[attention]` section.
//!
//! Uses core, models and pipeline only; no other stage.
//!
//! Layer 3, a stage: may use core, models and pipeline; never another stage or the app.

pub mod classifier;
pub mod config;
pub mod crop;
pub mod monitor;
pub mod pose;
pub mod specs;
pub mod stage;

use thiserror::Error;

use crate::models::ModelError;

pub use classifier::{AttentionClassifier, FaceReading};
pub use config::AttentionConfig;
pub use monitor::{AttentionAlert, AttentionKind, AttentionMonitor, AttentionPhase, Observation};
pub use pose::{head_pose, HeadPose};
pub use stage::{AttentionReport, AttentionStage, DriverAttention};

/// Why the attention stage failed on a frame.
#[derive(Debug, Error)]
pub enum AttentionError {
    /// A model could not be loaded or run.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A model returned fewer values than asked for.
    #[error("model {0}: unexpected output size")]
    Output(&'static str),
}

//! Emotion stage: seven Ekman classes per tracked face, smoothed per track,
//! and the driver-mood monitor built on them.
//!
//! - [`label`]: the typed [`Emotion`] and per-class [`EmotionScores`].
//! - [`crop`]: frame + landmarks -> grey face crop framed like FER2013.
//! - [`views`]: test-time views (mirror, shifts) at each model's input side.
//! - [`classifier`]: the net trained here on FER2013, optionally averaged with mini-Xception and face-api's net.
//! - [`smoothing`]: per-track EMA / window over media time.
//! - [`monitor`]: time shares over a sliding window and alerts.
//! - [`stage`]: the pipeline consumer tying them together.
//! - [`config`]: the `[emotion]` and `[monitor]` sections.
//!
//! Layer 3, a stage: may use core, models and pipeline; never another stage or the app.

pub mod classifier;
pub mod config;
pub mod crop;
pub mod label;
pub mod monitor;
pub mod smoothing;
pub mod specs;
pub mod stage;
pub mod views;

use thiserror::Error;

use crate::models::ModelError;

pub use classifier::{ClassifierOptions, EmotionClassifier, EnsembleWeights};
pub use config::{EmotionConfig, MonitorConfig};
pub use label::{Emotion, EmotionScores, EMOTION_COUNT};
pub use monitor::{Alert, AlertKind, AlertPhase, DriverSample, MoodMonitor, MoodShares};
pub use smoothing::{EmotionSmoother, SmoothedEmotion, SmoothingMethod, SmoothingParams};
pub use stage::{EmotionReport, EmotionStage, FaceEmotion};
pub use views::TtaMode;

/// Why the emotion classifier could not be built or could not classify a face.
#[derive(Debug, Error)]
pub enum EmotionError {
    /// Loading, planning or running an expression net failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A face crop with no pixels (zero width or height).
    #[error("empty face crop")]
    EmptyCrop,
    /// Resampling a face crop failed; the message gives the sizes and the cause.
    #[error("cannot resize a face crop: {0}")]
    Resize(String),
    /// A bad option (a weight outside 0–1, or all 0), a missing plan or model,
    /// or a model output of the wrong size.
    #[error("emotion classifier: {0}")]
    Internal(String),
}

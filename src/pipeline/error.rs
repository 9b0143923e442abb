//! How a run fails: which stage, and why.

use thiserror::Error;

use crate::capture::CaptureError;

/// Any error a stage returns; the pipeline adds the stage's name.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A stage's error with the stage's name (its message is part of this
/// error's own, so a report shows both on one line).
#[derive(Debug, Error)]
#[error("the {stage} stage failed: {error}")]
pub struct StageError {
    /// The stage's name (`detect`, `verify`, ...).
    pub stage: String,
    /// What the stage reported.
    pub error: BoxError,
}

/// Why a run stopped with an error.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The source could not be opened or failed.
    #[error(transparent)]
    Source(#[from] CaptureError),
    /// A stage (front, consumer or presenter) returned an error.
    #[error(transparent)]
    Stage(#[from] StageError),
    /// A stage panicked (turned into an error so the run stops at once).
    #[error("the {stage} stage panicked: {what}")]
    Panicked {
        /// The stage's name.
        stage: String,
        /// The panic message.
        what: String,
    },
    /// A thread could not be started or did not finish.
    #[error("the {name} thread: {message}")]
    Thread {
        /// The thread's role.
        name: String,
        /// What happened.
        message: String,
    },
}

impl PipelineError {
    /// `source` as the failure of `stage`.
    pub fn stage(stage: &str, source: BoxError) -> Self {
        Self::Stage(StageError {
            stage: stage.to_string(),
            error: source,
        })
    }
}

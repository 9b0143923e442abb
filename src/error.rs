//! The crate-wide error: each module has its own typed error, gathered here
//! so that pipeline stages can return any of them.

use thiserror::Error;

use crate::capture::CaptureError;
use crate::config::ConfigError;
use crate::models::ModelError;
use crate::scene::SceneError;
use crate::verify::VerifyError;

#[derive(Debug, Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("cannot write events to {path}: {source}")]
    Events {
        path: String,
        source: std::io::Error,
    },
    #[error("display: {0}")]
    Display(String),
    #[error("pipeline: {0}")]
    Pipeline(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

//! What can go wrong while presenting.

use thiserror::Error;

/// An event stream that cannot be written, or a window that cannot be shown.
#[derive(Debug, Error)]
pub enum PresentError {
    /// The events file could not be created or written.
    #[error("cannot write events to {path}: {source}")]
    Events {
        /// The file (`-` for stdout).
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The overlay window failed.
    #[error("display: {0}")]
    Display(String),
}

/// A presenter result.
pub type Result<T, E = PresentError> = std::result::Result<T, E>;

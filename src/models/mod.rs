//! Layer 1, models: the one place that loads ONNX files.
//!
//! Every model is read into memory once, its SHA-256 checked against the
//! manifest compiled into the binary (`models/SHA256SUMS`), parsed from those
//! same bytes (no check-then-reopen race), and its declared inputs and outputs
//! compared with what the stage that uses it expects (its [`ModelSpec`]; the
//! specs live beside their stages). A stage then asks for a [`Plan`]: the
//! graph with a concrete input shape, optimised once, with a reusable
//! execution state.
//!
//! Uses core only; names no stage.

pub mod config;
pub mod dirs;
pub mod manifest;
pub mod spec;
pub mod store;

use std::path::PathBuf;

use thiserror::Error;

pub use config::ModelsConfig;
pub use dirs::{resolve_dir, search_dirs, INSTALLED_MODELS_DIR, MODELS_DIR_ENV};
pub use manifest::{parse_manifest, sha256_hex, Verified, MANIFEST, MANIFEST_FILE};
pub use spec::{Dim, ModelSpec, TensorSpec};
pub use store::{output_f32, Model, ModelStore, Plan};

/// Why a model could not be used. Every variant names the file.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The file could not be read (absent, a directory, no permission).
    #[error("model file {path} is missing or unreadable: {source}")]
    Missing {
        /// The file's full path in the models directory.
        path: PathBuf,
        /// The I/O error from reading it.
        source: std::io::Error,
    },
    /// The file has no line in the manifest, so it cannot be trusted.
    #[error("model file {path} is not in the checksum manifest (models/SHA256SUMS)")]
    NotInManifest {
        /// The file's full path in the models directory.
        path: PathBuf,
    },
    /// The file's SHA-256 differs from the manifest's: altered, truncated or a different version.
    #[error(
        "model file {path} was altered or is corrupt: SHA-256 {actual}, manifest expects {expected}"
    )]
    Checksum {
        /// The file's full path in the models directory.
        path: PathBuf,
        /// SHA-256 the manifest lists, lowercase hex.
        expected: String,
        /// SHA-256 of the bytes read, lowercase hex.
        actual: String,
    },
    /// The checked bytes do not parse as ONNX.
    #[error("model file {path} is not a valid ONNX model: {message}")]
    Parse {
        /// The file's full path in the models directory.
        path: PathBuf,
        /// tract's parse error.
        message: String,
    },
    /// The model's inputs or outputs differ from its [`ModelSpec`] (count, name, type or shape).
    #[error("model {file}: {message}")]
    Interface {
        /// The model's file name, as in its spec.
        file: String,
        /// Which input or output disagrees, and how.
        message: String,
    },
    /// No runnable plan for that input shape: the shape breaks the spec, or
    /// tract could not type, optimise or shape the graph's outputs for it.
    #[error("model {file}: cannot build a plan for input shape {shape:?}: {message}")]
    Plan {
        /// The model's file name, as in its spec.
        file: String,
        /// The input shape asked for (with a symbolic batch, the batch axis is 1).
        shape: Vec<usize>,
        /// What failed.
        message: String,
    },
    /// Running a plan failed: wrong input shape or buffer size, a tract
    /// error, or an output missing or not `f32`.
    #[error("model {file}: inference failed: {message}")]
    Run {
        /// The model's file name, as in its spec.
        file: String,
        /// What failed.
        message: String,
    },
    /// No models directory configured, in the environment variable, or found
    /// with a manifest among the default places.
    #[error("no models directory found: tried {tried}; set models.dir in the config or {env}")]
    NoModelsDir {
        /// The directories searched, comma-separated.
        tried: String,
        /// Name of the environment variable that sets the directory ([`MODELS_DIR_ENV`]).
        env: &'static str,
    },
}

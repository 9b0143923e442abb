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
    #[error("model file {path} is missing or unreadable: {source}")]
    Missing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model file {path} is not in the checksum manifest (models/SHA256SUMS)")]
    NotInManifest { path: PathBuf },
    #[error(
        "model file {path} was altered or is corrupt: SHA-256 {actual}, manifest expects {expected}"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model file {path} is not a valid ONNX model: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("model {file}: {message}")]
    Interface { file: String, message: String },
    #[error("model {file}: cannot build a plan for input shape {shape:?}: {message}")]
    Plan {
        file: String,
        shape: Vec<usize>,
        message: String,
    },
    #[error("model {file}: inference failed: {message}")]
    Run { file: String, message: String },
    #[error("no models directory found: tried {tried}; set models.dir in the config or {env}")]
    NoModelsDir { tried: String, env: &'static str },
}

//! `[models]`: where the ONNX files are (owned by the models layer).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// `[models]`: where the ONNX files are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// The models directory; absent = automatic lookup (see [`super::resolve_dir`]).
    pub dir: Option<PathBuf>,
}

impl ModelsConfig {
    /// The configured directory, or `None` for automatic lookup.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

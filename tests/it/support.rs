//! What several test modules share: fixture paths, the shipped models, and
//! an in-memory audit sink.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use vigil::models::ModelStore;
use vigil::verify::audit::{AuditError, AuditRecord, AuditSink};

/// `tests/fixtures/<rel>` (see its README for every file's origin).
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The shipped models directory of this checkout.
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A store over the shipped models.
pub fn store() -> ModelStore {
    ModelStore::new(models_dir())
}

/// Audit records kept in memory, as JSON lines, shared with the test.
#[derive(Clone, Default)]
pub struct MemoryAudit(pub Arc<Mutex<Vec<String>>>);

impl AuditSink for MemoryAudit {
    fn record(&mut self, r: &AuditRecord) -> Result<(), AuditError> {
        self.0
            .lock()
            .unwrap()
            .push(serde_json::to_string(r).unwrap());
        Ok(())
    }
}

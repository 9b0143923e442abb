//! Append-only audit log: one JSON line per decision, unlock, lock or error.
//!
//! The file is opened with `O_APPEND` (mode 0600 when created) and each record
//! is written in one `write` and synced before the action it records is taken:
//! an unlock whose record cannot be written does not happen.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use thiserror::Error;

use crate::core::face::TrackId;

/// The audit log could not be used; the action it would record is not taken.
#[derive(Debug, Error)]
pub enum AuditError {
    /// Opening (or creating) the log file failed.
    #[error("cannot open audit log {path}: {source}")]
    Open {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Writing or syncing a record failed.
    #[error("cannot write audit log {path}: {source}")]
    Write {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A track reached an identity decision.
    Decision,
    /// The unlock action ran and succeeded.
    Unlock,
    /// The unlock action was attempted and failed (the device stays locked).
    UnlockFailed,
    /// The device was locked again.
    Lock,
    /// The owner was recognised but the liveness check failed.
    LivenessFailed,
    /// A decision was refused because of the failed-attempt lockout.
    LockedOut,
    /// An error on the unlock path (model, gallery, command).
    Error,
}

/// What a record says about the device or the face: written as `"owner"`,
/// `"unknown"`, `"locked"` or `"unlocked"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The face is the enrolled owner.
    Owner,
    /// The face is nobody enrolled.
    Unknown,
    /// The device is (or stays) locked.
    Locked,
    /// The device was unlocked.
    Unlocked,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Wall-clock time of the record.
    pub time_unix_s: f64,
    /// Frame-clock time of the frame that caused it.
    pub media_time_s: f64,
    /// What the record is about.
    pub kind: AuditKind,
    /// The tracked face, if the record is about one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<TrackId>,
    /// The nearest enrolled person, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_match: Option<String>,
    /// The distance to `best_match`, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<f32>,
    /// The decision recorded.
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
}

impl AuditRecord {
    /// A record at frame time `media_time_s`, about no track in particular.
    pub fn new(
        kind: AuditKind,
        media_time_s: f64,
        decision: Decision,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            time_unix_s: unix_now_f64(),
            media_time_s,
            kind,
            track: None,
            best_match: None,
            distance: None,
            decision,
            reason: reason.into(),
        }
    }

    /// The record is about `track`.
    pub fn track(mut self, track: TrackId) -> Self {
        self.track = Some(track);
        self
    }

    /// The nearest enrolled person and distance (either may be unknown).
    pub fn matched(mut self, name: Option<&str>, distance: Option<f32>) -> Self {
        self.best_match = name.map(str::to_string);
        self.distance = distance;
        self
    }
}

/// Where audit records go.
pub trait AuditSink: Send {
    /// Stores one record durably before returning; an error means it was not
    /// stored, and the caller must not take the action it records.
    fn record(&mut self, record: &AuditRecord) -> Result<(), AuditError>;
}

/// The JSON-lines audit file.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
}

impl AuditLog {
    /// Opens `path` for appending, creating it with mode 0600 if absent.
    pub fn open(path: &Path) -> Result<Self, AuditError> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| AuditError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl AuditSink for AuditLog {
    fn record(&mut self, record: &AuditRecord) -> Result<(), AuditError> {
        let err = |source: std::io::Error| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(record).map_err(|e| err(std::io::Error::other(e)))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(err)?;
        self.file.sync_data().map_err(err)
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn unix_now_f64() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whole seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    unix_now_f64() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_json_lines_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("audit.jsonl");
        std::fs::write(&p, b"{\"earlier\":1}\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        {
            let mut log = AuditLog::open(&p).unwrap();
            let r = AuditRecord::new(AuditKind::Decision, 1.5, Decision::Unknown, "no match")
                .track(TrackId(3))
                .matched(Some("alice"), Some(0.7));
            log.record(&r).unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "{\"earlier\":1}");
        let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["kind"], "decision");
        assert_eq!(v["track"], 3);
        assert_eq!(v["best_match"], "alice");
        let fresh = d.path().join("new.jsonl");
        AuditLog::open(&fresh).unwrap();
        let mode = std::fs::metadata(&fresh).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn decisions_are_written_as_before() {
        // The strings of the audit log before the decision was typed.
        for (d, text) in [
            (Decision::Owner, "\"owner\""),
            (Decision::Unknown, "\"unknown\""),
            (Decision::Locked, "\"locked\""),
            (Decision::Unlocked, "\"unlocked\""),
        ] {
            assert_eq!(serde_json::to_string(&d).unwrap(), text);
        }
        let mut r = AuditRecord::new(AuditKind::UnlockFailed, 2.0, Decision::Locked, "exit 1")
            .track(TrackId(7))
            .matched(Some("alice"), Some(0.25));
        r.time_unix_s = 1.0;
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            "{\"time_unix_s\":1.0,\"media_time_s\":2.0,\"kind\":\"unlock_failed\",\"track\":7,\
             \"best_match\":\"alice\",\"distance\":0.25,\"decision\":\"locked\",\"reason\":\"exit 1\"}"
        );
        let mut r = AuditRecord::new(
            AuditKind::Lock,
            3.5,
            Decision::Locked,
            "relock time reached",
        );
        r.time_unix_s = 1.0;
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            "{\"time_unix_s\":1.0,\"media_time_s\":3.5,\"kind\":\"lock\",\
             \"decision\":\"locked\",\"reason\":\"relock time reached\"}"
        );
    }

    #[test]
    fn unopenable_log_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let e = AuditLog::open(&d.path().join("no/dir/audit.jsonl")).unwrap_err();
        assert!(e.to_string().contains("no/dir"), "{e}");
    }
}

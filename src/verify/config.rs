//! `[verify]`, `[liveness]` and `[unlock]` config sections (documented in
//! config/vigil.toml, key by key).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, positive, ConfigError};

use super::embed::Metric;

/// Default gallery file name inside the state directory.
pub const GALLERY_FILE: &str = "gallery.json";
/// Per-device secret that keys the gallery's HMAC, inside the state directory.
pub const KEY_FILE: &str = "gallery.key";
/// Default audit log file name inside the state directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// `[verify]`: embedding, gallery, open-set decision, enrollment gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    pub enabled: bool,
    pub state_dir: Option<PathBuf>,
    pub gallery_path: Option<PathBuf>,
    pub metric: Metric,
    pub threshold: f32,
    pub votes_needed: usize,
    pub vote_window: usize,
    pub unsure_margin: f32,
    pub refresh_s: f64,
    pub enroll_frames: usize,
    pub enroll_templates: usize,
    pub enroll_min_face_px: f32,
    pub enroll_min_sharpness: f32,
    pub enroll_max_yaw: f32,
    pub enroll_max_roll_deg: f32,
    pub enroll_min_spacing: f32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            state_dir: None,
            gallery_path: None,
            metric: Metric::Euclidean,
            threshold: 0.45,
            votes_needed: 3,
            vote_window: 5,
            unsure_margin: 0.05,
            refresh_s: 2.0,
            enroll_frames: 60,
            enroll_templates: 10,
            enroll_min_face_px: 80.0,
            enroll_min_sharpness: 20.0,
            enroll_max_yaw: 0.25,
            enroll_max_roll_deg: 15.0,
            enroll_min_spacing: 0.2,
        }
    }
}

/// Where the verifier's files are, resolved from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatePaths {
    /// The state directory (0700).
    pub dir: PathBuf,
    /// The signed gallery.
    pub gallery: PathBuf,
    /// The per-device key of the gallery's HMAC.
    pub key: PathBuf,
    /// The append-only audit log.
    pub audit: PathBuf,
}

impl VerifyConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("verify.threshold", self.threshold as f64)?;
        in_range("verify.votes_needed", self.votes_needed as f64, 1.0, 100.0)?;
        in_range(
            "verify.vote_window",
            self.vote_window as f64,
            self.votes_needed as f64,
            100.0,
        )?;
        in_range("verify.unsure_margin", self.unsure_margin as f64, 0.0, 1.0)?;
        positive("verify.refresh_s", self.refresh_s)?;
        positive("verify.enroll_frames", self.enroll_frames as f64)?;
        in_range(
            "verify.enroll_templates",
            self.enroll_templates as f64,
            1.0,
            100.0,
        )?;
        positive("verify.enroll_min_face_px", self.enroll_min_face_px as f64)?;
        in_range(
            "verify.enroll_min_sharpness",
            self.enroll_min_sharpness as f64,
            0.0,
            1e6,
        )?;
        in_range(
            "verify.enroll_max_yaw",
            self.enroll_max_yaw as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "verify.enroll_max_roll_deg",
            self.enroll_max_roll_deg as f64,
            0.0,
            90.0,
        )?;
        in_range(
            "verify.enroll_min_spacing",
            self.enroll_min_spacing as f64,
            0.0,
            2.0,
        )
    }

    /// The verifier's files inside the state directory `dir` (resolved by
    /// the app): the configured gallery and audit paths (relative ones inside
    /// `dir`), or the default names.
    pub fn paths_in(&self, dir: PathBuf, unlock: &UnlockConfig) -> StatePaths {
        StatePaths {
            gallery: state_file(&dir, self.gallery_path.as_deref(), GALLERY_FILE),
            key: dir.join(KEY_FILE),
            audit: state_file(&dir, unlock.audit_log.as_deref(), AUDIT_FILE),
            dir,
        }
    }
}

/// Resolves a configured file path: absent means `<state_dir>/<default_name>`,
/// a relative path is taken relative to the state directory.
pub fn state_file(
    state_dir: &std::path::Path,
    configured: Option<&std::path::Path>,
    default_name: &str,
) -> PathBuf {
    match configured {
        None => state_dir.join(default_name),
        Some(p) if p.is_absolute() => p.to_path_buf(),
        Some(p) => state_dir.join(p),
    }
}

/// Optional active challenge on top of the passive liveness check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Challenge {
    None,
    /// A small head turn (left or right and back) within the window.
    Turn,
}

/// `[liveness]`: reject a still or replayed picture of the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessConfig {
    pub enabled: bool,
    pub window_s: f64,
    pub min_frames: usize,
    pub timeout_s: f64,
    pub min_parallax: f32,
    pub min_face_change: f32,
    pub max_rigid_ratio: f32,
    pub challenge: Challenge,
    pub challenge_yaw: f32,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_s: 1.0,
            min_frames: 5,
            timeout_s: 5.0,
            min_parallax: 0.012,
            min_face_change: 0.5,
            max_rigid_ratio: 0.3,
            challenge: Challenge::None,
            challenge_yaw: 0.15,
        }
    }
}

impl LivenessConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("liveness.window_s", self.window_s)?;
        in_range("liveness.min_frames", self.min_frames as f64, 2.0, 1000.0)?;
        in_range("liveness.timeout_s", self.timeout_s, self.window_s, 3600.0)?;
        in_range("liveness.min_parallax", self.min_parallax as f64, 0.0, 1.0)?;
        in_range(
            "liveness.min_face_change",
            self.min_face_change as f64,
            0.0,
            255.0,
        )?;
        in_range(
            "liveness.max_rigid_ratio",
            self.max_rigid_ratio as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "liveness.challenge_yaw",
            self.challenge_yaw as f64,
            0.0,
            1.0,
        )
    }
}

/// `[unlock]`: what happens when the owner is seen, and the guards around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UnlockConfig {
    pub command: Vec<String>,
    pub lock_command: Vec<String>,
    pub timeout_s: f64,
    pub relock_s: f64,
    pub max_failures: usize,
    pub failure_window_s: f64,
    pub lockout_s: f64,
    pub audit_log: Option<PathBuf>,
}

impl Default for UnlockConfig {
    fn default() -> Self {
        Self {
            command: Vec::new(),
            lock_command: Vec::new(),
            timeout_s: 5.0,
            relock_s: 10.0,
            max_failures: 5,
            failure_window_s: 60.0,
            lockout_s: 30.0,
            audit_log: None,
        }
    }
}

impl UnlockConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, argv) in [
            ("unlock.command", &self.command),
            ("unlock.lock_command", &self.lock_command),
        ] {
            if argv.first().is_some_and(|p| p.is_empty()) {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    message: "the program (first element) is empty".into(),
                });
            }
        }
        in_range("unlock.timeout_s", self.timeout_s, 0.01, 600.0)?;
        positive("unlock.relock_s", self.relock_s)?;
        in_range("unlock.max_failures", self.max_failures as f64, 1.0, 1e6)?;
        positive("unlock.failure_window_s", self.failure_window_s)?;
        in_range("unlock.lockout_s", self.lockout_s, 0.0, 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate() {
        VerifyConfig::default().validate().unwrap();
        LivenessConfig::default().validate().unwrap();
        UnlockConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let c = VerifyConfig {
            vote_window: 2,
            ..Default::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("verify.vote_window"), "{e}");
        let u = UnlockConfig {
            command: vec![String::new()],
            ..Default::default()
        };
        let e = u.validate().unwrap_err().to_string();
        assert!(e.contains("unlock.command"), "{e}");
    }
}

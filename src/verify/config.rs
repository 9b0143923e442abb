//! `[verify]`, `[liveness]` and `[unlock]` config sections (documented in
//! config/vigil.toml, key by key).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, list_len, positive, seconds, ConfigError};

use super::embed::{EmbeddingModel, Metric};

/// Default gallery file name inside the state directory.
pub const GALLERY_FILE: &str = "gallery.json";
/// Per-device secret that keys the gallery's HMAC, inside the state directory.
pub const KEY_FILE: &str = "gallery.key";
/// Default audit log file name inside the state directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The embedding model a config starts from; the metric, threshold and
/// enrolment spacing defaults are its own.
pub const DEFAULT_MODEL: EmbeddingModel = EmbeddingModel::Sface;

/// `[verify]`: embedding, gallery, open-set decision, enrollment gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// Run owner verification at all (default true).
    pub enabled: bool,
    /// Directory of the gallery, its key and the audit log (created 0700);
    /// `None` lets the app pick one (`$VIGIL_STATE_DIR`, `/var/lib/vigil`,
    /// the XDG state directory).
    pub state_dir: Option<PathBuf>,
    /// Gallery file; `None` = `<state_dir>/gallery.json`, a relative path is
    /// inside the state directory.
    pub gallery_path: Option<PathBuf>,
    /// The embedding network (default SFace); a gallery made with another
    /// model is refused (re-enrol after changing it).
    pub model: EmbeddingModel,
    /// Add the mirrored chip's descriptor to each (default false): steadier
    /// under hard light, twice the embedding cost.
    pub embed_flip: bool,
    /// Distance between embeddings (default cosine, SFace's); must be one
    /// the model's descriptors suit ([`EmbeddingModel::metrics`]).
    pub metric: Metric,
    /// A face matches a person when its distance to their nearest template
    /// is below this (in the metric's units; default 0.5, SFace). Lower means
    /// fewer strangers accepted and more retries for the owner.
    pub threshold: f32,
    /// Matches of the same person needed among the last
    /// [`vote_window`](Self::vote_window) embeddings of a track to decide
    /// "owner" (1..=100, default 3).
    pub votes_needed: usize,
    /// Embeddings of a track that the vote looks back over
    /// (`votes_needed..=100`, default 5).
    pub vote_window: usize,
    /// A decided track whose last distance is within this of the threshold
    /// is "unsure" and embedded again every frame (0..=1, default 0.05).
    pub unsure_margin: f32,
    /// Seconds between re-embeddings of a decided, sure track (default 2).
    pub refresh_s: f64,
    /// Frames examined by `vigil enroll` (default 60; `--frames` overrides).
    pub enroll_frames: usize,
    /// Most templates kept per enrollment (1..=100, default 10).
    pub enroll_templates: usize,
    /// Enrollment gate: smallest face box side, in pixels (default 80).
    pub enroll_min_face_px: f32,
    /// Enrollment gate: least Laplacian variance of the grey face chip, a
    /// sharpness measure (0..=1e6, default 20).
    pub enroll_min_sharpness: f32,
    /// Enrollment gate: largest |yaw|, the horizontal nose offset over the
    /// inter-ocular distance (0..=1, default 0.25).
    pub enroll_max_yaw: f32,
    /// Enrollment gate: largest |roll| of the eye line, in degrees (0..=90,
    /// default 15).
    pub enroll_max_roll_deg: f32,
    /// Enrollment diversity: a template closer than this (same metric) to
    /// one already kept is a near-duplicate and skipped (0..=2, default 0.06).
    pub enroll_min_spacing: f32,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            state_dir: None,
            gallery_path: None,
            model: DEFAULT_MODEL,
            embed_flip: false,
            metric: DEFAULT_MODEL.default_metric(),
            threshold: DEFAULT_MODEL.default_threshold(),
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
            enroll_min_spacing: DEFAULT_MODEL.default_enroll_spacing(),
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
    /// Range checks; errors name the key (`verify.*`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.model.metrics().contains(&self.metric) {
            return Err(ConfigError::invalid(
                "verify.metric",
                format!(
                    "\"{}\" does not suit verify.model = \"{}\", whose descriptors are compared by angle: \
                     set metric = \"cosine\" (and a cosine threshold, see config/vigil.toml)",
                    self.metric, self.model
                ),
            ));
        }
        positive("verify.threshold", self.threshold as f64)?;
        in_range("verify.votes_needed", self.votes_needed as f64, 1.0, 100.0)?;
        in_range(
            "verify.vote_window",
            self.vote_window as f64,
            self.votes_needed as f64,
            100.0,
        )?;
        in_range("verify.unsure_margin", self.unsure_margin as f64, 0.0, 1.0)?;
        seconds("verify.refresh_s", self.refresh_s)?;
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
    /// Passive liveness only.
    None,
    /// A small head turn (left or right and back) within the window.
    Turn,
}

/// `[liveness]`: reject a still or replayed picture of the owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LivenessConfig {
    /// Check liveness before unlocking (default true); off, a photo of the
    /// owner unlocks.
    pub enabled: bool,
    /// Observations of a track over this many seconds of the frame clock
    /// are judged together (default 1).
    pub window_s: f64,
    /// Fewest observations in a window for a verdict (2..=1000, default 5).
    pub min_frames: usize,
    /// Length of one liveness attempt, in seconds: an owner whose sliding
    /// windows show no live one within it fails the attempt (counted by the
    /// rate limit, a `liveness_failed` event, a prompt) and the next attempt
    /// starts at once, while the owner stays in view (`window_s..=3600`,
    /// default 5).
    pub timeout_s: f64,
    /// Least out-of-plane motion: spread (std) of the smoothed nose position
    /// in the affine frame of the eyes and mouth corners, in units of that
    /// frame (0..=1, default 0.012). A flat picture stays near 0.
    pub min_parallax: f32,
    /// Least mean absolute change of the aligned grey face between frames,
    /// in grey levels (0..=255, default 0.5); a frozen frame has 0.
    pub min_face_change: f32,
    /// Largest share of the face's motion that the background shares
    /// (0..=1, default 0.3); a hand-held photo filling the view nears 1.
    pub max_rigid_ratio: f32,
    /// Least departure from one plane: the largest, over the window, of the
    /// residual of one homography fitted to block matches of the face
    /// between two frames 0.48 s apart, after warping by it (the 90th
    /// percentile of each fit's residuals), in eye distances (0..=1, default 0.025; 0 turns the cue
    /// off). A photo or a screen, however it is moved or tilted, stays
    /// below it.
    pub min_planar_residual: f32,
    /// Optional active challenge on top of the passive checks (default none).
    pub challenge: Challenge,
    /// For [`Challenge::Turn`]: swing of the smoothed horizontal nose
    /// position needed, in eye distances (0..=1, default 0.15).
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
            min_planar_residual: 0.025,
            challenge: Challenge::None,
            challenge_yaw: 0.15,
        }
    }
}

impl LivenessConfig {
    /// Range checks; errors name the key (`liveness.*`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        seconds("liveness.window_s", self.window_s)?;
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
            "liveness.min_planar_residual",
            self.min_planar_residual as f64,
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
    /// Unlock action: an argv list run without a shell, with `VIGIL_EVENT`,
    /// `VIGIL_NAME`, `VIGIL_DISTANCE` and `VIGIL_TRACK` set; only exit status
    /// 0 within [`timeout_s`](Self::timeout_s) unlocks. Empty = the JSON
    /// event only.
    pub command: Vec<String>,
    /// Argv run when relocking (`VIGIL_EVENT=lock`); empty = the event only.
    pub lock_command: Vec<String>,
    /// Seconds a command may run before its process group is killed, which
    /// counts as a failure (0.01..=600, default 5).
    pub timeout_s: f64,
    /// Seconds after an unlock before locking again (default 10).
    pub relock_s: f64,
    /// Failed attempts inside [`failure_window_s`](Self::failure_window_s)
    /// that start a lockout (default 5: with the defaults, Android's rule of
    /// 5 failures inside 30 s locking out for 30 s).
    pub max_failures: usize,
    /// Sliding window over which failures are counted, in seconds; a
    /// failure this old no longer counts (default 30).
    pub failure_window_s: f64,
    /// Seconds during which nobody is unlocked after too many failures; no
    /// failure is counted meanwhile (default 30).
    pub lockout_s: f64,
    /// Audit log file; `None` = `<state_dir>/audit.jsonl`, a relative path is
    /// inside the state directory.
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
            failure_window_s: 30.0,
            lockout_s: 30.0,
            audit_log: None,
        }
    }
}

impl UnlockConfig {
    /// Range checks and non-empty programs; errors name the key (`unlock.*`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, argv) in [
            ("unlock.command", &self.command),
            ("unlock.lock_command", &self.lock_command),
        ] {
            list_len(key, argv.len())?;
            if argv.first().is_some_and(|p| p.is_empty()) {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    message: "the program (first element) is empty".into(),
                });
            }
        }
        in_range("unlock.timeout_s", self.timeout_s, 0.01, 600.0)?;
        seconds("unlock.relock_s", self.relock_s)?;
        in_range("unlock.max_failures", self.max_failures as f64, 1.0, 1e6)?;
        seconds("unlock.failure_window_s", self.failure_window_s)?;
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
    fn a_metric_the_model_does_not_suit_names_the_key() {
        let c = VerifyConfig {
            model: EmbeddingModel::Sface,
            metric: Metric::Euclidean,
            ..Default::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("verify.metric") && e.contains("sface"), "{e}");
        for model in [EmbeddingModel::Dlib, EmbeddingModel::Sface] {
            VerifyConfig {
                model,
                metric: model.default_metric(),
                threshold: model.default_threshold(),
                enroll_min_spacing: model.default_enroll_spacing(),
                ..Default::default()
            }
            .validate()
            .unwrap();
        }
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

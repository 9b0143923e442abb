//! The `[attention]` config section (documented in config/vigil.toml).

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, positive, seconds, ConfigError};

/// `[attention]`: driver eye closure, yawning and head-pose distraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttentionConfig {
    /// Run the stage.
    pub enabled: bool,
    /// Analyse the driver's face on one frame in this many.
    pub every_n_frames: u64,
    /// Frames a track must have been seen in to be taken as the driver.
    pub min_track_age: u32,
    /// Smallest inter-ocular distance (pixels) the eyes and mouth are judged at.
    pub min_iod_px: f32,
    /// Smallest detection score (O-Net probability) whose landmarks are read.
    pub min_face_score: f32,
    /// Eye-closed probability (mean of both eyes) at or above which the eyes count as closed.
    pub eye_closed_threshold: f32,
    /// Yawn probability at or above which the mouth counts as yawning.
    pub yawn_threshold: f32,
    /// PERCLOS window: the share of this much recent time with eyes closed.
    pub perclos_window_s: f64,
    /// PERCLOS at or above which `drowsy` starts (once the window is full).
    pub perclos_alert: f64,
    /// PERCLOS below which `drowsy` ends.
    pub perclos_clear: f64,
    /// Eyes closed continuously this long raise `microsleep`.
    pub microsleep_s: f64,
    /// Mouth yawning continuously this long raises `yawn`.
    pub yawn_s: f64,
    /// |yaw| beyond this (degrees, after the offset) counts as looking away.
    pub yaw_limit_deg: f32,
    /// |pitch| beyond this (degrees, after the offset) counts as looking away.
    pub pitch_limit_deg: f32,
    /// Looking away continuously this long raises `distracted`.
    pub distracted_s: f64,
    /// Time constant (seconds) of the driver's learnt straight-ahead pose
    /// that yaw and pitch are measured from; 0 = measure from the camera's axis.
    pub pose_baseline_s: f64,
    /// Added to the measured yaw (camera mounted off-axis).
    pub yaw_offset_deg: f32,
    /// Added to the measured pitch (camera mounted above or below the eyes).
    pub pitch_offset_deg: f32,
    /// A gap longer than this between driver samples (no driver face, or
    /// frames not analysed) restarts the continuous-duration timers.
    pub max_gap_s: f64,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every_n_frames: 2,
            min_track_age: 2,
            min_iod_px: 12.0,
            min_face_score: 0.95,
            eye_closed_threshold: 0.5,
            yawn_threshold: 0.5,
            perclos_window_s: 60.0,
            perclos_alert: 0.15,
            perclos_clear: 0.10,
            microsleep_s: 1.2,
            yawn_s: 1.5,
            yaw_limit_deg: 30.0,
            pitch_limit_deg: 20.0,
            distracted_s: 2.0,
            pose_baseline_s: 20.0,
            yaw_offset_deg: 0.0,
            pitch_offset_deg: 0.0,
            max_gap_s: 0.5,
        }
    }
}

impl AttentionConfig {
    /// Checks every key's range; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("attention.every_n_frames", self.every_n_frames as f64)?;
        in_range(
            "attention.min_track_age",
            self.min_track_age as f64,
            0.0,
            1e6,
        )?;
        in_range("attention.min_iod_px", self.min_iod_px as f64, 4.0, 1e5)?;
        in_range(
            "attention.min_face_score",
            self.min_face_score as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "attention.eye_closed_threshold",
            self.eye_closed_threshold as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "attention.yawn_threshold",
            self.yawn_threshold as f64,
            0.0,
            1.0,
        )?;
        seconds("attention.perclos_window_s", self.perclos_window_s)?;
        in_range("attention.perclos_alert", self.perclos_alert, 0.0, 1.0)?;
        in_range(
            "attention.perclos_clear",
            self.perclos_clear,
            0.0,
            self.perclos_alert,
        )?;
        in_range("attention.microsleep_s", self.microsleep_s, 0.4, 60.0)?;
        in_range("attention.yawn_s", self.yawn_s, 0.0, 60.0)?;
        in_range(
            "attention.yaw_limit_deg",
            self.yaw_limit_deg as f64,
            0.0,
            90.0,
        )?;
        in_range(
            "attention.pitch_limit_deg",
            self.pitch_limit_deg as f64,
            0.0,
            90.0,
        )?;
        in_range("attention.distracted_s", self.distracted_s, 0.0, 600.0)?;
        in_range(
            "attention.pose_baseline_s",
            self.pose_baseline_s,
            0.0,
            3600.0,
        )?;
        in_range(
            "attention.yaw_offset_deg",
            self.yaw_offset_deg as f64,
            -90.0,
            90.0,
        )?;
        in_range(
            "attention.pitch_offset_deg",
            self.pitch_offset_deg as f64,
            -90.0,
            90.0,
        )?;
        seconds("attention.max_gap_s", self.max_gap_s)
    }
}

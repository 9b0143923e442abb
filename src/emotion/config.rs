//! `[emotion]` and `[monitor]` config sections (documented in config/vigil.toml).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::classifier::ClassifierOptions;
use super::label::Emotion;
use super::smoothing::{SmoothingMethod, SmoothingParams};
use super::views::TtaMode;
use crate::core::check::{in_range, positive, ConfigError};

/// `[emotion]`: the per-face classifier and its smoothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmotionConfig {
    pub enabled: bool,
    pub every_n_frames: u64,
    pub min_face_px: f32,
    pub min_visible_fraction: f32,
    pub tta: TtaMode,
    pub faceapi_weight: f32,
    pub smoothing: SmoothingMethod,
    pub half_life_s: f64,
    pub window_s: f64,
    pub forget_after_s: f64,
}

impl Default for EmotionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every_n_frames: 3,
            min_face_px: 24.0,
            min_visible_fraction: 0.6,
            tta: TtaMode::Flip,
            faceapi_weight: 0.4,
            smoothing: SmoothingMethod::Ema,
            half_life_s: 1.0,
            window_s: 2.0,
            forget_after_s: 3.0,
        }
    }
}

impl EmotionConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("emotion.every_n_frames", self.every_n_frames as f64)?;
        in_range("emotion.min_face_px", self.min_face_px as f64, 0.0, 1e6)?;
        in_range(
            "emotion.min_visible_fraction",
            self.min_visible_fraction as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "emotion.faceapi_weight",
            self.faceapi_weight as f64,
            0.0,
            1.0,
        )?;
        in_range("emotion.half_life_s", self.half_life_s, 0.0, 3600.0)?;
        positive("emotion.window_s", self.window_s)?;
        positive("emotion.forget_after_s", self.forget_after_s)
    }

    pub fn classifier_options(&self) -> ClassifierOptions {
        ClassifierOptions {
            tta: self.tta,
            faceapi_weight: self.faceapi_weight,
        }
    }

    pub fn smoothing_params(&self) -> SmoothingParams {
        SmoothingParams {
            method: self.smoothing,
            half_life: Duration::from_secs_f64(self.half_life_s),
            window: Duration::from_secs_f64(self.window_s),
            forget_after: Duration::from_secs_f64(self.forget_after_s),
        }
    }
}

/// `[monitor]`: the driver-mood monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonitorConfig {
    pub enabled: bool,
    pub window_s: f64,
    pub alert_emotions: Vec<Emotion>,
    pub alert_share: f64,
    pub clear_share: f64,
    pub alert_after_s: f64,
    pub no_face_after_s: f64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_s: 10.0,
            alert_emotions: vec![Emotion::Angry, Emotion::Fear, Emotion::Sad],
            alert_share: 0.5,
            clear_share: 0.3,
            alert_after_s: 5.0,
            no_face_after_s: 3.0,
        }
    }
}

impl MonitorConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("monitor.window_s", self.window_s)?;
        in_range("monitor.alert_share", self.alert_share, 0.0, 1.0)?;
        in_range(
            "monitor.clear_share",
            self.clear_share,
            0.0,
            self.alert_share,
        )?;
        in_range("monitor.alert_after_s", self.alert_after_s, 0.0, 86400.0)?;
        in_range(
            "monitor.no_face_after_s",
            self.no_face_after_s,
            0.0,
            86400.0,
        )?;
        Ok(())
    }
}

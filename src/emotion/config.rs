//! `[emotion]` and `[monitor]` config sections (documented in config/vigil.toml).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::classifier::{ClassifierOptions, EnsembleWeights};
use super::label::Emotion;
use super::smoothing::{SmoothingMethod, SmoothingParams};
use super::views::TtaMode;
use crate::core::check::{in_range, list_len, positive, seconds, ConfigError};

/// `[emotion]`: the per-face classifier and its smoothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmotionConfig {
    /// Run the emotion stage (the mood monitor runs inside it).
    pub enabled: bool,
    /// Classify a track again once this many source frames have passed since its last classification; the smoothed result is reported on every frame.
    pub every_n_frames: u64,
    /// Faces whose box side is below this, in pixels, are not classified (their smoothed emotion holds).
    pub min_face_px: f32,
    /// Least fraction (0–1) of the face box inside the frame for the face to be classified.
    pub min_visible_fraction: f32,
    /// Test-time views per model: the crop, plus its mirror, plus shifts.
    pub tta: TtaMode,
    /// Weight (0–1) of the net trained here on FER2013 in the average of the nets; 0 = not loaded.
    pub fer_weight: f32,
    /// Weight (0–1) of mini-Xception in the average of the nets; 0 = not loaded.
    pub mini_xception_weight: f32,
    /// Weight (0–1) of face-api's expression net in the average of the nets; 0 = not loaded.
    pub faceapi_weight: f32,
    /// Per-track smoothing over media time: EMA, sliding window or none.
    pub smoothing: SmoothingMethod,
    /// EMA half-life, in seconds of media time: a result this old weighs half as much as a new one.
    pub half_life_s: f64,
    /// Length of the `window` smoothing, in seconds of media time.
    pub window_s: f64,
    /// Seconds a track may go unseen before it loses its smoothing history.
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
            fer_weight: EnsembleWeights::FER_ONLY.fer,
            mini_xception_weight: EnsembleWeights::FER_ONLY.mini_xception,
            faceapi_weight: EnsembleWeights::FER_ONLY.faceapi,
            smoothing: SmoothingMethod::Ema,
            half_life_s: 1.0,
            window_s: 2.0,
            forget_after_s: 3.0,
        }
    }
}

impl EmotionConfig {
    /// Checks every field's range; the error names the first key out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("emotion.every_n_frames", self.every_n_frames as f64)?;
        in_range("emotion.min_face_px", self.min_face_px as f64, 0.0, 1e6)?;
        in_range(
            "emotion.min_visible_fraction",
            self.min_visible_fraction as f64,
            0.0,
            1.0,
        )?;
        in_range("emotion.fer_weight", self.fer_weight as f64, 0.0, 1.0)?;
        in_range(
            "emotion.mini_xception_weight",
            self.mini_xception_weight as f64,
            0.0,
            1.0,
        )?;
        in_range(
            "emotion.faceapi_weight",
            self.faceapi_weight as f64,
            0.0,
            1.0,
        )?;
        if self.enabled && self.fer_weight + self.mini_xception_weight + self.faceapi_weight <= 0.0
        {
            return Err(ConfigError::invalid(
                "emotion.fer_weight",
                "every emotion.*_weight is 0: give one net a weight above 0",
            ));
        }
        in_range("emotion.half_life_s", self.half_life_s, 0.0, 3600.0)?;
        seconds("emotion.window_s", self.window_s)?;
        seconds("emotion.forget_after_s", self.forget_after_s)
    }

    /// The classifier's part of the section (`tta`, the `*_weight` keys).
    pub fn classifier_options(&self) -> ClassifierOptions {
        ClassifierOptions {
            tta: self.tta,
            weights: EnsembleWeights {
                fer: self.fer_weight,
                mini_xception: self.mini_xception_weight,
                faceapi: self.faceapi_weight,
            },
        }
    }

    /// The smoothing part of the section, seconds turned into [`Duration`]s.
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
    /// Run the driver-mood monitor over the largest face of each frame (part of the emotion stage).
    pub enabled: bool,
    /// Sliding window, in seconds of media time, over which time shares are measured.
    pub window_s: f64,
    /// Emotions that raise an alert when sustained.
    pub alert_emotions: Vec<Emotion>,
    /// Share of the window (0–1) at or above which an emotion starts an alert, once held for `alert_after_s`.
    pub alert_share: f64,
    /// Share below which an active alert ends (0 to `alert_share`: hysteresis).
    pub clear_share: f64,
    /// Seconds an emotion's share must stay at or above `alert_share` before its alert starts.
    pub alert_after_s: f64,
    /// Seconds with no visible face before the no-face alert starts.
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
    /// Checks every field's range (`clear_share` at most `alert_share`); the error names the first key out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        seconds("monitor.window_s", self.window_s)?;
        list_len("monitor.alert_emotions", self.alert_emotions.len())?;
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

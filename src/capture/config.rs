//! `[capture]`: where frames come from (owned by the capture layer).

use serde::{Deserialize, Serialize};

use crate::core::check::{positive, ConfigError};

/// `[capture]`: where frames come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    pub source: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub realtime: bool,
    pub replay_fps: f64,
    /// Longest wait between two attempts to reopen a lost live source.
    pub retry_max_s: f64,
    /// Replays start again at their end (`--loop`).
    #[serde(rename = "loop")]
    pub loop_replay: bool,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            source: "auto".into(),
            width: 640,
            height: 480,
            fps: 30,
            realtime: false,
            replay_fps: 30.0,
            retry_max_s: 1.0,
            loop_replay: false,
        }
    }
}

impl CaptureConfig {
    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("capture.width", self.width as f64)?;
        positive("capture.height", self.height as f64)?;
        positive("capture.fps", self.fps as f64)?;
        positive("capture.replay_fps", self.replay_fps)?;
        positive("capture.retry_max_s", self.retry_max_s)?;
        Ok(())
    }
}

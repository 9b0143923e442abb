//! `[present]`: overlay window or event stream (owned by the presenters).

use serde::{Deserialize, Serialize};

use crate::core::check::{positive, ConfigError};

/// `[present]`: overlay window or event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PresentConfig {
    /// No window: JSON-lines events (`--headless`).
    pub headless: bool,
    /// Where events go: "-" = stdout, else a file (`--events`).
    pub events: String,
    /// Also write one event per processed frame.
    pub frame_events: bool,
    /// Integer zoom of the overlay window (at least 1).
    pub window_scale: u32,
}

impl Default for PresentConfig {
    fn default() -> Self {
        Self {
            headless: false,
            events: "-".into(),
            frame_events: true,
            window_scale: 1,
        }
    }
}

impl PresentConfig {
    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        positive("present.window_scale", self.window_scale as f64)
    }
}

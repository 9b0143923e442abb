//! `[pipeline]`: threads, channels and statistics (owned by the pipeline).

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, seconds, ConfigError};

/// How a stage's input behaves when the stage is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayPolicy {
    /// The source waits for the pipeline: every frame of a replay is processed.
    Block,
    /// The source runs ahead and stale frames are dropped, as with a camera.
    Drop,
}

/// `[pipeline]`: threads, channels and statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Frames queued between two stages (`pipeline.channel_capacity`).
    pub channel_capacity: usize,
    /// Whether a fast replay waits for the slowest stage or drops frames.
    pub replay_policy: ReplayPolicy,
    /// Seconds between progress lines in the log.
    pub stats_interval_s: f64,
    /// Stop after this many captured frames; 0 = until the source ends.
    pub max_frames: u64,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            channel_capacity: 1,
            replay_policy: ReplayPolicy::Block,
            stats_interval_s: 5.0,
            max_frames: 0,
        }
    }
}

/// Largest `pipeline.channel_capacity` (a bounded channel allocates its
/// slots up front).
pub const MAX_CHANNEL_CAPACITY: usize = 64;

impl PipelineConfig {
    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range(
            "pipeline.channel_capacity",
            self.channel_capacity as f64,
            1.0,
            MAX_CHANNEL_CAPACITY as f64,
        )?;
        seconds("pipeline.stats_interval_s", self.stats_interval_s)?;
        Ok(())
    }
}

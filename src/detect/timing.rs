//! Where the detector's time goes on one frame.

use std::time::Duration;

use serde::Serialize;

/// One pyramid level's share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelTiming {
    pub width: u32,
    pub height: u32,
    /// Tensor writing, P-Net run, candidate extraction and per-level NMS.
    pub pnet: Duration,
    /// Windows kept at this level after its NMS.
    pub windows: usize,
}

/// Per-stage times and window counts of one `detect` call.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DetectTimings {
    /// Resampling the frame to every pyramid level.
    pub pyramid: Duration,
    pub levels: Vec<LevelTiming>,
    /// Cross-level NMS, calibration and squaring after P-Net.
    pub pnet_merge: Duration,
    /// Cropping and resampling the R-Net batch.
    pub rnet_crop: Duration,
    pub rnet: Duration,
    /// Thresholding, NMS and calibration after R-Net.
    pub rnet_post: Duration,
    pub onet_crop: Duration,
    pub onet: Duration,
    pub onet_post: Duration,
    pub total: Duration,
    /// Windows entering R-Net, entering O-Net, and faces out.
    pub rnet_windows: usize,
    pub onet_windows: usize,
    pub faces: usize,
}

impl DetectTimings {
    pub fn pnet(&self) -> Duration {
        self.levels.iter().map(|l| l.pnet).sum()
    }

    /// The named stages, in order, for tables.
    pub fn stages(&self) -> [(&'static str, Duration); 8] {
        [
            ("pyramid resize", self.pyramid),
            ("P-Net (all levels)", self.pnet()),
            ("P-Net merge", self.pnet_merge),
            ("R-Net crops", self.rnet_crop),
            ("R-Net", self.rnet),
            ("R-Net post", self.rnet_post),
            ("O-Net crops", self.onet_crop),
            ("O-Net + post", self.onet + self.onet_post),
        ]
    }
}

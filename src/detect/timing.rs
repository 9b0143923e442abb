//! Where the detector's time goes on one frame.

use std::time::Duration;

use serde::Serialize;

/// One pyramid level's share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LevelTiming {
    /// Level width, in pixels.
    pub width: u32,
    /// Level height, in pixels.
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
    /// Each pyramid level's P-Net time and windows, largest level first.
    pub levels: Vec<LevelTiming>,
    /// Cross-level NMS, calibration and squaring after P-Net.
    pub pnet_merge: Duration,
    /// Cropping and resampling the R-Net batch.
    pub rnet_crop: Duration,
    /// Running R-Net on its batch.
    pub rnet: Duration,
    /// Thresholding, NMS and calibration after R-Net.
    pub rnet_post: Duration,
    /// Cropping and resampling the O-Net batch.
    pub onet_crop: Duration,
    /// Running O-Net on its batch.
    pub onet: Duration,
    /// Thresholding, landmarks, calibration and final NMS after O-Net.
    pub onet_post: Duration,
    /// The whole `detect` call, wall-clock.
    pub total: Duration,
    /// Windows entering R-Net, entering O-Net, and faces out.
    pub rnet_windows: usize,
    /// Windows entering O-Net.
    pub onet_windows: usize,
    /// Faces returned.
    pub faces: usize,
}

impl DetectTimings {
    /// P-Net time summed over all levels.
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

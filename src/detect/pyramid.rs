//! The image pyramid P-Net scans.
//!
//! Level `k` has scale `m * factor^k` with `m = 12 / min_face`, so a face of
//! `min_face` pixels fills one 12-pixel P-Net cell on the first level; levels
//! continue while the shorter side is at least one cell (the reference's rule).
//! Sizes are `ceil(side * scale)`, as in the reference.

use super::config::{DetectConfig, PNET_CELL};

/// One pyramid level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Level pixels per frame pixel.
    pub scale: f64,
    /// Level width, in pixels (`ceil(frame width * scale)`).
    pub width: u32,
    /// Level height, in pixels (`ceil(frame height * scale)`).
    pub height: u32,
}

/// The levels for a `width` x `height` frame (none when the frame is smaller
/// than one P-Net cell at the first scale).
pub fn levels(width: u32, height: u32, config: &DetectConfig) -> Vec<Level> {
    let (w, h) = (f64::from(width), f64::from(height));
    let longest = w.max(h);
    if longest <= 0.0 {
        return Vec::new();
    }
    let mut m = PNET_CELL / config.min_face_px;
    // Bound the first level (very large frames): the minimum face grows instead.
    let cap = f64::from(config.max_level_side) / longest;
    if m > cap {
        m = cap;
    }
    let mut min_layer = w.min(h) * m;
    let mut out = Vec::new();
    let mut scale = m;
    while min_layer >= PNET_CELL {
        out.push(Level {
            scale,
            width: (w * scale).ceil() as u32,
            height: (h * scale).ceil() as u32,
        });
        min_layer *= config.scale_factor;
        scale *= config.scale_factor;
    }
    out
}

/// Smallest face (frame pixels) the first level can find: `min_face_px`, or
/// more when `max_level_side` bounds the first level.
pub fn effective_min_face(width: u32, height: u32, config: &DetectConfig) -> Option<f64> {
    levels(width, height, config)
        .first()
        .map(|l| PNET_CELL / l.scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vga_at_40_px_has_the_reference_levels() {
        let l = levels(640, 480, &DetectConfig::default());
        let sizes: Vec<(u32, u32)> = l.iter().map(|l| (l.width, l.height)).collect();
        // numpy: ceil(640 * 0.3 * 0.709^k), ceil(480 * ...)
        assert_eq!(
            sizes,
            vec![
                (192, 144),
                (137, 103),
                (97, 73),
                (69, 52),
                (49, 37),
                (35, 26),
                (25, 19),
                (18, 13)
            ]
        );
        assert!((l[0].scale - 0.3).abs() < 1e-12);
    }

    #[test]
    fn tiny_and_empty_frames_have_no_levels() {
        let c = DetectConfig::default();
        assert!(levels(0, 0, &c).is_empty());
        assert!(levels(1, 1, &c).is_empty());
        assert!(levels(11, 11, &c).is_empty());
        assert!(levels(640, 0, &c).is_empty());
        // 40 px is exactly one cell at scale 0.3.
        assert_eq!(levels(40, 40, &c).len(), 1);
    }

    #[test]
    fn huge_frames_are_capped() {
        let c = DetectConfig::default();
        let l = levels(7680, 4320, &c);
        assert!(l[0].width <= c.max_level_side + 1);
        let min_face = effective_min_face(7680, 4320, &c).unwrap();
        assert!((min_face - 7680.0 * 12.0 / 1024.0).abs() < 1e-9);
        assert_eq!(effective_min_face(640, 480, &c), Some(40.0));
    }
}

//! Candidate windows between the cascade's stages, in the reference's
//! arithmetic.
//!
//! The reference (MTCNN's original MATLAB code, ported to numpy) keeps corners
//! `(x1, y1, x2, y2)` and is not consistent about widths: the P-Net
//! calibration uses `x2 - x1`, the R-/O-Net calibrations, the crops and NMS
//! areas use `x2 - x1 + 1`. Matching the reference to the pixel means keeping
//! that arithmetic, so it lives here, in `f64` like numpy's, and nowhere else;
//! the detector converts to [`BoundingBox`] only at its output.

use crate::core::geometry::BoundingBox;

/// A window with its current face score and the regression the last net
/// proposed for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Left edge, in frame pixels.
    pub x1: f64,
    /// Top edge, in frame pixels.
    pub y1: f64,
    /// Right edge, in frame pixels (the reference counts widths as `x2 - x1 + 1`).
    pub x2: f64,
    /// Bottom edge, in frame pixels (heights count `y2 - y1 + 1`).
    pub y2: f64,
    /// Face probability from the last net that scored the window.
    pub score: f32,
    /// Offsets of (x1, y1, x2, y2) as fractions of the width / height.
    pub reg: [f32; 4],
}

/// How NMS measures overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// Intersection over union.
    Union,
    /// Intersection over the smaller area.
    Min,
}

impl Window {
    /// Width as the crops and R-/O-Net calibrations count it.
    pub fn width_inclusive(&self) -> f64 {
        self.x2 - self.x1 + 1.0
    }

    /// Height as the crops and R-/O-Net calibrations count it (`y2 - y1 + 1`).
    pub fn height_inclusive(&self) -> f64 {
        self.y2 - self.y1 + 1.0
    }

    /// Area as NMS counts it.
    pub fn area_inclusive(&self) -> f64 {
        self.width_inclusive() * self.height_inclusive()
    }

    /// The reference's overlap measure between two windows.
    pub fn overlap(&self, other: &Window, method: Overlap) -> f64 {
        let w = (self.x2.min(other.x2) - self.x1.max(other.x1) + 1.0).max(0.0);
        let h = (self.y2.min(other.y2) - self.y1.max(other.y1) + 1.0).max(0.0);
        let inter = w * h;
        let (a, b) = (self.area_inclusive(), other.area_inclusive());
        let denominator = match method {
            Overlap::Union => a + b - inter,
            Overlap::Min => a.min(b),
        };
        if denominator <= 0.0 {
            0.0
        } else {
            inter / denominator
        }
    }

    /// P-Net calibration: offsets scaled by `x2 - x1`.
    pub fn calibrated_exclusive(&self) -> Window {
        self.calibrated(self.x2 - self.x1, self.y2 - self.y1)
    }

    /// R-/O-Net calibration: offsets scaled by `x2 - x1 + 1`.
    pub fn calibrated_inclusive(&self) -> Window {
        self.calibrated(self.width_inclusive(), self.height_inclusive())
    }

    fn calibrated(&self, w: f64, h: f64) -> Window {
        let r = self.reg.map(f64::from);
        Window {
            x1: self.x1 + r[0] * w,
            y1: self.y1 + r[1] * h,
            x2: self.x2 + r[2] * w,
            y2: self.y2 + r[3] * h,
            ..*self
        }
    }

    /// The square with the same centre and side `max(x2 - x1, y2 - y1)`.
    pub fn squared(&self) -> Window {
        let w = self.x2 - self.x1;
        let h = self.y2 - self.y1;
        let side = w.max(h);
        let x1 = self.x1 + w * 0.5 - side * 0.5;
        let y1 = self.y1 + h * 0.5 - side * 0.5;
        Window {
            x1,
            y1,
            x2: x1 + side,
            y2: y1 + side,
            ..*self
        }
    }

    /// Corners truncated toward zero (numpy's `fix`).
    pub fn truncated(&self) -> Window {
        Window {
            x1: self.x1.trunc(),
            y1: self.y1.trunc(),
            x2: self.x2.trunc(),
            y2: self.y2.trunc(),
            ..*self
        }
    }

    /// True when the window has a positive inclusive size and finite corners.
    pub fn is_usable(&self) -> bool {
        [self.x1, self.y1, self.x2, self.y2]
            .iter()
            .all(|v| v.is_finite())
            && self.width_inclusive() >= 1.0
            && self.height_inclusive() >= 1.0
    }

    /// The window as the detector reports it: the corners the reference reports.
    pub fn to_bbox(self) -> BoundingBox {
        BoundingBox::from_corners(
            self.x1 as f32,
            self.y1 as f32,
            self.x2 as f32,
            self.y2 as f32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn win(x1: f64, y1: f64, x2: f64, y2: f64) -> Window {
        Window {
            x1,
            y1,
            x2,
            y2,
            score: 1.0,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn overlap_counts_pixels_inclusively() {
        let a = win(0.0, 0.0, 9.0, 9.0);
        assert_eq!(a.area_inclusive(), 100.0);
        let b = win(5.0, 0.0, 14.0, 9.0);
        assert!((a.overlap(&b, Overlap::Union) - 50.0 / 150.0).abs() < 1e-12);
        let inner = win(2.0, 2.0, 3.0, 3.0);
        assert_eq!(a.overlap(&inner, Overlap::Min), 1.0);
        assert_eq!(a.overlap(&win(20.0, 20.0, 30.0, 30.0), Overlap::Union), 0.0);
    }

    #[test]
    fn calibrations_use_their_own_widths() {
        let w = Window {
            reg: [0.1, 0.0, -0.1, 0.5],
            ..win(10.0, 10.0, 20.0, 30.0)
        };
        let e = w.calibrated_exclusive();
        // The offsets are f32 (as the nets give them): compare within f32 precision.
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(near(e.x1, 11.0) && near(e.x2, 19.0) && near(e.y2, 40.0));
        let i = w.calibrated_inclusive();
        assert!(near(i.x1, 11.1) && near(i.y2, 40.5));
    }

    #[test]
    fn squaring_keeps_the_centre() {
        let s = win(0.0, 0.0, 10.0, 20.0).squared();
        assert_eq!((s.x1, s.y1, s.x2, s.y2), (-5.0, 0.0, 15.0, 20.0));
    }

    #[test]
    fn truncation_is_toward_zero() {
        let t = win(-1.5, 2.7, 3.2, -0.5).truncated();
        assert_eq!((t.x1, t.y1, t.x2, t.y2), (-1.0, 2.0, 3.0, -0.0));
    }

    #[test]
    fn degenerate_windows_are_not_usable() {
        assert!(win(0.0, 0.0, 0.0, 0.0).is_usable());
        assert!(!win(5.0, 0.0, 3.0, 4.0).is_usable());
        assert!(!win(f64::NAN, 0.0, 3.0, 4.0).is_usable());
    }
}

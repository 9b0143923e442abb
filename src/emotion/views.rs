//! Test-time views of a grey face crop: the crop itself, its mirror image and
//! small shifts, resampled to a model's input side.
//!
//! Resampling follows OpenCV's conventions (pixel centres at +0.5, bilinear,
//! replicated border), the ones the research in `dev/emotion/` used, so the
//! figures measured there carry over. A crop larger than the output is first
//! reduced with an antialiasing filter so that no view aliases.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::GrayImage;
use serde::{Deserialize, Serialize};

use super::EmotionError;

/// Shift of the "shifts" views, as a fraction of the crop side (2 px of a
/// 48 px FER2013 crop).
pub const SHIFT_FRACTION: f32 = 2.0 / 48.0;

/// One view of a crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Mirror left-right.
    pub flip: bool,
    /// Shift of the sampling window, as a fraction of the crop side (positive:
    /// the window moves right / down, so the face moves left / up).
    pub dx: f32,
    /// Vertical shift of the sampling window, as a fraction of the crop side (positive: down).
    pub dy: f32,
}

impl View {
    /// The crop itself: no mirror, no shift.
    pub const CENTRE: View = View {
        flip: false,
        dx: 0.0,
        dy: 0.0,
    };
}

/// Which views each model sees (config `emotion.tta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TtaMode {
    /// The crop only.
    None,
    /// The crop and its mirror image (probabilities averaged).
    Flip,
    /// The crop, four shifts by [`SHIFT_FRACTION`], and the mirror of each (10 views).
    Shifts,
}

impl TtaMode {
    /// The views of this mode: the crop first, each shift followed by its mirror when mirrors are on.
    pub fn views(self) -> Vec<View> {
        let base: Vec<(f32, f32)> = match self {
            TtaMode::None | TtaMode::Flip => vec![(0.0, 0.0)],
            TtaMode::Shifts => {
                let s = SHIFT_FRACTION;
                vec![(0.0, 0.0), (-s, 0.0), (s, 0.0), (0.0, -s), (0.0, s)]
            }
        };
        let mut views = Vec::new();
        for (dx, dy) in base {
            views.push(View {
                flip: false,
                dx,
                dy,
            });
            if self != TtaMode::None {
                views.push(View { flip: true, dx, dy });
            }
        }
        views
    }
}

/// Renders views of grey crops at a model's input side. Keeps scratch buffers.
#[derive(Default)]
pub struct ViewRenderer {
    resizer: Resizer,
}

impl std::fmt::Debug for ViewRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewRenderer")
    }
}

impl ViewRenderer {
    /// A renderer with empty scratch buffers (same as `default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The crop reduced to at most `side` x `side` with an antialiasing filter
    /// (unchanged when it is already that small).
    pub fn reduce(&mut self, crop: &GrayImage, side: u32) -> Result<GrayImage, EmotionError> {
        let (w, h) = crop.dimensions();
        if w == 0 || h == 0 {
            return Err(EmotionError::EmptyCrop);
        }
        if w <= side && h <= side {
            return Ok(crop.clone());
        }
        let (dw, dh) = (w.min(side), h.min(side));
        let err = |e: String| EmotionError::Resize(format!("{w}x{h} to {dw}x{dh}: {e}"));
        let src =
            ImageRef::new(w, h, crop.as_raw(), PixelType::U8).map_err(|e| err(e.to_string()))?;
        let mut dst = Image::new(dw, dh, PixelType::U8);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        self.resizer
            .resize(&src, &mut dst, &options)
            .map_err(|e| err(e.to_string()))?;
        GrayImage::from_raw(dw, dh, dst.into_vec()).ok_or_else(|| err("buffer size".into()))
    }

    /// Appends `side * side` grey values (0..255) of `view` of `crop` to `out`,
    /// row-major. `crop` should already be at most `side` large (see [`Self::reduce`]).
    pub fn render(crop: &GrayImage, side: u32, view: View, out: &mut Vec<f32>) {
        let (w, h) = crop.dimensions();
        let n = side as usize;
        if w == 0 || h == 0 || n == 0 {
            out.extend(std::iter::repeat_n(0.0, n * n));
            return;
        }
        let raw = crop.as_raw();
        let (wf, hf) = (w as f32, h as f32);
        let (sx, sy) = (wf / side as f32, hf / side as f32);
        let (ox, oy) = (view.dx * wf, view.dy * hf);
        let max_x = (w - 1) as f32;
        let max_y = (h - 1) as f32;
        let start = out.len();
        out.resize(start + n * n, 0.0);
        let dst = &mut out[start..];
        // Column sample positions and weights, shared by every row.
        let cols: Vec<(usize, usize, f32)> = (0..n)
            .map(|u| {
                let x = ((u as f32 + 0.5) * sx - 0.5 + ox).clamp(0.0, max_x);
                let x0 = x.floor();
                let x1 = (x0 + 1.0).min(max_x);
                (x0 as usize, x1 as usize, x - x0)
            })
            .collect();
        for v in 0..n {
            let y = ((v as f32 + 0.5) * sy - 0.5 + oy).clamp(0.0, max_y);
            let y0 = y.floor();
            let fy = y - y0;
            let r0 = y0 as usize * w as usize;
            let r1 = (y0 + 1.0).min(max_y) as usize * w as usize;
            for (u, &(x0, x1, fx)) in cols.iter().enumerate() {
                let top = raw[r0 + x0] as f32 * (1.0 - fx) + raw[r0 + x1] as f32 * fx;
                let bot = raw[r1 + x0] as f32 * (1.0 - fx) + raw[r1 + x1] as f32 * fx;
                let col = if view.flip { n - 1 - u } else { u };
                dst[v * n + col] = top * (1.0 - fy) + bot * fy;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_sets_have_the_documented_sizes() {
        assert_eq!(TtaMode::None.views(), vec![View::CENTRE]);
        assert_eq!(TtaMode::Flip.views().len(), 2);
        assert_eq!(TtaMode::Shifts.views().len(), 10);
    }

    #[test]
    fn identity_view_copies_pixels() {
        let img = GrayImage::from_fn(4, 4, |x, y| image::Luma([(x * 10 + y) as u8]));
        let mut out = Vec::new();
        ViewRenderer::render(&img, 4, View::CENTRE, &mut out);
        assert_eq!(out[1], 10.0);
        assert_eq!(out[4], 1.0);
    }

    #[test]
    fn flip_mirrors_columns() {
        let img = GrayImage::from_fn(4, 4, |x, _| image::Luma([x as u8 * 50]));
        let mut out = Vec::new();
        let flip = View {
            flip: true,
            ..View::CENTRE
        };
        ViewRenderer::render(&img, 4, flip, &mut out);
        assert_eq!(&out[..4], &[150.0, 100.0, 50.0, 0.0]);
    }

    #[test]
    fn upscale_matches_opencv_linear() {
        // cv2.resize([[0, 100], [100, 200]] as uint8, (4, 4), INTER_LINEAR) first row: 0 25 75 100.
        let img = GrayImage::from_raw(2, 2, vec![0, 100, 100, 200]).unwrap();
        let mut out = Vec::new();
        ViewRenderer::render(&img, 4, View::CENTRE, &mut out);
        assert_eq!(&out[..4], &[0.0, 25.0, 75.0, 100.0]);
    }

    #[test]
    fn shifted_views_stay_inside_the_image() {
        let img = GrayImage::from_pixel(3, 3, image::Luma([9]));
        let mut out = Vec::new();
        let v = View {
            flip: false,
            dx: 0.9,
            dy: -0.9,
        };
        ViewRenderer::render(&img, 8, v, &mut out);
        assert!(out.iter().all(|p| *p == 9.0));
    }

    #[test]
    fn reduce_shrinks_large_crops_only() {
        let mut r = ViewRenderer::new();
        let big = GrayImage::from_pixel(200, 150, image::Luma([7]));
        let small = r.reduce(&big, 64).unwrap();
        assert_eq!(small.dimensions(), (64, 64));
        assert!(small.pixels().all(|p| p.0[0] == 7));
        let tiny = GrayImage::new(10, 10);
        assert_eq!(r.reduce(&tiny, 64).unwrap().dimensions(), (10, 10));
        assert!(r.reduce(&GrayImage::new(0, 5), 64).is_err());
    }
}

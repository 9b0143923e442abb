//! Window crops for R-Net and O-Net, written straight into the batch tensor.
//!
//! As in the reference, a window with integer corners `(x1, y1, x2, y2)` takes
//! the pixels `x1 - 1 ..= x2 - 1`, `y1 - 1 ..= y2 - 1` (its MATLAB origin shows
//! through); pixels outside the frame are zero (black). The crop is resampled
//! to the net's side with OpenCV's `INTER_AREA` arithmetic in floating point
//! (the reference resizes a float64 copy), then normalised and transposed
//! into the batch slot.

use image::RgbImage;

use super::area::{AreaResampler, PixelRect};
use super::tensor::write_transposed_f32;
use super::window::Window;

/// Windows larger than this many times the frame's longest side are dropped
/// (a runaway regression; cropping them would only allocate zeros).
pub const MAX_WINDOW_TO_FRAME: f64 = 4.0;

/// Reusable buffers for cropping.
#[derive(Debug, Default)]
pub struct Cropper {
    resampler: AreaResampler,
    padded: Vec<u8>,
    patch: Vec<f32>,
}

impl Cropper {
    /// Crops `window` from `image` into `out` (`side * side * 3` values).
    /// Returns `false` (and leaves `out` alone) when the window cannot be
    /// cropped: empty, not finite, or absurdly large.
    pub fn crop_into(
        &mut self,
        image: &RgbImage,
        window: &Window,
        side: u32,
        out: &mut [f32],
    ) -> bool {
        let (fw, fh) = image.dimensions();
        let limit = MAX_WINDOW_TO_FRAME * f64::from(fw.max(fh));
        if !window.is_usable()
            || window.width_inclusive() > limit
            || window.height_inclusive() > limit
        {
            return false;
        }
        let left = window.x1 as i64 - 1;
        let top = window.y1 as i64 - 1;
        let w = window.width_inclusive() as i64;
        let h = window.height_inclusive() as i64;
        let (fw_i, fh_i) = (i64::from(fw), i64::from(fh));
        let n = (side * side * 3) as usize;
        self.patch.resize(n, 0.0);
        if left >= 0 && top >= 0 && left + w <= fw_i && top + h <= fh_i {
            let rect = PixelRect {
                x: left as u32,
                y: top as u32,
                w: w as u32,
                h: h as u32,
            };
            self.resampler.resize(
                image.as_raw(),
                fw as usize,
                rect,
                side as usize,
                side as usize,
                &mut self.patch,
            );
        } else {
            self.pad(image, left, top, w, h);
            let rect = PixelRect {
                x: 0,
                y: 0,
                w: w as u32,
                h: h as u32,
            };
            self.resampler.resize(
                &self.padded,
                w as usize,
                rect,
                side as usize,
                side as usize,
                &mut self.patch,
            );
        }
        write_transposed_f32(&self.patch, side as usize, side as usize, false, out);
        true
    }

    /// Copies the in-frame part of the `w` x `h` window at (`left`, `top`) into
    /// a zeroed buffer of the window's size.
    fn pad(&mut self, image: &RgbImage, left: i64, top: i64, w: i64, h: i64) {
        let (fw, fh) = (i64::from(image.width()), i64::from(image.height()));
        self.padded.clear();
        self.padded.resize((w * h * 3) as usize, 0);
        let x0 = left.max(0);
        let x1 = (left + w).min(fw);
        let y0 = top.max(0);
        let y1 = (top + h).min(fh);
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let raw = image.as_raw();
        let span = ((x1 - x0) * 3) as usize;
        for y in y0..y1 {
            let src = ((y * fw + x0) * 3) as usize;
            let dst = (((y - top) * w + (x0 - left)) * 3) as usize;
            self.padded[dst..dst + span].copy_from_slice(&raw[src..src + span]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::tensor::{PIXEL_MEAN, PIXEL_SCALE};

    fn window(x1: f64, y1: f64, x2: f64, y2: f64) -> Window {
        Window {
            x1,
            y1,
            x2,
            y2,
            score: 1.0,
            reg: [0.0; 4],
        }
    }

    fn norm(v: u8) -> f32 {
        (f32::from(v) - PIXEL_MEAN) * PIXEL_SCALE
    }

    /// Frame whose pixel (x, y) is (x, y, 7).
    fn ramp(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 7]))
    }

    #[test]
    fn same_size_crop_copies_the_reference_pixels() {
        let img = ramp(40, 30);
        let mut out = vec![0.0; 4 * 4 * 3];
        // Corners (11, 6)-(14, 9) take pixels x 10..=13, y 5..=8.
        let ok = Cropper::default().crop_into(&img, &window(11.0, 6.0, 14.0, 9.0), 4, &mut out);
        assert!(ok);
        for x in 0..4 {
            for y in 0..4 {
                let o = (x * 4 + y) * 3;
                assert_eq!(out[o], norm(10 + x as u8), "x at ({x},{y})");
                assert_eq!(out[o + 1], norm(5 + y as u8), "y at ({x},{y})");
            }
        }
    }

    #[test]
    fn border_crossing_crop_is_zero_padded() {
        let img = RgbImage::from_pixel(10, 10, image::Rgb([200, 200, 200]));
        let mut out = vec![0.0; 4 * 4 * 3];
        // Pixels x -2..=1: the two left columns are outside.
        Cropper::default().crop_into(&img, &window(-1.0, 1.0, 2.0, 4.0), 4, &mut out);
        for x in 0..4 {
            let expected = if x < 2 { norm(0) } else { norm(200) };
            assert_eq!(out[(x * 4) * 3], expected, "column {x}");
        }
    }

    #[test]
    fn window_outside_the_frame_crops_black() {
        let img = RgbImage::from_pixel(10, 10, image::Rgb([200, 0, 0]));
        let mut out = vec![1.0; 2 * 2 * 3];
        Cropper::default().crop_into(&img, &window(50.0, 50.0, 60.0, 60.0), 2, &mut out);
        assert!(out.iter().all(|v| *v == norm(0)));
    }

    #[test]
    fn unusable_windows_are_skipped() {
        let img = ramp(10, 10);
        let mut out = vec![0.0; 12];
        let mut c = Cropper::default();
        assert!(!c.crop_into(&img, &window(5.0, 5.0, 2.0, 8.0), 2, &mut out));
        assert!(!c.crop_into(&img, &window(0.0, 0.0, 1.0e6, 1.0e6), 2, &mut out));
    }
}

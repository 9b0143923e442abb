//! Warps a frame region into a small grey image through a similarity
//! transform: the crop every classifier stage reads (emotion's face, the
//! attention stage's eyes and mouth). Pixels outside the frame repeat the
//! border; when the output is smaller than the region, each output pixel
//! averages up to [`MAX_SUPERSAMPLE`]² bilinear samples so that nothing aliases.

use image::{GrayImage, RgbImage};

use crate::core::align::Similarity;
use crate::core::geometry::Point;

/// Most samples per output pixel and axis when shrinking.
pub const MAX_SUPERSAMPLE: u32 = 4;

/// Luma (ITU-R BT.601, as OpenCV's grey conversion) of an RGB pixel.
fn luma_of(p: [u8; 3]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// The grey pixels of a rectangle of the frame (the part a crop reads), with
/// coordinates outside the frame clamped to its border.
struct GreyRegion {
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
    pixels: Vec<f32>,
}

impl GreyRegion {
    fn new(frame: &RgbImage, x0: i64, y0: i64, x1: i64, y1: i64) -> Self {
        let (fw, fh) = (frame.width() as i64, frame.height() as i64);
        // Only the part inside the frame is stored; reads are clamped to it.
        let (x0, y0) = (x0.clamp(0, fw - 1), y0.clamp(0, fh - 1));
        let (x1, y1) = (x1.clamp(x0, fw - 1), y1.clamp(y0, fh - 1));
        let (w, h) = (x1 - x0 + 1, y1 - y0 + 1);
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for y in y0..=y1 {
            for x in x0..=x1 {
                pixels.push(luma_of(frame.get_pixel(x as u32, y as u32).0));
            }
        }
        Self {
            x0,
            y0,
            w,
            h,
            pixels,
        }
    }

    fn at(&self, x: i64, y: i64) -> f32 {
        let x = (x - self.x0).clamp(0, self.w - 1);
        let y = (y - self.y0).clamp(0, self.h - 1);
        self.pixels[(y * self.w + x) as usize]
    }

    /// Bilinear sample at `p` (pixel centres at +0.5).
    fn bilinear(&self, p: Point) -> f32 {
        let (x, y) = (p.x - 0.5, p.y - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let (xi, yi) = (x0 as i64, y0 as i64);
        let top = self.at(xi, yi) * (1.0 - fx) + self.at(xi + 1, yi) * fx;
        let bot = self.at(xi, yi + 1) * (1.0 - fx) + self.at(xi + 1, yi + 1) * fx;
        top * (1.0 - fy) + bot * fy
    }
}

/// Warps `frame` into a `side` x `side` grey crop through `t` (frame -> crop).
/// Returns `None` for an empty frame or a non-finite transform.
pub fn warp_grey(frame: &RgbImage, t: &Similarity, side: u32) -> Option<GrayImage> {
    if frame.width() == 0 || frame.height() == 0 || side == 0 {
        return None;
    }
    let scale = t.scale();
    if !scale.is_finite() || scale <= 0.0 {
        return None;
    }
    // Frame pixels per crop pixel, hence samples per axis.
    let m = ((1.0 / scale).ceil() as u32).clamp(1, MAX_SUPERSAMPLE);
    // The frame rectangle the crop reads: the image of its corners, plus a pixel.
    let side_f = side as f32;
    let corners = [(0.0, 0.0), (side_f, 0.0), (0.0, side_f), (side_f, side_f)]
        .map(|(x, y)| t.unapply(Point::new(x, y)));
    if corners
        .iter()
        .any(|p| !(p.x.is_finite() && p.y.is_finite()))
    {
        return None;
    }
    let bound = |f: fn(f32, f32) -> f32, sel: fn(&Point) -> f32| {
        corners.iter().map(sel).fold(sel(&corners[0]), f)
    };
    let (fw, fh) = (frame.width() as f32, frame.height() as f32);
    let region = GreyRegion::new(
        frame,
        bound(f32::min, |p| p.x).clamp(-1.0, fw).floor() as i64 - 1,
        bound(f32::min, |p| p.y).clamp(-1.0, fh).floor() as i64 - 1,
        bound(f32::max, |p| p.x).clamp(-1.0, fw).ceil() as i64 + 1,
        bound(f32::max, |p| p.y).clamp(-1.0, fh).ceil() as i64 + 1,
    );
    let step = 1.0 / m as f32;
    let mut out = GrayImage::new(side, side);
    for v in 0..side {
        for u in 0..side {
            let mut acc = 0f32;
            for j in 0..m {
                for i in 0..m {
                    let q = Point::new(
                        u as f32 + (i as f32 + 0.5) * step,
                        v as f32 + (j as f32 + 0.5) * step,
                    );
                    let p = t.unapply(q);
                    // Far outside the frame every sample is a border pixel anyway.
                    let p = Point::new(p.x.clamp(-1.0, fw + 1.0), p.y.clamp(-1.0, fh + 1.0));
                    acc += region.bilinear(p);
                }
            }
            let value = (acc / (m * m) as f32).round().clamp(0.0, 255.0) as u8;
            out.put_pixel(u, v, image::Luma([value]));
        }
    }
    Some(out)
}

/// Grey version of a whole image (BT.601 luma, as [`warp_grey`]).
pub fn grey_of(image: &RgbImage) -> GrayImage {
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        let p = image.get_pixel(x, y).0;
        let l = 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
        image::Luma([l.round().clamp(0.0, 255.0) as u8])
    })
}

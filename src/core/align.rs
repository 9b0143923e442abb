//! Face alignment: a 5-point similarity transform (least squares, no
//! reflection) of the landmarks onto a template, and the embedding network's
//! input made with it: a 150x150 RGB face chip (bilinear sampling).
//! (The emotion stage frames its 64x64 grey face as FER2013 did, measured
//! better than a template-aligned crop: see `emotion::crop`.)
//!
//! Two templates are measured by `vigil eval verify --template`:
//! - [`ChipTemplate::Dlib`] (default): where dlib's 68-point mean face has the
//!   eye centres (mean of each eye's six points), the nose tip (point 30) and
//!   the mouth corners (48, 54), with dlib's chip padding 0.25 at 150 px:
//!   chip = (mean_face + 0.25) / 1.5 * 150. This is the layout the network was
//!   trained on (dlib's `get_face_chip_details`).
//! - [`ChipTemplate::Arcface`]: the ArcFace 112x112 five-point template scaled
//!   to 150 (a tighter crop).

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::core::geometry::{Landmarks, Point, LANDMARK_COUNT};

/// Side of the embedding network's square input chip, in pixels.
pub const CHIP_SIDE: u32 = 150;

/// dlib template, chip pixels: left eye, right eye, nose tip, mouth corners.
pub const DLIB_150: [(f32, f32); LANDMARK_COUNT] = [
    (47.549, 46.599),
    (100.476, 46.599),
    (74.013, 76.563),
    (50.415, 103.023),
    (97.610, 103.023),
];

/// ArcFace's 112x112 template.
pub const ARCFACE_112: [(f32, f32); LANDMARK_COUNT] = [
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
];

/// Which landmark layout the chip follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChipTemplate {
    /// dlib's mean-face layout at 150 px, [`DLIB_150`] (the network's training layout).
    Dlib,
    /// ArcFace's [`ARCFACE_112`] layout scaled to 150 px (a tighter crop).
    Arcface,
}

impl ChipTemplate {
    /// The template's five landmarks in 150x150 chip pixels, MTCNN order.
    pub fn points(self) -> [Point; LANDMARK_COUNT] {
        self.points_at(CHIP_SIDE)
    }

    /// The template's five landmarks in a `side` x `side` chip, MTCNN order.
    pub fn points_at(self, side: u32) -> [Point; LANDMARK_COUNT] {
        let (table, native) = match self {
            ChipTemplate::Dlib => (DLIB_150, 150.0),
            ChipTemplate::Arcface => (ARCFACE_112, 112.0),
        };
        let s = side as f32 / native;
        table.map(|(x, y)| Point::new(x * s, y * s))
    }
}

/// A similarity transform `z -> a * (z - from) + to` in complex form
/// (`a` = scale and rotation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Real part of `a`: scale times the cosine of the rotation.
    pub a_re: f32,
    /// Imaginary part of `a`: scale times the sine of the rotation.
    pub a_im: f32,
    /// Centre the transform subtracts first (the source points' mean, once fitted).
    pub from: Point,
    /// Centre the result is added to (the destination points' mean, once fitted).
    pub to: Point,
}

impl Similarity {
    /// Least-squares similarity taking `src` onto `dst` (no reflection).
    /// `None` when the source points coincide.
    pub fn fit(src: &[Point], dst: &[Point]) -> Option<Self> {
        let n = src.len().min(dst.len());
        if n < 2 {
            return None;
        }
        let mean = |p: &[Point]| {
            Point::new(
                p[..n].iter().map(|q| q.x).sum::<f32>() / n as f32,
                p[..n].iter().map(|q| q.y).sum::<f32>() / n as f32,
            )
        };
        let (ms, md) = (mean(src), mean(dst));
        let (mut re, mut im, mut norm) = (0f32, 0f32, 0f32);
        for (s, d) in src[..n].iter().zip(&dst[..n]) {
            let (sx, sy) = (s.x - ms.x, s.y - ms.y);
            let (dx, dy) = (d.x - md.x, d.y - md.y);
            // (d) * conj(s)
            re += dx * sx + dy * sy;
            im += dy * sx - dx * sy;
            norm += sx * sx + sy * sy;
        }
        if !(norm.is_finite() && norm > 1e-6 && re.is_finite() && im.is_finite()) {
            return None;
        }
        let (a_re, a_im) = (re / norm, im / norm);
        if a_re * a_re + a_im * a_im < 1e-12 {
            return None;
        }
        Some(Self {
            a_re,
            a_im,
            from: ms,
            to: md,
        })
    }

    /// Maps a point of the source to the destination.
    pub fn apply(&self, p: Point) -> Point {
        let (x, y) = (p.x - self.from.x, p.y - self.from.y);
        Point::new(
            self.a_re * x - self.a_im * y + self.to.x,
            self.a_im * x + self.a_re * y + self.to.y,
        )
    }

    /// Maps a point of the destination back to the source (the transform
    /// is never degenerate once fitted: `fit` rejects a zero scale).
    pub fn unapply(&self, q: Point) -> Point {
        let (dx, dy) = (q.x - self.to.x, q.y - self.to.y);
        let d = self.a_re * self.a_re + self.a_im * self.a_im;
        // (dx + i dy) / a = (dx + i dy) * conj(a) / |a|^2
        let x = (dx * self.a_re + dy * self.a_im) / d;
        let y = (dy * self.a_re - dx * self.a_im) / d;
        Point::new(x + self.from.x, y + self.from.y)
    }

    /// The inverse transform (`None` if degenerate).
    pub fn inverse(&self) -> Option<Self> {
        let n = self.a_re * self.a_re + self.a_im * self.a_im;
        if !(n.is_finite() && n > 1e-12) {
            return None;
        }
        Some(Self {
            a_re: self.a_re / n,
            a_im: -self.a_im / n,
            from: self.to,
            to: self.from,
        })
    }

    /// Scale factor `|a|` (destination pixels per source pixel).
    pub fn scale(&self) -> f32 {
        (self.a_re * self.a_re + self.a_im * self.a_im).sqrt()
    }
}

/// The 150x150 chip of the face with `landmarks` in `img`; `None` when the
/// landmarks are degenerate. Pixels outside the image are black.
pub fn extract_chip(
    img: &RgbImage,
    landmarks: &Landmarks,
    template: ChipTemplate,
) -> Option<RgbImage> {
    extract_chip_at(img, landmarks, ChipLayout::new(template, CHIP_SIDE))
}

/// What an embedding network takes: a template and a chip side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChipLayout {
    /// Where the five landmarks go.
    pub template: ChipTemplate,
    /// Side of the square chip, pixels.
    pub side: u32,
}

impl ChipLayout {
    /// A layout of `template` at `side` pixels.
    pub const fn new(template: ChipTemplate, side: u32) -> Self {
        Self { template, side }
    }
}

/// The chip of the face with `landmarks` in `img` laid out as `layout`;
/// `None` when the landmarks are degenerate. Pixels outside the image are
/// black.
pub fn extract_chip_at(
    img: &RgbImage,
    landmarks: &Landmarks,
    layout: ChipLayout,
) -> Option<RgbImage> {
    let side = layout.side;
    let to_chip = Similarity::fit(&landmarks.points(), &layout.template.points_at(side))?;
    let to_img = to_chip.inverse()?;
    let mut chip = RgbImage::new(side, side);
    for y in 0..side {
        for x in 0..side {
            let p = to_img.apply(Point::new(x as f32, y as f32));
            chip.put_pixel(x, y, bilinear(img, p.x, p.y));
        }
    }
    Some(chip)
}

fn bilinear(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (xi, yi) = (x0 as i64, y0 as i64);
    let px = |xx: i64, yy: i64| -> [f32; 3] {
        if xx < 0 || yy < 0 || xx >= w || yy >= h {
            [0.0; 3]
        } else {
            let p = img.get_pixel(xx as u32, yy as u32).0;
            [p[0] as f32, p[1] as f32, p[2] as f32]
        }
    };
    let (a, b, c, d) = (
        px(xi, yi),
        px(xi + 1, yi),
        px(xi, yi + 1),
        px(xi + 1, yi + 1),
    );
    let mut out = [0u8; 3];
    for k in 0..3 {
        let top = a[k] * (1.0 - fx) + b[k] * fx;
        let bottom = c[k] * (1.0 - fx) + d[k] * fx;
        out[k] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    Rgb(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let src: Vec<Point> = [
            (10.0, 20.0),
            (50.0, 22.0),
            (30.0, 40.0),
            (15.0, 60.0),
            (45.0, 61.0),
        ]
        .iter()
        .map(|&(x, y)| Point::new(x, y))
        .collect();
        let truth = Similarity {
            a_re: 1.5 * 0.4f32.cos(),
            a_im: 1.5 * 0.4f32.sin(),
            from: Point::new(0.0, 0.0),
            to: Point::new(7.0, -3.0),
        };
        let dst: Vec<Point> = src.iter().map(|p| truth.apply(*p)).collect();
        let fit = Similarity::fit(&src, &dst).unwrap();
        for (s, d) in src.iter().zip(&dst) {
            let q = fit.apply(*s);
            assert!((q.x - d.x).abs() < 1e-3 && (q.y - d.y).abs() < 1e-3);
        }
        assert!((fit.scale() - 1.5).abs() < 1e-4);
        let back = fit.inverse().unwrap().apply(dst[2]);
        assert!((back.x - src[2].x).abs() < 1e-3 && (back.y - src[2].y).abs() < 1e-3);
    }

    #[test]
    fn chip_puts_landmarks_on_the_template() {
        // An image whose pixel value encodes its x coordinate: the chip pixel at
        // the template's left eye must come from the landmark's x.
        let img = RgbImage::from_fn(300, 300, |x, _| Rgb([(x / 2) as u8, 0, 0]));
        let t = ChipTemplate::Dlib.points();
        let truth = Similarity {
            a_re: 0.8,
            a_im: 0.0,
            from: Point::new(0.0, 0.0),
            to: Point::new(60.0, 40.0),
        };
        let lm = Landmarks::from_points(t.map(|p| truth.apply(p)));
        let chip = extract_chip(&img, &lm, ChipTemplate::Dlib).unwrap();
        let le = t[0];
        let expect = lm.left_eye.x / 2.0;
        let got = chip.get_pixel(le.x.round() as u32, le.y.round() as u32).0[0] as f32;
        assert!((got - expect).abs() <= 1.5, "{got} vs {expect}");
    }

    #[test]
    fn degenerate_landmarks_give_no_chip() {
        let img = RgbImage::new(10, 10);
        let lm = Landmarks::from_points([Point::new(3.0, 3.0); 5]);
        assert!(extract_chip(&img, &lm, ChipTemplate::Dlib).is_none());
    }
}

//! Face alignment: a similarity transform (scale, rotation, translation) fitted
//! by least squares to the five MTCNN landmarks, mapping them onto a canonical
//! template, then the face resampled into a fixed-size chip.
//!
//! Two outputs:
//! - [`FaceChip`]: 150x150 RGB for the embedding model (dlib's ResNet expects
//!   dlib's `get_face_chip_details` layout: its mean face shape with 25%
//!   padding). MTCNN gives eye centres, the nose tip and the mouth corners, so
//!   the template puts them where dlib's mean face has them: the mean of its
//!   six landmarks per eye (36-41, 42-47), point 30 (nose tip), points 48 and
//!   54 (mouth corners). An ArcFace-style template is offered for comparison.
//! - [`GreyFace`]: 64x64 grey (ITU-R 601 luma) for the emotion model, same
//!   template with its own margin.
//!
//! Sampling is bilinear; when the chip shrinks the face by more than 1.5x,
//! each chip pixel averages an n x n grid of bilinear samples over its
//! footprint (against aliasing). Outside the frame the border is zero (black),
//! as dlib's `extract_image_chip` does.

use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{in_range, ConfigError};
use crate::geometry::{Landmarks, Point, LANDMARK_COUNT};

/// Side of the embedding model's chip.
pub const CHIP_SIZE: u32 = 150;
/// Side of the emotion model's grey face.
pub const GREY_SIZE: u32 = 64;
/// Largest supersampling grid per chip pixel (n x n samples).
pub const MAX_SUPERSAMPLING: u32 = 4;

/// dlib's mean face (`mean_face_shape_x/y`, points 17-67, in a unit square)
/// at MTCNN's five landmarks: eye centres (means of 36-41 and 42-47), nose tip
/// (30), mouth corners (48, 54). Image left first.
pub const DLIB_MEAN_FACE: [(f32, f32); LANDMARK_COUNT] = [
    (0.225_491_83, 0.215_990_33),
    (0.754_761_33, 0.215_990_33),
    (0.490_127, 0.515_625),
    (0.254_149, 0.780_233),
    (0.726_104, 0.780_233),
];

/// The ArcFace 112x112 five-point template (insightface), in pixels.
pub const ARCFACE_112: [(f32, f32); LANDMARK_COUNT] = [
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
];

#[derive(Debug, Error)]
pub enum AlignError {
    #[error("alignment: landmarks are degenerate (coincident or not finite)")]
    Degenerate,
    #[error("alignment: the frame is empty")]
    EmptyFrame,
}

/// Which canonical layout a chip uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateKind {
    /// dlib's mean face with `padding` around it (dlib's own chips: 0.25).
    Dlib,
    /// ArcFace's 112 template scaled to the chip (no padding parameter).
    Arcface,
}

/// `[align]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlignConfig {
    /// Template of the embedding chip.
    pub chip_template: TemplateKind,
    /// Padding of the dlib template for the embedding chip, as a fraction of the face.
    pub chip_padding: f32,
    /// Padding of the dlib template for the emotion model's grey face.
    pub grey_padding: f32,
}

impl Default for AlignConfig {
    fn default() -> Self {
        Self {
            chip_template: TemplateKind::Dlib,
            chip_padding: 0.25,
            grey_padding: 0.1,
        }
    }
}

impl AlignConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range("align.chip_padding", f64::from(self.chip_padding), 0.0, 2.0)?;
        in_range("align.grey_padding", f64::from(self.grey_padding), 0.0, 2.0)
    }

    pub fn chip_template(&self) -> Template {
        match self.chip_template {
            TemplateKind::Dlib => Template::dlib(CHIP_SIZE, self.chip_padding),
            TemplateKind::Arcface => Template::arcface(CHIP_SIZE),
        }
    }

    pub fn grey_template(&self) -> Template {
        Template::dlib(GREY_SIZE, self.grey_padding)
    }
}

/// Where the five landmarks go in a `size` x `size` output, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Template {
    pub size: u32,
    pub points: [Point; LANDMARK_COUNT],
}

impl Template {
    /// dlib's layout: `(padding + p) / (2 padding + 1) * size` per coordinate.
    pub fn dlib(size: u32, padding: f32) -> Self {
        let s = size as f32;
        let place = |v: f32| (padding + v) / (2.0 * padding + 1.0) * s;
        Self {
            size,
            points: DLIB_MEAN_FACE.map(|(x, y)| Point::new(place(x), place(y))),
        }
    }

    /// ArcFace's 112 template scaled to `size`.
    pub fn arcface(size: u32) -> Self {
        let k = size as f32 / 112.0;
        Self {
            size,
            points: ARCFACE_112.map(|(x, y)| Point::new(x * k, y * k)),
        }
    }
}

/// `q = scale * R(rotation) * p + (tx, ty)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub scale: f32,
    /// Radians, counter-clockwise in x-right / y-down image axes means clockwise on screen.
    pub rotation: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// Least-squares similarity taking `from` onto `to` (Umeyama 1991 without
    /// reflection; closed form in 2-D). `None` if `from` has no spread.
    pub fn estimate(from: &[Point], to: &[Point]) -> Option<Similarity> {
        if from.len() != to.len() || from.is_empty() {
            return None;
        }
        let n = from.len() as f64;
        let mean = |ps: &[Point]| {
            let (sx, sy) = ps.iter().fold((0.0f64, 0.0f64), |(a, b), p| {
                (a + f64::from(p.x), b + f64::from(p.y))
            });
            (sx / n, sy / n)
        };
        let (fx, fy) = mean(from);
        let (tx, ty) = mean(to);
        let (mut dot, mut cross, mut var) = (0.0f64, 0.0f64, 0.0f64);
        for (a, b) in from.iter().zip(to) {
            let (ax, ay) = (f64::from(a.x) - fx, f64::from(a.y) - fy);
            let (bx, by) = (f64::from(b.x) - tx, f64::from(b.y) - ty);
            dot += ax * bx + ay * by;
            cross += ax * by - ay * bx;
            var += ax * ax + ay * ay;
        }
        if var.is_nan() || var <= 1e-9 || !dot.is_finite() || !cross.is_finite() {
            return None;
        }
        let rotation = cross.atan2(dot);
        let scale = (dot * dot + cross * cross).sqrt() / var;
        let (c, s) = (rotation.cos(), rotation.sin());
        Some(Similarity {
            scale: scale as f32,
            rotation: rotation as f32,
            tx: (tx - scale * (c * fx - s * fy)) as f32,
            ty: (ty - scale * (s * fx + c * fy)) as f32,
        })
    }

    pub fn apply(&self, p: Point) -> Point {
        let (c, s) = (self.rotation.cos(), self.rotation.sin());
        Point::new(
            self.scale * (c * p.x - s * p.y) + self.tx,
            self.scale * (s * p.x + c * p.y) + self.ty,
        )
    }

    pub fn inverse(&self) -> Similarity {
        let inv = 1.0 / self.scale;
        let (c, s) = (self.rotation.cos(), self.rotation.sin());
        // p = R^-1 (q - t) / scale
        Similarity {
            scale: inv,
            rotation: -self.rotation,
            tx: -inv * (c * self.tx + s * self.ty),
            ty: -inv * (-s * self.tx + c * self.ty),
        }
    }
}

/// 150x150 RGB aligned face for the embedding model.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceChip(pub RgbImage);

/// 64x64 grey aligned face for the emotion model.
#[derive(Debug, Clone, PartialEq)]
pub struct GreyFace(pub GrayImage);

/// The transform taking frame pixels to `template` pixels for these landmarks.
pub fn fit(landmarks: &Landmarks, template: &Template) -> Result<Similarity, AlignError> {
    Similarity::estimate(&landmarks.points(), &template.points).ok_or(AlignError::Degenerate)
}

/// Samples the template-sized RGB output of `frame` under `to_template`.
pub fn warp_rgb(
    frame: &RgbImage,
    to_template: &Similarity,
    size: u32,
) -> Result<RgbImage, AlignError> {
    if frame.width() == 0 || frame.height() == 0 {
        return Err(AlignError::EmptyFrame);
    }
    let back = to_template.inverse();
    if !back.scale.is_finite() || back.scale <= 0.0 {
        return Err(AlignError::Degenerate);
    }
    // Frame pixels per chip pixel decides the supersampling grid.
    let n = if back.scale > 1.5 {
        (back.scale.ceil() as u32).min(MAX_SUPERSAMPLING)
    } else {
        1
    };
    let mut out = RgbImage::new(size, size);
    for (u, v, px) in out.enumerate_pixels_mut() {
        let mut acc = [0.0f32; 3];
        for i in 0..n {
            for j in 0..n {
                // Sub-sample offsets spread over the pixel's footprint, centred.
                let du = (i as f32 + 0.5) / n as f32 - 0.5;
                let dv = (j as f32 + 0.5) / n as f32 - 0.5;
                let p = back.apply(Point::new(u as f32 + du, v as f32 + dv));
                let s = bilinear(frame, p.x, p.y);
                for c in 0..3 {
                    acc[c] += s[c];
                }
            }
        }
        let k = (n * n) as f32;
        px.0 = acc.map(|a| (a / k).round().clamp(0.0, 255.0) as u8);
    }
    Ok(out)
}

/// Bilinear sample at `(x, y)` (pixel centres on integers); zero outside.
fn bilinear(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let mut out = [0.0f32; 3];
    for (dx, dy, wgt) in [
        (0, 0, (1.0 - fx) * (1.0 - fy)),
        (1, 0, fx * (1.0 - fy)),
        (0, 1, (1.0 - fx) * fy),
        (1, 1, fx * fy),
    ] {
        let (xi, yi) = (x0 + dx, y0 + dy);
        if wgt == 0.0 || xi < 0 || yi < 0 || xi >= w || yi >= h {
            continue;
        }
        let p = img.get_pixel(xi as u32, yi as u32).0;
        for c in 0..3 {
            out[c] += wgt * f32::from(p[c]);
        }
    }
    out
}

/// Aligns a face for the embedding model.
pub fn face_chip(
    frame: &RgbImage,
    landmarks: &Landmarks,
    template: &Template,
) -> Result<FaceChip, AlignError> {
    let t = fit(landmarks, template)?;
    Ok(FaceChip(warp_rgb(frame, &t, template.size)?))
}

/// Aligns a face for the emotion model (grey, ITU-R 601 luma).
pub fn grey_face(
    frame: &RgbImage,
    landmarks: &Landmarks,
    template: &Template,
) -> Result<GreyFace, AlignError> {
    let t = fit(landmarks, template)?;
    let rgb = warp_rgb(frame, &t, template.size)?;
    let grey = GrayImage::from_fn(template.size, template.size, |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        let l = 0.299 * f32::from(r) + 0.587 * f32::from(g) + 0.114 * f32::from(b);
        image::Luma([l.round().clamp(0.0, 255.0) as u8])
    });
    Ok(GreyFace(grey))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Point, b: Point, tol: f32) -> bool {
        (a.x - b.x).abs() < tol && (a.y - b.y).abs() < tol
    }

    #[test]
    fn recovers_a_known_similarity_exactly() {
        let truth = Similarity {
            scale: 0.37,
            rotation: 0.3,
            tx: -12.5,
            ty: 40.0,
        };
        let from = [
            Point::new(210.0, 180.0),
            Point::new(290.0, 176.0),
            Point::new(251.0, 230.0),
            Point::new(220.0, 270.0),
            Point::new(283.0, 268.0),
        ];
        let to = from.map(|p| truth.apply(p));
        let est = Similarity::estimate(&from, &to).unwrap();
        assert!((est.scale - truth.scale).abs() < 1e-5);
        assert!((est.rotation - truth.rotation).abs() < 1e-5);
        assert!((est.tx - truth.tx).abs() < 1e-3 && (est.ty - truth.ty).abs() < 1e-3);
        let back = est.inverse();
        for p in from {
            assert!(close(back.apply(est.apply(p)), p, 1e-3));
        }
    }

    #[test]
    fn least_squares_averages_noise() {
        let to = Template::dlib(150, 0.25).points;
        // Landmarks = template shifted by (100, 50), with symmetric noise.
        let noise = [(1.0, 0.0), (-1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (0.0, -1.0)];
        let from: Vec<Point> = to
            .iter()
            .zip(noise)
            .map(|(p, (dx, dy))| Point::new(p.x + 100.0 + dx, p.y + 50.0 + dy))
            .collect();
        let est = Similarity::estimate(&from, &to).unwrap();
        assert!((est.scale - 1.0).abs() < 0.02);
        assert!(est.rotation.abs() < 0.02);
    }

    #[test]
    fn degenerate_landmarks_are_an_error() {
        let same = Landmarks::from_points([Point::new(5.0, 5.0); LANDMARK_COUNT]);
        assert!(fit(&same, &Template::dlib(150, 0.25)).is_err());
        let nan = Landmarks::from_points([Point::new(f32::NAN, 1.0); LANDMARK_COUNT]);
        assert!(fit(&nan, &Template::dlib(150, 0.25)).is_err());
    }

    #[test]
    fn dlib_template_is_symmetric_with_padding() {
        let t = Template::dlib(150, 0.25);
        let mid = (t.points[0].x + t.points[1].x) / 2.0;
        assert!((mid - 0.490_126 * 100.0 - 25.0).abs() < 0.01);
        // Eye centre y: (0.25 + 0.216) / 1.5 * 150.
        assert!((t.points[0].y - (0.25 + 0.215_990_33) / 1.5 * 150.0).abs() < 1e-3);
    }

    /// A frame with a bright dot at each landmark of a face at 2x the chip
    /// scale, rotated: in the chip the dots land on the template points.
    #[test]
    fn chip_puts_landmarks_on_the_template() {
        let template = Template::dlib(150, 0.25);
        let to_frame = Similarity {
            scale: 2.0,
            rotation: -0.4,
            tx: 300.0,
            ty: 120.0,
        };
        let marks = template.points.map(|p| to_frame.apply(p));
        let mut frame = RgbImage::new(700, 600);
        for m in &marks {
            for dy in -3..=3 {
                for dx in -3..=3 {
                    let (x, y) = (m.x.round() as i64 + dx, m.y.round() as i64 + dy);
                    frame.put_pixel(x as u32, y as u32, image::Rgb([255, 255, 255]));
                }
            }
        }
        let chip = face_chip(&frame, &Landmarks::from_points(marks), &template).unwrap();
        assert_eq!(chip.0.dimensions(), (150, 150));
        for p in template.points {
            let v = chip.0.get_pixel(p.x.round() as u32, p.y.round() as u32).0[0];
            assert!(v > 200, "landmark at {p:?} is {v}");
        }
        // Far from any landmark the chip is dark.
        assert!(chip.0.get_pixel(2, 2).0[0] < 10);
    }

    #[test]
    fn outside_the_frame_is_black_and_grey_face_has_its_size() {
        let frame = RgbImage::from_pixel(40, 40, image::Rgb([100, 150, 200]));
        let template = Template::dlib(GREY_SIZE, 0.1);
        // A face whose landmarks sit near the corner: much of the chip is outside.
        let marks = template
            .points
            .map(|p| Point::new(p.x * 0.5 - 10.0, p.y * 0.5 - 10.0));
        let g = grey_face(&frame, &Landmarks::from_points(marks), &template).unwrap();
        assert_eq!(g.0.dimensions(), (64, 64));
        assert_eq!(g.0.get_pixel(0, 0).0[0], 0);
        let luma = (0.299f32 * 100.0 + 0.587 * 150.0 + 0.114 * 200.0).round() as u8;
        assert_eq!(g.0.get_pixel(63, 63).0[0], luma);
    }

    #[test]
    fn empty_frame_is_an_error() {
        let t = Template::dlib(150, 0.25);
        let lm = Landmarks::from_points(t.points);
        assert!(face_chip(&RgbImage::new(0, 0), &lm, &t).is_err());
    }

    #[test]
    fn config_defaults_validate_and_pick_templates() {
        let c = AlignConfig::default();
        c.validate().unwrap();
        assert_eq!(c.chip_template().size, CHIP_SIZE);
        let a = AlignConfig {
            chip_template: TemplateKind::Arcface,
            ..c
        };
        assert!((a.chip_template().points[0].x - 38.2946 * 150.0 / 112.0).abs() < 1e-3);
    }
}

//! Enrollment quality gates: exactly one face, big enough, sharp, roughly
//! frontal; and diversity (no near-duplicate templates).

use std::fmt;

use image::RgbImage;
use serde::Serialize;

use super::config::VerifyConfig;
use super::embed::{Embedding, Metric};
use super::gallery::Quality;
use super::pose::{roll_deg, NoseFrame};
use crate::core::face::Detection;

/// Why a frame gave no template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reject {
    /// No face detected in the frame.
    NoFace,
    /// More than one face: whose it is would be ambiguous.
    SeveralFaces,
    /// Face box side below `verify.enroll_min_face_px`.
    TooSmall,
    /// Face chip sharpness below `verify.enroll_min_sharpness`.
    Blurry,
    /// |yaw| above `verify.enroll_max_yaw` or |roll| above
    /// `verify.enroll_max_roll_deg`.
    NotFrontal,
    /// Closer than `verify.enroll_min_spacing` to a template already kept or
    /// enrolled.
    NearDuplicate,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reject::NoFace => "no face",
            Reject::SeveralFaces => "more than one face",
            Reject::TooSmall => "face too small",
            Reject::Blurry => "too blurry",
            Reject::NotFrontal => "not frontal enough",
            Reject::NearDuplicate => "near-duplicate of a kept template",
        })
    }
}

/// Variance of the 4-neighbour Laplacian of the luma of `img` (interior pixels).
/// Higher is sharper; a flat or blurred image is near 0.
pub fn laplacian_variance(img: &RgbImage) -> f32 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let luma: Vec<f32> = img
        .pixels()
        .map(|p| 0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32)
        .collect();
    let (mut sum, mut sum2, mut n) = (0f64, 0f64, 0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = luma[y * w + x];
            let l = luma[y * w + x - 1]
                + luma[y * w + x + 1]
                + luma[(y - 1) * w + x]
                + luma[(y + 1) * w + x]
                - 4.0 * c;
            sum += l as f64;
            sum2 += (l * l) as f64;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum2 / n - mean * mean).max(0.0) as f32
}

/// Gates that need only the detections of a frame: one face, big enough,
/// frontal. Returns the face's quality measures (sharpness still 0).
pub fn assess_detections(detections: &[Detection], cfg: &VerifyConfig) -> Result<Quality, Reject> {
    let d = match detections {
        [] => return Err(Reject::NoFace),
        [d] => d,
        _ => return Err(Reject::SeveralFaces),
    };
    let face_px = d.bbox.w.min(d.bbox.h);
    if face_px < cfg.enroll_min_face_px {
        return Err(Reject::TooSmall);
    }
    let nose = NoseFrame::of(&d.landmarks).ok_or(Reject::NotFrontal)?;
    let roll = roll_deg(&d.landmarks);
    if nose.yaw().abs() > cfg.enroll_max_yaw || roll.abs() > cfg.enroll_max_roll_deg {
        return Err(Reject::NotFrontal);
    }
    Ok(Quality {
        face_px,
        sharpness: 0.0,
        yaw: nose.yaw(),
        roll_deg: roll,
        score: d.score,
    })
}

/// The sharpness gate on the aligned chip.
pub fn assess_sharpness(
    chip: &RgbImage,
    mut q: Quality,
    cfg: &VerifyConfig,
) -> Result<Quality, Reject> {
    q.sharpness = laplacian_variance(chip);
    if q.sharpness < cfg.enroll_min_sharpness {
        return Err(Reject::Blurry);
    }
    Ok(q)
}

/// The diversity gate: reject a descriptor closer than `min_spacing` to any kept one.
pub fn is_near_duplicate(
    e: &Embedding,
    kept: &[Embedding],
    metric: Metric,
    min_spacing: f32,
) -> bool {
    kept.iter().any(|k| e.distance(k, metric) < min_spacing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::geometry::{BoundingBox, Landmarks, Point};

    fn det(side: f32, nose_x: f32) -> Detection {
        Detection {
            bbox: BoundingBox::new(0.0, 0.0, side, side),
            score: 0.99,
            landmarks: Landmarks::from_points([
                Point::new(40.0, 50.0),
                Point::new(80.0, 50.0),
                Point::new(nose_x, 70.0),
                Point::new(45.0, 90.0),
                Point::new(75.0, 90.0),
            ]),
        }
    }

    #[test]
    fn detection_gates() {
        let c = VerifyConfig::default();
        assert_eq!(assess_detections(&[], &c), Err(Reject::NoFace));
        assert_eq!(
            assess_detections(&[det(120.0, 60.0); 2], &c),
            Err(Reject::SeveralFaces)
        );
        assert_eq!(
            assess_detections(&[det(50.0, 60.0)], &c),
            Err(Reject::TooSmall)
        );
        assert_eq!(
            assess_detections(&[det(120.0, 75.0)], &c),
            Err(Reject::NotFrontal)
        );
        let q = assess_detections(&[det(120.0, 61.0)], &c).unwrap();
        assert!((q.yaw - 0.025).abs() < 1e-5);
    }

    #[test]
    fn flat_image_is_blurry_and_texture_is_sharp() {
        let c = VerifyConfig::default();
        let q = assess_detections(&[det(120.0, 60.0)], &c).unwrap();
        let flat = RgbImage::from_pixel(150, 150, image::Rgb([120, 110, 100]));
        assert_eq!(assess_sharpness(&flat, q.clone(), &c), Err(Reject::Blurry));
        let checker = RgbImage::from_fn(150, 150, |x, y| {
            let v = if (x / 3 + y / 3) % 2 == 0 { 40 } else { 200 };
            image::Rgb([v, v, v])
        });
        assert!(assess_sharpness(&checker, q, &c).unwrap().sharpness > 1000.0);
    }

    #[test]
    fn near_duplicates_are_detected() {
        let mut a = vec![0.0; 128];
        a[0] = 1.0;
        let mut b = a.clone();
        b[1] = 0.05;
        let (a, b) = (Embedding::new(a).unwrap(), Embedding::new(b).unwrap());
        assert!(is_near_duplicate(
            &b,
            std::slice::from_ref(&a),
            Metric::Euclidean,
            0.1
        ));
        assert!(!is_near_duplicate(&b, &[a], Metric::Euclidean, 0.01));
    }
}

//! Cuts a grey face crop out of a frame, framed as FER2013 frames its faces.
//!
//! The five detected landmarks are mapped by a least-squares similarity
//! transform (rotation, uniform scale, shift) onto [`FER_TEMPLATE`]: the median
//! positions of MTCNN's landmarks inside the FER2013 PublicTest crops, measured
//! by `dev/emotion/fer_template.py` (O-Net run on every crop) and made
//! left-right symmetric. A live face thus reaches the classifier upright and
//! framed like its training data. Pixels outside the frame repeat the border;
//! when the output is smaller than the face, each output pixel averages up to
//! [`MAX_SUPERSAMPLE`]² bilinear samples so that nothing aliases.

use image::{GrayImage, RgbImage};

use crate::core::align::Similarity;
use crate::core::face::Detection;
use crate::core::geometry::{Landmarks, Point};
pub use crate::core::warp::{grey_of, warp_grey, MAX_SUPERSAMPLE};

/// Side of the crop handed to the classifier (face-api's input side; the
/// mini-Xception view is reduced from it).
pub const CROP_SIDE: u32 = 112;

/// Landmark positions in a FER2013 crop, as fractions of its side: left eye,
/// right eye, nose, left and right mouth corner (image left / right).
pub const FER_TEMPLATE: [Point; 5] = [
    Point::new(0.3107, 0.3834),
    Point::new(0.6893, 0.3834),
    Point::new(0.5, 0.5925),
    Point::new(0.3384, 0.7802),
    Point::new(0.6616, 0.7802),
];

/// The transform from frame pixels to a `side` x `side` FER-framed crop.
pub fn fer_alignment(landmarks: &Landmarks, side: u32) -> Option<Similarity> {
    let s = side as f32;
    let dst = FER_TEMPLATE.map(|p| Point::new(p.x * s, p.y * s));
    Similarity::fit(&landmarks.points(), &dst)
}

/// The transform for a detection: its landmarks, or when they are unusable its
/// box taken as the crop. `None` when neither is usable.
pub fn alignment_for(detection: &Detection, side: u32) -> Option<Similarity> {
    if let Some(t) = fer_alignment(&detection.landmarks, side) {
        return Some(t);
    }
    let b = detection.bbox.to_square();
    if !b.is_valid() {
        return None;
    }
    let s = side as f32 / b.w;
    Some(Similarity {
        a_re: s,
        a_im: 0.0,
        from: Point::new(b.x, b.y),
        to: Point::new(0.0, 0.0),
    })
}

/// The classifier's crop of one detection, or `None` if it cannot be made.
pub fn face_crop(frame: &RgbImage, detection: &Detection) -> Option<GrayImage> {
    let t = alignment_for(detection, CROP_SIDE)?;
    warp_grey(frame, &t, CROP_SIDE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::geometry::BoundingBox;

    fn template_landmarks(scale: f32, dx: f32, dy: f32) -> Landmarks {
        Landmarks::from_points(FER_TEMPLATE.map(|p| Point::new(p.x * scale + dx, p.y * scale + dy)))
    }

    #[test]
    fn fit_recovers_a_known_similarity() {
        let lm = template_landmarks(200.0, 50.0, 30.0);
        let t = fer_alignment(&lm, 100).unwrap();
        assert!((t.scale() - 0.5).abs() < 1e-4);
        let back = t.unapply(Point::new(50.0, 50.0));
        assert!(
            (back.x - 150.0).abs() < 1e-2 && (back.y - 130.0).abs() < 1e-2,
            "{back:?}"
        );
    }

    #[test]
    fn degenerate_landmarks_fall_back_to_the_box() {
        let det = Detection {
            bbox: BoundingBox::new(10.0, 10.0, 40.0, 40.0),
            score: 0.9,
            landmarks: Landmarks::from_points([Point::new(5.0, 5.0); 5]),
        };
        assert!(fer_alignment(&det.landmarks, 112).is_none());
        let t = alignment_for(&det, 112).unwrap();
        assert!((t.scale() - 112.0 / 40.0).abs() < 1e-4);
        let nan = Detection {
            bbox: BoundingBox::new(f32::NAN, 0.0, 1.0, 1.0),
            ..det
        };
        assert!(alignment_for(&nan, 112).is_none());
    }

    #[test]
    fn crop_of_a_face_at_the_border_repeats_edge_pixels() {
        let frame = RgbImage::from_pixel(50, 40, image::Rgb([200, 100, 0]));
        // Landmarks mostly outside the frame.
        let det = Detection {
            bbox: BoundingBox::new(-30.0, -30.0, 60.0, 60.0),
            score: 0.9,
            landmarks: template_landmarks(60.0, -30.0, -30.0),
        };
        let crop = face_crop(&frame, &det).unwrap();
        assert_eq!(crop.dimensions(), (CROP_SIDE, CROP_SIDE));
        let expected = (0.299f32 * 200.0 + 0.587 * 100.0).round() as u8;
        assert!(crop.pixels().all(|p| p.0[0].abs_diff(expected) <= 1));
    }

    #[test]
    fn tiny_and_huge_faces_give_a_crop() {
        let frame = RgbImage::from_fn(640, 480, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 0])
        });
        for scale in [3.0, 1500.0] {
            let det = Detection {
                bbox: BoundingBox::new(100.0, 100.0, scale, scale),
                score: 0.9,
                landmarks: template_landmarks(scale, 100.0, 100.0),
            };
            assert!(face_crop(&frame, &det).is_some());
        }
        assert!(face_crop(
            &RgbImage::new(0, 0),
            &Detection {
                bbox: BoundingBox::new(0.0, 0.0, 10.0, 10.0),
                score: 0.9,
                landmarks: template_landmarks(10.0, 0.0, 0.0),
            }
        )
        .is_none());
    }
}

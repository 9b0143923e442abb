//! Eye and mouth crops cut from the five MTCNN landmarks.
//!
//! Every crop is upright: the line through the eye centres is rotated to the
//! horizontal (the roll of [`crate::core::align::Similarity`]), and sized
//! relative to the inter-ocular distance (IOD), so that a face near or far,
//! tilted or not, gives the classifier the same framing.
//!
//! - Eye: centred on the eye landmark, side [`EYE_CROP_IOD`] x IOD, reduced to
//!   [`EYE_SIDE`] px grey: CEW's 24x24 eye patches, the eye classifier's
//!   training data, are framed so (the factor was measured, see
//!   `models/train-attention/README.md`).
//! - Mouth: centred [`MOUTH_DROP_IOD`] x IOD below the mouth corners' midpoint
//!   (a yawn opens downwards), side [`MOUTH_CROP_IOD`] x IOD, [`MOUTH_SIDE`] px grey.

use image::{GrayImage, RgbImage};

use crate::core::align::Similarity;
use crate::core::geometry::{Landmarks, Point};
use crate::core::warp::warp_grey;

/// Side of an eye crop, in pixels (the eye model's input).
pub const EYE_SIDE: u32 = 24;
/// Side of the frame region an eye crop covers, in inter-ocular distances.
pub const EYE_CROP_IOD: f32 = 0.70;
/// Side of a mouth crop, in pixels (the yawn model's input).
pub const MOUTH_SIDE: u32 = 32;
/// Side of the frame region a mouth crop covers, in inter-ocular distances.
pub const MOUTH_CROP_IOD: f32 = 1.4;
/// How far below the mouth corners' midpoint the mouth crop is centred, in IODs.
pub const MOUTH_DROP_IOD: f32 = 0.15;
/// Smallest inter-ocular distance (pixels) a crop is cut for.
pub const MIN_IOD_PX: f32 = 4.0;

/// Which eye: image left (the subject's right) or image right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eye {
    /// The eye on the left of the image.
    Left,
    /// The eye on the right of the image.
    Right,
}

/// The transform taking a square of side `iods` x IOD centred on `centre`
/// (in the face's upright frame) onto a `side` x `side` crop.
fn upright_square(lm: &Landmarks, centre: Point, iods: f32, side: u32) -> Option<Similarity> {
    let (dx, dy) = (
        lm.right_eye.x - lm.left_eye.x,
        lm.right_eye.y - lm.left_eye.y,
    );
    let iod = (dx * dx + dy * dy).sqrt();
    if !(iod.is_finite() && iod >= MIN_IOD_PX && centre.x.is_finite() && centre.y.is_finite()) {
        return None;
    }
    // Scale s = side / (iods * iod); rotation by -roll: a = s * conj(d / |d|).
    let s = side as f32 / (iods * iod);
    let (c, sn) = (dx / iod, dy / iod);
    let half = side as f32 / 2.0;
    Some(Similarity {
        a_re: s * c,
        a_im: -s * sn,
        from: centre,
        to: Point::new(half, half),
    })
}

/// The frame -> crop transform of one eye with a region of `iods` x IOD.
pub fn eye_alignment(lm: &Landmarks, eye: Eye, iods: f32) -> Option<Similarity> {
    let centre = match eye {
        Eye::Left => lm.left_eye,
        Eye::Right => lm.right_eye,
    };
    upright_square(lm, centre, iods, EYE_SIDE)
}

/// The frame -> crop transform of the mouth.
pub fn mouth_alignment(lm: &Landmarks) -> Option<Similarity> {
    let mid = Point::new(
        (lm.mouth_left.x + lm.mouth_right.x) / 2.0,
        (lm.mouth_left.y + lm.mouth_right.y) / 2.0,
    );
    let (dx, dy) = (
        lm.right_eye.x - lm.left_eye.x,
        lm.right_eye.y - lm.left_eye.y,
    );
    // "Down" in the face: the eye line turned by +90 degrees (image y grows down).
    let centre = Point::new(mid.x - dy * MOUTH_DROP_IOD, mid.y + dx * MOUTH_DROP_IOD);
    upright_square(lm, centre, MOUTH_CROP_IOD, MOUTH_SIDE)
}

/// The grey [`EYE_SIDE`]² crop of one eye, region `iods` x IOD.
pub fn eye_crop_with(frame: &RgbImage, lm: &Landmarks, eye: Eye, iods: f32) -> Option<GrayImage> {
    warp_grey(frame, &eye_alignment(lm, eye, iods)?, EYE_SIDE)
}

/// The grey [`EYE_SIDE`]² crop of one eye at the default framing.
pub fn eye_crop(frame: &RgbImage, lm: &Landmarks, eye: Eye) -> Option<GrayImage> {
    eye_crop_with(frame, lm, eye, EYE_CROP_IOD)
}

/// The grey [`MOUTH_SIDE`]² crop of the mouth.
pub fn mouth_crop(frame: &RgbImage, lm: &Landmarks) -> Option<GrayImage> {
    warp_grey(frame, &mouth_alignment(lm)?, MOUTH_SIDE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(roll: f32) -> Landmarks {
        let (c, s) = (roll.cos(), roll.sin());
        let rot = |x: f32, y: f32| Point::new(200.0 + c * x - s * y, 150.0 + s * x + c * y);
        Landmarks::from_points([
            rot(-30.0, -20.0),
            rot(30.0, -20.0),
            rot(0.0, 5.0),
            rot(-25.0, 30.0),
            rot(25.0, 30.0),
        ])
    }

    #[test]
    fn eye_lands_in_the_centre_of_its_crop_at_any_roll() {
        for roll in [0.0f32, 0.3, -0.5] {
            let lm = face(roll);
            let t = eye_alignment(&lm, Eye::Right, EYE_CROP_IOD).unwrap();
            let q = t.apply(lm.right_eye);
            assert!((q.x - 12.0).abs() < 1e-3 && (q.y - 12.0).abs() < 1e-3);
            // The other eye lies on the crop's horizontal through the centre.
            let o = t.apply(lm.left_eye);
            assert!((o.y - 12.0).abs() < 1e-3 && o.x < 0.0, "{o:?}");
            // Region side: EYE_CROP_IOD x IOD (60 px) over 24 px.
            assert!((t.scale() - 24.0 / (EYE_CROP_IOD * 60.0)).abs() < 1e-4);
        }
    }

    #[test]
    fn mouth_crop_sits_below_the_mouth() {
        let lm = face(0.4);
        let t = mouth_alignment(&lm).unwrap();
        let mid = Point::new(
            (lm.mouth_left.x + lm.mouth_right.x) / 2.0,
            (lm.mouth_left.y + lm.mouth_right.y) / 2.0,
        );
        let q = t.apply(mid);
        let half = MOUTH_SIDE as f32 / 2.0;
        assert!((q.x - half).abs() < 1e-3);
        let drop = MOUTH_DROP_IOD * MOUTH_SIDE as f32 / MOUTH_CROP_IOD;
        assert!((q.y - (half - drop)).abs() < 1e-3, "{q:?}");
    }

    #[test]
    fn degenerate_landmarks_give_no_crop() {
        let frame = RgbImage::new(50, 50);
        let lm = Landmarks::from_points([Point::new(10.0, 10.0); 5]);
        assert!(eye_crop(&frame, &lm, Eye::Left).is_none());
        assert!(mouth_crop(&frame, &lm).is_none());
        let nan = Landmarks::from_points([Point::new(f32::NAN, 1.0); 5]);
        assert!(mouth_crop(&frame, &nan).is_none());
    }
}

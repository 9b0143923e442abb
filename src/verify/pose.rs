//! Head pose cues from the five landmarks.
//!
//! The nose is expressed in the affine frame spanned by the eyes and the mouth:
//! origin at the left eye, first axis to the right eye, second axis from the
//! eye midpoint to the mouth midpoint. These coordinates do not change under
//! any affine map of the image (shift, rotation, scale, shear), so a flat
//! picture moved in front of the camera keeps them (nearly) constant, while a
//! real head turning or nodding moves the nose out of the eye-mouth plane.

use crate::core::geometry::{Landmarks, Point};

/// The nose in the eye-mouth frame: `u` along the eyes (0.5 = centred),
/// `v` from the eye line towards the mouth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoseFrame {
    /// Coordinate along the left-to-right eye vector: 0 at the left eye, 1 at
    /// the right eye, 0.5 centred.
    pub u: f32,
    /// Coordinate along the vector from the eye midpoint to the mouth
    /// midpoint: 0 on the eye line, 1 at the mouth.
    pub v: f32,
}

impl NoseFrame {
    /// `None` when the landmarks are degenerate (eyes and mouth collinear).
    pub fn of(l: &Landmarks) -> Option<Self> {
        let a1 = sub(l.right_eye, l.left_eye);
        let eye_mid = mid(l.left_eye, l.right_eye);
        let mouth_mid = mid(l.mouth_left, l.mouth_right);
        let a2 = sub(mouth_mid, eye_mid);
        let n = sub(l.nose, l.left_eye);
        let det = a1.x * a2.y - a1.y * a2.x;
        if !det.is_finite() || det.abs() < 1e-6 {
            return None;
        }
        let u = (n.x * a2.y - n.y * a2.x) / det;
        let v = (a1.x * n.y - a1.y * n.x) / det;
        (u.is_finite() && v.is_finite()).then_some(Self { u, v })
    }

    /// Yaw cue: horizontal nose offset from the eye centre, in eye distances
    /// (0 = frontal; about ±0.1 per 10 degrees of head turn).
    pub fn yaw(&self) -> f32 {
        self.u - 0.5
    }
}

/// Roll: angle of the eye line, in degrees (0 = level).
pub fn roll_deg(l: &Landmarks) -> f32 {
    let d = sub(l.right_eye, l.left_eye);
    d.y.atan2(d.x).to_degrees()
}

fn sub(a: Point, b: Point) -> Point {
    Point::new(a.x - b.x, a.y - b.y)
}

fn mid(a: Point, b: Point) -> Point {
    Point::new((a.x + b.x) / 2.0, (a.y + b.y) / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(nose_x: f32) -> Landmarks {
        Landmarks::from_points([
            Point::new(40.0, 50.0),
            Point::new(80.0, 50.0),
            Point::new(nose_x, 70.0),
            Point::new(45.0, 90.0),
            Point::new(75.0, 90.0),
        ])
    }

    fn map(l: &Landmarks, f: impl Fn(Point) -> Point) -> Landmarks {
        Landmarks::from_points(l.points().map(f))
    }

    #[test]
    fn frontal_face_has_zero_yaw_and_roll() {
        let n = NoseFrame::of(&face(60.0)).unwrap();
        assert!(n.yaw().abs() < 1e-6);
        assert!((n.v - 0.5).abs() < 1e-6, "{n:?}");
        assert!(roll_deg(&face(60.0)).abs() < 1e-6);
    }

    #[test]
    fn turned_nose_gives_yaw() {
        assert!((NoseFrame::of(&face(68.0)).unwrap().yaw() - 0.2).abs() < 1e-6);
    }

    #[test]
    fn invariant_under_affine_maps_of_the_picture() {
        let l = face(66.0);
        let n0 = NoseFrame::of(&l).unwrap();
        let (c, s) = (0.3f32.cos(), 0.3f32.sin());
        let moved = map(&l, |p| {
            Point::new(
                1.3 * (c * p.x - s * p.y) + 17.0,
                1.3 * (s * p.x + c * p.y) - 4.0 + 0.2 * p.x,
            )
        });
        let n1 = NoseFrame::of(&moved).unwrap();
        assert!(
            (n0.u - n1.u).abs() < 1e-4 && (n0.v - n1.v).abs() < 1e-4,
            "{n0:?} {n1:?}"
        );
        assert!(
            (roll_deg(&map(&l, |p| Point::new(
                c * p.x - s * p.y,
                s * p.x + c * p.y
            ))) - 0.3f32.to_degrees())
            .abs()
                < 1e-3
        );
    }

    #[test]
    fn degenerate_landmarks_are_none() {
        let p = Point::new(1.0, 1.0);
        assert!(NoseFrame::of(&Landmarks::from_points([p; 5])).is_none());
    }
}

//! Domain geometry: points, boxes and the five MTCNN landmarks.
//!
//! Coordinates are in pixels of the frame they were measured on, `f32`, with
//! the origin at the top-left corner and y pointing down.

use serde::{Deserialize, Serialize};

/// A point in image coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Point {
    /// Horizontal coordinate, pixels from the left edge.
    pub x: f32,
    /// Vertical coordinate, pixels down from the top edge.
    pub y: f32,
}

impl Point {
    /// A point at `(x, y)`, in pixels.
    pub const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    /// Euclidean distance to `other`, in pixels.
    pub fn distance(self, other: Point) -> f32 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

/// An axis-aligned box: top-left corner plus width and height.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Left edge, in pixels.
    pub x: f32,
    /// Top edge, in pixels.
    pub y: f32,
    /// Width, in pixels (zero or negative means an empty box).
    pub w: f32,
    /// Height, in pixels (zero or negative means an empty box).
    pub h: f32,
}

impl BoundingBox {
    /// A box with top-left corner `(x, y)`, width `w` and height `h`, in pixels.
    pub const fn new(x: f32, y: f32, w: f32, h: f32) -> Self {
        Self { x, y, w, h }
    }

    /// Builds a box from its corners `(x1, y1)` (inclusive) and `(x2, y2)` (exclusive).
    pub fn from_corners(x1: f32, y1: f32, x2: f32, y2: f32) -> Self {
        Self::new(x1, y1, x2 - x1, y2 - y1)
    }

    /// Right edge (`x + w`, exclusive).
    pub fn x2(&self) -> f32 {
        self.x + self.w
    }

    /// Bottom edge (`y + h`, exclusive).
    pub fn y2(&self) -> f32 {
        self.y + self.h
    }

    /// Area in square pixels; 0 when the width or height is not positive.
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }

    /// Centre of the box.
    pub fn center(&self) -> Point {
        Point::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    /// True when the box has a positive, finite area.
    pub fn is_valid(&self) -> bool {
        self.w > 0.0
            && self.h > 0.0
            && self.x.is_finite()
            && self.y.is_finite()
            && self.w.is_finite()
            && self.h.is_finite()
    }

    /// Area of the overlap with `other` (0 when disjoint).
    pub fn intersection(&self, other: &BoundingBox) -> f32 {
        let w = self.x2().min(other.x2()) - self.x.max(other.x);
        let h = self.y2().min(other.y2()) - self.y.max(other.y);
        if w <= 0.0 || h <= 0.0 {
            0.0
        } else {
            w * h
        }
    }

    /// Intersection over union, in [0, 1].
    pub fn iou(&self, other: &BoundingBox) -> f32 {
        let inter = self.intersection(other);
        let union = self.area() + other.area() - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }

    /// Intersection over the smaller of the two areas, in [0, 1] (MTCNN's "Min" overlap).
    pub fn iom(&self, other: &BoundingBox) -> f32 {
        let inter = self.intersection(other);
        let min = self.area().min(other.area());
        if min <= 0.0 {
            0.0
        } else {
            inter / min
        }
    }

    /// The square box with the same centre and side `max(w, h)`.
    pub fn to_square(&self) -> Self {
        let side = self.w.max(self.h);
        let c = self.center();
        Self::new(c.x - side / 2.0, c.y - side / 2.0, side, side)
    }

    /// Grows the box by `fraction` of its size on every side (negative shrinks).
    pub fn expand(&self, fraction: f32) -> Self {
        let dx = self.w * fraction;
        let dy = self.h * fraction;
        Self::new(
            self.x - dx,
            self.y - dy,
            self.w + 2.0 * dx,
            self.h + 2.0 * dy,
        )
    }

    /// The part of the box inside a `width` x `height` image (may be empty).
    pub fn clamp_to(&self, width: u32, height: u32) -> Self {
        let x1 = self.x.clamp(0.0, width as f32);
        let y1 = self.y.clamp(0.0, height as f32);
        let x2 = self.x2().clamp(0.0, width as f32);
        let y2 = self.y2().clamp(0.0, height as f32);
        Self::from_corners(x1, y1, x2, y2)
    }

    /// Scales every coordinate by `s` (used to map between pyramid levels and the frame).
    pub fn scale(&self, s: f32) -> Self {
        Self::new(self.x * s, self.y * s, self.w * s, self.h * s)
    }
}

/// Number of MTCNN landmarks.
pub const LANDMARK_COUNT: usize = 5;

/// The five MTCNN landmarks, in the model's order.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Landmarks {
    /// Centre of the eye on the left of the image (the subject's right eye).
    pub left_eye: Point,
    /// Centre of the eye on the right of the image (the subject's left eye).
    pub right_eye: Point,
    /// Tip of the nose.
    pub nose: Point,
    /// Mouth corner on the left of the image.
    pub mouth_left: Point,
    /// Mouth corner on the right of the image.
    pub mouth_right: Point,
}

impl Landmarks {
    /// The points in MTCNN order: left eye, right eye, nose, left and right mouth corner.
    /// "Left" is the left of the image (the subject's right).
    pub fn points(&self) -> [Point; LANDMARK_COUNT] {
        [
            self.left_eye,
            self.right_eye,
            self.nose,
            self.mouth_left,
            self.mouth_right,
        ]
    }

    /// Landmarks from points in MTCNN order (the inverse of [`Landmarks::points`]).
    pub fn from_points(p: [Point; LANDMARK_COUNT]) -> Self {
        Self {
            left_eye: p[0],
            right_eye: p[1],
            nose: p[2],
            mouth_left: p[3],
            mouth_right: p[4],
        }
    }

    /// Distance between the eye centres, a robust face scale.
    pub fn inter_ocular(&self) -> f32 {
        self.left_eye.distance(self.right_eye)
    }

    /// Mean distance between matching landmarks, normalised by the inter-ocular distance.
    pub fn normalised_distance(&self, other: &Landmarks) -> f32 {
        let scale = self.inter_ocular().max(other.inter_ocular()).max(1.0);
        let sum: f32 = self
            .points()
            .iter()
            .zip(other.points().iter())
            .map(|(a, b)| a.distance(*b))
            .sum();
        sum / LANDMARK_COUNT as f32 / scale
    }

    /// Every landmark moved by `(dx, dy)` pixels.
    pub fn translate(&self, dx: f32, dy: f32) -> Self {
        Self::from_points(self.points().map(|p| Point::new(p.x + dx, p.y + dy)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_identical_boxes_is_one_and_disjoint_is_zero() {
        let a = BoundingBox::new(10.0, 10.0, 20.0, 20.0);
        assert!((a.iou(&a) - 1.0).abs() < 1e-6);
        let b = BoundingBox::new(40.0, 40.0, 5.0, 5.0);
        assert_eq!(a.iou(&b), 0.0);
    }

    #[test]
    fn iou_and_iom_of_half_overlap() {
        let a = BoundingBox::new(0.0, 0.0, 10.0, 10.0);
        let b = BoundingBox::new(5.0, 0.0, 10.0, 10.0);
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        let small = BoundingBox::new(2.0, 2.0, 4.0, 4.0);
        assert!((a.iom(&small) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn square_keeps_centre() {
        let b = BoundingBox::new(0.0, 0.0, 10.0, 20.0).to_square();
        assert_eq!(b, BoundingBox::new(-5.0, 0.0, 20.0, 20.0));
    }

    #[test]
    fn clamp_handles_outside_boxes() {
        let b = BoundingBox::new(-10.0, -10.0, 5.0, 5.0).clamp_to(100, 100);
        assert_eq!(b.area(), 0.0);
        let c = BoundingBox::new(90.0, 90.0, 20.0, 20.0).clamp_to(100, 100);
        assert_eq!(c, BoundingBox::new(90.0, 90.0, 10.0, 10.0));
    }
}

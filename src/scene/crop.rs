//! What the classifier looks at: the whole frame, or the region around the
//! largest face (with a margin) when the frame has one.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::backbone::Backbone;
use super::features::Features;
use super::file::{Reader, Writer};
use super::SceneError;
use crate::core::face::Detection;
use crate::core::geometry::BoundingBox;

/// What the classifier looks at (config `scene.crop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CropMode {
    /// The centre square of the frame.
    WholeFrame,
    /// The square around the largest face, grown by the margin; the centre
    /// square of the frame when there is no face.
    LargestFace,
}

impl CropMode {
    /// The config name: `"whole_frame"` or `"largest_face"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CropMode::WholeFrame => "whole_frame",
            CropMode::LargestFace => "largest_face",
        }
    }

    /// The mode's byte in head and features files.
    pub fn code(self) -> u8 {
        match self {
            CropMode::WholeFrame => 0,
            CropMode::LargestFace => 1,
        }
    }

    /// The mode of a file byte (inverse of [`CropMode::code`]); `None` for an unknown byte.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(CropMode::WholeFrame),
            1 => Some(CropMode::LargestFace),
            _ => None,
        }
    }
}

impl std::fmt::Display for CropMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the classifier looks at: a head is only valid on features made the
/// way its training features were, so the head and negatives files record it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropSpec {
    /// Centre square of the frame or square around the largest face.
    pub mode: CropMode,
    /// Fraction of the face box's side added on every side.
    pub margin: f32,
    /// The region in grey (luma in all three channels) instead of colour.
    pub grey: bool,
}

impl CropSpec {
    /// Writes the spec into a negatives or head file.
    pub(crate) fn write(&self, w: &mut Writer) {
        w.u8(self.mode.code());
        w.f32(self.margin);
        w.u8(u8::from(self.grey));
    }

    /// Reads what [`CropSpec::write`] wrote.
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, SceneError> {
        let mode = CropMode::from_code(r.u8()?).ok_or_else(|| r.error("unknown crop mode"))?;
        let margin = r.f32()?;
        let grey = match r.u8()? {
            0 => false,
            1 => true,
            other => return Err(r.error(format!("bad grey flag {other}"))),
        };
        Ok(Self { mode, margin, grey })
    }

    /// The centre square of the frame in colour, no margin.
    pub fn whole_frame() -> Self {
        Self {
            mode: CropMode::WholeFrame,
            margin: 0.0,
            grey: false,
        }
    }

    /// The features of `image` as this rule sees it, and the region used.
    pub fn features(
        &self,
        backbone: &mut Backbone,
        image: &RgbImage,
        faces: &[Detection],
    ) -> Result<(Features, Region), SceneError> {
        let region = self.region(image.width(), image.height(), faces);
        let features = backbone.features(image, region.bbox, self.grey)?;
        Ok((features, region))
    }

    /// `mode`, margin and colour, for messages.
    pub fn describe(&self) -> String {
        let colour = if self.grey { "grey" } else { "colour" };
        match self.mode {
            CropMode::WholeFrame => format!("whole_frame, {colour}"),
            CropMode::LargestFace => format!("largest_face margin {}, {colour}", self.margin),
        }
    }

    /// Whether the features need face detections.
    pub fn needs_faces(&self) -> bool {
        self.mode == CropMode::LargestFace
    }

    /// The square region of a `width` x `height` frame to classify.
    pub fn region(&self, width: u32, height: u32, faces: &[Detection]) -> Region {
        let largest = faces
            .iter()
            .filter(|d| d.bbox.is_valid())
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
        match (self.mode, largest) {
            (CropMode::LargestFace, Some(face)) => Region {
                bbox: fit_square(face.bbox.to_square().expand(self.margin), width, height),
                face: true,
            },
            _ => Region {
                bbox: centre_square(width, height),
                face: false,
            },
        }
    }
}

/// A square region of the frame, and whether it is around a face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    /// The square, in frame pixels.
    pub bbox: BoundingBox,
    /// True when the square is around a face (false: the centre square).
    pub face: bool,
}

/// The largest centred square of a frame.
pub fn centre_square(width: u32, height: u32) -> BoundingBox {
    let (w, h) = (width as f32, height as f32);
    let side = w.min(h);
    BoundingBox::new((w - side) / 2.0, (h - side) / 2.0, side, side)
}

/// Shrinks a square to fit the frame and shifts it inside, keeping it square
/// (a face near the border keeps its aspect ratio instead of being squashed).
pub fn fit_square(b: BoundingBox, width: u32, height: u32) -> BoundingBox {
    let (w, h) = (width as f32, height as f32);
    let side = b.w.max(b.h).min(w.min(h)).max(1.0);
    let c = b.center();
    let x = (c.x - side / 2.0).clamp(0.0, (w - side).max(0.0));
    let y = (c.y - side / 2.0).clamp(0.0, (h - side).max(0.0));
    BoundingBox::new(x, y, side, side)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::geometry::{Landmarks, Point};

    fn face(x: f32, y: f32, side: f32) -> Detection {
        let p = Point::new(x, y);
        Detection {
            bbox: BoundingBox::new(x, y, side, side),
            score: 0.99,
            landmarks: Landmarks::from_points([p; 5]),
        }
    }

    #[test]
    fn whole_frame_is_the_centre_square() {
        let r = CropSpec::whole_frame().region(400, 300, &[face(10.0, 10.0, 50.0)]);
        assert_eq!(r.bbox, BoundingBox::new(50.0, 0.0, 300.0, 300.0));
        assert!(!r.face);
    }

    #[test]
    fn largest_face_with_margin_stays_square_and_inside() {
        let spec = CropSpec {
            mode: CropMode::LargestFace,
            margin: 0.5,
            grey: false,
        };
        let r = spec.region(
            400,
            300,
            &[face(100.0, 100.0, 40.0), face(200.0, 100.0, 80.0)],
        );
        assert!(r.face);
        // 80 px face grown by half its side on each side: 160 px, centred on (240, 140).
        assert_eq!(r.bbox, BoundingBox::new(160.0, 60.0, 160.0, 160.0));
        // Near the corner: shifted inside, not squashed.
        let r = spec.region(400, 300, &[face(360.0, 270.0, 60.0)]);
        assert_eq!((r.bbox.w, r.bbox.h), (120.0, 120.0));
        assert!(r.bbox.x2() <= 400.0 && r.bbox.y2() <= 300.0);
        // No face: the centre square.
        let r = spec.region(400, 300, &[]);
        assert!(!r.face);
        assert_eq!(r.bbox, centre_square(400, 300));
    }
}

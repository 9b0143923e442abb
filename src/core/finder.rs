//! A face detector as its users outside the pipeline see it (enrollment,
//! evaluation): the detections of one image. The real one is the MTCNN
//! cascade (`impl FaceFinder for Detector` in `detect::finder`).

use image::RgbImage;

use crate::core::face::Detection;

/// Any error a finder reports.
pub type FinderError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Finds the faces of one image.
pub trait FaceFinder {
    /// The faces of `image`, best first or in any order.
    fn find(&mut self, image: &RgbImage) -> Result<Vec<Detection>, FinderError>;
}

//! The cascade as a [`FaceFinder`] for enrollment and evaluation.

use image::RgbImage;

use crate::core::face::Detection;
use crate::core::finder::{FaceFinder, FinderError};

use super::Detector;

impl FaceFinder for Detector {
    fn find(&mut self, image: &RgbImage) -> Result<Vec<Detection>, FinderError> {
        Ok(self.detect(image)?)
    }
}

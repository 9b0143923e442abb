//! The face detector as the verifier sees it (enrollment, evaluation): the
//! detections of one image. `app::face_finder` builds the real one.

use image::RgbImage;

use crate::face::Detection;

pub trait FaceFinder {
    fn find(&mut self, image: &RgbImage) -> crate::error::Result<Vec<Detection>>;
}

//! The eye-state and yawn networks on the stage's crops.

use image::GrayImage;

use super::crop::{eye_crop, mouth_crop, Eye, EYE_SIDE, MOUTH_SIDE};
use super::specs::{EYE_STATE, YAWN};
use super::AttentionError;
use crate::core::geometry::Landmarks;
use crate::models::{self, ModelStore, Plan};
use image::RgbImage;

/// Added to the standard deviation when a crop is standardised (keeps a
/// flat crop from being blown up into noise); the training recipe uses the same.
pub const STD_FLOOR: f32 = 1.0;

/// A crop's pixels as the networks take them: `(x - mean) / (std + STD_FLOOR)`.
pub fn standardise(crop: &GrayImage) -> Vec<f32> {
    let n = crop.as_raw().len().max(1) as f32;
    let mean = crop.as_raw().iter().map(|&v| v as f32).sum::<f32>() / n;
    let var = crop
        .as_raw()
        .iter()
        .map(|&v| (v as f32 - mean).powi(2))
        .sum::<f32>()
        / n;
    let scale = 1.0 / (var.sqrt() + STD_FLOOR);
    crop.as_raw()
        .iter()
        .map(|&v| (v as f32 - mean) * scale)
        .collect()
}

/// What the networks say about one face.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FaceReading {
    /// Mean P(closed) of both eyes, when both crops could be cut.
    pub eyes_closed: Option<f32>,
    /// P(yawn), when the mouth crop could be cut.
    pub yawn: Option<f32>,
}

/// The two networks with their plans.
pub struct AttentionClassifier {
    eye: Plan,
    yawn: Plan,
}

impl AttentionClassifier {
    /// Loads and checks both models.
    pub fn new(store: &ModelStore) -> Result<Self, AttentionError> {
        let eye = store.load_spec(&EYE_STATE)?;
        let yawn = store.load_spec(&YAWN)?;
        let (e, m) = (EYE_SIDE as usize, MOUTH_SIDE as usize);
        Ok(Self {
            eye: eye.plan(&[2, 1, e, e])?,
            yawn: yawn.plan(&[1, 1, m, m])?,
        })
    }

    /// P(closed) of a left and a right eye crop, in that order.
    pub fn eyes(
        &mut self,
        left: &GrayImage,
        right: &GrayImage,
    ) -> Result<[f32; 2], AttentionError> {
        let mut data = standardise(left);
        data.extend(standardise(right));
        let out = self.eye.run_f32(data)?;
        let p = models::output_f32(&out, 0, EYE_STATE.file)?;
        match p {
            [l, r, ..] => Ok([*l, *r]),
            _ => Err(AttentionError::Output(EYE_STATE.file)),
        }
    }

    /// P(yawn) of a mouth crop.
    pub fn yawn(&mut self, mouth: &GrayImage) -> Result<f32, AttentionError> {
        let out = self.yawn.run_f32(standardise(mouth))?;
        let p = models::output_f32(&out, 0, YAWN.file)?;
        p.first().copied().ok_or(AttentionError::Output(YAWN.file))
    }

    /// Both readings of the face with `landmarks` in `frame`.
    pub fn read(
        &mut self,
        frame: &RgbImage,
        landmarks: &Landmarks,
    ) -> Result<FaceReading, AttentionError> {
        let eyes = match (
            eye_crop(frame, landmarks, Eye::Left),
            eye_crop(frame, landmarks, Eye::Right),
        ) {
            (Some(l), Some(r)) => {
                let [pl, pr] = self.eyes(&l, &r)?;
                Some((pl + pr) / 2.0)
            }
            _ => None,
        };
        let yawn = match mouth_crop(frame, landmarks) {
            Some(m) => Some(self.yawn(&m)?),
            None => None,
        };
        Ok(FaceReading {
            eyes_closed: eyes,
            yawn,
        })
    }
}

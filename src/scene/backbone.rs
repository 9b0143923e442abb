//! MobileNetV2 (torchvision ImageNet weights): 1280-d features and 1000 logits.

use image::RgbImage;

use crate::imageops::RgbResizer;
use crate::models::{self, ModelError, ModelId, ModelStore, Plan};

use super::SceneError;

/// Side of the square input.
pub const INPUT_SIDE: u32 = 224;
/// torchvision's ImageNet normalisation, per RGB channel.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Length of the pooled feature vector.
pub const FEATURE_DIM: usize = 1280;
pub const CLASS_COUNT: usize = 1000;

/// The backbone's two outputs for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct BackboneOutput {
    pub features: Vec<f32>,
    pub logits: Vec<f32>,
}

pub struct Backbone {
    plan: Plan,
    resizer: RgbResizer,
}

impl Backbone {
    pub fn new(store: &ModelStore) -> Result<Self, ModelError> {
        let model = store.load(ModelId::SceneFp32)?;
        let side = INPUT_SIDE as usize;
        Ok(Self {
            plan: model.plan(&[1, 3, side, side])?,
            resizer: RgbResizer::new(),
        })
    }

    /// Centre square of `image`, resized to 224x224, normalised, NCHW.
    pub fn preprocess(&mut self, image: &RgbImage) -> Result<Vec<f32>, SceneError> {
        let (w, h) = (image.width() as f64, image.height() as f64);
        let side = w.min(h);
        let crop = ((w - side) / 2.0, (h - side) / 2.0, side, side);
        let resized = self
            .resizer
            .resize_region(image, Some(crop), INPUT_SIDE, INPUT_SIDE)?;
        let plane = (INPUT_SIDE * INPUT_SIDE) as usize;
        let mut data = vec![0f32; 3 * plane];
        for (i, px) in resized.pixels().enumerate() {
            for c in 0..3 {
                data[c * plane + i] = (px.0[c] as f32 / 255.0 - MEAN[c]) / STD[c];
            }
        }
        Ok(data)
    }

    pub fn process(&mut self, image: &RgbImage) -> Result<BackboneOutput, SceneError> {
        let input = self.preprocess(image)?;
        let out = self.plan.run_f32(input)?;
        let file = self.plan.file();
        Ok(BackboneOutput {
            features: models::output_f32(&out, 0, file)?.to_vec(),
            logits: models::output_f32(&out, 1, file)?.to_vec(),
        })
    }
}

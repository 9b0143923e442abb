//! MobileNetV2 (torchvision ImageNet weights): 1280-d features and 1000 logits.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::core::geometry::BoundingBox;
use crate::core::imageops::RgbResizer;
use crate::models::{self, ModelError, ModelSpec, ModelStore, Plan};

use super::crop::centre_square;
use super::features::Features;
use super::file::{Reader, Writer};
use super::SceneError;

/// Side of the square input.
pub const INPUT_SIDE: u32 = 224;
/// torchvision's ImageNet normalisation, per RGB channel.
pub const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// torchvision's ImageNet standard deviation, per RGB channel (inputs are `(x / 255 - MEAN) / STD`).
pub const STD: [f32; 3] = [0.229, 0.224, 0.225];
/// BT.601 luma weights (R, G, B) for the grey view (`scene.grey`).
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];
/// Length of the pooled feature vector.
pub const FEATURE_DIM: usize = 1280;
/// Number of ImageNet classes (length of the logits).
pub const CLASS_COUNT: usize = 1000;

/// The backbone's two outputs for one image.
#[derive(Debug, Clone, PartialEq)]
pub struct BackboneOutput {
    /// Pooled features, [`FEATURE_DIM`] values (what the head classifies).
    pub features: Vec<f32>,
    /// ImageNet class logits (before softmax), [`CLASS_COUNT`] values.
    pub logits: Vec<f32>,
}

/// Which MobileNetV2 file runs (`scene.backbone`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackboneVariant {
    /// 32-bit float weights (the default; the reference for accuracy).
    Fp32,
    /// 8-bit quantised model (smaller); its features differ from fp32's, so a head trained on one is refused by the other.
    Int8,
}

impl BackboneVariant {
    /// The model file of this variant.
    pub fn model(self) -> &'static ModelSpec {
        match self {
            BackboneVariant::Fp32 => &super::specs::SCENE_FP32,
            BackboneVariant::Int8 => &super::specs::SCENE_INT8,
        }
    }

    /// The config name: `"fp32"` or `"int8"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackboneVariant::Fp32 => "fp32",
            BackboneVariant::Int8 => "int8",
        }
    }

    /// The bundled negatives computed with this backbone (in the models folder).
    pub fn negatives_file(self) -> &'static str {
        match self {
            BackboneVariant::Fp32 => "scene_negatives_fp32.bin",
            BackboneVariant::Int8 => "scene_negatives_int8.bin",
        }
    }
}

impl std::fmt::Display for BackboneVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of the backbone that made some features: its file name and SHA-256.
/// Features (and heads trained on them) are only valid with the same backbone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackboneId {
    /// File name of the backbone model.
    pub file: String,
    /// Lower-case hex.
    pub sha256: String,
}

impl BackboneId {
    pub(crate) fn write(&self, w: &mut Writer) {
        w.str(&self.file);
        w.bytes(&hex_to_bytes(&self.sha256));
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, SceneError> {
        let file = r.str()?;
        let raw = r.bytes(32)?;
        Ok(Self {
            file,
            sha256: raw.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// Error unless `self` (what a file was made with) is `current`.
    pub fn check(&self, current: &BackboneId, what: &std::path::Path) -> Result<(), SceneError> {
        if self == current {
            Ok(())
        } else {
            Err(SceneError::BackboneMismatch {
                path: what.to_path_buf(),
                made_with: format!("{} (sha256 {}…)", self.file, short(&self.sha256)),
                current: format!("{} (sha256 {}…)", current.file, short(&current.sha256)),
            })
        }
    }
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

fn hex_to_bytes(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
    }
    out
}

/// An image (already at the input size) as the network's normalised NCHW
/// input; with `grey`, every channel holds the pixel's luma.
pub fn to_input(resized: &RgbImage, grey: bool) -> Vec<f32> {
    let plane = (resized.width() * resized.height()) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, px) in resized.pixels().enumerate() {
        let [r, g, b] = px.0.map(f32::from);
        let luma = LUMA[0] * r + LUMA[1] * g + LUMA[2] * b;
        for (c, v) in [r, g, b].into_iter().enumerate() {
            let v = if grey { luma } else { v };
            data[c * plane + i] = (v / 255.0 - MEAN[c]) / STD[c];
        }
    }
    data
}

/// MobileNetV2 with its 224x224 plan: turns an image or a region into features and ImageNet logits.
pub struct Backbone {
    plan: Plan,
    id: BackboneId,
    variant: BackboneVariant,
    resizer: RgbResizer,
}

impl Backbone {
    /// The fp32 backbone.
    pub fn new(store: &ModelStore) -> Result<Self, ModelError> {
        Self::with_variant(store, BackboneVariant::Fp32)
    }

    /// Loads and checks the model of `variant` and builds its plan.
    pub fn with_variant(store: &ModelStore, variant: BackboneVariant) -> Result<Self, ModelError> {
        let model = store.load_spec(variant.model())?;
        let side = INPUT_SIDE as usize;
        Ok(Self {
            plan: model.plan(&[1, 3, side, side])?,
            id: BackboneId {
                file: model.spec().file.to_string(),
                sha256: model.sha256().to_string(),
            },
            variant,
            resizer: RgbResizer::new(),
        })
    }

    /// The backbone's identity (file and SHA-256), recorded in heads and feature files.
    pub fn id(&self) -> &BackboneId {
        &self.id
    }

    /// Which variant this is.
    pub fn variant(&self) -> BackboneVariant {
        self.variant
    }

    /// Centre square of `image`, resized to 224x224, normalised, NCHW.
    pub fn preprocess(&mut self, image: &RgbImage) -> Result<Vec<f32>, SceneError> {
        self.preprocess_region(image, centre_square(image.width(), image.height()), false)
    }

    /// `region` of `image` (inside it), resized to 224x224, normalised, NCHW;
    /// with `grey`, every channel holds the pixel's luma (BT.601).
    pub fn preprocess_region(
        &mut self,
        image: &RgbImage,
        region: BoundingBox,
        grey: bool,
    ) -> Result<Vec<f32>, SceneError> {
        let r = region.clamp_to(image.width(), image.height());
        if !r.is_valid() {
            return Err(SceneError::Region(format!(
                "region {region:?} is outside the {}x{} image",
                image.width(),
                image.height()
            )));
        }
        let crop = (r.x as f64, r.y as f64, r.w as f64, r.h as f64);
        let resized = self
            .resizer
            .resize_region(image, Some(crop), INPUT_SIDE, INPUT_SIDE)?;
        Ok(to_input(&resized, grey))
    }

    /// Features and logits of the centre square of `image`.
    pub fn process(&mut self, image: &RgbImage) -> Result<BackboneOutput, SceneError> {
        self.process_region(image, centre_square(image.width(), image.height()), false)
    }

    /// Features and logits of `region` of `image` (in grey with `grey`).
    pub fn process_region(
        &mut self,
        image: &RgbImage,
        region: BoundingBox,
        grey: bool,
    ) -> Result<BackboneOutput, SceneError> {
        let input = self.preprocess_region(image, region, grey)?;
        self.run(input)
    }

    /// The checked feature vector of `region` of `image`.
    pub fn features(
        &mut self,
        image: &RgbImage,
        region: BoundingBox,
        grey: bool,
    ) -> Result<Features, SceneError> {
        Features::new(self.process_region(image, region, grey)?.features)
    }

    /// Runs a preprocessed input.
    pub fn run(&mut self, input: Vec<f32>) -> Result<BackboneOutput, SceneError> {
        let out = self.plan.run_f32(input)?;
        let file = self.plan.file();
        Ok(BackboneOutput {
            features: models::output_f32(&out, 0, file)?.to_vec(),
            logits: models::output_f32(&out, 1, file)?.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_input_puts_the_luma_in_every_channel() {
        let img = RgbImage::from_pixel(2, 1, image::Rgb([200, 100, 50]));
        let luma = 0.299 * 200.0 + 0.587 * 100.0 + 0.114 * 50.0;
        let grey = to_input(&img, true);
        let colour = to_input(&img, false);
        for c in 0..3 {
            let expect = (luma / 255.0 - MEAN[c]) / STD[c];
            assert!((grey[c * 2] - expect).abs() < 1e-5);
            assert!((grey[c * 2 + 1] - expect).abs() < 1e-5);
        }
        assert!((colour[0] - (200.0 / 255.0 - MEAN[0]) / STD[0]).abs() < 1e-5);
        assert!((colour[4] - (50.0 / 255.0 - MEAN[2]) / STD[2]).abs() < 1e-5);
    }
}

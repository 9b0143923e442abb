//! The 128-d face descriptor and the networks that compute it from an
//! aligned chip: dlib's ResNet (`faceapi_face_recognition.onnx`, 150x150 RGB,
//! dlib's layout) or SFace (`sface_recognition.onnx`, 112x112 RGB, ArcFace's
//! layout), chosen by `verify.model`.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::core::align::{ChipLayout, ChipTemplate};
use crate::models::{self, ModelError, ModelSpec, ModelStore, Plan};

use super::VerifyError;

/// Length of a descriptor.
pub const EMBEDDING_DIM: usize = 128;
/// Side of the aligned chip the network takes (defined beside the alignment).
pub use crate::core::align::CHIP_SIDE;

/// A face descriptor: 128 finite numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Vec<f32>);

impl TryFrom<Vec<f32>> for Embedding {
    type Error = String;
    fn try_from(v: Vec<f32>) -> Result<Self, String> {
        Embedding::new(v)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Self {
        e.0
    }
}

impl Embedding {
    /// Checks the length and that every value is finite.
    pub fn new(values: Vec<f32>) -> Result<Self, String> {
        if values.len() != EMBEDDING_DIM {
            return Err(format!(
                "a descriptor has {EMBEDDING_DIM} values, got {}",
                values.len()
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err("descriptor has a non-finite value".into());
        }
        Ok(Self(values))
    }

    /// The 128 values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// Euclidean (L2) length of the descriptor.
    pub fn norm(&self) -> f32 {
        self.0.iter().map(|v| v * v).sum::<f32>().sqrt()
    }

    /// Euclidean (L2) distance to `other`, on the raw descriptors (dlib's
    /// measure: same person typically below 0.6).
    pub fn euclidean(&self, other: &Embedding) -> f32 {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f32>()
            .sqrt()
    }

    /// 1 - cosine similarity, in [0, 2].
    pub fn cosine_distance(&self, other: &Embedding) -> f32 {
        let dot: f32 = self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum();
        let n = self.norm() * other.norm();
        if n <= f32::EPSILON {
            return 2.0;
        }
        1.0 - dot / n
    }

    /// Distance to `other` in `metric`: smaller is more alike.
    pub fn distance(&self, other: &Embedding, metric: Metric) -> f32 {
        match metric {
            Metric::Euclidean => self.euclidean(other),
            Metric::Cosine => self.cosine_distance(other),
        }
    }
}

/// How two descriptors are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// On the raw descriptors, as dlib and face-api do.
    Euclidean,
    /// 1 - cosine similarity of the descriptors.
    Cosine,
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Metric::Euclidean => "euclidean",
            Metric::Cosine => "cosine",
        })
    }
}

/// The chip layout of dlib's network (and of every embedder that does not
/// say otherwise).
pub const DLIB_LAYOUT: ChipLayout = ChipLayout::new(ChipTemplate::Dlib, CHIP_SIDE);
/// Side of SFace's chip, pixels.
pub const SFACE_SIDE: u32 = 112;
/// SFace's chip layout: ArcFace's five-point template at 112 px.
pub const SFACE_LAYOUT: ChipLayout = ChipLayout::new(ChipTemplate::Arcface, SFACE_SIDE);

/// dlib's threshold, Euclidean (measured on AT&T: see config/vigil.toml).
pub const DLIB_THRESHOLD: f32 = 0.45;
/// SFace's threshold, cosine distance (1 - cosine similarity): under the
/// FAR 1e-4 point of AT&T in even (0.551) and mixed light (0.506); see
/// config/vigil.toml. OpenCV's own rule, similarity 0.363, would be 0.637.
pub const SFACE_THRESHOLD: f32 = 0.5;

/// SFace's `verify.enroll_min_spacing` (cosine): 10 templates span about 9 s
/// of a webcam clip, as dlib's 0.2 (Euclidean) spans 7 s.
pub const SFACE_ENROLL_SPACING: f32 = 0.06;
/// dlib's `verify.enroll_min_spacing` (Euclidean).
pub const DLIB_ENROLL_SPACING: f32 = 0.2;

/// Gaussian blur (sigma, chip pixels) of every SFace chip before embedding:
/// it takes the sensor noise out of a dim face (`vigil eval verify
/// --lighting`: TAR at FAR 1e-3 on low light 95.2% -> 96.9%, mixed lighting
/// 97.1% -> 98.0%, even light 100% -> 99.9%).
pub const SFACE_CHIP_BLUR: f32 = 0.8;

/// Which embedding network verifies faces (`verify.model`). A gallery made
/// with one is refused by the other: re-enrol after changing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmbeddingModel {
    /// dlib's ResNet-34 (via face-api), 150x150 RGB chips, Euclidean distance.
    Dlib,
    /// SFace (OpenCV Zoo, MobileFaceNet-style), 112x112 RGB chips, cosine
    /// distance; far steadier under hard lighting (`vigil eval verify --lighting`).
    Sface,
}

impl EmbeddingModel {
    /// The model file and its tensors.
    pub fn spec(self) -> &'static ModelSpec {
        match self {
            EmbeddingModel::Dlib => &super::spec::EMBEDDING,
            EmbeddingModel::Sface => &super::spec::SFACE,
        }
    }

    /// The chip the network takes.
    pub fn layout(self) -> ChipLayout {
        match self {
            EmbeddingModel::Dlib => DLIB_LAYOUT,
            EmbeddingModel::Sface => SFACE_LAYOUT,
        }
    }

    /// The blur of its chips before embedding, if any ([`SFACE_CHIP_BLUR`]).
    pub fn chip_blur(self) -> Option<f32> {
        match self {
            EmbeddingModel::Dlib => None,
            EmbeddingModel::Sface => Some(SFACE_CHIP_BLUR),
        }
    }

    /// The metric a config for this model starts from.
    pub fn default_metric(self) -> Metric {
        self.metrics()[0]
    }

    /// The threshold a config for this model starts from, in
    /// [`default_metric`](Self::default_metric)'s units (documented with
    /// `verify.threshold` in config/vigil.toml).
    pub fn default_threshold(self) -> f32 {
        match self {
            EmbeddingModel::Dlib => DLIB_THRESHOLD,
            EmbeddingModel::Sface => SFACE_THRESHOLD,
        }
    }

    /// The enrolment diversity spacing a config for this model starts from
    /// (`verify.enroll_min_spacing`, in the default metric's units).
    pub fn default_enroll_spacing(self) -> f32 {
        match self {
            EmbeddingModel::Dlib => DLIB_ENROLL_SPACING,
            EmbeddingModel::Sface => SFACE_ENROLL_SPACING,
        }
    }

    /// The metric its descriptors were trained for: dlib's are compared by
    /// Euclidean distance, SFace's only make sense by angle.
    pub fn metrics(self) -> &'static [Metric] {
        match self {
            EmbeddingModel::Dlib => &[Metric::Euclidean, Metric::Cosine],
            EmbeddingModel::Sface => &[Metric::Cosine],
        }
    }
}

impl std::fmt::Display for EmbeddingModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EmbeddingModel::Dlib => "dlib",
            EmbeddingModel::Sface => "sface",
        })
    }
}

/// Computes descriptors. The real one is [`NetEmbedder`]; narrow unit tests of
/// the code around it may substitute another.
pub trait FaceEmbedder: Send {
    /// SHA-256 of the model file: a gallery made with another model is refused.
    fn model_sha256(&self) -> &str;
    /// The chip [`embed`](Self::embed) takes (dlib's layout unless said otherwise).
    fn layout(&self) -> ChipLayout {
        DLIB_LAYOUT
    }
    /// The descriptor of an aligned chip of [`layout`](Self::layout)'s side;
    /// another size is [`VerifyError::ChipSize`].
    fn embed(&mut self, chip: &RgbImage) -> Result<Embedding, VerifyError>;
}

/// Grey level a normalised chip is centred on ([`normalise_contrast`]).
pub const NORM_MEAN: f32 = 128.0;
/// Standard deviation a normalised chip is stretched to, grey levels.
pub const NORM_STD: f32 = 56.0;
/// Largest gain of the normalisation: a nearly flat chip is not blown up
/// into noise.
pub const NORM_MAX_GAIN: f32 = 6.0;

/// Photometric normalisation of a chip tensor (values 0..255, all planes):
/// shifts and scales it to mean [`NORM_MEAN`] and standard deviation
/// [`NORM_STD`] (gain at most [`NORM_MAX_GAIN`]), the same gain and shift for
/// every plane so colours keep their ratios. A dim or washed-out face then
/// reaches the network with the contrast of a well-lit one.
pub fn normalise_contrast(data: &mut [f32]) {
    if data.is_empty() {
        return;
    }
    let n = data.len() as f32;
    let mean = data.iter().sum::<f32>() / n;
    let var = data.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let gain = (NORM_STD / var.sqrt().max(1e-3)).min(NORM_MAX_GAIN);
    for v in data.iter_mut() {
        *v = ((*v - mean) * gain + NORM_MEAN).clamp(0.0, 255.0);
    }
}

/// The ONNX embedding network, one chip per run.
#[derive(Debug)]
pub struct NetEmbedder {
    plan: Plan,
    sha256: String,
    model: EmbeddingModel,
    normalise: bool,
    flip: bool,
}

impl NetEmbedder {
    /// Loads the embedding model `model` from `store` (checking its SHA-256)
    /// and plans it for one chip.
    pub fn new(store: &ModelStore, model: EmbeddingModel) -> Result<Self, ModelError> {
        let loaded = store.load_spec(model.spec())?;
        let side = model.layout().side as usize;
        Ok(Self {
            plan: loaded.plan(&[1, 3, side, side])?,
            sha256: loaded.sha256().to_string(),
            model,
            normalise: false,
            flip: false,
        })
    }

    /// With or without the mirrored chip's descriptor added to each (twice
    /// the cost).
    pub fn with_flip(mut self, on: bool) -> Self {
        self.flip = on;
        self
    }

    /// With or without [`normalise_contrast`] of every chip.
    pub fn with_normalisation(mut self, on: bool) -> Self {
        self.normalise = on;
        self
    }

    /// The network's raw output for one chip.
    fn descriptor(&mut self, chip: &RgbImage) -> Result<Vec<f32>, VerifyError> {
        let blurred;
        let chip = match self.model.chip_blur() {
            Some(sigma) => {
                blurred = image::imageops::blur(chip, sigma);
                &blurred
            }
            None => chip,
        };
        let mut input = chip_tensor(chip, self.model.layout().side)?;
        if self.normalise {
            normalise_contrast(&mut input);
        }
        let out = self.plan.run_f32(input)?;
        Ok(models::output_f32(&out, 0, self.plan.file())?.to_vec())
    }
}

/// The chip as a network's planar RGB input, values 0..255 (both graphs
/// normalise themselves; OpenCV feeds SFace RGB too: `swapRB` in its
/// `FaceRecognizerSF::feature`); a chip that is not `side` square is
/// [`VerifyError::ChipSize`].
pub fn chip_tensor(chip: &RgbImage, side: u32) -> Result<Vec<f32>, VerifyError> {
    if chip.dimensions() != (side, side) {
        return Err(VerifyError::ChipSize {
            width: chip.width(),
            height: chip.height(),
            side,
        });
    }
    let plane = (side * side) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, px) in chip.pixels().enumerate() {
        for c in 0..3 {
            data[c * plane + i] = px.0[c] as f32;
        }
    }
    Ok(data)
}

impl FaceEmbedder for NetEmbedder {
    fn model_sha256(&self) -> &str {
        &self.sha256
    }

    fn layout(&self) -> ChipLayout {
        self.model.layout()
    }

    fn embed(&mut self, chip: &RgbImage) -> Result<Embedding, VerifyError> {
        let mut values = self.descriptor(chip)?;
        if self.flip {
            let mirrored = self.descriptor(&image::imageops::flip_horizontal(chip))?;
            for (v, m) in values.iter_mut().zip(mirrored) {
                *v += m;
            }
        }
        Embedding::new(values).map_err(|message| {
            VerifyError::Model(ModelError::Run {
                file: self.plan.file().to_string(),
                message,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(first: f32, second: f32) -> Embedding {
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[0] = first;
        v[1] = second;
        Embedding::new(v).unwrap()
    }

    #[test]
    fn distances() {
        let a = e(3.0, 0.0);
        let b = e(0.0, 4.0);
        assert!((a.euclidean(&b) - 5.0).abs() < 1e-6);
        assert!((a.cosine_distance(&b) - 1.0).abs() < 1e-6);
        assert!(a.cosine_distance(&e(6.0, 0.0)).abs() < 1e-6);
        assert_eq!(a.cosine_distance(&e(0.0, 0.0)), 2.0);
    }

    #[test]
    fn rejects_bad_descriptors() {
        assert!(Embedding::new(vec![0.0; 3]).is_err());
        let mut v = vec![0.0; EMBEDDING_DIM];
        v[5] = f32::NAN;
        assert!(Embedding::new(v).is_err());
        let json = serde_json::to_string(&vec![1.0f32; 4]).unwrap();
        assert!(serde_json::from_str::<Embedding>(&json).is_err());
    }

    #[test]
    fn chip_must_have_the_layouts_side() {
        assert!(chip_tensor(&RgbImage::new(10, 10), 150).is_err());
        let chip = RgbImage::from_pixel(150, 150, image::Rgb([1, 2, 3]));
        let t = chip_tensor(&chip, 150).unwrap();
        assert_eq!(t.len(), 3 * 150 * 150);
        assert_eq!((t[0], t[150 * 150], t[2 * 150 * 150]), (1.0, 2.0, 3.0));
        assert!(chip_tensor(&chip, SFACE_SIDE).is_err());
        let small = RgbImage::from_pixel(112, 112, image::Rgb([1, 2, 3]));
        assert_eq!(
            chip_tensor(&small, SFACE_SIDE).unwrap().len(),
            3 * 112 * 112
        );
    }

    #[test]
    fn each_model_names_its_layout_and_metrics() {
        assert_eq!(EmbeddingModel::Dlib.layout(), DLIB_LAYOUT);
        assert_eq!(EmbeddingModel::Sface.layout().side, 112);
        assert_eq!(EmbeddingModel::Sface.metrics(), &[Metric::Cosine]);
        assert_eq!(EmbeddingModel::Sface.spec().file, "sface_recognition.onnx");
    }
}

//! The 128-d face descriptor and the network that computes it from an aligned
//! 150x150 RGB chip (`faceapi_face_recognition.onnx`, dlib's ResNet).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::models::{self, ModelError, ModelStore, Plan};

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

/// Computes descriptors. The real one is [`NetEmbedder`]; narrow unit tests of
/// the code around it may substitute another.
pub trait FaceEmbedder: Send {
    /// SHA-256 of the model file: a gallery made with another model is refused.
    fn model_sha256(&self) -> &str;
    /// The descriptor of an aligned [`CHIP_SIDE`] x [`CHIP_SIDE`] RGB chip;
    /// another size is [`VerifyError::ChipSize`].
    fn embed(&mut self, chip: &RgbImage) -> Result<Embedding, VerifyError>;
}

/// The ONNX embedding network, one chip per run.
#[derive(Debug)]
pub struct NetEmbedder {
    plan: Plan,
    sha256: String,
}

impl NetEmbedder {
    /// Loads the embedding model from `store` (checking its SHA-256) and
    /// plans it for one chip.
    pub fn new(store: &ModelStore) -> Result<Self, ModelError> {
        let model = store.load_spec(&super::spec::EMBEDDING)?;
        let side = CHIP_SIDE as usize;
        Ok(Self {
            plan: model.plan(&[1, 3, side, side])?,
            sha256: model.sha256().to_string(),
        })
    }
}

/// The chip as the network's planar RGB input, values 0..255 (the graph
/// subtracts the mean and divides by 255 itself).
pub fn chip_tensor(chip: &RgbImage) -> Result<Vec<f32>, VerifyError> {
    if chip.dimensions() != (CHIP_SIDE, CHIP_SIDE) {
        return Err(VerifyError::ChipSize {
            width: chip.width(),
            height: chip.height(),
        });
    }
    let plane = (CHIP_SIDE * CHIP_SIDE) as usize;
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

    fn embed(&mut self, chip: &RgbImage) -> Result<Embedding, VerifyError> {
        let input = chip_tensor(chip)?;
        let out = self.plan.run_f32(input)?;
        let values = models::output_f32(&out, 0, self.plan.file())?.to_vec();
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
    fn chip_must_be_150() {
        assert!(chip_tensor(&RgbImage::new(10, 10)).is_err());
        let t = chip_tensor(&RgbImage::from_pixel(150, 150, image::Rgb([1, 2, 3]))).unwrap();
        assert_eq!(t.len(), 3 * 150 * 150);
        assert_eq!((t[0], t[150 * 150], t[2 * 150 * 150]), (1.0, 2.0, 3.0));
    }
}

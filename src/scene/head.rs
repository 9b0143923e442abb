//! The owner / others / objects head: softmax regression on standardised
//! backbone features, and its file (saved beside the gallery).
//!
//! File layout (little-endian), version 1:
//! ```text
//! "VGSCHEAD"  magic
//! u32         format version (1)
//! u32, u32    feature dimension (1280), class count (3)
//! str         backbone file name      (str = u32 length + UTF-8)
//! [u8; 32]    backbone SHA-256: a head is refused with any other backbone
//! u8, f32, u8 crop mode code, face margin and grey flag of the training features
//! u32 * 3     training samples per class (owner, others, objects)
//! f32 * dim   feature mean;  f32 * dim   1 / standard deviation
//! f32 * 3 * dim  weights (class-major);  f32 * 3  biases
//! [u8; 32]    SHA-256 of everything above
//! ```

use std::path::Path;

use super::backbone::{BackboneId, FEATURE_DIM};
use super::crop::CropSpec;
use super::features::{Features, Sample, SceneClass};
use super::file::{self, Reader, Writer};
use super::train::dot32;
use super::SceneError;
use crate::scene::{SceneVerdict, Scored};

const MAGIC: &[u8; 8] = b"VGSCHEAD";
/// Format version of the head file this build writes and reads.
pub const HEAD_VERSION: u32 = 1;
/// File name of the head in the state directory (beside the gallery).
pub const HEAD_FILE: &str = "scene_head.bin";

/// Per-feature standardisation learnt from the training set, stored in the head.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    /// Per-feature mean of the training set, [`FEATURE_DIM`] values.
    pub mean: Vec<f32>,
    /// Per-feature 1 / standard deviation of the training set, [`FEATURE_DIM`] values.
    pub inv_std: Vec<f32>,
}

impl Normalisation {
    /// The standardised features: `(v - mean) * inv_std`, feature by feature.
    pub fn apply(&self, v: &[f32]) -> Vec<f32> {
        v.iter()
            .zip(&self.mean)
            .zip(&self.inv_std)
            .map(|((x, m), s)| (x - m) * s)
            .collect()
    }
}

/// Class probabilities in [`SceneClass`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores(pub [f32; SceneClass::COUNT]);

impl ClassScores {
    /// Probability (0–1) of `class`.
    pub fn get(&self, class: SceneClass) -> f32 {
        self.0[class.index()]
    }

    /// The most probable class and its probability.
    pub fn best(&self) -> (SceneClass, f32) {
        let mut best = (SceneClass::Owner, self.0[0]);
        for c in SceneClass::ALL {
            if self.0[c.index()] > best.1 {
                best = (c, self.0[c.index()]);
            }
        }
        best
    }

    /// All classes, most probable first.
    pub fn to_verdict(&self) -> SceneVerdict {
        let mut top: Vec<Scored> = SceneClass::ALL
            .iter()
            .map(|c| Scored {
                label: c.label().to_string(),
                score: self.get(*c),
            })
            .collect();
        top.sort_by(|a, b| b.score.total_cmp(&a.score));
        SceneVerdict { top }
    }
}

/// The trainable part: normalisation, weights and biases.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSoftmax {
    /// Standardisation applied to the features first.
    pub norm: Normalisation,
    /// Class-major: `weights[c * FEATURE_DIM + j]`.
    pub weights: Vec<f32>,
    /// One bias per class, in [`SceneClass`] order.
    pub bias: [f32; SceneClass::COUNT],
}

impl LinearSoftmax {
    /// Class probabilities of `features` (softmax of the standardised linear scores).
    pub fn scores(&self, features: &Features) -> ClassScores {
        let x = self.norm.apply(features.as_slice());
        let mut z = [0f32; SceneClass::COUNT];
        for (c, zc) in z.iter_mut().enumerate() {
            *zc = dot32(&self.weights[c * FEATURE_DIM..(c + 1) * FEATURE_DIM], &x) + self.bias[c];
        }
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut p = z.map(|v| (v - max).exp());
        let sum: f32 = p.iter().sum();
        p.iter_mut().for_each(|v| *v /= sum);
        ClassScores(p)
    }
}

/// How many samples of each class a head was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TrainingCounts(pub [u32; SceneClass::COUNT]);

impl TrainingCounts {
    /// Counts the classes of `samples`.
    pub fn of(samples: &[&Sample]) -> Self {
        let mut c = [0u32; SceneClass::COUNT];
        for s in samples {
            c[s.class.index()] += 1;
        }
        Self(c)
    }

    /// Training samples of `class`.
    pub fn get(&self, class: SceneClass) -> u32 {
        self.0[class.index()]
    }
}

/// A trained head, bound to the backbone and crop of its training features.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// The backbone of the training features; the head is refused with any other.
    pub backbone: BackboneId,
    /// The crop rule of the training features; classification uses it too.
    pub crop: CropSpec,
    /// Standardisation, weights and biases.
    pub model: LinearSoftmax,
    /// Training samples per class (for reports).
    pub counts: TrainingCounts,
}

impl Head {
    /// Class probabilities of `features`.
    pub fn scores(&self, features: &Features) -> ClassScores {
        self.model.scores(features)
    }

    /// The head in the head file format (see the module docs), checksum included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC);
        w.u32(HEAD_VERSION);
        w.u32(FEATURE_DIM as u32);
        w.u32(SceneClass::COUNT as u32);
        self.backbone.write(&mut w);
        self.crop.write(&mut w);
        for n in self.counts.0 {
            w.u32(n);
        }
        w.f32s(&self.model.norm.mean);
        w.f32s(&self.model.norm.inv_std);
        w.f32s(&self.model.weights);
        w.f32s(&self.model.bias);
        w.finish()
    }

    /// Atomic, private (0600), checksummed write (see [`file::write_atomic`]).
    pub fn save(&self, path: &Path) -> Result<(), SceneError> {
        file::write_atomic(path, &self.to_bytes())
    }

    /// Loads a head and refuses it unless it was trained on features of `backbone`.
    pub fn load(path: &Path, backbone: &BackboneId) -> Result<Self, SceneError> {
        let head = Self::from_bytes(path, &file::read(path)?)?;
        head.backbone.check(backbone, path)?;
        Ok(head)
    }

    /// Parses and validates a head file (`path` only names it in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, SceneError> {
        let mut r = Reader::open(path, bytes, MAGIC)?;
        let version = r.u32()?;
        if version != HEAD_VERSION {
            return Err(r.error(format!(
                "format version {version}, this build reads {HEAD_VERSION}"
            )));
        }
        let (dim, classes) = (r.u32()? as usize, r.u32()? as usize);
        if dim != FEATURE_DIM || classes != SceneClass::COUNT {
            return Err(r.error(format!(
                "{classes} classes of {dim} features, expected {} of {FEATURE_DIM}",
                SceneClass::COUNT
            )));
        }
        let backbone = BackboneId::read(&mut r)?;
        let crop = CropSpec::read(&mut r)?;
        let mut counts = [0u32; SceneClass::COUNT];
        for c in counts.iter_mut() {
            *c = r.u32()?;
        }
        let mean = r.f32s(dim)?;
        let inv_std = r.f32s(dim)?;
        let weights = r.f32s(classes * dim)?;
        let b = r.f32s(classes)?;
        r.finish()?;
        let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
        if !(finite(&mean)
            && finite(&inv_std)
            && finite(&weights)
            && finite(&b)
            && crop.margin.is_finite())
        {
            return Err(r.error("the head holds a value that is not a finite number"));
        }
        Ok(Self {
            backbone,
            crop,
            model: LinearSoftmax {
                norm: Normalisation { mean, inv_std },
                weights,
                bias: [b[0], b[1], b[2]],
            },
            counts: TrainingCounts(counts),
        })
    }
}

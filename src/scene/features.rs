//! Backbone feature vectors, the three scene classes, and the bundled
//! negatives file (`models/scene_negatives*.bin`): precomputed features of
//! other people and of scenes without people, trained against at enrollment.
//!
//! File layout (little-endian), version 1:
//! ```text
//! "VGSCNEG1"  magic
//! u32         format version (1)
//! u32         feature dimension (1280)
//! str         backbone file name      (str = u32 length + UTF-8)
//! [u8; 32]    backbone SHA-256: features of another backbone are refused
//! u8, f32, u8 crop mode code, face margin and grey flag the features were made with
//! u32         number of sources; per source: u8 class, str name, u32 count
//! f16 * dim * total count     the vectors, source after source
//! [u8; 32]    SHA-256 of everything above
//! ```

use std::path::Path;

use super::backbone::{BackboneId, FEATURE_DIM};
use super::crop::CropSpec;
use super::file::{self, Reader, Writer};
use super::SceneError;

const MAGIC: &[u8; 8] = b"VGSCNEG1";
/// Format version of the negatives file this build writes and reads.
pub const NEGATIVES_VERSION: u32 = 1;

/// The classes of the scene head, in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SceneClass {
    /// The enrolled owner is in view.
    Owner,
    /// People, but not the owner.
    Others,
    /// No person: a scene of objects only.
    Objects,
}

impl SceneClass {
    /// Every class in head output order.
    pub const ALL: [SceneClass; 3] = [SceneClass::Owner, SceneClass::Others, SceneClass::Objects];
    /// Number of classes (3).
    pub const COUNT: usize = 3;

    /// Position in [`SceneClass::ALL`] (the head's output index).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class at head output `i`; `None` past the last.
    pub fn from_index(i: usize) -> Option<Self> {
        Self::ALL.get(i).copied()
    }

    /// The label shown in events and the overlay (also the folder name of a data set).
    pub fn label(self) -> &'static str {
        match self {
            SceneClass::Owner => "owner",
            SceneClass::Others => "others",
            SceneClass::Objects => "objects",
        }
    }
}

impl std::fmt::Display for SceneClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One backbone feature vector: 1280 finite values.
#[derive(Debug, Clone, PartialEq)]
pub struct Features(Vec<f32>);

impl Features {
    /// Checks `values`: [`FEATURE_DIM`] values, all finite, else [`SceneError::Features`].
    pub fn new(values: Vec<f32>) -> Result<Self, SceneError> {
        if values.len() != FEATURE_DIM {
            return Err(SceneError::Features(format!(
                "a feature vector has {} values, expected {FEATURE_DIM}",
                values.len()
            )));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(SceneError::Features(format!(
                "feature {i} is {} (not a finite number)",
                values[i]
            )));
        }
        Ok(Self(values))
    }

    /// The 1280 values.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }
}

/// A feature vector with its class.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The class the sample belongs to.
    pub class: SceneClass,
    /// The sample's backbone features.
    pub features: Features,
}

/// Where a group of bundled vectors came from.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeSource {
    /// Class of every vector of the source (never `Owner`).
    pub class: SceneClass,
    /// e.g. "att", "fer_happy", "natural_car".
    pub name: String,
    /// Number of vectors from this source.
    pub count: usize,
}

/// The bundled negatives: other people and objects, as features.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeSet {
    /// The backbone the features were computed with; the set is refused with any other.
    pub backbone: BackboneId,
    /// The crop rule the features were computed with.
    pub crop: CropSpec,
    /// The sources, in file order.
    pub sources: Vec<NegativeSource>,
    /// Source after source, in the order of `sources`.
    pub samples: Vec<Sample>,
}

impl NegativeSet {
    /// Builds a set from samples named by source; samples of one source are
    /// grouped (first-seen order of sources is kept).
    pub fn from_named(
        backbone: BackboneId,
        crop: CropSpec,
        named: Vec<(String, Sample)>,
    ) -> Result<Self, SceneError> {
        let mut sources: Vec<NegativeSource> = Vec::new();
        let mut groups: Vec<Vec<Sample>> = Vec::new();
        for (name, s) in named {
            if s.class == SceneClass::Owner {
                return Err(SceneError::Features(format!(
                    "negative source {name} is labelled owner"
                )));
            }
            match sources.iter().position(|x| x.name == name) {
                Some(i) if sources[i].class == s.class => {
                    sources[i].count += 1;
                    groups[i].push(s);
                }
                Some(_) => {
                    return Err(SceneError::Features(format!(
                        "negative source {name} has samples of two classes"
                    )))
                }
                None => {
                    sources.push(NegativeSource {
                        class: s.class,
                        name,
                        count: 1,
                    });
                    groups.push(vec![s]);
                }
            }
        }
        let set = Self {
            backbone,
            crop,
            sources,
            samples: groups.into_iter().flatten().collect(),
        };
        set.validate_classes(Path::new("<in memory>"))?;
        Ok(set)
    }

    /// Number of samples of `class`.
    pub fn count(&self, class: SceneClass) -> usize {
        self.samples.iter().filter(|s| s.class == class).count()
    }

    fn validate_classes(&self, path: &Path) -> Result<(), SceneError> {
        for class in [SceneClass::Others, SceneClass::Objects] {
            if self.count(class) == 0 {
                return Err(SceneError::File {
                    path: path.to_path_buf(),
                    message: format!("no negatives of class {class}"),
                });
            }
        }
        Ok(())
    }

    /// The set in the negatives file format (see the module docs), checksum included.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new(MAGIC);
        w.u32(NEGATIVES_VERSION);
        w.u32(FEATURE_DIM as u32);
        self.backbone.write(&mut w);
        self.crop.write(&mut w);
        w.u32(self.sources.len() as u32);
        for s in &self.sources {
            w.u8(s.class.index() as u8);
            w.str(&s.name);
            w.u32(s.count as u32);
        }
        for s in &self.samples {
            w.f16s(s.features.as_slice());
        }
        w.finish()
    }

    /// Writes the set to `path` atomically (temporary file, mode 0600, rename).
    pub fn save(&self, path: &Path) -> Result<(), SceneError> {
        file::write_atomic(path, &self.to_bytes())
    }

    /// Reads and validates a negatives file.
    pub fn load(path: &Path) -> Result<Self, SceneError> {
        Self::from_bytes(path, &file::read(path)?)
    }

    /// Parses and validates a negatives file (`path` only names it in errors).
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self, SceneError> {
        let mut r = Reader::open(path, bytes, MAGIC)?;
        let version = r.u32()?;
        if version != NEGATIVES_VERSION {
            return Err(r.error(format!(
                "format version {version}, this build reads {NEGATIVES_VERSION}"
            )));
        }
        let dim = r.u32()? as usize;
        if dim != FEATURE_DIM {
            return Err(r.error(format!("feature dimension {dim}, expected {FEATURE_DIM}")));
        }
        let backbone = BackboneId::read(&mut r)?;
        let crop = CropSpec::read(&mut r)?;
        let n_sources = r.u32()? as usize;
        let mut sources = Vec::new();
        for _ in 0..n_sources {
            let code = r.u8()? as usize;
            let class = SceneClass::from_index(code)
                .filter(|c| *c != SceneClass::Owner)
                .ok_or_else(|| r.error(format!("bad class code {code}")))?;
            let name = r.str()?;
            let count = r.u32()? as usize;
            sources.push(NegativeSource { class, name, count });
        }
        let mut samples = Vec::new();
        for s in &sources {
            for i in 0..s.count {
                let values = r.f16s(FEATURE_DIM)?;
                let features = Features::new(values)
                    .map_err(|e| r.error(format!("source {} vector {i}: {e}", s.name)))?;
                samples.push(Sample {
                    class: s.class,
                    features,
                });
            }
        }
        r.finish()?;
        let set = Self {
            backbone,
            crop,
            sources,
            samples,
        };
        set.validate_classes(path)?;
        Ok(set)
    }
}

//! Scene stage: does the camera see the owner, other people, or just objects?
//!
//! MobileNetV2 (frozen, ImageNet weights) turns the frame, or the region
//! around its largest face ([`crop`]), into 1280 features; a small head
//! ([`head`]) trained on the device at enrollment ([`train`], [`enroll`])
//! from the owner's frames and bundled negative features ([`features`])
//! classifies them. Before enrollment (no head file) the stage reports the
//! backbone's ImageNet top-k instead.

pub mod backbone;
pub mod crop;
pub mod enroll;
pub mod features;
mod file;
pub mod head;
pub mod imagenet;
pub mod lbfgs;
pub mod specs;
pub mod train;
mod verdict;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::core::check::ConfigError;
use crate::core::face::Detection;
use crate::core::imageops::ImageOpError;
use crate::models::{ModelError, ModelStore};
use crate::pipeline::Analysis;

pub use backbone::{Backbone, BackboneId, BackboneOutput, BackboneVariant};
pub use crop::{CropMode, CropSpec};
pub use features::{Features, NegativeSet, Sample, SceneClass};
pub use head::{ClassScores, Head, HEAD_FILE};
pub use imagenet::ImageNetLabels;
pub use train::{train_head, TrainParams};
pub use verdict::{SceneVerdict, Scored};

#[derive(Debug, Error)]
pub enum SceneError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Image(#[from] ImageOpError),
    #[error("ImageNet labels: {0}")]
    Labels(String),
    #[error("scene features: {0}")]
    Features(String),
    #[error("scene file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("scene file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} was made with the scene backbone {made_with}, but this run uses {current}: \
         enroll again (or set scene.backbone to the one it was made with)"
    )]
    BackboneMismatch {
        path: PathBuf,
        made_with: String,
        current: String,
    },
    #[error("{what} were computed with crop {made_with}, but the config asks for {wanted}")]
    CropMismatch {
        what: String,
        made_with: String,
        wanted: String,
    },
    #[error(
        "enrollment gave {got} usable owner frames for the scene head, at least {need} are \
         needed (scene.min_owner_frames): enroll longer, facing the camera"
    )]
    TooFewOwnerFrames { got: usize, need: usize },
    #[error("scene head training: {0}")]
    Training(String),
    #[error("scene region: {0}")]
    Region(String),
    #[error("scene data set: {0}")]
    DataSet(String),
}

/// `[scene]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SceneConfig {
    pub enabled: bool,
    pub every_n_frames: u64,
    pub top_k: usize,
    pub backbone: BackboneVariant,
    pub crop: CropMode,
    pub face_margin: f32,
    pub grey: bool,
    pub head_file: Option<PathBuf>,
    pub enroll_frames: usize,
    pub min_owner_frames: usize,
    pub head_l2: f32,
    pub head_max_iterations: usize,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every_n_frames: 5,
            top_k: 5,
            backbone: BackboneVariant::Fp32,
            crop: CropMode::LargestFace,
            face_margin: 0.5,
            grey: true,
            head_file: None,
            enroll_frames: 40,
            min_owner_frames: 20,
            head_l2: 1e-3,
            head_max_iterations: 300,
        }
    }
}

impl std::str::FromStr for BackboneVariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fp32" => Ok(BackboneVariant::Fp32),
            "int8" => Ok(BackboneVariant::Int8),
            _ => Err(format!("unknown backbone `{s}` (fp32 or int8)")),
        }
    }
}

impl std::str::FromStr for CropMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "whole_frame" => Ok(CropMode::WholeFrame),
            "largest_face" => Ok(CropMode::LargestFace),
            _ => Err(format!("unknown crop `{s}` (whole_frame or largest_face)")),
        }
    }
}

/// Largest accepted `scene.face_margin`.
pub const MAX_FACE_MARGIN: f64 = 3.0;

impl SceneConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::core::check::positive("scene.every_n_frames", self.every_n_frames as f64)?;
        crate::core::check::positive("scene.top_k", self.top_k as f64)?;
        crate::core::check::in_range(
            "scene.face_margin",
            self.face_margin as f64,
            0.0,
            MAX_FACE_MARGIN,
        )?;
        crate::core::check::positive("scene.min_owner_frames", self.min_owner_frames as f64)?;
        if self.enroll_frames < self.min_owner_frames {
            return Err(ConfigError::Invalid {
                key: "scene.enroll_frames".into(),
                message: format!(
                    "must be at least scene.min_owner_frames ({}), got {}",
                    self.min_owner_frames, self.enroll_frames
                ),
            });
        }
        crate::core::check::in_range("scene.head_l2", self.head_l2 as f64, 0.0, 1e3)?;
        crate::core::check::positive("scene.head_max_iterations", self.head_max_iterations as f64)
    }

    pub fn crop_spec(&self) -> CropSpec {
        CropSpec {
            mode: self.crop,
            margin: match self.crop {
                CropMode::WholeFrame => 0.0,
                CropMode::LargestFace => self.face_margin,
            },
            grey: self.grey,
        }
    }

    pub fn train_params(&self) -> TrainParams {
        TrainParams {
            l2: self.head_l2,
            max_iterations: self.head_max_iterations,
            min_owner_frames: self.min_owner_frames,
        }
    }

    /// Where the head is: `scene.head_file`, else [`HEAD_FILE`] in the state
    /// directory (beside the gallery), if there is one.
    pub fn head_path(&self, state_dir: Option<&Path>) -> Option<PathBuf> {
        if let Some(file) = &self.head_file {
            Some(file.clone())
        } else {
            state_dir.map(|d| d.join(HEAD_FILE))
        }
    }
}

/// Loads the bundled negatives of `backbone` from the models folder
/// (checksummed by the manifest) and checks they match it.
pub fn load_negatives(store: &ModelStore, backbone: &Backbone) -> Result<NegativeSet, SceneError> {
    let file = backbone.variant().negatives_file();
    let bytes = store.read_verified(file)?.bytes;
    let path = store.path_of(file);
    let set = NegativeSet::from_bytes(&path, &bytes)?;
    set.backbone.check(backbone.id(), &path)?;
    Ok(set)
}

/// The backbone's reading of one frame: the trained head's three classes
/// when there is a head, else the ImageNet top-k of the whole frame.
pub struct SceneClassifier {
    backbone: Backbone,
    labels: ImageNetLabels,
    head: Option<Head>,
    top_k: usize,
}

impl SceneClassifier {
    /// Loads the backbone of `config` and, if `head_path` names an existing
    /// file, the head (refused if trained with another backbone).
    pub fn new(
        store: &ModelStore,
        config: &SceneConfig,
        head_path: Option<&Path>,
    ) -> Result<Self, SceneError> {
        let backbone = Backbone::with_variant(store, config.backbone)?;
        let head = match head_path {
            Some(p) if p.exists() => {
                let head = Head::load(p, backbone.id())?;
                log::info!(
                    "scene: head {} ({} on {}, crop {})",
                    p.display(),
                    head.backbone.file,
                    config.backbone,
                    head.crop.mode
                );
                Some(head)
            }
            Some(p) => {
                log::info!(
                    "scene: no head at {} (not enrolled yet): reporting ImageNet classes",
                    p.display()
                );
                None
            }
            None => None,
        };
        Ok(Self {
            backbone,
            labels: ImageNetLabels::load(store)?,
            head,
            top_k: config.top_k,
        })
    }

    /// Replaces the head (e.g. right after enrollment).
    pub fn with_head(mut self, head: Head) -> Result<Self, SceneError> {
        head.backbone
            .check(self.backbone.id(), Path::new("the scene head"))?;
        self.head = Some(head);
        Ok(self)
    }

    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    pub fn backbone(&self) -> &Backbone {
        &self.backbone
    }

    /// Whether classifying needs the frame's faces.
    pub fn needs_faces(&self) -> bool {
        self.head.as_ref().is_some_and(|h| h.crop.needs_faces())
    }

    /// The verdict for one image and the faces found in it.
    pub fn classify(
        &mut self,
        image: &image::RgbImage,
        faces: &[Detection],
    ) -> Result<SceneVerdict, SceneError> {
        match &self.head {
            Some(head) => {
                let (features, _) = head.crop.features(&mut self.backbone, image, faces)?;
                Ok(head.scores(&features).to_verdict())
            }
            None => {
                let out = self.backbone.process(image)?;
                Ok(SceneVerdict {
                    top: self.labels.top_k(&out.logits, self.top_k),
                })
            }
        }
    }
}

/// The pipeline consumer: classifies every n-th frame.
pub struct SceneStage {
    classifier: SceneClassifier,
    every_n_frames: u64,
    last_seq: Option<u64>,
}

impl SceneStage {
    pub fn new(classifier: SceneClassifier, config: &SceneConfig) -> Self {
        Self {
            classifier,
            every_n_frames: config.every_n_frames,
            last_seq: None,
        }
    }
}

impl SceneStage {
    /// The stage's name in statistics and errors.
    pub const NAME: &'static str = "scene";

    /// Scheduling: true on every `scene.every_n_frames`-th source frame.
    pub fn wants(&mut self, analysis: &Analysis) -> bool {
        // Count in source frames, not frames received: with a live source some
        // never reach this stage.
        let seq = analysis.frame.seq;
        match self.last_seq {
            Some(last) if seq < last + self.every_n_frames => false,
            _ => {
                self.last_seq = Some(seq);
                true
            }
        }
    }

    /// Classifies one frame (or the region around its largest face).
    pub fn process(&mut self, analysis: &Analysis) -> Result<SceneVerdict, SceneError> {
        let faces: Vec<Detection> = analysis.faces.iter().map(|f| f.detection).collect();
        self.classifier.classify(&analysis.frame.image, &faces)
    }
}

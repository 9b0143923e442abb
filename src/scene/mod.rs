//! Scene stage: does the camera see the owner, other people, or just objects?
//!
//! MobileNetV2 (frozen, ImageNet weights) turns the frame, or the region
//! around its largest face ([`crop`]), into 1280 features; a small head
//! ([`head`]) trained on the device at enrollment ([`train`], [`enroll`])
//! from the owner's frames and bundled negative features ([`features`])
//! classifies them. Before enrollment (no head file) the stage reports the
//! backbone's ImageNet top-k instead.
//!
//! Layer 3, a stage: may use core, models and pipeline; never another stage or the app.

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

/// Why the scene stage, its enrollment or its evaluation failed.
#[derive(Debug, Error)]
pub enum SceneError {
    /// Loading, planning or running the backbone, or reading a checksummed asset, failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Resizing the image to the backbone's input failed.
    #[error(transparent)]
    Image(#[from] ImageOpError),
    /// The bundled ImageNet labels file is malformed (wrong line count).
    #[error("ImageNet labels: {0}")]
    Labels(String),
    /// A feature vector or negative set is inconsistent (wrong length, not
    /// finite, a source labelled owner or with two classes).
    #[error("scene features: {0}")]
    Features(String),
    /// A head or features file is malformed or lacks something it needs.
    #[error("scene file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Reading or writing a scene file failed.
    #[error("scene file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A head or features file was made with another backbone than this run's:
    /// enroll again or switch `scene.backbone` back.
    #[error(
        "{path} was made with the scene backbone {made_with}, but this run uses {current}: \
         enroll again (or set scene.backbone to the one it was made with)"
    )]
    BackboneMismatch {
        /// The file (or a description such as "the scene head").
        path: PathBuf,
        /// The backbone it was made with: file and short SHA-256.
        made_with: String,
        /// The backbone this run uses, in the same form.
        current: String,
    },
    /// Features computed with one crop rule were to be combined with another.
    #[error("{what} were computed with crop {made_with}, but the config asks for {wanted}")]
    CropMismatch {
        /// Which features (e.g. the bundled negatives).
        what: String,
        /// The crop rule they were computed with (mode and margin).
        made_with: String,
        /// The crop rule asked for.
        wanted: String,
    },
    /// Enrollment kept too few owner frames with a face to train the head.
    #[error(
        "enrollment gave {got} usable owner frames for the scene head, at least {need} are \
         needed (scene.min_owner_frames): enroll longer, facing the camera"
    )]
    TooFewOwnerFrames {
        /// Owner frames with a face kept.
        got: usize,
        /// `scene.min_owner_frames`.
        need: usize,
    },
    /// Training the head failed: a class without samples, a negative L2
    /// penalty, or a diverging fit.
    #[error("scene head training: {0}")]
    Training(String),
    /// The region to classify lies outside the image.
    #[error("scene region: {0}")]
    Region(String),
    /// An evaluation data set folder is missing or malformed.
    #[error("scene data set: {0}")]
    DataSet(String),
}

/// `[scene]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SceneConfig {
    /// Run the scene stage.
    pub enabled: bool,
    /// Classify one frame in this many, counted in source frames.
    pub every_n_frames: u64,
    /// ImageNet classes reported when there is no head (before enrollment).
    pub top_k: usize,
    /// MobileNetV2 variant; a head is tied to the backbone it was trained with.
    pub backbone: BackboneVariant,
    /// What the classifier looks at: the centre square of the frame or the
    /// square around the largest face. A head keeps the rule it was trained with.
    pub crop: CropMode,
    /// With `largest_face`: fraction of the face box's side added on every side (0 to 3).
    pub face_margin: f32,
    /// Look at the region in grey (luma in all three channels) instead of colour.
    pub grey: bool,
    /// The head file; `None` = [`HEAD_FILE`] in the state directory, beside the gallery.
    pub head_file: Option<PathBuf>,
    /// Owner frames with a face that enrollment collects for the head.
    pub enroll_frames: usize,
    /// Enrollment fails with fewer owner frames (with a face) than this.
    pub min_owner_frames: usize,
    /// L2 penalty on the head's weights (standardised features; 0 to 1000).
    pub head_l2: f32,
    /// Cap on the L-BFGS iterations of head training.
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
    /// Checks the ranges (`face_margin` 0–[`MAX_FACE_MARGIN`], `enroll_frames` at least `min_owner_frames`, ...); the error names the first bad key.
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

    /// The crop rule of this config (margin 0 for `whole_frame`).
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

    /// The head-training parameters of this config.
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

    /// The trained head, if one is loaded.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// The backbone that computes the features.
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
    head_watch: Option<crate::core::filewatch::FileWatch>,
}

impl SceneStage {
    /// A stage classifying with `classifier` every `scene.every_n_frames` source frames.
    pub fn new(classifier: SceneClassifier, config: &SceneConfig) -> Self {
        Self {
            classifier,
            every_n_frames: config.every_n_frames,
            last_seq: None,
            head_watch: None,
        }
    }

    /// Loads the head again when the file at `path` changes (an enrolment
    /// through the running instance trains a new one).
    pub fn with_head_watch(mut self, path: &Path) -> Self {
        let mut watch = crate::core::filewatch::FileWatch::new(path);
        watch.mark_loaded();
        self.head_watch = Some(watch);
        self
    }

    /// Takes a changed head file: a new head replaces the old one; a file
    /// that cannot be used keeps the old head (reported); no file, no head.
    fn reload_head(&mut self) {
        let Some(watch) = self.head_watch.as_mut() else {
            return;
        };
        if !watch.changed() {
            return;
        }
        watch.mark_loaded();
        let path = watch.path().to_path_buf();
        if !path.exists() {
            log::info!(
                "scene: head {} removed: reporting ImageNet classes",
                path.display()
            );
            self.classifier.head = None;
            return;
        }
        match Head::load(&path, self.classifier.backbone.id()) {
            Ok(head) => {
                log::info!("scene: head {} reloaded", path.display());
                self.classifier.head = Some(head);
            }
            Err(e) => log::error!("scene: new head not used, keeping the old one: {e}"),
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
        self.reload_head();
        let faces: Vec<Detection> = analysis.faces.iter().map(|f| f.detection).collect();
        self.classifier.classify(&analysis.frame.image, &faces)
    }
}

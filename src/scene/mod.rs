//! Scene stage: MobileNetV2 on the whole frame.
//!
//! Today it reports the ImageNet top-k of each sampled frame, so the pipeline
//! runs real inference end to end; the owner / others / objects head trained
//! at enrollment builds on the same backbone.

pub mod backbone;
pub mod imagenet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::ConfigError;
use crate::imageops::ImageOpError;
use crate::models::{ModelError, ModelStore};
use crate::pipeline::Consumer;
use crate::update::{Analysis, SceneVerdict, Update};

pub use backbone::{Backbone, BackboneOutput};
pub use imagenet::ImageNetLabels;

#[derive(Debug, Error)]
pub enum SceneError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Image(#[from] ImageOpError),
    #[error("ImageNet labels: {0}")]
    Labels(String),
}

/// `[scene]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SceneConfig {
    pub enabled: bool,
    pub every_n_frames: u64,
    pub top_k: usize,
}

impl Default for SceneConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            every_n_frames: 5,
            top_k: 5,
        }
    }
}

impl SceneConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::config::positive("scene.every_n_frames", self.every_n_frames as f64)?;
        crate::config::positive("scene.top_k", self.top_k as f64)
    }
}

/// Classifies every n-th frame with MobileNetV2's ImageNet head.
pub struct ImageNetScene {
    backbone: Backbone,
    labels: ImageNetLabels,
    config: SceneConfig,
    last_seq: Option<u64>,
}

impl ImageNetScene {
    pub fn new(store: &ModelStore, config: &SceneConfig) -> Result<Self, SceneError> {
        Ok(Self {
            backbone: Backbone::new(store)?,
            labels: ImageNetLabels::load(store)?,
            config: config.clone(),
            last_seq: None,
        })
    }

    /// The verdict for one image.
    pub fn classify(&mut self, image: &image::RgbImage) -> Result<SceneVerdict, SceneError> {
        let out = self.backbone.process(image)?;
        Ok(SceneVerdict {
            top: self.labels.top_k(&out.logits, self.config.top_k),
        })
    }
}

impl Consumer for ImageNetScene {
    fn name(&self) -> &'static str {
        "scene"
    }

    fn wants(&mut self, analysis: &Analysis) -> bool {
        // Count in source frames, not frames received: with a live source some
        // never reach this stage.
        let seq = analysis.frame.seq;
        match self.last_seq {
            Some(last) if seq < last + self.config.every_n_frames => false,
            _ => {
                self.last_seq = Some(seq);
                true
            }
        }
    }

    fn process(&mut self, analysis: &Analysis) -> crate::Result<Vec<Update>> {
        let verdict = self
            .classify(&analysis.frame.image)
            .map_err(crate::Error::from)?;
        Ok(vec![Update::Scene(analysis.stamp(), verdict)])
    }
}

//! Assembles a run from the configuration: which stages, which models.

use std::path::PathBuf;

use crate::capture::{self, SourceSpec};
use crate::config::{Config, ReplayPolicy};
use crate::detect::{Detector, FaceFront};
use crate::emotion::EmotionStage;
use crate::error::Result;
use crate::frame::Frame;
use crate::models::{self, ModelStore};
use crate::pipeline::edge::EdgePolicy;
use crate::pipeline::{Consumer, FrontStage, Pipeline, PipelineOptions};
use crate::scene::{SceneClassifier, SceneStage};
use crate::track::Tracker;
use crate::update::Analysis;

/// Front stage used when face detection is off: frames pass with no faces.
#[derive(Debug, Default)]
pub struct FrameOnly;

impl FrontStage for FrameOnly {
    fn name(&self) -> &'static str {
        "frame"
    }

    fn process(&mut self, frame: Frame) -> Result<Analysis> {
        Ok(Analysis {
            frame,
            faces: Vec::new(),
            ended: Vec::new(),
        })
    }
}

/// The models directory for this configuration.
pub fn models_dir(config: &Config) -> Result<PathBuf> {
    Ok(models::resolve_dir(config.models.dir())?)
}

/// Builds the stages of `vigil run` for `spec`. Models are loaded and checked
/// here, before any thread starts, so a bad model fails the run at once.
pub fn build_pipeline(config: &Config, spec: &SourceSpec) -> Result<(Pipeline, PipelineOptions)> {
    let dir = models_dir(config)?;
    let store = ModelStore::new(&dir);
    let front: Box<dyn FrontStage> = if config.detect.enabled {
        let detector = Detector::new(&store, &config.detect)?;
        Box::new(FaceFront::new(detector, Tracker::new(&config.track)))
    } else {
        Box::new(FrameOnly)
    };
    let mut consumers: Vec<Box<dyn Consumer>> = Vec::new();
    if config.verify.enabled {
        consumers.push(Box::new(crate::verify::stage::VerifyStage::from_config(
            &store, config,
        )?));
    }
    if config.emotion.enabled {
        consumers.push(Box::new(EmotionStage::new(
            &store,
            &config.emotion,
            &config.monitor,
        )?));
    }
    if config.scene.enabled {
        // The head is beside the gallery (or scene.head_file). No state
        // directory at all only means no head: ImageNet classes are reported.
        let state = config.verify.paths(&config.unlock).map(|p| p.dir);
        if let Err(e) = &state {
            log::warn!("scene: {e}: no head can be found");
        }
        let head = config.scene.head_path(state.ok().as_deref());
        let classifier = SceneClassifier::new(&store, &config.scene, head.as_deref())?;
        if classifier.needs_faces() {
            log::warn!("scene: the head looks at faces but face detection is off: whole frames are classified");
        }
        consumers.push(Box::new(SceneStage::new(classifier, &config.scene)));
    }
    let live = !spec.is_replay() || config.capture.realtime;
    let frame_policy = if live || config.pipeline.replay_policy == ReplayPolicy::Drop {
        EdgePolicy::LatestWins
    } else {
        EdgePolicy::Block
    };
    let options = PipelineOptions {
        capacity: config.pipeline.channel_capacity,
        frame_policy,
        max_frames: (config.pipeline.max_frames > 0).then_some(config.pipeline.max_frames),
        stats_interval: std::time::Duration::from_secs_f64(config.pipeline.stats_interval_s),
    };
    let pipeline = Pipeline {
        source: capture::opener(spec, &config.capture, &dir),
        front,
        consumers,
    };
    Ok((pipeline, options))
}

/// The face detector for enrollment and evaluation (`min_face_px` overrides
/// the configured smallest face).
pub fn face_finder(
    store: &ModelStore,
    config: &Config,
    min_face_px: Option<f64>,
) -> Result<Box<dyn crate::verify::finder::FaceFinder>> {
    let mut detect = config.detect.clone();
    if let Some(px) = min_face_px {
        detect.min_face_px = px;
    }
    Ok(Box::new(Detector::new(store, &detect)?))
}

impl crate::verify::finder::FaceFinder for Detector {
    fn find(&mut self, image: &image::RgbImage) -> Result<Vec<crate::face::Detection>> {
        Ok(self.detect(image)?)
    }
}

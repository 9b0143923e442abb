//! Assembles a run from the configuration: which stages, which models.

use std::path::PathBuf;

use anyhow::Result;

use crate::app::config::Config;
use crate::app::front::{FaceFront, FrameOnly};
use crate::app::paths;
use crate::app::update::Update;
use crate::attention::AttentionStage;
use crate::capture::{self, SourceSpec};
use crate::core::finder::FaceFinder;
use crate::detect::Detector;
use crate::emotion::EmotionStage;
use crate::models::{self, ModelStore};
use crate::pipeline::edge::EdgePolicy;
use crate::pipeline::{Consumer, FrontStage, Pipeline, PipelineOptions, ReplayPolicy};
use crate::scene::{SceneClassifier, SceneStage};
use crate::track::Tracker;
use crate::verify::stage::VerifyStage;

/// The models directory for this configuration.
pub fn models_dir(config: &Config) -> Result<PathBuf> {
    Ok(models::resolve_dir(config.models.dir())?)
}

/// Builds the stages of `vigil run` for `spec`. Models are loaded and checked
/// here, before any thread starts, so a bad model fails the run at once.
pub fn build_pipeline(
    config: &Config,
    spec: &SourceSpec,
) -> Result<(Pipeline<Update>, PipelineOptions)> {
    let dir = models_dir(config)?;
    let store = ModelStore::new(&dir);
    let front: Box<dyn FrontStage> = if config.detect.enabled {
        let detector = Detector::new(&store, &config.detect)?;
        Box::new(FaceFront::new(detector, Tracker::new(&config.track)))
    } else {
        Box::new(FrameOnly)
    };
    // The state directory is resolved once, for the verifier and the scene head.
    let state = paths::state_paths(config);
    let mut consumers: Vec<Box<dyn Consumer<Update>>> = Vec::new();
    if config.verify.enabled {
        let paths = state.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        consumers.push(Box::new(VerifyStage::open(
            &store,
            paths,
            &config.verify,
            &config.liveness,
            &config.unlock,
        )?));
    }
    if config.emotion.enabled {
        consumers.push(Box::new(EmotionStage::new(
            &store,
            &config.emotion,
            &config.monitor,
        )?));
    }
    if config.attention.enabled {
        consumers.push(Box::new(AttentionStage::new(&store, &config.attention)?));
    }
    if config.scene.enabled {
        // The head is beside the gallery (or scene.head_file). No state
        // directory at all only means no head: ImageNet classes are reported.
        if let Err(e) = &state {
            log::warn!("scene: {e}: no head can be found");
        }
        let dir = state.as_ref().ok().map(|p| p.dir.as_path());
        let head = config.scene.head_path(dir);
        let classifier = SceneClassifier::new(&store, &config.scene, head.as_deref())?;
        if classifier.needs_faces() {
            log::warn!("scene: the head looks at faces but face detection is off: whole frames are classified");
        }
        let mut stage = SceneStage::new(classifier, &config.scene);
        if let Some(path) = &head {
            stage = stage.with_head_watch(path);
        }
        consumers.push(Box::new(stage));
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
) -> Result<Box<dyn FaceFinder>> {
    let mut detect = config.detect.clone();
    if let Some(px) = min_face_px {
        detect.min_face_px = px;
    }
    Ok(Box::new(Detector::new(store, &detect)?))
}

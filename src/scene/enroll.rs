//! The scene part of enrollment. `vigil enroll` offers each frame it examines
//! (with the faces found in it) to a [`SceneEnroller`], which keeps only the
//! frame's feature vector; at the end the head is trained against the bundled
//! negatives and saved beside the gallery.

use std::path::Path;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::train::FitReport;
use super::{
    load_negatives, train_head, Backbone, Features, Head, NegativeSet, SceneConfig, SceneError,
};
use crate::core::face::Detection;
use crate::models::ModelStore;

/// One enrollment frame: the image and the faces the detector found in it.
#[derive(Debug, Clone, Copy)]
pub struct OwnerFrame<'a> {
    /// The frame.
    pub image: &'a RgbImage,
    /// Faces found in it by the detector (empty: the frame is skipped).
    pub faces: &'a [Detection],
}

/// What enrollment did for the scene head.
#[derive(Debug, Clone)]
pub struct SceneEnrollReport {
    /// Owner frames with a face whose features went into training.
    pub owner_frames: usize,
    /// Frames offered without a face (not used: the owner may be out of view).
    pub skipped_no_face: usize,
    /// Bundled negative samples trained against.
    pub negatives: usize,
    /// Time spent computing the owner frames' features.
    pub feature_time: Duration,
    /// How the head's training went.
    pub fit: FitReport,
}

impl SceneEnrollReport {
    /// A one-line summary for the enrollment log.
    pub fn to_text(&self) -> String {
        format!(
            "scene head: {} owner frames ({} without a face skipped) against {} bundled negatives; \
             features {:.1} s, training {:.2} s ({} iterations)",
            self.owner_frames,
            self.skipped_no_face,
            self.negatives,
            self.feature_time.as_secs_f64(),
            self.fit.elapsed.as_secs_f64(),
            self.fit.iterations
        )
    }
}

/// Collects the owner's features frame by frame, then trains the head.
pub struct SceneEnroller {
    config: SceneConfig,
    backbone: Backbone,
    negatives: NegativeSet,
    owner: Vec<Features>,
    skipped_no_face: usize,
    feature_time: Duration,
}

impl SceneEnroller {
    /// Loads the configured backbone and its bundled negatives (checked
    /// against the backbone and the configured crop rule) before any frame.
    pub fn new(store: &ModelStore, config: &SceneConfig) -> Result<Self, SceneError> {
        let backbone = Backbone::with_variant(store, config.backbone)?;
        let negatives = load_negatives(store, &backbone)?;
        let crop = config.crop_spec();
        if negatives.crop != crop {
            return Err(SceneError::CropMismatch {
                what: format!("the bundled negatives {}", config.backbone.negatives_file()),
                made_with: format!("{} margin {}", negatives.crop.mode, negatives.crop.margin),
                wanted: format!(
                    "{} margin {} (scene.crop, scene.face_margin)",
                    crop.mode, crop.margin
                ),
            });
        }
        Ok(Self {
            config: config.clone(),
            backbone,
            negatives,
            owner: Vec::new(),
            skipped_no_face: 0,
            feature_time: Duration::ZERO,
        })
    }

    /// Offers one enrollment frame. Frames with no face are skipped: the
    /// owner must be in view for the frame to be an example of "owner".
    pub fn offer(&mut self, image: &RgbImage, faces: &[Detection]) -> Result<bool, SceneError> {
        if faces.is_empty() {
            self.skipped_no_face += 1;
            return Ok(false);
        }
        let t = Instant::now();
        let (features, _) = self
            .config
            .crop_spec()
            .features(&mut self.backbone, image, faces)?;
        self.owner.push(features);
        self.feature_time += t.elapsed();
        Ok(true)
    }

    /// Owner frames with a face collected so far.
    pub fn owner_frames(&self) -> usize {
        self.owner.len()
    }

    /// Trains the head and saves it to `head_path` (atomic, 0600, checksummed).
    /// Too few owner frames is an error and writes nothing.
    pub fn finish(self, head_path: &Path) -> Result<(Head, SceneEnrollReport), SceneError> {
        let (head, fit) = train_head(
            &self.owner,
            &self.negatives,
            self.backbone.id(),
            self.config.crop_spec(),
            &self.config.train_params(),
        )?;
        head.save(head_path)?;
        Ok((
            head,
            SceneEnrollReport {
                owner_frames: self.owner.len(),
                skipped_no_face: self.skipped_no_face,
                negatives: self.negatives.samples.len(),
                feature_time: self.feature_time,
                fit,
            },
        ))
    }
}

/// All of enrollment's scene part at once, for callers that hold the frames.
pub fn enroll_scene(
    store: &ModelStore,
    config: &SceneConfig,
    frames: &[OwnerFrame<'_>],
    head_path: &Path,
) -> Result<(Head, SceneEnrollReport), SceneError> {
    // Fail before the slow part when there are too few frames anyway.
    let with_face = frames.iter().filter(|f| !f.faces.is_empty()).count();
    if with_face < config.min_owner_frames {
        return Err(SceneError::TooFewOwnerFrames {
            got: with_face,
            need: config.min_owner_frames,
        });
    }
    let mut enroller = SceneEnroller::new(store, config)?;
    for f in frames {
        enroller.offer(f.image, f.faces)?;
    }
    enroller.finish(head_path)
}

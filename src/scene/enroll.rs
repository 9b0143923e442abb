//! The scene part of enrollment: called at the end of `vigil enroll` with the
//! owner's frames (and the faces found in them); trains the head against the
//! bundled negatives and saves it beside the gallery.

use std::path::Path;
use std::time::Duration;

use image::RgbImage;

use super::train::FitReport;
use super::{load_negatives, train_head, Backbone, Features, Head, SceneConfig, SceneError};
use crate::face::Detection;
use crate::models::ModelStore;

/// One enrollment frame: the image and the faces the detector found in it.
#[derive(Debug, Clone, Copy)]
pub struct OwnerFrame<'a> {
    pub image: &'a RgbImage,
    pub faces: &'a [Detection],
}

/// What enrollment did for the scene head.
#[derive(Debug, Clone)]
pub struct SceneEnrollReport {
    pub owner_frames: usize,
    /// Frames whose region was around a face (the rest used the whole frame).
    pub face_regions: usize,
    pub negatives: usize,
    pub feature_time: Duration,
    pub fit: FitReport,
}

/// Features of the owner's frames, cropped as `config` says.
pub fn owner_features(
    backbone: &mut Backbone,
    config: &SceneConfig,
    frames: &[OwnerFrame<'_>],
) -> Result<(Vec<Features>, usize), SceneError> {
    let crop = config.crop_spec();
    let mut out = Vec::with_capacity(frames.len());
    let mut face_regions = 0;
    for f in frames {
        let region = crop.region(f.image.width(), f.image.height(), f.faces);
        face_regions += region.face as usize;
        out.push(backbone.features(f.image, region.bbox)?);
    }
    Ok((out, face_regions))
}

/// Trains the head from the owner's frames and the bundled negatives of the
/// configured backbone, and saves it to `head_path` (atomic, 0600, checksummed).
pub fn enroll_scene(
    store: &ModelStore,
    config: &SceneConfig,
    frames: &[OwnerFrame<'_>],
    head_path: &Path,
) -> Result<(Head, SceneEnrollReport), SceneError> {
    // Fail before the slow part when there are too few frames anyway.
    if frames.len() < config.min_owner_frames {
        return Err(SceneError::TooFewOwnerFrames {
            got: frames.len(),
            need: config.min_owner_frames,
        });
    }
    let mut backbone = Backbone::with_variant(store, config.backbone)?;
    let negatives = load_negatives(store, &backbone)?;
    let t = std::time::Instant::now();
    let (owner, face_regions) = owner_features(&mut backbone, config, frames)?;
    let feature_time = t.elapsed();
    let (head, fit) = train_head(
        &owner,
        &negatives,
        backbone.id(),
        config.crop_spec(),
        &config.train_params(),
    )?;
    head.save(head_path)?;
    Ok((
        head,
        SceneEnrollReport {
            owner_frames: owner.len(),
            face_regions,
            negatives: negatives.samples.len(),
            feature_time,
            fit,
        },
    ))
}

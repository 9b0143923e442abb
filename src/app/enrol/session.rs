//! One enrolment of one person, from whatever frames it is offered: the
//! same quality and diversity gates, gallery update and scene-head training
//! for `vigil enroll` on a source and for an enrolment through a running
//! instance (HTTP or the control socket).

use std::path::PathBuf;

use image::RgbImage;

use super::EnrolError;
use crate::app::config::Config;
use crate::core::face::Detection;
use crate::models::ModelStore;
use crate::scene::enroll::{SceneEnrollReport, SceneEnroller};
use crate::verify::audit::unix_now;
use crate::verify::embed::{Embedding, NetEmbedder};
use crate::verify::enroll::{EnrollSummary, Enroller};
use crate::verify::gallery::{validate_name, Gallery, GalleryStore};
use crate::verify::StatePaths;

/// What a finished enrolment did.
#[derive(Debug)]
pub struct EnrolOutcome {
    /// The person enrolled.
    pub name: String,
    /// Frames examined, templates kept and rejections.
    pub summary: EnrollSummary,
    /// The gallery written.
    pub gallery: PathBuf,
    /// The scene head trained from the same frames, when the scene stage is on.
    pub scene: Option<(PathBuf, SceneEnrollReport)>,
}

impl EnrolOutcome {
    /// The lines `vigil enroll` prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\nenrolled {}: {} new templates in {}",
            self.summary.to_text(),
            self.name,
            self.summary.kept.len(),
            self.gallery.display()
        );
        if let Some((path, report)) = &self.scene {
            s.push_str(&format!(
                "\n{}; saved to {}",
                report.to_text(),
                path.display()
            ));
        }
        s
    }
}

/// An enrolment in progress.
pub struct EnrolSession {
    name: String,
    frames: usize,
    offered: usize,
    store: GalleryStore,
    gallery: Gallery,
    embedder: NetEmbedder,
    enroller: Enroller,
    scene: Option<(SceneEnroller, usize, PathBuf)>,
}

impl EnrolSession {
    /// Starts enrolling `name` from at most `frames` frames (default
    /// `verify.enroll_frames`). The gallery is read first: an unusable one
    /// (corrupt, another model) is an error and is never overwritten.
    pub fn new(
        config: &Config,
        store: &ModelStore,
        paths: &StatePaths,
        name: &str,
        frames: Option<usize>,
    ) -> Result<Self, EnrolError> {
        validate_name(name)?;
        let frames = frames.unwrap_or(config.verify.enroll_frames);
        if frames == 0 || frames > MAX_ENROL_FRAMES {
            return Err(EnrolError::Frames {
                given: frames,
                max: MAX_ENROL_FRAMES,
            });
        }
        let model_sha = store.read_verified(config.verify.model.spec().file)?.sha256;
        let gallery_store = GalleryStore::new(&paths.gallery, &paths.key);
        let gallery = gallery_store.load_or_empty(&model_sha)?;
        let existing: Vec<Embedding> = gallery
            .person(name)
            .map(|p| p.templates.iter().map(|t| t.embedding.clone()).collect())
            .unwrap_or_default();
        let scene = if config.scene.enabled {
            let head = config
                .scene
                .head_path(Some(&paths.dir))
                .unwrap_or_else(|| paths.dir.join(crate::scene::HEAD_FILE));
            Some((
                SceneEnroller::new(store, &config.scene)?,
                config.scene.enroll_frames,
                head,
            ))
        } else {
            None
        };
        Ok(Self {
            name: name.to_string(),
            frames,
            offered: 0,
            store: gallery_store,
            gallery,
            embedder: NetEmbedder::new(store, config.verify.model)
                .map_err(crate::verify::VerifyError::from)?
                .with_flip(config.verify.embed_flip),
            enroller: Enroller::new(&config.verify, existing),
            scene,
        })
    }

    /// The person being enrolled.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Frames this session examines at most.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// What was examined, kept and rejected so far.
    pub fn summary(&self) -> &EnrollSummary {
        &self.enroller.summary
    }

    /// Offers one frame and the faces detected in it; `origin` is recorded
    /// with a template kept from it.
    pub fn offer(
        &mut self,
        image: &RgbImage,
        faces: &[Detection],
        origin: String,
    ) -> Result<(), EnrolError> {
        if self.is_done() {
            return Ok(());
        }
        self.offered += 1;
        self.enroller
            .offer(image, faces, &mut self.embedder, origin)?;
        if let Some((scene, _, _)) = self.scene.as_mut() {
            scene.offer(image, faces)?;
        }
        Ok(())
    }

    /// True when every frame was examined, or enough templates and scene
    /// frames are kept.
    pub fn is_done(&self) -> bool {
        let scene_done = self
            .scene
            .as_ref()
            .is_none_or(|(s, wanted, _)| s.owner_frames() >= *wanted);
        self.offered >= self.frames || (self.enroller.is_full() && scene_done)
    }

    /// Adds the kept templates to the gallery (atomically) and trains the
    /// scene head. Nothing kept is an error and leaves the gallery unchanged.
    pub fn finish(self) -> Result<EnrolOutcome, EnrolError> {
        let Self {
            name,
            store,
            mut gallery,
            enroller,
            scene,
            ..
        } = self;
        let summary = enroller.summary;
        if summary.kept.is_empty() {
            return Err(EnrolError::NothingKept {
                name,
                summary: summary.to_text(),
            });
        }
        gallery.add(&name, summary.kept.clone(), unix_now())?;
        store.save(&gallery)?;
        let scene = match scene {
            Some((s, _, head)) => {
                let (_, report) = s.finish(&head).map_err(|why| EnrolError::SceneHead {
                    name: name.clone(),
                    why,
                })?;
                Some((head, report))
            }
            None => None,
        };
        Ok(EnrolOutcome {
            name,
            summary,
            gallery: store.path.clone(),
            scene,
        })
    }
}

/// Most frames one enrolment may examine (a request asking more is refused).
pub const MAX_ENROL_FRAMES: usize = 1000;

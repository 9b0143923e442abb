//! Enrollment: a person's frames through the quality and diversity gates
//! into gallery templates (the `vigil enroll` command is in
//! `app::commands::enroll`).

use std::collections::BTreeMap;

use image::RgbImage;

use super::audit::unix_now;
use super::config::VerifyConfig;
use super::embed::{Embedding, FaceEmbedder};
use super::gallery::Template;
use super::quality::{assess_detections, assess_sharpness, is_near_duplicate, Reject};
use crate::core::align::extract_chip_at;
use crate::core::face::Detection;

/// What an enrollment kept and rejected.
#[derive(Debug, Default)]
pub struct EnrollSummary {
    /// Frames offered to the enroller.
    pub examined: usize,
    /// Templates that passed every gate, in the order they were taken.
    pub kept: Vec<Template>,
    /// Frames turned away, counted per reason.
    pub rejected: BTreeMap<Reject, usize>,
}

impl EnrollSummary {
    /// One line for the user: frames examined, templates kept, and each
    /// rejection reason with its count.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "examined {} frames: kept {} templates",
            self.examined,
            self.kept.len()
        );
        for (reason, n) in &self.rejected {
            s.push_str(&format!("; {n} rejected: {reason}"));
        }
        s
    }
}

/// The gates and the templates kept so far.
pub struct Enroller {
    cfg: VerifyConfig,
    existing: Vec<Embedding>,
    /// What was examined, kept and rejected so far.
    pub summary: EnrollSummary,
}

impl Enroller {
    /// `existing`: the person's templates already in the gallery (diversity).
    pub fn new(cfg: &VerifyConfig, existing: Vec<Embedding>) -> Self {
        Self {
            cfg: cfg.clone(),
            existing,
            summary: EnrollSummary::default(),
        }
    }

    /// True once `verify.enroll_templates` templates are kept: stop feeding
    /// frames.
    pub fn is_full(&self) -> bool {
        self.summary.kept.len() >= self.cfg.enroll_templates
    }

    /// Offers one frame; keeps a template when every gate passes.
    pub fn offer(
        &mut self,
        image: &RgbImage,
        detections: &[Detection],
        embedder: &mut dyn FaceEmbedder,
        origin: String,
    ) -> Result<Option<Reject>, super::VerifyError> {
        self.summary.examined += 1;
        let verdict = self.gate(image, detections, embedder, origin)?;
        if let Some(r) = verdict {
            *self.summary.rejected.entry(r).or_default() += 1;
        }
        Ok(verdict)
    }

    fn gate(
        &mut self,
        image: &RgbImage,
        detections: &[Detection],
        embedder: &mut dyn FaceEmbedder,
        origin: String,
    ) -> Result<Option<Reject>, super::VerifyError> {
        let q = match assess_detections(detections, &self.cfg) {
            Ok(q) => q,
            Err(r) => return Ok(Some(r)),
        };
        let Some(d) = detections.first() else {
            return Ok(Some(Reject::NoFace));
        };
        let Some(chip) = extract_chip_at(image, &d.landmarks, embedder.layout()) else {
            return Ok(Some(Reject::NotFrontal));
        };
        let q = match assess_sharpness(&chip, q, &self.cfg) {
            Ok(q) => q,
            Err(r) => return Ok(Some(r)),
        };
        let e = embedder.embed(&chip)?;
        let kept: Vec<Embedding> = self
            .existing
            .iter()
            .cloned()
            .chain(self.summary.kept.iter().map(|t| t.embedding.clone()))
            .collect();
        if is_near_duplicate(&e, &kept, self.cfg.metric, self.cfg.enroll_min_spacing) {
            return Ok(Some(Reject::NearDuplicate));
        }
        self.summary.kept.push(Template {
            embedding: e,
            created_unix_s: unix_now(),
            quality: q,
            origin,
        });
        Ok(None)
    }
}

//! `vigil enroll`: capture templates of a person (camera, image folder or
//! video), through the quality and diversity gates, into the gallery.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use clap::Args;
use image::RgbImage;
use indicatif::{ProgressBar, ProgressStyle};

use super::audit::unix_now;
use super::config::VerifyConfig;
use super::embed::{Embedding, FaceEmbedder, NetEmbedder};
use super::gallery::{validate_name, GalleryError, GalleryStore, Template};
use super::quality::{assess_detections, assess_sharpness, is_near_duplicate, Reject};
use crate::align::{extract_chip, ChipTemplate};
use crate::capture::{self, SourceSpec};
use crate::config::Config;
use crate::face::Detection;
use crate::models::{ModelStore, EMBEDDING};

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Person to enroll (letters, digits, space, `_`, `-`, `.`; at most 64).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "remove"])]
    pub name: Option<String>,
    /// camera[:INDEX], dir:PATH or video:PATH (default: capture.source).
    #[arg(long, value_name = "SPEC")]
    pub source: Option<String>,
    /// Frames to examine (default: verify.enroll_frames).
    #[arg(long, value_name = "N")]
    pub frames: Option<usize>,
    /// Skip this many frames of the source first (e.g. to enroll from part of a clip).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub skip: usize,
    /// List the enrolled people.
    #[arg(long)]
    pub list: bool,
    /// Remove a person from the gallery.
    #[arg(long, value_name = "NAME")]
    pub remove: Option<String>,
}

/// What an enrollment kept and rejected.
#[derive(Debug, Default)]
pub struct EnrollSummary {
    pub examined: usize,
    pub kept: Vec<Template>,
    pub rejected: BTreeMap<Reject, usize>,
}

impl EnrollSummary {
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
    template: ChipTemplate,
    existing: Vec<Embedding>,
    pub summary: EnrollSummary,
}

impl Enroller {
    /// `existing`: the person's templates already in the gallery (diversity).
    pub fn new(cfg: &VerifyConfig, existing: Vec<Embedding>) -> Self {
        Self {
            cfg: cfg.clone(),
            template: ChipTemplate::Dlib,
            existing,
            summary: EnrollSummary::default(),
        }
    }

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
        let Some(chip) = extract_chip(image, &d.landmarks, self.template) else {
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

/// `vigil enroll`.
pub fn run(config: &Config, args: &EnrollArgs) -> anyhow::Result<()> {
    // Validate the name before touching anything.
    for n in args.name.iter().chain(args.remove.iter()) {
        validate_name(n)?;
    }
    let models_dir = crate::app::models_dir(config)?;
    let store = ModelStore::new(&models_dir);
    let paths = config.verify.paths(&config.unlock)?;
    let gallery_store = GalleryStore::new(&paths.gallery, &paths.key);
    let (_, model_sha) = store.read_verified(EMBEDDING.file)?;

    if args.list {
        match gallery_store.load(&model_sha) {
            Ok(g) if !g.is_empty() => {
                println!("gallery {}", paths.gallery.display());
                for p in &g.people {
                    println!(
                        "{:<24} {:>3} templates  enrolled at {} (unix s)",
                        p.name,
                        p.templates.len(),
                        p.created_unix_s
                    );
                }
            }
            Ok(_) | Err(GalleryError::Missing { .. }) => {
                println!("nobody is enrolled ({})", paths.gallery.display())
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    if let Some(name) = &args.remove {
        let mut g = gallery_store.load(&model_sha)?;
        let p = g.remove(name)?;
        gallery_store.save(&g)?;
        println!("removed {} ({} templates)", p.name, p.templates.len());
        return Ok(());
    }
    let Some(name) = &args.name else {
        bail!("give --name NAME to enroll, or --list, or --remove NAME");
    };
    // Fail early on an unusable gallery (corrupt, other model): never overwrite it.
    let mut gallery = gallery_store.load_or_empty(&model_sha)?;
    let existing: Vec<Embedding> = gallery
        .person(name)
        .map(|p| p.templates.iter().map(|t| t.embedding.clone()).collect())
        .unwrap_or_default();

    let spec_text = args
        .source
        .clone()
        .unwrap_or_else(|| config.capture.source.clone());
    let spec = SourceSpec::parse(&spec_text)?;
    let mut source = capture::open(&spec, &config.capture, &models_dir)?;
    let mut detector = crate::app::face_finder(&store, config, None)?;
    let mut embedder = NetEmbedder::new(&store)?;
    let mut enroller = Enroller::new(&config.verify, existing);
    // The scene head (owner / others / objects) learns from the same frames.
    let mut scene = if config.scene.enabled {
        Some(crate::scene::enroll::SceneEnroller::new(
            &store,
            &config.scene,
        )?)
    } else {
        None
    };
    let frames = args.frames.unwrap_or(config.verify.enroll_frames);
    let bar = ProgressBar::new(frames as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    for _ in 0..args.skip {
        if source.next_frame()?.is_none() {
            break;
        }
    }
    for _ in 0..frames {
        let Some(frame) = source.next_frame()? else {
            break;
        };
        let dets = detector.find(&frame.image)?;
        let origin = format!("{spec}#{}", frame.seq);
        enroller.offer(&frame.image, &dets, &mut embedder, origin)?;
        if let Some(s) = scene.as_mut() {
            s.offer(&frame.image, &dets)?;
        }
        bar.inc(1);
        bar.set_message(format!("kept {}", enroller.summary.kept.len()));
        let scene_done = scene
            .as_ref()
            .is_none_or(|s| s.owner_frames() >= config.scene.enroll_frames);
        if enroller.is_full() && scene_done {
            break;
        }
    }
    bar.finish_and_clear();
    let summary = enroller.summary;
    println!("{}", summary.to_text());
    if summary.kept.is_empty() {
        bail!(
            "no usable frame for {name} from {spec}: nothing enrolled (the gallery is unchanged)"
        );
    }
    let n = summary.kept.len();
    gallery.add(name, summary.kept, unix_now())?;
    gallery_store
        .save(&gallery)
        .with_context(|| format!("enrolling {name}"))?;
    println!(
        "enrolled {name}: {n} new templates in {}",
        paths.gallery.display()
    );
    if let Some(s) = scene {
        let head_path = config
            .scene
            .head_path(Some(&paths.dir))
            .unwrap_or_else(|| paths.dir.join(crate::scene::HEAD_FILE));
        let (_, report) = s.finish(&head_path).with_context(|| {
            format!("{name} is enrolled for verification, but the scene head was not trained")
        })?;
        println!("{}; saved to {}", report.to_text(), head_path.display());
    }
    Ok(())
}

//! `vigil enroll`: capture templates of a person (camera, image folder or
//! video), through the quality and diversity gates, into the gallery; the
//! same frames train the scene head.

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::app::config::Config;
use crate::capture::{self, SourceSpec};
use crate::models::ModelStore;
use crate::verify::audit::unix_now;
use crate::verify::embed::{Embedding, NetEmbedder};
use crate::verify::enroll::Enroller;
use crate::verify::gallery::{validate_name, GalleryError, GalleryStore};
use crate::verify::spec::EMBEDDING;

/// Flags of `vigil enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Person to enroll (letters, digits, space, `_`, `-`, `.`; at most 64).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["list", "remove"])]
    pub name: Option<String>,
    /// camera[:INDEX], picam[:INDEX], dir:PATH, video:PATH or a stream URL (default: capture.source).
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

/// `vigil enroll`.
pub fn run(config: Config, args: &EnrollArgs) -> anyhow::Result<()> {
    let config = &config;
    // Validate the name before touching anything.
    for n in args.name.iter().chain(args.remove.iter()) {
        validate_name(n)?;
    }
    let models_dir = crate::app::build::models_dir(config)?;
    let store = ModelStore::new(&models_dir);
    let paths = crate::app::paths::state_paths(config)?;
    let gallery_store = GalleryStore::new(&paths.gallery, &paths.key);
    let model_sha = store.read_verified(EMBEDDING.file)?.sha256;

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
    let mut detector = crate::app::build::face_finder(&store, config, None)?;
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
        let dets = detector
            .find(&frame.image)
            .map_err(anyhow::Error::from_boxed)?;
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

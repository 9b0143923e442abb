//! Builds the bundled negatives file of the scene head: backbone features of
//! the images in `IMAGES/others/` and `IMAGES/objects/` (made by
//! `dev/scene/make_sets.sh`), through the same crop rule and backbone as at
//! runtime, stored as f16 with their sources (file-name prefixes).
//!
//! cargo run --release --example scene_features -- \
//!     --images /work/scratch-scene/sets/negatives --backbone fp32 \
//!     --out models/scene_negatives_fp32.bin

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use vigil::app::commands::eval::scene::{negatives_from_images, thin_negatives, Featurizer};
use vigil::models::{self, ModelStore};
use vigil::scene::{BackboneVariant, CropMode, SceneConfig};

#[derive(Debug, Parser)]
struct Args {
    /// Folder with others/ and objects/.
    #[arg(long)]
    images: PathBuf,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = "fp32")]
    backbone: BackboneVariant,
    /// Default: scene.crop's default.
    #[arg(long)]
    crop: Option<CropMode>,
    #[arg(long)]
    face_margin: Option<f32>,
    /// Grey (true) or colour (false) view (default: scene.grey's default).
    #[arg(long)]
    grey: Option<bool>,
    /// Keep at most N vectors per source (evenly spaced).
    #[arg(long)]
    per_source: Option<usize>,
    /// Faces from this file (JSON lines) instead of the detector.
    #[arg(long)]
    faces_cache: Option<PathBuf>,
    /// Models folder (default: ./models).
    #[arg(long)]
    models: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args = Args::parse();
    let mut scene = SceneConfig::default();
    if let Some(c) = args.crop {
        scene.crop = c;
    }
    if let Some(m) = args.face_margin {
        scene.face_margin = m;
    }
    if let Some(g) = args.grey {
        scene.grey = g;
    }
    let store = ModelStore::new(models::resolve_dir(args.models.as_deref())?);
    let config = vigil::app::config::Config::default();
    let mut featurizer = Featurizer::new(
        &store,
        &config,
        args.backbone,
        scene.crop_spec(),
        args.faces_cache.as_deref(),
    )?;
    let mut set = negatives_from_images(&mut featurizer, &args.images)
        .with_context(|| format!("features of {}", args.images.display()))?;
    if let Some(n) = args.per_source {
        set = thin_negatives(&set, n);
    }
    set.save(&args.out)?;
    let bytes = std::fs::metadata(&args.out)?.len();
    println!(
        "{}: {} vectors ({} others, {} objects) from {} sources, {} KiB, backbone {} ({}), {}",
        args.out.display(),
        set.samples.len(),
        set.count(vigil::scene::SceneClass::Others),
        set.count(vigil::scene::SceneClass::Objects),
        set.sources.len(),
        bytes / 1024,
        set.backbone.file,
        &set.backbone.sha256[..12],
        set.crop.describe()
    );
    for s in &set.sources {
        println!("  {:<8} {:<20} {}", s.class.label(), s.name, s.count);
    }
    Ok(())
}

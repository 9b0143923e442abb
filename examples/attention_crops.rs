//! Writes the attention stage's eye and mouth crops of the largest face of
//! every image in a folder (recursively one level: `DIR/<label>/*.jpg`), as
//! the stage cuts them, for training and measuring its classifiers in
//! `models/train-attention/`. One CSV line per image: label, file, whether a
//! face was found, its inter-ocular distance, the five landmarks.
//!
//! cargo run --release --example attention_crops -- --images DIR --out OUT [--eye-iods 0.45,0.55]

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use vigil::attention::crop::{eye_crop_with, mouth_crop, Eye, EYE_CROP_IOD};
use vigil::models::{self, ModelStore};

#[derive(Debug, Parser)]
struct Args {
    /// Folder with one sub-folder per label.
    #[arg(long)]
    images: PathBuf,
    /// Output folder: OUT/<label>/<stem>_{l,r}<iods>.png, <stem>_m.png, OUT/faces.csv.
    #[arg(long)]
    out: PathBuf,
    /// Eye-region sides to write, in inter-ocular distances.
    #[arg(long, value_delimiter = ',')]
    eye_iods: Vec<f32>,
    /// Pad each image by this fraction of its size per side (tight crops).
    #[arg(long, default_value_t = 0.0)]
    pad: f32,
    /// Smallest face for the detector (default: detect.min_face_px).
    #[arg(long)]
    min_face_px: Option<f64>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let iods = if args.eye_iods.is_empty() {
        vec![EYE_CROP_IOD]
    } else {
        args.eye_iods.clone()
    };
    let config = vigil::app::config::Config::default();
    let store = ModelStore::new(models::resolve_dir(None)?);
    let mut finder = vigil::app::face_finder(&store, &config, args.min_face_px)?;
    std::fs::create_dir_all(&args.out)?;
    let mut csv = std::fs::File::create(args.out.join("faces.csv"))?;
    writeln!(
        csv,
        "label,file,face,iod,lx,ly,rx,ry,nx,ny,mlx,mly,mrx,mry,bx,by,bw,bh,score,w,h"
    )?;
    let mut labels: Vec<PathBuf> = std::fs::read_dir(&args.images)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    labels.sort();
    for dir in labels {
        let label = dir
            .file_name()
            .context("label")?
            .to_string_lossy()
            .into_owned();
        let out = args.out.join(&label);
        std::fs::create_dir_all(&out)?;
        for path in vigil::capture::list_images(&dir)? {
            let stem = path
                .file_stem()
                .context("stem")?
                .to_string_lossy()
                .into_owned();
            let image = vigil::app::commands::eval::emotion::pad(
                &vigil::capture::load_rgb(&path)?,
                args.pad,
            );
            let faces = finder.find(&image).map_err(|e| anyhow::anyhow!("{e}"))?;
            let best = faces
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
            let Some(d) = best else {
                writeln!(
                    csv,
                    "{label},{stem},0,,,,,,,,,,,,,,,,,{},{}",
                    image.width(),
                    image.height()
                )?;
                continue;
            };
            let lm = d.landmarks;
            let pts: Vec<String> = lm
                .points()
                .iter()
                .flat_map(|p| [format!("{:.2}", p.x), format!("{:.2}", p.y)])
                .collect();
            let b = d.bbox;
            writeln!(
                csv,
                "{label},{stem},1,{:.2},{},{:.1},{:.1},{:.1},{:.1},{:.3},{},{}",
                lm.inter_ocular(),
                pts.join(","),
                b.x,
                b.y,
                b.w,
                b.h,
                d.score,
                image.width(),
                image.height()
            )?;
            for k in &iods {
                for (eye, tag) in [(Eye::Left, "l"), (Eye::Right, "r")] {
                    if let Some(c) = eye_crop_with(&image, &lm, eye, *k) {
                        c.save(out.join(format!("{stem}_{tag}{k:.2}.png")))?;
                    }
                }
            }
            if let Some(c) = mouth_crop(&image, &lm) {
                c.save(out.join(format!("{stem}_m.png")))?;
            }
        }
    }
    Ok(())
}

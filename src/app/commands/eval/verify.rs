//! `vigil eval verify --identities DIR`: verification accuracy on a folder of
//! identities (one sub-folder per person), with faces from the detector.
//!
//! Each image is padded (tight crops such as AT&T's leave the detector no
//! context), the most confident face is aligned into a chip and embedded; an
//! image with no face is a failure to enrol (fte). Every genuine pair and every
//! impostor pair is scored. Accuracy is 10-fold cross-validated as in the LFW
//! protocol: people are split into 10 folds, each fold's pairs are judged with
//! the threshold that is best on the other nine.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use image::RgbImage;
use serde::Serialize;

use crate::app::config::Config;
use crate::app::present::canvas::{rgb, Canvas};
use crate::capture::{list_images, load_rgb};
use crate::core::align::{extract_chip_at, ChipLayout, ChipTemplate};
use crate::core::finder::FaceFinder;
use crate::models::ModelStore;
use crate::verify::embed::{Embedding, EmbeddingModel, FaceEmbedder, Metric, NetEmbedder};
use crate::verify::metrics::{cross_validate, PairScores};

use super::lighting::{relight, Lighting};

/// Folds of the cross-validation (fewer for small sets: see [`folds_for`]).
pub const FOLDS: usize = 10;
/// People per fold at the least: with two, every fold has impostor pairs
/// (pairs are only formed inside a fold, so folds stay subject-disjoint).
pub const MIN_PEOPLE_PER_FOLD: usize = 2;
/// Seed of the fold assignment.
pub const FOLD_SEED: u64 = 0x5eed_f01d;

/// How a tight crop is padded before detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PadMode {
    /// Repeat the border pixels outwards.
    Edge,
    /// A neutral grey.
    Grey,
}

/// `vigil eval verify` arguments.
#[derive(Debug, Args)]
pub struct VerifyEvalArgs {
    /// Folder with one sub-folder of images per person.
    #[arg(long, value_name = "DIR")]
    pub identities: PathBuf,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the ROC curve (log FAR vs TAR) as a PNG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Padding added on each side before detection, as a fraction of the side.
    #[arg(long, default_value_t = 0.3)]
    pub pad: f32,
    /// What fills the padding.
    #[arg(long, value_enum, default_value_t = PadMode::Edge)]
    pub pad_mode: PadMode,
    /// Chip layout (default: the one the model was trained on).
    #[arg(long, value_enum)]
    pub template: Option<ChipTemplate>,
    /// Embedding network (default: `verify.model`); its metric and threshold
    /// are the config's when it is the configured model, else its own.
    #[arg(long, value_enum)]
    pub model: Option<EmbeddingModel>,
    /// Relight every image first (see `eval::lighting`): a reproducible
    /// hard-lighting variant of the set.
    #[arg(long, value_enum, default_value_t = Lighting::None)]
    pub lighting: Lighting,
    /// Normalise each chip's contrast before embedding (`normalise_contrast`).
    #[arg(long)]
    pub chip_norm: bool,
    /// Add the mirrored chip's descriptor to each (twice the embedding cost;
    /// default: `verify.embed_flip`).
    #[arg(long)]
    pub flip: bool,
    /// Smallest face searched in the padded image, pixels.
    #[arg(long, default_value_t = 20.0)]
    pub min_face_px: f64,
}

/// The figures of one metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricReport {
    /// How two embeddings were compared (euclidean or cosine distance).
    pub metric: Metric,
    /// Folds of the cross-validated accuracy ([`folds_for`] the set's size).
    pub folds: usize,
    /// Mean cross-validated accuracy over the folds, 0..=1 (each fold judged
    /// at the threshold best on the others).
    pub accuracy: f64,
    /// Standard deviation of the per-fold accuracies.
    pub accuracy_std: f64,
    /// Equal error rate over all pairs, 0..=1: where FAR and FRR cross.
    pub eer: f64,
    /// Distance threshold at the equal error rate.
    pub eer_threshold: f32,
    /// Highest true accept rate, 0..=1, with a false accept rate of at most 1e-3.
    pub tar_at_far_1e3: f64,
    /// Distance threshold of that operating point.
    pub threshold_at_far_1e3: f32,
    /// Highest true accept rate, 0..=1, with a false accept rate of at most 1e-4.
    pub tar_at_far_1e4: f64,
    /// Distance threshold of that operating point.
    pub threshold_at_far_1e4: f32,
    /// Distance threshold with the highest accuracy over all pairs (a pair
    /// under it is judged the same person).
    pub best_threshold: f32,
}

/// Pads `img` by `fraction` of each side.
pub fn pad_image(img: &RgbImage, fraction: f32, mode: PadMode) -> RgbImage {
    let px = (img.width() as f32 * fraction).round() as u32;
    let py = (img.height() as f32 * fraction).round() as u32;
    let (w, h) = (img.width() + 2 * px, img.height() + 2 * py);
    RgbImage::from_fn(w, h, |x, y| {
        let inside = x >= px && y >= py && x < px + img.width() && y < py + img.height();
        if inside {
            *img.get_pixel(x - px, y - py)
        } else {
            match mode {
                PadMode::Grey => image::Rgb([128, 128, 128]),
                PadMode::Edge => {
                    let sx = (x as i64 - px as i64).clamp(0, img.width() as i64 - 1) as u32;
                    let sy = (y as i64 - py as i64).clamp(0, img.height() as i64 - 1) as u32;
                    *img.get_pixel(sx, sy)
                }
            }
        }
    })
}

struct Sample {
    person: usize,
    embedding: Embedding,
}

/// A tiny deterministic generator (SplitMix64): the fold shuffle here, the
/// per-image draws of `eval::lighting`.
pub(super) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How many folds `people` allow: [`FOLDS`], or fewer so that every fold
/// holds at least [`MIN_PEOPLE_PER_FOLD`] people (and so genuine and impostor
/// pairs); `None` below two such folds (no cross-validation is possible).
pub fn folds_for(people: usize) -> Option<usize> {
    let k = (people / MIN_PEOPLE_PER_FOLD).min(FOLDS);
    (k >= 2).then_some(k)
}

/// Fold of each person: a seeded shuffle dealt round-robin over
/// [`folds_for`]`(n)` folds (at least one).
fn fold_of_people(n: usize) -> Vec<usize> {
    let k = folds_for(n).unwrap_or(1);
    let mut order: Vec<usize> = (0..n).collect();
    let mut s = FOLD_SEED;
    for i in (1..n).rev() {
        let j = (splitmix(&mut s) % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut fold = vec![0; n];
    for (rank, &p) in order.iter().enumerate() {
        fold[p] = rank % k;
    }
    fold
}

fn report_for(
    samples: &[Sample],
    folds: &[usize],
    metric: Metric,
) -> anyhow::Result<(MetricReport, PairScores)> {
    let mut all = PairScores::default();
    let k = folds.iter().max().map_or(1, |m| m + 1);
    let mut per_fold = vec![PairScores::default(); k];
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            let d = a.embedding.distance(&b.embedding, metric);
            let same = a.person == b.person;
            let target = if same {
                &mut all.genuine
            } else {
                &mut all.impostor
            };
            target.push(d);
            if folds[a.person] == folds[b.person] {
                let f = &mut per_fold[folds[a.person]];
                if same {
                    f.genuine.push(d);
                } else {
                    f.impostor.push(d);
                }
            }
        }
    }
    let cv = cross_validate(&per_fold).context("no pairs to cross-validate")?;
    let (eer, eer_t) = all.eer().context("need genuine and impostor pairs")?;
    let p3 = all.tar_at_far(1e-3).context("no pairs")?;
    let p4 = all.tar_at_far(1e-4).context("no pairs")?;
    let (best_t, _) = all.best_threshold().context("no pairs")?;
    Ok((
        MetricReport {
            metric,
            folds: cv.folds,
            accuracy: cv.mean_accuracy,
            accuracy_std: cv.std_accuracy,
            eer,
            eer_threshold: eer_t,
            tar_at_far_1e3: p3.tar,
            threshold_at_far_1e3: p3.threshold,
            tar_at_far_1e4: p4.tar,
            threshold_at_far_1e4: p4.threshold,
            best_threshold: best_t,
        },
        all,
    ))
}

/// Runs the evaluation and prints the report.
pub fn run(config: &Config, args: &VerifyEvalArgs) -> anyhow::Result<()> {
    let dir = crate::app::build::models_dir(config)?;
    let store = ModelStore::new(&dir);
    let mut detector = crate::app::build::face_finder(&store, config, Some(args.min_face_px))?;
    let model = args.model.unwrap_or(config.verify.model);
    let flip = args.flip || config.verify.embed_flip;
    let mut embedder = NetEmbedder::new(&store, model)?
        .with_normalisation(args.chip_norm)
        .with_flip(flip);
    let native = model.layout();
    let layout = ChipLayout::new(args.template.unwrap_or(native.template), native.side);
    // the configured metric and threshold belong to the configured model
    let (metric, threshold) = if model == config.verify.model {
        (config.verify.metric, config.verify.threshold)
    } else {
        (model.default_metric(), model.default_threshold())
    };

    let mut people: Vec<PathBuf> = std::fs::read_dir(&args.identities)
        .with_context(|| format!("cannot read {}", args.identities.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    if folds_for(people.len()).is_none() {
        bail!(
            "{} has {} person folder(s): a cross-validated accuracy needs at least {} \
             (two folds of {} people, so that every fold has genuine and impostor pairs)",
            args.identities.display(),
            people.len(),
            2 * MIN_PEOPLE_PER_FOLD,
            MIN_PEOPLE_PER_FOLD
        );
    }
    let mut samples = Vec::new();
    let mut fte: Vec<PathBuf> = Vec::new();
    let mut images = 0usize;
    for (pi, person) in people.iter().enumerate() {
        for path in list_images(person)? {
            images += 1;
            let index = images as u64 - 1;
            match embed_one(&path, index, layout, args, detector.as_mut(), &mut embedder)? {
                Some(embedding) => samples.push(Sample {
                    person: pi,
                    embedding,
                }),
                None => fte.push(path),
            }
        }
    }
    let folds = fold_of_people(people.len());
    let (primary, scores) = report_for(&samples, &folds, metric)?;
    let other_metric = match metric {
        Metric::Euclidean => Metric::Cosine,
        Metric::Cosine => Metric::Euclidean,
    };
    let (other, _) = report_for(&samples, &folds, other_metric)?;
    let at = scores.at(threshold);
    let acc_at = scores.accuracy(threshold);

    println!(
        "identities {}  images {}  embedded {}  fte {}  genuine pairs {}  impostor pairs {}",
        people.len(),
        images,
        samples.len(),
        fte.len(),
        scores.genuine.len(),
        scores.impostor.len()
    );
    println!(
        "model {model} (chip norm {}, flip {}), lighting {:?}, pad {:.2} ({:?}), template {:?} at {} px, min face {} px",
        args.chip_norm, flip, args.lighting, args.pad, args.pad_mode, layout.template, layout.side, args.min_face_px
    );
    for f in &fte {
        println!("  no face: {}", f.display());
    }
    for r in [&primary, &other] {
        println!(
            "{:<9}  {}-fold accuracy {:.2}% (± {:.2})  EER {:.2}% at {:.4}  TAR@FAR1e-3 {:.2}% (t {:.4})  TAR@FAR1e-4 {:.2}% (t {:.4})  best t {:.4}",
            r.metric.to_string(),
            r.folds,
            r.accuracy * 100.0,
            r.accuracy_std * 100.0,
            r.eer * 100.0,
            r.eer_threshold,
            r.tar_at_far_1e3 * 100.0,
            r.threshold_at_far_1e3,
            r.tar_at_far_1e4 * 100.0,
            r.threshold_at_far_1e4,
            r.best_threshold
        );
    }
    println!(
        "threshold {threshold} ({metric}): accuracy {:.3}%  TAR {:.3}%  FAR {:.5}%",
        acc_at * 100.0,
        at.tar * 100.0,
        at.far * 100.0
    );
    if let Some(path) = &args.plot {
        plot_roc(&scores, path)?;
        println!("ROC written to {}", path.display());
    }
    if args.json {
        let j = serde_json::json!({
            "identities": people.len(),
            "genuine_pairs": scores.genuine.len(),
            "impostor_pairs": scores.impostor.len(),
            "fte": fte.len(),
            "accuracy": primary.accuracy,
            "eer": primary.eer,
            "tar_at_far_1e-3": primary.tar_at_far_1e3,
            "tar_at_far_1e-4": primary.tar_at_far_1e4,
            "threshold": threshold,
            "metric": primary.metric,
            "accuracy_at_threshold": acc_at,
            "far_at_threshold": at.far,
            "tar_at_threshold": at.tar,
            "threshold_at_far_1e-4": primary.threshold_at_far_1e4,
            "template": layout.template,
            "chip_side": layout.side,
            "model": model,
            "lighting": args.lighting,
            "flip": flip,
            "chip_norm": args.chip_norm,
            "pad": args.pad,
            "pad_mode": args.pad_mode,
            "other_metric": other,
        });
        println!("{j}");
    }
    Ok(())
}

/// The embedding of the most confident face of one image, `None` if no face.
fn embed_one(
    path: &Path,
    index: u64,
    layout: ChipLayout,
    args: &VerifyEvalArgs,
    detector: &mut dyn FaceFinder,
    embedder: &mut NetEmbedder,
) -> anyhow::Result<Option<Embedding>> {
    let img = relight(&load_rgb(path)?, args.lighting, index);
    let padded = pad_image(&img, args.pad, args.pad_mode);
    let dets = detector.find(&padded).map_err(anyhow::Error::from_boxed)?;
    let Some(best) = dets.iter().max_by(|a, b| a.score.total_cmp(&b.score)) else {
        return Ok(None);
    };
    let Some(chip) = extract_chip_at(&padded, &best.landmarks, layout) else {
        return Ok(None);
    };
    Ok(Some(embedder.embed(&chip)?))
}

/// Draws TAR against log10 FAR (1e-5 .. 1) and writes a PNG.
pub fn plot_roc(scores: &PairScores, path: &Path) -> anyhow::Result<()> {
    const W: usize = 640;
    const H: usize = 480;
    const M: i64 = 56;
    let mut c = Canvas::new(W, H);
    c.fill(0, 0, W as i64, H as i64, rgb(255, 255, 255), 1.0);
    let grey = rgb(200, 200, 200);
    let black = rgb(0, 0, 0);
    let blue = rgb(20, 60, 200);
    let roc = scores.roc();
    let y_lo = roc
        .iter()
        .find(|p| p.far >= 1e-5)
        .map(|p| (p.tar * 10.0).floor() / 10.0)
        .unwrap_or(0.0)
        .clamp(0.0, 0.9);
    let (x0, x1, y0, y1) = (M, W as i64 - 16, H as i64 - M, 24i64);
    let fx = |far: f64| x0 + ((far.max(1e-5).log10() + 5.0) / 5.0 * (x1 - x0) as f64) as i64;
    let fy = |tar: f64| y0 - ((tar - y_lo) / (1.0 - y_lo) * (y0 - y1) as f64) as i64;
    for e in 0..=5 {
        let x = fx(10f64.powi(-e));
        c.fill(x, y1, x, y0, grey, 1.0);
        c.text(x - 16, y0 + 8, &format!("1e-{e}"), 1, black);
    }
    for k in 0..=4 {
        let tar = y_lo + (1.0 - y_lo) * k as f64 / 4.0;
        let y = fy(tar);
        c.fill(x0, y, x1, y, grey, 1.0);
        c.text(4, y - 4, &format!("{tar:.3}"), 1, black);
    }
    c.rect(x0, y1, x1, y0, 1, black);
    let mut prev: Option<(i64, i64)> = None;
    for p in roc.iter().filter(|p| p.far > 0.0) {
        let q = (fx(p.far), fy(p.tar.max(y_lo)));
        if let Some(a) = prev {
            line(&mut c, a, q, blue);
        }
        prev = Some(q);
    }
    c.text(x0, H as i64 - 20, "FAR (log)", 1, black);
    c.text(x0 + 8, y1 + 8, "TAR", 1, black);
    let img = RgbImage::from_fn(W as u32, H as u32, |x, y| {
        let v = c.pixels[y as usize * W + x as usize];
        image::Rgb([(v >> 16) as u8, (v >> 8) as u8, v as u8])
    });
    img.save(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Draws a 3-pixel-wide line from `a` to `b` (shared by the eval plots).
pub(super) fn line(c: &mut Canvas, a: (i64, i64), b: (i64, i64), colour: u32) {
    let n = (b.0 - a.0).abs().max((b.1 - a.1).abs()).max(1);
    for i in 0..=n {
        let x = a.0 + (b.0 - a.0) * i / n;
        let y = a.1 + (b.1 - a.1) * i / n;
        c.dot(x, y, 1, colour);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_modes() {
        let img = RgbImage::from_fn(4, 2, |x, _| image::Rgb([x as u8 * 10, 0, 0]));
        let e = pad_image(&img, 0.5, PadMode::Edge);
        assert_eq!(e.dimensions(), (8, 4));
        assert_eq!(e.get_pixel(0, 0).0[0], 0);
        assert_eq!(e.get_pixel(7, 3).0[0], 30);
        assert_eq!(e.get_pixel(3, 1).0[0], 10);
        let g = pad_image(&img, 0.5, PadMode::Grey);
        assert_eq!(g.get_pixel(0, 0).0, [128, 128, 128]);
    }

    #[test]
    fn folds_are_balanced_and_deterministic() {
        let f = fold_of_people(40);
        assert_eq!(f, fold_of_people(40));
        for k in 0..FOLDS {
            assert_eq!(f.iter().filter(|&&x| x == k).count(), 4);
        }
    }

    #[test]
    fn small_sets_get_fewer_folds_each_with_impostor_pairs() {
        assert_eq!(folds_for(40), Some(10));
        assert_eq!(folds_for(20), Some(10));
        assert_eq!(folds_for(5), Some(2));
        assert_eq!(folds_for(4), Some(2));
        assert_eq!(folds_for(3), None);
        for n in [4, 5, 7, 11, 19] {
            let f = fold_of_people(n);
            let k = folds_for(n).unwrap();
            for fold in 0..k {
                let people = f.iter().filter(|&&x| x == fold).count();
                assert!(
                    people >= MIN_PEOPLE_PER_FOLD,
                    "{n} people: fold {fold} has {people}"
                );
            }
        }
    }

    #[test]
    fn roc_plot_is_written() {
        let d = tempfile::tempdir().unwrap();
        let s = PairScores {
            genuine: vec![0.1, 0.2, 0.3, 0.5],
            impostor: vec![0.4, 0.6, 0.7, 0.8, 0.9],
        };
        let p = d.path().join("roc.png");
        plot_roc(&s, &p).unwrap();
        let img = image::open(&p).unwrap();
        assert_eq!((img.width(), img.height()), (640, 480));
    }
}

//! `vigil eval attention`: eye state and yawn accuracy of the attention
//! stage's classifiers through the real detector path.
//!
//! `--eyes DIR` takes `DIR/closed/` and `DIR/open/` face images, `--yawn DIR`
//! takes `DIR/yawn/` and `DIR/no_yawn/`. Each image goes through the face
//! detector; the largest face's landmarks give the stage's own eye and mouth
//! crops, and the configured thresholds (`attention.eye_closed_threshold`,
//! `attention.yawn_threshold`) give the verdict. Accuracy, precision and
//! recall (positive = closed / yawn) are over the images where a face was
//! found; images without a face are counted apart.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use thiserror::Error;

use crate::app::config::Config;
use crate::attention::crop::{eye_crop, mouth_crop, Eye};
use crate::attention::{AttentionClassifier, AttentionError};
use crate::capture::{self, CaptureError};
use crate::core::finder::FaceFinder;
use crate::core::geometry::Landmarks;
use crate::models::{self, ModelError, ModelStore};

/// Why an attention evaluation failed.
#[derive(Debug, Error)]
pub enum AttentionEvalError {
    /// The classifiers failed.
    #[error(transparent)]
    Attention(#[from] AttentionError),
    /// A model could not be loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An image could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The detector failed.
    #[error("face detector: {0}")]
    Detector(crate::core::finder::FinderError),
    /// A data folder lacks both class folders.
    #[error("{path}: no images in {positive}/ or {negative}/")]
    NoImages {
        /// The folder given.
        path: PathBuf,
        /// The positive class folder's name.
        positive: &'static str,
        /// The negative class folder's name.
        negative: &'static str,
    },
    /// Neither --eyes nor --yawn.
    #[error("give --eyes DIR, --yawn DIR or both")]
    NothingToDo,
    /// The report could not be written.
    #[error("cannot write the report: {0}")]
    Write(String),
}

/// `vigil eval attention` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct AttentionEvalArgs {
    /// Folder with closed/ and open/ face images.
    #[arg(long, value_name = "DIR")]
    pub eyes: Option<PathBuf>,
    /// Folder with yawn/ and no_yawn/ face images.
    #[arg(long, value_name = "DIR")]
    pub yawn: Option<PathBuf>,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Threshold on mean P(closed) (default: attention.eye_closed_threshold).
    #[arg(long)]
    pub eye_threshold: Option<f32>,
    /// Threshold on P(yawn) (default: attention.yawn_threshold).
    #[arg(long)]
    pub yawn_threshold: Option<f32>,
    /// Smallest detection score read (default: attention.min_face_score);
    /// images whose largest face scores lower count as without a face.
    #[arg(long)]
    pub min_face_score: Option<f32>,
}

/// One binary task's figures.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct BinaryReport {
    /// Images listed.
    pub images: usize,
    /// Images in which no face (of at least the minimum score) was found
    /// (not in the figures below).
    pub no_face: usize,
    /// Images with a face, judged.
    pub judged: usize,
    /// Correct over judged.
    pub accuracy: f64,
    /// Of those called positive, the share that are.
    pub precision: f64,
    /// Of the positives judged, the share called positive.
    pub recall: f64,
    /// The threshold on the probability.
    pub threshold: f32,
    /// The positive class folder.
    pub positive: &'static str,
    /// True positives, false positives, true negatives, false negatives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// True negatives.
    pub tn: usize,
    /// False negatives.
    pub fn_: usize,
}

impl BinaryReport {
    fn add(&mut self, truth: bool, predicted: bool) {
        self.judged += 1;
        match (truth, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
            (true, false) => self.fn_ += 1,
        }
    }

    fn finish(&mut self) {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.accuracy = ratio(self.tp + self.tn, self.judged);
        self.precision = ratio(self.tp, self.tp + self.fp);
        self.recall = ratio(self.tp, self.tp + self.fn_);
    }
}

/// The evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionEvalReport {
    /// Eye-state accuracy over the eye images with a face.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes_accuracy: Option<f64>,
    /// Yawn accuracy over the yawn images with a face.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yawn_accuracy: Option<f64>,
    /// Eye-state details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes: Option<BinaryReport>,
    /// Yawn details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yawn: Option<BinaryReport>,
    /// Milliseconds per image (detection included).
    pub ms_per_image: f64,
}

/// Lists the images of the two class folders as (path, is_positive).
fn list(
    dir: &Path,
    positive: &'static str,
    negative: &'static str,
) -> Result<Vec<(PathBuf, bool)>, AttentionEvalError> {
    let mut out = Vec::new();
    for (name, truth) in [(positive, true), (negative, false)] {
        let sub = dir.join(name);
        if sub.is_dir() {
            out.extend(capture::list_images(&sub)?.into_iter().map(|p| (p, truth)));
        }
    }
    if out.is_empty() {
        return Err(AttentionEvalError::NoImages {
            path: dir.to_path_buf(),
            positive,
            negative,
        });
    }
    Ok(out)
}

/// The landmarks of the largest face of an image, when its score reaches
/// `min_score` (the stage reads only such faces).
fn largest_face(
    finder: &mut dyn FaceFinder,
    path: &Path,
    min_score: f32,
) -> Result<(image::RgbImage, Option<Landmarks>), AttentionEvalError> {
    let image = capture::load_rgb(path)?;
    let faces = finder.find(&image).map_err(AttentionEvalError::Detector)?;
    let lm = faces
        .iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
        .filter(|d| d.score >= min_score)
        .map(|d| d.landmarks);
    Ok((image, lm))
}

/// Runs the evaluation; `progress` gets a line now and then.
pub fn evaluate(
    config: &Config,
    args: &AttentionEvalArgs,
    progress: &mut dyn FnMut(&str),
) -> Result<AttentionEvalReport, AttentionEvalError> {
    if args.eyes.is_none() && args.yawn.is_none() {
        return Err(AttentionEvalError::NothingToDo);
    }
    let dir = models::resolve_dir(config.models.dir())?;
    let store = ModelStore::new(&dir);
    let mut finder = crate::app::build::face_finder(&store, config, None)
        .map_err(|e| AttentionEvalError::Detector(e.into()))?;
    let mut classifier = AttentionClassifier::new(&store)?;
    let started = Instant::now();
    let mut count = 0usize;
    let min_score = args
        .min_face_score
        .unwrap_or(config.attention.min_face_score);
    let mut eyes = None;
    if let Some(d) = &args.eyes {
        let threshold = args
            .eye_threshold
            .unwrap_or(config.attention.eye_closed_threshold);
        let mut r = BinaryReport {
            threshold,
            positive: "closed",
            ..Default::default()
        };
        for (path, truth) in list(d, "closed", "open")? {
            r.images += 1;
            let (image, lm) = largest_face(finder.as_mut(), &path, min_score)?;
            let crops = lm.and_then(|lm| {
                Some((
                    eye_crop(&image, &lm, Eye::Left)?,
                    eye_crop(&image, &lm, Eye::Right)?,
                ))
            });
            match crops {
                Some((l, rr)) => {
                    let [pl, pr] = classifier.eyes(&l, &rr)?;
                    r.add(truth, (pl + pr) / 2.0 >= threshold);
                }
                None => r.no_face += 1,
            }
        }
        r.finish();
        progress(&format!(
            "eyes: {} images, accuracy {:.4}",
            r.images, r.accuracy
        ));
        count += r.images;
        eyes = Some(r);
    }
    let mut yawn = None;
    if let Some(d) = &args.yawn {
        let threshold = args
            .yawn_threshold
            .unwrap_or(config.attention.yawn_threshold);
        let mut r = BinaryReport {
            threshold,
            positive: "yawn",
            ..Default::default()
        };
        for (path, truth) in list(d, "yawn", "no_yawn")? {
            r.images += 1;
            let (image, lm) = largest_face(finder.as_mut(), &path, min_score)?;
            match lm.and_then(|lm| mouth_crop(&image, &lm)) {
                Some(m) => {
                    let p = classifier.yawn(&m)?;
                    r.add(truth, p >= threshold);
                }
                None => r.no_face += 1,
            }
        }
        r.finish();
        progress(&format!(
            "yawn: {} images, accuracy {:.4}",
            r.images, r.accuracy
        ));
        count += r.images;
        yawn = Some(r);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(AttentionEvalReport {
        eyes_accuracy: eyes.as_ref().map(|r| r.accuracy),
        yawn_accuracy: yawn.as_ref().map(|r| r.accuracy),
        eyes,
        yawn,
        ms_per_image: if count == 0 {
            0.0
        } else {
            elapsed * 1e3 / count as f64
        },
    })
}

/// The human-readable report.
pub fn to_text(r: &AttentionEvalReport) -> String {
    let mut s = String::new();
    for (name, b) in [("eyes", &r.eyes), ("yawn", &r.yawn)] {
        if let Some(b) = b {
            s.push_str(&format!(
                "{name}: images {}, no face {}, judged {}: accuracy {:.4}, precision {:.4}, recall {:.4} (positive = {}, threshold {:.2}; tp {} fp {} tn {} fn {})\n",
                b.images, b.no_face, b.judged, b.accuracy, b.precision, b.recall, b.positive, b.threshold, b.tp, b.fp, b.tn, b.fn_
            ));
        }
    }
    s.push_str(&format!("{:.2} ms per image\n", r.ms_per_image));
    s
}

/// `vigil eval attention`.
pub fn run(
    config: &Config,
    args: &AttentionEvalArgs,
) -> Result<AttentionEvalReport, AttentionEvalError> {
    let report = evaluate(config, args, &mut |line| eprintln!("{line}"))?;
    let mut out = std::io::stdout().lock();
    let err = |e: std::io::Error| AttentionEvalError::Write(e.to_string());
    write!(out, "{}", to_text(&report)).map_err(err)?;
    if args.json {
        let line =
            serde_json::to_string(&report).map_err(|e| AttentionEvalError::Write(e.to_string()))?;
        writeln!(out, "{line}").map_err(err)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_counts_and_rates() {
        let mut r = BinaryReport::default();
        r.add(true, true);
        r.add(true, false);
        r.add(false, false);
        r.add(false, true);
        r.add(false, false);
        r.finish();
        assert_eq!((r.tp, r.fn_, r.tn, r.fp, r.judged), (1, 1, 2, 1, 5));
        assert!((r.accuracy - 0.6).abs() < 1e-9);
        assert!((r.precision - 0.5).abs() < 1e-9);
        assert!((r.recall - 0.5).abs() < 1e-9);
    }
}

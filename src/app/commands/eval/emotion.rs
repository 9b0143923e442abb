//! `vigil eval emotion`: accuracy, per-class precision and recall and the
//! confusion matrix of the emotion classifier on a folder per class.
//!
//! With `--cropped` the images are face crops (as FER2013's 48x48 are) and go
//! straight to the classifier; without it, the face detector and alignment run
//! first and images with no face are counted as `no_face` (and as errors in
//! the accuracy, which is over all images).
//!
//! `--split` restricts the run to one half of a fixed split of the files: a
//! file is in the "holdout" half when the lowest bit of the first byte of
//! SHA-256(file name) is 1, else in the "fit" half. Every parameter fitted on
//! FER2013 PublicTest (the face-api weight) was fitted on the "fit" half
//! only, so figures on "holdout" are honest; figures on "all" or "fit" include
//! data the default configuration was tuned on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use image::{GrayImage, RgbImage};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::app::config::Config;
use crate::app::present::canvas::{rgb, Canvas, BLACK, GLYPH, WHITE};
use crate::capture::{self, CaptureError};
use crate::core::finder::FaceFinder;
use crate::emotion::crop::{face_crop, grey_of};
use crate::emotion::{
    ClassifierOptions, Emotion, EmotionClassifier, EmotionError, EnsembleWeights, TtaMode,
    EMOTION_COUNT,
};
use crate::models::{self, ModelError, ModelStore};

/// Crops classified per call (one batch per model).
pub const EVAL_BATCH: usize = 8;

/// Why an emotion evaluation failed.
#[derive(Debug, Error)]
pub enum EvalError {
    /// The emotion classifier failed to load or run.
    #[error(transparent)]
    Emotion(#[from] EmotionError),
    /// The model directory could not be resolved or a model not loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An image or the data folder could not be read.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// No image in any class sub-folder (after the `--split` filter).
    #[error("{path}: no images in any of the class folders {classes}")]
    NoImages {
        /// The data folder.
        path: PathBuf,
        /// The class folder names looked for, comma-separated.
        classes: String,
    },
    /// The face detector failed to load or run (without `--cropped`).
    #[error("face detector: {0}")]
    Detector(crate::core::finder::FinderError),
    /// The report or the plot could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file (`<stdout>` for the report).
        path: PathBuf,
        /// The underlying error.
        message: String,
    },
}

/// Which files of the data folder are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Every file.
    All,
    /// The half parameters were fitted on (lowest bit of SHA-256(file name)[0] is 0).
    Fit,
    /// The half never fitted on (lowest bit of SHA-256(file name)[0] is 1).
    Holdout,
}

impl Split {
    /// The half `path` belongs to (by its file name).
    pub fn of(path: &Path) -> Split {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let digest = Sha256::digest(name.as_bytes());
        if digest[0] & 1 == 1 {
            Split::Holdout
        } else {
            Split::Fit
        }
    }

    /// Whether `path` is evaluated under this split (always for [`Split::All`]).
    pub fn contains(self, path: &Path) -> bool {
        self == Split::All || Split::of(path) == self
    }
}

/// `vigil eval emotion` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct EmotionEvalArgs {
    /// Folder with one sub-folder per class: angry, disgust, fear, happy, neutral, sad, surprise.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The images are face crops: classify them directly (no detection).
    #[arg(long)]
    pub cropped: bool,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the confusion matrix as a PNG.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Evaluate all files, or one half of the fixed hash split (see dev/emotion/README.md).
    #[arg(long, value_enum, default_value = "all")]
    pub split: Split,
    /// Test-time views (default: emotion.tta).
    #[arg(long, value_enum)]
    pub tta: Option<TtaMode>,
    /// Weight of the net trained here on FER2013 in the ensemble, 0 = not used (default: emotion.fer_weight).
    #[arg(long, value_name = "W")]
    pub fer_weight: Option<f32>,
    /// Weight of mini-Xception in the ensemble, 0 = not used (default: emotion.mini_xception_weight).
    #[arg(long, value_name = "W")]
    pub mini_xception_weight: Option<f32>,
    /// Weight of face-api's net in the ensemble, 0 = not used (default: emotion.faceapi_weight).
    #[arg(long, value_name = "W")]
    pub faceapi_weight: Option<f32>,
    /// Without --cropped: pad each image by this fraction of its size per side
    /// (border repeated) before detection; tight crops need it.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub pad: f32,
    /// Also print the verdict on every image.
    #[arg(long)]
    pub list: bool,
}

/// The result of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EmotionEvalReport {
    /// Images evaluated, with or without a face found.
    pub images: usize,
    /// Images in which no face was found (counted as wrong).
    pub no_face: usize,
    /// Correct verdicts over all images, 0..=1.
    pub accuracy: f64,
    /// Recall per class name, 0..=1 (no-face images count as misses; `null`
    /// for a class with no images).
    pub per_class_recall: serde_json::Map<String, serde_json::Value>,
    /// Precision per class name, 0..=1 (`null` for a class never predicted).
    pub per_class_precision: serde_json::Map<String, serde_json::Value>,
    /// Rows = truth, columns = prediction, both in canonical order.
    pub confusion: Vec<Vec<u64>>,
    /// The class names in canonical order (rows and columns of `confusion`).
    pub classes: Vec<&'static str>,
    /// The files evaluated (`--split`).
    pub split: Split,
    /// The split rule in words, for the record.
    pub split_rule: &'static str,
    /// Whether the images were classified as crops, without detection.
    pub cropped: bool,
    /// The test-time views used.
    pub tta: TtaMode,
    /// Weights of the nets in the ensemble used (`fer`, `mini_xception`, `faceapi`; 0 = not used).
    pub weights: WeightsReport,
    /// Wall-clock time per image over the whole run (loading, detection,
    /// classification), in milliseconds.
    pub ms_per_image: f64,
    /// One entry per image with `--list`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub per_image: Vec<ImageResult>,
}

/// The ensemble's weights, as reported.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct WeightsReport {
    /// The net trained here on FER2013.
    pub fer: f32,
    /// mini-Xception.
    pub mini_xception: f32,
    /// face-api's expression net.
    pub faceapi: f32,
}

impl From<EnsembleWeights> for WeightsReport {
    fn from(w: EnsembleWeights) -> Self {
        Self {
            fer: w.fer,
            mini_xception: w.mini_xception,
            faceapi: w.faceapi,
        }
    }
}

/// The verdict on one image (`--list`).
#[derive(Debug, Clone, Serialize)]
pub struct ImageResult {
    /// The image's path.
    pub file: String,
    /// The class of its folder.
    pub truth: Emotion,
    /// `None`: no face found.
    pub predicted: Option<Emotion>,
    /// Probability of the predicted class, 0..=1 (`None`: no face found).
    pub confidence: Option<f32>,
}

/// A labelled image of the data folder.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The image file.
    pub path: PathBuf,
    /// The class of its folder.
    pub truth: Emotion,
}

/// Lists the images of each class folder that fall in `split`.
pub fn list_samples(dir: &Path, split: Split) -> Result<Vec<Sample>, EvalError> {
    let mut out = Vec::new();
    for e in Emotion::ALL {
        let sub = dir.join(e.name());
        if !sub.is_dir() {
            continue;
        }
        for path in capture::list_images(&sub)? {
            if split.contains(&path) {
                out.push(Sample { path, truth: e });
            }
        }
    }
    if out.is_empty() {
        return Err(EvalError::NoImages {
            path: dir.to_path_buf(),
            classes: Emotion::ALL.map(|e| e.name()).join(", "),
        });
    }
    Ok(out)
}

/// Accumulates a confusion matrix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Confusion {
    /// Images per (truth, prediction), indexed by [`Emotion::index`].
    pub counts: [[u64; EMOTION_COUNT]; EMOTION_COUNT],
    /// Images per true class in which no face was found.
    pub no_face: [u64; EMOTION_COUNT],
}

impl Confusion {
    /// Counts one image (`predicted` `None`: no face found).
    pub fn add(&mut self, truth: Emotion, predicted: Option<Emotion>) {
        match predicted {
            Some(p) => self.counts[truth.index()][p.index()] += 1,
            None => self.no_face[truth.index()] += 1,
        }
    }

    /// Images counted, no-face ones included.
    pub fn images(&self) -> u64 {
        self.counts.iter().flatten().sum::<u64>() + self.no_face.iter().sum::<u64>()
    }

    /// Correct over all images (no-face images count as wrong).
    pub fn accuracy(&self) -> f64 {
        let n = self.images();
        if n == 0 {
            return 0.0;
        }
        (0..EMOTION_COUNT).map(|i| self.counts[i][i]).sum::<u64>() as f64 / n as f64
    }

    /// Recall of class `i` over all its images (no-face included), `None` if it has none.
    pub fn recall(&self, i: usize) -> Option<f64> {
        let n = self.counts[i].iter().sum::<u64>() + self.no_face[i];
        (n > 0).then(|| self.counts[i][i] as f64 / n as f64)
    }

    /// Precision of class `i`, `None` if it was never predicted.
    pub fn precision(&self, i: usize) -> Option<f64> {
        let n: u64 = (0..EMOTION_COUNT).map(|t| self.counts[t][i]).sum();
        (n > 0).then(|| self.counts[i][i] as f64 / n as f64)
    }
}

fn by_class(f: impl Fn(usize) -> Option<f64>) -> serde_json::Map<String, serde_json::Value> {
    Emotion::ALL
        .iter()
        .map(|e| {
            let v = f(e.index())
                .and_then(|x| serde_json::Number::from_f64(x).map(serde_json::Value::Number))
                .unwrap_or(serde_json::Value::Null);
            (e.name().to_string(), v)
        })
        .collect()
}

/// The face detector (evaluation without `--cropped`).
pub fn default_finder(
    config: &Config,
    store: &ModelStore,
) -> Result<Box<dyn FaceFinder>, EvalError> {
    crate::app::build::face_finder(store, config, None).map_err(|e| EvalError::Detector(e.into()))
}

/// Pads `image` by `fraction` of its size on every side, repeating the border
/// (tight crops such as FER2013's leave the detector no context otherwise).
pub fn pad(image: &RgbImage, fraction: f32) -> RgbImage {
    if fraction <= 0.0 || !fraction.is_finite() {
        return image.clone();
    }
    let (w, h) = image.dimensions();
    let (px, py) = (
        (w as f32 * fraction).round() as i64,
        (h as f32 * fraction).round() as i64,
    );
    let (nw, nh) = (w as i64 + 2 * px, h as i64 + 2 * py);
    RgbImage::from_fn(nw as u32, nh as u32, |x, y| {
        let sx = (x as i64 - px).clamp(0, w as i64 - 1) as u32;
        let sy = (y as i64 - py).clamp(0, h as i64 - 1) as u32;
        *image.get_pixel(sx, sy)
    })
}

/// The crop of one image: the image itself with `--cropped`, else the crop of
/// its largest detected face (`None`: no face).
fn crop_of(
    path: &Path,
    args: &EmotionEvalArgs,
    finder: Option<&mut (dyn FaceFinder + '_)>,
) -> Result<Option<GrayImage>, EvalError> {
    let image = capture::load_rgb(path)?;
    let Some(finder) = finder else {
        return Ok(Some(grey_of(&image)));
    };
    let image = pad(&image, args.pad);
    let faces = finder.find(&image).map_err(EvalError::Detector)?;
    let largest = faces
        .iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
    Ok(largest.and_then(|d| face_crop(&image, d)))
}

/// Runs the evaluation; `progress` gets a line now and then.
pub fn evaluate(
    config: &Config,
    args: &EmotionEvalArgs,
    progress: &mut dyn FnMut(&str),
) -> Result<EmotionEvalReport, EvalError> {
    let dir = models::resolve_dir(config.models.dir())?;
    let store = ModelStore::new(&dir);
    let mut finder = if args.cropped {
        None
    } else {
        Some(default_finder(config, &store)?)
    };
    let e = &config.emotion;
    let options = ClassifierOptions {
        tta: args.tta.unwrap_or(e.tta),
        weights: EnsembleWeights {
            fer: args.fer_weight.unwrap_or(e.fer_weight),
            mini_xception: args.mini_xception_weight.unwrap_or(e.mini_xception_weight),
            faceapi: args.faceapi_weight.unwrap_or(e.faceapi_weight),
        },
    };
    let mut classifier = EmotionClassifier::new(&store, options)?;
    let samples = list_samples(&args.data, args.split)?;
    let mut confusion = Confusion::default();
    let started = Instant::now();
    let mut per_image = Vec::new();
    for (ix, chunk) in samples.chunks(EVAL_BATCH).enumerate() {
        let mut crops: Vec<GrayImage> = Vec::new();
        let mut found: Vec<bool> = Vec::new();
        for s in chunk {
            let crop = crop_of(&s.path, args, finder.as_deref_mut())?;
            found.push(crop.is_some());
            crops.extend(crop);
        }
        let mut scores = classifier.classify(&crops)?.into_iter();
        for (s, has_face) in chunk.iter().zip(found) {
            let result = if has_face { scores.next() } else { None };
            let predicted = result.map(|p| p.dominant());
            confusion.add(s.truth, predicted.map(|p| p.0));
            if args.list {
                per_image.push(ImageResult {
                    file: s.path.display().to_string(),
                    truth: s.truth,
                    predicted: predicted.map(|p| p.0),
                    confidence: predicted.map(|p| p.1),
                });
            }
        }
        let done = (ix + 1) * EVAL_BATCH;
        if done % 400 == 0 {
            progress(&format!(
                "{done} / {} images, accuracy so far {:.4}",
                samples.len(),
                confusion.accuracy()
            ));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(EmotionEvalReport {
        images: confusion.images() as usize,
        no_face: confusion.no_face.iter().sum::<u64>() as usize,
        accuracy: confusion.accuracy(),
        per_class_recall: by_class(|i| confusion.recall(i)),
        per_class_precision: by_class(|i| confusion.precision(i)),
        confusion: confusion.counts.iter().map(|r| r.to_vec()).collect(),
        classes: Emotion::ALL.map(|e| e.name()).to_vec(),
        split: args.split,
        split_rule: "holdout iff SHA-256(file name)[0] & 1 == 1; ensemble weights chosen on fit",
        cropped: args.cropped,
        tta: options.tta,
        weights: WeightsReport::from(options.weights),
        ms_per_image: if samples.is_empty() {
            0.0
        } else {
            elapsed * 1e3 / samples.len() as f64
        },
        per_image,
    })
}

impl std::fmt::Display for EmotionEvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_text(self))
    }
}

/// The human-readable report.
fn to_text(r: &EmotionEvalReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "images {} (split {:?}: {}), no face {}, tta {:?}, weights fer {} mini-Xception {} face-api {}\n",
        r.images,
        r.split,
        r.split_rule,
        r.no_face,
        r.tta,
        r.weights.fer,
        r.weights.mini_xception,
        r.weights.faceapi
    ));
    s.push_str(&format!(
        "accuracy {:.4}   ({:.2} ms per image)\n\n",
        r.accuracy, r.ms_per_image
    ));
    s.push_str("class      precision  recall\n");
    for name in &r.classes {
        let f = |m: &serde_json::Map<String, serde_json::Value>| {
            m.get(*name)
                .and_then(|v| v.as_f64())
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "-".into())
        };
        s.push_str(&format!(
            "{name:<10} {:>9}  {:>6}\n",
            f(&r.per_class_precision),
            f(&r.per_class_recall)
        ));
    }
    for r in &r.per_image {
        let verdict = match (r.predicted, r.confidence) {
            (Some(p), Some(c)) => format!("{p} {c:.2}"),
            _ => "no face".into(),
        };
        let mark = if r.predicted == Some(r.truth) {
            "ok "
        } else {
            "ERR"
        };
        s.push_str(&format!(
            "{mark} {:<9} -> {verdict:<14} {}\n",
            r.truth.name(),
            r.file
        ));
    }
    s.push_str("\nconfusion (rows = truth, columns = predicted)\n          ");
    for name in &r.classes {
        s.push_str(&format!("{:>6}", &name[..3]));
    }
    s.push('\n');
    for (name, row) in r.classes.iter().zip(&r.confusion) {
        s.push_str(&format!("{name:<10}"));
        for v in row {
            s.push_str(&format!("{v:>6}"));
        }
        s.push('\n');
    }
    s
}

/// Side of one confusion-matrix cell in the plot, in pixels.
const CELL: i64 = 56;
const MARGIN: i64 = 90;

/// Draws the confusion matrix (cells shaded by row share, with counts).
pub fn plot(r: &EmotionEvalReport) -> Canvas {
    let n = r.classes.len() as i64;
    let side = (MARGIN + n * CELL + 20) as usize;
    let mut c = Canvas::new(side, side + 20);
    c.fill(0, 0, side as i64, side as i64 + 20, WHITE, 1.0);
    c.text(
        8,
        6,
        &format!("accuracy {:.3}  n={}", r.accuracy, r.images),
        1,
        BLACK,
    );
    c.text(MARGIN, 24, "predicted", 1, BLACK);
    c.text(4, MARGIN - 30, "truth", 1, BLACK);
    for (i, name) in r.classes.iter().enumerate() {
        let i = i as i64;
        c.text(MARGIN + i * CELL + 4, MARGIN - 14, &name[..3], 1, BLACK);
        c.text(8, MARGIN + i * CELL + CELL / 2 - 4, name, 1, BLACK);
    }
    for (t, row) in r.confusion.iter().enumerate() {
        let total: u64 = row.iter().sum();
        for (p, v) in row.iter().enumerate() {
            let share = if total > 0 {
                *v as f32 / total as f32
            } else {
                0.0
            };
            let shade = (255.0 * (1.0 - share)).round() as u8;
            let colour = rgb(shade, shade, 255);
            let (x, y) = (MARGIN + p as i64 * CELL, MARGIN + t as i64 * CELL);
            c.fill(x, y, x + CELL - 2, y + CELL - 2, colour, 1.0);
            let text = v.to_string();
            let tw = (text.len() * GLYPH) as i64;
            let ink = if share > 0.5 { WHITE } else { BLACK };
            c.text(x + (CELL - tw) / 2, y + CELL / 2 - 4, &text, 1, ink);
        }
    }
    c
}

/// Writes `canvas` as a PNG.
pub fn save_png(canvas: &Canvas, path: &Path) -> Result<(), EvalError> {
    let img = image::RgbImage::from_fn(canvas.width as u32, canvas.height as u32, |x, y| {
        let p = canvas.pixels[y as usize * canvas.width + x as usize];
        image::Rgb([(p >> 16) as u8, (p >> 8) as u8, p as u8])
    });
    img.save(path).map_err(|e| EvalError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// `vigil eval emotion`: evaluates, prints the report (JSON last with --json), plots.
pub fn run(config: &Config, args: &EmotionEvalArgs) -> Result<EmotionEvalReport, EvalError> {
    let report = evaluate(config, args, &mut |line| eprintln!("{line}"))?;
    let mut out = std::io::stdout().lock();
    let write_err = |e: std::io::Error| EvalError::Write {
        path: PathBuf::from("<stdout>"),
        message: e.to_string(),
    };
    write!(out, "{report}").map_err(write_err)?;
    if let Some(path) = &args.plot {
        save_png(&plot(&report), path)?;
        writeln!(out, "confusion matrix plot: {}", path.display()).map_err(write_err)?;
    }
    if args.json {
        let line = serde_json::to_string(&report).map_err(|e| EvalError::Write {
            path: PathBuf::from("<stdout>"),
            message: e.to_string(),
        })?;
        writeln!(out, "{line}").map_err(write_err)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts_and_rates() {
        let mut c = Confusion::default();
        c.add(Emotion::Happy, Some(Emotion::Happy));
        c.add(Emotion::Happy, Some(Emotion::Sad));
        c.add(Emotion::Sad, Some(Emotion::Sad));
        c.add(Emotion::Sad, None);
        assert_eq!(c.images(), 4);
        assert!((c.accuracy() - 0.5).abs() < 1e-9);
        assert_eq!(c.recall(Emotion::Happy.index()), Some(0.5));
        assert_eq!(c.recall(Emotion::Sad.index()), Some(0.5));
        assert_eq!(c.precision(Emotion::Sad.index()), Some(0.5));
        assert_eq!(c.precision(Emotion::Fear.index()), None);
    }

    #[test]
    fn split_is_a_stable_function_of_the_file_name() {
        let a = Split::of(Path::new("/x/happy/PublicTest_10130075.jpg"));
        let b = Split::of(Path::new("/elsewhere/PublicTest_10130075.jpg"));
        assert_eq!(a, b);
        assert!(Split::All.contains(Path::new("whatever.png")));
        // Both halves occur.
        let halves: std::collections::HashSet<Split> = (0..32)
            .map(|i| Split::of(Path::new(&format!("f{i}.jpg"))))
            .collect();
        assert_eq!(halves.len(), 2);
    }

    #[test]
    fn plot_has_the_expected_size() {
        let r = EmotionEvalReport {
            images: 1,
            no_face: 0,
            accuracy: 1.0,
            per_class_recall: by_class(|_| None),
            per_class_precision: by_class(|_| None),
            confusion: vec![vec![0; 7]; 7],
            classes: Emotion::ALL.map(|e| e.name()).to_vec(),
            split: Split::All,
            split_rule: "",
            cropped: true,
            tta: TtaMode::Flip,
            weights: WeightsReport::from(EnsembleWeights::FER_ONLY),
            ms_per_image: 0.0,
            per_image: Vec::new(),
        };
        let c = plot(&r);
        assert_eq!(c.width as i64, MARGIN + 7 * CELL + 20);
    }
}

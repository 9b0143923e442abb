//! `vigil eval scene`: accuracy of the owner / others / objects head.
//!
//! - `--data DIR [--folds 5]`: DIR has `owner/`, `others/`, `objects/`;
//!   stratified k-fold training and testing of the head on DIR alone (seeded).
//! - `--enroll DIR --test DIR`: the real path: the head is trained on the
//!   owner images of the first DIR plus the bundled negatives, then tested on
//!   the second DIR's `owner/ others/ objects/`.
//!
//! Images go through the runtime path: crop rule, backbone, head. File names
//! may start with their source (`att-s21-1.pgm`): results are also broken
//! down by that prefix. `--json` prints one JSON object as the last line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use image::RgbImage;
use serde::Serialize;

use crate::app::config::Config;
use crate::capture::{list_images, load_rgb};
use crate::core::face::Detection;
use crate::core::finder::FaceFinder;
use crate::models::ModelStore;
use crate::scene::features::NegativeSource;
use crate::scene::train::{fit, FitReport};
use crate::scene::{
    load_negatives, train_head, Backbone, BackboneVariant, CropMode, CropSpec, Features,
    NegativeSet, Sample, SceneClass, SceneError,
};
use anyhow::Result;

/// `vigil eval scene` arguments.
#[derive(Debug, Clone, Args)]
pub struct SceneEvalArgs {
    /// k-fold mode: a folder with owner/, others/ and objects/.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["enroll", "test"])]
    pub data: Option<PathBuf>,
    /// Folds of the k-fold mode.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub folds: usize,
    /// Enrollment mode: the owner's enrollment images (DIR/owner/ if it exists, else DIR).
    #[arg(long, value_name = "DIR", requires = "test")]
    pub enroll: Option<PathBuf>,
    /// Enrollment mode: the test set, with owner/, others/ and objects/.
    #[arg(long, value_name = "DIR", requires = "enroll")]
    pub test: Option<PathBuf>,
    /// Print one JSON object as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Backbone: fp32 or int8 (default: scene.backbone).
    #[arg(long, value_name = "VARIANT")]
    pub backbone: Option<BackboneVariant>,
    /// What the classifier looks at: whole_frame or largest_face (default: scene.crop).
    #[arg(long, value_name = "MODE")]
    pub crop: Option<CropMode>,
    /// Face margin for largest_face (default: scene.face_margin).
    #[arg(long, value_name = "FRACTION")]
    pub face_margin: Option<f32>,
    /// Look at the region in grey (true) or colour (false) (default: scene.grey).
    #[arg(long, value_name = "BOOL")]
    pub grey: Option<bool>,
    /// Enrollment mode: negatives from this file instead of the bundled one.
    #[arg(long, value_name = "FILE", conflicts_with = "negatives_dir")]
    pub negatives: Option<PathBuf>,
    /// Enrollment mode: compute the negatives from the images in DIR/others
    /// and DIR/objects (to compare crop rules without rebuilding the file).
    #[arg(long, value_name = "DIR")]
    pub negatives_dir: Option<PathBuf>,
    /// Enrollment mode: keep at most N negatives per source (evenly spaced).
    #[arg(long, value_name = "N")]
    pub negatives_per_source: Option<usize>,
    /// Enrollment mode: use only the first N enrollment images.
    #[arg(long, value_name = "N")]
    pub max_owner: Option<usize>,
    /// Enrollment mode: train on this backbone's features (default: --backbone),
    /// test on --backbone's: measures a head used with another backbone.
    #[arg(long, value_name = "VARIANT")]
    pub train_backbone: Option<BackboneVariant>,
    /// Enrollment mode: save the trained head to FILE.
    #[arg(long, value_name = "FILE")]
    pub save_head: Option<PathBuf>,
    /// Faces of the images from this file (JSON lines `{"path", "faces"}`)
    /// instead of running the detector.
    #[arg(long, value_name = "FILE")]
    pub faces_cache: Option<PathBuf>,
    /// List every misclassified image.
    #[arg(long)]
    pub errors: bool,
}

/// The face detector when the crop rule needs faces (else none: whole frames).
pub fn face_finder(
    store: &ModelStore,
    config: &Config,
    crop: &CropSpec,
) -> Result<Option<Box<dyn FaceFinder>>> {
    if crop.needs_faces() {
        Ok(Some(crate::app::build::face_finder(store, config, None)?))
    } else {
        Ok(None)
    }
}

/// One image of a data set.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledImage {
    /// The image file.
    pub path: PathBuf,
    /// The class of its folder (owner, others, objects).
    pub class: SceneClass,
    /// File-name prefix before the first `-` (the whole stem if none).
    pub source: String,
}

/// The images of `dir/<class>/` for each of `classes`; each folder must exist.
pub fn list_set(dir: &Path, classes: &[SceneClass]) -> Result<Vec<LabelledImage>> {
    let mut out = Vec::new();
    for class in classes {
        let sub = dir.join(class.label());
        if !sub.is_dir() {
            return Err(SceneError::DataSet(format!(
                "{} has no {}/ folder (expected owner/, others/, objects/)",
                dir.display(),
                class.label()
            ))
            .into());
        }
        out.extend(list_class(&sub, *class)?);
    }
    Ok(out)
}

/// The images of one folder, all of `class`.
pub fn list_class(dir: &Path, class: SceneClass) -> Result<Vec<LabelledImage>> {
    Ok(list_images(dir)?
        .into_iter()
        .map(|path| {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let source = stem.split('-').next().unwrap_or(&stem).to_string();
            LabelledImage {
                path,
                class,
                source,
            }
        })
        .collect())
}

/// An image's features and whether they were taken around a face.
#[derive(Debug, Clone)]
pub struct Featurized {
    /// The image.
    pub image: LabelledImage,
    /// The backbone's features of its region.
    pub features: Features,
    /// Whether the region was taken around a face (else the whole frame).
    pub face_region: bool,
}

/// Detections recorded earlier (JSON lines `{"path": ..., "faces": [Detection]}`;
/// a relative path is relative to the cache file's folder), to evaluate many
/// crop settings without re-detecting, or to test without the detector.
#[derive(Debug, Default)]
pub struct FacesCache {
    faces: HashMap<PathBuf, Vec<Detection>>,
}

impl FacesCache {
    /// Reads a cache file; an unreadable file or a malformed line (named) is an error.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| SceneError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        #[derive(serde::Deserialize)]
        struct Line {
            path: PathBuf,
            faces: Vec<Detection>,
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let mut faces = HashMap::new();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let l: Line = serde_json::from_str(line).map_err(|e| {
                SceneError::DataSet(format!("{} line {}: {e}", path.display(), i + 1))
            })?;
            let full = base.join(&l.path);
            let key = std::fs::canonicalize(&full).unwrap_or(full);
            faces.insert(key, l.faces);
        }
        Ok(Self { faces })
    }

    /// The faces recorded for `image`; an error if it is not in the cache.
    pub fn get(&self, image: &Path) -> Result<&[Detection]> {
        let key = std::fs::canonicalize(image).unwrap_or_else(|_| image.to_path_buf());
        self.faces.get(&key).map(Vec::as_slice).ok_or_else(|| {
            SceneError::DataSet(format!("{} is not in the faces cache", image.display())).into()
        })
    }
}

/// Where the faces of an image come from.
enum Faces {
    None,
    Finder(Box<dyn FaceFinder>),
    Cache(FacesCache),
}

/// Images to features through the runtime path (crop rule, backbone).
pub struct Featurizer {
    /// The scene backbone (MobileNetV2, fp32 or int8).
    pub backbone: Backbone,
    /// The crop rule: whole frame or largest face, margin, grey.
    pub crop: CropSpec,
    faces: Faces,
    /// Backbone time per image (for the report).
    pub backbone_times: Vec<Duration>,
}

impl Featurizer {
    /// Loads the backbone `variant`, and the faces source the crop rule
    /// needs: `faces_cache` if given, else the face detector (none for whole frames).
    pub fn new(
        store: &ModelStore,
        config: &Config,
        variant: BackboneVariant,
        crop: CropSpec,
        faces_cache: Option<&Path>,
    ) -> Result<Self> {
        let faces = match (crop.needs_faces(), faces_cache) {
            (false, _) => Faces::None,
            (true, Some(p)) => Faces::Cache(FacesCache::load(p)?),
            (true, None) => match face_finder(store, config, &crop)? {
                Some(f) => Faces::Finder(f),
                None => Faces::None,
            },
        };
        Ok(Self {
            backbone: Backbone::with_variant(store, variant)?,
            faces,
            crop,
            backbone_times: Vec::new(),
        })
    }

    /// Features of one image (`path` names it for the faces cache).
    pub fn image(&mut self, path: &Path, image: &RgbImage) -> Result<(Features, bool)> {
        let faces = match &mut self.faces {
            Faces::None => Vec::new(),
            Faces::Finder(f) => f.find(image).map_err(anyhow::Error::from_boxed)?,
            Faces::Cache(c) => c.get(path)?.to_vec(),
        };
        let t = Instant::now();
        let (features, region) = self.crop.features(&mut self.backbone, image, &faces)?;
        self.backbone_times.push(t.elapsed());
        Ok((features, region.face))
    }

    /// Loads and featurizes every image, in order (progress logged every 200).
    pub fn all(&mut self, images: &[LabelledImage]) -> Result<Vec<Featurized>> {
        let mut out = Vec::with_capacity(images.len());
        for (i, img) in images.iter().enumerate() {
            let rgb = load_rgb(&img.path)?;
            let (features, face_region) = self.image(&img.path, &rgb)?;
            out.push(Featurized {
                image: img.clone(),
                features,
                face_region,
            });
            if (i + 1) % 200 == 0 {
                log::info!("features: {} of {} images", i + 1, images.len());
            }
        }
        Ok(out)
    }

    /// Median backbone time per image so far, in milliseconds (0 before any).
    pub fn median_backbone_ms(&self) -> f64 {
        median_ms(&self.backbone_times)
    }
}

fn median_ms(times: &[Duration]) -> f64 {
    if times.is_empty() {
        return 0.0;
    }
    let mut v: Vec<f64> = times.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Negatives built from images (`DIR/others`, `DIR/objects`), named by source.
pub fn negatives_from_images(featurizer: &mut Featurizer, dir: &Path) -> Result<NegativeSet> {
    let images = list_set(dir, &[SceneClass::Others, SceneClass::Objects])?;
    let feats = featurizer.all(&images)?;
    let named = feats
        .into_iter()
        .map(|f| {
            (
                f.image.source.clone(),
                Sample {
                    class: f.image.class,
                    features: f.features,
                },
            )
        })
        .collect();
    Ok(NegativeSet::from_named(
        featurizer.backbone.id().clone(),
        featurizer.crop,
        named,
    )?)
}

/// At most `n` samples per source, evenly spaced.
pub fn thin_negatives(set: &NegativeSet, n: usize) -> NegativeSet {
    let mut sources = Vec::new();
    let mut samples = Vec::new();
    let mut start = 0;
    for s in &set.sources {
        let group = &set.samples[start..start + s.count];
        start += s.count;
        let keep = n.min(s.count);
        for i in 0..keep {
            samples.push(group[i * s.count / keep].clone());
        }
        sources.push(NegativeSource {
            class: s.class,
            name: s.name.clone(),
            count: keep,
        });
    }
    NegativeSet {
        backbone: set.backbone.clone(),
        crop: set.crop,
        sources,
        samples,
    }
}

/// Rows: true class; columns: predicted class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Confusion(pub [[u32; SceneClass::COUNT]; SceneClass::COUNT]);

impl Confusion {
    /// Counts one image.
    pub fn add(&mut self, truth: SceneClass, predicted: SceneClass) {
        self.0[truth.index()][predicted.index()] += 1;
    }

    /// Images counted.
    pub fn total(&self) -> u32 {
        self.0.iter().flatten().sum()
    }

    /// Images whose prediction is their true class.
    pub fn correct(&self) -> u32 {
        (0..SceneClass::COUNT).map(|i| self.0[i][i]).sum()
    }

    /// `correct / total`, 0..=1 (0 when empty).
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// Share of `class`'s images predicted as `class`, 0..=1 (0 when it has none).
    pub fn recall(&self, class: SceneClass) -> f64 {
        let row = &self.0[class.index()];
        ratio(row[class.index()], row.iter().sum())
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Accuracy of one source (file-name prefix).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceScore {
    /// The source's true class label.
    pub class: String,
    /// Test images of the source.
    pub images: u32,
    /// Of those, the correctly classified.
    pub correct: u32,
}

/// Everything `vigil eval scene` reports (the `--json` line).
#[derive(Debug, Clone, Serialize)]
pub struct SceneEvalReport {
    /// `kfold` (`--data`) or `enroll` (`--enroll`, `--test`).
    pub mode: String,
    /// Backbone variant of the test features (`fp32` or `int8`).
    pub backbone: String,
    /// Backbone of the training features (enrollment mode; same as `backbone`
    /// unless `--train-backbone`).
    pub train_backbone: String,
    /// Crop mode: `whole_frame` or `largest_face`.
    pub crop: String,
    /// Fraction of the face box's side added on every side (`largest_face`).
    pub face_margin: f32,
    /// Whether the region was looked at in grey rather than colour.
    pub grey: bool,
    /// Test images classified.
    pub images: u32,
    /// Correct over all test images, 0..=1.
    pub accuracy: f64,
    /// Recall per class label, 0..=1.
    pub per_class_recall: BTreeMap<String, f64>,
    /// `confusion[true][predicted]`.
    pub confusion: BTreeMap<String, BTreeMap<String, u32>>,
    /// Accuracy per source, keyed `class/source` (source: file-name prefix).
    pub per_source: BTreeMap<String, SourceScore>,
    /// Training samples per class (enrollment mode; per fold on average in k-fold).
    pub train_samples: BTreeMap<String, u32>,
    /// Test images whose region was around a face.
    pub test_face_regions: u32,
    /// Median head training time, in milliseconds (one fit per fold in k-fold).
    pub train_ms: f64,
    /// L-BFGS iterations of the head fit (the most over the folds in k-fold).
    pub train_iterations: usize,
    /// Final training objective (enrollment mode; last fold in k-fold).
    pub train_loss: f64,
    /// Median backbone time per image over the run, in milliseconds (whole
    /// process, not a benchmark).
    pub backbone_ms_median: f64,
    /// Misclassified test images: path, true class, predicted class and the
    /// predicted class's probability (not in the JSON).
    #[serde(skip)]
    pub errors: Vec<(PathBuf, SceneClass, SceneClass, f32)>,
}

impl SceneEvalReport {
    fn new(mode: &str, variant: BackboneVariant, crop: CropSpec) -> Self {
        Self {
            mode: mode.into(),
            backbone: variant.as_str().into(),
            train_backbone: variant.as_str().into(),
            crop: crop.mode.as_str().into(),
            face_margin: crop.margin,
            grey: crop.grey,
            images: 0,
            accuracy: 0.0,
            per_class_recall: BTreeMap::new(),
            confusion: BTreeMap::new(),
            per_source: BTreeMap::new(),
            train_samples: BTreeMap::new(),
            test_face_regions: 0,
            train_ms: 0.0,
            train_iterations: 0,
            train_loss: 0.0,
            backbone_ms_median: 0.0,
            errors: Vec::new(),
        }
    }

    fn finish(&mut self, confusion: &Confusion) {
        self.images = confusion.total();
        self.accuracy = confusion.accuracy();
        for t in SceneClass::ALL {
            self.per_class_recall
                .insert(t.label().into(), confusion.recall(t));
            let row = SceneClass::ALL
                .iter()
                .map(|p| (p.label().to_string(), confusion.0[t.index()][p.index()]))
                .collect();
            self.confusion.insert(t.label().into(), row);
        }
    }

    fn record(&mut self, f: &Featurized, predicted: SceneClass, score: f32) {
        let e = self
            .per_source
            .entry(format!("{}/{}", f.image.class, f.image.source))
            .or_default();
        e.class = f.image.class.label().into();
        e.images += 1;
        if predicted == f.image.class {
            e.correct += 1;
        } else {
            self.errors
                .push((f.image.path.clone(), f.image.class, predicted, score));
        }
        self.test_face_regions += f.face_region as u32;
    }

    /// The human-readable report; `list_errors` appends every misclassified image.
    pub fn to_text(&self, list_errors: bool) -> String {
        let mut s = format!(
            "scene eval ({} mode): backbone {}{}, crop {}{}{}\n",
            self.mode,
            self.backbone,
            if self.train_backbone != self.backbone {
                format!(" (head trained on {} features)", self.train_backbone)
            } else {
                String::new()
            },
            self.crop,
            if self.crop == CropMode::LargestFace.as_str() {
                format!(" (margin {})", self.face_margin)
            } else {
                String::new()
            },
            if self.grey { ", grey" } else { ", colour" }
        );
        s += &format!(
            "trained on {} (owner / others / objects), fit {:.0} ms median, {} iterations, loss {:.5}\n",
            SceneClass::ALL
                .iter()
                .map(|c| self.train_samples.get(c.label()).copied().unwrap_or(0).to_string())
                .collect::<Vec<_>>()
                .join(" / "),
            self.train_ms,
            self.train_iterations,
            self.train_loss
        );
        s += &format!(
            "{} test images ({} around a face): accuracy {:.2}%\n",
            self.images,
            self.test_face_regions,
            100.0 * self.accuracy
        );
        s += "true \\ predicted     owner   others  objects   recall\n";
        for t in SceneClass::ALL {
            let row = &self.confusion[t.label()];
            s += &format!(
                "{:<18}{:>8}{:>9}{:>9}{:>8.1}%\n",
                t.label(),
                row["owner"],
                row["others"],
                row["objects"],
                100.0 * self.per_class_recall[t.label()]
            );
        }
        s += "per source:\n";
        for (name, sc) in &self.per_source {
            s += &format!(
                "  {:<32}{:>5}/{:<5}{:>7.1}%\n",
                name,
                sc.correct,
                sc.images,
                100.0 * ratio(sc.correct, sc.images)
            );
        }
        if list_errors && !self.errors.is_empty() {
            s += "misclassified:\n";
            for (p, t, pr, score) in &self.errors {
                s += &format!("  {}  {} -> {} ({:.2})\n", p.display(), t, pr, score);
            }
        }
        s.pop();
        s
    }
}

/// SplitMix64: a tiny seeded generator for the fold assignment.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Stratified fold of each item: shuffled within its class (seeded), then dealt round-robin.
pub fn fold_assignment(classes: &[SceneClass], folds: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix(seed);
    let mut fold = vec![0; classes.len()];
    for class in SceneClass::ALL {
        let mut idx: Vec<usize> = (0..classes.len())
            .filter(|i| classes[*i] == class)
            .collect();
        for i in (1..idx.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for (k, i) in idx.into_iter().enumerate() {
            fold[i] = k % folds;
        }
    }
    fold
}

fn resolve(config: &Config, args: &SceneEvalArgs) -> (BackboneVariant, CropSpec) {
    let mut scene = config.scene.clone();
    if let Some(b) = args.backbone {
        scene.backbone = b;
    }
    if let Some(c) = args.crop {
        scene.crop = c;
    }
    if let Some(m) = args.face_margin {
        scene.face_margin = m;
    }
    if let Some(g) = args.grey {
        scene.grey = g;
    }
    (scene.backbone, scene.crop_spec())
}

/// Runs `vigil eval scene` and returns its report.
pub fn evaluate(
    config: &Config,
    store: &ModelStore,
    args: &SceneEvalArgs,
) -> Result<SceneEvalReport> {
    let (variant, crop) = resolve(config, args);
    if !(0.0..=crate::scene::MAX_FACE_MARGIN as f32).contains(&crop.margin) {
        return Err(SceneError::DataSet(format!(
            "--face-margin must be between 0 and {}",
            crate::scene::MAX_FACE_MARGIN
        ))
        .into());
    }
    let params = config.scene.train_params();
    match (&args.data, &args.enroll, &args.test) {
        (Some(data), None, None) => {
            if args.folds < 2 {
                return Err(SceneError::DataSet("--folds must be at least 2".into()).into());
            }
            let images = list_set(data, &SceneClass::ALL)?;
            for class in SceneClass::ALL {
                let n = images.iter().filter(|i| i.class == class).count();
                if n < args.folds {
                    return Err(SceneError::DataSet(format!(
                        "{}/{} has {n} images, fewer than the {} folds",
                        data.display(),
                        class.label(),
                        args.folds
                    ))
                    .into());
                }
            }
            let mut featurizer =
                Featurizer::new(store, config, variant, crop, args.faces_cache.as_deref())?;
            let feats = featurizer.all(&images)?;
            let mut report = SceneEvalReport::new("kfold", variant, crop);
            let classes: Vec<SceneClass> = feats.iter().map(|f| f.image.class).collect();
            let folds = fold_assignment(&classes, args.folds, args.seed);
            let mut confusion = Confusion::default();
            let mut fits: Vec<FitReport> = Vec::new();
            let mut train_counts = [0u32; SceneClass::COUNT];
            for k in 0..args.folds {
                let train: Vec<Sample> = feats
                    .iter()
                    .zip(&folds)
                    .filter(|(_, f)| **f != k)
                    .map(|(x, _)| Sample {
                        class: x.image.class,
                        features: x.features.clone(),
                    })
                    .collect();
                for s in &train {
                    train_counts[s.class.index()] += 1;
                }
                let refs: Vec<&Sample> = train.iter().collect();
                let (model, fit_report) = fit(&refs, &params)?;
                fits.push(fit_report);
                for (x, _) in feats.iter().zip(&folds).filter(|(_, f)| **f == k) {
                    let (pred, score) = model.scores(&x.features).best();
                    confusion.add(x.image.class, pred);
                    report.record(x, pred, score);
                }
            }
            for c in SceneClass::ALL {
                report.train_samples.insert(
                    c.label().into(),
                    train_counts[c.index()] / args.folds as u32,
                );
            }
            report.train_ms = median_ms(&fits.iter().map(|f| f.elapsed).collect::<Vec<_>>());
            report.train_iterations = fits.iter().map(|f| f.iterations).max().unwrap_or(0);
            report.train_loss = fits.last().map(|f| f.loss).unwrap_or(0.0);
            report.backbone_ms_median = featurizer.median_backbone_ms();
            report.finish(&confusion);
            Ok(report)
        }
        (None, Some(enroll), Some(test)) => {
            let owner_dir = if enroll.join("owner").is_dir() {
                enroll.join("owner")
            } else {
                enroll.clone()
            };
            let mut owner_images = list_class(&owner_dir, SceneClass::Owner)?;
            if let Some(n) = args.max_owner {
                owner_images.truncate(n);
            }
            let test_images = list_set(test, &SceneClass::ALL)?;
            // Training features come from --train-backbone when given (a
            // measurement of a head applied to another backbone's features).
            let train_variant = args.train_backbone.unwrap_or(variant);
            let mut featurizer = Featurizer::new(
                store,
                config,
                train_variant,
                crop,
                args.faces_cache.as_deref(),
            )?;
            let negatives = match (&args.negatives, &args.negatives_dir) {
                (Some(file), _) => {
                    let set = NegativeSet::load(file)?;
                    set.backbone.check(featurizer.backbone.id(), file)?;
                    set
                }
                (None, Some(dir)) => negatives_from_images(&mut featurizer, dir)?,
                (None, None) => load_negatives(store, &featurizer.backbone)?,
            };
            let negatives = match args.negatives_per_source {
                Some(n) => thin_negatives(&negatives, n),
                None => negatives,
            };
            // As at enrollment: an owner frame with no face found is not used
            // (known only when the crop rule looks for faces).
            let owner: Vec<Features> = featurizer
                .all(&owner_images)?
                .into_iter()
                .filter(|f| f.face_region || !crop.needs_faces())
                .map(|f| f.features)
                .collect();
            let (head, fit_report) =
                train_head(&owner, &negatives, featurizer.backbone.id(), crop, &params)?;
            if let Some(p) = &args.save_head {
                head.save(p)?;
                log::info!("head saved to {}", p.display());
            }
            let mut report = SceneEvalReport::new("enroll", variant, crop);
            report.train_backbone = train_variant.as_str().into();
            if train_variant != variant {
                featurizer =
                    Featurizer::new(store, config, variant, crop, args.faces_cache.as_deref())?;
            }
            for c in SceneClass::ALL {
                report
                    .train_samples
                    .insert(c.label().into(), head.counts.get(c));
            }
            report.train_ms = fit_report.elapsed.as_secs_f64() * 1e3;
            report.train_iterations = fit_report.iterations;
            report.train_loss = fit_report.loss;
            let mut confusion = Confusion::default();
            for x in featurizer.all(&test_images)? {
                let (pred, score) = head.scores(&x.features).best();
                confusion.add(x.image.class, pred);
                report.record(&x, pred, score);
            }
            report.backbone_ms_median = featurizer.median_backbone_ms();
            report.finish(&confusion);
            Ok(report)
        }
        _ => Err(SceneError::DataSet(
            "give either --data DIR (k-fold) or --enroll DIR --test DIR".into(),
        )
        .into()),
    }
}

/// `vigil eval scene`: prints the report (and the JSON line with `--json`).
pub fn run(config: &Config, args: &SceneEvalArgs) -> Result<SceneEvalReport> {
    let dir = crate::app::build::models_dir(config)?;
    let store = ModelStore::new(&dir);
    let report = evaluate(config, &store, args)?;
    println!("{}", report.to_text(args.errors));
    if args.json {
        let line = serde_json::to_string(&report)
            .map_err(|e| SceneError::DataSet(format!("cannot write the report: {e}")))?;
        println!("{line}");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_seeded_and_cover_everything() {
        let classes: Vec<SceneClass> = (0..50).map(|i| SceneClass::ALL[i % 3]).collect();
        let a = fold_assignment(&classes, 5, 7);
        assert_eq!(a, fold_assignment(&classes, 5, 7));
        assert_ne!(a, fold_assignment(&classes, 5, 8));
        for class in SceneClass::ALL {
            let mut per_fold = [0; 5];
            for (c, f) in classes.iter().zip(&a) {
                if *c == class {
                    per_fold[*f] += 1;
                }
            }
            let (lo, hi) = (
                per_fold.iter().min().unwrap(),
                per_fold.iter().max().unwrap(),
            );
            assert!(hi - lo <= 1, "{per_fold:?}");
        }
    }

    #[test]
    fn confusion_metrics() {
        let mut c = Confusion::default();
        c.add(SceneClass::Owner, SceneClass::Owner);
        c.add(SceneClass::Owner, SceneClass::Others);
        c.add(SceneClass::Objects, SceneClass::Objects);
        assert_eq!(c.total(), 3);
        assert!((c.accuracy() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.recall(SceneClass::Owner), 0.5);
        assert_eq!(c.recall(SceneClass::Others), 0.0);
    }
}

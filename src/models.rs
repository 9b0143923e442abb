//! The one place that loads ONNX files.
//!
//! Every model is read into memory once, its SHA-256 checked against the
//! manifest compiled into the binary (`models/SHA256SUMS`), parsed from those
//! same bytes (no check-then-reopen race), and its declared inputs and outputs
//! compared with what the stage that uses it expects. A stage then asks for a
//! [`Plan`]: the graph with a concrete input shape, optimised once, with a
//! reusable execution state.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use thiserror::Error;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// The checksum manifest, compiled in so that a model altered on disk is
/// rejected even if the manifest beside it was altered too.
pub const MANIFEST: &str = include_str!("../models/SHA256SUMS");

/// Environment variable that overrides the models directory.
pub const MODELS_DIR_ENV: &str = "VIGIL_MODELS";

/// Where an installed package keeps the models (see `cross/README.md`).
pub const INSTALLED_MODELS_DIR: &str = "/usr/share/vigil/models";

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("model file {path} is missing or unreadable: {source}")]
    Missing {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("model file {path} is not in the checksum manifest (models/SHA256SUMS)")]
    NotInManifest { path: PathBuf },
    #[error(
        "model file {path} was altered or is corrupt: SHA-256 {actual}, manifest expects {expected}"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model file {path} is not a valid ONNX model: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("model {file}: {message}")]
    Interface { file: String, message: String },
    #[error("model {file}: cannot build a plan for input shape {shape:?}: {message}")]
    Plan {
        file: String,
        shape: Vec<usize>,
        message: String,
    },
    #[error("model {file}: inference failed: {message}")]
    Run { file: String, message: String },
    #[error("no models directory found: tried {tried}; set models.dir in the config or {env}")]
    NoModelsDir { tried: String, env: &'static str },
}

/// The models Vigil runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ModelId {
    PNet,
    RNet,
    ONet,
    Embedding,
    Emotion,
    EmotionFaceApi,
    SceneFp32,
    SceneInt8,
}

impl ModelId {
    pub const ALL: [ModelId; 8] = [
        ModelId::PNet,
        ModelId::RNet,
        ModelId::ONet,
        ModelId::Embedding,
        ModelId::Emotion,
        ModelId::EmotionFaceApi,
        ModelId::SceneFp32,
        ModelId::SceneInt8,
    ];

    pub fn spec(self) -> &'static ModelSpec {
        match self {
            ModelId::PNet => &PNET,
            ModelId::RNet => &RNET,
            ModelId::ONet => &ONET,
            ModelId::Embedding => &EMBEDDING,
            ModelId::Emotion => &EMOTION,
            ModelId::EmotionFaceApi => &EMOTION_FACEAPI,
            ModelId::SceneFp32 => &SCENE_FP32,
            ModelId::SceneInt8 => &SCENE_INT8,
        }
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec().file)
    }
}

/// One dimension of an expected tensor shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Any size (batch, or an image side the model accepts freely).
    Any,
    Fixed(usize),
}

/// The name and shape a stage expects of one input or output.
#[derive(Debug, Clone, Copy)]
pub struct TensorSpec {
    pub name: &'static str,
    pub shape: &'static [Dim],
}

/// What a stage expects of a model file.
#[derive(Debug)]
pub struct ModelSpec {
    pub file: &'static str,
    pub role: &'static str,
    pub input: TensorSpec,
    pub outputs: &'static [TensorSpec],
    /// A representative concrete input shape, used by `vigil models` to time a plan.
    pub probe_shape: &'static [usize],
}

use Dim::{Any, Fixed};

pub static PNET: ModelSpec = ModelSpec {
    file: "pnet.onnx",
    role: "MTCNN proposal net (image pyramid)",
    // NHWC with the image transposed: [N, W, H, 3].
    input: TensorSpec {
        name: "input_1",
        shape: &[Any, Any, Any, Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "conv2d_4",
            shape: &[Any, Any, Any, Fixed(4)],
        },
        TensorSpec {
            name: "softmax",
            shape: &[Any, Any, Any, Fixed(2)],
        },
    ],
    probe_shape: &[1, 320, 240, 3],
};

pub static RNET: ModelSpec = ModelSpec {
    file: "rnet.onnx",
    role: "MTCNN refine net (24x24 crops)",
    input: TensorSpec {
        name: "input_2",
        shape: &[Any, Fixed(24), Fixed(24), Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "dense_2",
            shape: &[Any, Fixed(4)],
        },
        TensorSpec {
            name: "softmax_1",
            shape: &[Any, Fixed(2)],
        },
    ],
    probe_shape: &[16, 24, 24, 3],
};

pub static ONET: ModelSpec = ModelSpec {
    file: "onet.onnx",
    role: "MTCNN output net (48x48 crops, 5 landmarks)",
    input: TensorSpec {
        name: "input_3",
        shape: &[Any, Fixed(48), Fixed(48), Fixed(3)],
    },
    outputs: &[
        TensorSpec {
            name: "dense_5",
            shape: &[Any, Fixed(4)],
        },
        TensorSpec {
            name: "dense_6",
            shape: &[Any, Fixed(10)],
        },
        TensorSpec {
            name: "softmax_2",
            shape: &[Any, Fixed(2)],
        },
    ],
    probe_shape: &[4, 48, 48, 3],
};

pub static EMBEDDING: ModelSpec = ModelSpec {
    file: "faceapi_face_recognition.onnx",
    role: "128-d face embedding (dlib ResNet via face-api)",
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(150), Fixed(150)],
    },
    outputs: &[TensorSpec {
        name: "descriptor",
        shape: &[Any, Fixed(128)],
    }],
    probe_shape: &[1, 3, 150, 150],
};

pub static EMOTION: ModelSpec = ModelSpec {
    file: "fer_mini_xception.onnx",
    role: "7-class facial expression (mini-Xception)",
    input: TensorSpec {
        name: "input_1",
        shape: &[Any, Fixed(1), Fixed(64), Fixed(64)],
    },
    outputs: &[TensorSpec {
        name: "predictions",
        shape: &[Any, Fixed(7)],
    }],
    probe_shape: &[1, 1, 64, 64],
};

pub static EMOTION_FACEAPI: ModelSpec = ModelSpec {
    file: "faceapi_face_expression.onnx",
    role: "7-class facial expression (face-api), ensemble partner",
    // RGB 0..255, NCHW; mean subtraction and /255 are inside the graph.
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(112), Fixed(112)],
    },
    // Softmax in face-api's order: neutral, happy, sad, angry, fearful, disgusted, surprised.
    outputs: &[TensorSpec {
        name: "expressions",
        shape: &[Any, Fixed(7)],
    }],
    probe_shape: &[1, 3, 112, 112],
};

pub static SCENE_FP32: ModelSpec = ModelSpec {
    file: "mobilenet_v2_torchvision.onnx",
    role: "MobileNetV2 backbone (scene), fp32",
    input: TensorSpec {
        name: "input",
        shape: &[Any, Fixed(3), Fixed(224), Fixed(224)],
    },
    outputs: &[
        TensorSpec {
            name: "features",
            shape: &[Any, Fixed(1280)],
        },
        TensorSpec {
            name: "logits",
            shape: &[Any, Fixed(1000)],
        },
    ],
    probe_shape: &[1, 3, 224, 224],
};

pub static SCENE_INT8: ModelSpec = ModelSpec {
    file: "mobilenet_v2_int8.onnx",
    role: "MobileNetV2 backbone (scene), int8 QDQ",
    input: SCENE_FP32.input,
    outputs: SCENE_FP32.outputs,
    probe_shape: &[1, 3, 224, 224],
};

/// Parses a `sha256sum`-style manifest: `<hex>  <file>` per line.
pub fn parse_manifest(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (hash, file) = line.split_once(char::is_whitespace)?;
            let file = file.trim().trim_start_matches('*');
            Some((file.to_string(), hash.to_ascii_lowercase()))
        })
        .collect()
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Picks the models directory: the configured one if set, else `$VIGIL_MODELS`,
/// else `./models`, else the installed location, else the source tree's.
pub fn resolve_dir(configured: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(dir) = configured {
        return Ok(dir.to_path_buf());
    }
    if let Some(env) = std::env::var_os(MODELS_DIR_ENV) {
        return Ok(PathBuf::from(env));
    }
    let exe = std::env::current_exe().ok();
    let candidates = search_dirs(exe.as_deref());
    if let Some(found) = candidates.iter().find(|c| c.join(PNET.file).is_file()) {
        return Ok(found.clone());
    }
    Err(ModelError::NoModelsDir {
        tried: candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        env: MODELS_DIR_ENV,
    })
}

/// The models directories tried in order (after `$VIGIL_MODELS`) by a binary
/// at `exe`: `./models` (a checkout), `<prefix>/share/vigil/models` for a
/// binary in `<prefix>/bin` (an installed or unpacked package), the installed
/// location, and last the source tree this binary was built from.
pub fn search_dirs(exe: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("models")];
    if let Some(prefix) = exe.and_then(Path::parent).and_then(Path::parent) {
        dirs.push(prefix.join("share/vigil/models"));
    }
    let installed = PathBuf::from(INSTALLED_MODELS_DIR);
    if !dirs.contains(&installed) {
        dirs.push(installed);
    }
    dirs.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models"
    )));
    dirs
}

/// A directory of model files checked against a manifest.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    manifest: BTreeMap<String, String>,
}

impl ModelStore {
    /// A store over `dir`, checked against the compiled-in manifest.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_manifest(dir, parse_manifest(MANIFEST))
    }

    pub fn with_manifest(dir: impl Into<PathBuf>, manifest: BTreeMap<String, String>) -> Self {
        Self {
            dir: dir.into(),
            manifest,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Reads a file of the store and checks its SHA-256 against the manifest.
    /// Also used for non-ONNX assets listed in the manifest.
    pub fn read_verified(&self, file: &str) -> Result<(Vec<u8>, String), ModelError> {
        let path = self.path_of(file);
        let bytes = std::fs::read(&path).map_err(|source| ModelError::Missing {
            path: path.clone(),
            source,
        })?;
        let expected = self
            .manifest
            .get(file)
            .ok_or_else(|| ModelError::NotInManifest { path: path.clone() })?;
        let actual = sha256_hex(&bytes);
        if &actual != expected {
            return Err(ModelError::Checksum {
                path,
                expected: expected.clone(),
                actual,
            });
        }
        Ok((bytes, actual))
    }

    /// Loads and checks one model.
    pub fn load(&self, id: ModelId) -> Result<Model, ModelError> {
        self.load_spec(id.spec())
    }

    /// Loads and checks a model described by `spec` (stages with their own
    /// model variants, such as the int8 scene backbone, pass their spec here).
    pub fn load_spec(&self, spec: &'static ModelSpec) -> Result<Model, ModelError> {
        self.load_spec_with_ops(spec, |_| {})
    }

    /// Like [`ModelStore::load_spec`], with `register` adding or replacing ONNX
    /// op translations first (the detector's fast PReLU; see `detect::prelu`).
    pub fn load_spec_with_ops(
        &self,
        spec: &'static ModelSpec,
        register: fn(&mut tract_onnx::Onnx),
    ) -> Result<Model, ModelError> {
        let (bytes, sha256) = self.read_verified(spec.file)?;
        let path = self.path_of(spec.file);
        let mut onnx = tract_onnx::onnx();
        register(&mut onnx);
        let inference =
            onnx.model_for_read(&mut bytes.as_slice())
                .map_err(|e| ModelError::Parse {
                    path: path.clone(),
                    message: format!("{e:#}"),
                })?;
        let model = Model {
            spec,
            path,
            sha256,
            inference,
        };
        model.check_interface()?;
        Ok(model)
    }
}

/// A parsed, checksum-verified model, not yet bound to an input shape.
#[derive(Debug, Clone)]
pub struct Model {
    spec: &'static ModelSpec,
    path: PathBuf,
    sha256: String,
    inference: InferenceModel,
}

impl Model {
    pub fn spec(&self) -> &'static ModelSpec {
        self.spec
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    fn interface_error(&self, message: String) -> ModelError {
        ModelError::Interface {
            file: self.spec.file.to_string(),
            message,
        }
    }

    /// Checks input and output names and the declared ranks and fixed dimensions.
    fn check_interface(&self) -> Result<(), ModelError> {
        let m = &self.inference;
        let inputs = m
            .input_outlets()
            .map_err(|e| self.interface_error(e.to_string()))?;
        if inputs.len() != 1 {
            return Err(self.interface_error(format!("expected 1 input, found {}", inputs.len())));
        }
        let input_name = &m.node(inputs[0].node).name;
        if input_name != self.spec.input.name {
            return Err(self.interface_error(format!(
                "input is named `{input_name}`, expected `{}`",
                self.spec.input.name
            )));
        }
        let fact = m
            .input_fact(0)
            .map_err(|e| self.interface_error(e.to_string()))?;
        check_inference_fact(fact, &self.spec.input).map_err(|msg| self.interface_error(msg))?;

        let outputs = m
            .output_outlets()
            .map_err(|e| self.interface_error(e.to_string()))?;
        let names: Vec<&str> = outputs
            .iter()
            .map(|o| m.outlet_label(*o).unwrap_or(m.node(o.node).name.as_str()))
            .collect();
        for spec in self.spec.outputs {
            if !names.contains(&spec.name) {
                return Err(self.interface_error(format!(
                    "output `{}` not found (outputs: {names:?})",
                    spec.name
                )));
            }
        }
        Ok(())
    }

    /// Input shape checked against the spec's fixed dimensions.
    fn check_input_shape(&self, shape: &[usize]) -> Result<(), ModelError> {
        if !shape_matches(shape, self.spec.input.shape) {
            return Err(ModelError::Plan {
                file: self.spec.file.to_string(),
                shape: shape.to_vec(),
                message: format!("the model takes {:?}", self.spec.input.shape),
            });
        }
        Ok(())
    }

    /// Binds the input to `shape`, optimises the graph and returns a ready plan
    /// whose outputs are in the spec's order. Do this once per shape, not per frame.
    pub fn plan(&self, shape: &[usize]) -> Result<Plan, ModelError> {
        self.check_input_shape(shape)?;
        self.build_plan(f32::fact(shape).into(), shape, false)
    }

    /// Like [`Model::plan`] with a symbolic batch axis: `item_shape` is one
    /// item's shape; the plan runs any batch of one or more items. For the
    /// MTCNN R-/O-Nets this was as fast per item as fixed-size plans (measured,
    /// see `dev/perf/README.md`), so one plan serves every batch size.
    pub fn plan_any_batch(&self, item_shape: &[usize]) -> Result<Plan, ModelError> {
        let mut probe = vec![1];
        probe.extend_from_slice(item_shape);
        self.check_input_shape(&probe)?;
        let batch = self.inference.symbols.sym("N");
        let mut dims: TVec<TDim> = tvec![batch.to_dim()];
        dims.extend(item_shape.iter().map(|d| d.to_dim()));
        self.build_plan(f32::fact(dims).into(), &probe, true)
    }

    fn build_plan(
        &self,
        fact: InferenceFact,
        shape: &[usize],
        any_batch: bool,
    ) -> Result<Plan, ModelError> {
        let plan_err = |e: TractError| ModelError::Plan {
            file: self.spec.file.to_string(),
            shape: shape.to_vec(),
            message: format!("{e:#}"),
        };
        let mut model = self.inference.clone();
        let output_names: Vec<&str> = self.spec.outputs.iter().map(|o| o.name).collect();
        model
            .select_outputs_by_name(&output_names)
            .map_err(plan_err)?;
        model = model.with_input_fact(0, fact).map_err(plan_err)?;
        let typed = model.into_optimized().map_err(plan_err)?;
        for (ix, spec) in self.spec.outputs.iter().enumerate() {
            let fact = typed.output_fact(ix).map_err(plan_err)?;
            // A symbolic batch leaves the first output axis symbolic: check the rest.
            let dims: Option<Vec<usize>> = fact
                .shape
                .iter()
                .enumerate()
                .map(|(ax, d)| {
                    if any_batch && ax == 0 {
                        Some(1)
                    } else {
                        d.as_i64().and_then(|v| usize::try_from(v).ok())
                    }
                })
                .collect();
            match dims {
                Some(d) if shape_matches(&d, spec.shape) => {}
                other => {
                    return Err(ModelError::Plan {
                        file: self.spec.file.to_string(),
                        shape: shape.to_vec(),
                        message: format!(
                            "output `{}` has shape {other:?}, expected {:?}",
                            spec.name, spec.shape
                        ),
                    })
                }
            }
        }
        let runnable = typed.into_runnable().map_err(plan_err)?;
        let state = TypedSimpleState::new(&runnable).map_err(plan_err)?;
        Ok(Plan {
            file: self.spec.file,
            input_shape: shape.to_vec(),
            any_batch,
            state,
        })
    }
}

fn shape_matches(shape: &[usize], spec: &[Dim]) -> bool {
    shape.len() == spec.len()
        && shape.iter().zip(spec).all(|(n, d)| match d {
            Dim::Any => *n > 0,
            Dim::Fixed(f) => n == f,
        })
}

fn check_inference_fact(fact: &InferenceFact, spec: &TensorSpec) -> Result<(), String> {
    let Some(rank) = fact.shape.rank().concretize() else {
        return Ok(());
    };
    if rank as usize != spec.shape.len() {
        return Err(format!(
            "input `{}` has rank {rank}, expected {}",
            spec.name,
            spec.shape.len()
        ));
    }
    for (ix, (dim, expected)) in fact.shape.dims().zip(spec.shape).enumerate() {
        if let (Some(d), Dim::Fixed(e)) = (dim.concretize(), *expected) {
            if let Ok(d) = d.to_i64() {
                if d != e as i64 {
                    return Err(format!(
                        "input `{}` dimension {ix} is {d}, expected {e}",
                        spec.name
                    ));
                }
            }
        }
    }
    Ok(())
}

/// An optimised model bound to one input shape, with its reusable state.
#[derive(Debug)]
pub struct Plan {
    file: &'static str,
    /// The input shape; with `any_batch`, axis 0 is 1 here and any size at run time.
    input_shape: Vec<usize>,
    any_batch: bool,
    state: TypedSimpleState,
}

impl Plan {
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    pub fn file(&self) -> &'static str {
        self.file
    }

    /// True for a plan from [`Model::plan_any_batch`].
    pub fn any_batch(&self) -> bool {
        self.any_batch
    }

    fn accepts(&self, shape: &[usize]) -> bool {
        if self.any_batch {
            shape.len() == self.input_shape.len()
                && shape.first().is_some_and(|n| *n > 0)
                && shape[1..] == self.input_shape[1..]
        } else {
            shape == self.input_shape.as_slice()
        }
    }

    /// Runs the plan. `input` must have exactly the plan's input shape.
    pub fn run(&mut self, input: Tensor) -> Result<TVec<TValue>, ModelError> {
        if !self.accepts(input.shape()) {
            return Err(ModelError::Run {
                file: self.file.to_string(),
                message: format!(
                    "input shape {:?} does not match the plan's {:?}",
                    input.shape(),
                    self.input_shape
                ),
            });
        }
        self.state
            .run(tvec!(input.into()))
            .map_err(|e| ModelError::Run {
                file: self.file.to_string(),
                message: format!("{e:#}"),
            })
    }

    /// Runs the plan on a flat `f32` buffer laid out in the plan's input shape.
    /// With a symbolic batch, the batch size is `data.len()` over one item's size.
    pub fn run_f32(&mut self, data: Vec<f32>) -> Result<TVec<TValue>, ModelError> {
        let mut shape = self.input_shape.clone();
        if self.any_batch {
            let item: usize = shape[1..].iter().product();
            shape[0] = data.len().checked_div(item).unwrap_or(0);
        }
        let tensor = tract_ndarray::ArrayD::from_shape_vec(shape, data)
            .map_err(|e| ModelError::Run {
                file: self.file.to_string(),
                message: format!("input buffer does not fit the plan's shape: {e}"),
            })?
            .into_tensor();
        self.run(tensor)
    }
}

/// Reads output `ix` of a plan's result as a flat `f32` slice.
pub fn output_f32<'a>(
    outputs: &'a TVec<TValue>,
    ix: usize,
    file: &str,
) -> Result<&'a [f32], ModelError> {
    let run_err = |message: String| ModelError::Run {
        file: file.to_string(),
        message,
    };
    let value = outputs
        .get(ix)
        .ok_or_else(|| run_err(format!("missing output {ix}")))?;
    value
        .try_as_plain_ram()
        .and_then(|v| v.as_slice::<f32>())
        .map_err(|e| run_err(format!("output {ix} is not f32: {e}")))
}

/// One line of `vigil models`.
#[derive(Debug)]
pub struct ModelReport {
    pub file: &'static str,
    pub role: &'static str,
    pub result: Result<ModelCheck, ModelError>,
}

#[derive(Debug)]
pub struct ModelCheck {
    pub sha256: String,
    pub input: String,
    pub outputs: Vec<String>,
    pub load_time: Duration,
    pub plan_time: Duration,
    pub run_time: Duration,
}

/// Loads, plans and runs every model once on a zero input of its probe shape.
pub fn check_all(store: &ModelStore, specs: &[&'static ModelSpec]) -> Vec<ModelReport> {
    specs
        .iter()
        .map(|spec| ModelReport {
            file: spec.file,
            role: spec.role,
            result: check_one(store, spec),
        })
        .collect()
}

fn check_one(store: &ModelStore, spec: &'static ModelSpec) -> Result<ModelCheck, ModelError> {
    let t0 = Instant::now();
    let model = store.load_spec(spec)?;
    let load_time = t0.elapsed();
    let t1 = Instant::now();
    let mut plan = model.plan(spec.probe_shape)?;
    let plan_time = t1.elapsed();
    let n: usize = spec.probe_shape.iter().product();
    let t2 = Instant::now();
    let out = plan.run_f32(vec![0.0; n])?;
    let run_time = t2.elapsed();
    let outputs = spec
        .outputs
        .iter()
        .zip(out.iter())
        .map(|(s, v)| format!("{} {:?}", s.name, v.shape()))
        .collect();
    Ok(ModelCheck {
        sha256: model.sha256().to_string(),
        input: format!("{} {:?}", spec.input.name, spec.probe_shape),
        outputs,
        load_time,
        plan_time,
        run_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lists_every_model() {
        let m = parse_manifest(MANIFEST);
        for id in ModelId::ALL {
            assert!(m.contains_key(id.spec().file), "{id} missing from manifest");
        }
    }

    #[test]
    fn any_batch_plan_runs_several_batch_sizes_and_checks_items() {
        let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
        let model = store.load(ModelId::RNet).unwrap();
        let mut plan = model.plan_any_batch(&[24, 24, 3]).unwrap();
        assert!(plan.any_batch());
        let item = 24 * 24 * 3;
        for n in [1usize, 3, 5] {
            let out = plan.run_f32(vec![0.5; n * item]).unwrap();
            assert_eq!(out[0].shape(), &[n, 4]);
            assert_eq!(out[1].shape(), &[n, 2]);
        }
        assert!(plan.run_f32(vec![0.5; item + 1]).is_err());
        assert!(plan.run_f32(Vec::new()).is_err());
        assert!(model.plan_any_batch(&[23, 24, 3]).is_err());
    }

    #[test]
    fn installed_and_unpacked_layouts_find_share() {
        let installed = search_dirs(Some(Path::new("/usr/bin/vigil")));
        assert_eq!(installed[0], PathBuf::from("models"));
        assert_eq!(installed[1], PathBuf::from(INSTALLED_MODELS_DIR));
        assert_eq!(installed.len(), 3, "{installed:?}");
        // An unpacked .deb (dpkg-deb -x pkg.deb ROOT) uses its own models first.
        let unpacked = search_dirs(Some(Path::new("/tmp/root/usr/bin/vigil")));
        assert_eq!(
            &unpacked[..3],
            &[
                PathBuf::from("models"),
                PathBuf::from("/tmp/root/usr/share/vigil/models"),
                PathBuf::from(INSTALLED_MODELS_DIR)
            ]
        );
        let local = search_dirs(Some(Path::new("/usr/local/bin/vigil")));
        assert_eq!(local[1], PathBuf::from("/usr/local/share/vigil/models"));
        // Last resort: the source tree's models (tests, `cargo run`).
        let last = search_dirs(None).pop().unwrap();
        assert!(last.ends_with("models") && last.is_absolute(), "{last:?}");
    }

    #[test]
    fn shapes_match_fixed_and_any() {
        assert!(shape_matches(&[1, 3, 150, 150], EMBEDDING.input.shape));
        assert!(!shape_matches(&[1, 3, 160, 160], EMBEDDING.input.shape));
        assert!(!shape_matches(&[1, 3, 150], EMBEDDING.input.shape));
        assert!(!shape_matches(&[0, 24, 24, 3], RNET.input.shape));
    }
}

//! Loading: a models directory checked against the manifest, a parsed and
//! interface-checked [`Model`], and optimised [`Plan`]s with reusable state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

use super::manifest::{parse_manifest, sha256_hex, Verified, MANIFEST};
use super::spec::{shape_matches, Dim, ModelSpec, TensorSpec};
use super::ModelError;

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

    /// A store over `dir` checked against `manifest` (file name to lowercase hex SHA-256); tests use their own.
    pub fn with_manifest(dir: impl Into<PathBuf>, manifest: BTreeMap<String, String>) -> Self {
        Self {
            dir: dir.into(),
            manifest,
        }
    }

    /// The models directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Full path of `file` in the models directory (whether or not it exists).
    pub fn path_of(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// Reads a file of the store and checks its SHA-256 against the manifest.
    /// Also used for non-ONNX assets listed in the manifest.
    pub fn read_verified(&self, file: &str) -> Result<Verified, ModelError> {
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
        Ok(Verified {
            bytes,
            sha256: actual,
        })
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
        let Verified { bytes, sha256 } = self.read_verified(spec.file)?;
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
    /// The spec the model was loaded and checked against.
    pub fn spec(&self) -> &'static ModelSpec {
        self.spec
    }

    /// Full path of the file the model was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of the model file, lowercase hex (checked against the manifest).
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
        trim_heap();
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
    /// The input shape the plan was built for; with [`Plan::any_batch`], axis 0 is 1 and any batch runs.
    pub fn input_shape(&self) -> &[usize] {
        &self.input_shape
    }

    /// File name of the model the plan runs (for error messages).
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

/// Hands the heap memory freed while a plan was optimised back to the OS.
/// Folding a graph's constants (SFace's int8 weights: a float copy of each,
/// then the zero point subtracted, then the scale applied) allocates several
/// times the final weights for a moment; on a thread of its own glibc keeps
/// those pages in the thread's arena, and a process with SFace loaded stayed
/// at 310 MiB instead of 160 (`vigil bench`, VmRSS). `malloc_trim` releases them.
fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists; it takes no
    // pointer and cannot invalidate a live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dim::{Any, Fixed};

    /// A spec for the R-Net file (the detector's own spec lives in `detect`;
    /// this layer names no stage).
    static CROPS_24: ModelSpec = ModelSpec {
        file: "rnet.onnx",
        role: "test",
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

    #[test]
    fn any_batch_plan_runs_several_batch_sizes_and_checks_items() {
        let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
        let model = store.load_spec(&CROPS_24).unwrap();
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
}

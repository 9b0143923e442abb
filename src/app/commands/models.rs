//! `vigil models`: every model of every stage checked (checksum, interface,
//! load, plan and run time); exits non-zero if any fails.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;

use crate::app::build::models_dir;
use crate::app::config::Config;
use crate::models::{ModelError, ModelSpec, ModelStore};

/// Flags of `vigil models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Models directory (default: models.dir, $VIGIL_MODELS, ./models, /usr/share/vigil/models).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Every model Vigil runs, stage by stage.
pub fn all_specs() -> Vec<&'static ModelSpec> {
    let mut specs: Vec<&'static ModelSpec> = Vec::new();
    specs.extend(crate::detect::specs::ALL);
    specs.extend(crate::verify::spec::ALL);
    specs.extend(crate::emotion::specs::ALL);
    specs.extend(crate::attention::specs::ALL);
    specs.extend(crate::scene::specs::ALL);
    specs
}

/// One line of `vigil models`.
#[derive(Debug)]
pub struct ModelReport {
    /// The model file.
    pub file: &'static str,
    /// What it does.
    pub role: &'static str,
    /// The check, or why it failed.
    pub result: Result<ModelCheck, ModelError>,
}

/// A model that passed its checks.
#[derive(Debug)]
pub struct ModelCheck {
    /// Its SHA-256.
    pub sha256: String,
    /// Input name and probe shape.
    pub input: String,
    /// Output names and shapes.
    pub outputs: Vec<String>,
    /// Read, checksum and parse.
    pub load_time: Duration,
    /// Optimise for the probe shape.
    pub plan_time: Duration,
    /// One run on a zero input.
    pub run_time: Duration,
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(c) => {
                writeln!(
                    f,
                    "OK    {:<32} sha256 {}…  load {:>6.1} ms  plan {:>7.1} ms  run {:>6.1} ms",
                    self.file,
                    c.sha256.get(..12).unwrap_or(&c.sha256),
                    c.load_time.as_secs_f64() * 1e3,
                    c.plan_time.as_secs_f64() * 1e3,
                    c.run_time.as_secs_f64() * 1e3
                )?;
                writeln!(
                    f,
                    "      {}: in {}  out {}",
                    self.role,
                    c.input,
                    c.outputs.join(", ")
                )
            }
            Err(e) => writeln!(f, "FAIL  {:<32} {e}", self.file),
        }
    }
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

/// `vigil models`.
pub fn run(config: Config, args: &ModelsArgs) -> anyhow::Result<()> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => models_dir(&config)?,
    };
    println!("models in {}", dir.display());
    let store = ModelStore::new(&dir);
    let reports = check_all(&store, &all_specs());
    let failed = reports.iter().filter(|r| r.result.is_err()).count();
    for r in &reports {
        print!("{r}");
    }
    if failed > 0 {
        bail!("{failed} of {} models failed their checks", reports.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{parse_manifest, MANIFEST};

    #[test]
    fn manifest_lists_every_model() {
        let m = parse_manifest(MANIFEST);
        for spec in all_specs() {
            assert!(
                m.contains_key(spec.file),
                "{} missing from manifest",
                spec.file
            );
        }
    }
}

//! Runs one model of the store N times on zeros (for `perf record`):
//! `cargo run --example model_loop -- FILE RUNS` with FILE the file name of an
//! emotion or verify spec.
use vigil::models::{self, ModelStore};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .map(String::as_str)
        .unwrap_or("emotion_fer_resnet.onnx");
    let runs: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1000);
    let spec = vigil::emotion::specs::ALL
        .iter()
        .chain(vigil::verify::spec::ALL.iter())
        .find(|s| s.file == file)
        .ok_or_else(|| anyhow::anyhow!("no emotion or verify spec {file}"))?;
    let store = ModelStore::new(models::resolve_dir(None)?);
    let model = store.load_spec(spec)?;
    let batch: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(1);
    let mut shape = spec.probe_shape.to_vec();
    shape[0] = batch;
    let mut plan = model.plan(&shape)?;
    let n: usize = shape.iter().product();
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = std::time::Instant::now();
        plan.run_f32(vec![0.5; n])?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("{file}: median {:.3} ms over {runs}", times[runs / 2]);
    Ok(())
}

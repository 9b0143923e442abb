//! Detector speed on 640x480 frames, one thread (criterion), plus a per-stage
//! table (medians over `STAGE_RUNS` runs) printed before criterion's figures.
//!
//! `cargo bench --bench detect`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use vigil::app::commands::eval::detect::TimingSummary;
use vigil::detect::{DetectConfig, Detector};
use vigil::models::ModelStore;

/// Runs per fixture for the per-stage table.
const STAGE_RUNS: usize = 60;

const FIXTURES: [&str; 2] = ["webcam_640x480.jpg", "t1_640x480.jpg"];

fn load(name: &str) -> RgbImage {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/detect")
        .join(name);
    image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_rgb8()
}

fn detector() -> Detector {
    let store = ModelStore::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
    Detector::new(&store, &DetectConfig::default()).expect("models load")
}

fn bench(c: &mut Criterion) {
    let mut det = detector();
    for name in FIXTURES {
        let image = load(name);
        det.prepare(image.width(), image.height()).expect("plans");
        let mut timings = Vec::new();
        for _ in 0..STAGE_RUNS {
            timings.push(det.detect_timed(&image).expect("detect").1);
        }
        eprintln!(
            "{name}: {} faces; per-stage medians over {STAGE_RUNS} runs:",
            timings[0].faces
        );
        TimingSummary::of(&timings).print();
        c.bench_function(&format!("detect/{name}"), |b| {
            b.iter(|| det.detect(&image).expect("detect"))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(40);
    targets = bench
}
criterion_main!(benches);

//! Embedding latency per face: chip alignment and the 128-d descriptor, for
//! each embedding model (`verify.model`).
//! `cargo bench --bench verify`

use criterion::{criterion_group, criterion_main, Criterion};
use image::RgbImage;
use vigil::core::align::extract_chip_at;
use vigil::core::geometry::{Landmarks, Point};
use vigil::models::{resolve_dir, ModelStore};
use vigil::verify::embed::{EmbeddingModel, FaceEmbedder, NetEmbedder};

fn frame() -> RgbImage {
    RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    })
}

fn landmarks() -> Landmarks {
    Landmarks::from_points([
        Point::new(180.0, 120.0),
        Point::new(222.0, 121.0),
        Point::new(200.0, 145.0),
        Point::new(184.0, 168.0),
        Point::new(218.0, 169.0),
    ])
}

fn bench(c: &mut Criterion) {
    let dir = match resolve_dir(None) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("skipping the verify bench: {e}");
            return;
        }
    };
    let store = ModelStore::new(dir);
    let img = frame();
    let lm = landmarks();
    let mut group = c.benchmark_group("verify");
    group.sample_size(30);
    for model in [EmbeddingModel::Dlib, EmbeddingModel::Sface] {
        let mut embedder = match NetEmbedder::new(&store, model) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("skipping the {model} verify bench: {e}");
                continue;
            }
        };
        let layout = model.layout();
        group.bench_function(format!("align_chip_{model}"), |b| {
            b.iter(|| extract_chip_at(&img, &lm, layout))
        });
        let Some(chip) = extract_chip_at(&img, &lm, layout) else {
            continue;
        };
        group.bench_function(format!("embed_{model}"), |b| {
            b.iter(|| embedder.embed(&chip))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Emotion latency per face: the classifier in each configuration, batched
//! against one call per face, and the crop from a frame.
//!
//! `cargo bench --bench emotion`; quote medians, compare as ratios in one run.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use image::{GrayImage, RgbImage};
use vigil::core::face::Detection;
use vigil::core::geometry::{BoundingBox, Landmarks, Point};
use vigil::emotion::crop::{face_crop, grey_of, FER_TEMPLATE};
use vigil::emotion::{ClassifierOptions, EmotionClassifier, EnsembleWeights, TtaMode};
use vigil::models::{self, ModelStore};

fn crop() -> GrayImage {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/emotion/happy/PublicTest_32550046.jpg");
    grey_of(&vigil::capture::load_rgb(&p).expect("fixture"))
}

const FER: EnsembleWeights = EnsembleWeights::FER_ONLY;
const MINI: EnsembleWeights = EnsembleWeights::MINI_XCEPTION_ONLY;
/// The two-net ensemble measured in models/train-emotion/README.md.
const FER_MINI: EnsembleWeights = EnsembleWeights {
    fer: 1.0,
    mini_xception: 0.3,
    faceapi: 0.0,
};

fn classifier(tta: TtaMode, weights: EnsembleWeights) -> EmotionClassifier {
    let store = ModelStore::new(models::resolve_dir(None).expect("models dir"));
    EmotionClassifier::new(&store, ClassifierOptions { tta, weights }).expect("classifier")
}

fn per_face(c: &mut Criterion) {
    let face = crop();
    let mut g = c.benchmark_group("emotion_per_face");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    for (name, tta, w) in [
        ("fer_none", TtaMode::None, FER),
        ("fer_flip(default)", TtaMode::Flip, FER),
        ("fer_shifts", TtaMode::Shifts, FER),
        ("mini_xception_flip", TtaMode::Flip, MINI),
        ("fer_mini_flip", TtaMode::Flip, FER_MINI),
    ] {
        let mut cl = classifier(tta, w);
        g.bench_function(name, |b| {
            b.iter(|| cl.classify(std::slice::from_ref(&face)).expect("run"))
        });
    }
    g.finish();
}

fn batching(c: &mut Criterion) {
    let faces: Vec<GrayImage> = vec![crop(); 4];
    let mut g = c.benchmark_group("emotion_4_faces");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    for (name, tta, w) in [
        ("fer_none", TtaMode::None, FER),
        ("fer_flip(default)", TtaMode::Flip, FER),
    ] {
        let mut cl = classifier(tta, w);
        // Build the batch-size plans before timing.
        cl.classify(&faces).expect("warm");
        g.bench_with_input(BenchmarkId::new("one_batch", name), &faces, |b, f| {
            b.iter(|| cl.classify(f).expect("run"))
        });
        g.bench_with_input(
            BenchmarkId::new("one_call_per_face", name),
            &faces,
            |b, f| {
                b.iter(|| {
                    for face in f {
                        cl.classify(std::slice::from_ref(face)).expect("run");
                    }
                })
            },
        );
    }
    g.finish();
}

fn cropping(c: &mut Criterion) {
    let frame = RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 90])
    });
    let mut g = c.benchmark_group("emotion_crop");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    for side in [60.0f32, 200.0] {
        let lm = Landmarks::from_points(
            FER_TEMPLATE.map(|p| Point::new(200.0 + p.x * side, 100.0 + p.y * side)),
        );
        let det = Detection {
            bbox: BoundingBox::new(200.0, 100.0, side, side),
            score: 0.99,
            landmarks: lm,
        };
        g.bench_function(format!("face_{side}px"), |b| {
            b.iter(|| face_crop(&frame, &det))
        });
    }
    g.finish();
}

criterion_group!(benches, per_face, batching, cropping);
criterion_main!(benches);

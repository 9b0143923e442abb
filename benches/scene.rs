//! Scene stage speed: MobileNetV2 fp32 vs int8 (one thread, batch 1, a real
//! frame), head training at enrollment (the bundled negatives plus the
//! owner's frames) and head scoring.
//!
//! cargo bench --bench scene            (criterion prints the median of each)

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vigil::app::commands::eval::scene::FacesCache;
use vigil::capture::{list_images, load_rgb};
use vigil::models::ModelStore;
use vigil::scene::crop::centre_square;
use vigil::scene::{load_negatives, train_head, Backbone, BackboneVariant, SceneConfig};

fn store() -> ModelStore {
    ModelStore::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

fn fixture(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scene")
        .join(p)
}

fn backbone(c: &mut Criterion) {
    let store = store();
    let image = load_rgb(&fixture("test/owner/cap12-01.jpg")).expect("fixture frame");
    let region = centre_square(image.width(), image.height());
    let mut group = c.benchmark_group("scene_backbone");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for variant in [BackboneVariant::Fp32, BackboneVariant::Int8] {
        let mut b = Backbone::with_variant(&store, variant).expect("backbone");
        // Preprocessing and inference, as the stage runs them.
        group.bench_function(variant.as_str(), |bench| {
            bench.iter(|| black_box(b.process_region(&image, region, true).expect("run")))
        });
    }
    group.finish();
}

fn head(c: &mut Criterion) {
    let store = store();
    let config = SceneConfig::default();
    let mut b = Backbone::with_variant(&store, config.backbone).expect("backbone");
    let negatives = load_negatives(&store, &b).expect("bundled negatives");
    let crop = config.crop_spec();
    let faces = FacesCache::load(&fixture("faces.jsonl")).expect("recorded faces");
    let owner: Vec<_> = list_images(&fixture("enroll"))
        .expect("fixtures")
        .iter()
        .map(|p| {
            let img = load_rgb(p).expect("frame");
            let f = faces.get(p).expect("faces of the frame");
            crop.features(&mut b, &img, f).expect("features").0
        })
        .collect();
    let params = config.train_params();
    let mut group = c.benchmark_group("scene_head");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let name = format!(
        "train_{}_owner_{}_negatives",
        owner.len(),
        negatives.samples.len()
    );
    group.bench_function(name, |bench| {
        bench
            .iter(|| black_box(train_head(&owner, &negatives, b.id(), crop, &params).expect("fit")))
    });
    let (head, _) = train_head(&owner, &negatives, b.id(), crop, &params).expect("fit");
    group
        .sample_size(100)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("score", |bench| {
        bench.iter(|| black_box(head.scores(&owner[0])))
    });
    group.finish();
}

criterion_group!(benches, backbone, head);
criterion_main!(benches);

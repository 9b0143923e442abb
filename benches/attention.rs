//! Attention stage cost per driver frame, one thread: the stage's
//! `process_frame` on a real 640x360 frame with the driver's face when the
//! frame is read (every frame due: `every_n_frames = 1`), its parts (crops,
//! the two networks, the pose fit), and a frame that is not due.
//!
//! `cargo bench --bench attention`; quote medians.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vigil::attention::crop::{eye_crop, mouth_crop, Eye};
use vigil::attention::{head_pose, AttentionClassifier, AttentionConfig, AttentionStage};
use vigil::core::face::{TrackId, TrackedFace};
use vigil::core::finder::FaceFinder;
use vigil::core::frame::Frame;
use vigil::detect::Detector;
use vigil::models::{self, ModelStore};
use vigil::pipeline::Analysis;

fn analysis(seq: u64) -> Analysis {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attention/open_1.jpg");
    let image = vigil::capture::load_rgb(&p).expect("fixture");
    let store = ModelStore::new(models::resolve_dir(None).expect("models dir"));
    let mut detector = Detector::new(&store, &Default::default()).expect("detector");
    let face = detector.find(&image).expect("detect")[0];
    Analysis {
        frame: Frame::new(seq, Duration::from_millis(seq * 66), image),
        faces: vec![TrackedFace {
            track: TrackId(1),
            detection: face,
            age: 10,
        }],
        ended: vec![],
    }
}

fn stage(c: &mut Criterion) {
    let store = ModelStore::new(models::resolve_dir(None).expect("models dir"));
    let a = analysis(0);
    let mut g = c.benchmark_group("attention");
    g.sample_size(50).measurement_time(Duration::from_secs(5));
    let every = AttentionConfig {
        every_n_frames: 1,
        ..Default::default()
    };
    let mut st = AttentionStage::new(&store, &every).expect("stage");
    let mut seq = 0u64;
    g.bench_function("driver_frame_read", |b| {
        b.iter(|| {
            let mut f = a.clone();
            seq += 1;
            f.frame.seq = seq;
            f.frame.media_time = Duration::from_millis(seq * 66);
            st.process_frame(&f).expect("run")
        })
    });
    let lm = a.faces[0].detection.landmarks;
    let img = a.frame.image.clone();
    g.bench_function("crops_3", |b| {
        b.iter(|| {
            (
                eye_crop(&img, &lm, Eye::Left),
                eye_crop(&img, &lm, Eye::Right),
                mouth_crop(&img, &lm),
            )
        })
    });
    let mut cl = AttentionClassifier::new(&store).expect("classifier");
    let (l, r, m) = (
        eye_crop(&img, &lm, Eye::Left).expect("crop"),
        eye_crop(&img, &lm, Eye::Right).expect("crop"),
        mouth_crop(&img, &lm).expect("crop"),
    );
    g.bench_function("eye_net_2_crops", |b| {
        b.iter(|| cl.eyes(&l, &r).expect("run"))
    });
    g.bench_function("yawn_net", |b| b.iter(|| cl.yawn(&m).expect("run")));
    g.bench_function("head_pose", |b| b.iter(|| head_pose(&lm)));
    g.finish();
}

criterion_group!(benches, stage);
criterion_main!(benches);

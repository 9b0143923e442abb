//! Real clips through the real detector and embedding: the owner, enrolled
//! from one part of a webcam clip, unlocks in another part; other people and
//! replayed photos of the owner never do. Fixtures: tests/fixtures/verify/.

use std::path::{Path, PathBuf};
use std::time::Duration;

use image::RgbImage;
use vigil::app::config::Config;
use vigil::capture::{list_images, load_rgb};
use vigil::core::align::Similarity;
use vigil::core::face::{TrackId, TrackedFace};
use vigil::core::finder::FaceFinder;
use vigil::core::frame::Frame;
use vigil::core::geometry::Point;
use vigil::models::{resolve_dir, ModelStore};
use vigil::pipeline::Analysis;
use vigil::verify::embed::{FaceEmbedder, NetEmbedder};
use vigil::verify::enroll::Enroller;
use vigil::verify::gallery::Gallery;
use vigil::verify::report::VerifyNotice;
use vigil::verify::stage::VerifyStage;
use vigil::verify::Identity;

/// Frame rate of the fixture clips (the source clips are 25 and 30 FPS).
const FPS: f64 = 25.0;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(name)
}

fn frames(name: &str) -> Vec<RgbImage> {
    list_images(&fixtures(name))
        .unwrap()
        .iter()
        .map(|p| load_rgb(p).unwrap())
        .collect()
}

use crate::support::MemoryAudit;

struct Setup {
    store: ModelStore,
    config: Config,
    finder: Box<dyn FaceFinder>,
}

fn setup() -> Setup {
    let store = ModelStore::new(resolve_dir(None).unwrap());
    let mut config = Config::default();
    config.unlock.command = vec!["true".into()];
    let finder = vigil::app::face_finder(&store, &config, None).unwrap();
    Setup {
        store,
        config,
        finder,
    }
}

fn enroll(s: &mut Setup) -> Gallery {
    let mut embedder = NetEmbedder::new(&s.store).unwrap();
    let mut enroller = Enroller::new(&s.config.verify, Vec::new());
    for (i, img) in frames("enroll").iter().enumerate() {
        let dets = s.finder.find(img).unwrap();
        enroller
            .offer(img, &dets, &mut embedder, format!("enroll#{i}"))
            .unwrap();
    }
    let kept = enroller.summary.kept;
    assert!(kept.len() >= 3, "only {} templates kept", kept.len());
    let mut g = Gallery::empty(embedder.model_sha256());
    g.add("owner", kept, 0).unwrap();
    g
}

struct Outcome {
    notices: Vec<(f64, VerifyNotice)>,
    unlocked_at: Option<f64>,
    owner_seen: bool,
}

/// Plays `images` as a clip (one track per face, the largest face only).
fn play(s: &mut Setup, gallery: &Gallery, images: &[RgbImage]) -> Outcome {
    let stage_embedder = NetEmbedder::new(&s.store).unwrap();
    let mut stage = VerifyStage::new(
        Box::new(stage_embedder),
        Ok(gallery.clone()),
        Ok(Box::new(MemoryAudit::default())),
        &s.config.verify,
        &s.config.liveness,
        &s.config.unlock,
    );
    let mut out = Outcome {
        notices: Vec::new(),
        unlocked_at: None,
        owner_seen: false,
    };
    for (i, img) in images.iter().enumerate() {
        let t = i as f64 / FPS;
        let dets = s.finder.find(img).unwrap();
        let faces: Vec<TrackedFace> = dets
            .iter()
            .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
            .map(|d| TrackedFace {
                track: TrackId(1),
                detection: *d,
                age: i as u32 + 1,
            })
            .into_iter()
            .collect();
        let analysis = Analysis {
            frame: Frame::new(i as u64, Duration::from_secs_f64(t), img.clone()),
            faces,
            ended: Vec::new(),
        };
        let v = stage.process_analysis(&analysis);
        out.owner_seen |= v
            .faces
            .iter()
            .any(|f| matches!(f.identity, Identity::Owner { .. }));
        if v.unlocked && out.unlocked_at.is_none() {
            out.unlocked_at = Some(t);
        }
        out.notices.extend(v.notices.into_iter().map(|n| (t, n)));
    }
    out
}

// Needs the face detector: `app::face_finder` returns the MTCNN detector once
// the detect branch is merged (see the report); it passes there (16.6 s).
#[test]
fn owner_unlocks_strangers_and_photos_do_not() {
    let mut s = setup();
    let gallery = enroll(&mut s);

    // The owner, from another part of the clip: recognised and live within ~1 s.
    let owner = play(&mut s, &gallery, &frames("owner"));
    let t = owner.unlocked_at.expect("the owner was not unlocked");
    assert!(t <= 1.25, "unlocked only at {t} s");

    // Two other people.
    for clip in ["stranger", "stranger2"] {
        let o = play(&mut s, &gallery, &frames(clip));
        assert!(!o.owner_seen, "{clip} taken for the owner: {:?}", o.notices);
        assert!(o.unlocked_at.is_none(), "{clip} unlocked");
    }

    // A still photo of the owner replayed: the same frame for 6 s.
    let photo = frames("owner").swap_remove(0);
    let frozen: Vec<RgbImage> = (0..150).map(|_| photo.clone()).collect();
    let o = play(&mut s, &gallery, &frozen);
    assert!(o.owner_seen, "the photo should be recognised as the owner");
    assert!(o.unlocked_at.is_none(), "a frozen photo unlocked");
    assert!(o
        .notices
        .iter()
        .any(|(_, n)| matches!(n, VerifyNotice::LivenessFailed { .. })));

    // The same photo hand-held: the whole picture shifts and turns a little
    // every frame, with sensor noise.
    let held = hand_held(&photo, 150);
    let o = play(&mut s, &gallery, &held);
    assert!(
        o.unlocked_at.is_none(),
        "a hand-held photo unlocked: {:?}",
        o.notices
    );
}

/// A deterministic random walk of small shifts, turns and zooms of the whole
/// image, plus noise, as a phone held in front of the camera.
fn hand_held(img: &RgbImage, n: usize) -> Vec<RgbImage> {
    let mut seed = 0x1234_5678_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 20_001) as f32 / 10_000.0 - 1.0
    };
    let (w, h) = (img.width() as f32, img.height() as f32);
    let c = Point::new(w / 2.0, h / 2.0);
    let (mut dx, mut dy, mut rot, mut zoom) = (0f32, 0f32, 0f32, 0f32);
    (0..n)
        .map(|_| {
            dx = 0.97 * (dx + 1.5 * rnd());
            dy = 0.97 * (dy + 1.5 * rnd());
            rot = 0.97 * (rot + 0.006 * rnd());
            zoom = 0.97 * (zoom + 0.005 * rnd());
            let s = 1.0 + zoom;
            let to_src = Similarity {
                a_re: s * rot.cos(),
                a_im: s * rot.sin(),
                from: c,
                to: Point::new(c.x + dx, c.y + dy),
            }
            .inverse()
            .unwrap();
            RgbImage::from_fn(img.width(), img.height(), |x, y| {
                let p = to_src.apply(Point::new(x as f32, y as f32));
                let sx = p.x.round().clamp(0.0, w - 1.0) as u32;
                let sy = p.y.round().clamp(0.0, h - 1.0) as u32;
                let mut px = *img.get_pixel(sx, sy);
                for ch in px.0.iter_mut() {
                    *ch = (*ch as f32 + 3.0 * rnd()).round().clamp(0.0, 255.0) as u8;
                }
                px
            })
        })
        .collect()
}

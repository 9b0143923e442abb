//! Real clips through the real detector and embedding: the owner, enrolled
//! from one part of a webcam clip, unlocks in another part; other people and
//! replayed photos of the owner never do, held up for 20 s. Fixtures:
//! tests/fixtures/verify/. The helpers here (`setup`, `enroll`, `play`,
//! `hand_held`, `tilted`) serve tests/it/verify_unlock.rs too.

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
use vigil::verify::report::{VerifyNotice, VerifyVerdict};
use vigil::verify::stage::VerifyStage;
use vigil::verify::Identity;

/// Frame rate of the fixture clips (the source clips are 25 and 30 FPS).
const FPS: f64 = 25.0;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(name)
}

pub(crate) fn frames(name: &str) -> Vec<RgbImage> {
    list_images(&fixtures(name))
        .unwrap()
        .iter()
        .map(|p| load_rgb(p).unwrap())
        .collect()
}

use crate::support::MemoryAudit;

pub(crate) struct Setup {
    pub store: ModelStore,
    pub config: Config,
    pub finder: Box<dyn FaceFinder>,
}

pub(crate) fn setup() -> Setup {
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

pub(crate) fn enroll(s: &mut Setup) -> Gallery {
    let mut embedder = NetEmbedder::new(&s.store, s.config.verify.model).unwrap();
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

pub(crate) struct Outcome {
    pub notices: Vec<(f64, VerifyNotice)>,
    pub unlocked_at: Option<f64>,
    pub owner_seen: bool,
    /// Every frame's faces and verdict.
    pub frames: Vec<(Vec<TrackedFace>, VerifyVerdict)>,
}

/// Plays `images` as a clip (one track per face, the largest face only).
pub(crate) fn play(s: &mut Setup, gallery: &Gallery, images: &[RgbImage]) -> Outcome {
    let stage_embedder = NetEmbedder::new(&s.store, s.config.verify.model).unwrap();
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
        frames: Vec::new(),
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
            faces: faces.clone(),
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
        out.notices
            .extend(v.notices.iter().cloned().map(|n| (t, n)));
        out.frames.push((faces, v));
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

    // A still photo of the owner replayed: the same frame for 20 s. Liveness
    // keeps trying, and every attempt fails.
    let photo = frames("owner").swap_remove(0);
    let frozen: Vec<RgbImage> = (0..PHOTO_FRAMES).map(|_| photo.clone()).collect();
    let o = play(&mut s, &gallery, &frozen);
    assert!(o.owner_seen, "the photo should be recognised as the owner");
    assert!(o.unlocked_at.is_none(), "a frozen photo unlocked");
    assert_eq!(failed_attempts(&o), 3, "{:?}", o.notices);

    // The same photo hand-held for 20 s: the whole picture shifts, turns and
    // zooms a little every frame, with sensor noise; then shaken (larger
    // steps).
    for (what, clip) in [
        ("hand-held", hand_held(&photo, PHOTO_FRAMES, 1.0)),
        ("shaken", hand_held(&photo, PHOTO_FRAMES, 3.0)),
    ] {
        let o = play(&mut s, &gallery, &clip);
        assert!(
            o.owner_seen,
            "{what}: not recognised, the test proves nothing"
        );
        assert!(
            o.unlocked_at.is_none(),
            "a {what} photo unlocked: {:?}",
            o.notices
        );
    }
}

/// The photo tilted back and forth by 20 degrees about its vertical axis,
/// filling the view, for 20 s. The landmark net places the nose of a
/// foreshortened face as on a turned head, so the parallax cue passes
/// (median 0.019, above a live owner's 0.012); it unlocked at 1.2 s before
/// the planarity cue: one homography explains the face's pixels from frame
/// to frame, as for any plane, and every attempt fails.
#[test]
fn a_tilted_photo_does_not_unlock() {
    let mut s = setup();
    let gallery = enroll(&mut s);
    let photo = frames("owner").swap_remove(0);
    let o = play(&mut s, &gallery, &tilted(&photo, PHOTO_FRAMES));
    assert!(o.owner_seen, "not recognised, the test proves nothing");
    assert!(o.unlocked_at.is_none(), "unlocked: {:?}", o.notices);
}

/// Frames of a photo attack: 20 s at the fixtures' 25 FPS.
const PHOTO_FRAMES: usize = 500;

/// The `liveness_failed` notices of a run.
pub(crate) fn failed_attempts(o: &Outcome) -> usize {
    o.notices
        .iter()
        .filter(|(_, n)| matches!(n, VerifyNotice::LivenessFailed { .. }))
        .count()
}

/// The photo turned about its vertical axis through its centre, back and
/// forth up to 20 degrees every 2 s, seen through a pinhole at one image
/// width: a printed photo tilted in front of the camera.
pub(crate) fn tilted(img: &RgbImage, n: usize) -> Vec<RgbImage> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (cx, cy, f) = (w / 2.0, h / 2.0, w);
    (0..n)
        .map(|i| {
            let a = 20f32.to_radians() * (i as f32 * std::f32::consts::PI / 25.0).sin();
            let (sin, cos) = a.sin_cos();
            RgbImage::from_fn(img.width(), img.height(), |x, y| {
                // Output (x, y) sees the photo point (px, py) with
                // x = f px cos / (f + px sin), y = f py / (f + px sin).
                let (u, v) = (x as f32 - cx, y as f32 - cy);
                let den = f * cos - u * sin;
                if den.abs() < 1e-3 {
                    return image::Rgb([0, 0, 0]);
                }
                let px = u * f / den;
                let py = v * (f + px * sin) / f;
                let (sx, sy) = (px + cx, py + cy);
                if sx < 0.0 || sy < 0.0 || sx > w - 1.0 || sy > h - 1.0 {
                    return image::Rgb([20, 20, 20]);
                }
                *img.get_pixel(sx.round() as u32, sy.round() as u32)
            })
        })
        .collect()
}

/// A deterministic random walk of small shifts, turns and zooms of the whole
/// image, plus noise, as a phone held in front of the camera; `shake`
/// multiplies the steps (1 = a steady hand).
pub(crate) fn hand_held(img: &RgbImage, n: usize, shake: f32) -> Vec<RgbImage> {
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
            dx = 0.97 * (dx + 1.5 * shake * rnd());
            dy = 0.97 * (dy + 1.5 * shake * rnd());
            rot = 0.97 * (rot + 0.006 * shake * rnd());
            zoom = 0.97 * (zoom + 0.005 * shake * rnd());
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

//! The unlock path fails closed: each failure leaves the device locked.
//!
//! These tests drive the verify stage with a stand-in embedder (the model is
//! exercised in verify_clips.rs); they check the code around it: gallery
//! errors, model errors, command errors, timeouts, the rate limit, the audit
//! log. The last one plays the real owner fixture through the real models
//! (helpers of verify_clips.rs): liveness keeps trying.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::RgbImage;
use vigil::core::face::{Detection, TrackId, TrackedFace};
use vigil::core::frame::Frame;
use vigil::core::geometry::{BoundingBox, Landmarks, Point};
use vigil::pipeline::Analysis;
use vigil::verify::audit::{AuditError, AuditRecord, AuditSink};
use vigil::verify::embed::{Embedding, FaceEmbedder, EMBEDDING_DIM};
use vigil::verify::gallery::{Gallery, GalleryError, GalleryStore, Quality, Template};
use vigil::verify::report::VerifyNotice;
use vigil::verify::stage::VerifyStage;
use vigil::verify::{LivenessConfig, UnlockConfig, VerifyConfig, VerifyError};

const SHA: &str = "model-sha";

/// A unit descriptor at angle `x` (radians) in its first two axes: 1.0 (the
/// owner) and 3.0 (a stranger) are far apart in either metric.
fn vector(x: f32) -> Embedding {
    let mut v = vec![0.0; EMBEDDING_DIM];
    v[0] = x.cos();
    v[1] = x.sin();
    Embedding::new(v).unwrap()
}

/// Returns a fixed descriptor, or fails.
struct FixedEmbedder(Option<Embedding>);

impl FaceEmbedder for FixedEmbedder {
    fn model_sha256(&self) -> &str {
        SHA
    }
    fn embed(&mut self, _chip: &RgbImage) -> Result<Embedding, VerifyError> {
        self.0
            .clone()
            .ok_or(VerifyError::Model(vigil::models::ModelError::Run {
                file: "stand-in".into(),
                message: "injected failure".into(),
            }))
    }
}

use crate::support::MemoryAudit;

struct FailingAudit;

impl AuditSink for FailingAudit {
    fn record(&mut self, _r: &AuditRecord) -> Result<(), AuditError> {
        Err(AuditError::Write {
            path: "/full/disk".into(),
            source: std::io::Error::other("disk full"),
        })
    }
}

fn gallery() -> Gallery {
    let mut g = Gallery::empty(SHA);
    let t = Template {
        embedding: vector(1.0),
        created_unix_s: 0,
        quality: Quality {
            face_px: 100.0,
            sharpness: 100.0,
            yaw: 0.0,
            roll_deg: 0.0,
            score: 1.0,
        },
        origin: "test".into(),
    };
    g.add("owner", vec![t], 0).unwrap();
    g
}

fn configs(command: &[&str], timeout_s: f64) -> (VerifyConfig, LivenessConfig, UnlockConfig) {
    let verify = VerifyConfig::default();
    let liveness = LivenessConfig {
        enabled: false,
        ..Default::default()
    };
    let unlock = UnlockConfig {
        command: command.iter().map(|s| s.to_string()).collect(),
        timeout_s,
        ..Default::default()
    };
    (verify, liveness, unlock)
}

fn analysis(seq: u64, track: u64) -> Analysis {
    let lm = Landmarks::from_points([
        Point::new(80.0, 90.0),
        Point::new(120.0, 90.0),
        Point::new(100.0, 110.0),
        Point::new(85.0, 130.0),
        Point::new(115.0, 130.0),
    ]);
    let image = RgbImage::from_fn(200, 200, |x, y| {
        image::Rgb([(x + y) as u8, x as u8, y as u8])
    });
    Analysis {
        frame: Frame::new(seq, Duration::from_millis(40 * seq), image),
        faces: vec![TrackedFace {
            track: TrackId(track),
            detection: Detection {
                bbox: BoundingBox::new(60.0, 60.0, 80.0, 90.0),
                score: 0.99,
                landmarks: lm,
            },
            age: seq as u32 + 1,
        }],
        ended: Vec::new(),
    }
}

fn stage(
    embedding: Option<Embedding>,
    gallery: Result<Gallery, GalleryError>,
    audit: Result<Box<dyn AuditSink>, String>,
    command: &[&str],
    timeout_s: f64,
) -> VerifyStage {
    let (v, l, u) = configs(command, timeout_s);
    VerifyStage::new(
        Box::new(FixedEmbedder(embedding)),
        gallery,
        audit,
        &v,
        &l,
        &u,
    )
}

/// Runs `frames` frames of one track; returns all notices and the final lock state.
fn run(stage: &mut VerifyStage, frames: u64, track: u64) -> (Vec<VerifyNotice>, bool) {
    let mut notices = Vec::new();
    for i in 0..frames {
        let v = stage.process_analysis(&analysis(i, track));
        notices.extend(v.notices);
    }
    (notices, stage.is_unlocked())
}

#[test]
fn the_owner_unlocks_with_a_successful_command() {
    let audit = MemoryAudit::default();
    let mut s = stage(
        Some(vector(1.0)),
        Ok(gallery()),
        Ok(Box::new(audit.clone())),
        &["true"],
        5.0,
    );
    let (notices, unlocked) = run(&mut s, 5, 1);
    assert!(unlocked, "{notices:?}");
    assert!(notices
        .iter()
        .any(|n| matches!(n, VerifyNotice::Unlocked { .. })));
    let log = audit.0.lock().unwrap().join("\n");
    assert!(log.contains("\"kind\":\"unlock\""), "{log}");
}

#[test]
fn a_stranger_never_unlocks() {
    let mut s = stage(
        Some(vector(3.0)),
        Ok(gallery()),
        Ok(Box::new(MemoryAudit::default())),
        &["true"],
        5.0,
    );
    let (notices, unlocked) = run(&mut s, 20, 1);
    assert!(!unlocked);
    assert!(notices.iter().any(|n| matches!(
        n,
        VerifyNotice::Identity {
            identity: vigil::verify::Identity::Unknown,
            ..
        }
    )));
}

#[test]
fn a_missing_or_corrupt_gallery_means_nobody_enrolled() {
    let d = tempfile::tempdir().unwrap();
    let store = GalleryStore::new(d.path().join("g.json"), d.path().join("g.key"));
    store.save(&gallery()).unwrap();
    std::fs::write(&store.path, b"{ not json").unwrap();
    for g in [
        store.load(SHA),
        GalleryStore::new(d.path().join("none.json"), d.path().join("g.key")).load(SHA),
    ] {
        assert!(g.is_err());
        let mut s = stage(
            Some(vector(1.0)),
            g,
            Ok(Box::new(MemoryAudit::default())),
            &["true"],
            5.0,
        );
        let (notices, unlocked) = run(&mut s, 10, 1);
        assert!(!unlocked);
        assert!(
            matches!(notices.first(), Some(VerifyNotice::Error { .. })),
            "{notices:?}"
        );
    }
}

#[test]
fn a_gallery_from_another_model_means_nobody_enrolled() {
    let d = tempfile::tempdir().unwrap();
    let store = GalleryStore::new(d.path().join("g.json"), d.path().join("g.key"));
    let mut other = gallery();
    other.model_sha256 = "another-model".into();
    store.save(&other).unwrap();
    let g = store.load(SHA);
    assert!(matches!(g, Err(GalleryError::OtherModel { .. })));
    let mut s = stage(
        Some(vector(1.0)),
        g,
        Ok(Box::new(MemoryAudit::default())),
        &["true"],
        5.0,
    );
    assert!(!run(&mut s, 10, 1).1);
}

#[test]
fn a_model_error_leaves_it_locked() {
    let audit = MemoryAudit::default();
    let mut s = stage(
        None,
        Ok(gallery()),
        Ok(Box::new(audit.clone())),
        &["true"],
        5.0,
    );
    let (notices, unlocked) = run(&mut s, 10, 1);
    assert!(!unlocked);
    assert!(notices
        .iter()
        .any(|n| matches!(n, VerifyNotice::Error { .. })));
    assert!(audit
        .0
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("injected failure")));
}

#[test]
fn command_failures_leave_it_locked() {
    for (cmd, timeout) in [
        (&["false"][..], 5.0),
        (&["/nonexistent/vigil-door"][..], 5.0),
        (&["sleep", "30"][..], 0.2),
    ] {
        let audit = MemoryAudit::default();
        let mut s = stage(
            Some(vector(1.0)),
            Ok(gallery()),
            Ok(Box::new(audit.clone())),
            cmd,
            timeout,
        );
        let t = std::time::Instant::now();
        let (notices, unlocked) = run(&mut s, 8, 1);
        assert!(!unlocked, "{cmd:?}");
        assert!(t.elapsed() < Duration::from_secs(10), "{cmd:?} hung");
        assert!(
            notices
                .iter()
                .any(|n| matches!(n, VerifyNotice::UnlockFailed { .. })),
            "{cmd:?}: {notices:?}"
        );
        assert!(audit
            .0
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("unlock_failed")));
    }
}

#[test]
fn an_unwritable_audit_log_blocks_the_unlock() {
    let mut s = stage(
        Some(vector(1.0)),
        Ok(gallery()),
        Ok(Box::new(FailingAudit)),
        &["true"],
        5.0,
    );
    assert!(!run(&mut s, 8, 1).1);
    let mut s = stage(
        Some(vector(1.0)),
        Ok(gallery()),
        Err("cannot open".into()),
        &["true"],
        5.0,
    );
    assert!(!run(&mut s, 8, 1).1);
}

/// A descriptor that the test can change between frames.
struct SwitchEmbedder(Arc<Mutex<Embedding>>);

impl FaceEmbedder for SwitchEmbedder {
    fn model_sha256(&self) -> &str {
        SHA
    }
    fn embed(&mut self, _chip: &RgbImage) -> Result<Embedding, VerifyError> {
        Ok(self.0.lock().unwrap().clone())
    }
}

#[test]
fn five_strangers_lock_the_owner_out() {
    let audit = MemoryAudit::default();
    let (v, l, u) = configs(&["true"], 5.0);
    let current = Arc::new(Mutex::new(vector(3.0)));
    let mut s = VerifyStage::new(
        Box::new(SwitchEmbedder(current.clone())),
        Ok(gallery()),
        Ok(Box::new(audit.clone())),
        &v,
        &l,
        &u,
    );
    let mut seq = 0;
    for track in 1..=5 {
        for _ in 0..5 {
            s.process_analysis(&analysis(seq, track));
            seq += 1;
        }
    }
    // The owner arrives during the 30 s lockout: no unlock.
    *current.lock().unwrap() = vector(1.0);
    let mut notices = Vec::new();
    for _ in 0..10 {
        notices.extend(s.process_analysis(&analysis(seq, 6)).notices);
        seq += 1;
    }
    assert!(!s.is_unlocked());
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, VerifyNotice::LockedOut { .. })),
        "{notices:?}"
    );
    // After the lockout (frame clock 40 ms per frame: jump past 30 s), a new
    // track of the owner unlocks.
    seq += 800;
    for _ in 0..5 {
        s.process_analysis(&analysis(seq, 7));
        seq += 1;
    }
    assert!(s.is_unlocked());
}

#[test]
fn relocks_after_the_configured_time() {
    let (v, l, mut u) = configs(&["true"], 5.0);
    u.relock_s = 0.2;
    let mut s = VerifyStage::new(
        Box::new(FixedEmbedder(Some(vector(1.0)))),
        Ok(gallery()),
        Ok(Box::new(MemoryAudit::default())),
        &v,
        &l,
        &u,
    );
    let (notices, _) = run(&mut s, 15, 1);
    assert!(notices
        .iter()
        .any(|n| matches!(n, VerifyNotice::Unlocked { .. })));
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, VerifyNotice::Locked { .. })),
        "{notices:?}"
    );
    assert!(!s.is_unlocked());
}

#[test]
fn a_frozen_picture_of_the_owner_does_not_unlock() {
    // Liveness on: the same frame over and over.
    let (v, _, u) = configs(&["true"], 5.0);
    let l = LivenessConfig {
        timeout_s: 1.0,
        ..Default::default()
    };
    let mut s = VerifyStage::new(
        Box::new(FixedEmbedder(Some(vector(1.0)))),
        Ok(gallery()),
        Ok(Box::new(MemoryAudit::default())),
        &v,
        &l,
        &u,
    );
    let (notices, unlocked) = run(&mut s, 60, 1);
    assert!(!unlocked);
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, VerifyNotice::LivenessFailed { .. })),
        "{notices:?}"
    );
}

/// The real detector and embedding on the owner fixture: the owner sits
/// perfectly still for 6 s (the first frame, repeated: every liveness window
/// is flat), then moves (the clip played back and forth). The first attempt
/// fails at about 5 s with its prompt; liveness keeps trying and the owner
/// unlocks soon after moving, where a track once refused never unlocked. The
/// presenter's state and the overlay labels never show the prompt or a spoof
/// beside "unlocked".
#[test]
fn the_owner_who_sits_still_then_moves_unlocks_later() {
    use vigil::app::present::device_state::LockState;
    use vigil::app::present::label::face_label;
    use vigil::app::present::{DeviceState, PresentState};
    use vigil::app::update::Update;
    use vigil::pipeline::Stamp;

    use crate::verify_clips::{enroll, failed_attempts, frames, play, setup};

    const FPS: f64 = 25.0;
    const STILL_S: f64 = 6.0;
    let mut s = setup();
    let gallery = enroll(&mut s);
    let owner = frames("owner");
    let mut clip: Vec<RgbImage> = (0..(STILL_S * FPS) as usize)
        .map(|_| owner[0].clone())
        .collect();
    let back_and_forth = owner.iter().chain(owner.iter().rev()).cycle();
    clip.extend(back_and_forth.take(125).cloned());
    let o = play(&mut s, &gallery, &clip);

    assert_eq!(failed_attempts(&o), 1, "{:?}", o.notices);
    let (failed_at, prompt) = o
        .notices
        .iter()
        .find_map(|(t, n)| match n {
            VerifyNotice::LivenessFailed { prompt, .. } => Some((*t, prompt.clone())),
            _ => None,
        })
        .unwrap();
    assert!((5.0..STILL_S).contains(&failed_at), "failed at {failed_at}");
    assert_eq!(prompt, "move your head slightly");
    let t = o
        .unlocked_at
        .unwrap_or_else(|| panic!("never unlocked: {:?}", o.notices));
    assert!(
        t > STILL_S && t <= STILL_S + 3.0,
        "unlocked at {t} s, moving from {STILL_S} s"
    );

    // What the presenter makes of it, frame by frame.
    let mut present = PresentState::default();
    let (mut prompted, mut unlocked_frames) = (0, 0);
    for (i, (faces, verdict)) in o.frames.iter().enumerate() {
        let frame = Frame::new(
            i as u64,
            Duration::from_secs_f64(i as f64 / FPS),
            RgbImage::new(1, 1),
        );
        let analysis = Arc::new(Analysis {
            frame,
            faces: faces.clone(),
            ended: Vec::new(),
        });
        let stamp = Stamp::of(&analysis.frame);
        present.apply(&Update::Faces(analysis));
        present.apply(&Update::Verify(stamp, verdict.clone()));
        let state = DeviceState::from_present(&present, String::new());
        let labels: Vec<String> = verdict.faces.iter().map(|f| face_label(f).0).collect();
        if state.lock == LockState::Unlocked {
            unlocked_frames += 1;
            assert!(
                labels.iter().all(|l| !l.contains("SPOOF")) && state.prompt.is_none(),
                "frame {i}: unlocked beside {labels:?} {:?}",
                state.prompt
            );
        }
        if state.prompt.is_some() {
            prompted += 1;
            assert_eq!(state.prompt.as_deref(), Some("move your head slightly"));
            assert!(i as f64 / FPS >= failed_at, "prompt before the failure");
        }
    }
    assert!(prompted > 0 && unlocked_frames > 0);
}

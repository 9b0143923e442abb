//! The emotion stage on synthetic frames made from real FER2013 crops: a crop
//! is pasted into a frame with landmarks where the FER template puts them, so
//! the stage's alignment recovers it. Covers per-track scheduling, smoothing,
//! flickering and ended tracks, tiny and off-frame faces, and the monitor.

use std::path::Path;
use std::time::Duration;

use image::{GrayImage, RgbImage};
use vigil::core::face::{Detection, TrackId, TrackedFace};
use vigil::core::frame::Frame;
use vigil::core::geometry::{BoundingBox, Landmarks, Point};
use vigil::emotion::crop::{grey_of, FER_TEMPLATE};
use vigil::emotion::{
    AlertKind, AlertPhase, Emotion, EmotionConfig, EmotionStage, MonitorConfig, TtaMode,
};
use vigil::models::{self, ModelStore};
use vigil::pipeline::Analysis;

const FPS: f64 = 10.0;

fn crop(e: Emotion) -> GrayImage {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/emotion")
        .join(e.name());
    let files = vigil::capture::list_images(&dir).unwrap();
    grey_of(&vigil::capture::load_rgb(&files[0]).unwrap())
}

/// A face of `side` pixels at (x, y) in the frame (may lie partly outside).
struct Placed {
    track: u64,
    face: GrayImage,
    x: i64,
    y: i64,
    side: u32,
}

fn frame(seq: u64, faces: &[Placed]) -> (Frame, Vec<TrackedFace>) {
    let mut img = RgbImage::from_pixel(320, 240, image::Rgb([90, 90, 90]));
    let mut tracked = Vec::new();
    for p in faces {
        let scaled = image::imageops::resize(
            &p.face,
            p.side,
            p.side,
            image::imageops::FilterType::Triangle,
        );
        for (u, v, px) in scaled.enumerate_pixels() {
            let (fx, fy) = (p.x + u as i64, p.y + v as i64);
            if fx >= 0 && fy >= 0 && fx < 320 && fy < 240 {
                img.put_pixel(fx as u32, fy as u32, image::Rgb([px.0[0]; 3]));
            }
        }
        let s = p.side as f32;
        let landmarks = Landmarks::from_points(
            FER_TEMPLATE.map(|q| Point::new(p.x as f32 + q.x * s, p.y as f32 + q.y * s)),
        );
        tracked.push(TrackedFace {
            track: TrackId(p.track),
            detection: Detection {
                bbox: BoundingBox::new(p.x as f32, p.y as f32, s, s),
                score: 0.99,
                landmarks,
            },
            age: 1,
        });
    }
    let t = Duration::from_secs_f64(seq as f64 / FPS);
    (Frame::new(seq, t, img), tracked)
}

fn analysis(seq: u64, faces: &[Placed], ended: &[u64]) -> Analysis {
    let (frame, faces) = frame(seq, faces);
    Analysis {
        frame,
        faces,
        ended: ended.iter().map(|t| TrackId(*t)).collect(),
    }
}

fn stage(emotion: EmotionConfig, monitor: MonitorConfig) -> EmotionStage {
    let store = ModelStore::new(models::resolve_dir(None).unwrap());
    EmotionStage::new(&store, &emotion, &monitor).unwrap()
}

fn fast_config() -> EmotionConfig {
    EmotionConfig {
        tta: TtaMode::None,
        ..EmotionConfig::default()
    }
}

fn placed(track: u64, e: Emotion, x: i64, y: i64, side: u32) -> Placed {
    Placed {
        track,
        face: crop(e),
        x,
        y,
        side,
    }
}

#[test]
fn a_steady_face_is_classified_every_k_frames_and_smoothed() {
    let mut s = stage(fast_config(), MonitorConfig::default());
    let face = [placed(1, Emotion::Happy, 100, 60, 96)];
    let mut classified = Vec::new();
    let mut last = None;
    for seq in 0..10 {
        let (report, _) = s.process_frame(&analysis(seq, &face, &[])).unwrap();
        assert_eq!(report.faces.len(), 1);
        if report.faces[0].raw.is_some() {
            classified.push(seq);
        }
        last = Some(report.faces[0].smoothed);
    }
    assert_eq!(classified, vec![0, 3, 6, 9]);
    let last = last.unwrap();
    assert_eq!(last.emotion, Emotion::Happy);
    assert_eq!(last.samples, 4);
    assert!(last.confidence > 0.8, "{last:?}");
}

#[test]
fn two_faces_are_classified_in_one_frame_and_kept_apart() {
    let mut s = stage(fast_config(), MonitorConfig::default());
    let faces = [
        placed(1, Emotion::Happy, 10, 60, 100),
        placed(2, Emotion::Surprise, 180, 60, 100),
    ];
    let (report, _) = s.process_frame(&analysis(0, &faces, &[])).unwrap();
    let by_track = |t: u64| {
        report
            .faces
            .iter()
            .find(|f| f.track == TrackId(t))
            .unwrap()
            .smoothed
            .emotion
    };
    assert_eq!(by_track(1), Emotion::Happy);
    assert_eq!(by_track(2), Emotion::Surprise);
}

#[test]
fn a_flickering_track_keeps_its_history_and_an_ended_one_loses_it() {
    let mut s = stage(fast_config(), MonitorConfig::default());
    let face = [placed(5, Emotion::Happy, 100, 60, 96)];
    for seq in 0..6 {
        s.process_frame(&analysis(seq, &face, &[])).unwrap();
    }
    // Gone for 0.5 s, then back with the same id.
    for seq in 6..11 {
        let (report, _) = s.process_frame(&analysis(seq, &[], &[])).unwrap();
        assert!(report.faces.is_empty());
    }
    let (report, _) = s.process_frame(&analysis(11, &face, &[])).unwrap();
    let f = &report.faces[0];
    assert_eq!(f.smoothed.samples, 3, "{f:?}");
    assert_eq!(f.smoothed.emotion, Emotion::Happy);
    // The tracker ends it; the same id later starts afresh.
    s.process_frame(&analysis(12, &[], &[5])).unwrap();
    let sad = [placed(5, Emotion::Sad, 100, 60, 96)];
    let (report, _) = s.process_frame(&analysis(13, &sad, &[])).unwrap();
    assert_eq!(report.faces[0].smoothed.samples, 1);
    assert_eq!(report.faces[0].smoothed.emotion, Emotion::Sad);
}

#[test]
fn tiny_and_off_frame_faces_are_skipped_and_border_faces_classified() {
    let mut s = stage(fast_config(), MonitorConfig::default());
    let faces = [
        placed(1, Emotion::Happy, 50, 50, 12),    // below min_face_px
        placed(2, Emotion::Happy, -80, -80, 100), // 4% inside the frame
        placed(3, Emotion::Happy, 250, 150, 96),  // 70 x 90 of 96 x 96 inside
    ];
    let (report, _) = s.process_frame(&analysis(0, &faces, &[])).unwrap();
    let tracks: Vec<u64> = report.faces.iter().map(|f| f.track.0).collect();
    assert_eq!(tracks, vec![3]);
}

#[test]
fn sustained_anger_and_an_empty_seat_raise_alerts() {
    let monitor = MonitorConfig {
        window_s: 4.0,
        alert_share: 0.5,
        clear_share: 0.3,
        alert_after_s: 1.0,
        no_face_after_s: 2.0,
        ..MonitorConfig::default()
    };
    let mut s = stage(fast_config(), monitor);
    let face = [placed(1, Emotion::Angry, 100, 60, 96)];
    let mut alerts = Vec::new();
    for seq in 0..60 {
        alerts.extend(s.process_frame(&analysis(seq, &face, &[])).unwrap().1);
    }
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].kind, AlertKind::Emotion(Emotion::Angry));
    assert_eq!(alerts[0].phase, AlertPhase::Start);
    // Share reaches 0.5 of the 4 s window after 2 s, then must hold 1 s.
    let t = alerts[0].media_time.as_secs_f64();
    assert!((2.9..=3.3).contains(&t), "{t}");
    alerts.clear();
    for seq in 60..100 {
        alerts.extend(s.process_frame(&analysis(seq, &[], &[1])).unwrap().1);
    }
    let kinds: Vec<(AlertKind, AlertPhase)> = alerts.iter().map(|a| (a.kind, a.phase)).collect();
    assert!(
        kinds.contains(&(AlertKind::NoFace, AlertPhase::Start)),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(AlertKind::Emotion(Emotion::Angry), AlertPhase::End)),
        "{kinds:?}"
    );
}

//! Emotion bars beside each face and the alert banner, checked on the canvas
//! (no display needed), and the events the presenter state emits.

use std::sync::Arc;
use std::time::Duration;

use image::RgbImage;
use vigil::app::present::canvas::{RED, YELLOW};
use vigil::app::present::{overlay, Event, PresentState};
use vigil::app::update::Update;
use vigil::core::face::{Detection, TrackId, TrackedFace};
use vigil::core::frame::Frame;
use vigil::core::geometry::{BoundingBox, Landmarks};
use vigil::emotion::{
    Alert, AlertKind, AlertPhase, Emotion, EmotionReport, EmotionScores, FaceEmotion, MoodShares,
    SmoothedEmotion,
};
use vigil::pipeline::LiveView;
use vigil::pipeline::{Analysis, Stamp};

fn faces_update() -> (Update, Stamp) {
    let frame = Frame::new(3, Duration::from_millis(300), RgbImage::new(320, 240));
    let analysis = Analysis {
        frame,
        faces: vec![TrackedFace {
            track: TrackId(4),
            detection: Detection {
                bbox: BoundingBox::new(40.0, 60.0, 80.0, 80.0),
                score: 0.99,
                landmarks: Landmarks::default(),
            },
            age: 1,
        }],
        ended: vec![],
    };
    let stamp = analysis.stamp();
    (Update::Faces(Arc::new(analysis)), stamp)
}

fn sad(confidence: f32) -> SmoothedEmotion {
    let mut s = [(1.0 - confidence) / 6.0; 7];
    s[Emotion::Sad.index()] = confidence;
    SmoothedEmotion::from_scores(EmotionScores(s), 3)
}

#[test]
fn bars_banner_and_events() {
    let mut state = PresentState::default();
    let (faces, stamp) = faces_update();
    state.apply(&faces);
    let report = EmotionReport {
        faces: vec![FaceEmotion {
            track: TrackId(4),
            raw: None,
            smoothed: sad(0.9),
        }],
        mood: Some(MoodShares::default()),
    };
    let events = state.apply(&Update::Emotion(stamp, report.clone()));
    assert!(
        matches!(
            events.as_slice(),
            [Event::Emotion {
                track: TrackId(4),
                ..
            }]
        ),
        "{events:?}"
    );
    // The same dominant emotion again is not a new event.
    assert!(state.apply(&Update::Emotion(stamp, report)).is_empty());

    let canvas = overlay::render(&state, &LiveView::default(), 1).unwrap();
    // The sad bar (row 5) is the dominant one: yellow, right of the box.
    let bar_x = 40 + 80 + 4 + 32 + 20;
    let bar_y = 60 + 5 * 10 + 3;
    assert_eq!(canvas.get(bar_x, bar_y), Some(YELLOW));
    assert_ne!(canvas.get(5, 235), Some(RED));

    let alert = Alert {
        kind: AlertKind::Emotion(Emotion::Sad),
        phase: AlertPhase::Start,
        media_time: Duration::from_millis(300),
        share: Some(0.6),
        duration_s: 5.0,
    };
    let events = state.apply(&Update::Alert(stamp, alert));
    let line = serde_json::to_string(&events[0]).unwrap();
    assert!(
        line.contains(r#""event":"alert""#) && line.contains(r#""kind":"sad""#),
        "{line}"
    );
    let canvas = overlay::render(&state, &LiveView::default(), 1).unwrap();
    let red_rows = (0..240)
        .filter(|y| canvas.get(1, *y) != canvas.get(1, 100))
        .count();
    assert!(red_rows >= 16, "banner rows {red_rows}");
    let end = Alert {
        phase: AlertPhase::End,
        ..alert
    };
    state.apply(&Update::Alert(stamp, end));
    assert!(state.alerts.is_empty());

    // Frame events carry the smoothed emotion of each face.
    let ev = serde_json::to_string(&state.frame_event(1.0).unwrap()).unwrap();
    assert!(ev.contains(r#""emotion":{"label":"sad""#), "{ev}");
}

//! The attention stage on constructed clips made from real frames
//! (`tests/fixtures/attention/`: frames of a real clip with eyes open,
//! eyes closed, and the middle of a real blink), timed as a 15 and a 30 FPS
//! camera, through the stage's plain `process_frame`; the alert events in
//! the shared alert stream; the eval command's JSON keys.

use std::time::Duration;

use image::RgbImage;
use vigil::app::present::events::Event;
use vigil::app::present::state::PresentState;
use vigil::app::update::Update;
use vigil::attention::{
    AttentionConfig, AttentionKind, AttentionMonitor, AttentionPhase, AttentionStage, Observation,
};
use vigil::core::face::{Detection, TrackId, TrackedFace};
use vigil::core::frame::Frame;
use vigil::detect::Detector;
use vigil::pipeline::{Analysis, Stamp};

use crate::support::{fixture, store};

/// A real frame and the face the detector finds in it.
struct Shot {
    image: RgbImage,
    face: Detection,
}

fn shot(name: &str) -> Shot {
    let image = vigil::capture::load_rgb(&fixture(&format!("attention/{name}.jpg"))).unwrap();
    let mut detector = Detector::new(&store(), &Default::default()).unwrap();
    let faces = vigil::core::finder::FaceFinder::find(&mut detector, &image).unwrap();
    let face = *faces
        .iter()
        .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()))
        .unwrap();
    Shot { image, face }
}

struct Shots {
    open: [Shot; 2],
    closed: [Shot; 2],
    blink: Shot,
}

fn shots() -> Shots {
    Shots {
        open: [shot("open_1"), shot("open_2")],
        closed: [shot("closed_1"), shot("closed_2")],
        blink: shot("blink"),
    }
}

/// What the eyes do over one stretch of a clip.
#[derive(Clone, Copy)]
enum Eyes {
    Open,
    Closed,
    /// The real blink frame (eyes shut mid-blink).
    Blink,
}

/// Plays `script` (eye state, seconds) at `fps` through a fresh stage and
/// returns the alerts with their media times.
fn play(
    shots: &Shots,
    fps: f64,
    script: &[(Eyes, f64)],
    config: &AttentionConfig,
) -> Vec<(f64, AttentionKind, AttentionPhase)> {
    let mut stage = AttentionStage::new(&store(), config).unwrap();
    let mut seq = 0u64;
    let mut alerts = Vec::new();
    for (eyes, seconds) in script {
        let frames = (seconds * fps).round() as u64;
        for i in 0..frames {
            let s = match eyes {
                Eyes::Open => &shots.open[(i % 2) as usize],
                Eyes::Closed => &shots.closed[(i % 2) as usize],
                Eyes::Blink => &shots.blink,
            };
            let t = seq as f64 / fps;
            let analysis = Analysis {
                frame: Frame::new(seq, Duration::from_secs_f64(t), s.image.clone()),
                faces: vec![TrackedFace {
                    track: TrackId(1),
                    detection: s.face,
                    age: seq as u32 + 1,
                }],
                ended: vec![],
            };
            let (_, new) = stage.process_frame(&analysis).unwrap();
            alerts.extend(new.into_iter().map(|a| (t, a.kind, a.phase)));
            seq += 1;
        }
    }
    alerts
}

fn microsleeps(alerts: &[(f64, AttentionKind, AttentionPhase)]) -> Vec<(f64, AttentionPhase)> {
    alerts
        .iter()
        .filter(|a| a.1 == AttentionKind::Microsleep)
        .map(|a| (a.0, a.2))
        .collect()
}

#[test]
fn the_fixture_frames_read_as_their_eye_state() {
    let shots = shots();
    let mut c = vigil::attention::AttentionClassifier::new(&store()).unwrap();
    for (s, closed) in [
        (&shots.open[0], false),
        (&shots.open[1], false),
        (&shots.closed[0], true),
        (&shots.closed[1], true),
        (&shots.blink, true),
    ] {
        let r = c.read(&s.image, &s.face.landmarks).unwrap();
        let p = r.eyes_closed.unwrap();
        assert_eq!(p >= 0.5, closed, "P(closed) {p}");
    }
}

#[test]
fn a_blink_never_raises_microsleep_and_a_long_closure_does_at_15_and_30_fps() {
    let shots = shots();
    let config = AttentionConfig::default();
    for fps in [15.0, 30.0] {
        // Blinks of 130 to 400 ms (real blink frame, then the closed frames).
        for (eyes, blink_s) in [
            (Eyes::Blink, 0.2),
            (Eyes::Closed, 0.39),
            (Eyes::Blink, 0.39),
        ] {
            let script = [
                (Eyes::Open, 1.0),
                (eyes, blink_s),
                (Eyes::Open, 1.0),
                (eyes, blink_s),
                (Eyes::Open, 1.0),
            ];
            let alerts = play(&shots, fps, &script, &config);
            assert!(
                microsleeps(&alerts).is_empty(),
                "{fps} FPS, blink {blink_s} s: {alerts:?}"
            );
        }
        // Eyes closed for 1.5 s: microsleep starts once they have been closed
        // microsleep_s (1.2 s, within a reading interval), ends when they open.
        let script = [(Eyes::Open, 1.0), (Eyes::Closed, 1.5), (Eyes::Open, 1.0)];
        let alerts = play(&shots, fps, &script, &config);
        let m = microsleeps(&alerts);
        assert_eq!(m.len(), 2, "{fps} FPS: {alerts:?}");
        assert_eq!(m[0].1, AttentionPhase::Start);
        let step = config.every_n_frames as f64 / fps;
        assert!(
            m[0].0 >= 1.0 + 1.2 - 1e-6 && m[0].0 <= 1.0 + 1.2 + 2.0 * step,
            "{m:?}"
        );
        assert_eq!(m[1].1, AttentionPhase::End);
        assert!(m[1].0 >= 2.5 - 1e-6 && m[1].0 <= 2.5 + 2.0 * step, "{m:?}");
    }
}

#[test]
fn perclos_rises_with_closed_time_and_raises_drowsy() {
    let shots = shots();
    let config = AttentionConfig {
        perclos_window_s: 6.0,
        perclos_alert: 0.3,
        perclos_clear: 0.2,
        ..Default::default()
    };
    // 6 s alternating 1 s open, 0.8 s closed (no microsleep): about 40% closed.
    let mut script = Vec::new();
    for _ in 0..4 {
        script.push((Eyes::Open, 1.0));
        script.push((Eyes::Closed, 0.8));
    }
    script.push((Eyes::Open, 6.0));
    let alerts = play(&shots, 15.0, &script, &config);
    let drowsy: Vec<_> = alerts
        .iter()
        .filter(|a| a.1 == AttentionKind::Drowsy)
        .collect();
    assert_eq!(drowsy.len(), 2, "{alerts:?}");
    assert_eq!(drowsy[0].2, AttentionPhase::Start);
    assert_eq!(drowsy[1].2, AttentionPhase::End);
    assert!(microsleeps(&alerts).is_empty(), "{alerts:?}");
}

/// `distracted` after looking away for distracted_s, not on a shorter
/// mirror check (monitor level: the pose itself is validated in `attention::pose`).
#[test]
fn distracted_after_the_configured_time_not_on_a_mirror_check() {
    let config = AttentionConfig::default();
    for fps in [15.0, 30.0] {
        let mut m = AttentionMonitor::new(&config);
        let mut alerts = Vec::new();
        let mut t = 0.0;
        // Look away 1.2 s (mirror check), back 1 s, away 3 s, back 1 s.
        for (away, secs) in [
            (false, 1.0),
            (true, 1.2),
            (false, 1.0),
            (true, 3.0),
            (false, 1.0),
        ] {
            for _ in 0..(secs * fps) as usize {
                let obs = Observation {
                    eyes_closed: Some(false),
                    yawning: Some(false),
                    looking_away: Some(away),
                };
                for a in m.update(Duration::from_secs_f64(t), Some(obs)) {
                    alerts.push((t, a.kind, a.phase));
                }
                t += 1.0 / fps;
            }
        }
        assert_eq!(alerts.len(), 2, "{alerts:?}");
        assert_eq!(alerts[0].1, AttentionKind::Distracted);
        assert!((alerts[0].0 - (3.2 + 2.0)).abs() < 1.5 / fps, "{alerts:?}");
        assert!((alerts[1].0 - 6.2).abs() < 1.5 / fps, "{alerts:?}");
    }
}

#[test]
fn attention_alerts_share_the_alert_event_stream() {
    let mut state = PresentState::default();
    let stamp = Stamp {
        seq: 3,
        media_time: Duration::from_millis(1500),
        captured: std::time::Instant::now(),
    };
    let alert = vigil::attention::AttentionAlert {
        kind: AttentionKind::Microsleep,
        phase: AttentionPhase::Start,
        media_time: Duration::from_millis(1500),
        perclos: None,
        duration_s: 1.2,
    };
    let events = state.apply(&Update::AttentionAlert(stamp, alert));
    assert!(matches!(events.as_slice(), [Event::Alert { .. }]));
    let line = serde_json::to_string(&events[0]).unwrap();
    assert!(
        line.contains(r#""event":"alert""#)
            && line.contains(r#""kind":"microsleep""#)
            && line.contains(r#""phase":"start""#),
        "{line}"
    );
    assert!(state
        .attention_alerts
        .contains_key(&AttentionKind::Microsleep));
    state.apply(&Update::AttentionAlert(
        stamp,
        vigil::attention::AttentionAlert {
            phase: AttentionPhase::End,
            ..alert
        },
    ));
    assert!(state.attention_alerts.is_empty());
}

/// `vigil eval attention` through the binary on folders made of the fixture
/// frames (eyes: closed/ open/; yawn: no_yawn/ only, plus a frame without a
/// face counted apart): the JSON keys the issue names.
#[test]
fn eval_attention_reports_eyes_and_yawn_accuracy_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let put = |sub: &str, name: &str, src: &std::path::Path| {
        let d = dir.path().join(sub);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(src, d.join(name)).unwrap();
    };
    for (sub, name) in [
        ("eyes/closed", "closed_1.jpg"),
        ("eyes/closed", "closed_2.jpg"),
        ("eyes/open", "open_1.jpg"),
        ("eyes/open", "open_2.jpg"),
        ("yawn/no_yawn", "open_1.jpg"),
        ("yawn/no_yawn", "closed_1.jpg"),
    ] {
        put(sub, name, &fixture(&format!("attention/{name}")));
    }
    put(
        "yawn/no_yawn",
        "coffee.jpg",
        &fixture("detect/coffee_320x213.jpg"),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["eval", "attention", "--json", "--eyes"])
        .arg(dir.path().join("eyes"))
        .arg("--yawn")
        .arg(dir.path().join("yawn"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(v["eyes_accuracy"].as_f64(), Some(1.0), "{v}");
    assert_eq!(v["yawn_accuracy"].as_f64(), Some(1.0), "{v}");
    assert_eq!(v["eyes"]["judged"], 4);
    assert_eq!(v["yawn"]["images"], 3);
    assert_eq!(v["yawn"]["no_face"], 1);
    assert_eq!(v["eyes"]["threshold"].as_f64(), Some(0.5));
    for key in ["precision", "recall"] {
        assert!(v["eyes"][key].is_number(), "{key}");
    }
}

/// Through the stage: the real open-eye frame with its landmarks turned as a
/// head turned by 45 degrees would place them (the generic face's
/// points rotated and projected onto the detected face's scale and place),
/// for 1.2 s (a mirror check: no alert) and then for 3 s (`distracted`).
#[test]
fn the_stage_flags_a_long_head_turn_not_a_mirror_check() {
    use vigil::attention::pose::{rotate, FACE_MODEL};
    use vigil::core::geometry::{Landmarks, Point};
    let s = shot("open_1");
    let lm = s.face.landmarks;
    let scale = lm.inter_ocular() / (FACE_MODEL[1][0] - FACE_MODEL[0][0]);
    let turned = Landmarks::from_points(FACE_MODEL.map(|p| {
        let q = rotate(p, 45f32.to_radians(), 0.0, 0.0);
        Point::new(lm.nose.x + scale * q[0], lm.nose.y + scale * q[1])
    }));
    let pose = vigil::attention::head_pose(&turned).unwrap();
    assert!((pose.yaw_deg - 45.0).abs() < 3.0, "{pose:?}");
    let config = AttentionConfig::default();
    for fps in [15.0, 30.0] {
        let mut stage = AttentionStage::new(&store(), &config).unwrap();
        let mut alerts = Vec::new();
        let mut seq = 0u64;
        for (away, secs) in [
            (false, 1.0),
            (true, 1.2),
            (false, 1.0),
            (true, 3.0),
            (false, 1.0),
        ] {
            for _ in 0..(secs * fps) as usize {
                let mut face = s.face;
                if away {
                    face.landmarks = turned;
                }
                let t = seq as f64 / fps;
                let analysis = Analysis {
                    frame: Frame::new(seq, Duration::from_secs_f64(t), s.image.clone()),
                    faces: vec![TrackedFace {
                        track: TrackId(1),
                        detection: face,
                        age: seq as u32 + 1,
                    }],
                    ended: vec![],
                };
                let (_, new) = stage.process_frame(&analysis).unwrap();
                alerts.extend(
                    new.into_iter()
                        .filter(|a| a.kind == AttentionKind::Distracted)
                        .map(|a| (t, a.phase)),
                );
                seq += 1;
            }
        }
        assert_eq!(alerts.len(), 2, "{fps} FPS: {alerts:?}");
        assert_eq!(alerts[0].1, AttentionPhase::Start);
        assert!(
            alerts[0].0 >= 5.2 - 1e-6 && alerts[0].0 <= 5.2 + 3.0 / fps,
            "{alerts:?}"
        );
        assert_eq!(alerts[1].1, AttentionPhase::End);
    }
}

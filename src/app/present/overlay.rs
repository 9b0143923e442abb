//! Draws the frame, faces and status into a [`Canvas`].

use super::canvas::{Canvas, CYAN, GLYPH, GREEN, RED, WHITE, YELLOW};
use super::state::PresentState;
use crate::pipeline::LiveView;

/// Thickness of face boxes, in canvas pixels.
pub const BOX_THICKNESS: i64 = 2;
/// Half-side of a landmark dot.
pub const LANDMARK_RADIUS: i64 = 1;
/// Line height of the status text.
const LINE: i64 = GLYPH as i64 + 4;

/// Renders the latest frame with its overlay, or `None` before the first frame.
pub fn render(state: &PresentState, live: &LiveView, scale: usize) -> Option<Canvas> {
    let analysis = state.analysis.as_ref()?;
    let mut canvas = Canvas::from_image(&analysis.frame.image, scale);
    let s = scale.max(1) as f32;
    for face in &analysis.faces {
        let b = face.detection.bbox.scale(s);
        let (x1, y1) = (b.x.round() as i64, b.y.round() as i64);
        let (x2, y2) = (b.x2().round() as i64 - 1, b.y2().round() as i64 - 1);
        canvas.rect(x1, y1, x2, y2, BOX_THICKNESS, GREEN);
        for p in face.detection.landmarks.points() {
            canvas.dot(
                (p.x * s).round() as i64,
                (p.y * s).round() as i64,
                LANDMARK_RADIUS,
                CYAN,
            );
        }
        let text = format!("{} {:.2}", face.track, face.detection.score);
        canvas.label(x1, (y1 - LINE).max(0), &text, GREEN);
        // Lines under the box: the verifier's label and prompt, then attention.
        let mut below = y2 + 4;
        if let Some(v) = state
            .verify
            .as_ref()
            .and_then(|v| v.faces.iter().find(|f| f.track == face.track))
        {
            let (text, colour) = super::label::face_label(v);
            canvas.label(x1, below, &text, colour);
            below += LINE;
            if let Some(prompt) = &v.prompt {
                canvas.label(x1, below, prompt, YELLOW);
                below += LINE;
            }
        }
        if let Some(emotion) = state.emotions.get(&face.track) {
            draw_emotion_bars(&mut canvas, x2 + 4, y1, emotion);
        }
        if let Some(driver) = state
            .attention
            .as_ref()
            .and_then(|a| a.driver.as_ref())
            .filter(|d| d.track == face.track)
        {
            draw_attention(&mut canvas, face, driver, s, x1, below, state);
        }
    }
    draw_status(&mut canvas, state, live);
    draw_alert_banner(&mut canvas, state);
    Some(canvas)
}

/// Length of a full (probability 1) emotion bar, in pixels.
pub const BAR_LENGTH: i64 = 60;
/// Height of one emotion bar.
const BAR_HEIGHT: i64 = GLYPH as i64;

/// Seven bars (one per class, dominant in yellow) beside a face at `(x, y)`.
fn draw_emotion_bars(
    canvas: &mut Canvas,
    x: i64,
    y: i64,
    emotion: &crate::emotion::SmoothedEmotion,
) {
    let label_w = 4 * GLYPH as i64;
    let rows = crate::emotion::EMOTION_COUNT as i64;
    canvas.fill(
        x - 2,
        y - 2,
        x + label_w + BAR_LENGTH + 2,
        y + rows * (BAR_HEIGHT + 2) + 1,
        super::canvas::BLACK,
        0.6,
    );
    for (row, (e, p)) in emotion.scores.iter().enumerate() {
        let top = y + row as i64 * (BAR_HEIGHT + 2);
        let colour = if e == emotion.emotion { YELLOW } else { WHITE };
        canvas.text(x, top, e.short(), 1, colour);
        let len = (p.clamp(0.0, 1.0) * BAR_LENGTH as f32).round() as i64;
        if len > 0 {
            canvas.fill(
                x + label_w,
                top,
                x + label_w + len - 1,
                top + BAR_HEIGHT - 2,
                colour,
                1.0,
            );
        }
    }
}

/// Length of the head-pose arrow for a 90-degree turn, in inter-ocular distances.
pub const POSE_ARROW_IOD: f32 = 2.0;

/// The driver's eye state, PERCLOS and yawn under the box, and a head-pose
/// arrow from the nose (red while `distracted` is active).
fn draw_attention(
    canvas: &mut Canvas,
    face: &crate::core::face::TrackedFace,
    driver: &crate::attention::DriverAttention,
    s: f32,
    x: i64,
    y: i64,
    state: &PresentState,
) {
    let mut line = match (driver.eyes_closed, driver.eye_openness) {
        (Some(true), _) => "EYES CLOSED".to_string(),
        (Some(false), Some(o)) => format!("eyes open {o:.2}"),
        _ => "eyes ?".to_string(),
    };
    if let Some(p) = driver.perclos {
        line.push_str(&format!(" perclos {:.0}%", p * 100.0));
    }
    let colour = if driver.eyes_closed == Some(true) {
        RED
    } else {
        CYAN
    };
    canvas.label(x, y, &line, colour);
    if let Some(pose) = driver.pose {
        let mut text = format!("yaw {:+.0} pitch {:+.0}", pose.yaw_deg, pose.pitch_deg);
        if let Some(yawn) = driver.yawn {
            text.push_str(&format!(" yawn {yawn:.2}"));
        }
        canvas.label(x, y + LINE, &text, CYAN);
        let lm = &face.detection.landmarks;
        let len = POSE_ARROW_IOD * lm.inter_ocular() * s;
        let (dx, dy) = (
            pose.yaw_deg.to_radians().sin() * len,
            -pose.pitch_deg.to_radians().sin() * len,
        );
        let away = state
            .attention_alerts
            .contains_key(&crate::attention::AttentionKind::Distracted);
        let colour = if away { RED } else { YELLOW };
        let (x0, y0) = (lm.nose.x * s, lm.nose.y * s);
        let steps = dx.abs().max(dy.abs()).ceil().max(1.0) as i64;
        for i in 0..=steps {
            let f = i as f32 / steps as f32;
            canvas.dot(
                (x0 + dx * f).round() as i64,
                (y0 + dy * f).round() as i64,
                1,
                colour,
            );
        }
        canvas.dot(
            (x0 + dx).round() as i64,
            (y0 + dy).round() as i64,
            3,
            colour,
        );
    }
}

/// A red band across the top while a driver-mood alert is active.
fn draw_alert_banner(canvas: &mut Canvas, state: &PresentState) {
    let text = if let Some(reason) = &state.source_lost {
        format!("SOURCE LOST: {reason}")
    } else if state.alerts.is_empty() && state.attention_alerts.is_empty() {
        return;
    } else {
        let alerts = state
            .attention_alerts
            .values()
            .map(|a| match a.perclos {
                Some(p) => format!("{} {:.0}%", a.kind.name().to_uppercase(), p * 100.0),
                None => a.kind.name().to_uppercase(),
            })
            .chain(state.alerts.values().map(|a| match a.share {
                Some(share) => format!("{} {:.0}%", a.kind, share * 100.0),
                None => a.kind.to_string(),
            }))
            .collect::<Vec<_>>()
            .join(", ");
        format!("ALERT: {alerts}")
    };
    let scale = 2;
    let h = GLYPH as i64 * scale + 8;
    let top = canvas.height as i64 - h;
    canvas.fill(
        0,
        top,
        canvas.width as i64 - 1,
        canvas.height as i64 - 1,
        RED,
        0.85,
    );
    canvas.text(6, top + 4, &text, scale, WHITE);
}

fn draw_status(canvas: &mut Canvas, state: &PresentState, live: &LiveView) {
    let mut y = 4;
    canvas.label(4, y, &format!("{:.1} FPS", live.fps), WHITE);
    y += LINE;
    for st in &live.stages {
        let line = format!(
            "{:<8}{:>6.1} ms  drop {}",
            st.name, st.latency.p50_ms, st.dropped
        );
        canvas.label(4, y, &line, WHITE);
        y += LINE;
    }
    if let Some(best) = state.scene.as_ref().and_then(|s| s.best()) {
        canvas.label(
            4,
            y,
            &format!("scene: {} {:.2}", best.label, best.score),
            YELLOW,
        );
        y += LINE;
    }
    if let Some(v) = &state.verify {
        let (text, colour) = if v.unlocked {
            ("UNLOCKED", GREEN)
        } else {
            ("LOCKED", RED)
        };
        canvas.label(4, y, text, colour);
        y += LINE;
    }
    if let Some(mood) = &state.mood {
        let mut shares: Vec<(crate::emotion::Emotion, f32)> = crate::emotion::Emotion::ALL
            .iter()
            .map(|e| (*e, mood.get(*e)))
            .filter(|(_, s)| *s >= 0.05)
            .collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut line = String::from("mood:");
        for (e, s) in shares.iter().take(3) {
            line.push_str(&format!(" {} {:.0}%", e.short(), s * 100.0));
        }
        if mood.no_face >= 0.05 {
            line.push_str(&format!(" none {:.0}%", mood.no_face * 100.0));
        }
        canvas.label(4, y, &line, YELLOW);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use image::RgbImage;

    use super::*;
    use crate::core::face::{Detection, TrackId, TrackedFace};
    use crate::core::frame::Frame;
    use crate::core::geometry::{BoundingBox, Landmarks, Point};
    use crate::pipeline::Analysis;

    fn state_with_face(bbox: BoundingBox) -> PresentState {
        let frame = Frame::new(0, Duration::ZERO, RgbImage::new(200, 150));
        let lm = Landmarks::from_points([Point::new(70.0, 60.0); 5]);
        let face = TrackedFace {
            track: TrackId(7),
            detection: Detection {
                bbox,
                score: 0.99,
                landmarks: lm,
            },
            age: 1,
        };
        PresentState {
            analysis: Some(Arc::new(Analysis {
                frame,
                faces: vec![face],
                ended: vec![],
            })),
            ..Default::default()
        }
    }

    #[test]
    fn box_is_drawn_where_the_detection_says() {
        let state = state_with_face(BoundingBox::new(50.0, 40.0, 60.0, 70.0));
        let c = render(&state, &LiveView::default(), 1).unwrap();
        // Corners and edges of the box carry its colour ...
        for (x, y) in [
            (50, 40),
            (109, 40),
            (50, 109),
            (109, 109),
            (80, 40),
            (50, 75),
        ] {
            assert_eq!(c.get(x, y), Some(GREEN), "({x},{y})");
        }
        // ... its inside and outside do not (the frame is black).
        assert_ne!(c.get(80, 90), Some(GREEN));
        assert_ne!(c.get(120, 120), Some(GREEN));
        // The landmark dot.
        assert_eq!(c.get(70, 60), Some(CYAN));
    }

    #[test]
    fn scale_moves_the_box() {
        let state = state_with_face(BoundingBox::new(50.0, 40.0, 60.0, 70.0));
        let c = render(&state, &LiveView::default(), 2).unwrap();
        assert_eq!((c.width, c.height), (400, 300));
        assert_eq!(c.get(100, 80), Some(GREEN));
        assert_eq!(c.get(219, 219), Some(GREEN));
    }

    #[test]
    fn a_box_outside_the_frame_does_not_panic() {
        let state = state_with_face(BoundingBox::new(-500.0, 140.0, 1000.0, 90.0));
        assert!(render(&state, &LiveView::default(), 1).is_some());
    }

    #[test]
    fn nothing_to_draw_before_the_first_frame() {
        assert!(render(&PresentState::default(), &LiveView::default(), 1).is_none());
    }
}

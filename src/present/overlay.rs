//! Draws the frame, faces and status into a [`Canvas`].

use super::canvas::{Canvas, CYAN, GLYPH, GREEN, WHITE, YELLOW};
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
    }
    draw_status(&mut canvas, state, live);
    Some(canvas)
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
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use image::RgbImage;

    use super::*;
    use crate::face::{Detection, TrackId, TrackedFace};
    use crate::frame::Frame;
    use crate::geometry::{BoundingBox, Landmarks, Point};
    use crate::update::Analysis;

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

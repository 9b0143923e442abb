//! What the presenter knows: the latest frame's faces and every stage's
//! latest verdict, merged as updates arrive.

use std::sync::Arc;

use super::events::{Event, FaceEvent};
use crate::update::{Analysis, SceneVerdict, Update};

#[derive(Debug, Default)]
pub struct PresentState {
    pub analysis: Option<Arc<Analysis>>,
    pub scene: Option<SceneVerdict>,
    pub verify: Option<crate::verify::report::VerifyVerdict>,
}

impl PresentState {
    /// Applies an update and returns the state-change events it caused.
    pub fn apply(&mut self, update: &Update) -> Vec<Event> {
        let stamp = update.stamp();
        let (seq, media_time_s) = (stamp.seq, stamp.media_time.as_secs_f64());
        let mut events = Vec::new();
        match update {
            Update::Faces(analysis) => {
                for track in &analysis.ended {
                    events.push(Event::TrackEnded {
                        seq,
                        media_time_s,
                        track: *track,
                    });
                }
                for face in analysis.faces.iter().filter(|f| f.age == 1) {
                    events.push(Event::TrackStarted {
                        seq,
                        media_time_s,
                        track: face.track,
                    });
                }
                self.analysis = Some(analysis.clone());
            }
            Update::Scene(_, verdict) => {
                let changed = self.scene.as_ref().and_then(|s| s.best()).map(|b| &b.label)
                    != verdict.best().map(|b| &b.label);
                if changed {
                    events.push(Event::Scene {
                        seq,
                        media_time_s,
                        top: verdict.top.clone(),
                    });
                }
                self.scene = Some(verdict.clone());
            }
            Update::Verify(_, verdict) => {
                for notice in &verdict.notices {
                    events.push(Event::Verify {
                        seq,
                        media_time_s,
                        notice: notice.clone(),
                    });
                }
                self.verify = Some(verdict.clone());
            }
        }
        events
    }

    /// The per-frame event for the latest analysis.
    pub fn frame_event(&self, latency_ms: f64) -> Option<Event> {
        let a = self.analysis.as_ref()?;
        Some(Event::Frame {
            seq: a.frame.seq,
            media_time_s: a.frame.media_time.as_secs_f64(),
            latency_ms,
            faces: a.faces.iter().map(FaceEvent::from).collect(),
            scene: self.scene.as_ref().and_then(|s| s.best().cloned()),
        })
    }
}

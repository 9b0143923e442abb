//! What the presenter knows: the latest frame's faces and every stage's
//! latest verdict, merged as updates arrive.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::events::{AlertBody, AttentionTag, EmotionTag, Event, FaceEvent};
use crate::app::update::Update;
use crate::attention::{AttentionAlert, AttentionKind, AttentionPhase, AttentionReport};
use crate::capture::SourceEvent;
use crate::core::face::TrackId;
use crate::emotion::{Alert, AlertKind, AlertPhase, MoodShares, SmoothedEmotion};
use crate::pipeline::Analysis;
use crate::scene::SceneVerdict;

#[derive(Debug, Default)]
/// What the presenter knows, merged from every update (see the module docs).
pub struct PresentState {
    /// The latest analysed frame and its faces (the faces are cleared when
    /// the source is lost; the picture stays).
    pub analysis: Option<Arc<Analysis>>,
    /// The scene stage's latest verdict.
    pub scene: Option<SceneVerdict>,
    /// The verifier's latest verdict (identities, lock state, notices).
    pub verify: Option<crate::verify::report::VerifyVerdict>,
    /// Latest smoothed emotion per live track.
    pub emotions: HashMap<TrackId, SmoothedEmotion>,
    /// Latest driver-mood shares.
    pub mood: Option<MoodShares>,
    /// Alerts in progress, by kind.
    pub alerts: BTreeMap<AlertKind, Alert>,
    /// The attention stage's latest report (the driver's figures).
    pub attention: Option<AttentionReport>,
    /// Attention alerts in progress, by kind.
    pub attention_alerts: BTreeMap<AttentionKind, AttentionAlert>,
    /// Why the live source is lost, while it is.
    pub source_lost: Option<String>,
    /// Media time until which the unlock rate limit holds everyone locked out
    /// (from the latest `locked_out` notice).
    pub lockout_until: Option<std::time::Duration>,
    /// Media time of the latest update.
    pub media_time: std::time::Duration,
}

impl PresentState {
    /// Applies an update and returns the state-change events it caused.
    pub fn apply(&mut self, update: &Update) -> Vec<Event> {
        let stamp = update.stamp();
        let (seq, media_time_s) = (stamp.seq, stamp.media_time.as_secs_f64());
        let mut events = Vec::new();
        self.media_time = self.media_time.max(stamp.media_time);
        match update {
            Update::Faces(analysis) => {
                for track in &analysis.ended {
                    self.emotions.remove(track);
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
                    if let crate::verify::report::VerifyNotice::LockedOut { remaining_s, .. } =
                        notice
                    {
                        let remaining = std::time::Duration::try_from_secs_f64(*remaining_s)
                            .unwrap_or_default();
                        self.lockout_until = Some(stamp.media_time + remaining);
                    }
                    events.push(Event::Verify {
                        seq,
                        media_time_s,
                        notice: notice.clone(),
                    });
                }
                self.verify = Some(verdict.clone());
            }
            Update::Emotion(_, report) => {
                for f in &report.faces {
                    let previous = self.emotions.insert(f.track, f.smoothed);
                    if previous.map(|p| p.emotion) != Some(f.smoothed.emotion) {
                        events.push(Event::Emotion {
                            seq,
                            media_time_s,
                            track: f.track,
                            emotion: EmotionTag::from(&f.smoothed),
                        });
                    }
                }
                if report.mood.is_some() {
                    self.mood = report.mood;
                }
            }
            Update::Source(_, event) => match event {
                SourceEvent::Lost { reason, .. } => {
                    self.source_lost = Some(reason.clone());
                    // The last picture stays on screen, without its faces.
                    self.analysis = self.analysis.as_ref().map(|a| {
                        Arc::new(Analysis {
                            frame: a.frame.clone(),
                            faces: Vec::new(),
                            ended: Vec::new(),
                        })
                    });
                    self.emotions.clear();
                    self.attention = None;
                    events.push(Event::SourceLost {
                        seq,
                        media_time_s,
                        reason: reason.clone(),
                    });
                }
                SourceEvent::Restored { outage, .. } => {
                    self.source_lost = None;
                    events.push(Event::SourceRestored {
                        seq,
                        media_time_s,
                        outage_s: outage.as_secs_f64(),
                    });
                }
            },
            Update::Alert(_, alert) => {
                match alert.phase {
                    AlertPhase::Start => {
                        self.alerts.insert(alert.kind, *alert);
                    }
                    AlertPhase::End => {
                        self.alerts.remove(&alert.kind);
                    }
                }
                events.push(Event::Alert {
                    seq,
                    media_time_s,
                    alert: AlertBody::Mood(*alert),
                });
            }
            Update::AttentionAlert(_, alert) => {
                match alert.phase {
                    AttentionPhase::Start => {
                        self.attention_alerts.insert(alert.kind, *alert);
                    }
                    AttentionPhase::End => {
                        self.attention_alerts.remove(&alert.kind);
                    }
                }
                events.push(Event::Alert {
                    seq,
                    media_time_s,
                    alert: AlertBody::Attention(*alert),
                });
            }
            Update::Attention(_, report) => {
                self.attention = Some(report.clone());
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
            faces: a
                .faces
                .iter()
                .map(|f| {
                    let mut e = FaceEvent::from(f).with_emotion(self.emotions.get(&f.track));
                    e.attention = self
                        .attention
                        .as_ref()
                        .and_then(|a| a.driver.as_ref())
                        .filter(|d| d.track == f.track)
                        .map(AttentionTag::from);
                    e
                })
                .collect(),
            scene: self.scene.as_ref().and_then(|s| s.best().cloned()),
        })
    }
}

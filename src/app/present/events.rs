//! Headless output: JSON lines, one per processed frame plus one per state change.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::error::{PresentError as Error, Result};
use crate::attention::{AttentionAlert, DriverAttention, HeadPose};
use crate::core::face::{TrackId, TrackedFace};
use crate::core::geometry::{BoundingBox, Point};
use crate::emotion::{Alert, Emotion, SmoothedEmotion};
use crate::scene::Scored;

/// A face's smoothed emotion in events: the class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmotionTag {
    /// The smoothed dominant emotion.
    pub label: Emotion,
    /// Its smoothed probability, 0..1.
    pub confidence: f32,
}

impl From<&SmoothedEmotion> for EmotionTag {
    fn from(s: &SmoothedEmotion) -> Self {
        Self {
            label: s.emotion,
            confidence: s.confidence,
        }
    }
}

/// One face in a frame event.
#[derive(Debug, Clone, Serialize)]
pub struct FaceEvent {
    /// The face's track.
    pub track: TrackId,
    /// The face box in frame pixels.
    #[serde(rename = "box")]
    pub bbox: BoundingBox,
    /// The detector's face probability, 0..1.
    pub score: f32,
    /// Eyes, nose and mouth corners in frame pixels (MTCNN's five points).
    pub landmarks: [Point; 5],
    /// The track's smoothed emotion, once it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion: Option<EmotionTag>,
    /// The attention figures, on the driver's face only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<AttentionTag>,
}

/// The driver's attention figures in frame events.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AttentionTag {
    /// 1 - P(eyes closed), mean of both eyes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eye_openness: Option<f32>,
    /// Eyes closed by the configured threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes_closed: Option<bool>,
    /// Share of the PERCLOS window with eyes closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perclos: Option<f32>,
    /// P(yawn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yawn: Option<f32>,
    /// Head yaw, degrees (> 0 towards the image right).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yaw_deg: Option<f32>,
    /// Head pitch, degrees (> 0 up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pitch_deg: Option<f32>,
}

impl From<&DriverAttention> for AttentionTag {
    fn from(d: &DriverAttention) -> Self {
        Self {
            eye_openness: d.eye_openness,
            eyes_closed: d.eyes_closed,
            perclos: d.perclos,
            yawn: d.yawn,
            yaw_deg: d.pose.map(|p: HeadPose| p.yaw_deg),
            pitch_deg: d.pose.map(|p| p.pitch_deg),
        }
    }
}

/// Any alert in the one `alert` event stream: the mood monitor's (`kind`
/// an emotion or `no_face`) or the attention stage's (`drowsy`,
/// `microsleep`, `yawn`, `distracted`). Both carry `kind`, `phase` and
/// `duration_s`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AlertBody {
    /// A driver-mood alert.
    Mood(Alert),
    /// A driver-attention alert.
    Attention(AttentionAlert),
}

impl FaceEvent {
    /// Adds the track's smoothed emotion, when it has one.
    pub fn with_emotion(mut self, emotion: Option<&SmoothedEmotion>) -> Self {
        self.emotion = emotion.map(EmotionTag::from);
        self
    }
}

impl From<&TrackedFace> for FaceEvent {
    fn from(f: &TrackedFace) -> Self {
        Self {
            track: f.track,
            bbox: f.detection.bbox,
            score: f.detection.score,
            landmarks: f.detection.landmarks.points(),
            emotion: None,
            attention: None,
        }
    }
}

/// Everything Vigil reports. Serialised with an `"event"` tag.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// One processed frame (only with `present.frame_events`).
    Frame {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// Capture to this event, in milliseconds.
        latency_ms: f64,
        /// The confirmed faces of the frame.
        faces: Vec<FaceEvent>,
        /// The scene stage's latest best label, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        scene: Option<Scored>,
    },
    /// A face was confirmed as a new track.
    TrackStarted {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// The face's track.
        track: TrackId,
    },
    /// A track ended (the face left, or the source was lost).
    TrackEnded {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// The face's track.
        track: TrackId,
    },
    /// The scene's best label changed.
    Scene {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// The scene's labels, best first.
        top: Vec<Scored>,
    },
    /// A track's smoothed dominant emotion changed.
    Emotion {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// The face's track.
        track: TrackId,
        /// The track's new smoothed emotion.
        emotion: EmotionTag,
    },
    /// A driver-mood or driver-attention alert started or ended.
    Alert {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// The alert (mood or attention), flattened into the event.
        #[serde(flatten)]
        alert: AlertBody,
    },
    /// The run is over.
    Summary {
        /// Per-stage counts, drops and latencies of the whole run.
        summary: crate::pipeline::stats::RunSummary,
    },
    /// A live source stopped delivering frames; it is being reopened.
    SourceLost {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// Why the source stopped (its error, or the end of a live stream).
        reason: String,
    },
    /// Frames flow again after a loss of `outage_s` seconds.
    SourceRestored {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// How long no frame came, in seconds.
        outage_s: f64,
    },
    /// An enrolment through the running instance started, progressed or
    /// ended (counts and names only, no biometric data).
    Enroll {
        /// Its progress, flattened.
        #[serde(flatten)]
        status: crate::app::enrol::EnrolStatus,
    },
    /// Verifier state changes: identity, unlock, lock, liveness, errors.
    Verify {
        /// The frame's position in its source (ties the event to a `frame` event).
        seq: u64,
        /// The frame's time on the source's clock, in seconds.
        media_time_s: f64,
        /// What changed (identity, unlock, lock, liveness, errors), flattened.
        #[serde(flatten)]
        notice: crate::verify::report::VerifyNotice,
    },
}

/// Writes events as JSON lines to stdout or a file, flushing each line.
pub struct EventWriter {
    out: Box<dyn Write>,
    target: String,
}

impl EventWriter {
    /// `"-"` is stdout; anything else is a file (created or truncated).
    pub fn open(target: &str) -> Result<Self> {
        let out: Box<dyn Write> = if target == "-" {
            Box::new(std::io::stdout())
        } else {
            let file = File::create(Path::new(target)).map_err(|source| Error::Events {
                path: target.to_string(),
                source,
            })?;
            Box::new(BufWriter::new(file))
        };
        Ok(Self {
            out,
            target: target.to_string(),
        })
    }

    /// A writer into any sink (tests).
    pub fn from_writer(out: Box<dyn Write>) -> Self {
        Self {
            out,
            target: "<writer>".into(),
        }
    }

    /// Writes one event as a JSON line and flushes it.
    pub fn write(&mut self, event: &Event) -> Result<()> {
        let err = |source: std::io::Error| Error::Events {
            path: self.target.clone(),
            source,
        };
        let line =
            serde_json::to_string(event).map_err(|e| err(std::io::Error::other(e.to_string())))?;
        writeln!(self.out, "{line}").map_err(err)?;
        self.out.flush().map_err(err)
    }
}

//! Headless output: JSON lines, one per processed frame plus one per state change.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;

use super::error::{PresentError as Error, Result};
use crate::core::face::{TrackId, TrackedFace};
use crate::core::geometry::{BoundingBox, Point};
use crate::emotion::{Alert, Emotion, SmoothedEmotion};
use crate::scene::Scored;

/// A face's smoothed emotion in events: the class and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EmotionTag {
    pub label: Emotion,
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
    pub track: TrackId,
    #[serde(rename = "box")]
    pub bbox: BoundingBox,
    pub score: f32,
    pub landmarks: [Point; 5],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emotion: Option<EmotionTag>,
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
        }
    }
}

/// Everything Vigil reports. Serialised with an `"event"` tag.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Frame {
        seq: u64,
        media_time_s: f64,
        latency_ms: f64,
        faces: Vec<FaceEvent>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scene: Option<Scored>,
    },
    TrackStarted {
        seq: u64,
        media_time_s: f64,
        track: TrackId,
    },
    TrackEnded {
        seq: u64,
        media_time_s: f64,
        track: TrackId,
    },
    Scene {
        seq: u64,
        media_time_s: f64,
        top: Vec<Scored>,
    },
    /// A track's smoothed dominant emotion changed.
    Emotion {
        seq: u64,
        media_time_s: f64,
        track: TrackId,
        emotion: EmotionTag,
    },
    /// A driver-mood alert started or ended.
    Alert {
        seq: u64,
        media_time_s: f64,
        #[serde(flatten)]
        alert: Alert,
    },
    Summary {
        summary: crate::pipeline::stats::RunSummary,
    },
    /// A live source stopped delivering frames; it is being reopened.
    SourceLost {
        seq: u64,
        media_time_s: f64,
        reason: String,
    },
    /// Frames flow again after a loss of `outage_s` seconds.
    SourceRestored {
        seq: u64,
        media_time_s: f64,
        outage_s: f64,
    },
    /// Verifier state changes: identity, unlock, lock, liveness, errors.
    Verify {
        seq: u64,
        media_time_s: f64,
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

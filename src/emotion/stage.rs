//! The emotion consumer: classifies tracked faces at a per-track rate, smooths
//! per track, and feeds the driver-mood monitor on every frame.

use std::collections::HashMap;
use std::time::Duration;

use image::GrayImage;
use serde::Serialize;

use super::classifier::EmotionClassifier;
use super::config::{EmotionConfig, MonitorConfig};
use super::crop;
use super::label::EmotionScores;
use super::monitor::{Alert, DriverSample, MoodMonitor, MoodShares};
use super::smoothing::{EmotionSmoother, SmoothedEmotion};
use super::EmotionError;
use crate::core::face::{TrackId, TrackedFace};
use crate::models::ModelStore;
use crate::pipeline::Analysis;

/// One tracked face's emotion at a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceEmotion {
    /// The track the face belongs to.
    pub track: TrackId,
    /// The classifier's result on this frame, if the face was classified on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<EmotionScores>,
    /// The track's smoothed emotion, up to this frame.
    pub smoothed: SmoothedEmotion,
}

/// The stage's result for one frame.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EmotionReport {
    /// Faces with a smoothed emotion (faces never classified yet are absent).
    pub faces: Vec<FaceEmotion>,
    /// Time shares of the monitor's window (when the monitor is on).
    pub mood: Option<MoodShares>,
}

/// Why a face was not classified on a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Classified less than `every_n_frames` frames ago.
    NotDue,
    /// Box side below `emotion.min_face_px`.
    TooSmall,
    /// Less than `emotion.min_visible_fraction` of the box inside the frame.
    OffFrame,
    /// No usable alignment (degenerate landmarks and box).
    NoCrop,
}

/// The emotion stage.
pub struct EmotionStage {
    classifier: EmotionClassifier,
    smoother: EmotionSmoother,
    monitor: Option<MoodMonitor>,
    config: EmotionConfig,
    /// Per track: seq of its last classification and media time last seen.
    schedule: HashMap<TrackId, (Option<u64>, Duration)>,
}

impl EmotionStage {
    /// Loads the classifier's models from `store` and builds the stage (with the monitor when `monitor.enabled`).
    pub fn new(
        store: &ModelStore,
        config: &EmotionConfig,
        monitor: &MonitorConfig,
    ) -> Result<Self, EmotionError> {
        let classifier = EmotionClassifier::new(store, config.classifier_options())?;
        Ok(Self::with_classifier(classifier, config, monitor))
    }

    /// Builds the stage around an already loaded classifier.
    pub fn with_classifier(
        classifier: EmotionClassifier,
        config: &EmotionConfig,
        monitor: &MonitorConfig,
    ) -> Self {
        Self {
            classifier,
            smoother: EmotionSmoother::new(config.smoothing_params()),
            monitor: monitor.enabled.then(|| MoodMonitor::new(monitor)),
            config: config.clone(),
            schedule: HashMap::new(),
        }
    }

    /// Whether `face` gets classified on the frame `seq` of size `w` x `h`.
    pub fn skip_reason(&self, face: &TrackedFace, seq: u64, w: u32, h: u32) -> Option<Skip> {
        let b = face.detection.bbox;
        if !b.is_valid() {
            return Some(Skip::NoCrop);
        }
        if b.w.min(b.h) < self.config.min_face_px {
            return Some(Skip::TooSmall);
        }
        let visible = b.clamp_to(w, h).area() / b.area();
        if visible < self.config.min_visible_fraction {
            return Some(Skip::OffFrame);
        }
        if let Some((Some(last), _)) = self.schedule.get(&face.track) {
            if seq < last.saturating_add(self.config.every_n_frames) && seq >= *last {
                return Some(Skip::NotDue);
            }
        }
        None
    }

    /// Processes one analysed frame: returns the report and the alerts it raised.
    pub fn process_frame(
        &mut self,
        analysis: &Analysis,
    ) -> Result<(EmotionReport, Vec<Alert>), EmotionError> {
        let frame = &analysis.frame;
        let t = frame.media_time;
        for track in &analysis.ended {
            self.smoother.end(*track);
            self.schedule.remove(track);
        }
        self.smoother.forget_stale(t);
        let forget = Duration::from_secs_f64(self.config.forget_after_s);
        self.schedule
            .retain(|_, (_, seen)| t.saturating_sub(*seen) <= forget);

        let mut due: Vec<TrackId> = Vec::new();
        let mut crops: Vec<GrayImage> = Vec::new();
        for face in &analysis.faces {
            self.smoother.seen(face.track, t);
            let skip = self.skip_reason(face, frame.seq, frame.width(), frame.height());
            let entry = self.schedule.entry(face.track).or_insert((None, t));
            entry.1 = entry.1.max(t);
            if skip.is_some() {
                continue;
            }
            if let Some(c) = crop::face_crop(&frame.image, &face.detection) {
                entry.0 = Some(frame.seq);
                due.push(face.track);
                crops.push(c);
            }
        }
        let raw = self.classifier.classify(&crops)?;
        let mut fresh: HashMap<TrackId, EmotionScores> = HashMap::new();
        for (track, scores) in due.iter().zip(raw) {
            self.smoother.observe(*track, t, scores);
            fresh.insert(*track, scores);
        }
        let faces: Vec<FaceEmotion> = analysis
            .faces
            .iter()
            .filter_map(|f| {
                self.smoother.current(f.track).map(|smoothed| FaceEmotion {
                    track: f.track,
                    raw: fresh.get(&f.track).copied(),
                    smoothed,
                })
            })
            .collect();

        let mut alerts = Vec::new();
        let mut mood = None;
        if let Some(monitor) = self.monitor.as_mut() {
            let driver = analysis
                .faces
                .iter()
                .max_by(|a, b| a.detection.bbox.area().total_cmp(&b.detection.bbox.area()));
            let sample = match driver {
                None => DriverSample::NoFace,
                Some(f) => DriverSample::Face(self.smoother.current(f.track).map(|s| s.emotion)),
            };
            alerts = monitor.update(t, sample);
            mood = Some(monitor.shares());
        }
        Ok((EmotionReport { faces, mood }, alerts))
    }
}

impl EmotionStage {
    /// The stage's name in statistics and errors.
    pub const NAME: &'static str = "emotion";

    /// Whether a frame needs this stage: faces to classify or tracks to
    /// forget, or the driver monitor, which also counts frames without a face.
    pub fn wants(&self, analysis: &Analysis) -> bool {
        self.monitor.is_some() || !analysis.faces.is_empty() || !analysis.ended.is_empty()
    }
}

//! The attention consumer: picks the driver's track, reads eyes, mouth and
//! head pose on it every `attention.every_n_frames` frames, and feeds the
//! alert monitor.

use std::time::Duration;

use serde::Serialize;

use super::classifier::AttentionClassifier;
use super::config::AttentionConfig;
use super::monitor::{AttentionAlert, AttentionKind, AttentionMonitor, Observation};
use super::pose::{head_pose, HeadPose};
use super::AttentionError;
use crate::core::face::{TrackId, TrackedFace};
use crate::models::ModelStore;
use crate::pipeline::Analysis;

/// How much being off-centre costs a face when the driver is chosen: its
/// area is weighted by `1 - DRIVER_CENTRE_WEIGHT * d`, `d` the distance of
/// its centre from the frame's centre over the half-diagonal (0..1).
pub const DRIVER_CENTRE_WEIGHT: f32 = 0.5;

/// The driver's attention figures at a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DriverAttention {
    /// The driver's track.
    pub track: TrackId,
    /// 1 - P(eyes closed), mean of both eyes (latest reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eye_openness: Option<f32>,
    /// Eyes closed by `attention.eye_closed_threshold`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eyes_closed: Option<bool>,
    /// P(yawn) of the mouth (latest reading).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yawn: Option<f32>,
    /// Head pose (offsets applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pose: Option<HeadPose>,
    /// Share of the PERCLOS window with eyes closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perclos: Option<f32>,
    /// Whether the reading was made on this frame (else it is the latest one).
    pub fresh: bool,
}

/// The stage's result for one frame.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct AttentionReport {
    /// The driver's figures, when a driver is known.
    pub driver: Option<DriverAttention>,
    /// Alerts in progress after this frame.
    pub active: Vec<AttentionKind>,
}

/// The attention stage.
pub struct AttentionStage {
    classifier: AttentionClassifier,
    monitor: AttentionMonitor,
    config: AttentionConfig,
    driver: Option<TrackId>,
    last_seq: Option<u64>,
    latest: Option<DriverAttention>,
}

/// The driver among `faces`: the current one while it is there, else the
/// largest, most central face seen in at least `min_age` frames.
pub fn choose_driver(
    faces: &[TrackedFace],
    current: Option<TrackId>,
    min_age: u32,
    width: u32,
    height: u32,
) -> Option<TrackId> {
    if let Some(c) = current.filter(|c| faces.iter().any(|f| f.track == *c)) {
        return Some(c);
    }
    let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
    let half_diag = (cx * cx + cy * cy).sqrt().max(1.0);
    faces
        .iter()
        .filter(|f| f.age >= min_age && f.detection.bbox.is_valid())
        .map(|f| {
            let c = f.detection.bbox.center();
            let d = (((c.x - cx).powi(2) + (c.y - cy).powi(2)).sqrt() / half_diag).min(1.0);
            (
                f.track,
                f.detection.bbox.area() * (1.0 - DRIVER_CENTRE_WEIGHT * d),
            )
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(t, _)| t)
}

impl AttentionStage {
    /// The stage's name in statistics and errors.
    pub const NAME: &'static str = "attention";

    /// Loads the models.
    pub fn new(store: &ModelStore, config: &AttentionConfig) -> Result<Self, AttentionError> {
        Ok(Self::with_classifier(
            AttentionClassifier::new(store)?,
            config,
        ))
    }

    /// A stage around an already loaded classifier.
    pub fn with_classifier(classifier: AttentionClassifier, config: &AttentionConfig) -> Self {
        Self {
            classifier,
            monitor: AttentionMonitor::new(config),
            config: config.clone(),
            driver: None,
            last_seq: None,
            latest: None,
        }
    }

    /// Whether frame `seq` is due for a reading.
    fn due(&self, seq: u64) -> bool {
        match self.last_seq {
            Some(last) => seq < last || seq >= last.saturating_add(self.config.every_n_frames),
            None => true,
        }
    }

    /// Processes one analysed frame: the driver's figures and the alerts
    /// that started or ended.
    pub fn process_frame(
        &mut self,
        analysis: &Analysis,
    ) -> Result<(AttentionReport, Vec<AttentionAlert>), AttentionError> {
        let frame = &analysis.frame;
        let t: Duration = frame.media_time;
        let driver = choose_driver(
            &analysis.faces,
            self.driver,
            self.config.min_track_age,
            frame.width(),
            frame.height(),
        );
        if driver != self.driver {
            self.latest = None;
        }
        self.driver = driver;
        let face = driver.and_then(|d| analysis.faces.iter().find(|f| f.track == d));
        let mut alerts = Vec::new();
        match face {
            None => alerts = self.monitor.update(t, None),
            Some(face) if self.due(frame.seq) => {
                self.last_seq = Some(frame.seq);
                let lm = &face.detection.landmarks;
                let sure = face.detection.score >= self.config.min_face_score;
                let big = lm.inter_ocular() >= self.config.min_iod_px;
                let reading = if big && sure {
                    self.classifier.read(&frame.image, lm)?
                } else {
                    Default::default()
                };
                let pose = head_pose(lm).filter(|_| sure).map(|p| HeadPose {
                    yaw_deg: p.yaw_deg + self.config.yaw_offset_deg,
                    pitch_deg: p.pitch_deg + self.config.pitch_offset_deg,
                    roll_deg: p.roll_deg,
                });
                let eyes_closed = reading
                    .eyes_closed
                    .map(|p| p >= self.config.eye_closed_threshold);
                let obs = Observation {
                    eyes_closed,
                    yawning: reading.yawn.map(|p| p >= self.config.yawn_threshold),
                    looking_away: pose.map(|p| {
                        p.yaw_deg.abs() > self.config.yaw_limit_deg
                            || p.pitch_deg.abs() > self.config.pitch_limit_deg
                    }),
                };
                alerts = self.monitor.update(t, Some(obs));
                self.latest = Some(DriverAttention {
                    track: face.track,
                    eye_openness: reading.eyes_closed.map(|p| 1.0 - p),
                    eyes_closed,
                    yawn: reading.yawn,
                    pose,
                    perclos: self.monitor.perclos(),
                    fresh: true,
                });
            }
            Some(_) => {
                if let Some(l) = self.latest.as_mut() {
                    l.fresh = false;
                }
            }
        }
        let report = AttentionReport {
            driver: self.latest,
            active: self.monitor.active(),
        };
        Ok((report, alerts))
    }

    /// Whether a frame needs this stage (always: frames without the driver
    /// count in the monitor's timing too).
    pub fn wants(&self, _analysis: &Analysis) -> bool {
        true
    }
}

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
    baseline: PoseBaseline,
}

/// Farthest the learnt straight-ahead pose may sit from the camera's axis
/// (after the offsets), degrees: a driver who keeps looking away is still
/// flagged once beyond this plus the limit.
pub const BASELINE_MAX_DEG: f32 = 15.0;

/// The driver's own straight-ahead pose: five landmarks on a generic face
/// leave each person's proportions (and the camera's height) in the pitch,
/// by 15 degrees and more on real drivers. Learnt as a moving average, time
/// constant `attention.pose_baseline_s`, over the readings that are not
/// looking away, started at the first reading, clamped to
/// +-[`BASELINE_MAX_DEG`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PoseBaseline {
    /// (yaw, pitch) and the media time of the latest update.
    state: Option<(f32, f32, Duration)>,
}

impl PoseBaseline {
    /// The current straight-ahead (yaw, pitch), (0, 0) before any reading.
    pub fn get(&self) -> (f32, f32) {
        self.state.map_or((0.0, 0.0), |(y, p, _)| (y, p))
    }

    /// Whether `pose` at `t` looks away from the baseline, and learns from it
    /// when it does not.
    pub fn looks_away(&mut self, t: Duration, pose: HeadPose, config: &AttentionConfig) -> bool {
        let clamp = |v: f32| v.clamp(-BASELINE_MAX_DEG, BASELINE_MAX_DEG);
        if config.pose_baseline_s <= 0.0 {
            return pose.yaw_deg.abs() > config.yaw_limit_deg
                || pose.pitch_deg.abs() > config.pitch_limit_deg;
        }
        let (by, bp, last) = self
            .state
            .unwrap_or((clamp(pose.yaw_deg), clamp(pose.pitch_deg), t));
        let away = (pose.yaw_deg - by).abs() > config.yaw_limit_deg
            || (pose.pitch_deg - bp).abs() > config.pitch_limit_deg;
        let a = if away {
            0.0
        } else {
            ((t.saturating_sub(last).as_secs_f64() / config.pose_baseline_s).min(1.0)) as f32
        };
        self.state = Some((
            clamp(by + a * (pose.yaw_deg - by)),
            clamp(bp + a * (pose.pitch_deg - bp)),
            t,
        ));
        away
    }
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
            baseline: PoseBaseline::default(),
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
            self.baseline = PoseBaseline::default();
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
                let looking_away = pose.map(|p| self.baseline.looks_away(t, p, &self.config));
                let obs = Observation {
                    eyes_closed,
                    yawning: reading.yawn.map(|p| p >= self.config.yawn_threshold),
                    looking_away,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pose(yaw: f32, pitch: f32) -> HeadPose {
        HeadPose {
            yaw_deg: yaw,
            pitch_deg: pitch,
            roll_deg: 0.0,
        }
    }

    #[test]
    fn baseline_absorbs_a_drivers_own_pitch_but_not_a_turn() {
        let config = AttentionConfig::default();
        let mut b = PoseBaseline::default();
        let at = |s: f64| Duration::from_secs_f64(s);
        // A driver whose straight ahead reads 19 degrees up (limit 20).
        for i in 0..300 {
            assert!(!b.looks_away(at(i as f64 * 0.1), pose(3.0, 19.0), &config));
        }
        let (by, bp) = b.get();
        assert!(
            (by - 3.0).abs() < 0.5 && (bp - BASELINE_MAX_DEG).abs() < 1e-3,
            "{by} {bp}"
        );
        // 25 degrees further up, or 35 to the side: away, and not learnt.
        for _ in 0..50 {
            assert!(b.looks_away(at(31.0), pose(3.0, 40.0), &config));
            assert!(b.looks_away(at(31.0), pose(38.5, 19.0), &config));
        }
        assert_eq!(b.get(), (by, bp));
        // Without a baseline, the camera's axis is straight ahead.
        let off = AttentionConfig {
            pose_baseline_s: 0.0,
            ..config
        };
        assert!(b.looks_away(at(32.0), pose(0.0, 21.0), &off));
    }

    #[test]
    fn the_driver_is_the_largest_central_confirmed_face_and_stays() {
        use crate::core::face::Detection;
        use crate::core::geometry::{BoundingBox, Landmarks};
        let face = |id: u64, x: f32, side: f32, age: u32| TrackedFace {
            track: TrackId(id),
            detection: Detection {
                bbox: BoundingBox::new(x, 100.0, side, side),
                score: 0.99,
                landmarks: Landmarks::default(),
            },
            age,
        };
        let faces = [
            face(1, 0.0, 100.0, 5),
            face(2, 270.0, 100.0, 5),
            face(3, 250.0, 200.0, 1),
        ];
        // Equal sizes: the central one; the bigger face is not confirmed yet.
        assert_eq!(choose_driver(&faces, None, 2, 640, 480), Some(TrackId(2)));
        // The current driver stays while tracked.
        assert_eq!(
            choose_driver(&faces, Some(TrackId(1)), 2, 640, 480),
            Some(TrackId(1))
        );
        assert_eq!(choose_driver(&[], Some(TrackId(1)), 2, 640, 480), None);
    }
}

//! Follows faces across frames: each detection joins the track whose
//! predicted box it overlaps most, so later stages can smooth per face and
//! reuse work (an embedding per track, not per frame).
//!
//! Each track predicts its next box from its last one and its (smoothed)
//! velocity; detections and predictions are paired greedily by intersection
//! over union, best pair first, ties broken by track age then input order, so
//! the result depends only on the detections. A track missed for more than
//! `grace_frames` frames ends; a face that comes back after that gets a new id.
//!
//! Layer 3, a stage: may use core; never another stage or the app.

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, ConfigError};
use crate::core::face::{Detection, TrackId, TrackedFace};
use crate::core::geometry::BoundingBox;

/// Weight of the newest displacement in the smoothed velocity.
pub const VELOCITY_SMOOTHING: f32 = 0.5;

/// `[track]` config section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrackConfig {
    /// Least intersection over union between a track's predicted box and a
    /// detection for the detection to continue the track.
    pub min_iou: f32,
    /// Frames a track may go undetected (flicker, a turned head) before it ends.
    pub grace_frames: u32,
    /// Detections a new track needs before its face is reported downstream
    /// (1 = at once). Lone false detections last one frame: 2 removes them.
    pub confirm_frames: u32,
}

impl Default for TrackConfig {
    fn default() -> Self {
        Self {
            min_iou: 0.3,
            grace_frames: 5,
            confirm_frames: 2,
        }
    }
}

impl TrackConfig {
    /// Checks every field's range (`min_iou` 0.01–1, `grace_frames` 0–1000,
    /// `confirm_frames` 1–100); the error names the first key out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        in_range("track.min_iou", f64::from(self.min_iou), 0.01, 1.0)?;
        in_range(
            "track.grace_frames",
            f64::from(self.grace_frames),
            0.0,
            1000.0,
        )?;
        in_range(
            "track.confirm_frames",
            f64::from(self.confirm_frames),
            1.0,
            100.0,
        )
    }
}

#[derive(Debug, Clone)]
struct Track {
    id: TrackId,
    last: BoundingBox,
    /// Smoothed displacement of the box per frame.
    velocity: (f32, f32),
    /// Frames with a detection.
    seen: u32,
    /// Consecutive frames without one.
    missed: u32,
}

impl Track {
    /// Where the box should be now, `missed + 1` frames after it was last seen.
    fn predicted(&self) -> BoundingBox {
        let steps = (self.missed + 1) as f32;
        BoundingBox {
            x: self.last.x + self.velocity.0 * steps,
            y: self.last.y + self.velocity.1 * steps,
            ..self.last
        }
    }

    fn observe(&mut self, b: BoundingBox) {
        let steps = (self.missed + 1) as f32;
        let (dx, dy) = (
            (b.center().x - self.last.center().x) / steps,
            (b.center().y - self.last.center().y) / steps,
        );
        let a = VELOCITY_SMOOTHING;
        self.velocity = if self.seen == 1 && self.missed == 0 {
            (dx, dy)
        } else {
            (
                a * dx + (1.0 - a) * self.velocity.0,
                a * dy + (1.0 - a) * self.velocity.1,
            )
        };
        self.last = b;
        self.seen += 1;
        self.missed = 0;
    }
}

/// The tracker's answer for one frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackUpdate {
    /// Every detection of the frame with its track, in detection order.
    pub faces: Vec<TrackedFace>,
    /// Tracks that ended at this frame.
    pub ended: Vec<TrackId>,
}

/// Assigns persistent ids to detections.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackConfig,
    tracks: Vec<Track>,
    next_id: u64,
}

impl Tracker {
    /// An empty tracker with `config`; ids start at 1 and are never reused.
    pub fn new(config: &TrackConfig) -> Self {
        Self {
            config: config.clone(),
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    /// Live tracks, including those in their grace period.
    pub fn live(&self) -> usize {
        self.tracks.len()
    }

    /// Where each live track's face is expected in the next frame.
    pub fn predictions(&self) -> Vec<BoundingBox> {
        self.tracks.iter().map(Track::predicted).collect()
    }

    /// Matches one frame's detections to the tracks.
    pub fn update(&mut self, detections: &[Detection]) -> TrackUpdate {
        let assignment = self.assign(detections);
        let mut matched = vec![false; self.tracks.len()];
        let mut faces = Vec::with_capacity(detections.len());
        let mut new_tracks = Vec::new();
        for (d, det) in detections.iter().enumerate() {
            let track = match assignment[d] {
                Some(t) => {
                    matched[t] = true;
                    let track = &mut self.tracks[t];
                    track.observe(det.bbox);
                    track.clone()
                }
                None => {
                    let track = Track {
                        id: TrackId(self.next_id),
                        last: det.bbox,
                        velocity: (0.0, 0.0),
                        seen: 1,
                        missed: 0,
                    };
                    self.next_id += 1;
                    new_tracks.push(track.clone());
                    track
                }
            };
            faces.push(TrackedFace {
                track: track.id,
                detection: *det,
                age: track.seen,
            });
        }
        let mut ended = Vec::new();
        let grace = self.config.grace_frames;
        let mut kept = Vec::with_capacity(self.tracks.len() + new_tracks.len());
        for (t, mut track) in std::mem::take(&mut self.tracks).into_iter().enumerate() {
            if !matched[t] {
                track.missed += 1;
                if track.missed > grace {
                    ended.push(track.id);
                    continue;
                }
            }
            kept.push(track);
        }
        kept.extend(new_tracks);
        self.tracks = kept;
        TrackUpdate { faces, ended }
    }

    /// [`Tracker::update`], reporting only the faces of confirmed tracks: those
    /// detected in at least `confirm_frames` frames (what the pipeline shows).
    /// A track never confirmed is never reported as ended either.
    pub fn update_confirmed(&mut self, detections: &[Detection]) -> TrackUpdate {
        let need = self.config.confirm_frames;
        // A track ending now was unmatched in this frame: its count is final.
        let confirmed: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|t| t.seen >= need)
            .map(|t| t.id)
            .collect();
        let mut update = self.update(detections);
        update.faces.retain(|f| f.age >= need);
        update.ended.retain(|id| confirmed.contains(id));
        update
    }

    /// Ends every track (the source was lost: nothing carries over a gap).
    /// Returns the confirmed ones, which had been reported to the stages.
    pub fn clear(&mut self) -> Vec<TrackId> {
        let need = self.config.confirm_frames;
        std::mem::take(&mut self.tracks)
            .into_iter()
            .filter(|t| t.seen >= need)
            .map(|t| t.id)
            .collect()
    }

    /// For each detection, the index of the track it continues.
    fn assign(&self, detections: &[Detection]) -> Vec<Option<usize>> {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (t, track) in self.tracks.iter().enumerate() {
            let predicted = track.predicted();
            for (d, det) in detections.iter().enumerate() {
                let iou = predicted.iou(&det.bbox);
                if iou >= self.config.min_iou {
                    pairs.push((iou, t, d));
                }
            }
        }
        // Best overlap first; then the older track (lower id), then input order.
        pairs.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(self.tracks[a.1].id.cmp(&self.tracks[b.1].id))
                .then(a.2.cmp(&b.2))
        });
        let mut by_detection = vec![None; detections.len()];
        let mut track_taken = vec![false; self.tracks.len()];
        for (_, t, d) in pairs {
            if by_detection[d].is_none() && !track_taken[t] {
                by_detection[d] = Some(t);
                track_taken[t] = true;
            }
        }
        by_detection
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::geometry::Landmarks;

    fn det(x: f32, y: f32, side: f32) -> Detection {
        Detection {
            bbox: BoundingBox::new(x, y, side, side),
            score: 0.99,
            landmarks: Landmarks::default(),
        }
    }

    fn ids(u: &TrackUpdate) -> Vec<u64> {
        u.faces.iter().map(|f| f.track.0).collect()
    }

    #[test]
    fn a_steady_face_keeps_its_id() {
        let mut t = Tracker::new(&TrackConfig::default());
        for i in 0..50 {
            let u = t.update(&[det(100.0 + i as f32, 80.0, 60.0)]);
            assert_eq!(ids(&u), vec![1]);
            assert_eq!(u.faces[0].age, i + 1);
            assert!(u.ended.is_empty());
        }
    }

    #[test]
    fn two_faces_crossing_keep_their_ids() {
        let mut t = Tracker::new(&TrackConfig::default());
        // A moves right, B moves left, 8 px a frame, through each other.
        let mut first = None;
        for i in 0..40 {
            let ax = 20.0 + 8.0 * i as f32;
            let bx = 332.0 - 8.0 * i as f32;
            // Detector order alternates so that order cannot carry the ids.
            let dets = if i % 2 == 0 {
                vec![det(ax, 100.0, 60.0), det(bx, 104.0, 60.0)]
            } else {
                vec![det(bx, 104.0, 60.0), det(ax, 100.0, 60.0)]
            };
            let u = t.update(&dets);
            let (a, b) = if i % 2 == 0 {
                (u.faces[0].track, u.faces[1].track)
            } else {
                (u.faces[1].track, u.faces[0].track)
            };
            match first {
                None => first = Some((a, b)),
                Some(f) => assert_eq!((a, b), f, "frame {i}"),
            }
        }
    }

    #[test]
    fn flicker_within_the_grace_period_keeps_the_id() {
        let cfg = TrackConfig::default();
        let mut t = Tracker::new(&cfg);
        t.update(&[det(100.0, 100.0, 80.0)]);
        for _ in 0..cfg.grace_frames {
            let u = t.update(&[]);
            assert!(u.ended.is_empty());
        }
        let u = t.update(&[det(102.0, 100.0, 80.0)]);
        assert_eq!(ids(&u), vec![1]);
        assert_eq!(u.faces[0].age, 2);
    }

    #[test]
    fn a_face_back_after_the_grace_period_gets_a_new_id() {
        let cfg = TrackConfig::default();
        let mut t = Tracker::new(&cfg);
        t.update(&[det(100.0, 100.0, 80.0)]);
        let mut ended = vec![];
        for _ in 0..=cfg.grace_frames {
            ended.extend(t.update(&[]).ended);
        }
        assert_eq!(ended, vec![TrackId(1)]);
        assert_eq!(t.live(), 0);
        let u = t.update(&[det(100.0, 100.0, 80.0)]);
        assert_eq!(ids(&u), vec![2]);
        assert_eq!(u.faces[0].age, 1);
    }

    #[test]
    fn a_new_face_does_not_steal_an_existing_track() {
        let mut t = Tracker::new(&TrackConfig::default());
        t.update(&[det(100.0, 100.0, 80.0)]);
        let u = t.update(&[det(400.0, 100.0, 80.0), det(101.0, 100.0, 80.0)]);
        assert_eq!(ids(&u), vec![2, 1]);
    }

    #[test]
    fn results_are_deterministic() {
        let frames: Vec<Vec<Detection>> = (0..30)
            .map(|i| {
                let x = (i * 37 % 11) as f32 * 5.0;
                vec![det(x, 10.0, 50.0), det(200.0 - x, 12.0, 50.0)]
            })
            .collect();
        let run = || {
            let mut t = Tracker::new(&TrackConfig::default());
            frames.iter().map(|f| ids(&t.update(f))).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn a_lone_detection_is_not_reported_until_confirmed() {
        let mut t = Tracker::new(&TrackConfig::default());
        // A one-frame false detection, then nothing: never reported, not
        // even as ended.
        assert!(t
            .update_confirmed(&[det(300.0, 10.0, 40.0)])
            .faces
            .is_empty());
        for _ in 0..=TrackConfig::default().grace_frames {
            let u = t.update_confirmed(&[]);
            assert!(u.faces.is_empty() && u.ended.is_empty(), "{:?}", u.ended);
        }
        assert_eq!(t.live(), 0);
        // A real face: reported from its second frame on, with a stable id.
        assert!(t
            .update_confirmed(&[det(10.0, 10.0, 50.0)])
            .faces
            .is_empty());
        let second = t.update_confirmed(&[det(11.0, 10.0, 50.0)]);
        assert_eq!(second.faces.len(), 1);
        let third = t.update_confirmed(&[det(12.0, 10.0, 50.0)]);
        assert_eq!(third.faces[0].track, second.faces[0].track);
        // A confirmed track that leaves is reported as ended.
        let ended: Vec<TrackId> = (0..=TrackConfig::default().grace_frames)
            .flat_map(|_| t.update_confirmed(&[]).ended)
            .collect();
        assert_eq!(ended, vec![second.faces[0].track]);
        // confirm_frames = 1: at once.
        let mut now = Tracker::new(&TrackConfig {
            confirm_frames: 1,
            ..TrackConfig::default()
        });
        assert_eq!(
            now.update_confirmed(&[det(10.0, 10.0, 50.0)]).faces.len(),
            1
        );
    }

    #[test]
    fn config_errors_name_the_key() {
        let c = TrackConfig {
            min_iou: 0.0,
            ..TrackConfig::default()
        };
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("track.min_iou"));
    }
}

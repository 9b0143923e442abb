//! Passive liveness from RGB frames: is this a live head or a picture of one?
//!
//! Three cues over the last `window_s` seconds of a track:
//! - **parallax**: the spread of the nose position in the affine frame of the
//!   eyes and mouth ([`NoseFrame`]). A flat picture, however it is shifted,
//!   rotated, scaled or sheared in front of the camera, keeps it constant up
//!   to landmark noise; a live head makes small turns and nods that move the
//!   nose out of the eye-mouth plane.
//! - **face change**: the mean absolute change of the aligned grey face
//!   between frames; a frozen frame (a picture replayed) has none.
//! - **rigidity**: how much of the face's motion the background shares. When
//!   the whole picture moves (a hand-held photo filling the view) the face and
//!   the background move together; a live person moves against a still room.
//!
//! - **planarity**: whether one plane explains how the face's pixels moved
//!   between two frames about [`PLANAR_LAG`] apart ([`planarity`]): blocks
//!   of the face, resampled in its landmark frame, matched between the
//!   frames and one homography fitted to the matches. A photo or a screen,
//!   however it is moved or tilted, is a plane and fits (small residual); a
//!   live head turning, nodding, blinking or talking does not. Unlike the
//!   parallax cue it does not trust the landmark net, which places the nose
//!   of a tilted photo as on a turned head. Measured only for a window that
//!   passed the other cues (one fit per frame, cached per observation).
//!
//! The optional "turn" challenge asks for a head turn: the nose's horizontal
//! position must swing by `challenge_yaw`, which no flat picture can do.

use std::collections::VecDeque;
use std::time::Duration;

use image::RgbImage;
use serde::Serialize;

use super::config::{Challenge, LivenessConfig};
use super::planarity::{planarity, PlanarityError};
use super::pose::NoseFrame;
use crate::core::geometry::{BoundingBox, Landmarks, Point};

/// Side of the aligned grey face patch, in samples.
pub const PATCH_SIDE: usize = 24;
/// Width of the grey thumbnail used for background motion.
pub const THUMB_WIDTH: u32 = 96;
/// Largest background shift searched, in thumbnail pixels.
pub const SHIFT_RADIUS: i32 = 4;
/// Face boxes are grown by this fraction per side before being excluded from
/// the background.
pub const FACE_EXCLUSION: f32 = 0.4;
/// Fewest background samples for a shift estimate.
pub const MIN_BACKGROUND_SAMPLES: usize = 200;
/// Below this total face motion (frame pixels over the window) rigidity is
/// not judged: there is too little motion to tell.
pub const MIN_MOTION_PX: f32 = 3.0;

/// Side of the face sample for the planarity cue, in samples.
pub const PLANAR_SIDE: usize = 48;
/// Span of the planarity face sample, in eye distances: the eyes, nose,
/// cheeks and mouth, little beyond the face's outline.
pub const PLANAR_SPAN: f32 = 1.8;

/// Time between the two frames of a planarity fit: the newest frame at least
/// this much older than a frame is its partner. Longer baselines show more
/// parallax on a live head and also more residual on a photo; 0.48 s (12
/// frames at 25 FPS) separated them best (dev/unlock/README.md).
pub const PLANAR_LAG: Duration = Duration::from_millis(480);
/// The residual quantile (of the block matches of one fit) that stands for
/// the fit: parallax is local (the nose, the face's outline, the eyes), so
/// a high quantile rather than the median.
pub const PLANAR_QUANTILE: f32 = 0.9;

/// A small grey copy of a frame, for background motion.
#[derive(Debug, Clone)]
pub struct GreyThumb {
    /// Thumbnail width, in thumbnail pixels.
    pub width: usize,
    /// Thumbnail height, in thumbnail pixels.
    pub height: usize,
    /// Frame pixels per thumbnail pixel.
    pub scale: f32,
    /// BT.601 luma, 0..255, row-major (`width * height` values).
    pub luma: Vec<f32>,
}

impl GreyThumb {
    /// Box-averaged luma thumbnail of `img`, about `THUMB_WIDTH` wide.
    pub fn of(img: &RgbImage) -> Self {
        let k = (img.width() / THUMB_WIDTH).max(1);
        let (w, h) = ((img.width() / k) as usize, (img.height() / k) as usize);
        let mut luma = vec![0f32; w * h];
        let norm = 1.0 / (k * k) as f32;
        for ty in 0..h {
            for tx in 0..w {
                let mut s = 0f32;
                for dy in 0..k {
                    for dx in 0..k {
                        let p = img.get_pixel(tx as u32 * k + dx, ty as u32 * k + dy).0;
                        s += 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
                    }
                }
                luma[ty * w + tx] = s * norm;
            }
        }
        Self {
            width: w,
            height: h,
            scale: k as f32,
            luma,
        }
    }
}

/// The translation of the background between two frames (frame pixels), by
/// exhaustive search of integer thumbnail shifts outside the face boxes.
/// `None` when too little background is visible.
pub fn background_shift(prev: &GreyThumb, cur: &GreyThumb, faces: &[BoundingBox]) -> Option<Point> {
    if prev.width != cur.width || prev.height != cur.height {
        return None;
    }
    let (w, h) = (cur.width as i32, cur.height as i32);
    let excluded: Vec<BoundingBox> = faces
        .iter()
        .map(|b| b.expand(FACE_EXCLUSION).scale(1.0 / cur.scale))
        .collect();
    let is_bg = |x: i32, y: i32| {
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        !excluded
            .iter()
            .any(|b| fx >= b.x && fx < b.x2() && fy >= b.y && fy < b.y2())
    };
    let r = SHIFT_RADIUS;
    let mut best: Option<(f32, i32, i32)> = None;
    for dy in -r..=r {
        for dx in -r..=r {
            let (mut sad, mut n) = (0f32, 0usize);
            for y in r..h - r {
                for x in r..w - r {
                    if !is_bg(x, y) {
                        continue;
                    }
                    // cur(x, y) shows what prev showed at (x - dx, y - dy).
                    let a = cur.luma[(y * w + x) as usize];
                    let b = prev.luma[((y - dy) * w + (x - dx)) as usize];
                    sad += (a - b).abs();
                    n += 1;
                }
            }
            if n < MIN_BACKGROUND_SAMPLES {
                return None;
            }
            let cost = sad / n as f32;
            if best.is_none_or(|(c, _, _)| cost < c) {
                best = Some((cost, dx, dy));
            }
        }
    }
    best.map(|(_, dx, dy)| Point::new(dx as f32 * cur.scale, dy as f32 * cur.scale))
}

/// The face resampled in its own frame (centre between eyes and mouth, size
/// from the eye distance, rotated level), `PATCH_SIDE`² grey samples.
pub fn face_patch(img: &RgbImage, l: &Landmarks) -> Vec<f32> {
    aligned_grey(img, l, PATCH_SIDE, 2.0)
}

/// The face resampled in its own frame: `side`² grey samples (row-major)
/// over a square of `span` eye distances centred between the eyes and the
/// mouth, its rows along the eye line. The map from the frame is a
/// similarity, so a plane moving by a homography in the frame still moves
/// by a homography in this sample.
pub fn aligned_grey(img: &RgbImage, l: &Landmarks, side: usize, span: f32) -> Vec<f32> {
    let eye_mid = Point::new(
        (l.left_eye.x + l.right_eye.x) / 2.0,
        (l.left_eye.y + l.right_eye.y) / 2.0,
    );
    let mouth_mid = Point::new(
        (l.mouth_left.x + l.mouth_right.x) / 2.0,
        (l.mouth_left.y + l.mouth_right.y) / 2.0,
    );
    let c = Point::new(
        (eye_mid.x + mouth_mid.x) / 2.0,
        (eye_mid.y + mouth_mid.y) / 2.0,
    );
    let ex = Point::new(l.right_eye.x - l.left_eye.x, l.right_eye.y - l.left_eye.y);
    let iod = (ex.x * ex.x + ex.y * ex.y).sqrt().max(1.0);
    let (ux, uy) = (ex.x / iod, ex.y / iod);
    let step = span * iod / side.max(1) as f32;
    let half = side as f32 / 2.0 - 0.5;
    let mut out = Vec::with_capacity(side * side);
    for j in 0..side {
        for i in 0..side {
            let (a, b) = ((i as f32 - half) * step, (j as f32 - half) * step);
            let x = c.x + a * ux - b * uy;
            let y = c.y + a * uy + b * ux;
            out.push(sample_luma(img, x, y));
        }
    }
    out
}

fn sample_luma(img: &RgbImage, x: f32, y: f32) -> f32 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    if w == 0 || h == 0 {
        return 0.0;
    }
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let px = |xi: i64, yi: i64| {
        let p = img
            .get_pixel(xi.clamp(0, w - 1) as u32, yi.clamp(0, h - 1) as u32)
            .0;
        0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
    };
    let (xi, yi) = (x0 as i64, y0 as i64);
    let top = px(xi, yi) * (1.0 - fx) + px(xi + 1, yi) * fx;
    let bottom = px(xi, yi + 1) * (1.0 - fx) + px(xi + 1, yi + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Frames averaged before the nose-position spread is measured: landmark
/// noise is independent from frame to frame, head motion is not, so a moving
/// average keeps the motion and removes most of the noise (measured on the
/// cap12 clip and on replayed pictures of it).
pub const SMOOTH_FRAMES: usize = 5;

/// Moving average of `SMOOTH_FRAMES` nose positions (the raw series when shorter).
fn smooth(raw: &[NoseFrame]) -> Vec<NoseFrame> {
    if raw.len() < SMOOTH_FRAMES {
        return raw.to_vec();
    }
    raw.windows(SMOOTH_FRAMES)
        .map(|w| {
            let n = w.len() as f32;
            NoseFrame {
                u: w.iter().map(|p| p.u).sum::<f32>() / n,
                v: w.iter().map(|p| p.v).sum::<f32>() / n,
            }
        })
        .collect()
}

/// What one frame shows of one tracked face.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Frame time (the frame clock).
    pub t: Duration,
    /// Nose position in the eye-mouth frame; `None` for degenerate landmarks.
    pub nose: Option<NoseFrame>,
    /// Mean of the five landmarks, in frame pixels.
    pub centroid: Point,
    /// The aligned grey face patch ([`face_patch`]), grey levels 0..255.
    pub patch: Vec<f32>,
    /// Background shift since the previous frame, when it could be measured.
    pub background: Option<Point>,
    /// The face sample of the planarity cue ([`aligned_grey`] over
    /// [`PLANAR_SPAN`] eye distances, `PLANAR_SIDE`² samples).
    pub face: Vec<f32>,
    /// The planarity fit against the partner frame ([`PLANAR_LAG`] older),
    /// in eye distances: `None` until measured.
    planar: Option<Result<f32, PlanarityError>>,
}

impl Observation {
    /// Measures the face with landmarks `l` in frame `img` taken at `t`;
    /// `background` is the frame's background shift, when measured.
    pub fn new(t: Duration, img: &RgbImage, l: &Landmarks, background: Option<Point>) -> Self {
        let pts = l.points();
        let n = pts.len() as f32;
        let centroid = Point::new(
            pts.iter().map(|p| p.x).sum::<f32>() / n,
            pts.iter().map(|p| p.y).sum::<f32>() / n,
        );
        Self {
            t,
            nose: NoseFrame::of(l),
            centroid,
            patch: face_patch(img, l),
            background,
            face: aligned_grey(img, l, PLANAR_SIDE, PLANAR_SPAN),
            planar: None,
        }
    }
}

/// The cues measured over a window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Cues {
    /// Observations in the window.
    pub frames: usize,
    /// Spread (std) of the smoothed nose position in the eye-mouth frame;
    /// near 0 for a flat picture (compared with `liveness.min_parallax`).
    pub parallax: f32,
    /// Mean absolute change of the face patch between consecutive frames, in
    /// grey levels 0..255 (compared with `liveness.min_face_change`).
    pub face_change: f32,
    /// Share (0..1) of the face's motion that the background shares; 0 when
    /// the face moved less than [`MIN_MOTION_PX`] in all (compared with
    /// `liveness.max_rigid_ratio`).
    pub rigid_ratio: f32,
    /// Range of the smoothed horizontal nose position, in eye distances
    /// (the head-turn challenge's cue).
    pub yaw_range: f32,
    /// Largest residual of one plane fitted to the face's motion over
    /// [`PLANAR_LAG`] in the window (the [`PLANAR_QUANTILE`] of each fit's
    /// block residuals), in eye distances; small for a photo or a screen
    /// (compared with `liveness.min_planar_residual`). `None` when no fit
    /// was measured: the window did not pass the other cues, was too short
    /// or had too little texture.
    pub planar_residual: Option<f32>,
}

/// The liveness verdict of a track.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "liveness", rename_all = "snake_case")]
pub enum Liveness {
    /// Not enough frames yet.
    Pending,
    /// Every cue passed: a live face.
    Live,
    /// Looks like a picture; the reason names the cue.
    Spoof {
        /// Which cue failed, with its value, for logs and the audit record.
        reason: String,
    },
}

impl Liveness {
    /// True only for [`Liveness::Live`].
    pub fn is_live(&self) -> bool {
        matches!(self, Liveness::Live)
    }
}

/// Observations of one track over the last window.
#[derive(Debug, Clone, Default)]
pub struct LivenessTrack {
    obs: VecDeque<Observation>,
}

impl LivenessTrack {
    /// Adds an observation and drops those more than `window` older than it.
    pub fn push(&mut self, o: Observation, window: Duration) {
        let t = o.t;
        self.obs.push_back(o);
        while self
            .obs
            .front()
            .is_some_and(|f| t.saturating_sub(f.t) > window)
        {
            self.obs.pop_front();
        }
    }

    /// Observations in the window.
    pub fn len(&self) -> usize {
        self.obs.len()
    }

    /// True before the first observation.
    pub fn is_empty(&self) -> bool {
        self.obs.is_empty()
    }

    /// The cues of the current window.
    pub fn cues(&self) -> Cues {
        let raw: Vec<NoseFrame> = self.obs.iter().filter_map(|o| o.nose).collect();
        let noses = smooth(&raw);
        let parallax = if noses.len() >= 2 {
            let n = noses.len() as f32;
            let (mu, mv) = (
                noses.iter().map(|p| p.u).sum::<f32>() / n,
                noses.iter().map(|p| p.v).sum::<f32>() / n,
            );
            let var = noses
                .iter()
                .map(|p| (p.u - mu).powi(2) + (p.v - mv).powi(2))
                .sum::<f32>()
                / n;
            var.sqrt()
        } else {
            0.0
        };
        let yaw_range = noses
            .iter()
            .map(|p| p.u)
            .fold(None, |acc: Option<(f32, f32)>, u| match acc {
                None => Some((u, u)),
                Some((lo, hi)) => Some((lo.min(u), hi.max(u))),
            })
            .map(|(lo, hi)| hi - lo)
            .unwrap_or(0.0);
        let (mut change, mut pairs) = (0f32, 0usize);
        let (mut motion, mut relative) = (0f32, 0f32);
        for (a, b) in self.obs.iter().zip(self.obs.iter().skip(1)) {
            let d: f32 = a
                .patch
                .iter()
                .zip(&b.patch)
                .map(|(x, y)| (x - y).abs())
                .sum::<f32>()
                / a.patch.len().max(1) as f32;
            change += d;
            pairs += 1;
            let f = Point::new(b.centroid.x - a.centroid.x, b.centroid.y - a.centroid.y);
            let fm = (f.x * f.x + f.y * f.y).sqrt();
            motion += fm;
            // Without a background estimate, count the motion as the face's own.
            let bg = b.background.unwrap_or_default();
            relative += ((f.x - bg.x).powi(2) + (f.y - bg.y).powi(2)).sqrt();
        }
        let rigid_ratio = if motion >= MIN_MOTION_PX {
            (1.0 - relative / motion).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let planar_residual = self
            .obs
            .iter()
            .filter_map(|o| o.planar.as_ref().and_then(|r| r.as_ref().ok()))
            .copied()
            .reduce(f32::max);
        Cues {
            frames: self.obs.len(),
            parallax,
            face_change: if pairs > 0 {
                change / pairs as f32
            } else {
                0.0
            },
            rigid_ratio,
            yaw_range,
            planar_residual,
        }
    }

    /// Fits a plane for every observation of the window that has a partner
    /// [`PLANAR_LAG`] older in the window and no fit yet.
    fn measure_planarity(&mut self) {
        let unit = PLANAR_SPAN / PLANAR_SIDE as f32;
        for i in 0..self.obs.len() {
            if self.obs[i].planar.is_some() {
                continue;
            }
            let t = self.obs[i].t;
            let Some(j) = (0..i)
                .rev()
                .find(|&j| t.saturating_sub(self.obs[j].t) >= PLANAR_LAG)
            else {
                continue;
            };
            let fit = planarity(&self.obs[j].face, &self.obs[i].face, PLANAR_SIDE)
                .map(|f| f.quantile(PLANAR_QUANTILE) * unit);
            self.obs[i].planar = Some(fit);
        }
    }

    /// The verdict of the current window under `cfg`. The planarity fits,
    /// the costly cue, are measured only when every other cue passed.
    pub fn verdict(&mut self, cfg: &LivenessConfig) -> (Liveness, Cues) {
        let mut c = self.cues();
        let spoof = |reason: &str| Liveness::Spoof {
            reason: reason.to_string(),
        };
        let cheap = if c.frames < cfg.min_frames {
            Liveness::Pending
        } else if c.face_change < cfg.min_face_change {
            spoof("still picture: the face does not change")
        } else if c.rigid_ratio > cfg.max_rigid_ratio {
            spoof("the face moves with the background, as a hand-held picture")
        } else if c.parallax < cfg.min_parallax {
            spoof("flat: no out-of-plane head motion")
        } else {
            Liveness::Live
        };
        if cheap != Liveness::Live {
            return (cheap, c);
        }
        if cfg.min_planar_residual > 0.0 {
            self.measure_planarity();
            c = self.cues();
        }
        let v = if cfg.min_planar_residual > 0.0
            && c.planar_residual
                .is_none_or(|r| r < cfg.min_planar_residual)
        {
            spoof("flat: the face moves as one plane, as a photo or a screen")
        } else if cfg.challenge == Challenge::Turn && c.yaw_range < cfg.challenge_yaw {
            Liveness::Pending
        } else {
            Liveness::Live
        };
        (v, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(dx: f32, nose_dx: f32) -> Landmarks {
        Landmarks::from_points([
            Point::new(40.0 + dx, 50.0),
            Point::new(80.0 + dx, 50.0),
            Point::new(60.0 + dx + nose_dx, 70.0),
            Point::new(45.0 + dx, 90.0),
            Point::new(75.0 + dx, 90.0),
        ])
    }

    fn textured(shift: i64, seed: u32) -> RgbImage {
        RgbImage::from_fn(160, 120, |x, y| {
            let xs = x as i64 - shift;
            let v = ((xs * 7 + y as i64 * 13 + (xs * y as i64) % 17) % 200 + seed as i64) as u8;
            image::Rgb([v, v, v])
        })
    }

    fn t(i: usize) -> Duration {
        Duration::from_millis(40 * i as u64)
    }

    const WINDOW: Duration = Duration::from_secs(1);

    #[test]
    fn frozen_picture_is_a_spoof() {
        let cfg = LivenessConfig::default();
        let img = textured(0, 0);
        let mut track = LivenessTrack::default();
        for i in 0..25 {
            track.push(
                Observation::new(t(i), &img, &face(0.0, 0.0), Some(Point::default())),
                WINDOW,
            );
        }
        let (v, c) = track.verdict(&cfg);
        assert!(matches!(v, Liveness::Spoof { .. }), "{v:?} {c:?}");
        assert_eq!(c.face_change, 0.0);
        assert_eq!(c.parallax, 0.0);
    }

    #[test]
    fn too_few_frames_is_pending() {
        let cfg = LivenessConfig::default();
        let mut track = LivenessTrack::default();
        track.push(
            Observation::new(t(0), &textured(0, 0), &face(0.0, 0.0), None),
            WINDOW,
        );
        assert_eq!(track.verdict(&cfg).0, Liveness::Pending);
    }

    #[test]
    fn face_moving_with_the_background_is_rigid() {
        let mut track = LivenessTrack::default();
        for i in 0..10 {
            let s = i as f32 * 2.0;
            track.push(
                Observation::new(
                    t(i),
                    &textured(0, 0),
                    &face(s, 0.0),
                    Some(Point::new(2.0, 0.0)),
                ),
                WINDOW,
            );
        }
        assert!(track.cues().rigid_ratio > 0.9);
        let mut live = LivenessTrack::default();
        for i in 0..10 {
            let s = i as f32 * 2.0;
            live.push(
                Observation::new(t(i), &textured(0, 0), &face(s, 0.0), Some(Point::default())),
                WINDOW,
            );
        }
        assert!(live.cues().rigid_ratio < 0.1);
    }

    #[test]
    fn nose_motion_gives_parallax_and_turn() {
        let mut track = LivenessTrack::default();
        for i in 0..25 {
            let nose = 6.0 * ((i as f32) / 4.0).sin();
            track.push(
                Observation::new(t(i), &textured(0, i as u32), &face(0.0, nose), None),
                WINDOW,
            );
        }
        let c = track.cues();
        assert!(c.parallax > 0.05 && c.yaw_range > 0.2, "{c:?}");
        // The pixels are one plane (only the landmark moves): planarity off.
        let cfg = LivenessConfig {
            challenge: Challenge::Turn,
            min_planar_residual: 0.0,
            ..Default::default()
        };
        assert_eq!(track.verdict(&cfg).0, Liveness::Live);
    }

    /// A smooth texture (a few incommensurate sinusoids), 0..255.
    fn smooth_texture(x: f32, y: f32) -> u8 {
        let v = 128.0
            + 40.0 * (0.61 * x + 0.23 * y).sin()
            + 35.0 * (-0.37 * x + 0.71 * y + 1.3).sin()
            + 25.0 * (0.83 * x - 0.52 * y + 2.1).sin()
            + 20.0 * (0.17 * x + 0.94 * y + 0.4).sin();
        v.clamp(0.0, 255.0) as u8
    }

    /// A track of 25 frames whose nose landmark swings (so the parallax cue
    /// reads a turning head) over the pixels `frame(i)`.
    fn swinging_track(frame: impl Fn(usize) -> RgbImage) -> LivenessTrack {
        let mut track = LivenessTrack::default();
        for i in 0..25 {
            let nose = 6.0 * ((i as f32) / 4.0).sin();
            let o = Observation::new(t(i), &frame(i), &face(0.0, nose), Some(Point::default()));
            track.push(o, WINDOW);
        }
        track
    }

    #[test]
    fn a_tilting_plane_with_a_swinging_nose_is_flat() {
        // A photo tilting about its vertical axis (a homography with a
        // perspective term) while the landmark net moves the nose as on a
        // turning head: the parallax cue passes, planarity does not.
        let mut track = swinging_track(|i| {
            let g = 0.002 * ((i as f32) / 4.0).sin();
            RgbImage::from_fn(160, 120, |x, y| {
                let (u, v) = (x as f32 - 60.0, y as f32 - 70.0);
                let w = 1.0 + g * u;
                let v = smooth_texture(u / w + 60.0, v / w + 70.0);
                image::Rgb([v, v, v])
            })
        });
        let (v, c) = track.verdict(&LivenessConfig::default());
        assert!(c.parallax > 0.05, "{c:?}");
        let r = c.planar_residual.unwrap();
        assert!(r < 0.01, "{c:?}");
        assert_eq!(
            v,
            Liveness::Spoof {
                reason: "flat: the face moves as one plane, as a photo or a screen".into()
            }
        );
    }

    #[test]
    fn a_nose_moving_against_the_face_is_live() {
        // The pixels of a "nose" square shift against the rest of the face
        // as the nose landmark swings: parallax in the pixels too.
        let mut track = swinging_track(|i| {
            let shift = 3.0 * ((i as f32) / 4.0).sin();
            RgbImage::from_fn(160, 120, |x, y| {
                let (xf, yf) = (x as f32, y as f32);
                let v = if (xf - 60.0).abs() < 12.0 && (yf - 70.0).abs() < 12.0 {
                    smooth_texture(xf - shift + 200.0, yf)
                } else {
                    smooth_texture(xf, yf)
                };
                image::Rgb([v, v, v])
            })
        });
        let (v, c) = track.verdict(&LivenessConfig::default());
        assert!(c.planar_residual.unwrap() > 0.04, "{c:?}");
        assert_eq!(v, Liveness::Live, "{c:?}");
    }

    #[test]
    fn window_drops_old_observations() {
        let mut track = LivenessTrack::default();
        for i in 0..50 {
            track.push(
                Observation::new(t(i), &textured(0, 0), &face(0.0, 0.0), None),
                WINDOW,
            );
        }
        assert_eq!(track.len(), 26);
    }

    #[test]
    fn background_shift_is_found() {
        let prev = GreyThumb::of(&textured(0, 0));
        let cur = GreyThumb::of(&textured(3, 0));
        let s = background_shift(&prev, &cur, &[]).unwrap();
        assert_eq!((s.x, s.y), (3.0, 0.0));
        let none = background_shift(
            &prev,
            &cur,
            &[BoundingBox::new(-100.0, -100.0, 400.0, 400.0)],
        );
        assert!(none.is_none());
    }
}

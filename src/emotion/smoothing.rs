//! Per-track temporal smoothing of the classifier's probabilities.
//!
//! Time is media time ([`crate::core::frame::Frame::media_time`]), so a replay run
//! as fast as possible smooths exactly as the same scene seen live, and a
//! classifier that runs on every k-th frame of a track is weighted by the time
//! each result stands for, not by how often it ran.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::label::{Emotion, EmotionScores, EMOTION_COUNT};
use crate::core::face::TrackId;

/// Shortest time step an EMA update is given, so a repeated timestamp still
/// moves the average a little instead of dividing by zero.
pub const MIN_EMA_STEP: Duration = Duration::from_millis(1);

/// How the probabilities of a track are smoothed over time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmoothingMethod {
    /// Exponential moving average with a half-life in seconds of media time.
    Ema,
    /// Plain mean of the results of the last `window_s` seconds.
    Window,
    /// No smoothing: the latest result.
    None,
}

/// The smoothing parameters (part of `[emotion]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothingParams {
    /// EMA, sliding window, or none.
    pub method: SmoothingMethod,
    /// EMA half-life (media time): a result this old weighs half as much as a new one.
    pub half_life: Duration,
    /// Length of the `Window` method's window (media time).
    pub window: Duration,
    /// A track unseen for longer than this loses its history.
    pub forget_after: Duration,
}

/// A track's smoothed state: dominant class, its probability, all probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SmoothedEmotion {
    /// The most probable class of the smoothed scores.
    pub emotion: Emotion,
    /// Probability (0–1) of `emotion` in the smoothed scores.
    pub confidence: f32,
    /// The smoothed probabilities (normalised, summing to 1).
    pub scores: EmotionScores,
    /// Classifier results folded in since the track (re)started.
    pub samples: u32,
}

impl SmoothedEmotion {
    /// Normalises `scores` and picks the dominant class; `samples` is stored as given.
    pub fn from_scores(scores: EmotionScores, samples: u32) -> Self {
        let scores = scores.normalised();
        let (emotion, confidence) = scores.dominant();
        Self {
            emotion,
            confidence,
            scores,
            samples,
        }
    }
}

#[derive(Debug, Clone)]
struct TrackState {
    ema: EmotionScores,
    window: Vec<(Duration, EmotionScores)>,
    latest: EmotionScores,
    last_sample: Duration,
    last_seen: Duration,
    samples: u32,
}

/// Smoothing state of every live track.
#[derive(Debug, Clone)]
pub struct EmotionSmoother {
    params: SmoothingParams,
    tracks: HashMap<TrackId, TrackState>,
}

impl EmotionSmoother {
    /// A smoother with no tracks.
    pub fn new(params: SmoothingParams) -> Self {
        Self {
            params,
            tracks: HashMap::new(),
        }
    }

    /// Folds a new classifier result for `track` at media time `t` into its state
    /// and returns the smoothed result. A track unseen for longer than
    /// `forget_after` starts afresh.
    pub fn observe(
        &mut self,
        track: TrackId,
        t: Duration,
        scores: EmotionScores,
    ) -> SmoothedEmotion {
        let scores = scores.normalised();
        let forget = self.params.forget_after;
        if let Some(s) = self.tracks.get(&track) {
            if t.saturating_sub(s.last_seen) > forget || t < s.last_seen.saturating_sub(forget) {
                self.tracks.remove(&track);
            }
        }
        let params = self.params;
        let state = self.tracks.entry(track).or_insert_with(|| TrackState {
            ema: scores,
            window: Vec::new(),
            latest: scores,
            last_sample: t,
            last_seen: t,
            samples: 0,
        });
        if state.samples > 0 {
            let dt = t.saturating_sub(state.last_sample).max(MIN_EMA_STEP);
            let alpha = if params.half_life.is_zero() {
                1.0
            } else {
                1.0 - 0.5f32.powf(dt.as_secs_f32() / params.half_life.as_secs_f32())
            };
            for i in 0..EMOTION_COUNT {
                state.ema.0[i] += alpha * (scores.0[i] - state.ema.0[i]);
            }
        }
        state.window.push((t, scores));
        let oldest = t.saturating_sub(params.window);
        state.window.retain(|(ts, _)| *ts >= oldest && *ts <= t);
        state.latest = scores;
        state.last_sample = state.last_sample.max(t);
        state.last_seen = state.last_seen.max(t);
        state.samples = state.samples.saturating_add(1);
        Self::smoothed(&params, state)
    }

    /// Marks `track` as present at `t` without a new result (it keeps its history).
    pub fn seen(&mut self, track: TrackId, t: Duration) {
        if let Some(s) = self.tracks.get_mut(&track) {
            s.last_seen = s.last_seen.max(t);
        }
    }

    /// The current smoothed result of `track`, if it has one.
    pub fn current(&self, track: TrackId) -> Option<SmoothedEmotion> {
        self.tracks
            .get(&track)
            .map(|s| Self::smoothed(&self.params, s))
    }

    /// Drops the state of a track that ended.
    pub fn end(&mut self, track: TrackId) {
        self.tracks.remove(&track);
    }

    /// Drops tracks unseen for longer than `forget_after` at media time `now`
    /// (covers tracks whose end notice was lost with a dropped frame). Returns them.
    pub fn forget_stale(&mut self, now: Duration) -> Vec<TrackId> {
        let forget = self.params.forget_after;
        let stale: Vec<TrackId> = self
            .tracks
            .iter()
            .filter(|(_, s)| now.saturating_sub(s.last_seen) > forget)
            .map(|(id, _)| *id)
            .collect();
        for id in &stale {
            self.tracks.remove(id);
        }
        stale
    }

    /// Number of tracks with state.
    pub fn len(&self) -> usize {
        self.tracks.len()
    }

    /// True when no track has state.
    pub fn is_empty(&self) -> bool {
        self.tracks.is_empty()
    }

    fn smoothed(params: &SmoothingParams, s: &TrackState) -> SmoothedEmotion {
        let scores = match params.method {
            SmoothingMethod::Ema => s.ema,
            SmoothingMethod::None => s.latest,
            SmoothingMethod::Window => {
                let mut sum = [0f32; EMOTION_COUNT];
                for (_, w) in &s.window {
                    for (acc, p) in sum.iter_mut().zip(w.0.iter()) {
                        *acc += p;
                    }
                }
                if s.window.is_empty() {
                    s.latest
                } else {
                    EmotionScores(sum.map(|v| v / s.window.len() as f32))
                }
            }
        };
        SmoothedEmotion::from_scores(scores, s.samples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot(e: Emotion) -> EmotionScores {
        let mut s = EmotionScores([0.0; EMOTION_COUNT]);
        s.0[e.index()] = 1.0;
        s
    }

    fn params(method: SmoothingMethod) -> SmoothingParams {
        SmoothingParams {
            method,
            half_life: Duration::from_secs(1),
            window: Duration::from_secs(2),
            forget_after: Duration::from_secs(3),
        }
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn ema_half_life_is_respected() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Ema));
        let id = TrackId(1);
        s.observe(id, ms(0), one_hot(Emotion::Happy));
        let r = s.observe(id, ms(1000), one_hot(Emotion::Sad));
        // After one half-life the new class has weight 0.5.
        assert!((r.scores.get(Emotion::Sad) - 0.5).abs() < 1e-5, "{r:?}");
        assert_eq!(r.samples, 2);
    }

    #[test]
    fn a_single_outlier_does_not_flip_the_dominant_class() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Ema));
        let id = TrackId(1);
        for i in 0..20 {
            s.observe(id, ms(i * 100), one_hot(Emotion::Happy));
        }
        let r = s.observe(id, ms(2000), one_hot(Emotion::Angry));
        assert_eq!(r.emotion, Emotion::Happy);
        // A sustained change wins after a few half-lives.
        let mut r = r;
        for i in 1..=30 {
            r = s.observe(id, ms(2000 + i * 100), one_hot(Emotion::Angry));
        }
        assert_eq!(r.emotion, Emotion::Angry);
    }

    #[test]
    fn window_is_a_mean_of_recent_results() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Window));
        let id = TrackId(7);
        s.observe(id, ms(0), one_hot(Emotion::Fear));
        s.observe(id, ms(500), one_hot(Emotion::Fear));
        let r = s.observe(id, ms(1000), one_hot(Emotion::Neutral));
        assert!((r.scores.get(Emotion::Fear) - 2.0 / 3.0).abs() < 1e-5);
        // 2.6 s later the first two have left the 2 s window.
        let r = s.observe(id, ms(2600), one_hot(Emotion::Neutral));
        assert_eq!(r.emotion, Emotion::Neutral);
        assert!((r.confidence - 1.0).abs() < 1e-6);
    }

    #[test]
    fn ended_and_stale_tracks_are_dropped() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Ema));
        s.observe(TrackId(1), ms(0), one_hot(Emotion::Sad));
        s.observe(TrackId(2), ms(0), one_hot(Emotion::Sad));
        s.end(TrackId(1));
        assert!(s.current(TrackId(1)).is_none());
        s.seen(TrackId(2), ms(1000));
        assert!(s.forget_stale(ms(3500)).is_empty());
        assert_eq!(s.forget_stale(ms(4500)), vec![TrackId(2)]);
        assert!(s.is_empty());
    }

    #[test]
    fn a_flickering_track_keeps_history_over_short_gaps_and_restarts_after_long_ones() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Ema));
        let id = TrackId(3);
        for i in 0..10 {
            s.observe(id, ms(i * 100), one_hot(Emotion::Happy));
        }
        // Gone for 0.5 s (flicker), back with one surprised result: still happy.
        let r = s.observe(id, ms(1400), one_hot(Emotion::Surprise));
        assert_eq!(r.emotion, Emotion::Happy);
        assert_eq!(r.samples, 11);
        // Gone for 5 s (> forget_after): history discarded.
        let r = s.observe(id, ms(6400), one_hot(Emotion::Surprise));
        assert_eq!(r.emotion, Emotion::Surprise);
        assert_eq!(r.samples, 1);
    }

    #[test]
    fn out_of_order_and_garbage_input_do_not_panic() {
        let mut s = EmotionSmoother::new(params(SmoothingMethod::Ema));
        let id = TrackId(9);
        s.observe(id, ms(1000), one_hot(Emotion::Angry));
        let r = s.observe(id, ms(900), EmotionScores([f32::NAN; EMOTION_COUNT]));
        assert!(r.scores.0.iter().all(|p| p.is_finite()));
        let sum: f32 = r.scores.0.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }
}

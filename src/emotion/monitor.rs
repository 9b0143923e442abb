//! Driver-mood monitor: the share of time the driver spent in each emotion over
//! a sliding window of media time, and alerts when anger, fear or sadness (by
//! config) stays above a share for too long, or when no face is visible.
//!
//! Every frame is a sample; a sample stands for the time until the next one, so
//! shares are time-weighted whatever the frame rate, and a replay behaves as
//! the same scene seen live.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::config::MonitorConfig;
use super::label::{Emotion, EMOTION_COUNT};

/// What the monitor knows of the driver at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverSample {
    /// No face in the frame.
    NoFace,
    /// A face, with its smoothed emotion when one is known yet.
    Face(Option<Emotion>),
}

/// What an alert is about. Serialised as the emotion's name or `"no_face"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertKind {
    /// An emotion held above `monitor.alert_share` for `monitor.alert_after_s`.
    Emotion(Emotion),
    /// No face for `monitor.no_face_after_s`.
    NoFace,
}

impl AlertKind {
    /// Name used in events and serialisation: the emotion's name or `"no_face"`.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::Emotion(e) => e.name(),
            AlertKind::NoFace => "no_face",
        }
    }
}

impl Serialize for AlertKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlertKind::Emotion(e) => write!(f, "{e}"),
            AlertKind::NoFace => f.write_str("no face"),
        }
    }
}

/// Whether an alert is starting or ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertPhase {
    /// The condition has held long enough: the alert begins.
    Start,
    /// The condition has cleared: the alert is over.
    End,
}

/// An alert starting or ending.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Alert {
    /// What the alert is about.
    pub kind: AlertKind,
    /// Starting or ending.
    pub phase: AlertPhase,
    /// Media time of the frame that started or ended it.
    #[serde(skip)]
    pub media_time: Duration,
    /// The emotion's share of the window at that frame (emotion alerts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share: Option<f32>,
    /// Start: how long the condition had held; end: how long the alert lasted.
    pub duration_s: f64,
}

/// Shares of the window's time, each in [0, 1]; with `no_face` and the time
/// with a face of unknown emotion they sum to the covered fraction (at most 1).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct MoodShares {
    /// Each emotion's share of the window, indexed by [`Emotion::index`].
    pub shares: [f32; EMOTION_COUNT],
    /// Share of the window with no face visible.
    pub no_face: f32,
}

impl MoodShares {
    /// Share of the window spent in emotion `e`.
    pub fn get(&self, e: Emotion) -> f32 {
        self.shares[e.index()]
    }
}

/// The monitor's state.
#[derive(Debug, Clone)]
pub struct MoodMonitor {
    config: MonitorConfig,
    window: Duration,
    samples: VecDeque<(Duration, DriverSample)>,
    started: Option<Duration>,
    last_face: Option<Duration>,
    above_since: [Option<Duration>; EMOTION_COUNT],
    active: [Option<Duration>; EMOTION_COUNT],
    no_face_active: Option<Duration>,
    latest: MoodShares,
}

impl MoodMonitor {
    /// A monitor with an empty window and no active alerts.
    pub fn new(config: &MonitorConfig) -> Self {
        Self {
            config: config.clone(),
            window: Duration::from_secs_f64(config.window_s),
            samples: VecDeque::new(),
            started: None,
            last_face: None,
            above_since: [None; EMOTION_COUNT],
            active: [None; EMOTION_COUNT],
            no_face_active: None,
            latest: MoodShares::default(),
        }
    }

    /// The shares after the latest sample.
    pub fn shares(&self) -> MoodShares {
        self.latest
    }

    /// Alerts in progress.
    pub fn active(&self) -> Vec<AlertKind> {
        let mut v: Vec<AlertKind> = Emotion::ALL
            .iter()
            .filter(|e| self.active[e.index()].is_some())
            .map(|e| AlertKind::Emotion(*e))
            .collect();
        if self.no_face_active.is_some() {
            v.push(AlertKind::NoFace);
        }
        v
    }

    /// Folds in the driver's state at media time `t` and returns the alerts that
    /// started or ended. A sample older than the previous one is taken as
    /// happening at the previous one's time.
    pub fn update(&mut self, t: Duration, sample: DriverSample) -> Vec<Alert> {
        let t = match self.samples.back() {
            Some((last, _)) => t.max(*last),
            None => t,
        };
        self.started.get_or_insert(t);
        self.samples.push_back((t, sample));
        let oldest = t.saturating_sub(self.window);
        // Drop samples whose interval ended before the window.
        while self.samples.len() >= 2 && self.samples[1].0 <= oldest {
            self.samples.pop_front();
        }
        self.latest = self.compute_shares(t);
        let mut alerts = Vec::new();
        self.emotion_alerts(t, &mut alerts);
        self.no_face_alert(t, sample, &mut alerts);
        alerts
    }

    fn compute_shares(&self, t: Duration) -> MoodShares {
        let oldest = t.saturating_sub(self.window);
        let w = self.window.as_secs_f64();
        let mut out = MoodShares::default();
        let mut time = [0f64; EMOTION_COUNT];
        let mut no_face = 0f64;
        for (i, (start, sample)) in self.samples.iter().enumerate() {
            let end = self.samples.get(i + 1).map(|s| s.0).unwrap_or(t);
            let covered = end.saturating_sub((*start).max(oldest)).as_secs_f64();
            match sample {
                DriverSample::NoFace => no_face += covered,
                DriverSample::Face(Some(e)) => time[e.index()] += covered,
                DriverSample::Face(None) => {}
            }
        }
        for (s, v) in out.shares.iter_mut().zip(time) {
            *s = (v / w).clamp(0.0, 1.0) as f32;
        }
        out.no_face = (no_face / w).clamp(0.0, 1.0) as f32;
        out
    }

    fn emotion_alerts(&mut self, t: Duration, alerts: &mut Vec<Alert>) {
        let hold = Duration::from_secs_f64(self.config.alert_after_s);
        for e in &self.config.alert_emotions {
            let ix = e.index();
            let share = self.latest.shares[ix];
            let kind = AlertKind::Emotion(*e);
            if share as f64 >= self.config.alert_share {
                let since = *self.above_since[ix].get_or_insert(t);
                if self.active[ix].is_none() && t.saturating_sub(since) >= hold {
                    self.active[ix] = Some(t);
                    alerts.push(Alert {
                        kind,
                        phase: AlertPhase::Start,
                        media_time: t,
                        share: Some(share),
                        duration_s: t.saturating_sub(since).as_secs_f64(),
                    });
                }
            } else {
                self.above_since[ix] = None;
                if (share as f64) < self.config.clear_share {
                    if let Some(start) = self.active[ix].take() {
                        alerts.push(Alert {
                            kind,
                            phase: AlertPhase::End,
                            media_time: t,
                            share: Some(share),
                            duration_s: t.saturating_sub(start).as_secs_f64(),
                        });
                    }
                }
            }
        }
    }

    fn no_face_alert(&mut self, t: Duration, sample: DriverSample, alerts: &mut Vec<Alert>) {
        match sample {
            DriverSample::Face(_) => {
                self.last_face = Some(t);
                if let Some(start) = self.no_face_active.take() {
                    alerts.push(Alert {
                        kind: AlertKind::NoFace,
                        phase: AlertPhase::End,
                        media_time: t,
                        share: None,
                        duration_s: t.saturating_sub(start).as_secs_f64(),
                    });
                }
            }
            DriverSample::NoFace => {
                let since = self.last_face.or(self.started).unwrap_or(t);
                let gone = t.saturating_sub(since);
                if self.no_face_active.is_none()
                    && gone >= Duration::from_secs_f64(self.config.no_face_after_s)
                {
                    self.no_face_active = Some(t);
                    alerts.push(Alert {
                        kind: AlertKind::NoFace,
                        phase: AlertPhase::Start,
                        media_time: t,
                        share: None,
                        duration_s: gone.as_secs_f64(),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MonitorConfig {
        MonitorConfig {
            enabled: true,
            window_s: 10.0,
            alert_emotions: vec![Emotion::Angry, Emotion::Fear, Emotion::Sad],
            alert_share: 0.5,
            clear_share: 0.3,
            alert_after_s: 2.0,
            no_face_after_s: 3.0,
        }
    }

    /// Feeds `sample` at 10 frames per second from `from` s to `to` s.
    fn feed(m: &mut MoodMonitor, from: f64, to: f64, sample: DriverSample) -> Vec<Alert> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to - 1e-9 {
            out.extend(m.update(Duration::from_secs_f64(t), sample));
            t += 0.1;
        }
        out
    }

    #[test]
    fn shares_are_time_weighted_over_the_window() {
        let mut m = MoodMonitor::new(&config());
        feed(&mut m, 0.0, 4.0, DriverSample::Face(Some(Emotion::Happy)));
        feed(
            &mut m,
            4.0,
            10.0,
            DriverSample::Face(Some(Emotion::Neutral)),
        );
        m.update(
            Duration::from_secs(10),
            DriverSample::Face(Some(Emotion::Neutral)),
        );
        let s = m.shares();
        assert!((s.get(Emotion::Happy) - 0.4).abs() < 0.02, "{s:?}");
        assert!((s.get(Emotion::Neutral) - 0.6).abs() < 0.02, "{s:?}");
        // 5 s later the happy part has left the window.
        feed(
            &mut m,
            10.0,
            15.0,
            DriverSample::Face(Some(Emotion::Neutral)),
        );
        assert!(m.shares().get(Emotion::Happy) < 0.01);
    }

    #[test]
    fn sustained_anger_starts_and_ends_one_alert() {
        let mut m = MoodMonitor::new(&config());
        let mut alerts = feed(&mut m, 0.0, 20.0, DriverSample::Face(Some(Emotion::Angry)));
        let starts: Vec<_> = alerts
            .iter()
            .filter(|a| a.phase == AlertPhase::Start)
            .collect();
        assert_eq!(starts.len(), 1, "{alerts:?}");
        assert_eq!(starts[0].kind, AlertKind::Emotion(Emotion::Angry));
        // Share reaches 0.5 at 5 s, then must hold 2 s.
        let t = starts[0].media_time.as_secs_f64();
        assert!((t - 7.0).abs() < 0.15, "{t}");
        alerts = feed(&mut m, 20.0, 40.0, DriverSample::Face(Some(Emotion::Happy)));
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].phase, AlertPhase::End);
        // Anger falls below 0.3 of the window 7 s after it stopped.
        assert!((alerts[0].media_time.as_secs_f64() - 27.0).abs() < 0.15);
        assert!(m.active().is_empty());
    }

    #[test]
    fn brief_anger_and_happiness_raise_nothing() {
        let mut m = MoodMonitor::new(&config());
        let mut alerts = feed(&mut m, 0.0, 3.0, DriverSample::Face(Some(Emotion::Angry)));
        alerts.extend(feed(
            &mut m,
            3.0,
            30.0,
            DriverSample::Face(Some(Emotion::Happy)),
        ));
        assert!(alerts.is_empty(), "{alerts:?}");
    }

    #[test]
    fn no_face_alert_starts_after_the_delay_and_ends_when_a_face_returns() {
        let mut m = MoodMonitor::new(&config());
        feed(&mut m, 0.0, 1.0, DriverSample::Face(None));
        let alerts = feed(&mut m, 1.0, 6.0, DriverSample::NoFace);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, AlertKind::NoFace);
        assert!(
            (alerts[0].media_time.as_secs_f64() - 3.9).abs() < 0.15,
            "{alerts:?}"
        );
        let alerts = m.update(
            Duration::from_secs(7),
            DriverSample::Face(Some(Emotion::Neutral)),
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].phase, AlertPhase::End);
    }

    #[test]
    fn an_empty_start_counts_as_no_face() {
        let mut m = MoodMonitor::new(&config());
        let alerts = feed(&mut m, 0.0, 4.0, DriverSample::NoFace);
        assert_eq!(alerts.len(), 1);
    }

    #[test]
    fn time_going_backwards_is_harmless() {
        let mut m = MoodMonitor::new(&config());
        m.update(
            Duration::from_secs(5),
            DriverSample::Face(Some(Emotion::Sad)),
        );
        m.update(
            Duration::from_secs(1),
            DriverSample::Face(Some(Emotion::Sad)),
        );
        let s = m.shares();
        assert!(s.shares.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

//! Driver-attention alerts from the per-frame observations of the driver.
//!
//! Every observation stands for the time until the next one (as in the mood
//! monitor), so durations and shares are in media time whatever the frame
//! rate or `attention.every_n_frames`:
//!
//! - `drowsy`: PERCLOS, the share of the last `perclos_window_s` with eyes
//!   closed (over the time whose eye state is known), at or above
//!   `perclos_alert` once at least half the window is known; ends below
//!   `perclos_clear`.
//! - `microsleep`: eyes closed continuously for `microsleep_s` (at least
//!   0.4 s by validation, so a blink never qualifies); ends when they open.
//! - `yawn`: the mouth yawning continuously for `yawn_s`.
//! - `distracted`: yaw or pitch beyond its limit (from the driver's learnt
//!   straight-ahead, see [`super::stage::PoseBaseline`]) continuously for
//!   `distracted_s` (a mirror check shorter than that does not count).
//!
//! A continuous state is timed from its first observation to the latest one;
//! a gap of more than `max_gap_s` between observations (driver not seen, or
//! not analysed) restarts it and ends the alerts it held.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use super::config::AttentionConfig;

/// Share of the PERCLOS window that must have a known eye state before
/// `drowsy` may start.
pub const PERCLOS_MIN_COVERAGE: f64 = 0.5;

/// The conditions timed continuously, in the order of [`Observation`]'s fields.
const CONTINUOUS: [AttentionKind; 3] = [
    AttentionKind::Microsleep,
    AttentionKind::Yawn,
    AttentionKind::Distracted,
];

/// What an attention alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionKind {
    /// PERCLOS above its alert level.
    Drowsy,
    /// Eyes closed for `microsleep_s`.
    Microsleep,
    /// Yawning for `yawn_s`.
    Yawn,
    /// Looking away for `distracted_s`.
    Distracted,
}

impl AttentionKind {
    /// Every kind, in display order.
    pub const ALL: [AttentionKind; 4] = [
        AttentionKind::Drowsy,
        AttentionKind::Microsleep,
        AttentionKind::Yawn,
        AttentionKind::Distracted,
    ];

    /// The name in events (`"drowsy"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            AttentionKind::Drowsy => "drowsy",
            AttentionKind::Microsleep => "microsleep",
            AttentionKind::Yawn => "yawn",
            AttentionKind::Distracted => "distracted",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for AttentionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an alert starts or ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionPhase {
    /// The condition has held long enough.
    Start,
    /// The condition is over.
    End,
}

/// An attention alert starting or ending.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AttentionAlert {
    /// What it is about.
    pub kind: AttentionKind,
    /// Start or end.
    pub phase: AttentionPhase,
    /// Media time of the observation that started or ended it.
    #[serde(skip)]
    pub media_time: Duration,
    /// PERCLOS at that instant (`drowsy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub perclos: Option<f32>,
    /// Start: how long the condition had held; end: how long the alert lasted.
    pub duration_s: f64,
}

/// The driver's state at one analysed frame; `None` fields are unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Observation {
    /// Eyes closed (both, by the classifier's mean).
    pub eyes_closed: Option<bool>,
    /// Mouth yawning.
    pub yawning: Option<bool>,
    /// Head turned beyond the yaw or pitch limit.
    pub looking_away: Option<bool>,
}

/// A condition timed continuously.
#[derive(Debug, Clone, Copy, Default)]
struct Timer {
    since: Option<Duration>,
    active: Option<Duration>,
}

/// The monitor's state.
#[derive(Debug, Clone)]
pub struct AttentionMonitor {
    config: AttentionConfig,
    window: Duration,
    max_gap: Duration,
    /// Eye state per observation, for PERCLOS.
    eyes: VecDeque<(Duration, Option<bool>)>,
    last: Option<Duration>,
    /// Media time of the latest observation with a driver.
    last_seen: Option<Duration>,
    timers: [Timer; 4],
    perclos: Option<f32>,
}

impl AttentionMonitor {
    /// A monitor with no history.
    pub fn new(config: &AttentionConfig) -> Self {
        Self {
            config: config.clone(),
            window: Duration::from_secs_f64(config.perclos_window_s),
            max_gap: Duration::from_secs_f64(config.max_gap_s),
            eyes: VecDeque::new(),
            last: None,
            last_seen: None,
            timers: [Timer::default(); 4],
            perclos: None,
        }
    }

    /// PERCLOS after the latest observation (`None` until any eye state is known).
    pub fn perclos(&self) -> Option<f32> {
        self.perclos
    }

    /// Alerts in progress.
    pub fn active(&self) -> Vec<AttentionKind> {
        AttentionKind::ALL
            .into_iter()
            .filter(|k| self.timers[k.index()].active.is_some())
            .collect()
    }

    /// Folds in the observation at media time `t` (`None`: no driver face)
    /// and returns the alerts that started or ended. An observation older
    /// than the previous one is taken as happening at the previous one's time.
    pub fn update(&mut self, t: Duration, obs: Option<Observation>) -> Vec<AttentionAlert> {
        let t = self.last.map_or(t, |l| t.max(l));
        self.last = Some(t);
        let mut alerts = Vec::new();
        // Nothing continuous survives a gap in the driver's observations.
        if self.last_seen.is_some_and(|l| t - l > self.max_gap) {
            self.last_seen = None;
            for k in CONTINUOUS {
                self.clear(k, t, &mut alerts);
            }
        }
        self.push_eyes(t, obs.and_then(|o| o.eyes_closed));
        self.update_drowsy(t, &mut alerts);
        let Some(obs) = obs else {
            return alerts;
        };
        self.last_seen = Some(t);
        let states = [obs.eyes_closed, obs.yawning, obs.looking_away];
        let needs = [
            self.config.microsleep_s,
            self.config.yawn_s,
            self.config.distracted_s,
        ];
        for ((kind, state), need_s) in CONTINUOUS.into_iter().zip(states).zip(needs) {
            match state {
                Some(true) => {
                    let timer = &mut self.timers[kind.index()];
                    let since = *timer.since.get_or_insert(t);
                    let held = (t - since).as_secs_f64();
                    if timer.active.is_none() && held + 1e-9 >= need_s {
                        timer.active = Some(t);
                        alerts.push(AttentionAlert {
                            kind,
                            phase: AttentionPhase::Start,
                            media_time: t,
                            perclos: None,
                            duration_s: held,
                        });
                    }
                }
                Some(false) => self.clear(kind, t, &mut alerts),
                // Unknown on this frame (crop impossible): the timer holds.
                None => {}
            }
        }
        alerts
    }

    /// Clears a continuous condition, ending its alert if one was active.
    fn clear(&mut self, kind: AttentionKind, t: Duration, alerts: &mut Vec<AttentionAlert>) {
        let timer = &mut self.timers[kind.index()];
        timer.since = None;
        if let Some(started) = timer.active.take() {
            alerts.push(AttentionAlert {
                kind,
                phase: AttentionPhase::End,
                media_time: t,
                perclos: None,
                duration_s: (t - started).as_secs_f64(),
            });
        }
    }

    fn push_eyes(&mut self, t: Duration, closed: Option<bool>) {
        self.eyes.push_back((t, closed));
        // Keep one sample older than the window: it covers the window's start.
        while self.eyes.len() > 2 && t.saturating_sub(self.eyes[1].0) >= self.window {
            self.eyes.pop_front();
        }
    }

    fn update_drowsy(&mut self, t: Duration, alerts: &mut Vec<AttentionAlert>) {
        let start = t.saturating_sub(self.window);
        let (mut closed, mut known) = (0f64, 0f64);
        for (i, (ti, state)) in self.eyes.iter().enumerate() {
            let Some(state) = state else { continue };
            let end = self.eyes.get(i + 1).map_or(t, |n| n.0);
            let begin = (*ti).max(start);
            if end <= begin {
                continue;
            }
            let d = (end - begin).as_secs_f64();
            known += d;
            if *state {
                closed += d;
            }
        }
        self.perclos = (known > 0.0).then(|| (closed / known) as f32);
        let kind = AttentionKind::Drowsy;
        let timer = &mut self.timers[kind.index()];
        let covered = known >= PERCLOS_MIN_COVERAGE * self.window.as_secs_f64();
        let p = self.perclos.unwrap_or(0.0) as f64;
        if timer.active.is_none() && covered && p >= self.config.perclos_alert {
            timer.active = Some(t);
            alerts.push(AttentionAlert {
                kind,
                phase: AttentionPhase::Start,
                media_time: t,
                perclos: self.perclos,
                duration_s: closed,
            });
        } else if let Some(started) = timer.active {
            if p < self.config.perclos_clear {
                timer.active = None;
                alerts.push(AttentionAlert {
                    kind,
                    phase: AttentionPhase::End,
                    media_time: t,
                    perclos: self.perclos,
                    duration_s: (t - started).as_secs_f64(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(c: bool) -> Option<Observation> {
        Some(Observation {
            eyes_closed: Some(c),
            yawning: Some(false),
            looking_away: Some(false),
        })
    }

    fn run(
        m: &mut AttentionMonitor,
        from: f64,
        to: f64,
        step: f64,
        obs: Option<Observation>,
    ) -> Vec<AttentionAlert> {
        let mut out = Vec::new();
        let mut t = from;
        while t < to - 1e-9 {
            out.extend(m.update(Duration::from_secs_f64(t), obs));
            t += step;
        }
        out
    }

    #[test]
    fn losing_the_driver_ends_a_microsleep_after_the_gap() {
        let mut m = AttentionMonitor::new(&AttentionConfig::default());
        let a = run(&mut m, 0.0, 1.5, 0.1, closed(true));
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].kind, a[0].phase),
            (AttentionKind::Microsleep, AttentionPhase::Start)
        );
        // No driver: nothing for max_gap_s, then the alert ends.
        let a = run(&mut m, 1.5, 1.9, 0.1, None);
        assert!(a.is_empty(), "{a:?}");
        let a = run(&mut m, 1.9, 2.3, 0.1, None);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].phase, AttentionPhase::End);
        // Closed again: timed afresh.
        assert!(run(&mut m, 2.3, 3.4, 0.1, closed(true)).is_empty());
    }

    #[test]
    fn unknown_eye_state_holds_the_timer() {
        let mut m = AttentionMonitor::new(&AttentionConfig::default());
        assert!(run(&mut m, 0.0, 0.6, 0.1, closed(true)).is_empty());
        let unknown = Some(Observation {
            eyes_closed: None,
            ..Observation::default()
        });
        assert!(run(&mut m, 0.6, 0.9, 0.1, unknown).is_empty());
        let a = run(&mut m, 0.9, 1.3, 0.1, closed(true));
        assert_eq!(a.len(), 1, "{a:?}");
        assert!((a[0].duration_s - 1.2).abs() < 0.051, "{a:?}");
    }

    #[test]
    fn perclos_is_time_weighted_and_drowsy_waits_for_half_a_window() {
        let config = AttentionConfig {
            perclos_window_s: 10.0,
            perclos_alert: 0.2,
            perclos_clear: 0.1,
            ..Default::default()
        };
        let mut m = AttentionMonitor::new(&config);
        // 0.3 s closed in every second: 30%, but no alert before 5 s known.
        let mut alerts = Vec::new();
        for s in 0..8 {
            let s = s as f64;
            alerts.extend(run(&mut m, s, s + 0.7, 0.1, closed(false)));
            if s < 4.0 {
                assert!(alerts.is_empty(), "{alerts:?}");
            }
            alerts.extend(run(&mut m, s + 0.7, s + 1.0, 0.1, closed(true)));
        }
        let p = m.perclos().unwrap();
        assert!((p - 0.3).abs() < 0.05, "{p}");
        assert_eq!(
            alerts
                .iter()
                .filter(|a| a.kind == AttentionKind::Drowsy)
                .count(),
            1,
            "{alerts:?}"
        );
        assert!(alerts[0].media_time >= Duration::from_secs(5));
    }
}

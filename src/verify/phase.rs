//! Where one tracked face stands on the unlock path: a small state machine
//! with no side effects. [`Phase::next`] says where a track goes on this
//! frame's facts and what the stage must do about it ([`Action`]); the stage
//! carries the action out (audit record, rate limit, notice, unlock command).
//!
//! ```text
//!              unknown                 owner
//!   Deciding ───────────▶ Stranger ──────────┐
//!      │ owner                               ▼
//!      └──────────────────────▶ Owner { since, failed } ◀──┐ no live window by
//!                                  │                   └───┘ since + attempt_s:
//!                    live, locked, │                         failed + 1, counted,
//!                       no lockout ▼                         a new attempt
//!                                Done
//! ```
//!
//! Liveness keeps trying: while an identified owner stays in view, each
//! attempt of `attempt_s` seconds looks for one live window (the sliding
//! liveness window of the last `liveness.window_s` seconds); an attempt
//! without one fails, is counted by the rate limit, prompts the owner and
//! starts the next. During a lockout and while the device is unlocked no
//! attempt runs. A patient attacker so gets no more tries than the rate
//! limit allows: with the defaults, 5 failed attempts (25 s) lock out for 30 s.

use std::time::Duration;

use super::decision::Identity;
use super::liveness::Liveness;

/// What an owner whose liveness attempt failed is asked to do (overlay,
/// state JSON, `liveness_failed` events).
pub const LIVENESS_PROMPT: &str = "move your head slightly";

/// Where one track stands on the unlock path. A phase only moves forward:
/// nothing goes back to `Deciding` or `Stranger`, only `Owner` can unlock,
/// and `Done` is final.
///
/// The legal transitions (see [`Phase::next`]):
/// - `Deciding → Stranger`: the track is decided "unknown"; it is counted as
///   one failed attempt.
/// - `Deciding | Stranger → Owner { since: now, failed: 0 }`: the track is
///   decided "owner"; its first liveness attempt runs from `since`.
/// - `Owner → Owner { lockout_reported: true, since: now }`: the owner is in
///   view during a failed-attempt lockout; reported once per lockout, and no
///   attempt runs (the next starts when the lockout ends).
/// - `Owner → Owner { since: now }` while the device is unlocked (by another
///   track): no attempt runs, the next starts at the relock.
/// - `Owner { since, failed } → Owner { since: now, failed: failed + 1 }`: no
///   live window by `since` + the attempt length; counted as one failed
///   attempt, and the owner is prompted ([`LIVENESS_PROMPT`]).
/// - `Owner → Done`: the owner is live, not locked out, the device is locked
///   and the distance is known: the unlock runs (once per track, whatever
///   its outcome).
/// - `Owner | Done` with `counted: false` → the same with `counted: true`: a
///   track decided "owner" first and "unknown" later (on a refresh) is
///   counted as one failed attempt, once (an `Owner` attempt restarts then).
///   A stranger is counted when it becomes one, so `Owner` entered from
///   `Stranger` starts counted.
///
/// A track that is undecided ("pending") again stays where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Phase {
    /// No decision yet.
    #[default]
    Deciding,
    /// Decided "unknown" and never "owner"; counted once as a failed attempt.
    Stranger,
    /// Decided "owner"; trying liveness, waiting for the end of a lockout, or
    /// for the device to be locked.
    Owner {
        /// When the current liveness attempt started.
        since: Duration,
        /// Liveness attempts this track failed so far (each counted).
        failed: u32,
        /// The current lockout was reported for this track (true only
        /// while it lasts).
        lockout_reported: bool,
        /// The track was counted as a failed attempt for being "unknown".
        counted: bool,
    },
    /// This track's unlock ran: it succeeded, or it failed and was audited.
    /// It passed liveness to get here, and stays "live" for its life.
    Done {
        /// The track was counted as a failed attempt.
        counted: bool,
    },
}

/// What the stage knows about a track in this frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct Facts<'a> {
    /// The frame time.
    pub now: Duration,
    /// The vote's decision.
    pub identity: &'a Identity,
    /// The liveness verdict of the sliding window (`Live` when the check is off).
    pub liveness: &'a Liveness,
    /// Length of one liveness attempt, in seconds (`liveness.timeout_s`).
    pub attempt_s: f64,
    /// The device is unlocked already.
    pub unlocked: bool,
    /// The distance of the last embedding to its best match, if any.
    pub distance: Option<f32>,
}

/// What the stage does about a transition.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action<'a> {
    /// Nothing.
    None,
    /// Count one failed attempt (it may start a lockout).
    CountFailure,
    /// Report that the owner `name` is locked out for `remaining`.
    ReportLockout {
        /// The owner in view.
        name: &'a str,
        /// Time left in the lockout.
        remaining: Duration,
    },
    /// The owner `name` failed a liveness attempt: an event, a prompt, and
    /// one failed attempt for the rate limit; the next attempt has started.
    FailAttempt {
        /// The owner in view.
        name: &'a str,
        /// The liveness reason of the last window.
        reason: String,
    },
    /// Unlock for the owner `name`, seen at `distance`.
    Unlock {
        /// The owner in view.
        name: &'a str,
        /// Distance of the last embedding.
        distance: f32,
    },
}

impl Phase {
    /// The phase after this frame, and what to do about it. `locked_out`
    /// (the remaining failed-attempt lockout) is asked only for an owner in
    /// phase `Owner`, the one place a lockout matters.
    pub(super) fn next<'a>(
        self,
        facts: &Facts<'a>,
        locked_out: impl FnOnce() -> Option<Duration>,
    ) -> (Phase, Action<'a>) {
        match facts.identity {
            Identity::Pending => (self, Action::None),
            Identity::Unknown => match self.counted(facts.now) {
                Some(next) => (next, Action::CountFailure),
                None => (self, Action::None),
            },
            Identity::Owner { name } => match self {
                Phase::Deciding | Phase::Stranger => Attempt {
                    since: facts.now,
                    failed: 0,
                    lockout_reported: false,
                    counted: self == Phase::Stranger,
                }
                .step(name, facts, locked_out),
                Phase::Owner {
                    since,
                    failed,
                    lockout_reported,
                    counted,
                } => Attempt {
                    since,
                    failed,
                    lockout_reported,
                    counted,
                }
                .step(name, facts, locked_out),
                Phase::Done { .. } => (self, Action::None),
            },
        }
    }

    /// This phase once the track is counted as a failed attempt at `now`;
    /// `None` when it already was.
    fn counted(self, now: Duration) -> Option<Phase> {
        match self {
            Phase::Deciding => Some(Phase::Stranger),
            Phase::Stranger
            | Phase::Owner { counted: true, .. }
            | Phase::Done { counted: true } => None,
            // The liveness attempt restarts when the track is the owner again.
            Phase::Owner {
                failed,
                lockout_reported,
                counted: false,
                ..
            } => Some(Phase::Owner {
                since: now,
                failed,
                lockout_reported,
                counted: true,
            }),
            Phase::Done { counted: false } => Some(Phase::Done { counted: true }),
        }
    }

    /// What the overlay and the state show for a track in this phase, given
    /// the sliding window's verdict `window` and whether the device is
    /// unlocked after this frame: the liveness and the prompt, if any.
    ///
    /// Liveness is judged only for an owner trying to unlock: a track that
    /// unlocked stays `Live` for its life (a later window failing means
    /// nothing, the unlock holds until the normal relock), and while the
    /// device is unlocked, or for a face that is not the owner, no verdict
    /// is shown (`Pending`). So `Spoof` is never shown beside "unlocked".
    pub(super) fn shown(
        &self,
        window: &Liveness,
        unlocked: bool,
    ) -> (Liveness, Option<&'static str>) {
        match self {
            Phase::Done { .. } => (Liveness::Live, None),
            Phase::Owner {
                failed,
                lockout_reported,
                ..
            } if !unlocked => {
                let prompt = (*failed > 0 && !lockout_reported).then_some(LIVENESS_PROMPT);
                (window.clone(), prompt)
            }
            _ => (Liveness::Pending, None),
        }
    }
}

/// The fields of phase `Owner`: one owner's liveness attempt.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    since: Duration,
    failed: u32,
    lockout_reported: bool,
    counted: bool,
}

impl Attempt {
    fn phase(self) -> Phase {
        Phase::Owner {
            since: self.since,
            failed: self.failed,
            lockout_reported: self.lockout_reported,
            counted: self.counted,
        }
    }

    /// The owner `name` in view: report a lockout (once per lockout), fail
    /// an attempt that found no live window in time, or unlock.
    fn step<'a>(
        self,
        name: &'a str,
        facts: &Facts<'a>,
        locked_out: impl FnOnce() -> Option<Duration>,
    ) -> (Phase, Action<'a>) {
        if let Some(remaining) = locked_out() {
            // No attempt runs during a lockout: the next starts when it ends.
            let held = Attempt {
                since: facts.now,
                lockout_reported: true,
                ..self
            };
            let action = if self.lockout_reported {
                Action::None
            } else {
                Action::ReportLockout { name, remaining }
            };
            return (held.phase(), action);
        }
        // A lockout just ended: a fresh attempt starts now.
        let me = Attempt {
            since: if self.lockout_reported {
                facts.now
            } else {
                self.since
            },
            lockout_reported: false,
            ..self
        };
        if facts.unlocked {
            // Unlocked by another track: nothing to try for until the relock.
            let held = Attempt {
                since: facts.now,
                ..me
            };
            return (held.phase(), Action::None);
        }
        let reason = match facts.liveness {
            Liveness::Live => None,
            Liveness::Spoof { reason } => Some(reason.clone()),
            Liveness::Pending => Some("no live verdict in time".to_string()),
        };
        let Some(reason) = reason else {
            return match facts.distance {
                Some(distance) => (
                    Phase::Done {
                        counted: me.counted,
                    },
                    Action::Unlock { name, distance },
                ),
                None => (me.phase(), Action::None),
            };
        };
        let waited = facts.now.saturating_sub(me.since).as_secs_f64();
        if waited < facts.attempt_s {
            return (me.phase(), Action::None);
        }
        let next = Attempt {
            since: facts.now,
            failed: me.failed.saturating_add(1),
            ..me
        };
        (next.phase(), Action::FailAttempt { name, reason })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::verify::ratelimit::RateLimiter;

    fn t(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn owner() -> Identity {
        Identity::Owner {
            name: "alice".into(),
        }
    }

    fn flat() -> Liveness {
        Liveness::Spoof {
            reason: "flat".into(),
        }
    }

    /// Facts at `now_s` for a matched face, locked device, 5 s attempts.
    fn facts<'a>(now_s: f64, identity: &'a Identity, liveness: &'a Liveness) -> Facts<'a> {
        Facts {
            now: t(now_s),
            identity,
            liveness,
            attempt_s: 5.0,
            unlocked: false,
            distance: Some(0.3),
        }
    }

    fn free() -> Option<Duration> {
        None
    }

    fn owner_at(since: f64, failed: u32, lockout_reported: bool, counted: bool) -> Phase {
        Phase::Owner {
            since: t(since),
            failed,
            lockout_reported,
            counted,
        }
    }

    /// One track driven frame by frame at 25 FPS with the default rate
    /// limit (5 failures inside 30 s lock out for 30 s), carrying out the
    /// actions as the stage does (no threads, no stage).
    struct Sim {
        phase: Phase,
        rate: RateLimiter,
        unlocked: bool,
        frame: u64,
        /// (time, action) of every action but `None`.
        log: Vec<(f64, String)>,
        /// Every frame's (unlocked, shown liveness, prompt).
        shown: Vec<(bool, Liveness, Option<&'static str>)>,
    }

    impl Sim {
        fn new() -> Self {
            Self {
                phase: Phase::Deciding,
                rate: RateLimiter::new(5, t(30.0), t(30.0)),
                unlocked: false,
                frame: 0,
                log: Vec::new(),
                shown: Vec::new(),
            }
        }

        fn now(&self) -> f64 {
            self.frame as f64 / 25.0
        }

        /// Frames until `until_s` with this identity and window verdict.
        fn run(&mut self, until_s: f64, identity: &Identity, liveness: &Liveness) {
            while self.now() < until_s {
                let now = self.now();
                let f = Facts {
                    unlocked: self.unlocked,
                    ..facts(now, identity, liveness)
                };
                let rate = &mut self.rate;
                let (p, a) = self.phase.next(&f, || rate.locked_out(t(now)));
                self.phase = p;
                match &a {
                    Action::None => {}
                    Action::CountFailure | Action::FailAttempt { .. } => {
                        self.rate.record_failure(t(now));
                    }
                    Action::ReportLockout { .. } => {}
                    Action::Unlock { .. } => {
                        self.unlocked = true;
                        self.rate.record_success();
                    }
                }
                if a != Action::None {
                    let name = format!("{a:?}");
                    let kind = name.split([' ', '{']).next().unwrap_or("").to_string();
                    self.log.push((now, kind));
                }
                let (l, prompt) = self.phase.shown(liveness, self.unlocked);
                self.shown.push((self.unlocked, l, prompt));
                self.frame += 1;
            }
        }

        fn times(&self, kind: &str) -> Vec<f64> {
            self.log
                .iter()
                .filter(|(_, k)| k == kind)
                .map(|(t, _)| (t * 100.0).round() / 100.0)
                .collect()
        }
    }

    #[test]
    fn a_stranger_is_counted_once() {
        let unknown = Identity::Unknown;
        let live = Liveness::Live;
        let (p, a) = Phase::Deciding.next(&facts(0.0, &unknown, &live), free);
        assert_eq!((p, a), (Phase::Stranger, Action::CountFailure));
        for i in 1..10 {
            let (q, a) = p.next(&facts(i as f64, &unknown, &live), free);
            assert_eq!((q, a), (Phase::Stranger, Action::None));
        }
    }

    #[test]
    fn pending_changes_nothing() {
        let pending = Identity::Pending;
        let live = Liveness::Live;
        for p in [
            Phase::Deciding,
            Phase::Stranger,
            owner_at(0.0, 2, false, false),
            Phase::Done { counted: false },
        ] {
            assert_eq!(
                p.next(&facts(100.0, &pending, &live), || unreachable!()),
                (p, Action::None)
            );
        }
    }

    #[test]
    fn a_stranger_who_turns_out_the_owner_unlocks_without_a_second_count() {
        let live = Liveness::Live;
        let id = owner();
        let (p, a) = Phase::Stranger.next(&facts(1.0, &id, &live), free);
        assert_eq!(p, Phase::Done { counted: true });
        assert_eq!(
            a,
            Action::Unlock {
                name: "alice",
                distance: 0.3
            }
        );
        let (p, a) = p.next(&facts(2.0, &Identity::Unknown, &live), free);
        assert_eq!((p, a), (Phase::Done { counted: true }, Action::None));
    }

    #[test]
    fn the_owner_unlocks_once() {
        let live = Liveness::Live;
        let id = owner();
        let (p, a) = Phase::Deciding.next(&facts(0.0, &id, &live), free);
        assert_eq!(p, Phase::Done { counted: false });
        assert!(matches!(a, Action::Unlock { name: "alice", .. }));
        // Done is final: no second unlock, the lockout is not even asked.
        let (q, a) = p.next(&facts(1.0, &id, &live), || unreachable!());
        assert_eq!((q, a), (p, Action::None));
    }

    #[test]
    fn an_owner_drifting_to_unknown_is_counted_once_in_any_phase() {
        let live = Liveness::Live;
        let unknown = Identity::Unknown;
        for (p, counted) in [
            // The attempt restarts from the drift.
            (
                owner_at(0.0, 1, false, false),
                owner_at(7.0, 1, false, true),
            ),
            (
                Phase::Done { counted: false },
                Phase::Done { counted: true },
            ),
        ] {
            let (q, a) = p.next(&facts(7.0, &unknown, &live), free);
            assert_eq!((q, a), (counted, Action::CountFailure));
            let (r, a) = q.next(&facts(8.0, &unknown, &live), free);
            assert_eq!((r, a), (counted, Action::None));
        }
    }

    #[test]
    fn the_owner_who_sits_still_then_moves_unlocks_later() {
        // Recognised at 0 s, flat (sits still) for 12 s, then moves.
        let mut sim = Sim::new();
        let id = owner();
        sim.run(12.0, &id, &flat());
        assert_eq!(sim.times("FailAttempt"), vec![5.0, 10.0]);
        assert!(!sim.unlocked);
        assert_eq!(sim.phase, owner_at(10.0, 2, false, false));
        // Prompted from the first failure on, not before.
        let prompted: Vec<bool> = sim.shown.iter().map(|s| s.2.is_some()).collect();
        assert!(!prompted[..125].iter().any(|p| *p));
        assert!(prompted[125..].iter().all(|p| *p));
        assert_eq!(sim.shown[200].2, Some(LIVENESS_PROMPT));
        sim.run(12.5, &id, &Liveness::Live);
        assert_eq!(sim.times("Unlock"), vec![12.0]);
        assert!(sim.unlocked);
        // The two failures were cleared by the success.
        assert_eq!(sim.rate.failures(), 0);
        assert_eq!(sim.shown.last().map(|s| s.2), Some(None));
    }

    #[test]
    fn a_photo_gets_no_more_attempts_than_the_lockout_allows() {
        // A picture of the owner in view for 120 s: every window fails.
        let mut sim = Sim::new();
        let id = owner();
        sim.run(20.0, &id, &flat());
        // In the first 20 s: an attempt fails every 5 s, each counted.
        assert_eq!(sim.times("FailAttempt"), vec![5.0, 10.0, 15.0]);
        sim.run(120.0, &id, &flat());
        // The fifth (25 s) locks out until 55 s, reported once; attempts
        // resume after it, and again five lock out (80 s .. 110 s).
        assert_eq!(
            sim.times("FailAttempt"),
            vec![5.0, 10.0, 15.0, 20.0, 25.0, 60.0, 65.0, 70.0, 75.0, 80.0, 115.0]
        );
        assert_eq!(sim.times("ReportLockout"), vec![25.04, 80.04]);
        assert!(sim.times("Unlock").is_empty());
        assert!(!sim.shown.iter().any(|s| s.0));
        // Never more than 5 failed attempts inside any 30 s.
        let fails = sim.times("FailAttempt");
        for (i, a) in fails.iter().enumerate() {
            assert!(fails[i..].iter().filter(|b| **b - a < 30.0).count() <= 5);
        }
    }

    #[test]
    fn no_live_verdict_in_time_fails_an_attempt() {
        let id = owner();
        let pending = Liveness::Pending;
        let waiting = owner_at(0.0, 0, false, true);
        let (p, a) = waiting.next(&facts(4.99, &id, &pending), free);
        assert_eq!((p, a), (waiting, Action::None));
        let (p, a) = waiting.next(&facts(5.0, &id, &pending), free);
        assert_eq!(p, owner_at(5.0, 1, false, true));
        assert_eq!(
            a,
            Action::FailAttempt {
                name: "alice",
                reason: "no live verdict in time".into()
            }
        );
    }

    #[test]
    fn a_lockout_is_reported_once_per_lockout_and_blocks_the_unlock() {
        let id = owner();
        let live = Liveness::Live;
        let out = || Some(t(20.0));
        let (p, a) = Phase::Deciding.next(&facts(0.0, &id, &live), out);
        assert_eq!(
            a,
            Action::ReportLockout {
                name: "alice",
                remaining: t(20.0)
            }
        );
        assert_eq!(p, owner_at(0.0, 0, true, false));
        let mut p = p;
        for i in 1..5 {
            let (q, a) = p.next(&facts(i as f64, &id, &live), out);
            assert_eq!((q, a), (owner_at(i as f64, 0, true, false), Action::None));
            p = q;
        }
        // Over: the same track unlocks.
        let (q, a) = p.next(&facts(30.0, &id, &live), free);
        assert_eq!(q, Phase::Done { counted: false });
        assert!(matches!(a, Action::Unlock { .. }));
        // A second lockout of a waiting track is reported again.
        let flat = flat();
        let (q, _) = p.next(&facts(30.0, &id, &flat), free);
        assert_eq!(q, owner_at(30.0, 0, false, false));
        let (_, a) = q.next(&facts(31.0, &id, &flat), out);
        assert!(matches!(a, Action::ReportLockout { .. }));
    }

    #[test]
    fn no_attempt_runs_during_a_lockout() {
        let id = owner();
        let pending = Liveness::Pending;
        let waiting = owner_at(0.0, 0, true, false);
        let (p, a) = waiting.next(&facts(60.0, &id, &pending), || Some(t(1.0)));
        assert_eq!((p, a), (owner_at(60.0, 0, true, false), Action::None));
        // The next attempt starts when the lockout ends: no failure at once.
        let (p, a) = p.next(&facts(61.0, &id, &pending), free);
        assert_eq!((p, a), (owner_at(61.0, 0, false, false), Action::None));
    }

    #[test]
    fn no_unlock_and_no_attempt_while_unlocked_or_without_a_distance() {
        let id = owner();
        let live = Liveness::Live;
        let waiting = owner_at(0.0, 0, false, false);
        let mut f = facts(1.0, &id, &live);
        f.unlocked = true;
        assert_eq!(
            waiting.next(&f, free),
            (owner_at(1.0, 0, false, false), Action::None)
        );
        let flat = flat();
        let mut g = facts(30.0, &id, &flat);
        g.unlocked = true;
        assert_eq!(
            waiting.next(&g, free),
            (owner_at(30.0, 0, false, false), Action::None)
        );
        f.unlocked = false;
        f.distance = None;
        assert_eq!(waiting.next(&f, free), (waiting, Action::None));
        f.distance = Some(0.2);
        assert_eq!(waiting.next(&f, free).0, Phase::Done { counted: false });
    }

    #[test]
    fn the_lockout_is_asked_only_of_an_owner_in_phase_owner() {
        let asked = Cell::new(0);
        let ask = || {
            asked.set(asked.get() + 1);
            None
        };
        let live = Liveness::Live;
        let unknown = Identity::Unknown;
        let id = owner();
        Phase::Deciding.next(&facts(0.0, &unknown, &live), ask);
        Phase::Stranger.next(&facts(0.0, &unknown, &live), ask);
        Phase::Done { counted: false }.next(&facts(0.0, &id, &live), ask);
        assert_eq!(asked.get(), 0);
        Phase::Deciding.next(&facts(0.0, &id, &live), ask);
        assert_eq!(asked.get(), 1);
    }

    #[test]
    fn spoof_is_shown_only_for_an_owner_trying_while_locked() {
        let flat = flat();
        let trying = owner_at(0.0, 1, false, false);
        assert_eq!(
            trying.shown(&flat, false),
            (flat.clone(), Some(LIVENESS_PROMPT))
        );
        assert_eq!(trying.shown(&flat, true), (Liveness::Pending, None));
        // No prompt before a failure, nor during a lockout.
        assert_eq!(owner_at(0.0, 0, false, false).shown(&flat, false).1, None);
        assert_eq!(owner_at(0.0, 3, true, false).shown(&flat, false).1, None);
        // A track that unlocked stays live, locked or not.
        for unlocked in [true, false] {
            assert_eq!(
                Phase::Done { counted: false }.shown(&flat, unlocked),
                (Liveness::Live, None)
            );
        }
        for p in [Phase::Deciding, Phase::Stranger] {
            assert_eq!(p.shown(&flat, false), (Liveness::Pending, None));
        }
    }

    #[test]
    fn a_late_liveness_failure_keeps_the_unlock_and_is_never_shown_beside_it() {
        let mut sim = Sim::new();
        let id = owner();
        sim.run(1.0, &id, &Liveness::Live);
        assert_eq!(sim.times("Unlock"), vec![0.0]);
        // The owner sits still after the unlock: windows fail.
        sim.run(20.0, &id, &flat());
        assert!(sim.unlocked, "the unlock holds (the stage relocks on time)");
        assert!(sim.times("FailAttempt").is_empty());
        assert!(!sim
            .shown
            .iter()
            .any(|(u, l, _)| *u && matches!(l, Liveness::Spoof { .. })));
        assert!(sim
            .shown
            .iter()
            .all(|(_, l, p)| *l == Liveness::Live && p.is_none()));
    }
}

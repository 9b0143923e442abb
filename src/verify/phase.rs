//! Where one tracked face stands on the unlock path: a small state machine
//! with no side effects. [`Phase::next`] says where a track goes on this
//! frame's facts and what the stage must do about it ([`Action`]); the stage
//! carries the action out (audit record, rate limit, notice, unlock command).
//!
//! ```text
//!              unknown                 owner
//!   Deciding ───────────▶ Stranger ──────────┐
//!      │ owner                               ▼
//!      └─────────────────────────▶ Owner { since } ◀──┐ in view during a
//!                                  │          │ └───┘ lockout: reported once
//!                    live, locked, │          │ no live verdict
//!                       no lockout ▼          ▼ by since + timeout
//!                                Done      Refused
//! ```

use std::time::Duration;

use super::decision::Identity;
use super::liveness::Liveness;

/// Where one track stands on the unlock path. A phase only moves forward:
/// nothing goes back to `Deciding` or `Stranger`, only `Owner` can unlock,
/// and `Done` and `Refused` are final.
///
/// The legal transitions (see [`Phase::next`]):
/// - `Deciding → Stranger`: the track is decided "unknown"; it is counted as
///   one failed attempt.
/// - `Deciding | Stranger → Owner { since: now }`: the track is decided
///   "owner"; the liveness deadline runs from `since`.
/// - `Owner { lockout_reported: false } → Owner { lockout_reported: true }`:
///   the owner is in view during a failed-attempt lockout; reported once per
///   track.
/// - `Owner → Refused`: no live verdict by `since` + the liveness timeout;
///   counted as one failed attempt.
/// - `Owner → Done`: the owner is live, not locked out, the device is locked
///   and the distance is known: the unlock runs (once per track, whatever
///   its outcome).
/// - `Owner | Done | Refused` with `counted: false` → the same with
///   `counted: true`: a track decided "owner" first and "unknown" later (on a
///   refresh) is counted as one failed attempt, once. A stranger is counted
///   when it becomes one, so `Owner` entered from `Stranger` starts counted.
///
/// A track that is undecided ("pending") again stays where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Phase {
    /// No decision yet.
    #[default]
    Deciding,
    /// Decided "unknown" and never "owner"; counted once as a failed attempt.
    Stranger,
    /// Decided "owner" at `since`; waiting for liveness, the end of a
    /// lockout, or the device to be locked.
    Owner {
        /// When the track was first decided "owner" (liveness deadline).
        since: Duration,
        /// The lockout was reported for this track.
        lockout_reported: bool,
        /// The track was counted as a failed attempt.
        counted: bool,
    },
    /// This track's unlock ran: it succeeded, or it failed and was audited.
    Done {
        /// The track was counted as a failed attempt.
        counted: bool,
    },
    /// Liveness failed or timed out: this track can never unlock.
    Refused {
        /// The track was counted as a failed attempt (for being "unknown";
        /// the liveness failure itself is always counted).
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
    /// The liveness verdict (`Live` when the check is off).
    pub liveness: &'a Liveness,
    /// How long an owner may wait for a live verdict, in seconds.
    pub liveness_timeout_s: f64,
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
    /// Refuse the owner `name` for failing liveness; counts as a failed attempt.
    Refuse {
        /// The owner in view.
        name: &'a str,
        /// The liveness reason.
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
            Identity::Unknown => match self.counted() {
                Some(next) => (next, Action::CountFailure),
                None => (self, Action::None),
            },
            Identity::Owner { name } => match self {
                Phase::Deciding | Phase::Stranger => Self::owner(
                    facts.now,
                    false,
                    self == Phase::Stranger,
                    name,
                    facts,
                    locked_out,
                ),
                Phase::Owner {
                    since,
                    lockout_reported,
                    counted,
                } => Self::owner(since, lockout_reported, counted, name, facts, locked_out),
                Phase::Done { .. } | Phase::Refused { .. } => (self, Action::None),
            },
        }
    }

    /// This phase once the track is counted as a failed attempt; `None` when
    /// it already was.
    fn counted(self) -> Option<Phase> {
        match self {
            Phase::Deciding => Some(Phase::Stranger),
            Phase::Stranger
            | Phase::Owner { counted: true, .. }
            | Phase::Done { counted: true }
            | Phase::Refused { counted: true } => None,
            Phase::Owner {
                since,
                lockout_reported,
                counted: false,
            } => Some(Phase::Owner {
                since,
                lockout_reported,
                counted: true,
            }),
            Phase::Done { counted: false } => Some(Phase::Done { counted: true }),
            Phase::Refused { counted: false } => Some(Phase::Refused { counted: true }),
        }
    }

    /// The owner `name` in view in phase `Owner`: report a lockout (once),
    /// refuse when liveness runs out of time, or unlock.
    fn owner<'a>(
        since: Duration,
        lockout_reported: bool,
        counted: bool,
        name: &'a str,
        facts: &Facts<'a>,
        locked_out: impl FnOnce() -> Option<Duration>,
    ) -> (Phase, Action<'a>) {
        let waiting = Phase::Owner {
            since,
            lockout_reported,
            counted,
        };
        if let Some(remaining) = locked_out() {
            if lockout_reported {
                return (waiting, Action::None);
            }
            let reported = Phase::Owner {
                since,
                lockout_reported: true,
                counted,
            };
            return (reported, Action::ReportLockout { name, remaining });
        }
        let reason = match facts.liveness {
            Liveness::Live => None,
            Liveness::Spoof { reason } => Some(reason.clone()),
            Liveness::Pending => Some("no live verdict in time".to_string()),
        };
        if let Some(reason) = reason {
            let waited = facts.now.saturating_sub(since).as_secs_f64();
            if waited >= facts.liveness_timeout_s {
                return (Phase::Refused { counted }, Action::Refuse { name, reason });
            }
            return (waiting, Action::None);
        }
        match facts.distance {
            Some(distance) if !facts.unlocked => {
                (Phase::Done { counted }, Action::Unlock { name, distance })
            }
            _ => (waiting, Action::None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn t(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn owner() -> Identity {
        Identity::Owner {
            name: "alice".into(),
        }
    }

    /// Facts at `now_s` for a live, locked, matched face.
    fn facts<'a>(now_s: f64, identity: &'a Identity, liveness: &'a Liveness) -> Facts<'a> {
        Facts {
            now: t(now_s),
            identity,
            liveness,
            liveness_timeout_s: 5.0,
            unlocked: false,
            distance: Some(0.3),
        }
    }

    fn free() -> Option<Duration> {
        None
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
            Phase::Owner {
                since: t(0.0),
                lockout_reported: false,
                counted: false,
            },
            Phase::Done { counted: false },
            Phase::Refused { counted: true },
        ] {
            assert_eq!(
                p.next(&facts(1.0, &pending, &live), || unreachable!()),
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
        let waiting = Phase::Owner {
            since: t(0.0),
            lockout_reported: true,
            counted: false,
        };
        for (p, counted) in [
            (
                waiting,
                Phase::Owner {
                    since: t(0.0),
                    lockout_reported: true,
                    counted: true,
                },
            ),
            (
                Phase::Done { counted: false },
                Phase::Done { counted: true },
            ),
            (
                Phase::Refused { counted: false },
                Phase::Refused { counted: true },
            ),
        ] {
            let (q, a) = p.next(&facts(1.0, &unknown, &live), free);
            assert_eq!((q, a), (counted, Action::CountFailure));
            let (r, a) = q.next(&facts(2.0, &unknown, &live), free);
            assert_eq!((r, a), (counted, Action::None));
        }
    }

    #[test]
    fn the_owner_waits_for_liveness_then_is_refused_for_good() {
        let id = owner();
        let pending = Liveness::Pending;
        let (p, a) = Phase::Deciding.next(&facts(10.0, &id, &pending), free);
        let waiting = Phase::Owner {
            since: t(10.0),
            lockout_reported: false,
            counted: false,
        };
        assert_eq!((p, a), (waiting, Action::None));
        // The deadline runs from the first "owner", not from each frame.
        let (p, a) = p.next(&facts(14.9, &id, &pending), free);
        assert_eq!((p, a), (waiting, Action::None));
        let spoof = Liveness::Spoof {
            reason: "flat".into(),
        };
        let (p, a) = p.next(&facts(15.0, &id, &spoof), free);
        assert_eq!(p, Phase::Refused { counted: false });
        assert_eq!(
            a,
            Action::Refuse {
                name: "alice",
                reason: "flat".into()
            }
        );
        // A refused track never unlocks, live or not.
        let live = Liveness::Live;
        let (q, a) = p.next(&facts(16.0, &id, &live), || unreachable!());
        assert_eq!((q, a), (p, Action::None));
    }

    #[test]
    fn no_live_verdict_in_time_is_a_refusal() {
        let id = owner();
        let pending = Liveness::Pending;
        let waiting = Phase::Owner {
            since: t(0.0),
            lockout_reported: false,
            counted: true,
        };
        let (p, a) = waiting.next(&facts(5.0, &id, &pending), free);
        assert_eq!(p, Phase::Refused { counted: true });
        assert_eq!(
            a,
            Action::Refuse {
                name: "alice",
                reason: "no live verdict in time".into()
            }
        );
    }

    #[test]
    fn a_lockout_is_reported_once_per_track_and_blocks_the_unlock() {
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
        let reported = Phase::Owner {
            since: t(0.0),
            lockout_reported: true,
            counted: false,
        };
        assert_eq!(p, reported);
        for i in 1..5 {
            assert_eq!(
                p.next(&facts(i as f64, &id, &live), out),
                (reported, Action::None)
            );
        }
        // Over: the same track unlocks.
        let (p, a) = p.next(&facts(30.0, &id, &live), free);
        assert_eq!(p, Phase::Done { counted: false });
        assert!(matches!(a, Action::Unlock { .. }));
    }

    #[test]
    fn the_lockout_comes_before_the_liveness_deadline() {
        let id = owner();
        let pending = Liveness::Pending;
        let waiting = Phase::Owner {
            since: t(0.0),
            lockout_reported: true,
            counted: false,
        };
        let (p, a) = waiting.next(&facts(60.0, &id, &pending), || Some(t(1.0)));
        assert_eq!((p, a), (waiting, Action::None));
    }

    #[test]
    fn no_unlock_while_unlocked_or_without_a_distance() {
        let id = owner();
        let live = Liveness::Live;
        let waiting = Phase::Owner {
            since: t(0.0),
            lockout_reported: false,
            counted: false,
        };
        let mut f = facts(1.0, &id, &live);
        f.unlocked = true;
        assert_eq!(waiting.next(&f, free), (waiting, Action::None));
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
        Phase::Refused { counted: false }.next(&facts(0.0, &id, &live), ask);
        assert_eq!(asked.get(), 0);
        Phase::Deciding.next(&facts(0.0, &id, &live), ask);
        assert_eq!(asked.get(), 1);
    }
}

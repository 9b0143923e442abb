//! Failed-attempt rate limit: `max_failures` failures inside `failure_window`
//! (the defaults, Android's biometric rule: 5 failures inside 30 s) start a
//! lockout of `lockout` (30 s) during which nobody is unlocked.
//!
//! An attempt is one tracked face reaching a decision: a face that is not the
//! owner ("unknown") is one failure however many frames it stays in view; an
//! owner who shows no live window within one liveness attempt is one failure
//! per attempt. "Inside" is strict: a failure exactly `failure_window` old
//! no longer counts. During a lockout no attempt is possible, so failures are
//! not counted and cannot lengthen it; the count starts afresh after it.
//! Times are on the frame clock.

use std::collections::VecDeque;
use std::time::Duration;

/// Counts failed attempts on the frame clock and holds off unlocks during a
/// lockout.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    max_failures: usize,
    window: Duration,
    lockout: Duration,
    failures: VecDeque<Duration>,
    locked_until: Option<Duration>,
}

impl RateLimiter {
    /// `max_failures` (at least 1) failures within `window` start a lockout
    /// of `lockout`.
    pub fn new(max_failures: usize, window: Duration, lockout: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            lockout,
            failures: VecDeque::new(),
            locked_until: None,
        }
    }

    /// Records a failed attempt at `now`; returns true when it starts a
    /// lockout. A failure during a lockout is not counted.
    pub fn record_failure(&mut self, now: Duration) -> bool {
        if self.locked_out(now).is_some() {
            return false;
        }
        self.expire(now);
        self.failures.push_back(now);
        if self.failures.len() >= self.max_failures {
            self.locked_until = Some(now + self.lockout);
            self.failures.clear();
            return true;
        }
        false
    }

    /// A successful unlock clears the failures counted so far.
    pub fn record_success(&mut self) {
        self.failures.clear();
    }

    /// The remaining lockout at `now`, if any.
    pub fn locked_out(&mut self, now: Duration) -> Option<Duration> {
        match self.locked_until {
            Some(until) if now < until => Some(until - now),
            Some(_) => {
                self.locked_until = None;
                None
            }
            None => None,
        }
    }

    /// Failures recorded since the last lockout or success (those older than
    /// the window are dropped at the next failure).
    pub fn failures(&self) -> usize {
        self.failures.len()
    }

    fn expire(&mut self, now: Duration) {
        while let Some(&t) = self.failures.front() {
            if now.saturating_sub(t) >= self.window {
                self.failures.pop_front();
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    /// The defaults: 5 failures inside 30 s lock out for 30 s.
    fn android() -> RateLimiter {
        RateLimiter::new(5, s(30.0), s(30.0))
    }

    #[test]
    fn five_failures_inside_thirty_seconds_lock_out_for_thirty_seconds() {
        let mut r = android();
        for t in [0.0, 7.0, 14.0, 21.0] {
            assert!(!r.record_failure(s(t)));
            assert!(r.locked_out(s(t)).is_none());
        }
        assert!(r.record_failure(s(29.9)));
        assert_eq!(r.locked_out(s(29.9)), Some(s(30.0)));
        assert!(r.locked_out(s(59.8)).is_some());
        assert!(r.locked_out(s(59.9)).is_none());
        // Afterwards the count starts afresh: four more failures do not lock.
        for t in [60.0, 61.0, 62.0, 63.0] {
            assert!(!r.record_failure(s(t)));
        }
        assert!(r.locked_out(s(63.0)).is_none());
    }

    #[test]
    fn five_failures_spread_over_thirty_seconds_or_more_do_not() {
        let mut r = android();
        // The first is exactly 30 s old at the fifth: it no longer counts.
        for t in [0.0, 7.5, 15.0, 22.5, 30.0] {
            assert!(!r.record_failure(s(t)), "locked at {t}");
        }
        assert_eq!(r.failures(), 4);
        assert!(r.locked_out(s(30.0)).is_none());
        // One more inside 30 s of the second does.
        assert!(r.record_failure(s(37.0)));
    }

    #[test]
    fn failures_during_a_lockout_neither_count_nor_lengthen_it() {
        let mut r = android();
        for i in 0..5 {
            r.record_failure(s(i as f64));
        }
        // Locked from 4 s to 34 s.
        for t in [5.0, 10.0, 20.0, 30.0, 33.9] {
            assert!(!r.record_failure(s(t)));
        }
        assert_eq!(r.failures(), 0);
        assert!(r.locked_out(s(33.9)).is_some());
        assert!(r.locked_out(s(34.0)).is_none());
    }

    #[test]
    fn old_failures_expire() {
        let mut r = RateLimiter::new(3, s(10.0), s(30.0));
        r.record_failure(s(0.0));
        r.record_failure(s(1.0));
        assert!(!r.record_failure(s(20.0)));
        assert_eq!(r.failures(), 1);
        r.record_success();
        assert_eq!(r.failures(), 0);
    }
}

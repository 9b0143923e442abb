//! Failed-attempt rate limit: after `max_failures` failures within
//! `failure_window`, no unlock is allowed for `lockout`.
//!
//! An attempt is one tracked face reaching a decision: a face that is not the
//! owner ("unknown"), or the owner failing the liveness check, is one failure,
//! however many frames it stays in view. Times are on the frame clock.

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

    /// Records a failed attempt at `now`; returns true when it starts a lockout.
    pub fn record_failure(&mut self, now: Duration) -> bool {
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
            if now.saturating_sub(t) > self.window {
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

    #[test]
    fn five_failures_in_a_minute_lock_out_for_thirty_seconds() {
        let mut r = RateLimiter::new(5, s(60.0), s(30.0));
        for i in 0..4 {
            assert!(!r.record_failure(s(i as f64 * 10.0)));
            assert!(r.locked_out(s(i as f64 * 10.0)).is_none());
        }
        assert!(r.record_failure(s(45.0)));
        assert!(r.locked_out(s(46.0)).is_some());
        assert!(r.locked_out(s(74.9)).is_some());
        assert!(r.locked_out(s(75.0)).is_none());
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

//! A live source that survives losing its device or stream.
//!
//! [`Resilient`] wraps the opener of a live source (camera, network stream,
//! Pi camera). When the source fails or ends, it reports
//! [`SourceEvent::Lost`] once, then reopens it with a capped back-off until
//! frames flow again, and reports [`SourceEvent::Restored`] with the outage.
//! Frames keep one clock and one sequence across reopenings, so the stages
//! see a gap in time, never a clock that starts again. While it waits it
//! returns [`Poll::Idle`] at least every [`IDLE_SLICE`], so the pipeline can
//! still stop.

use std::time::{Duration, Instant};

use super::{CaptureError, FrameSource, Poll, SourceEvent};
use crate::core::frame::Frame;

/// The longest a single [`Resilient::poll`] sleeps while waiting to retry.
pub const IDLE_SLICE: Duration = Duration::from_millis(50);
/// The first retry delay after a loss; it doubles up to the configured cap.
pub const FIRST_RETRY: Duration = Duration::from_millis(100);

/// Opens (or reopens) the wrapped source.
pub type Reopen = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, CaptureError> + Send>;

/// Doubling delays from [`FIRST_RETRY`] up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    /// Delays capped at `max`.
    pub fn new(max: Duration) -> Self {
        Self {
            next: FIRST_RETRY.min(max),
            max,
        }
    }

    /// The delay before the next try; each call doubles the one after.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.next = FIRST_RETRY.min(self.max);
    }
}

/// A live source that is reopened when lost (see the module docs).
pub struct Resilient {
    reopen: Reopen,
    current: Option<Box<dyn FrameSource>>,
    description: String,
    fps: Option<f64>,
    clock: Instant,
    seq: u64,
    lost_since: Option<Instant>,
    next_try: Instant,
    backoff: Backoff,
    attempts: u32,
    last_error: String,
    held: Option<Frame>,
    skipped: u64,
}

impl Resilient {
    /// Opens the source once. With `retry_first` a failure of this first
    /// open is treated as a loss (a network camera that is not up yet);
    /// otherwise it is returned (a camera index that does not exist).
    pub fn open(
        mut reopen: Reopen,
        max_delay: Duration,
        retry_first: bool,
    ) -> Result<Self, CaptureError> {
        let now = Instant::now();
        let (current, lost_since, last_error) = match reopen() {
            Ok(s) => (Some(s), None, String::new()),
            Err(e) if retry_first => {
                log::warn!("source: {e}; retrying");
                (None, Some(now), e.to_string())
            }
            Err(e) => return Err(e),
        };
        let description = current
            .as_ref()
            .map(|s| s.describe())
            .unwrap_or_else(|| "live source (not yet open)".into());
        let fps = current.as_ref().and_then(|s| s.native_fps());
        let mut backoff = Backoff::new(max_delay);
        let next_try = if current.is_some() {
            now
        } else {
            now + backoff.next_delay()
        };
        Ok(Self {
            reopen,
            current,
            description,
            fps,
            clock: now,
            seq: 0,
            lost_since,
            next_try,
            backoff,
            attempts: 0,
            last_error,
            held: None,
            skipped: 0,
        })
    }

    /// Restamps a frame on this source's clock and sequence.
    fn restamp(&mut self, mut frame: Frame) -> Frame {
        frame.seq = self.seq;
        frame.media_time = self.clock.elapsed();
        self.seq += 1;
        frame
    }

    fn lose(&mut self, reason: String) -> Poll {
        log::warn!("source lost: {reason}; reopening");
        if let Some(s) = self.current.take() {
            self.skipped += s.skipped();
        }
        self.lost_since = Some(Instant::now());
        self.backoff.reset();
        self.next_try = Instant::now() + self.backoff.next_delay();
        self.attempts = 0;
        self.last_error = reason.clone();
        Poll::Event(SourceEvent::Lost {
            reason,
            at: self.clock.elapsed(),
        })
    }

    /// The open source failed: a loss, or, while still recovering from one
    /// (reopened but no frame yet, e.g. a stream that refuses the
    /// connection on its first read), one more failed attempt.
    fn fail(&mut self, reason: String) -> Poll {
        if self.lost_since.is_none() {
            return self.lose(reason);
        }
        if let Some(s) = self.current.take() {
            self.skipped += s.skipped();
        }
        self.note_failure(reason);
        Poll::Idle
    }

    /// Logs a failed attempt (at warn when the reason changed) and waits longer.
    fn note_failure(&mut self, message: String) {
        if message != self.last_error {
            log::warn!("source still lost (attempt {}): {message}", self.attempts);
        } else {
            log::info!("source still lost (attempt {}): {message}", self.attempts);
        }
        self.last_error = message;
        self.next_try = Instant::now() + self.backoff.next_delay();
    }

    fn retry(&mut self) -> Poll {
        let now = Instant::now();
        if now < self.next_try {
            std::thread::sleep((self.next_try - now).min(IDLE_SLICE));
            return Poll::Idle;
        }
        self.attempts += 1;
        match (self.reopen)() {
            Ok(source) => {
                log::info!(
                    "source reopened after {} attempt(s): {}",
                    self.attempts,
                    source.describe()
                );
                self.description = source.describe();
                self.fps = source.native_fps().or(self.fps);
                self.current = Some(source);
            }
            Err(e) => self.note_failure(e.to_string()),
        }
        Poll::Idle
    }
}

impl FrameSource for Resilient {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        loop {
            match self.poll()? {
                Poll::Frame(f) => return Ok(Some(f)),
                Poll::End => return Ok(None),
                Poll::Event(_) | Poll::Idle => {}
            }
        }
    }

    fn poll(&mut self) -> Result<Poll, CaptureError> {
        if let Some(frame) = self.held.take() {
            return Ok(Poll::Frame(frame));
        }
        let Some(source) = self.current.as_mut() else {
            return Ok(self.retry());
        };
        match source.next_frame() {
            Ok(Some(frame)) => {
                let frame = self.restamp(frame);
                match self.lost_since.take() {
                    Some(since) => {
                        let outage = since.elapsed();
                        log::info!("source restored after {:.2} s", outage.as_secs_f64());
                        self.backoff.reset();
                        let at = frame.media_time;
                        self.held = Some(frame);
                        Ok(Poll::Event(SourceEvent::Restored { outage, at }))
                    }
                    None => Ok(Poll::Frame(frame)),
                }
            }
            Ok(None) => Ok(self.fail("the live stream ended".into())),
            Err(e) => Ok(self.fail(e.to_string())),
        }
    }

    fn describe(&self) -> String {
        format!("{} (reopened when lost)", self.description)
    }

    fn native_fps(&self) -> Option<f64> {
        self.fps
    }

    fn is_live(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// What a scripted source does on each call.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        Frame,
        Fail,
        End,
    }

    struct Scripted {
        steps: Arc<Mutex<VecDeque<Step>>>,
        seq: u64,
    }

    impl FrameSource for Scripted {
        fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
            let step = self.steps.lock().unwrap().pop_front().unwrap_or(Step::End);
            match step {
                Step::Frame => {
                    self.seq += 1;
                    // Each opening starts its own clock at 0: Resilient restamps.
                    let t = Duration::from_millis(self.seq);
                    Ok(Some(Frame::new(self.seq, t, image::RgbImage::new(4, 4))))
                }
                Step::Fail => Err(CaptureError::CameraLost {
                    index: 0,
                    message: "device gone".into(),
                }),
                Step::End => Ok(None),
            }
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
        fn native_fps(&self) -> Option<f64> {
            Some(30.0)
        }
        fn is_live(&self) -> bool {
            true
        }
    }

    /// Openings: `Ok` with the shared script, or an error.
    fn opener(opens: Vec<bool>, steps: Arc<Mutex<VecDeque<Step>>>) -> Reopen {
        let mut opens: VecDeque<bool> = opens.into();
        Box::new(move || {
            if opens.pop_front().unwrap_or(false) {
                Ok(Box::new(Scripted {
                    steps: steps.clone(),
                    seq: 0,
                }) as Box<dyn FrameSource>)
            } else {
                Err(CaptureError::NoCamera {
                    detail: " (test)".into(),
                })
            }
        })
    }

    fn poll_until(src: &mut Resilient, mut done: impl FnMut(&Poll) -> bool) -> Vec<Poll> {
        let mut seen = Vec::new();
        for _ in 0..1000 {
            let p = src.poll().unwrap();
            let stop = done(&p);
            seen.push(p);
            if stop {
                return seen;
            }
        }
        panic!("condition never reached: {seen:?}");
    }

    #[test]
    fn backoff_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500));
        let d: Vec<_> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(d, vec![100, 200, 400, 500, 500]);
        b.reset();
        assert_eq!(b.next_delay().as_millis(), 100);
    }

    #[test]
    fn a_lost_source_is_reported_once_reopened_and_restored() {
        use Step::*;
        let steps = Arc::new(Mutex::new(VecDeque::from(vec![
            Frame, Frame, Fail, Frame, Frame,
        ])));
        // First open works; after the loss two tries fail, the third works.
        let reopen = opener(vec![true, false, false, true], steps);
        let mut src = Resilient::open(reopen, Duration::from_millis(100), false).unwrap();
        let seen = poll_until(&mut src, |p| matches!(p, Poll::Frame(f) if f.seq == 3));
        let events: Vec<_> = seen
            .iter()
            .filter_map(|p| match p {
                Poll::Event(e) => Some(e.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(
            matches!(&events[0], SourceEvent::Lost { reason, .. } if reason.contains("device gone"))
        );
        assert!(
            matches!(events[1], SourceEvent::Restored { outage, .. } if outage >= Duration::from_millis(100))
        );
        // One clock and one sequence across the reopening.
        let frames: Vec<_> = seen
            .iter()
            .filter_map(|p| match p {
                Poll::Frame(f) => Some((f.seq, f.media_time)),
                _ => None,
            })
            .collect();
        assert_eq!(
            frames.iter().map(|f| f.0).collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        assert!(frames.windows(2).all(|w| w[1].1 >= w[0].1));
        assert!(frames[2].1 - frames[1].1 >= Duration::from_millis(100));
    }

    #[test]
    fn a_reopened_source_failing_before_its_first_frame_is_one_outage() {
        use Step::*;
        // Lost once; then three reopenings whose first read fails (a stream
        // refusing the connection), then frames again.
        let steps = Arc::new(Mutex::new(VecDeque::from(vec![
            Frame, Fail, Fail, Fail, Fail, Frame, Frame,
        ])));
        let reopen = opener(vec![true; 5], steps);
        let mut src = Resilient::open(reopen, Duration::from_millis(20), false).unwrap();
        let seen = poll_until(&mut src, |p| matches!(p, Poll::Frame(f) if f.seq == 2));
        let lost = seen
            .iter()
            .filter(|p| matches!(p, Poll::Event(SourceEvent::Lost { .. })))
            .count();
        let restored = seen
            .iter()
            .filter(|p| matches!(p, Poll::Event(SourceEvent::Restored { .. })))
            .count();
        assert_eq!((lost, restored), (1, 1), "{seen:?}");
    }

    #[test]
    fn an_ended_live_stream_is_a_loss_not_the_end() {
        use Step::*;
        let steps = Arc::new(Mutex::new(VecDeque::from(vec![Frame, End, Frame])));
        let reopen = opener(vec![true, true], steps);
        let mut src = Resilient::open(reopen, Duration::from_millis(50), false).unwrap();
        let seen = poll_until(&mut src, |p| matches!(p, Poll::Frame(f) if f.seq == 1));
        assert!(seen
            .iter()
            .any(|p| matches!(p, Poll::Event(SourceEvent::Lost { reason, .. }) if reason.contains("ended"))));
        assert!(!seen.iter().any(|p| matches!(p, Poll::End)));
    }

    #[test]
    fn first_open_failure_is_an_error_unless_retried() {
        let steps = Arc::new(Mutex::new(VecDeque::from(vec![Step::Frame])));
        let reopen = opener(vec![false], steps.clone());
        assert!(Resilient::open(reopen, Duration::from_millis(50), false).is_err());
        let reopen = opener(vec![false, true], steps);
        let mut src = Resilient::open(reopen, Duration::from_millis(50), true).unwrap();
        let seen = poll_until(&mut src, |p| matches!(p, Poll::Frame(_)));
        assert!(seen
            .iter()
            .any(|p| matches!(p, Poll::Event(SourceEvent::Restored { .. }))));
    }

    #[test]
    fn waiting_returns_idle_in_short_slices() {
        let steps = Arc::new(Mutex::new(VecDeque::new()));
        let reopen = opener(vec![false, false, false], steps);
        let mut src = Resilient::open(reopen, Duration::from_secs(5), true).unwrap();
        for _ in 0..5 {
            let t = Instant::now();
            assert!(matches!(src.poll().unwrap(), Poll::Idle));
            assert!(t.elapsed() < Duration::from_millis(500));
        }
    }
}

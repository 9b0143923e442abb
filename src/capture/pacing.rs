//! Real-time pacing of a replay source (`--realtime`).

use std::time::{Duration, Instant};

use super::{CaptureError, FrameSource};
use crate::core::frame::Frame;

/// Wraps a replay so frames leave at the source's own clock (`Frame::media_time`),
/// and behaves as live: a slow pipeline then drops frames as it would with a camera.
pub struct Paced<S> {
    inner: S,
    start: Option<(Instant, Duration)>,
}

impl<S: FrameSource> Paced<S> {
    /// Paces `inner`; the clock starts at its first frame.
    pub fn new(inner: S) -> Self {
        Self { inner, start: None }
    }
}

impl<S: FrameSource> FrameSource for Paced<S> {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(mut frame) = self.inner.next_frame()? else {
            return Ok(None);
        };
        let (t0, m0) = *self.start.get_or_insert((Instant::now(), frame.media_time));
        let due = t0 + frame.media_time.saturating_sub(m0);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        frame.captured = Instant::now();
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        format!("{} (real time)", self.inner.describe())
    }

    fn native_fps(&self) -> Option<f64> {
        self.inner.native_fps()
    }

    fn is_live(&self) -> bool {
        true
    }

    fn skipped(&self) -> u64 {
        self.inner.skipped()
    }
}

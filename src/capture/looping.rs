//! `--loop`: a replay (folder, video, demo) that starts again at its end, on
//! one clock and one sequence, for demos and long runs (soak tests).

use std::time::Duration;

use super::live::Reopen;
use super::{CaptureError, FrameSource};
use crate::core::frame::Frame;

/// A replay reopened at its end (see the module docs).
pub struct Looped {
    reopen: Reopen,
    current: Box<dyn FrameSource>,
    /// Media time at which the current pass started.
    offset: Duration,
    /// The latest media time handed out.
    last: Duration,
    /// One frame interval, added between passes.
    step: Duration,
    seq: u64,
    passes: u64,
    skipped_before: u64,
}

impl Looped {
    /// Opens the replay; it is reopened with `reopen` at each end.
    pub fn open(mut reopen: Reopen) -> Result<Self, CaptureError> {
        let current = reopen()?;
        let step = Duration::from_secs_f64(1.0 / current.native_fps().unwrap_or(30.0).max(1.0));
        Ok(Self {
            reopen,
            current,
            offset: Duration::ZERO,
            last: Duration::ZERO,
            step,
            seq: 0,
            passes: 0,
            skipped_before: 0,
        })
    }
}

impl FrameSource for Looped {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        for _ in 0..2 {
            if let Some(mut frame) = self.current.next_frame()? {
                frame.media_time = self.offset + frame.media_time;
                frame.seq = self.seq;
                self.seq += 1;
                self.last = frame.media_time;
                return Ok(Some(frame));
            }
            // The end of a pass: start again, a frame interval later.
            if self.seq == 0 {
                return Ok(None);
            }
            self.skipped_before += self.current.skipped();
            self.current = (self.reopen)()?;
            self.offset = self.last + self.step;
            self.passes += 1;
            log::debug!("replay: pass {} starts", self.passes + 1);
        }
        // A pass that delivered nothing: stop rather than spin.
        Ok(None)
    }

    fn describe(&self) -> String {
        format!("{} (looped)", self.current.describe())
    }

    fn native_fps(&self) -> Option<f64> {
        self.current.native_fps()
    }

    fn is_live(&self) -> bool {
        false
    }

    fn skipped(&self) -> u64 {
        self.skipped_before + self.current.skipped()
    }
}

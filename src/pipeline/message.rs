//! What flows between the stages: the front stage's [`Analysis`] of a frame,
//! the [`Stamp`] a result carries, and the [`Message`] contract the app's
//! message type fulfils.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::capture::SourceEvent;
use crate::core::face::{TrackId, TrackedFace};
use crate::core::frame::Frame;

/// Where a result came from: the frame it was computed on.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    /// The frame's position in its source.
    pub seq: u64,
    /// The frame's time on the source's clock.
    pub media_time: Duration,
    /// When the frame left the source (for latency figures).
    pub captured: Instant,
}

impl Stamp {
    /// The stamp of `frame`.
    pub fn of(frame: &Frame) -> Self {
        Self {
            seq: frame.seq,
            media_time: frame.media_time,
            captured: frame.captured,
        }
    }
}

/// The front stage's view of one frame: the faces found and their tracks.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The frame itself.
    pub frame: Frame,
    /// Confirmed faces with their track ids.
    pub faces: Vec<TrackedFace>,
    /// Tracks that ended at this frame (their per-track state should be dropped).
    pub ended: Vec<TrackId>,
}

impl Analysis {
    /// The stamp of the analysed frame.
    pub fn stamp(&self) -> Stamp {
        Stamp::of(&self.frame)
    }
}

/// The message type a pipeline carries to its presenter: every analysed
/// frame (wrapped by [`Message::frame`]) and the consumers' verdicts.
pub trait Message: Send + 'static {
    /// The message for an analysed frame (sent for every processed frame).
    fn frame(analysis: Arc<Analysis>) -> Self;
    /// The message for a change in the source's health (never dropped).
    fn source(event: SourceEvent, stamp: Stamp) -> Self;
    /// The frame this message was computed on.
    fn stamp(&self) -> Stamp;
    /// True for consumer verdicts (counted in capture-to-verdict latency).
    fn is_verdict(&self) -> bool;
}

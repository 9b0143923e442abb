//! The unit of work that flows through the pipeline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

/// One captured frame. Cheap to clone: the pixels are shared.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Position in the source, counting from 0, including frames dropped later.
    pub seq: u64,
    /// Time of this frame on the source's own clock: presentation time for
    /// replayed media, time since opening for a camera. Temporal logic
    /// (smoothing windows, alerts, liveness) uses this clock so that a replay
    /// run as fast as possible behaves like the same scene seen live.
    pub media_time: Duration,
    /// Wall-clock instant the frame left the source (for latency figures).
    pub captured: Instant,
    /// The pixels, shared between every clone of the frame.
    pub image: Arc<RgbImage>,
}

impl Frame {
    /// A frame captured now (`captured` = [`Instant::now`]) with the given sequence number and media time.
    pub fn new(seq: u64, media_time: Duration, image: RgbImage) -> Self {
        Self {
            seq,
            media_time,
            captured: Instant::now(),
            image: Arc::new(image),
        }
    }

    /// Width of the image, in pixels.
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    /// Height of the image, in pixels.
    pub fn height(&self) -> u32 {
        self.image.height()
    }
}

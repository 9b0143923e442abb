//! `[capture]`: where frames come from (owned by the capture layer).

use serde::{Deserialize, Serialize};

use crate::core::check::{in_range, seconds, ConfigError};

/// `[capture]`: where frames come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// The source to open, as `--source` takes it (see
    /// [`SourceSpec::parse`](super::SourceSpec::parse)); default `auto`.
    pub source: String,
    /// Frame width asked of a camera or picam, and the width streams are
    /// scaled to, in pixels (default 640).
    pub width: u32,
    /// Frame height asked of a camera or picam, and the height streams are
    /// scaled to, in pixels (default 480).
    pub height: u32,
    /// Frame rate asked of a camera or picam, in frames per second (default
    /// 30); also the rate reported for a stream.
    pub fps: u32,
    /// Play replays (folder, video, demo) at their own frame rate and treat
    /// them as live, dropping frames when a stage is busy (`--realtime`);
    /// false runs them as fast as the pipeline goes.
    pub realtime: bool,
    /// Frame rate of a `dir:` folder's media clock, in frames per second
    /// (default 30): image `i` is at `i / replay_fps` seconds.
    pub replay_fps: f64,
    /// Longest wait between two attempts to reopen a lost live source, in
    /// seconds (default 1).
    pub retry_max_s: f64,
    /// Replays start again at their end (`--loop`).
    #[serde(rename = "loop")]
    pub loop_replay: bool,
    /// RTSP streams: "tcp" (default: no losses through NAT and Wi-Fi) or "udp".
    pub rtsp_transport: String,
    /// Streams: connect and read timeout of ffmpeg, in seconds.
    pub stream_timeout_s: f64,
    /// `picam:` program; empty = `rpicam-vid`, else `libcamera-vid`, on PATH.
    pub picam_program: String,
}

/// Values of `capture.rtsp_transport`.
pub const RTSP_TRANSPORTS: [&str; 2] = ["tcp", "udp"];
/// Longest side of a frame, in pixels: `capture.width` and `capture.height`,
/// a probed video's size, a `dir:` image's (a 8192 x 8192 RGB frame is
/// 192 MiB; every frame buffer is sized from these before it is allocated).
pub const MAX_FRAME_SIDE: u32 = 8192;
/// Highest `capture.fps` and `capture.replay_fps`.
pub const MAX_FPS: f64 = 1000.0;
/// Lowest `capture.replay_fps` (frame `i` is at `i / replay_fps` seconds).
pub const MIN_REPLAY_FPS: f64 = 0.01;
/// Longest `capture.stream_timeout_s` (ffmpeg takes microseconds in an int).
pub const MAX_STREAM_TIMEOUT_S: f64 = 600.0;

impl Default for CaptureConfig {
    fn default() -> Self {
        Self {
            source: "auto".into(),
            width: 640,
            height: 480,
            fps: 30,
            realtime: false,
            replay_fps: 30.0,
            retry_max_s: 0.5,
            loop_replay: false,
            rtsp_transport: "tcp".into(),
            stream_timeout_s: 10.0,
            picam_program: String::new(),
        }
    }
}

impl CaptureConfig {
    /// Range checks; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let side = MAX_FRAME_SIDE as f64;
        in_range("capture.width", self.width as f64, 1.0, side)?;
        in_range("capture.height", self.height as f64, 1.0, side)?;
        in_range("capture.fps", self.fps as f64, 1.0, MAX_FPS)?;
        in_range(
            "capture.replay_fps",
            self.replay_fps,
            MIN_REPLAY_FPS,
            MAX_FPS,
        )?;
        seconds("capture.retry_max_s", self.retry_max_s)?;
        if !RTSP_TRANSPORTS.contains(&self.rtsp_transport.as_str()) {
            return Err(ConfigError::invalid(
                "capture.rtsp_transport",
                format!("must be \"tcp\" or \"udp\", got {:?}", self.rtsp_transport),
            ));
        }
        in_range(
            "capture.stream_timeout_s",
            self.stream_timeout_s,
            0.1,
            MAX_STREAM_TIMEOUT_S,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_sizes_and_rates_are_bounded() {
        // Found by the raw_frames fuzz target (an I420 size that overflows)
        // and by review: a frame buffer is sized from these keys.
        for (w, h) in [
            (0, 480),
            (640, 0),
            (MAX_FRAME_SIDE + 1, 480),
            (640, u32::MAX),
        ] {
            let c = CaptureConfig {
                width: w,
                height: h,
                ..Default::default()
            };
            let e = c.validate().unwrap_err().to_string();
            assert!(
                e.contains("capture.width") || e.contains("capture.height"),
                "{e}"
            );
        }
        for fps in [0.0, 1e-300, 1e9, f64::NAN] {
            let c = CaptureConfig {
                replay_fps: fps,
                ..Default::default()
            };
            assert!(c.validate().is_err(), "{fps}");
        }
        let big = CaptureConfig {
            width: MAX_FRAME_SIDE,
            height: MAX_FRAME_SIDE,
            ..Default::default()
        };
        assert!(big.validate().is_ok());
    }

    #[test]
    fn validates_stream_keys() {
        assert!(CaptureConfig::default().validate().is_ok());
        let udp = CaptureConfig {
            rtsp_transport: "udp".into(),
            ..Default::default()
        };
        assert!(udp.validate().is_ok());
        let bad = CaptureConfig {
            rtsp_transport: "http".into(),
            ..Default::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("capture.rtsp_transport"), "{err}");
        for t in [0.0, -1.0, f64::NAN, 1e9] {
            let bad = CaptureConfig {
                stream_timeout_s: t,
                ..Default::default()
            };
            let err = bad.validate().unwrap_err().to_string();
            assert!(err.contains("capture.stream_timeout_s"), "{err}");
        }
    }
}

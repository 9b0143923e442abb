//! `video:PATH`: a video file decoded by an `ffmpeg` child process into raw RGB.
//!
//! Decoding in a separate process keeps codec libraries out of our address
//! space and our build; the cost is one pipe copy per frame.

use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use image::RgbImage;

use super::{CaptureError, FrameSource};
use crate::core::frame::Frame;

/// Frame rate assumed when the container does not say.
pub const FALLBACK_FPS: f64 = 30.0;

/// What `ffprobe` says about a video's first stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Size of the decoded (display-rotated) frames.
    pub width: u32,
    pub height: u32,
    pub fps: f64,
}

fn spawn_error(tool: &'static str, path: &Path, e: std::io::Error) -> CaptureError {
    if e.kind() == ErrorKind::NotFound {
        CaptureError::FfmpegMissing { tool }
    } else {
        CaptureError::Video {
            path: path.to_path_buf(),
            message: format!("cannot start {tool}: {e}"),
        }
    }
}

fn parse_rate(text: &str) -> Option<f64> {
    let (n, d) = text.split_once('/').unwrap_or((text, "1"));
    let n: f64 = n.trim().parse().ok()?;
    let d: f64 = d.trim().parse().ok()?;
    (d > 0.0 && n > 0.0).then(|| n / d)
}

/// Reads size, rotation and frame rate with `ffprobe`.
pub fn probe_video(path: &Path) -> Result<VideoInfo, CaptureError> {
    let video_err = |message: String| CaptureError::Video {
        path: path.to_path_buf(),
        message,
    };
    if !path.is_file() {
        return Err(video_err("no such file".into()));
    }
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,avg_frame_rate,r_frame_rate:stream_side_data=rotation",
            "-of",
            "default=noprint_wrappers=1",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error("ffprobe", path, e))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(video_err(if msg.is_empty() {
            "ffprobe failed".into()
        } else {
            msg
        }));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut width, mut height, mut fps, mut rotation) = (0u32, 0u32, None, 0i32);
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k.trim() {
            "width" => width = v.trim().parse().unwrap_or(0),
            "height" => height = v.trim().parse().unwrap_or(0),
            "avg_frame_rate" => fps = parse_rate(v).or(fps),
            "r_frame_rate" => fps = fps.or_else(|| parse_rate(v)),
            "rotation" => rotation = v.trim().parse().unwrap_or(0),
            _ => {}
        }
    }
    if width == 0 || height == 0 {
        return Err(video_err("no video stream found".into()));
    }
    if rotation.rem_euclid(180) == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    Ok(VideoInfo {
        width,
        height,
        fps: fps.unwrap_or(FALLBACK_FPS),
    })
}

pub struct VideoSource {
    path: PathBuf,
    info: VideoInfo,
    child: Child,
    stdout: ChildStdout,
    seq: u64,
    finished: bool,
}

impl VideoSource {
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let info = probe_video(path)?;
        let mut child = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(path)
            // Every decoded frame once: the rawvideo muxer would otherwise
            // resample variable-rate clips to their nominal rate, duplicating
            // frames (a 6 s phone clip tagged 120 FPS became 765 frames).
            .args(["-fps_mode", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error("ffmpeg", path, e))?;
        let stdout = child.stdout.take().ok_or_else(|| CaptureError::Video {
            path: path.to_path_buf(),
            message: "ffmpeg gave no output pipe".into(),
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            info,
            child,
            stdout,
            seq: 0,
            finished: false,
        })
    }

    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// ffmpeg's diagnostics after it exited with an error.
    fn decoder_failure(&mut self) -> Option<String> {
        let status = self.child.wait().ok()?;
        if status.success() {
            return None;
        }
        let mut err = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        Some(format!("ffmpeg failed ({status}): {}", err.trim()))
    }
}

impl FrameSource for VideoSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let len = self.info.width as usize * self.info.height as usize * 3;
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            match self.stdout.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(CaptureError::Video {
                        path: self.path.clone(),
                        message: format!("reading decoded frames: {e}"),
                    })
                }
            }
        }
        if filled < len {
            self.finished = true;
            if let Some(message) = self.decoder_failure() {
                return Err(CaptureError::Video {
                    path: self.path.clone(),
                    message,
                });
            }
            if filled > 0 {
                log::warn!(
                    "{}: ignoring a truncated last frame ({filled} of {len} bytes)",
                    self.path.display()
                );
            }
            return Ok(None);
        }
        let image =
            RgbImage::from_raw(self.info.width, self.info.height, buf).ok_or_else(|| {
                CaptureError::Video {
                    path: self.path.clone(),
                    message: "frame buffer size mismatch".into(),
                }
            })?;
        let media_time = Duration::from_secs_f64(self.seq as f64 / self.info.fps);
        let frame = Frame::new(self.seq, media_time, image);
        self.seq += 1;
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        format!(
            "video {} ({}x{} at {:.2} FPS)",
            self.path.display(),
            self.info.width,
            self.info.height,
            self.info.fps
        )
    }

    fn native_fps(&self) -> Option<f64> {
        Some(self.info.fps)
    }

    fn is_live(&self) -> bool {
        false
    }
}

impl Drop for VideoSource {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rate;

    #[test]
    fn parses_frame_rates() {
        assert_eq!(parse_rate("30/1"), Some(30.0));
        assert_eq!(
            parse_rate("30000/1001").map(|r| (r * 100.0).round()),
            Some(2997.0)
        );
        assert_eq!(parse_rate("0/0"), None);
        assert_eq!(parse_rate("25"), Some(25.0));
    }
}

//! `video:PATH`: a video file, and stream URLs (`rtsp://...`, `video:URL`),
//! decoded by an `ffmpeg` child process into raw RGB.
//!
//! Decoding in a separate process keeps codec libraries out of our address
//! space and our build; the cost is one pipe copy per frame.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::child::{ChildStream, ReadEnd, EXIT_GRACE};
use super::config::{MAX_FPS, MAX_FRAME_SIDE, MIN_REPLAY_FPS};
use super::program;
use super::url::{ffmpeg_input_args, redact_url};
use super::{CaptureConfig, CaptureError, FrameSource};
use crate::core::frame::Frame;

/// Frame rate assumed when the container does not say.
pub const FALLBACK_FPS: f64 = 30.0;

/// What `ffprobe` says about a video's first stream.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoInfo {
    /// Width of the decoded (display-rotated) frames, in pixels.
    pub width: u32,
    /// Height of the decoded (display-rotated) frames, in pixels.
    pub height: u32,
    /// Frame rate from the stream's average (else nominal) rate, in frames
    /// per second; `FALLBACK_FPS` when the container does not say.
    pub fps: f64,
}

/// `tool` (ffmpeg or ffprobe) as found on PATH, or the error saying it is
/// not installed.
pub(super) fn ffmpeg_tool(tool: &'static str) -> Result<PathBuf, CaptureError> {
    program::find(tool).ok_or(CaptureError::FfmpegMissing { tool })
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
    let out = Command::new(ffmpeg_tool("ffprobe")?)
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
    parse_probe(path, &String::from_utf8_lossy(&out.stdout))
}

/// Reads `ffprobe`'s `key=value` lines for `path` (only named in errors) into
/// a [`VideoInfo`]: what [`probe_video`] does with ffprobe's output. A pure
/// function (fuzzed).
pub fn parse_probe(path: &Path, text: &str) -> Result<VideoInfo, CaptureError> {
    let video_err = |message: String| CaptureError::Video {
        path: path.to_path_buf(),
        message,
    };
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
    // Every frame buffer is sized from these: a file claiming more is refused
    // before any is allocated.
    if width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE {
        return Err(video_err(format!(
            "{width}x{height} frames: larger than {MAX_FRAME_SIDE} pixels a side"
        )));
    }
    if rotation.rem_euclid(180) == 90 {
        std::mem::swap(&mut width, &mut height);
    }
    Ok(VideoInfo {
        width,
        height,
        // A rate outside what a capture may have (1/1e300 fps) is not one.
        fps: fps
            .filter(|f| (MIN_REPLAY_FPS..=MAX_FPS).contains(f))
            .unwrap_or(FALLBACK_FPS),
    })
}

/// Decoded frames from an ffmpeg child: `rawvideo` RGB24 of a known size.
/// Shared by video files and network streams.
struct RgbPipe {
    child: ChildStream,
    width: u32,
    height: u32,
}

/// What reading one frame from an [`RgbPipe`] gave.
enum PipeFrame {
    Frame(RgbImage),
    /// ffmpeg closed its output: `bytes` of a partial frame, and its error
    /// (exit status and last stderr lines) if it failed.
    Ended {
        bytes: usize,
        failure: Option<String>,
    },
    /// No byte for the read timeout; ffmpeg has been killed.
    Stalled {
        failure: String,
    },
}

impl RgbPipe {
    fn frame_len(&self) -> usize {
        self.width as usize * self.height as usize * 3
    }

    fn next(&mut self) -> std::io::Result<PipeFrame> {
        let mut buf = vec![0u8; self.frame_len()];
        match self.child.read_frame(&mut buf)? {
            ReadEnd::Full => match RgbImage::from_raw(self.width, self.height, buf) {
                Some(image) => Ok(PipeFrame::Frame(image)),
                None => Err(std::io::Error::other("frame buffer size mismatch")),
            },
            ReadEnd::Eof(bytes) => {
                let status = self.child.finish(EXIT_GRACE);
                let failure = match status {
                    Some(s) if s.success() => None,
                    Some(s) => Some(self.report(&format!("ffmpeg failed ({s})"))),
                    None => Some(self.report("ffmpeg ended")),
                };
                Ok(PipeFrame::Ended { bytes, failure })
            }
            ReadEnd::Stalled(_) => {
                self.child.kill();
                Ok(PipeFrame::Stalled {
                    failure: self.report("no frame from ffmpeg within the read timeout"),
                })
            }
        }
    }

    /// `what`, then ffmpeg's last stderr lines.
    fn report(&mut self, what: &str) -> String {
        match self.child.stderr_tail() {
            tail if tail.is_empty() => what.to_string(),
            tail => format!("{what}: {tail}"),
        }
    }
}

/// `video:PATH`: a video file decoded by an `ffmpeg` child into RGB, every
/// frame once, at its native size. A replay: the media clock runs at the
/// probed frame rate, and [`FrameSource::next_frame`] returns `Ok(None)` at
/// the end of the file.
pub struct VideoSource {
    path: PathBuf,
    info: VideoInfo,
    pipe: RgbPipe,
    seq: u64,
    finished: bool,
}

impl VideoSource {
    /// Probes the file with `ffprobe`, then starts `ffmpeg` decoding it.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let info = probe_video(path)?;
        let mut command = Command::new(ffmpeg_tool("ffmpeg")?);
        command
            .args(["-v", "error", "-nostdin", "-i"])
            .arg(path)
            // Every decoded frame once: the rawvideo muxer would otherwise
            // resample variable-rate clips to their nominal rate, duplicating
            // frames (a 6 s phone clip tagged 120 FPS became 765 frames).
            .args(["-fps_mode", "passthrough"])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
        // A file never stalls: no read timeout.
        let child =
            ChildStream::spawn(command, None).map_err(|e| spawn_error("ffmpeg", path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            pipe: RgbPipe {
                child,
                width: info.width,
                height: info.height,
            },
            info,
            seq: 0,
            finished: false,
        })
    }

    /// Size and frame rate as probed when the file was opened.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }
}

impl FrameSource for VideoSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let video_err = |message: String| CaptureError::Video {
            path: self.path.clone(),
            message,
        };
        let image = match self
            .pipe
            .next()
            .map_err(|e| video_err(format!("reading decoded frames: {e}")))?
        {
            PipeFrame::Frame(image) => image,
            PipeFrame::Ended { bytes, failure } => {
                self.finished = true;
                if let Some(message) = failure {
                    return Err(video_err(message));
                }
                if bytes > 0 {
                    log::warn!(
                        "{}: ignoring a truncated last frame ({bytes} of {} bytes)",
                        self.path.display(),
                        self.pipe.frame_len()
                    );
                }
                return Ok(None);
            }
            PipeFrame::Stalled { failure } => {
                self.finished = true;
                return Err(video_err(failure));
            }
        };
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

/// Seconds added to `capture.stream_timeout_s` for our own read timeout on
/// ffmpeg's output, so that ffmpeg's protocol timeout (with its message)
/// normally fires first and ours only catches a hang ffmpeg does not see.
pub const STREAM_READ_MARGIN_S: f64 = 5.0;

/// The ffmpeg filter giving every stream frame the configured size: scaled
/// to fit, aspect ratio kept, centred on black bars (`pad`).
pub fn fit_filter(width: u32, height: u32) -> String {
    format!(
        "scale={width}:{height}:force_original_aspect_ratio=decrease,\
         pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1"
    )
}

/// The complete ffmpeg command line for a stream URL (without the program).
pub fn stream_args(url: &str, config: &CaptureConfig) -> Vec<String> {
    let timeout = Duration::from_secs_f64(config.stream_timeout_s);
    let mut args: Vec<String> = ["-v", "error", "-nostdin"].map(String::from).to_vec();
    args.extend(ffmpeg_input_args(url, &config.rtsp_transport, timeout));
    args.extend(["-i".to_string(), url.to_string()]);
    args.extend(
        [
            "-an",
            "-sn",
            "-dn",
            "-fps_mode",
            "passthrough",
            "-vf",
            &fit_filter(config.width, config.height),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]
        .map(String::from),
    );
    args
}

/// A network stream (`rtsp://`, `http(s)://` MJPEG or HLS, `tcp://`,
/// `udp://`) decoded by an ffmpeg child into `capture.width` x
/// `capture.height` RGB. Live. Any end of the stream is an error (with
/// ffmpeg's last words), so a reconnecting wrapper can open it again.
pub struct StreamSource {
    /// Redacted: safe for logs.
    shown: String,
    pipe: RgbPipe,
    started: Instant,
    seq: u64,
    fps: u32,
    failed: bool,
}

impl StreamSource {
    /// Starts `ffmpeg` reading `url` with `capture.rtsp_transport` and
    /// `capture.stream_timeout_s`. Returns once the child is started: a
    /// stream that does not answer fails on the first frame read.
    pub fn open(url: &str, config: &CaptureConfig) -> Result<Self, CaptureError> {
        let shown = redact_url(url);
        let mut command = Command::new(ffmpeg_tool("ffmpeg")?);
        command.args(stream_args(url, config));
        let timeout = Duration::from_secs_f64(config.stream_timeout_s + STREAM_READ_MARGIN_S);
        let child = ChildStream::spawn(command, Some(timeout)).map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                CaptureError::FfmpegMissing { tool: "ffmpeg" }
            } else {
                CaptureError::Stream {
                    url: shown.clone(),
                    message: format!("cannot start ffmpeg: {e}"),
                }
            }
        })?;
        log::info!(
            "stream {shown}: reading with ffmpeg as {}x{} RGB (rtsp transport {}, timeout {} s)",
            config.width,
            config.height,
            config.rtsp_transport,
            config.stream_timeout_s
        );
        Ok(Self {
            shown,
            pipe: RgbPipe {
                child,
                width: config.width,
                height: config.height,
            },
            started: Instant::now(),
            seq: 0,
            fps: config.fps,
            failed: false,
        })
    }
}

impl FrameSource for StreamSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let stream_err = |message: String| CaptureError::Stream {
            url: self.shown.clone(),
            message: redact_url(&message),
        };
        if self.failed {
            return Err(stream_err("the stream has ended; open it again".into()));
        }
        let next = self.pipe.next();
        let image = match next {
            Ok(PipeFrame::Frame(image)) => image,
            Ok(PipeFrame::Ended { failure, .. }) => {
                self.failed = true;
                return Err(stream_err(
                    failure.unwrap_or_else(|| "the stream ended (ffmpeg exited)".into()),
                ));
            }
            Ok(PipeFrame::Stalled { failure }) => {
                self.failed = true;
                return Err(stream_err(failure));
            }
            Err(e) => {
                self.failed = true;
                self.pipe.child.kill();
                return Err(stream_err(format!("reading decoded frames: {e}")));
            }
        };
        let frame = Frame::new(self.seq, self.started.elapsed(), image);
        self.seq += 1;
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        format!(
            "stream {} ({}x{})",
            self.shown, self.pipe.width, self.pipe.height
        )
    }

    /// The configured rate: a stream's own rate is not probed.
    fn native_fps(&self) -> Option<f64> {
        Some(self.fps as f64)
    }

    fn is_live(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_command_line() {
        let config = CaptureConfig::default();
        let args = stream_args("rtsp://u:p@cam/live", &config).join(" ");
        assert!(
            args.starts_with("-v error -nostdin -fflags nobuffer -flags low_delay"),
            "{args}"
        );
        assert!(
            args.contains("-rtsp_transport tcp -timeout 10000000 -i rtsp://u:p@cam/live"),
            "{args}"
        );
        assert!(args.contains("-vf scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2,setsar=1"), "{args}");
        assert!(args.ends_with("-f rawvideo -pix_fmt rgb24 -"), "{args}");
    }

    #[test]
    fn probed_sizes_and_rates_are_bounded() {
        let p = Path::new("clip.mp4");
        let info = parse_probe(p, "width=640\nheight=480\navg_frame_rate=1/1e300\n").unwrap();
        assert_eq!(info.fps, FALLBACK_FPS);
        let info = parse_probe(p, "width=64\nheight=48\nrotation=90\nr_frame_rate=25\n").unwrap();
        assert_eq!((info.width, info.height, info.fps), (48, 64, 25.0));
        let e = parse_probe(p, "width=60000\nheight=60000\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("clip.mp4") && e.contains("8192"), "{e}");
        assert!(parse_probe(p, "garbage").is_err());
    }

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

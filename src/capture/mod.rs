//! Layer 1, capture: frame sources behind one trait (camera, Raspberry Pi
//! camera, image folder, video file, network stream, demo clip), with the
//! `[capture]` section. Uses core only; the pipeline runs a [`FrameSource`]
//! on its capture thread.

mod camera;
mod child;
pub mod config;
mod dir;
pub mod formats;
pub mod live;
mod looping;
mod pacing;
mod picam;
mod program;
pub use program::find as find_program;
mod url;
mod video;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

use crate::core::frame::Frame;

pub use camera::CameraSource;
pub use config::CaptureConfig;
pub use dir::{decode_rgb, list_images, load_rgb, DirSource};
pub use pacing::Paced;
pub use picam::PicamSource;
pub use url::{is_stream_url, redact_url, STREAM_SCHEMES};
pub use video::{parse_probe, probe_video, StreamSource, VideoInfo, VideoSource};

/// Folder of the demo clip, relative to the models directory's parent
/// (`models/demo` in a checkout, `/usr/share/vigil/models/demo` installed).
pub const DEMO_SUBDIR: &str = "demo";
/// Native frame rate of the demo clip (all 72 frames of the 30 FPS original).
pub const DEMO_FPS: f64 = 30.0;

/// Why a source could not be opened or stopped delivering frames. The
/// `Display` text is the message shown to the user.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// A `--source` value that does not parse; holds the value, redacted.
    #[error("unknown source `{0}`: use auto, camera[:INDEX], picam[:INDEX], dir:PATH, video:PATH, a stream URL (rtsp://, rtsps://, http://, https://, tcp://, udp://) or demo")]
    BadSpec(String),
    /// A camera was asked for but the binary was built without the
    /// `camera` feature.
    #[error("camera support is not compiled in (build with the `camera` feature)")]
    CameraDisabled,
    /// No video device is attached, or listing the devices failed.
    #[error("no camera found{detail}")]
    NoCamera {
        /// Why, as a suffix starting with a space and in parentheses (empty
        /// when there is nothing to add).
        detail: String,
    },
    /// The camera exists but could not be opened in a format Vigil decodes.
    #[error("cannot open camera {index}: {message}{formats}")]
    CameraOpen {
        /// The camera's index (`camera:INDEX`).
        index: u32,
        /// What the camera driver said.
        message: String,
        /// The formats the camera offers, as a `; the camera offers: ...`
        /// suffix, or empty when none could be listed.
        formats: String,
    },
    /// An open camera failed while reading a frame (unplugged, driver error).
    #[error("camera {index} stopped delivering frames: {message}")]
    CameraLost {
        /// The camera's index (`camera:INDEX`).
        index: u32,
        /// What went wrong.
        message: String,
    },
    /// The `dir:` folder could not be listed.
    #[error("cannot read image folder {path}: {source}")]
    DirRead {
        /// The folder.
        path: PathBuf,
        /// The I/O error from listing it.
        source: std::io::Error,
    },
    /// The `dir:` folder holds no file with an image extension.
    #[error("image folder {path} has no images (.png, .jpg, .jpeg, .pgm, .ppm, .bmp)")]
    DirEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// One image file could not be read or decoded.
    #[error("cannot decode image {path}: {message}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// The read or decode error.
        message: String,
    },
    /// Every image in a `dir:` folder failed to decode, so the source
    /// delivered nothing.
    #[error("no image in {path} could be decoded ({skipped} skipped; see the warnings above)")]
    DirUndecodable {
        /// The folder.
        path: PathBuf,
        /// How many images were skipped as undecodable.
        skipped: u64,
    },
    /// `ffmpeg` or `ffprobe`, needed for video files and streams, is not on
    /// `PATH`.
    #[error("`{tool}` is not installed or not on PATH; it is needed to read video files (Debian: apt-get install ffmpeg)")]
    FfmpegMissing {
        /// The missing program (`ffmpeg` or `ffprobe`).
        tool: &'static str,
    },
    /// A video file could not be probed or decoded.
    #[error("cannot read video {path}: {message}")]
    Video {
        /// The video file.
        path: PathBuf,
        /// What ffmpeg or ffprobe reported.
        message: String,
    },
    /// A network stream; `url` is redacted (no credentials).
    #[error("stream {url}: {message}")]
    Stream {
        /// The stream URL with its credentials redacted.
        url: String,
        /// What went wrong (ffmpeg's report, a timeout, the stream's end).
        message: String,
    },
    /// The Raspberry Pi camera program is missing: neither `rpicam-vid` nor
    /// `libcamera-vid` is on `PATH`, or `capture.picam_program` names a
    /// program that does not exist.
    #[error("neither `rpicam-vid` nor `libcamera-vid` is installed or on PATH; they are needed for the Raspberry Pi camera (Raspberry Pi OS: apt-get install rpicam-apps), or set capture.picam_program")]
    PicamMissing,
    /// The Raspberry Pi camera program failed to start, exited, or sent a
    /// frame that could not be decoded.
    #[error("Raspberry Pi camera {index}: {message}")]
    Picam {
        /// The camera's index (`picam:INDEX`).
        index: u32,
        /// What went wrong.
        message: String,
    },
}

/// A source of frames. `next_frame` returns `Ok(None)` at the end of a replay.
///
/// Not `Send`: a camera handle must stay on the thread that opened it, so the
/// pipeline receives a [`SourceOpener`] and opens the source on its capture thread.
pub trait FrameSource {
    /// The next frame, `Ok(None)` when a replay is over, or an error (a
    /// live source lost, an unreadable file).
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError>;
    /// Human description, for logs.
    fn describe(&self) -> String;
    /// Frames per second of the source, when known.
    fn native_fps(&self) -> Option<f64>;
    /// True for a camera: frames arrive in real time whether or not we keep up.
    fn is_live(&self) -> bool;
    /// The next frame, a change in the source's health, or nothing yet. The
    /// pipeline calls this; a plain source just wraps [`Self::next_frame`].
    fn poll(&mut self) -> Result<Poll, CaptureError> {
        Ok(match self.next_frame()? {
            Some(frame) => Poll::Frame(frame),
            None => Poll::End,
        })
    }
    /// Frames or images the source skipped as undecodable so far (each one
    /// was logged with a warning); 0 for sources that never skip.
    fn skipped(&self) -> u64 {
        0
    }
}

/// What [`FrameSource::poll`] returns.
#[derive(Debug)]
pub enum Poll {
    /// A frame.
    Frame(Frame),
    /// The source was lost or came back.
    Event(SourceEvent),
    /// Nothing yet (a lost live source waiting to retry): poll again.
    Idle,
    /// The replay is over.
    End,
}

/// A change in a live source's health.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// The source stopped delivering (an error, the end of a live stream, the
    /// device gone). `at` is the time on the source's clock.
    Lost {
        /// What went wrong, for logs and the status line.
        reason: String,
        /// When it was noticed, on the source's clock.
        at: Duration,
    },
    /// Frames flow again after `outage`.
    Restored {
        /// How long the source delivered nothing.
        outage: Duration,
        /// When the first frame came back, on the source's clock.
        at: Duration,
    },
}

impl SourceEvent {
    /// When it happened, on the source's clock.
    pub fn at(&self) -> Duration {
        match self {
            SourceEvent::Lost { at, .. } | SourceEvent::Restored { at, .. } => *at,
        }
    }
}

impl FrameSource for Box<dyn FrameSource> {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        (**self).next_frame()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn native_fps(&self) -> Option<f64> {
        (**self).native_fps()
    }
    fn is_live(&self) -> bool {
        (**self).is_live()
    }
    fn poll(&mut self) -> Result<Poll, CaptureError> {
        (**self).poll()
    }
    fn skipped(&self) -> u64 {
        (**self).skipped()
    }
}

/// A parsed `--source` value. `Debug` and `Display` redact a URL's credentials.
#[derive(Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// The first camera if one is attached, else the demo clip.
    Auto,
    /// A USB or built-in camera by its index (`camera[:INDEX]`, index 0 by
    /// default), e.g. `/dev/video0`.
    Camera(u32),
    /// A Raspberry Pi camera module through `rpicam-vid` (`picam[:INDEX]`).
    Picam(u32),
    /// A folder of still images played in name order (`dir:PATH`).
    Dir(PathBuf),
    /// A video file decoded by ffmpeg (`video:PATH`).
    Video(PathBuf),
    /// A network stream read by ffmpeg (`rtsp://...`, or `video:URL`). May
    /// hold credentials: print it through `Display`, which redacts them.
    Url(String),
    /// The bundled demo clip (`demo`): the images in `models/demo`, played
    /// at [`DEMO_FPS`].
    Demo,
}

impl SourceSpec {
    /// Parses a `--source` value: `auto`, `camera[:INDEX]`, `picam[:INDEX]`,
    /// `dir:PATH`, `video:PATH`, a stream URL (bare or as `video:URL`) or
    /// `demo`. The error names the value with its credentials redacted.
    pub fn parse(spec: &str) -> Result<Self, CaptureError> {
        let bad = || CaptureError::BadSpec(redact_url(spec));
        let (scheme, rest) = match spec.split_once(':') {
            Some((s, r)) => (s, Some(r)),
            None => (spec, None),
        };
        match (scheme, rest) {
            ("auto", None) => Ok(SourceSpec::Auto),
            ("camera", None) => Ok(SourceSpec::Camera(0)),
            ("camera", Some(i)) => i.parse().map(SourceSpec::Camera).map_err(|_| bad()),
            ("picam", None) => Ok(SourceSpec::Picam(0)),
            ("picam", Some(i)) => i.parse().map(SourceSpec::Picam).map_err(|_| bad()),
            ("dir", Some(p)) if !p.is_empty() => Ok(SourceSpec::Dir(PathBuf::from(p))),
            ("video", Some(p)) if is_stream_url(p) => Ok(SourceSpec::Url(p.to_string())),
            (s, Some(_)) if STREAM_SCHEMES.contains(&s) => {
                if is_stream_url(spec) {
                    Ok(SourceSpec::Url(spec.to_string()))
                } else {
                    Err(bad())
                }
            }
            ("video", Some(p)) if !p.is_empty() => Ok(SourceSpec::Video(PathBuf::from(p))),
            ("demo", None) => Ok(SourceSpec::Demo),
            _ => Err(bad()),
        }
    }

    /// `Auto` resolved: the first camera when one is attached, else the demo.
    pub fn resolve(self) -> Self {
        match self {
            SourceSpec::Auto if camera::camera_available() => SourceSpec::Camera(0),
            SourceSpec::Auto => {
                log::info!("no camera found: playing the demo clip");
                SourceSpec::Demo
            }
            other => other,
        }
    }

    /// True unless the frames come live from a camera or a stream (an
    /// unresolved `Auto` may).
    pub fn is_replay(&self) -> bool {
        !matches!(
            self,
            SourceSpec::Camera(_) | SourceSpec::Picam(_) | SourceSpec::Url(_) | SourceSpec::Auto
        )
    }
}

impl fmt::Debug for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Auto => f.write_str("Auto"),
            SourceSpec::Camera(i) => f.debug_tuple("Camera").field(i).finish(),
            SourceSpec::Picam(i) => f.debug_tuple("Picam").field(i).finish(),
            SourceSpec::Dir(p) => f.debug_tuple("Dir").field(p).finish(),
            SourceSpec::Video(p) => f.debug_tuple("Video").field(p).finish(),
            SourceSpec::Url(u) => f.debug_tuple("Url").field(&redact_url(u)).finish(),
            SourceSpec::Demo => f.write_str("Demo"),
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceSpec::Auto => f.write_str("auto"),
            SourceSpec::Camera(i) => write!(f, "camera:{i}"),
            SourceSpec::Picam(i) => write!(f, "picam:{i}"),
            SourceSpec::Url(u) => f.write_str(&redact_url(u)),
            SourceSpec::Dir(p) => write!(f, "dir:{}", p.display()),
            SourceSpec::Video(p) => write!(f, "video:{}", p.display()),
            SourceSpec::Demo => f.write_str("demo"),
        }
    }
}

/// The demo clip's folder beside the given models directory.
pub fn demo_dir(models_dir: &Path) -> PathBuf {
    models_dir.join(DEMO_SUBDIR)
}

/// Opens a source on the thread that calls it.
pub type SourceOpener = Box<dyn FnOnce() -> Result<Box<dyn FrameSource>, CaptureError> + Send>;

/// A [`SourceOpener`] for `spec`, to be called on the capture thread.
pub fn opener(spec: &SourceSpec, config: &CaptureConfig, models_dir: &Path) -> SourceOpener {
    let (spec, config, models_dir) = (spec.clone(), config.clone(), models_dir.to_path_buf());
    Box::new(move || open(&spec, &config, &models_dir))
}

/// The cap on the delay between two attempts to reopen a lost live source.
fn retry_delay(config: &CaptureConfig) -> Duration {
    Duration::from_secs_f64(config.retry_max_s.max(0.01))
}

/// Opens a source. Replays are paced at their native FPS when `config.realtime`.
/// Repeatable: after a failure (or after dropping the source, which ends any
/// child process) the same call opens it afresh.
pub fn open(
    spec: &SourceSpec,
    config: &CaptureConfig,
    models_dir: &Path,
) -> Result<Box<dyn FrameSource>, CaptureError> {
    let source: Box<dyn FrameSource> = match &spec.clone().resolve() {
        SourceSpec::Auto => return Err(CaptureError::BadSpec("auto".into())),
        SourceSpec::Camera(index) => {
            let (index, c) = (*index, config.clone());
            let reopen: live::Reopen = Box::new(move || {
                Ok(Box::new(CameraSource::open(index, &c)?) as Box<dyn FrameSource>)
            });
            Box::new(live::Resilient::open(reopen, retry_delay(config), false)?)
        }
        // A network camera may not be up yet when Vigil starts: its first
        // failure is a loss too, retried like any later one.
        SourceSpec::Url(url) => {
            let (url, c) = (url.clone(), config.clone());
            let reopen: live::Reopen = Box::new(move || {
                Ok(Box::new(StreamSource::open(&url, &c)?) as Box<dyn FrameSource>)
            });
            Box::new(live::Resilient::open(reopen, retry_delay(config), true)?)
        }
        SourceSpec::Picam(index) => {
            let (index, c) = (*index, config.clone());
            let reopen: live::Reopen = Box::new(move || {
                Ok(Box::new(PicamSource::open(index, &c)?) as Box<dyn FrameSource>)
            });
            Box::new(live::Resilient::open(reopen, retry_delay(config), false)?)
        }
        replay if config.loop_replay => {
            let (replay, config, models_dir) =
                (replay.clone(), config.clone(), models_dir.to_path_buf());
            Box::new(looping::Looped::open(Box::new(move || {
                open_replay(&replay, &config, &models_dir)
            }))?)
        }
        replay => open_replay(replay, config, models_dir)?,
    };
    if config.realtime && !source.is_live() {
        Ok(Box::new(Paced::new(source)))
    } else {
        Ok(source)
    }
}

/// Opens a replay source (folder, video, demo) once.
fn open_replay(
    spec: &SourceSpec,
    config: &CaptureConfig,
    models_dir: &Path,
) -> Result<Box<dyn FrameSource>, CaptureError> {
    Ok(match spec {
        SourceSpec::Dir(path) => Box::new(DirSource::open(path, config.replay_fps)?),
        SourceSpec::Video(path) => Box::new(VideoSource::open(path)?),
        SourceSpec::Demo => Box::new(DirSource::open(&demo_dir(models_dir), DEMO_FPS)?),
        other => return Err(CaptureError::BadSpec(other.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(SourceSpec::parse("auto").unwrap(), SourceSpec::Auto);
        assert_eq!(SourceSpec::parse("camera").unwrap(), SourceSpec::Camera(0));
        assert_eq!(
            SourceSpec::parse("camera:2").unwrap(),
            SourceSpec::Camera(2)
        );
        assert_eq!(
            SourceSpec::parse("dir:a/b").unwrap(),
            SourceSpec::Dir("a/b".into())
        );
        assert_eq!(
            SourceSpec::parse("video:c.mp4").unwrap(),
            SourceSpec::Video("c.mp4".into())
        );
        assert_eq!(SourceSpec::parse("demo").unwrap(), SourceSpec::Demo);
        assert_eq!(SourceSpec::parse("picam").unwrap(), SourceSpec::Picam(0));
        assert_eq!(SourceSpec::parse("picam:1").unwrap(), SourceSpec::Picam(1));
        for url in [
            "rtsp://host:8554/cam",
            "rtsps://user:pass@host/cam",
            "http://x",
            "https://cam.local/live.m3u8",
            "tcp://10.0.0.2:5000",
            "udp://0.0.0.0:5000",
        ] {
            assert_eq!(
                SourceSpec::parse(url).unwrap(),
                SourceSpec::Url(url.into()),
                "{url}"
            );
            assert_eq!(
                SourceSpec::parse(&format!("video:{url}")).unwrap(),
                SourceSpec::Url(url.into()),
                "video:{url}"
            );
        }
        // A file path stays a file.
        assert_eq!(
            SourceSpec::parse("video:rtsp.mp4").unwrap(),
            SourceSpec::Video("rtsp.mp4".into())
        );
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in [
            "",
            "cam",
            "camera:x",
            "dir:",
            "video",
            "demo:1",
            "picam:x",
            "picam:-1",
            "http:x",
            "rtsp://",
            "rtsp:///path",
            "ftp://host/x",
            "https://host/a b",
        ] {
            assert!(SourceSpec::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn live_specs_and_redacted_display() {
        let url = SourceSpec::parse("rtsp://admin:s3cret@cam:554/live").unwrap();
        assert!(!url.is_replay());
        assert!(!SourceSpec::Picam(0).is_replay());
        assert!(SourceSpec::Demo.is_replay());
        assert!(!format!("{url:?}").contains("s3cret"));
        let shown = url.to_string();
        assert_eq!(shown, "rtsp://***@cam:554/live");
        assert_eq!(SourceSpec::Picam(2).to_string(), "picam:2");
        // Display re-parses to the same kind of source.
        assert!(matches!(SourceSpec::parse(&shown), Ok(SourceSpec::Url(_))));
        // A rejected spec does not echo a password either.
        let err = SourceSpec::parse("ftp://admin:s3cret@cam/x").unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
}

//! `picam[:INDEX]`: a Raspberry Pi camera module (libcamera) through a
//! `rpicam-vid` child process (`libcamera-vid` on older systems) writing raw
//! I420 frames to its stdout:
//!
//! `rpicam-vid -t 0 -n --camera INDEX --width W --height H --framerate F --codec yuv420 -o -`
//!
//! Layout of that output: per frame, the Y plane, then U, then V (4:2:0),
//! each row padded to the ISP's stride, which is the width rounded up to 64
//! bytes (chroma rows: half of it). rpicam-vid writes the padding as is (see
//! raspberrypi/rpicam-apps issue #188: 780 wide came out as 832). Vigil asks
//! for a width that is a multiple of [`PICAM_WIDTH_ALIGN`] (rounding
//! `capture.width` up) and an even height, so rows carry no padding; the
//! reader still reads the 64-byte-aligned layout, which is the same then.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::child::{ChildStream, ReadEnd, EXIT_GRACE};
use super::formats::{decode_i420, I420Layout};
use super::program;
use super::{CaptureConfig, CaptureError, FrameSource};
use crate::core::frame::Frame;

/// Programs tried, in order, when `capture.picam_program` is empty.
pub const PICAM_PROGRAMS: [&str; 2] = ["rpicam-vid", "libcamera-vid"];
/// Row alignment of rpicam-vid's yuv420 output (bytes of luma).
pub const PICAM_WIDTH_ALIGN: u32 = 64;

/// The program to run: `capture.picam_program`, else the first of
/// [`PICAM_PROGRAMS`] on PATH.
fn picam_program(config: &CaptureConfig) -> Result<PathBuf, CaptureError> {
    if config.picam_program.is_empty() {
        program::find_first(&PICAM_PROGRAMS).ok_or(CaptureError::PicamMissing)
    } else {
        program::find(&config.picam_program).ok_or(CaptureError::PicamMissing)
    }
}

/// The frame size asked of the camera: width rounded up to
/// [`PICAM_WIDTH_ALIGN`], height rounded up to even.
pub fn picam_size(width: u32, height: u32) -> (u32, u32) {
    let w = width.div_ceil(PICAM_WIDTH_ALIGN).max(1) * PICAM_WIDTH_ALIGN;
    (w, height.div_ceil(2).max(1) * 2)
}

/// Arguments of the capture program (rpicam-vid and libcamera-vid share them).
pub fn picam_args(index: u32, width: u32, height: u32, fps: u32) -> Vec<String> {
    let mut args: Vec<String> = ["-t", "0", "-n", "--camera"].map(String::from).to_vec();
    args.push(index.to_string());
    for (flag, value) in [
        ("--width", width),
        ("--height", height),
        ("--framerate", fps),
    ] {
        args.push(flag.into());
        args.push(value.to_string());
    }
    args.extend(["--codec", "yuv420", "-o", "-"].map(String::from));
    args
}

/// `picam[:INDEX]`: a live Raspberry Pi camera module read from a
/// `rpicam-vid` (or `libcamera-vid`) child process as I420 frames.
pub struct PicamSource {
    index: u32,
    program: PathBuf,
    child: ChildStream,
    layout: I420Layout,
    fps: u32,
    started: Instant,
    seq: u64,
    failed: bool,
}

impl PicamSource {
    /// Starts the camera program for camera `index` at `capture.width`
    /// (rounded up to a multiple of `PICAM_WIDTH_ALIGN`) x `capture.height`
    /// (rounded up to even) pixels and `capture.fps`.
    pub fn open(index: u32, config: &CaptureConfig) -> Result<Self, CaptureError> {
        let program = picam_program(config)?;
        let (width, height) = picam_size(config.width, config.height);
        if (width, height) != (config.width, config.height) {
            log::info!(
                "picam {index}: asking for {width}x{height} (capture.width rounded up to a multiple of {PICAM_WIDTH_ALIGN}, height to even: unpadded rows)"
            );
        }
        let mut command = Command::new(&program);
        command.args(picam_args(index, width, height, config.fps));
        let timeout = Duration::from_secs_f64(config.stream_timeout_s);
        let child = ChildStream::spawn(command, Some(timeout)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CaptureError::PicamMissing
            } else {
                CaptureError::Picam {
                    index,
                    message: format!("cannot start {}: {e}", program.display()),
                }
            }
        })?;
        log::info!(
            "picam {index}: {} at {width}x{height}@{} I420",
            program.display(),
            config.fps
        );
        Ok(Self {
            index,
            program,
            child,
            layout: I420Layout::aligned(width, height, PICAM_WIDTH_ALIGN as usize),
            fps: config.fps,
            started: Instant::now(),
            seq: 0,
            failed: false,
        })
    }

    fn name(&self) -> String {
        Path::new(&self.program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.display().to_string())
    }

    fn fail(&mut self, what: String) -> CaptureError {
        self.failed = true;
        let tail = self.child.stderr_tail();
        CaptureError::Picam {
            index: self.index,
            message: if tail.is_empty() {
                what
            } else {
                format!("{what}: {tail}")
            },
        }
    }
}

impl FrameSource for PicamSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        if self.failed {
            return Err(CaptureError::Picam {
                index: self.index,
                message: "the camera process has ended; open it again".into(),
            });
        }
        let Some(len) = self.layout.frame_len() else {
            let (w, h) = (self.layout.width, self.layout.height);
            return Err(self.fail(format!("{w}x{h} is not a valid frame size")));
        };
        let mut buf = vec![0u8; len];
        let end = self.child.read_frame(&mut buf);
        match end {
            Ok(ReadEnd::Full) => {}
            Ok(ReadEnd::Eof(bytes)) => {
                let status = self
                    .child
                    .finish(EXIT_GRACE)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "unknown status".into());
                let what = format!(
                    "{} exited ({status}) after {} frames{}",
                    self.name(),
                    self.seq,
                    if bytes > 0 {
                        format!(" and {bytes} of {} bytes of the next", buf.len())
                    } else {
                        String::new()
                    }
                );
                return Err(self.fail(what));
            }
            Ok(ReadEnd::Stalled(bytes)) => {
                self.child.kill();
                let what = format!(
                    "{} sent nothing for the read timeout (capture.stream_timeout_s) after {} frames and {bytes} bytes",
                    self.name(),
                    self.seq
                );
                return Err(self.fail(what));
            }
            Err(e) => {
                self.child.kill();
                return Err(self.fail(format!("reading frames: {e}")));
            }
        }
        let image = decode_i420(&self.layout, &buf).map_err(|e| CaptureError::Picam {
            index: self.index,
            message: e.to_string(),
        })?;
        let frame = Frame::new(self.seq, self.started.elapsed(), image);
        self.seq += 1;
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        format!(
            "picam {} ({}, {}x{}@{} I420)",
            self.index,
            self.name(),
            self.layout.width,
            self.layout.height,
            self.fps
        )
    }

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
    fn rounds_to_unpadded_sizes() {
        assert_eq!(picam_size(640, 480), (640, 480));
        assert_eq!(picam_size(600, 451), (640, 452));
        assert_eq!(picam_size(1920, 1080), (1920, 1080));
        assert_eq!(picam_size(1, 1), (64, 2));
    }

    #[test]
    fn command_line() {
        assert_eq!(
            picam_args(1, 640, 480, 30).join(" "),
            "-t 0 -n --camera 1 --width 640 --height 480 --framerate 30 --codec yuv420 -o -"
        );
    }

    #[test]
    fn missing_program_is_a_clear_error() {
        let config = CaptureConfig {
            picam_program: "/nonexistent/rpicam-vid".into(),
            ..Default::default()
        };
        let err = PicamSource::open(0, &config).err().unwrap();
        assert!(matches!(err, CaptureError::PicamMissing), "{err}");
        assert!(err.to_string().contains("rpicam-vid"), "{err}");
    }
}

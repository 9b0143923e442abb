//! `camera[:INDEX]`: a V4L2 camera through nokhwa.
//!
//! Vigil negotiates the format itself: it lists what the camera offers,
//! scores each offer against the configured size and rate
//! ([`super::formats::choose`]: MJPEG preferred, then YUYV, NV12, RGB, BGR,
//! GREY), asks for the winner exactly and decodes its frames itself. If the
//! camera cannot be opened, the error lists what it offers. An undecodable
//! frame is skipped (counted); a camera that stops delivering frames, or
//! sends [`MAX_CONSECUTIVE_BAD_FRAMES`] bad ones in a row, is an error.

use super::{CaptureError, FrameSource};
#[cfg(feature = "camera")]
use crate::capture::CaptureConfig;

#[cfg(feature = "camera")]
mod imp {
    use std::time::Instant;

    use nokhwa::utils::{
        ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
        Resolution,
    };
    use nokhwa::Camera;

    use super::{CameraConfigView, CaptureError, MAX_CONSECUTIVE_BAD_FRAMES};
    use crate::capture::formats::{self, FormatOffer, PixelFormat, Wanted};
    use crate::core::frame::Frame;

    /// Every frame format nokhwa knows: Vigil decodes them all itself.
    const ALL_FORMATS: [FrameFormat; 6] = [
        FrameFormat::MJPEG,
        FrameFormat::YUYV,
        FrameFormat::NV12,
        FrameFormat::RAWRGB,
        FrameFormat::RAWBGR,
        FrameFormat::GRAY,
    ];

    fn pixel_format(f: FrameFormat) -> PixelFormat {
        match f {
            FrameFormat::MJPEG => PixelFormat::Mjpeg,
            FrameFormat::YUYV => PixelFormat::Yuyv,
            FrameFormat::NV12 => PixelFormat::Nv12,
            FrameFormat::RAWRGB => PixelFormat::Rgb,
            FrameFormat::RAWBGR => PixelFormat::Bgr,
            FrameFormat::GRAY => PixelFormat::Grey,
        }
    }

    fn frame_format(f: PixelFormat) -> Option<FrameFormat> {
        ALL_FORMATS.into_iter().find(|&ff| pixel_format(ff) == f)
    }

    fn offer(f: &CameraFormat) -> FormatOffer {
        FormatOffer::new(
            f.width(),
            f.height(),
            f.frame_rate(),
            pixel_format(f.format()),
        )
    }

    pub struct Inner {
        camera: Camera,
        index: u32,
        started: Instant,
        seq: u64,
        description: String,
        fps: u32,
        skipped: u64,
        bad_in_a_row: u32,
    }

    pub fn open(index: u32, cfg: CameraConfigView) -> Result<Inner, CaptureError> {
        let devices = nokhwa::query(ApiBackend::Auto).map_err(|e| CaptureError::NoCamera {
            detail: format!(" (listing cameras failed: {e})"),
        })?;
        if devices.is_empty() {
            return Err(CaptureError::NoCamera {
                detail: " (no video devices; is a camera attached and is this user in the `video` group?)"
                    .into(),
            });
        }
        let open_err = |message: String, offers: &[FormatOffer]| CaptureError::CameraOpen {
            index,
            message,
            formats: if offers.is_empty() {
                String::new()
            } else {
                format!("; the camera offers: {}", formats::list_offers(offers))
            },
        };
        // Open without constraining the format (the first one offered that
        // Vigil decodes), to list the offers; then ask for the best exactly.
        let any = RequestedFormat::with_formats(RequestedFormatType::None, &ALL_FORMATS);
        let mut camera = Camera::new(CameraIndex::Index(index), any).map_err(|e| {
            open_err(
                format!("{e} (does it offer any of MJPEG, YUYV, NV12, RGB3, BGR3, GREY?)"),
                &[],
            )
        })?;
        let offers: Vec<FormatOffer> = camera
            .compatible_camera_formats()
            .map_err(|e| open_err(format!("cannot list its formats: {e}"), &[]))?
            .iter()
            .map(offer)
            .collect();
        let wanted = Wanted {
            width: cfg.width,
            height: cfg.height,
            fps: cfg.fps,
        };
        let best = formats::choose(&offers, &wanted).ok_or_else(|| {
            open_err(
                "it offers no format Vigil can decode (MJPEG, YUYV, NV12, RGB3, BGR3, GREY)".into(),
                &offers,
            )
        })?;
        let exact = frame_format(best.format)
            .map(|ff| CameraFormat::new(Resolution::new(best.width, best.height), ff, best.fps))
            .ok_or_else(|| open_err(format!("internal: no V4L2 format for {best}"), &offers))?;
        camera
            .set_camera_requset(RequestedFormat::with_formats(
                RequestedFormatType::Exact(exact),
                &ALL_FORMATS,
            ))
            .map_err(|e| open_err(format!("cannot set {best}: {e}"), &offers))?;
        log::info!(
            "camera {index}: negotiated {best} (wanted {}x{}@{}; offered: {})",
            cfg.width,
            cfg.height,
            cfg.fps,
            formats::list_offers(&offers)
        );
        camera
            .open_stream()
            .map_err(|e| open_err(e.to_string(), &offers))?;
        let format = camera.camera_format();
        let description = format!(
            "camera {index}: {} ({})",
            camera.info().human_name(),
            offer(&format)
        );
        log::info!("opened {description}");
        Ok(Inner {
            camera,
            index,
            started: Instant::now(),
            seq: 0,
            description,
            fps: format.frame_rate(),
            skipped: 0,
            bad_in_a_row: 0,
        })
    }

    impl Inner {
        pub fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
            loop {
                let buffer = self.camera.frame().map_err(|e| CaptureError::CameraLost {
                    index: self.index,
                    message: e.to_string(),
                })?;
                let res = buffer.resolution();
                let format = pixel_format(buffer.source_frame_format());
                match formats::decode(format, res.width(), res.height(), buffer.buffer()) {
                    Ok(image) => {
                        self.bad_in_a_row = 0;
                        let frame = Frame::new(self.seq, self.started.elapsed(), image);
                        self.seq += 1;
                        return Ok(Some(frame));
                    }
                    Err(e) => {
                        self.skipped += 1;
                        self.bad_in_a_row += 1;
                        if self.bad_in_a_row >= MAX_CONSECUTIVE_BAD_FRAMES {
                            return Err(CaptureError::CameraLost {
                                index: self.index,
                                message: format!(
                                    "{} undecodable frames in a row, the last: {e}",
                                    self.bad_in_a_row
                                ),
                            });
                        }
                        log::warn!("camera {}: skipping a frame: {e}", self.index);
                    }
                }
            }
        }

        pub fn describe(&self) -> String {
            self.description.clone()
        }

        pub fn fps(&self) -> f64 {
            self.fps as f64
        }

        pub fn skipped(&self) -> u64 {
            self.skipped
        }
    }

    impl Drop for Inner {
        fn drop(&mut self) {
            let _ = self.camera.stop_stream();
        }
    }
}

/// Undecodable camera frames in a row that end the run (a few corrupt MJPEG
/// frames are skipped; a camera sending nothing usable is lost).
#[cfg_attr(not(feature = "camera"), allow(dead_code))]
pub const MAX_CONSECUTIVE_BAD_FRAMES: u32 = 30;

/// True when at least one camera is attached (and readable by this user).
pub fn camera_available() -> bool {
    #[cfg(feature = "camera")]
    {
        nokhwa::query(nokhwa::utils::ApiBackend::Auto)
            .map(|devices| !devices.is_empty())
            .unwrap_or(false)
    }
    #[cfg(not(feature = "camera"))]
    {
        false
    }
}

/// The parts of the capture config the camera needs.
#[cfg(feature = "camera")]
#[derive(Debug, Clone, Copy)]
struct CameraConfigView {
    width: u32,
    height: u32,
    fps: u32,
}

/// `camera[:INDEX]`: a live V4L2 camera, opened in the offer that best
/// matches `capture.width`, `capture.height` and `capture.fps`. Without the
/// `camera` feature it cannot be built ([`CameraSource::open`] fails with
/// [`CaptureError::CameraDisabled`]).
pub struct CameraSource {
    #[cfg(feature = "camera")]
    inner: imp::Inner,
    #[cfg(not(feature = "camera"))]
    _never: std::convert::Infallible,
}

impl CameraSource {
    /// Opens camera `index` (nokhwa's numbering: `/dev/videoINDEX` on Linux),
    /// negotiating the format; the error lists the formats the camera offers.
    #[cfg(feature = "camera")]
    pub fn open(index: u32, config: &CaptureConfig) -> Result<Self, CaptureError> {
        let view = CameraConfigView {
            width: config.width,
            height: config.height,
            fps: config.fps,
        };
        Ok(Self {
            inner: imp::open(index, view)?,
        })
    }

    /// Always [`CaptureError::CameraDisabled`]: built without the `camera`
    /// feature.
    #[cfg(not(feature = "camera"))]
    pub fn open(
        _index: u32,
        _config: &crate::capture::CaptureConfig,
    ) -> Result<Self, CaptureError> {
        Err(CaptureError::CameraDisabled)
    }
}

impl FrameSource for CameraSource {
    fn next_frame(&mut self) -> Result<Option<crate::core::frame::Frame>, CaptureError> {
        #[cfg(feature = "camera")]
        {
            self.inner.next_frame()
        }
        #[cfg(not(feature = "camera"))]
        {
            match self._never {}
        }
    }

    fn describe(&self) -> String {
        #[cfg(feature = "camera")]
        {
            self.inner.describe()
        }
        #[cfg(not(feature = "camera"))]
        {
            match self._never {}
        }
    }

    fn native_fps(&self) -> Option<f64> {
        #[cfg(feature = "camera")]
        {
            Some(self.inner.fps())
        }
        #[cfg(not(feature = "camera"))]
        {
            match self._never {}
        }
    }

    fn is_live(&self) -> bool {
        true
    }

    fn skipped(&self) -> u64 {
        #[cfg(feature = "camera")]
        {
            self.inner.skipped()
        }
        #[cfg(not(feature = "camera"))]
        {
            match self._never {}
        }
    }
}

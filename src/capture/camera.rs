//! `camera[:INDEX]`: a V4L2 camera through nokhwa.
//!
//! The camera is asked for the supported format closest to the configured
//! resolution and frame rate; if it cannot be opened, the error lists what it
//! offers. A camera that stops delivering frames ends the run with an error.

use super::{CaptureError, FrameSource};
#[cfg(feature = "camera")]
use crate::capture::CaptureConfig;

#[cfg(feature = "camera")]
mod imp {
    use std::time::Instant;

    use nokhwa::pixel_format::RgbFormat;
    use nokhwa::utils::{
        ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType,
        Resolution,
    };
    use nokhwa::Camera;

    use super::{CameraConfigView, CaptureError};
    use crate::core::frame::Frame;

    pub struct Inner {
        camera: Camera,
        index: u32,
        started: Instant,
        seq: u64,
        description: String,
        fps: u32,
    }

    fn list_formats(index: u32) -> String {
        let req = RequestedFormat::new::<RgbFormat>(RequestedFormatType::None);
        match Camera::new(CameraIndex::Index(index), req) {
            Ok(mut cam) => match cam.compatible_camera_formats() {
                Ok(formats) if !formats.is_empty() => {
                    let list: Vec<String> = formats.iter().map(|f| f.to_string()).collect();
                    format!("; the camera offers: {}", list.join(", "))
                }
                Ok(_) => "; the camera reports no formats".into(),
                Err(e) => format!("; its formats could not be listed: {e}"),
            },
            Err(_) => String::new(),
        }
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
        let wanted = CameraFormat::new(
            Resolution::new(cfg.width, cfg.height),
            FrameFormat::MJPEG,
            cfg.fps,
        );
        let req = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let open_err = |message: String| CaptureError::CameraOpen {
            index,
            message,
            formats: list_formats(index),
        };
        let mut camera =
            Camera::new(CameraIndex::Index(index), req).map_err(|e| open_err(e.to_string()))?;
        camera.open_stream().map_err(|e| open_err(e.to_string()))?;
        let format = camera.camera_format();
        let description = format!("camera {index}: {} ({format})", camera.info().human_name());
        log::info!("opened {description}");
        Ok(Inner {
            camera,
            index,
            started: Instant::now(),
            seq: 0,
            description,
            fps: format.frame_rate(),
        })
    }

    impl Inner {
        pub fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
            let lost = |message: String| CaptureError::CameraLost {
                index: self.index,
                message,
            };
            let buffer = self.camera.frame().map_err(|e| lost(e.to_string()))?;
            let decoded = buffer
                .decode_image::<RgbFormat>()
                .map_err(|e| lost(format!("undecodable frame: {e}")))?;
            let (w, h) = (decoded.width(), decoded.height());
            let image = image::RgbImage::from_raw(w, h, decoded.into_raw())
                .ok_or_else(|| lost("frame buffer size mismatch".into()))?;
            let frame = Frame::new(self.seq, self.started.elapsed(), image);
            self.seq += 1;
            Ok(Some(frame))
        }

        pub fn describe(&self) -> String {
            self.description.clone()
        }

        pub fn fps(&self) -> f64 {
            self.fps as f64
        }
    }

    impl Drop for Inner {
        fn drop(&mut self) {
            let _ = self.camera.stop_stream();
        }
    }
}

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

pub struct CameraSource {
    #[cfg(feature = "camera")]
    inner: imp::Inner,
    #[cfg(not(feature = "camera"))]
    _never: std::convert::Infallible,
}

impl CameraSource {
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
}

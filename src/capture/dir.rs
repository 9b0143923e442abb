//! `dir:PATH`: the images of a folder, in name order. An image that does not
//! decode (truncated, not an image) is skipped with a warning and counted
//! ([`FrameSource::skipped`]); a folder where none decodes is an error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::formats::{image_limits, jpeg_is_complete};
use super::{CaptureError, FrameSource};
use crate::core::frame::Frame;

/// Largest image file read (bytes), checked before it is read.
pub const MAX_IMAGE_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Longest side of an image decoded (pixels), checked against its header
/// before decoding (see [`super::formats::image_limits`]).
pub const MAX_IMAGE_SIDE: u32 = super::config::MAX_FRAME_SIDE;

/// File extensions read as images (lower case).
pub const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "pgm", "ppm", "bmp"];

/// Lists the images of `dir` in name order.
pub fn list_images(dir: &Path) -> Result<Vec<PathBuf>, CaptureError> {
    let entries = std::fs::read_dir(dir).map_err(|source| CaptureError::DirRead {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CaptureError::DirRead {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
            .unwrap_or(false);
        if is_image && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Decodes one image file to RGB, with an error naming the file. A truncated
/// JPEG is an error (the decoder alone would pad it with grey rows).
pub fn load_rgb(path: &Path) -> Result<image::RgbImage, CaptureError> {
    let image_err = |message: String| CaptureError::Image {
        path: path.to_path_buf(),
        message,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_IMAGE_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| image_err(e.to_string()))?;
    if bytes.len() as u64 > MAX_IMAGE_FILE_BYTES {
        return Err(image_err(format!(
            "larger than {} MiB",
            MAX_IMAGE_FILE_BYTES / (1024 * 1024)
        )));
    }
    decode_rgb(path, &bytes)
}

/// Decodes an image file's bytes to RGB (`path` only names it in errors):
/// what [`load_rgb`] does once the file is read. A pure function (fuzzed).
pub fn decode_rgb(path: &Path, bytes: &[u8]) -> Result<image::RgbImage, CaptureError> {
    let image_err = |message: String| CaptureError::Image {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| image_err(e.to_string()))?;
    // The header's size is checked before the decoder allocates: a small
    // file claiming a huge picture is refused, not decoded.
    reader.limits(image_limits(MAX_IMAGE_SIDE, MAX_IMAGE_SIDE));
    if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_complete(bytes) {
        return Err(image_err(
            "truncated JPEG (no end of image after the last scan)".into(),
        ));
    }
    let img = reader.decode().map_err(|e| image_err(e.to_string()))?;
    Ok(img.into_rgb8())
}

/// `dir:PATH`: the images of a folder as frames, in name order, on a media
/// clock of a fixed frame rate. A replay: [`FrameSource::next_frame`] returns
/// `Ok(None)` after the last image.
pub struct DirSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    fps: f64,
    /// Frames delivered so far (the next frame's `seq`).
    delivered: u64,
    skipped: u64,
}

impl DirSource {
    /// Opens a folder; `fps` sets the media clock (frame `i` is at `i / fps`).
    pub fn open(dir: &Path, fps: f64) -> Result<Self, CaptureError> {
        let files = list_images(dir)?;
        if files.is_empty() {
            return Err(CaptureError::DirEmpty {
                path: dir.to_path_buf(),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            files,
            next: 0,
            fps,
            delivered: 0,
            skipped: 0,
        })
    }

    /// Number of image files found (undecodable ones included).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the folder holds no image file (never, for a source that
    /// [`open`](Self::open) returned).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for DirSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        loop {
            let Some(path) = self.files.get(self.next) else {
                if self.delivered == 0 {
                    return Err(CaptureError::DirUndecodable {
                        path: self.dir.clone(),
                        skipped: self.skipped,
                    });
                }
                return Ok(None);
            };
            self.next += 1;
            match load_rgb(path) {
                Ok(image) => {
                    // Consecutive seq and clock over the images that decode.
                    let seq = self.delivered;
                    self.delivered += 1;
                    let media_time = Duration::from_secs_f64(seq as f64 / self.fps);
                    return Ok(Some(Frame::new(seq, media_time, image)));
                }
                Err(e) => {
                    self.skipped += 1;
                    log::warn!("skipping an image: {e}");
                }
            }
        }
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }

    fn describe(&self) -> String {
        format!("{} images in {}", self.files.len(), self.dir.display())
    }

    fn native_fps(&self) -> Option<f64> {
        Some(self.fps)
    }

    fn is_live(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_whose_header_claims_a_huge_picture_is_refused_before_decoding() {
        // Found by the dir_image fuzz target: a 2.9 KB PNG claiming 160 x
        // 524378 pixels made the decoder allocate 251 MB before failing.
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bomb = std::fs::read(repo.join("tests/fixtures/fuzz/dir_image/crash-5f44e3a87fc9"));
        assert!(decode_rgb(Path::new("bomb.png"), &bomb.unwrap()).is_err());
        // A real JPEG whose frame header claims 60000 x 60000 pixels is
        // refused by the limits, not decoded.
        let mut jpeg =
            std::fs::read(repo.join("tests/fixtures/detect/astronaut_face_256.jpg")).unwrap();
        let sof = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xC0] || w == [0xFF, 0xC2])
            .unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
        let e = decode_rgb(Path::new("huge.jpg"), &jpeg)
            .unwrap_err()
            .to_string();
        assert!(e.contains("huge.jpg") && e.contains("limit"), "{e}");
        // A real picture still decodes.
        assert!(load_rgb(&repo.join("tests/fixtures/frames/01.png")).is_ok());
    }
}

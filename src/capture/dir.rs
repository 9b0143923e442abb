//! `dir:PATH`: the images of a folder, in name order.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{CaptureError, FrameSource};
use crate::core::frame::Frame;

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

/// Decodes one image file to RGB, with an error naming the file.
pub fn load_rgb(path: &Path) -> Result<image::RgbImage, CaptureError> {
    let img = image::ImageReader::open(path)
        .map_err(|e| CaptureError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .with_guessed_format()
        .map_err(|e| CaptureError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
        .decode()
        .map_err(|e| CaptureError::Image {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(img.into_rgb8())
}

pub struct DirSource {
    dir: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    fps: f64,
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
        })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FrameSource for DirSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        let Some(path) = self.files.get(self.next) else {
            return Ok(None);
        };
        let image = load_rgb(path)?;
        let seq = self.next as u64;
        self.next += 1;
        let media_time = Duration::from_secs_f64(seq as f64 / self.fps);
        Ok(Some(Frame::new(seq, media_time, image)))
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

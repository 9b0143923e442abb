//! Image resizing through `fast_image_resize` (SIMD, single-threaded), shared
//! by every stage that scales pixels.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use thiserror::Error;

/// Why an image operation failed.
#[derive(Debug, Error)]
pub enum ImageOpError {
    /// A resize was refused: an empty source or destination, or a crop `fast_image_resize` rejects.
    #[error("cannot resize a {src_w}x{src_h} image to {dst_w}x{dst_h}: {message}")]
    Resize {
        /// Source width, in pixels.
        src_w: u32,
        /// Source height, in pixels.
        src_h: u32,
        /// Requested width, in pixels.
        dst_w: u32,
        /// Requested height, in pixels.
        dst_h: u32,
        /// What went wrong: "empty image", or `fast_image_resize`'s own message.
        message: String,
    },
}

/// A reusable resizer (it keeps scratch buffers between calls).
#[derive(Default)]
pub struct RgbResizer {
    resizer: Resizer,
}

impl std::fmt::Debug for RgbResizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RgbResizer")
    }
}

impl RgbResizer {
    /// A resizer with empty scratch buffers (same as `default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Bilinear resize of the whole image.
    pub fn resize(&mut self, src: &RgbImage, w: u32, h: u32) -> Result<RgbImage, ImageOpError> {
        self.resize_region(src, None, w, h)
    }

    /// Bilinear resize of `src` (or of the crop `(x, y, w, h)` inside it, in
    /// source pixels, fractional allowed) to `dst_w` x `dst_h`.
    pub fn resize_region(
        &mut self,
        src: &RgbImage,
        crop: Option<(f64, f64, f64, f64)>,
        dst_w: u32,
        dst_h: u32,
    ) -> Result<RgbImage, ImageOpError> {
        let err = |message: String| ImageOpError::Resize {
            src_w: src.width(),
            src_h: src.height(),
            dst_w,
            dst_h,
            message,
        };
        if src.width() == 0 || src.height() == 0 || dst_w == 0 || dst_h == 0 {
            return Err(err("empty image".into()));
        }
        let src_ref = ImageRef::new(src.width(), src.height(), src.as_raw(), PixelType::U8x3)
            .map_err(|e| err(e.to_string()))?;
        let mut dst = Image::new(dst_w, dst_h, PixelType::U8x3);
        let mut options =
            ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        if let Some((x, y, w, h)) = crop {
            options = options.crop(x, y, w, h);
        }
        self.resizer
            .resize(&src_ref, &mut dst, &options)
            .map_err(|e| err(e.to_string()))?;
        RgbImage::from_raw(dst_w, dst_h, dst.into_vec()).ok_or_else(|| err("buffer size".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resizes_a_flat_image_to_the_same_colour() {
        let src = RgbImage::from_pixel(37, 23, image::Rgb([10, 200, 30]));
        let out = RgbResizer::new().resize(&src, 224, 224).unwrap();
        assert_eq!(out.dimensions(), (224, 224));
        assert!(out.pixels().all(|p| p.0 == [10, 200, 30]));
    }

    #[test]
    fn empty_images_are_an_error_not_a_panic() {
        let src = RgbImage::new(0, 0);
        assert!(RgbResizer::new().resize(&src, 10, 10).is_err());
        let src = RgbImage::new(4, 4);
        assert!(RgbResizer::new().resize(&src, 0, 10).is_err());
    }
}

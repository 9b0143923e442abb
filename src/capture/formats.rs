//! Camera pixel formats: what a camera offers, which offer Vigil picks, and
//! decoding each format into RGB.
//!
//! Pure code (no camera library): it builds without the `camera` feature and
//! is shared by the V4L2 camera (`camera.rs`) and the Raspberry Pi camera
//! child process (`picam.rs`, I420).
//!
//! YUV formats are decoded as BT.601 limited range (Y 16..235, U/V 16..240),
//! what webcams, V4L2 drivers and libcamera send by default, with nearest
//! (unfiltered) chroma.

use std::fmt;

use image::RgbImage;
use thiserror::Error;

/// A pixel format Vigil can decode, in order of preference when choosing
/// among offers of the same size and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Motion JPEG: one JPEG per frame (least USB bandwidth: full rate at
    /// any size).
    Mjpeg,
    /// Packed 4:2:2, `Y0 U Y1 V` per two pixels.
    Yuyv,
    /// Planar Y, then interleaved `U V` at half resolution (4:2:0).
    Nv12,
    /// Packed 8-bit RGB (`RGB3`).
    Rgb,
    /// Packed 8-bit BGR (`BGR3`).
    Bgr,
    /// 8-bit luma only (no colour: last resort).
    Grey,
    /// Planar Y, then U, then V at half resolution (4:2:0, `yuv420p`):
    /// the Raspberry Pi camera's raw output. Not offered by V4L2 through nokhwa.
    I420,
}

impl PixelFormat {
    /// Cost added to an offer's score for its format (0 for the best).
    /// One step is worth much less than a factor of two in size, so the format
    /// decides between offers of the same size and rate.
    fn rank(self) -> f64 {
        match self {
            PixelFormat::Mjpeg => 0.0,
            PixelFormat::Yuyv => 1.0,
            PixelFormat::Nv12 => 2.0,
            PixelFormat::I420 => 2.0,
            PixelFormat::Rgb => 3.0,
            PixelFormat::Bgr => 4.0,
            // Grey loses colour, which the emotion and scene stages use.
            PixelFormat::Grey => 8.0,
        }
    }
}

impl fmt::Display for PixelFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PixelFormat::Mjpeg => "MJPEG",
            PixelFormat::Yuyv => "YUYV",
            PixelFormat::Nv12 => "NV12",
            PixelFormat::Rgb => "RGB",
            PixelFormat::Bgr => "BGR",
            PixelFormat::Grey => "GREY",
            PixelFormat::I420 => "I420",
        })
    }
}

/// One format a camera offers: size, frame rate and pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FormatOffer {
    /// Frame width, in pixels.
    pub width: u32,
    /// Frame height, in pixels.
    pub height: u32,
    /// Frame rate, in frames per second.
    pub fps: u32,
    /// How the pixels of each frame are encoded.
    pub format: PixelFormat,
}

impl FormatOffer {
    /// An offer of `width` x `height` pixels at `fps` frames per second in
    /// `format`.
    pub const fn new(width: u32, height: u32, fps: u32, format: PixelFormat) -> Self {
        Self {
            width,
            height,
            fps,
            format,
        }
    }
}

impl fmt::Display for FormatOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}x{}@{} {}",
            self.width, self.height, self.fps, self.format
        )
    }
}

/// The configured request (`capture.width`, `capture.height`, `capture.fps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wanted {
    /// Wanted frame width, in pixels.
    pub width: u32,
    /// Wanted frame height, in pixels.
    pub height: u32,
    /// Wanted frame rate, in frames per second.
    pub fps: u32,
}

/// Score per factor of two between an offer's side and the wanted side
/// (width and height counted separately).
pub const SIZE_WEIGHT: f64 = 10.0;
/// Extra factor on [`SIZE_WEIGHT`] for an offer smaller than wanted (upscaling
/// invents no detail; a larger frame can be scaled down).
pub const SMALLER_SIZE_FACTOR: f64 = 1.5;
/// Score per factor of two between an offer's frame rate and the wanted rate.
pub const FPS_WEIGHT: f64 = 4.0;
/// Extra factor on [`FPS_WEIGHT`] for a rate below the wanted one.
pub const SLOWER_FPS_FACTOR: f64 = 2.0;
/// Score per step of [`PixelFormat`] preference.
pub const FORMAT_WEIGHT: f64 = 0.5;

fn log2_ratio(have: u32, want: u32) -> f64 {
    (have.max(1) as f64 / want.max(1) as f64).log2()
}

/// Cost of an offer against the request: lower is better. Size distance
/// dominates, then frame rate, then the format's rank.
pub fn score(offer: &FormatOffer, wanted: &Wanted) -> f64 {
    let side = |have: u32, want: u32| {
        let r = log2_ratio(have, want);
        if r < 0.0 {
            -r * SIZE_WEIGHT * SMALLER_SIZE_FACTOR
        } else {
            r * SIZE_WEIGHT
        }
    };
    let rate = log2_ratio(offer.fps, wanted.fps);
    let rate_cost = if rate < 0.0 {
        -rate * FPS_WEIGHT * SLOWER_FPS_FACTOR
    } else {
        rate * FPS_WEIGHT
    };
    side(offer.width, wanted.width)
        + side(offer.height, wanted.height)
        + rate_cost
        + offer.format.rank() * FORMAT_WEIGHT
}

/// The best offer for the request (the first of equals), or `None` when
/// nothing is offered.
pub fn choose(offers: &[FormatOffer], wanted: &Wanted) -> Option<FormatOffer> {
    let mut best: Option<(f64, FormatOffer)> = None;
    for offer in offers {
        let s = score(offer, wanted);
        if best.is_none_or(|(b, _)| s < b) {
            best = Some((s, *offer));
        }
    }
    best.map(|(_, o)| o)
}

/// Offers as one line for logs and errors: `640x480@25 YUYV, ...`.
pub fn list_offers(offers: &[FormatOffer]) -> String {
    if offers.is_empty() {
        return "none".into();
    }
    offers
        .iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A frame that cannot be turned into RGB.
#[derive(Debug, Error, PartialEq)]
pub enum DecodeError {
    /// The buffer holds fewer bytes than one frame of this format and size.
    #[error("short {format} frame: {got} bytes, {need} needed for {width}x{height}")]
    Short {
        /// The frame's pixel format.
        format: PixelFormat,
        /// Frame width, in pixels.
        width: u32,
        /// Frame height, in pixels.
        height: u32,
        /// Bytes one frame needs.
        need: usize,
        /// Bytes the buffer holds.
        got: usize,
    },
    /// An MJPEG frame the JPEG decoder rejects, or one that is truncated;
    /// holds the reason.
    #[error("bad JPEG frame: {0}")]
    Jpeg(String),
    /// A frame that decoded to another size than the negotiated one.
    #[error("{format} frame is {got_w}x{got_h}, {want_w}x{want_h} expected")]
    Size {
        /// The frame's pixel format.
        format: PixelFormat,
        /// Decoded width, in pixels.
        got_w: u32,
        /// Decoded height, in pixels.
        got_h: u32,
        /// Negotiated width, in pixels.
        want_w: u32,
        /// Negotiated height, in pixels.
        want_h: u32,
    },
    /// A frame size that cannot hold an image: a zero side, a size whose
    /// byte count overflows, or an I420 stride narrower than the width (or
    /// a chroma stride narrower than half of it).
    #[error("{width}x{height} is not a valid frame size")]
    Empty {
        /// Frame width, in pixels.
        width: u32,
        /// Frame height, in pixels.
        height: u32,
    },
}

/// Bytes of one frame of `format` at `width` x `height` (tightly packed
/// rows), or `None` for MJPEG (variable) or an overflowing size.
pub fn frame_len(format: PixelFormat, width: u32, height: u32) -> Option<usize> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    match format {
        PixelFormat::Mjpeg => None,
        PixelFormat::Yuyv => cw.checked_mul(4)?.checked_mul(h),
        PixelFormat::Nv12 | PixelFormat::I420 => w
            .checked_mul(h)?
            .checked_add(cw.checked_mul(2)?.checked_mul(ch)?),
        PixelFormat::Rgb | PixelFormat::Bgr => w.checked_mul(h)?.checked_mul(3),
        PixelFormat::Grey => w.checked_mul(h),
    }
}

fn clamp_u8(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

/// BT.601 limited range to RGB (fixed point, 8 fractional bits).
#[inline]
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let c = 298 * (y as i32 - 16);
    let d = u as i32 - 128;
    let e = v as i32 - 128;
    [
        clamp_u8((c + 409 * e + 128) >> 8),
        clamp_u8((c - 100 * d - 208 * e + 128) >> 8),
        clamp_u8((c + 516 * d + 128) >> 8),
    ]
}

/// Decodes one frame into RGB. `width` and `height` are the negotiated size;
/// a buffer shorter than the format needs is an error (longer is accepted:
/// drivers may hand out whole pages).
pub fn decode(
    format: PixelFormat,
    width: u32,
    height: u32,
    data: &[u8],
) -> Result<RgbImage, DecodeError> {
    if width == 0 || height == 0 {
        return Err(DecodeError::Empty { width, height });
    }
    if format == PixelFormat::Mjpeg {
        return decode_mjpeg(width, height, data);
    }
    let need = frame_len(format, width, height).ok_or(DecodeError::Empty { width, height })?;
    if data.len() < need {
        return Err(DecodeError::Short {
            format,
            width,
            height,
            need,
            got: data.len(),
        });
    }
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u8; w * h * 3];
    match format {
        PixelFormat::Mjpeg => {}
        PixelFormat::Yuyv => {
            let stride = w.div_ceil(2) * 4;
            for (row, dst) in out.chunks_exact_mut(w * 3).enumerate() {
                let src = &data[row * stride..(row + 1) * stride];
                for (x, px) in dst.chunks_exact_mut(3).enumerate() {
                    let quad = &src[(x / 2) * 4..(x / 2) * 4 + 4];
                    let y = if x % 2 == 0 { quad[0] } else { quad[2] };
                    px.copy_from_slice(&yuv_to_rgb(y, quad[1], quad[3]));
                }
            }
        }
        PixelFormat::Nv12 => {
            let cw = w.div_ceil(2);
            let (luma, chroma) = data.split_at(w * h);
            for (row, dst) in out.chunks_exact_mut(w * 3).enumerate() {
                let uv_row = &chroma[(row / 2) * cw * 2..(row / 2 + 1) * cw * 2];
                for (x, px) in dst.chunks_exact_mut(3).enumerate() {
                    let y = luma[row * w + x];
                    px.copy_from_slice(&yuv_to_rgb(
                        y,
                        uv_row[(x / 2) * 2],
                        uv_row[(x / 2) * 2 + 1],
                    ));
                }
            }
        }
        PixelFormat::I420 => {
            let layout = I420Layout::packed(width, height);
            i420_into(&layout, data, &mut out);
        }
        PixelFormat::Rgb => out.copy_from_slice(&data[..need]),
        PixelFormat::Bgr => {
            for (dst, src) in out.chunks_exact_mut(3).zip(data.chunks_exact(3)) {
                dst.copy_from_slice(&[src[2], src[1], src[0]]);
            }
        }
        PixelFormat::Grey => {
            for (dst, &g) in out.chunks_exact_mut(3).zip(data) {
                dst.copy_from_slice(&[g, g, g]);
            }
        }
    }
    RgbImage::from_raw(width, height, out).ok_or(DecodeError::Empty { width, height })
}

/// True when a JPEG is whole: an end-of-image marker (`FF D9`) follows its
/// last start-of-scan marker (`FF DA`). The JPEG decoder fills a truncated
/// file's missing rows with grey instead of failing; this catches it.
/// (`FF DA` cannot occur inside entropy-coded data, where every `FF` byte is
/// followed by `00` or a restart marker.)
pub fn jpeg_is_complete(data: &[u8]) -> bool {
    let Some(sos) = data.windows(2).rposition(|w| w == [0xFF, 0xDA]) else {
        return false;
    };
    data[sos..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn decode_mjpeg(width: u32, height: u32, data: &[u8]) -> Result<RgbImage, DecodeError> {
    if !jpeg_is_complete(data) {
        return Err(DecodeError::Jpeg(format!(
            "truncated ({} bytes, no end of image after the last scan)",
            data.len()
        )));
    }
    // The negotiated size bounds the decoder before it allocates: a frame
    // whose header claims more is refused, not decoded.
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Jpeg);
    reader.limits(image_limits(width, height));
    let image = reader
        .decode()
        .map_err(|e| DecodeError::Jpeg(e.to_string()))?
        .into_rgb8();
    if image.dimensions() != (width, height) {
        return Err(DecodeError::Size {
            format: PixelFormat::Mjpeg,
            got_w: image.width(),
            got_h: image.height(),
            want_w: width,
            want_h: height,
        });
    }
    Ok(image)
}

/// Most bytes an image decoder may allocate for one picture (a `dir:` image
/// or an MJPEG frame): 32 megapixels of RGB.
pub const MAX_DECODED_BYTES: u64 = 96 * 1024 * 1024;

/// The decoder limits for a picture of at most `max_width` x `max_height`
/// and [`MAX_DECODED_BYTES`], checked against its header before any pixel
/// buffer is allocated.
pub fn image_limits(max_width: u32, max_height: u32) -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(max_width);
    limits.max_image_height = Some(max_height);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    limits
}

/// Where the planes of an I420 (yuv420p) frame lie: a Y plane of
/// `y_stride * height` bytes, then U and V planes of `uv_stride *
/// ceil(height / 2)` bytes each; rows may be padded beyond the picture width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct I420Layout {
    /// Picture width, in pixels.
    pub width: u32,
    /// Picture height, in pixels (rows of the Y plane).
    pub height: u32,
    /// Bytes from one Y row to the next (at least `width`).
    pub y_stride: usize,
    /// Bytes from one U (or V) row to the next (at least `ceil(width / 2)`).
    pub uv_stride: usize,
}

impl I420Layout {
    /// Rows without padding (what ffmpeg's `-pix_fmt yuv420p -f rawvideo` writes).
    pub fn packed(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            y_stride: width as usize,
            uv_stride: (width as usize).div_ceil(2),
        }
    }

    /// Rows of `width` rounded up to `align` bytes (chroma rows half that).
    pub fn aligned(width: u32, height: u32, align: usize) -> Self {
        let y_stride = (width as usize).div_ceil(align.max(1)) * align.max(1);
        Self {
            width,
            height,
            y_stride,
            uv_stride: y_stride.div_ceil(2),
        }
    }

    /// Bytes of one frame; `None` when that overflows, or the layout cannot
    /// hold its picture (a zero side, a Y row shorter than the width or a
    /// chroma row shorter than half of it).
    pub fn frame_len(&self) -> Option<usize> {
        let (w, h) = (self.width as usize, self.height as usize);
        if w == 0 || h == 0 || self.y_stride < w || self.uv_stride < w.div_ceil(2) {
            return None;
        }
        let ch = h.div_ceil(2);
        self.y_stride
            .checked_mul(h)?
            .checked_add(self.uv_stride.checked_mul(ch)?.checked_mul(2)?)
    }
}

fn i420_into(layout: &I420Layout, data: &[u8], out: &mut [u8]) {
    let (w, h) = (layout.width as usize, layout.height as usize);
    let ch = h.div_ceil(2);
    let y_len = layout.y_stride * h;
    let uv_len = layout.uv_stride * ch;
    let (luma, rest) = data.split_at(y_len);
    let (u_plane, rest) = rest.split_at(uv_len);
    let v_plane = &rest[..uv_len];
    for (row, dst) in out.chunks_exact_mut(w * 3).enumerate() {
        let y_row = &luma[row * layout.y_stride..row * layout.y_stride + w];
        let c0 = (row / 2) * layout.uv_stride;
        let (u_row, v_row) = (&u_plane[c0..], &v_plane[c0..]);
        for (x, px) in dst.chunks_exact_mut(3).enumerate() {
            px.copy_from_slice(&yuv_to_rgb(y_row[x], u_row[x / 2], v_row[x / 2]));
        }
    }
}

/// Decodes an I420 frame laid out as `layout` (padded rows allowed).
pub fn decode_i420(layout: &I420Layout, data: &[u8]) -> Result<RgbImage, DecodeError> {
    let (width, height) = (layout.width, layout.height);
    let need = layout
        .frame_len()
        .ok_or(DecodeError::Empty { width, height })?;
    if data.len() < need {
        return Err(DecodeError::Short {
            format: PixelFormat::I420,
            width,
            height,
            need,
            got: data.len(),
        });
    }
    let mut out = vec![0u8; width as usize * height as usize * 3];
    i420_into(layout, data, &mut out);
    RgbImage::from_raw(width, height, out).ok_or(DecodeError::Empty { width, height })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PixelFormat::*;

    const VGA30: Wanted = Wanted {
        width: 640,
        height: 480,
        fps: 30,
    };

    /// What Linux's `vivid` test driver offers (from a real `vigil run
    /// --source camera:0` error in a VM), in its order.
    fn vivid() -> Vec<FormatOffer> {
        let mut offers = Vec::new();
        for format in [Yuyv, Nv12, Rgb, Bgr] {
            for (w, h) in [
                (320, 180),
                (640, 360),
                (640, 480),
                (1280, 720),
                (1920, 1080),
            ] {
                for fps in [1, 5, 10, 15, 25] {
                    offers.push(FormatOffer::new(w, h, fps, format));
                }
            }
        }
        offers
    }

    #[test]
    fn vivid_without_mjpeg_gets_vga_yuyv_near_the_rate() {
        let chosen = choose(&vivid(), &VGA30).unwrap();
        assert_eq!(chosen, FormatOffer::new(640, 480, 25, Yuyv));
        // Without YUYV, NV12 is next.
        let no_yuyv: Vec<_> = vivid().into_iter().filter(|o| o.format != Yuyv).collect();
        assert_eq!(
            choose(&no_yuyv, &VGA30),
            Some(FormatOffer::new(640, 480, 25, Nv12))
        );
        // Rate near the request: 15 wanted, 15 chosen.
        let slow = Wanted { fps: 15, ..VGA30 };
        assert_eq!(choose(&vivid(), &slow).map(|o| o.fps), Some(15));
    }

    #[test]
    fn mjpeg_wins_where_offered() {
        let mut offers = vivid();
        offers.push(FormatOffer::new(640, 480, 30, Mjpeg));
        assert_eq!(
            choose(&offers, &VGA30),
            Some(FormatOffer::new(640, 480, 30, Mjpeg))
        );
        // Same size and rate as a YUYV offer: the format decides.
        let same = [
            FormatOffer::new(640, 480, 30, Yuyv),
            FormatOffer::new(640, 480, 30, Mjpeg),
        ];
        assert_eq!(choose(&same, &VGA30).map(|o| o.format), Some(Mjpeg));
        // A typical webcam: YUYV is slow at 720p, MJPEG is not.
        let webcam = [
            FormatOffer::new(1280, 720, 10, Yuyv),
            FormatOffer::new(1280, 720, 30, Mjpeg),
            FormatOffer::new(640, 480, 30, Yuyv),
        ];
        let hd = Wanted {
            width: 1280,
            height: 720,
            fps: 30,
        };
        assert_eq!(
            choose(&webcam, &hd),
            Some(FormatOffer::new(1280, 720, 30, Mjpeg))
        );
    }

    #[test]
    fn size_beats_format_and_grey_is_last() {
        let offers = [
            FormatOffer::new(1920, 1080, 30, Mjpeg),
            FormatOffer::new(640, 480, 30, Bgr),
        ];
        assert_eq!(choose(&offers, &VGA30).map(|o| o.format), Some(Bgr));
        let offers = [
            FormatOffer::new(640, 480, 30, Grey),
            FormatOffer::new(640, 480, 30, Bgr),
        ];
        assert_eq!(choose(&offers, &VGA30).map(|o| o.format), Some(Bgr));
        // A larger frame is preferred over a smaller one of the same ratio.
        let offers = [
            FormatOffer::new(320, 240, 30, Yuyv),
            FormatOffer::new(1280, 960, 30, Yuyv),
        ];
        assert_eq!(choose(&offers, &VGA30).map(|o| o.width), Some(1280));
    }

    #[test]
    fn nothing_offered_is_none_and_listed_as_none() {
        assert_eq!(choose(&[], &VGA30), None);
        assert_eq!(list_offers(&[]), "none");
        assert_eq!(
            list_offers(&[FormatOffer::new(640, 480, 25, Yuyv)]),
            "640x480@25 YUYV"
        );
    }

    #[test]
    fn yuv_colours_are_bt601_limited_range() {
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
        // 75% red of the BT.601 colour bars: Y 81, U 90, V 240.
        let [r, g, b] = yuv_to_rgb(81, 90, 240);
        assert!(r >= 250 && g <= 2 && b <= 2, "{r} {g} {b}");
    }

    const RED: [u8; 3] = [255, 0, 0];
    const WHITE: [u8; 3] = [255, 255, 255];
    const BLACK: [u8; 3] = [0, 0, 0];

    fn pixels(img: &RgbImage) -> Vec<[u8; 3]> {
        img.pixels().map(|p| p.0).collect()
    }

    fn near(a: [u8; 3], b: [u8; 3]) -> bool {
        a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 3)
    }

    #[test]
    fn decodes_yuyv() {
        // 2x2: row 0 white, black; row 1 red, red.
        let data = [235, 128, 16, 128, 81, 90, 81, 240];
        let img = decode(Yuyv, 2, 2, &data).unwrap();
        let p = pixels(&img);
        assert_eq!(p[0], WHITE);
        assert_eq!(p[1], BLACK);
        assert!(near(p[2], RED) && near(p[3], RED), "{p:?}");
    }

    #[test]
    fn decodes_nv12() {
        // 2x2 luma white/black/white/black, one chroma sample neutral.
        let data = [235, 16, 235, 16, 128, 128];
        let p = pixels(&decode(Nv12, 2, 2, &data).unwrap());
        assert_eq!(p, vec![WHITE, BLACK, WHITE, BLACK]);
        // 4x2 with red chroma on the right half.
        let data = [81, 81, 81, 81, 81, 81, 81, 81, 128, 128, 90, 240];
        let p = pixels(&decode(Nv12, 4, 2, &data).unwrap());
        assert!(near(p[3], RED) && near(p[7], RED), "{p:?}");
        assert!(p[0][0] == p[0][1] && p[0][1] == p[0][2], "grey left: {p:?}");
    }

    #[test]
    fn decodes_i420_packed_and_padded() {
        // 4x2: U and V planes of 2x1.
        let data = [81, 81, 81, 81, 81, 81, 81, 81, 128, 90, 128, 240];
        let p = pixels(&decode(I420, 4, 2, &data).unwrap());
        assert!(near(p[2], RED) && near(p[7], RED), "{p:?}");
        assert_eq!(p[0][0], p[0][2]);
        // The same picture with rows padded to 8 bytes (chroma rows to 4).
        let layout = I420Layout::aligned(4, 2, 8);
        assert_eq!(layout.frame_len(), Some(8 * 2 + 4 + 4));
        let padded = [
            81, 81, 81, 81, 0, 0, 0, 0, 81, 81, 81, 81, 0, 0, 0, 0, 128, 90, 0, 0, 128, 240, 0, 0,
        ];
        let q = pixels(&decode_i420(&layout, &padded).unwrap());
        assert_eq!(p, q);
    }

    #[test]
    fn decodes_rgb_bgr_grey() {
        let rgb = [1, 2, 3, 4, 5, 6];
        assert_eq!(decode(Rgb, 2, 1, &rgb).unwrap().into_raw(), rgb);
        assert_eq!(
            decode(Bgr, 2, 1, &rgb).unwrap().into_raw(),
            vec![3, 2, 1, 6, 5, 4]
        );
        assert_eq!(
            decode(Grey, 2, 1, &[7, 9]).unwrap().into_raw(),
            vec![7, 7, 7, 9, 9, 9]
        );
    }

    #[test]
    fn decodes_mjpeg_and_checks_its_size() {
        let mut img = RgbImage::new(16, 8);
        for p in img.pixels_mut() {
            p.0 = [200, 40, 40];
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&img)
            .unwrap();
        let out = decode(Mjpeg, 16, 8, &jpeg).unwrap();
        assert!(
            near(out.get_pixel(5, 5).0, [200, 40, 40]),
            "{:?}",
            out.get_pixel(5, 5)
        );
        assert!(matches!(
            decode(Mjpeg, 32, 8, &jpeg),
            Err(DecodeError::Size { .. })
        ));
        assert!(jpeg_is_complete(&jpeg));
        // Cut anywhere after the scan starts: caught (the decoder alone would
        // fill the rest with grey).
        for cut in [
            jpeg.len() - 1,
            jpeg.len() - 2,
            jpeg.len() / 2,
            jpeg.len() / 3,
        ] {
            assert!(!jpeg_is_complete(&jpeg[..cut]), "cut at {cut}");
            assert!(
                matches!(
                    decode(Mjpeg, 16, 8, &jpeg[..cut]),
                    Err(DecodeError::Jpeg(_))
                ),
                "cut at {cut}"
            );
        }
        // Trailing bytes after the end of image are tolerated.
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 32]);
        assert!(decode(Mjpeg, 16, 8, &padded).is_ok());
        assert!(matches!(
            decode(Mjpeg, 16, 8, b"garbage"),
            Err(DecodeError::Jpeg(_))
        ));
    }

    #[test]
    fn short_buffers_are_errors() {
        for format in [Yuyv, Nv12, I420, Rgb, Bgr, Grey] {
            let need = frame_len(format, 640, 480).unwrap();
            let data = vec![0u8; need - 1];
            let err = decode(format, 640, 480, &data).unwrap_err();
            assert!(
                matches!(err, DecodeError::Short { got, .. } if got == need - 1),
                "{format}: {err}"
            );
            assert!(err.to_string().contains("640x480"), "{err}");
            assert!(decode(format, 640, 480, &vec![0u8; need]).is_ok());
        }
        assert_eq!(frame_len(Yuyv, 640, 480), Some(640 * 480 * 2));
        assert_eq!(frame_len(Nv12, 640, 480), Some(640 * 480 * 3 / 2));
        assert!(decode_i420(&I420Layout::aligned(100, 10, 64), &[0; 1500]).is_err());
    }

    #[test]
    fn i420_layouts_that_overflow_or_cannot_hold_the_picture_are_errors() {
        // Found by the raw_frames fuzz target: a huge height overflowed the
        // frame length (a panic with overflow checks, a short buffer without).
        let huge = I420Layout::aligned(u32::MAX - 1, u32::MAX - 1, 64);
        assert_eq!(huge.frame_len(), None);
        assert!(matches!(
            decode_i420(&huge, &[0; 64]),
            Err(DecodeError::Empty { .. })
        ));
        // A chroma row shorter than half the width would index past it.
        let narrow = I420Layout {
            width: 8,
            height: 2,
            y_stride: 8,
            uv_stride: 1,
        };
        assert_eq!(narrow.frame_len(), None);
        assert!(decode_i420(&narrow, &[0; 64]).is_err());
        assert!(matches!(
            decode(Rgb, 0, 4, &[]),
            Err(DecodeError::Empty { .. })
        ));
    }
}

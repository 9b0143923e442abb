//! Pixels to the MTCNN nets' input layout.
//!
//! The three nets take NHWC with the image *transposed*: `[N, W, H, 3]`, x
//! before y (the weights come from MATLAB's column-major Caffe models), RGB,
//! `(v - 127.5) * 0.0078125`.

/// Offset subtracted from every 8-bit sample.
pub const PIXEL_MEAN: f32 = 127.5;
/// Scale applied after the offset (1 / 128).
pub const PIXEL_SCALE: f32 = 0.0078125;

/// Writes a row-major RGB buffer of `width` x `height` into `out`, transposed
/// and normalised. `out` must hold `width * height * 3` values.
pub fn write_transposed(rgb: &[u8], width: usize, height: usize, out: &mut [f32]) {
    debug_assert_eq!(rgb.len(), width * height * 3);
    debug_assert_eq!(out.len(), width * height * 3);
    for (y, row) in rgb.chunks_exact(width * 3).enumerate() {
        for (x, px) in row.chunks_exact(3).enumerate() {
            let o = (x * height + y) * 3;
            out[o] = (f32::from(px[0]) - PIXEL_MEAN) * PIXEL_SCALE;
            out[o + 1] = (f32::from(px[1]) - PIXEL_MEAN) * PIXEL_SCALE;
            out[o + 2] = (f32::from(px[2]) - PIXEL_MEAN) * PIXEL_SCALE;
        }
    }
}

/// Like [`write_transposed`] for resampled values (0..255, unrounded).
/// `round` rounds them to whole levels first (half to even, as OpenCV stores
/// an 8-bit resize), for the pyramid, whose reference levels are 8-bit images;
/// the reference's crops stay in floating point.
pub fn write_transposed_f32(
    values: &[f32],
    width: usize,
    height: usize,
    round: bool,
    out: &mut [f32],
) {
    debug_assert_eq!(values.len(), width * height * 3);
    debug_assert_eq!(out.len(), width * height * 3);
    for (y, row) in values.chunks_exact(width * 3).enumerate() {
        for (x, px) in row.chunks_exact(3).enumerate() {
            let o = (x * height + y) * 3;
            for c in 0..3 {
                let v = if round {
                    px[c].round_ties_even().clamp(0.0, 255.0)
                } else {
                    px[c]
                };
                out[o + c] = (v - PIXEL_MEAN) * PIXEL_SCALE;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_and_normalises() {
        // 3 wide, 2 high; pixel (x, y) has red = 10 * x + y.
        let mut rgb = vec![0u8; 3 * 2 * 3];
        for y in 0..2 {
            for x in 0..3 {
                rgb[(y * 3 + x) * 3] = (10 * x + y) as u8;
                rgb[(y * 3 + x) * 3 + 2] = 255;
            }
        }
        let mut out = vec![0.0; rgb.len()];
        write_transposed(&rgb, 3, 2, &mut out);
        for x in 0..3 {
            for y in 0..2 {
                let o = (x * 2 + y) * 3;
                assert_eq!(out[o], ((10 * x + y) as f32 - 127.5) / 128.0);
                assert_eq!(out[o + 2], 127.5 / 128.0);
            }
        }
        let values: Vec<f32> = rgb.iter().map(|v| f32::from(*v) + 0.5).collect();
        let mut rounded = vec![0.0; rgb.len()];
        write_transposed_f32(&values, 3, 2, true, &mut rounded);
        let mut exact = vec![0.0; rgb.len()];
        write_transposed_f32(&values, 3, 2, false, &mut exact);
        // 0.5 rounds to 0, 1.5 to 2 (half to even); unrounded keeps the half.
        assert_eq!(rounded[0], out[0]);
        assert_eq!(exact[0], out[0] + 0.5 * PIXEL_SCALE);
    }
}

//! OpenCV's `INTER_AREA` resampling, which the reference uses for the pyramid
//! and for every crop.
//!
//! Shrinking, each destination pixel is the average of the source area it
//! covers, partly covered pixels weighted by the covered fraction (OpenCV's
//! `computeResizeAreaTab`). Enlarging (on either axis), OpenCV switches to a
//! bilinear variant whose weights snap to whole source pixels except at the
//! seams between them ("area mode" coefficients of its linear resize). Both
//! are separable: the rows are combined first (whole rows at a time, which
//! vectorises), then the columns.
//!
//! Why not a generic box filter: the cascade amplifies small pixel
//! differences. A P-Net cell moves by `2 / scale` frame pixels, R-Net and
//! O-Net then calibrate from a different start, and final landmarks moved by
//! up to 8 px against the reference with fast_image_resize's box filter
//! (`dev/parity/README.md`).

/// A rectangle of whole pixels inside a source buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    /// Left column, in source pixels.
    pub x: u32,
    /// Top row, in source pixels.
    pub y: u32,
    /// Width, in pixels.
    pub w: u32,
    /// Height, in pixels.
    pub h: u32,
}

/// Weights below this are dropped, as OpenCV does (`1e-3`).
const MIN_FRACTION: f64 = 1e-3;

/// Resampling taps of one axis: destination index `d` reads source indices
/// `first[d]..first[d] + count(d)` with the weights `weights[offsets[d]..offsets[d + 1]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AxisTaps {
    first: Vec<usize>,
    offsets: Vec<usize>,
    weights: Vec<f32>,
}

impl AxisTaps {
    fn push(&mut self, first: usize, weights: &[f32]) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.first.push(first);
        self.weights.extend_from_slice(weights);
        self.offsets.push(self.weights.len());
    }

    /// Number of destination indices (the resampled axis length).
    pub fn len(&self) -> usize {
        self.first.len()
    }

    /// True when no destination index has taps yet.
    pub fn is_empty(&self) -> bool {
        self.first.is_empty()
    }

    /// First source index and weights of destination `d`.
    pub fn tap(&self, d: usize) -> (usize, &[f32]) {
        (
            self.first[d],
            &self.weights[self.offsets[d]..self.offsets[d + 1]],
        )
    }

    /// Area taps for shrinking `src` samples to `dst` (`src >= dst`).
    pub fn area(src: usize, dst: usize) -> Self {
        let mut taps = AxisTaps::default();
        let scale = 1.0 / (dst as f64 / src as f64);
        let ssize = src as f64;
        let mut w = Vec::new();
        for dx in 0..dst {
            let fsx1 = dx as f64 * scale;
            let fsx2 = fsx1 + scale;
            let cell = scale.min(ssize - fsx1);
            let mut sx1 = fsx1.ceil() as i64;
            let sx2 = (fsx2.floor() as i64).min(src as i64 - 1);
            sx1 = sx1.min(sx2);
            w.clear();
            let mut first = sx1;
            if sx1 as f64 - fsx1 > MIN_FRACTION {
                first = sx1 - 1;
                w.push(((sx1 as f64 - fsx1) / cell) as f32);
            }
            for _ in sx1..sx2 {
                w.push((1.0 / cell) as f32);
            }
            if fsx2 - sx2 as f64 > MIN_FRACTION {
                w.push(((fsx2 - sx2 as f64).min(1.0).min(cell) / cell) as f32);
            }
            taps.push(first.max(0) as usize, &w);
        }
        taps
    }

    /// OpenCV's linear taps in area mode (used when any axis is enlarged).
    pub fn linear_area_mode(src: usize, dst: usize) -> Self {
        let mut taps = AxisTaps::default();
        let inv_scale = dst as f64 / src as f64;
        let scale = 1.0 / inv_scale;
        for dx in 0..dst {
            let mut sx = (dx as f64 * scale).floor() as i64;
            let mut fx = ((dx + 1) as f64 - (sx + 1) as f64 * inv_scale) as f32;
            fx = if fx <= 0.0 { 0.0 } else { fx - fx.floor() };
            if sx < 0 {
                sx = 0;
                fx = 0.0;
            }
            if sx >= src as i64 - 1 {
                sx = src as i64 - 1;
                fx = 0.0;
            }
            if fx == 0.0 {
                taps.push(sx as usize, &[1.0]);
            } else {
                taps.push(sx as usize, &[1.0 - fx, fx]);
            }
        }
        taps
    }
}

/// Reusable taps and row buffer.
#[derive(Debug, Default)]
pub struct AreaResampler {
    rows: Vec<f32>,
}

impl AreaResampler {
    /// Resamples `crop` of `src` (row-major RGB, `src_w` pixels a row) to
    /// `dst_w` x `dst_h`, writing unrounded RGB values (0..255) row-major into `out`.
    /// `crop` must lie inside the source and be non-empty.
    pub fn resize(
        &mut self,
        src: &[u8],
        src_w: usize,
        crop: PixelRect,
        dst_w: usize,
        dst_h: usize,
        out: &mut [f32],
    ) {
        let (cw, ch) = (crop.w as usize, crop.h as usize);
        let (xt, yt) = if cw >= dst_w && ch >= dst_h {
            (AxisTaps::area(cw, dst_w), AxisTaps::area(ch, dst_h))
        } else {
            (
                AxisTaps::linear_area_mode(cw, dst_w),
                AxisTaps::linear_area_mode(ch, dst_h),
            )
        };
        let row_len = cw * 3;
        self.rows.clear();
        self.rows.resize(row_len, 0.0);
        let x0 = crop.x as usize * 3;
        for dy in 0..dst_h {
            let (first, weights) = yt.tap(dy);
            self.rows.fill(0.0);
            for (k, w) in weights.iter().enumerate() {
                let y = crop.y as usize + first + k;
                let start = y * src_w * 3 + x0;
                for (acc, v) in self.rows.iter_mut().zip(&src[start..start + row_len]) {
                    *acc += w * f32::from(*v);
                }
            }
            horizontal(
                &self.rows,
                &xt,
                &mut out[dy * dst_w * 3..(dy + 1) * dst_w * 3],
            );
        }
    }
}

/// Shrinks a whole frame to several sizes at once (the pyramid), with the same
/// arithmetic as [`AreaResampler::resize`] per level and bit-identical results,
/// but one pass over the frame: each source row is converted to `f32` once and
/// added into every level whose current row covers it (a level's rows are
/// accumulated in increasing source order, as in the single-level pass).
#[derive(Debug, Default)]
pub struct AreaPyramid {
    row: Vec<f32>,
    levels: Vec<LevelState>,
}

#[derive(Debug, Default)]
struct LevelState {
    xt: AxisTaps,
    yt: AxisTaps,
    acc: Vec<f32>,
    /// Destination row being accumulated.
    next: usize,
}

impl AreaPyramid {
    /// Resamples the `src_w` x `src_h` RGB frame to each `(w, h)` of `sizes`
    /// (every one at most the frame's size), writing unrounded RGB values
    /// row-major into `outs[k]` (`w * h * 3` values each).
    pub fn resize(
        &mut self,
        src: &[u8],
        src_w: usize,
        src_h: usize,
        sizes: &[(usize, usize)],
        outs: &mut [Vec<f32>],
    ) {
        let row_len = src_w * 3;
        self.levels.clear();
        for &(w, h) in sizes {
            self.levels.push(LevelState {
                xt: AxisTaps::area(src_w, w),
                yt: AxisTaps::area(src_h, h),
                acc: vec![0.0; row_len],
                next: 0,
            });
        }
        for (out, &(w, h)) in outs.iter_mut().zip(sizes) {
            out.clear();
            out.resize(w * h * 3, 0.0);
        }
        self.row.resize(row_len, 0.0);
        for y in 0..src_h {
            for (f, v) in self
                .row
                .iter_mut()
                .zip(&src[y * row_len..(y + 1) * row_len])
            {
                *f = f32::from(*v);
            }
            for (level, (out, &(w, h))) in self.levels.iter_mut().zip(outs.iter_mut().zip(sizes)) {
                while level.next < h {
                    let (first, weights) = level.yt.tap(level.next);
                    if y < first || y >= first + weights.len() {
                        break;
                    }
                    let wgt = weights[y - first];
                    for (a, v) in level.acc.iter_mut().zip(&self.row) {
                        *a += wgt * v;
                    }
                    if y + 1 < first + weights.len() {
                        break;
                    }
                    // Last source row of this destination row: finish it.
                    let dy = level.next;
                    horizontal(
                        &level.acc,
                        &level.xt,
                        &mut out[dy * w * 3..(dy + 1) * w * 3],
                    );
                    level.acc.fill(0.0);
                    level.next += 1;
                }
            }
        }
    }
}

/// The horizontal pass of one accumulated row into one output row.
fn horizontal(acc: &[f32], xt: &AxisTaps, out_row: &mut [f32]) {
    for (dx, px) in out_row.chunks_exact_mut(3).enumerate() {
        let (first, weights) = xt.tap(dx);
        let (mut r, mut g, mut b) = (0.0f32, 0.0f32, 0.0f32);
        for (k, w) in weights.iter().enumerate() {
            let i = (first + k) * 3;
            r += w * acc[i];
            g += w * acc[i + 1];
            b += w * acc[i + 2];
        }
        px[0] = r;
        px[1] = g;
        px[2] = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single_channel(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<f32> {
        let rgb: Vec<u8> = src.iter().flat_map(|v| [*v, *v, *v]).collect();
        let mut out = vec![0.0; dw * dh * 3];
        let crop = PixelRect {
            x: 0,
            y: 0,
            w: sw as u32,
            h: sh as u32,
        };
        AreaResampler::default().resize(&rgb, sw, crop, dw, dh, &mut out);
        out.chunks(3).map(|p| p[0]).collect()
    }

    #[test]
    fn pyramid_pass_equals_one_resize_per_level() {
        let (w, h) = (97usize, 61usize);
        let src: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let sizes = [(30, 19), (21, 14), (97, 61), (13, 12), (5, 3)];
        let mut outs = vec![Vec::new(); sizes.len()];
        AreaPyramid::default().resize(&src, w, h, &sizes, &mut outs);
        let full = PixelRect {
            x: 0,
            y: 0,
            w: w as u32,
            h: h as u32,
        };
        for (&(dw, dh), got) in sizes.iter().zip(&outs) {
            let mut one = vec![0.0; dw * dh * 3];
            AreaResampler::default().resize(&src, w, full, dw, dh, &mut one);
            assert_eq!(got, &one, "{dw}x{dh}");
        }
    }

    #[test]
    fn area_weights_sum_to_one() {
        for (s, d) in [(10, 3), (640, 192), (480, 144), (97, 24), (24, 24), (7, 2)] {
            let t = AxisTaps::area(s, d);
            assert_eq!(t.len(), d);
            for i in 0..d {
                let (first, w) = t.tap(i);
                let sum: f32 = w.iter().sum();
                assert!((sum - 1.0).abs() < 1e-5, "{s}->{d} tap {i}: {sum}");
                assert!(first + w.len() <= s);
            }
        }
    }

    #[test]
    fn integer_shrink_is_a_block_average() {
        let src: Vec<u8> = (0..16).map(|v| v * 10).collect();
        let out = single_channel(&src, 4, 4, 2, 2);
        // Blocks {0,10,40,50}, {20,30,60,70}, ...
        assert_eq!(out, vec![25.0, 45.0, 105.0, 125.0]);
    }

    #[test]
    fn matches_opencv_inter_area_on_a_ramp() {
        // cv2.resize(np.arange(35, dtype=np.float64).reshape(5, 7) * 7, (3, 2),
        //            interpolation=cv2.INTER_AREA), OpenCV 5.0.0 (opencv-python-headless 5.0.0.93).
        let src: Vec<u8> = (0..35).map(|v| (v * 7) as u8).collect();
        let out = single_channel(&src, 7, 5, 3, 2);
        let expected = [44.2f32, 60.2, 76.2, 161.8, 177.8, 193.8];
        for (a, b) in out.iter().zip(expected) {
            assert!((a - b).abs() < 1e-3, "{out:?}");
        }
    }

    #[test]
    fn matches_opencv_inter_area_when_enlarging() {
        // cv2.resize(np.array([[0, 100, 200]], dtype=np.float64).repeat(2, 0), (7, 2),
        //            interpolation=cv2.INTER_AREA)[0], same OpenCV.
        let src = [0u8, 100, 200, 0, 100, 200];
        let out = single_channel(&src, 3, 2, 7, 2);
        let expected = [0.0f32, 0.0, 66.666_67, 100.0, 133.333_33, 200.0, 200.0];
        for (a, b) in out[..7].iter().zip(expected) {
            assert!((a - b).abs() < 1e-3, "{out:?}");
        }
        // cv2.resize(np.arange(49.).reshape(7, 7) * 5, (10, 10), interpolation=cv2.INTER_AREA)[0]
        let src: Vec<u8> = (0..49).map(|v| (v * 5) as u8).collect();
        let out = single_channel(&src, 7, 7, 10, 10);
        let expected = [
            0.0f32, 2.857_143, 5.714_286, 10.0, 13.571_429, 16.428_572, 20.0, 24.285_714,
            27.142_856, 30.0,
        ];
        for (a, b) in out[..10].iter().zip(expected) {
            assert!((a - b).abs() < 1e-3, "{out:?}");
        }
    }
}

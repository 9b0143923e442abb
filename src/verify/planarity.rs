//! Planarity: can one plane explain how a face's pixels moved between two
//! frames? A photo or a screen, however it is shifted, turned or tilted in
//! front of the camera, is a plane, and the image of a plane moves by a
//! homography (a 3x3 projective map); a live head turning or nodding does
//! not: the nose and cheeks move against the eyes (parallax), and the eyes,
//! lids and mouth change shape.
//!
//! [`planarity`] takes two grey images of the same size (in Vigil, the face
//! resampled in its landmark frame in two frames of the liveness window: a
//! similarity of each frame, so a plane still moves by a homography between
//! them), matches a grid of small blocks by normalised cross-correlation
//! (integer search, then a parabolic sub-sample peak), fits one homography to
//! the matches by least squares (normalised DLT), warps the second image
//! onto the first by that plane and matches and fits again (plane plus
//! parallax: a plane's blocks then no longer deform), and returns the second
//! pass's residuals: how far each match lies from where the homography puts
//! it, in samples.
//! Pure arithmetic on slices; no allocation beyond the match list.

use thiserror::Error;

/// Half the side of a matched block, in samples (blocks are 9x9).
pub const BLOCK_HALF: usize = 4;
/// Distance between block centres, in samples.
pub const GRID_STEP: usize = 4;
/// Largest displacement searched, in samples, either way on both axes.
pub const SEARCH_RADIUS: usize = 4;
/// Least standard deviation of a block's grey levels for it to be matched:
/// flat skin has no texture to follow.
pub const MIN_BLOCK_STD: f32 = 2.0;
/// Least normalised cross-correlation of an accepted match.
pub const MIN_NCC: f32 = 0.8;
/// Lucas-Kanade refinement steps after the integer search, at most.
pub const LK_STEPS: usize = 5;
/// Fewest matches for a fit (4 determine a homography; many more are needed
/// for its residual to mean anything).
pub const MIN_MATCHES: usize = 12;

/// Why no plane could be fitted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanarityError {
    /// The two images do not have `side * side` samples each.
    #[error("images of {a} and {b} samples, expected {expected}")]
    Size {
        /// Samples of the first image.
        a: usize,
        /// Samples of the second image.
        b: usize,
        /// `side * side`.
        expected: usize,
    },
    /// Too little texture, or too much change, to match enough blocks.
    #[error("{found} block matches, at least {needed} needed")]
    TooFewMatches {
        /// Accepted matches.
        found: usize,
        /// [`MIN_MATCHES`].
        needed: usize,
    },
    /// The matches do not determine a homography (collinear, say).
    #[error("degenerate matches: no homography")]
    Degenerate,
}

/// One block matched between the images: its centre in the first image and
/// where it was found in the second, in samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Block centre in the first image.
    pub from: (f32, f32),
    /// Matched position in the second image.
    pub to: (f32, f32),
}

/// The plane fitted to the block matches between two images.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneFit {
    /// The homography, row-major, mapping first-image samples to
    /// second-image samples (`h[8] == 1`).
    pub homography: [f64; 9],
    /// The accepted matches of the first pass.
    pub matches: Vec<Match>,
    /// Per block matched in the second pass (the second image warped onto
    /// the first by the first pass's plane), the distance from its matched
    /// position to the refined plane's prediction, in samples.
    pub residuals: Vec<f32>,
}

impl PlaneFit {
    /// Root mean square of the residuals, in samples.
    pub fn rms(&self) -> f32 {
        let n = self.residuals.len().max(1) as f32;
        (self.residuals.iter().map(|r| r * r).sum::<f32>() / n).sqrt()
    }

    /// The `q` quantile (0..=1, nearest rank) of the residuals, in samples;
    /// 0 without matches.
    pub fn quantile(&self, q: f32) -> f32 {
        quantile(&self.residuals, q)
    }

    /// Median displacement of the matches, in samples: how much there was
    /// to explain.
    pub fn motion(&self) -> f32 {
        let d: Vec<f32> = self
            .matches
            .iter()
            .map(|m| ((m.to.0 - m.from.0).powi(2) + (m.to.1 - m.from.1).powi(2)).sqrt())
            .collect();
        quantile(&d, 0.5)
    }
}

/// The `q` quantile (nearest rank) of `values`; 0 when empty.
pub fn quantile(values: &[f32], q: f32) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    let i = ((q.clamp(0.0, 1.0) * v.len() as f32).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// Matches a grid of blocks of `a` in `b` (both `side * side`, row-major)
/// and fits one homography to the matches; see the module doc.
pub fn planarity(a: &[f32], b: &[f32], side: usize) -> Result<PlaneFit, PlanarityError> {
    let expected = side * side;
    if a.len() != expected || b.len() != expected {
        return Err(PlanarityError::Size {
            a: a.len(),
            b: b.len(),
            expected,
        });
    }
    let matches = block_matches(a, b, side);
    if matches.len() < MIN_MATCHES {
        return Err(PlanarityError::TooFewMatches {
            found: matches.len(),
            needed: MIN_MATCHES,
        });
    }
    let first = fit_homography(&matches).ok_or(PlanarityError::Degenerate)?;
    // Plane plus parallax: the second image warped onto the first by the
    // first plane, then matched again. A plane now sits still, so its blocks
    // no longer deform between the images (a tilt stretches them); what
    // moves still is off the plane.
    let warped: Vec<f32> = (0..expected)
        .map(|i| {
            let (x, y) = apply(&first, (i % side) as f64, (i / side) as f64);
            bilinear(b, side, x as f32, y as f32)
        })
        .collect();
    let rematched = block_matches(a, &warped, side);
    if rematched.len() < MIN_MATCHES {
        return Err(PlanarityError::TooFewMatches {
            found: rematched.len(),
            needed: MIN_MATCHES,
        });
    }
    let second = fit_homography(&rematched).ok_or(PlanarityError::Degenerate)?;
    let residuals = rematched
        .iter()
        .map(|m| {
            let (x, y) = apply(&second, m.from.0 as f64, m.from.1 as f64);
            ((x - m.to.0 as f64).powi(2) + (y - m.to.1 as f64).powi(2)).sqrt() as f32
        })
        .collect();
    let composed = mul3(&first, &second);
    let homography = if composed[8].is_finite() && composed[8].abs() > 1e-12 {
        composed.map(|v| v / composed[8])
    } else {
        first
    };
    Ok(PlaneFit {
        homography,
        matches,
        residuals,
    })
}

/// Where homography `h` maps `(x, y)`; far away for points it sends to
/// infinity.
pub fn apply(h: &[f64; 9], x: f64, y: f64) -> (f64, f64) {
    let w = h[6] * x + h[7] * y + h[8];
    let w = if w.abs() < 1e-12 { 1e-12 } else { w };
    (
        (h[0] * x + h[1] * y + h[2]) / w,
        (h[3] * x + h[4] * y + h[5]) / w,
    )
}

/// Grid blocks of `a` with texture, found in `b` by normalised
/// cross-correlation within [`SEARCH_RADIUS`]; peaks on the search border,
/// below [`MIN_NCC`] or not unique are dropped.
fn block_matches(a: &[f32], b: &[f32], side: usize) -> Vec<Match> {
    let (h, r) = (BLOCK_HALF, SEARCH_RADIUS);
    let margin = h + r + 1;
    let mut out = Vec::new();
    if side < 2 * margin + 1 {
        return out;
    }
    let n = ((2 * h + 1) * (2 * h + 1)) as f32;
    let mut cy = margin;
    while cy < side - margin {
        let mut cx = margin;
        while cx < side - margin {
            if let Some(m) = match_block(a, b, side, cx, cy, n) {
                out.push(m);
            }
            cx += GRID_STEP;
        }
        cy += GRID_STEP;
    }
    out
}

fn match_block(a: &[f32], b: &[f32], side: usize, cx: usize, cy: usize, n: f32) -> Option<Match> {
    let (h, r) = (BLOCK_HALF as isize, SEARCH_RADIUS as isize);
    let at = |img: &[f32], x: isize, y: isize| img[y as usize * side + x as usize];
    let (cx, cy) = (cx as isize, cy as isize);
    let (mut sa, mut saa) = (0f32, 0f32);
    for y in cy - h..=cy + h {
        for x in cx - h..=cx + h {
            let v = at(a, x, y);
            sa += v;
            saa += v * v;
        }
    }
    let mean_a = sa / n;
    let var_a = (saa / n - mean_a * mean_a).max(0.0);
    if var_a.sqrt() < MIN_BLOCK_STD {
        return None;
    }
    let w = (2 * r + 1) as usize;
    let mut scores = vec![f32::NEG_INFINITY; w * w];
    for dy in -r..=r {
        for dx in -r..=r {
            let (mut sb, mut sbb, mut sab) = (0f32, 0f32, 0f32);
            for y in -h..=h {
                for x in -h..=h {
                    let va = at(a, cx + x, cy + y);
                    let vb = at(b, cx + dx + x, cy + dy + y);
                    sb += vb;
                    sbb += vb * vb;
                    sab += va * vb;
                }
            }
            let mean_b = sb / n;
            let var_b = sbb / n - mean_b * mean_b;
            if var_b <= 1e-6 {
                continue;
            }
            let cov = sab / n - mean_a * mean_b;
            scores[((dy + r) as usize) * w + (dx + r) as usize] = cov / (var_a * var_b).sqrt();
        }
    }
    let (best, score) = scores
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.total_cmp(y.1))
        .map(|(i, s)| (i, *s))?;
    if score < MIN_NCC {
        return None;
    }
    let (bx, by) = ((best % w) as isize, (best / w) as isize);
    if bx == 0 || by == 0 || bx == 2 * r || by == 2 * r {
        return None;
    }
    let (mut dx, mut dy) = ((bx - r) as f32, (by - r) as f32);
    // Sub-sample refinement: Lucas-Kanade steps on the zero-mean block,
    // with the first image's gradients (inverse compositional).
    let mut g = [0f32; 3];
    let mut grads = Vec::with_capacity(n as usize);
    for y in cy - h..=cy + h {
        for x in cx - h..=cx + h {
            let gx = (at(a, x + 1, y) - at(a, x - 1, y)) / 2.0;
            let gy = (at(a, x, y + 1) - at(a, x, y - 1)) / 2.0;
            g[0] += gx * gx;
            g[1] += gx * gy;
            g[2] += gy * gy;
            grads.push((gx, gy, at(a, x, y) - mean_a));
        }
    }
    let det = g[0] * g[2] - g[1] * g[1];
    if det <= 1e-6 {
        return None;
    }
    let limit = (SEARCH_RADIUS as f32) + 0.5;
    for _ in 0..LK_STEPS {
        let mut vals = Vec::with_capacity(grads.len());
        for y in -h..=h {
            for x in -h..=h {
                vals.push(bilinear(
                    b,
                    side,
                    (cx + x) as f32 + dx,
                    (cy + y) as f32 + dy,
                ));
            }
        }
        let mean_b = vals.iter().sum::<f32>() / n;
        let (mut ex, mut ey) = (0f32, 0f32);
        for ((gx, gy, va), vb) in grads.iter().zip(&vals) {
            let e = va - (vb - mean_b);
            ex += gx * e;
            ey += gy * e;
        }
        let (sx, sy) = ((g[2] * ex - g[1] * ey) / det, (g[0] * ey - g[1] * ex) / det);
        dx += sx;
        dy += sy;
        if dx.abs() > limit || dy.abs() > limit {
            return None;
        }
        if sx.abs() < 1e-3 && sy.abs() < 1e-3 {
            break;
        }
    }
    Some(Match {
        from: (cx as f32, cy as f32),
        to: (cx as f32 + dx, cy as f32 + dy),
    })
}

/// Bilinear sample of a `side`-wide image at `(x, y)`, clamped at the edges.
fn bilinear(img: &[f32], side: usize, x: f32, y: f32) -> f32 {
    let max = (side - 1) as f32;
    let (x, y) = (x.clamp(0.0, max), y.clamp(0.0, max));
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(side - 1), (y0 + 1).min(side - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let top = img[y0 * side + x0] * (1.0 - fx) + img[y0 * side + x1] * fx;
    let bottom = img[y1 * side + x0] * (1.0 - fx) + img[y1 * side + x1] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Least-squares homography (DLT with `h[8] = 1`) on Hartley-normalised
/// points; `None` when the system is singular.
fn fit_homography(matches: &[Match]) -> Option<[f64; 9]> {
    let norm = |pts: &mut dyn Iterator<Item = (f32, f32)>| {
        let v: Vec<(f64, f64)> = pts.map(|(x, y)| (x as f64, y as f64)).collect();
        let n = v.len().max(1) as f64;
        let (mx, my) = (
            v.iter().map(|p| p.0).sum::<f64>() / n,
            v.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let d = v
            .iter()
            .map(|p| ((p.0 - mx).powi(2) + (p.1 - my).powi(2)).sqrt())
            .sum::<f64>()
            / n;
        let s = if d > 1e-9 {
            std::f64::consts::SQRT_2 / d
        } else {
            1.0
        };
        (mx, my, s)
    };
    let (ax, ay, as_) = norm(&mut matches.iter().map(|m| m.from));
    let (bx, by, bs) = norm(&mut matches.iter().map(|m| m.to));
    // Normal equations of the 2N x 8 system.
    let mut ata = [[0f64; 8]; 8];
    let mut atb = [0f64; 8];
    for m in matches {
        let (x, y) = ((m.from.0 as f64 - ax) * as_, (m.from.1 as f64 - ay) * as_);
        let (u, v) = ((m.to.0 as f64 - bx) * bs, (m.to.1 as f64 - by) * bs);
        let rows = [
            ([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u], u),
            ([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v], v),
        ];
        for (row, rhs) in rows {
            for i in 0..8 {
                for j in 0..8 {
                    ata[i][j] += row[i] * row[j];
                }
                atb[i] += row[i] * rhs;
            }
        }
    }
    let p = solve8(ata, atb)?;
    let hn = [p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], 1.0];
    // Undo the normalisation: H = Tb^-1 Hn Ta.
    let ta = [as_, 0.0, -as_ * ax, 0.0, as_, -as_ * ay, 0.0, 0.0, 1.0];
    let tb_inv = [1.0 / bs, 0.0, bx, 0.0, 1.0 / bs, by, 0.0, 0.0, 1.0];
    let h = mul3(&tb_inv, &mul3(&hn, &ta));
    let scale = h[8];
    if !scale.is_finite() || scale.abs() < 1e-12 {
        return None;
    }
    let mut out = [0f64; 9];
    for (o, v) in out.iter_mut().zip(h) {
        *o = v / scale;
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

fn mul3(a: &[f64; 9], b: &[f64; 9]) -> [f64; 9] {
    let mut c = [0f64; 9];
    for i in 0..3 {
        for j in 0..3 {
            c[i * 3 + j] = (0..3).map(|k| a[i * 3 + k] * b[k * 3 + j]).sum();
        }
    }
    c
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve8(mut m: [[f64; 8]; 8], mut rhs: [f64; 8]) -> Option<[f64; 8]> {
    let scale = m
        .iter()
        .flat_map(|r| r.iter())
        .fold(0f64, |a, v| a.max(v.abs()));
    if scale <= 0.0 {
        return None;
    }
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 * scale {
            return None;
        }
        m.swap(col, pivot);
        rhs.swap(col, pivot);
        let (pivot_row, pivot_rhs) = (m[col], rhs[col]);
        for row in col + 1..8 {
            let f = m[row][col] / pivot_row[col];
            for (v, p) in m[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= f * p;
            }
            rhs[row] -= f * pivot_rhs;
        }
    }
    let mut x = [0f64; 8];
    for col in (0..8).rev() {
        let s: f64 = (col + 1..8).map(|k| m[col][k] * x[k]).sum();
        x[col] = (rhs[col] - s) / m[col][col];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: usize = 48;

    /// A smooth random texture: the sum of a few sinusoids with
    /// incommensurate frequencies, sampled anywhere (no aliasing at the
    /// sampling rates used here).
    fn texture(x: f64, y: f64) -> f32 {
        let waves = [
            (0.61, 0.23, 0.0, 40.0),
            (-0.37, 0.71, 1.3, 35.0),
            (0.83, -0.52, 2.1, 25.0),
            (0.17, 0.94, 0.4, 30.0),
            (1.13, 0.41, 2.9, 20.0),
        ];
        let v: f64 = waves
            .iter()
            .map(|(fx, fy, ph, amp)| amp * (fx * x + fy * y + ph).sin())
            .sum();
        (128.0 + v) as f32
    }

    fn render(map: impl Fn(f64, f64) -> f32) -> Vec<f32> {
        (0..SIDE * SIDE)
            .map(|i| map((i % SIDE) as f64, (i / SIDE) as f64))
            .collect()
    }

    /// The inverse of homography `h` (by the adjugate).
    fn inverse(h: &[f64; 9]) -> [f64; 9] {
        let [a, b, c, d, e, f, g, hh, i] = *h;
        let adj = [
            e * i - f * hh,
            c * hh - b * i,
            b * f - c * e,
            f * g - d * i,
            a * i - c * g,
            c * d - a * f,
            d * hh - e * g,
            b * g - a * hh,
            a * e - b * d,
        ];
        let det = a * adj[0] + b * adj[3] + c * adj[6];
        adj.map(|v| v / det)
    }

    #[test]
    fn a_plane_under_a_homography_is_planar() {
        // A tilt (perspective terms), a small turn, a scale and a shift.
        let h = [1.03, 0.02, -1.2, -0.015, 0.98, 0.8, 0.0012, -0.0008, 1.0];
        let inv = inverse(&h);
        let a = render(texture);
        let b = render(|x, y| {
            let (sx, sy) = apply(&inv, x, y);
            texture(sx, sy)
        });
        let fit = planarity(&a, &b, SIDE).unwrap();
        assert!(fit.matches.len() >= 40, "{} matches", fit.matches.len());
        assert!(fit.motion() > 0.5, "motion {}", fit.motion());
        assert!(fit.rms() < 0.1, "rms {}", fit.rms());
        assert!(fit.quantile(0.9) < 0.15, "p90 {}", fit.quantile(0.9));
        // And the fitted homography is the one applied.
        let (x, y) = apply(&fit.homography, 24.0, 24.0);
        let (ex, ey) = apply(&h, 24.0, 24.0);
        assert!((x - ex).abs() < 0.1 && (y - ey).abs() < 0.1);
    }

    #[test]
    fn a_still_plane_has_no_residual() {
        let a = render(texture);
        let fit = planarity(&a, &a, SIDE).unwrap();
        assert!(fit.rms() < 1e-3 && fit.motion() < 1e-3, "{fit:?}");
    }

    #[test]
    fn two_depths_with_parallax_are_not_planar() {
        // A camera translating sideways past a textured wall (shift 1
        // sample) with a raised square in front of it (shift 3 samples), as
        // a nose in front of the cheeks.
        let raised = |x: f64, y: f64| (16.0..32.0).contains(&x) && (16.0..32.0).contains(&y);
        let scene = |x: f64, y: f64, shift_far: f64, shift_near: f64| {
            if raised(x - shift_near, y) {
                texture(x - shift_near + 100.0, y)
            } else {
                texture(x - shift_far, y)
            }
        };
        let a = render(|x, y| scene(x, y, 0.0, 0.0));
        let b = render(|x, y| scene(x, y, 1.0, 3.0));
        let fit = planarity(&a, &b, SIDE).unwrap();
        assert!(fit.quantile(0.9) > 1.0, "p90 {} {fit:?}", fit.quantile(0.9));
        assert!(fit.rms() > 0.5, "rms {}", fit.rms());
    }

    #[test]
    fn flat_or_mismatched_input_is_an_error() {
        let flat = vec![100f32; SIDE * SIDE];
        assert!(matches!(
            planarity(&flat, &flat, SIDE),
            Err(PlanarityError::TooFewMatches { found: 0, .. })
        ));
        assert!(matches!(
            planarity(&flat, &flat[1..], SIDE),
            Err(PlanarityError::Size { .. })
        ));
    }

    #[test]
    fn quantile_is_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 1.0), 3.0);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.0), 1.0);
    }
}

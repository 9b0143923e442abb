//! Lighting-stressed variants of an identity set, made reproducibly from the
//! images themselves (`vigil eval verify --lighting`): AT&T's even studio
//! light says little about a door at night or a face lit from one window.
//!
//! Each condition is a fixed function of the pixels, the image's size and a
//! seed drawn from the image's index in the set (so a run is repeatable and
//! the two images of a pair are lit differently):
//! - **side**: a horizontal light ramp, gain [`SIDE_BRIGHT`] on the lit side
//!   falling exponentially to [`SIDE_DARK`] on the other, clipped at white;
//!   the lit side alternates left/right from image to image.
//! - **low**: the light cut to [`LOW_GAIN`] and sensor noise of standard
//!   deviation [`LOW_NOISE`] grey levels (Gaussian, seeded per image).
//! - **overhead**: a vertical ramp from [`OVERHEAD_TOP`] at the top to
//!   [`OVERHEAD_BOTTOM`] at the bottom, with contrast raised by the gamma
//!   [`OVERHEAD_GAMMA`] (bright forehead, dark eye sockets and chin).
//! - **mixed**: each image gets one of none, side (left or right), low or
//!   overhead, drawn from its seed: pairs across conditions, as when a person
//!   enrolled in daylight comes home at night.

use image::RgbImage;
use serde::Serialize;

use super::verify::splitmix;

/// Gain on the lit side of a side-lit face.
pub const SIDE_BRIGHT: f32 = 1.8;
/// Gain on the far side of a side-lit face.
pub const SIDE_DARK: f32 = 0.12;
/// Gain of low light.
pub const LOW_GAIN: f32 = 0.22;
/// Noise of low light, grey levels (standard deviation).
pub const LOW_NOISE: f32 = 6.0;
/// Gain at the top of an overhead-lit image.
pub const OVERHEAD_TOP: f32 = 1.7;
/// Gain at the bottom of an overhead-lit image.
pub const OVERHEAD_BOTTOM: f32 = 0.3;
/// Contrast of overhead light (a gamma above 1 darkens the mid-tones).
pub const OVERHEAD_GAMMA: f32 = 1.5;
/// Seed of the per-image draws.
pub const LIGHTING_SEED: u64 = 0x11_9b7e;

/// Which lighting the images are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lighting {
    /// The images as they are.
    None,
    /// Strong light from one side (alternating).
    Side,
    /// Dim light with sensor noise.
    Low,
    /// Harsh light from above.
    Overhead,
    /// One of the above per image, drawn from a seed.
    Mixed,
}

/// A uniform draw in (0, 1).
fn uniform(state: &mut u64) -> f32 {
    ((splitmix(state) >> 40) as f32 + 0.5) / (1u64 << 24) as f32
}

/// A standard normal draw (Box-Muller).
fn normal(state: &mut u64) -> f32 {
    let (u, v) = (uniform(state), uniform(state));
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

/// The concrete condition of image `index` under `lighting`, and whether a
/// side light comes from the left.
fn condition(lighting: Lighting, index: u64) -> (Lighting, bool) {
    let mut s = LIGHTING_SEED ^ index.wrapping_mul(0x2545_f491_4f6c_dd1d);
    let left = index % 2 == 0;
    match lighting {
        Lighting::Mixed => match splitmix(&mut s) % 5 {
            0 => (Lighting::None, left),
            1 => (Lighting::Side, true),
            2 => (Lighting::Side, false),
            3 => (Lighting::Low, left),
            _ => (Lighting::Overhead, left),
        },
        other => (other, left),
    }
}

/// `img` under `lighting`, image `index` of the set (the seed of its draws).
pub fn relight(img: &RgbImage, lighting: Lighting, index: u64) -> RgbImage {
    let (kind, from_left) = condition(lighting, index);
    let (w, h) = img.dimensions();
    let span = |n: u32, i: u32| {
        if n > 1 {
            i as f32 / (n - 1) as f32
        } else {
            0.5
        }
    };
    let ramp = |t: f32, a: f32, b: f32| (a.ln() + (b.ln() - a.ln()) * t).exp();
    let mut noise = LIGHTING_SEED ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5a5a;
    let mut out = img.clone();
    for (x, y, px) in out.enumerate_pixels_mut() {
        let (gain, gamma, sigma) = match kind {
            Lighting::None | Lighting::Mixed => (1.0, 1.0, 0.0),
            Lighting::Side => {
                let t = span(w, x);
                let t = if from_left { t } else { 1.0 - t };
                (ramp(t, SIDE_BRIGHT, SIDE_DARK), 1.0, 0.0)
            }
            Lighting::Low => (LOW_GAIN, 1.0, LOW_NOISE),
            Lighting::Overhead => (
                ramp(span(h, y), OVERHEAD_TOP, OVERHEAD_BOTTOM),
                OVERHEAD_GAMMA,
                0.0,
            ),
        };
        // one noise draw per pixel, shared by the channels (grey sensor noise)
        let n = if sigma > 0.0 {
            normal(&mut noise) * sigma
        } else {
            0.0
        };
        for c in px.0.iter_mut() {
            let v = (*c as f32 / 255.0).powf(gamma) * 255.0 * gain + n;
            *c = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(v: u8) -> RgbImage {
        RgbImage::from_pixel(40, 50, image::Rgb([v, v, v]))
    }

    #[test]
    fn none_is_the_identity_and_each_condition_is_repeatable() {
        let img = flat(100);
        assert_eq!(relight(&img, Lighting::None, 3), img);
        for l in [
            Lighting::Side,
            Lighting::Low,
            Lighting::Overhead,
            Lighting::Mixed,
        ] {
            assert_eq!(relight(&img, l, 7), relight(&img, l, 7), "{l:?}");
        }
    }

    #[test]
    fn side_light_alternates_and_clips() {
        let img = flat(200);
        let a = relight(&img, Lighting::Side, 0);
        let b = relight(&img, Lighting::Side, 1);
        assert_eq!(a.get_pixel(0, 10).0[0], 255);
        assert!(a.get_pixel(39, 10).0[0] < 30);
        assert!(b.get_pixel(0, 10).0[0] < 30);
        assert_eq!(b.get_pixel(39, 10).0[0], 255);
    }

    #[test]
    fn low_light_is_dark_and_noisy_overhead_darkens_the_bottom() {
        let low = relight(&flat(200), Lighting::Low, 2);
        let values: Vec<f32> = low.pixels().map(|p| p.0[0] as f32).collect();
        let mean = values.iter().sum::<f32>() / values.len() as f32;
        let sd =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt();
        assert!((mean - 200.0 * LOW_GAIN).abs() < 2.0, "mean {mean}");
        assert!((sd - LOW_NOISE).abs() < 1.0, "sd {sd}");
        let over = relight(&flat(150), Lighting::Overhead, 0);
        assert!(over.get_pixel(20, 0).0[0] > over.get_pixel(20, 49).0[0] + 100);
    }

    #[test]
    fn mixed_draws_every_condition() {
        // none, low, overhead, and side from the left and from the right
        let kinds: std::collections::HashSet<_> = (0..200)
            .map(|i| match condition(Lighting::Mixed, i) {
                (Lighting::Side, left) => format!("side {left}"),
                (kind, _) => format!("{kind:?}"),
            })
            .collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
    }
}

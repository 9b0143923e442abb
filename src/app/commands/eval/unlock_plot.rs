//! The plot of `vigil eval unlock --sweep KEY=.. --plot FILE`: genuine and
//! spoof acceptance (y, 0..1) against the swept value (x).

use std::path::Path;

use super::unlock::SweepPoint;
use super::verify::line;
use crate::app::present::canvas::{rgb, Canvas};

const W: usize = 640;
const H: usize = 420;
const MARGIN: i64 = 56;

/// Draws the sweep: one blue line for genuine attempts, one red for spoofs.
pub fn draw(key: &str, points: &[SweepPoint]) -> Canvas {
    let mut c = Canvas::new(W, H);
    c.fill(0, 0, W as i64, H as i64, rgb(255, 255, 255), 1.0);
    let (grey, black) = (rgb(200, 200, 200), rgb(0, 0, 0));
    let (blue, red) = (rgb(20, 60, 200), rgb(210, 30, 30));
    let (x0, x1, y0, y1) = (MARGIN, W as i64 - 24, H as i64 - MARGIN, 32i64);
    let lo = points.iter().map(|p| p.value).fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|p| p.value)
        .fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let fx = |v: f64| x0 + ((v - lo) / span * (x1 - x0) as f64) as i64;
    let fy = |r: f64| y0 - (r.clamp(0.0, 1.0) * (y0 - y1) as f64) as i64;
    for k in 0..=4 {
        let r = k as f64 / 4.0;
        c.fill(x0, fy(r), x1, fy(r), grey, 1.0);
        c.text(8, fy(r) - 4, &format!("{:.0}%", r * 100.0), 1, black);
    }
    for p in points {
        let x = fx(p.value);
        c.fill(x, y1, x, y0, grey, 1.0);
        c.text(x - 16, y0 + 8, &format!("{:.3}", p.value), 1, black);
    }
    c.rect(x0, y1, x1, y0, 1, black);
    for (colour, rate) in [
        (
            blue,
            (|p: &SweepPoint| p.genuine_rate) as fn(&SweepPoint) -> f64,
        ),
        (red, |p: &SweepPoint| p.spoof_rate),
    ] {
        let mut prev: Option<(i64, i64)> = None;
        for p in points {
            let q = (fx(p.value), fy(rate(p)));
            c.dot(q.0, q.1, 3, colour);
            if let Some(a) = prev {
                line(&mut c, a, q, colour);
            }
            prev = Some(q);
        }
    }
    c.text(
        x0,
        10,
        "unlocked: genuine attempts (blue), spoof clips (red)",
        1,
        black,
    );
    c.text(x0, H as i64 - 22, key, 1, black);
    c
}

/// Draws the sweep and writes it as a PNG.
pub fn write(key: &str, points: &[SweepPoint], path: &Path) -> anyhow::Result<()> {
    super::emotion::save_png(&draw(key, points), path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_drawn_in_their_colours() {
        let p = |value, genuine_rate, spoof_rate| SweepPoint {
            value,
            genuine_rate,
            spoof_rate,
            time_to_unlock_p50_s: None,
        };
        let c = draw("k", &[p(0.01, 1.0, 0.5), p(0.02, 0.9, 0.0)]);
        let count = |colour| c.pixels.iter().filter(|&&v| v == colour).count();
        assert!(count(rgb(20, 60, 200)) > 100);
        assert!(count(rgb(210, 30, 30)) > 100);
        // A single point and equal values do not divide by zero.
        let _ = draw("k", &[p(0.5, 0.5, 0.5)]);
        let _ = draw("k", &[]);
    }
}

//! Measures the planarity cue on frames of a clip: the face (the largest
//! detection) resampled in its landmark frame, and for every frame the
//! homography fit against the frame `lag` frames earlier, for a few lags.
//! Prints one line per pair: `clip lag frame matches rms p50 p75 p90 motion`
//! (residuals and motion in eye distances), and per clip the mean time of a
//! face sample and of a plane fit on stderr. Used to choose
//! `liveness.min_planar_residual` (see dev/unlock/README.md).
//!
//! ffmpeg -i clip.mp4 -t 8 /tmp/frames/clip/%04d.png
//! cargo run --example planarity_probe -- /tmp/frames/clip ...

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use vigil::app::config::Config;
use vigil::capture::{list_images, load_rgb};
use vigil::models::{resolve_dir, ModelStore};
use vigil::verify::liveness::{aligned_grey, PLANAR_SIDE, PLANAR_SPAN};
use vigil::verify::planarity::planarity;

const LAGS: [usize; 4] = [3, 6, 12, 24];

fn main() -> anyhow::Result<()> {
    let store = ModelStore::new(resolve_dir(None)?);
    let config = Config::default();
    let mut finder = vigil::app::face_finder(&store, &config, None)?;
    let unit = PLANAR_SPAN / PLANAR_SIDE as f32;
    for dir in std::env::args().skip(1).map(PathBuf::from) {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut samples: Vec<Option<Vec<f32>>> = Vec::new();
        let (mut sample_s, mut samples_n, mut fit_s, mut fits_n) = (0f64, 0u32, 0f64, 0u32);
        for path in list_images(&dir)? {
            let img = load_rgb(&path).with_context(|| path.display().to_string())?;
            let dets = finder.find(&img).map_err(|e| anyhow::anyhow!("{e}"))?;
            let best = dets
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area()));
            let t0 = Instant::now();
            samples.push(best.map(|d| aligned_grey(&img, &d.landmarks, PLANAR_SIDE, PLANAR_SPAN)));
            sample_s += t0.elapsed().as_secs_f64();
            samples_n += 1;
        }
        for (i, cur) in samples.iter().enumerate() {
            for lag in LAGS {
                let (Some(cur), Some(Some(prev))) = (cur, i.checked_sub(lag).map(|j| &samples[j]))
                else {
                    continue;
                };
                let t0 = Instant::now();
                let fit = planarity(prev, cur, PLANAR_SIDE);
                fit_s += t0.elapsed().as_secs_f64();
                fits_n += 1;
                match fit {
                    Ok(f) => println!(
                        "{name} {lag} {i} {} {:.5} {:.5} {:.5} {:.5} {:.5}",
                        f.matches.len(),
                        f.rms() * unit,
                        f.quantile(0.5) * unit,
                        f.quantile(0.75) * unit,
                        f.quantile(0.9) * unit,
                        f.motion() * unit
                    ),
                    Err(e) => println!("{name} {lag} {i} err {e}"),
                }
            }
        }
        eprintln!(
            "{name}: face sample {:.3} ms, plane fit {:.3} ms (means of {samples_n} and {fits_n})",
            1e3 * sample_s / f64::from(samples_n.max(1)),
            1e3 * fit_s / f64::from(fits_n.max(1))
        );
    }
    Ok(())
}

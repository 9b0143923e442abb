//! `vigil eval detect`: the detector on annotated photos or on clips.
//!
//! Photos: `--images DIR --boxes CSV` (columns `image,x,y,w,h`, one row per
//! face) gives recall, precision and AP at IoU >= `--iou` (0.4). Without
//! `--boxes` it only lists the faces found (with `--dump`, as JSON lines for
//! `dev/parity/`). Clips: `--video PATH --expect face|none` gives the fraction
//! of frames with at least one face and the frames where that changes.
//! Either way the median time per image and per stage is printed; with
//! `--json` the last stdout line is one JSON object.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde::Serialize;
use serde_json::json;

use crate::app::config::Config;
use crate::capture::{self, FrameSource, VideoSource};
use crate::core::face::Detection;
use crate::core::geometry::BoundingBox;
use crate::detect::{DetectTimings, Detector};
use crate::models::{self, ModelStore};

use super::detect_metrics::{score, DetectionScore, Scored};

/// IoU at which a detection matches a ground-truth face.
pub const DEFAULT_MATCH_IOU: f32 = 0.4;

/// What a clip is known to contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A face in every frame.
    Face,
    /// No face in any frame.
    None,
}

/// `vigil eval detect` arguments.
#[derive(Debug, Args)]
pub struct DetectEvalArgs {
    /// Folder of photos.
    #[arg(long, value_name = "DIR", conflicts_with = "video")]
    pub images: Option<PathBuf>,
    /// Ground truth for --images: CSV with columns image,x,y,w,h.
    #[arg(long, value_name = "CSV", requires = "images")]
    pub boxes: Option<PathBuf>,
    /// A video clip (decoded with ffmpeg).
    #[arg(long, value_name = "PATH", requires = "expect")]
    pub video: Option<PathBuf>,
    /// What the clip contains: a face in every frame, or none.
    #[arg(long, value_enum, requires = "video")]
    pub expect: Option<Expect>,
    /// Minimum IoU for a detection to match a ground-truth face.
    #[arg(long, default_value_t = DEFAULT_MATCH_IOU)]
    pub iou: f32,
    /// Override detect.min_face_px.
    #[arg(long, value_name = "PX")]
    pub min_face: Option<f64>,
    /// Write every image's (or frame's) faces as JSON lines to FILE.
    #[arg(long, value_name = "FILE")]
    pub dump: Option<PathBuf>,
    /// End with one JSON object on the last stdout line.
    #[arg(long)]
    pub json: bool,
}

/// Runs `vigil eval detect`.
pub fn run(config: &Config, args: &DetectEvalArgs) -> anyhow::Result<()> {
    let mut detect_config = config.detect.clone();
    if let Some(px) = args.min_face {
        detect_config.min_face_px = px;
    }
    detect_config.validate()?;
    let dir = models::resolve_dir(config.models.dir())?;
    let mut detector = Detector::new(&ModelStore::new(&dir), &detect_config)?;
    let mut dump = match &args.dump {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    match (&args.images, &args.video, args.expect) {
        (Some(images), None, _) => eval_images(&mut detector, images, args, dump.as_mut()),
        (None, Some(video), Some(expect)) => {
            eval_video(&mut detector, video, expect, args, dump.as_mut())
        }
        _ => bail!("give --images DIR [--boxes CSV], or --video PATH --expect face|none"),
    }
}

/// One line of `--dump`.
#[derive(Debug, Serialize)]
struct DumpLine<'a> {
    image: &'a str,
    width: u32,
    height: u32,
    faces: &'a [Detection],
}

fn write_dump(
    dump: Option<&mut impl Write>,
    name: &str,
    size: (u32, u32),
    faces: &[Detection],
) -> anyhow::Result<()> {
    if let Some(w) = dump {
        let line = DumpLine {
            image: name,
            width: size.0,
            height: size.1,
            faces,
        };
        serde_json::to_writer(&mut *w, &line)?;
        writeln!(w)?;
    }
    Ok(())
}

/// Ground truth: image file name -> boxes.
pub fn read_boxes(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<BoundingBox>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out: BTreeMap<String, Vec<BoundingBox>> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("image")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        if f.len() != 5 {
            bail!("{} line {}: expected image,x,y,w,h", path.display(), n + 1);
        }
        let num = |s: &str| -> anyhow::Result<f32> {
            s.parse::<f32>().with_context(|| {
                format!("{} line {}: `{s}` is not a number", path.display(), n + 1)
            })
        };
        let b = BoundingBox::new(num(f[1])?, num(f[2])?, num(f[3])?, num(f[4])?);
        out.entry(f[0].to_string()).or_default().push(b);
    }
    Ok(out)
}

fn eval_images(
    detector: &mut Detector,
    dir: &Path,
    args: &DetectEvalArgs,
    mut dump: Option<&mut impl Write>,
) -> anyhow::Result<()> {
    let truth_by_name = match &args.boxes {
        Some(p) => Some(read_boxes(p)?),
        None => None,
    };
    let files = capture::list_images(dir)?;
    if files.is_empty() {
        bail!("no images in {}", dir.display());
    }
    let mut truth = Vec::new();
    let mut scored = Vec::new();
    let mut timings = Vec::new();
    println!(
        "{:<28} {:>9} {:>6} {:>6}",
        "image", "size", "truth", "found"
    );
    for (ix, path) in files.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let image = capture::load_rgb(path)?;
        // Build this size's P-Net plans first, so that detection alone is timed.
        detector.prepare(image.width(), image.height())?;
        let (faces, t) = detector.detect_timed(&image)?;
        let gt = truth_by_name
            .as_ref()
            .map(|m| m.get(&name).cloned().unwrap_or_default())
            .unwrap_or_default();
        println!(
            "{:<28} {:>9} {:>6} {:>6}",
            name,
            format!("{}x{}", image.width(), image.height()),
            if truth_by_name.is_some() {
                gt.len().to_string()
            } else {
                "-".into()
            },
            faces.len()
        );
        write_dump(dump.as_deref_mut(), &name, image.dimensions(), &faces)?;
        scored.extend(faces.iter().map(|f| Scored {
            image: ix,
            bbox: f.bbox,
            score: f.score,
        }));
        truth.push(gt);
        timings.push(t);
    }
    if let Some(truth_by_name) = &truth_by_name {
        let listed: Vec<String> = files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        for name in truth_by_name.keys() {
            if !listed.contains(name) {
                bail!("{name} is in the boxes file but not in {}", dir.display());
            }
        }
    }
    let timing = TimingSummary::of(&timings);
    timing.print();
    let mut summary = json!({
        "min_face_px": detector.config().min_face_px,
        "iou_threshold": args.iou,
        "timing": timing,
    });
    if truth_by_name.is_some() {
        let s = score(&truth, &scored, args.iou);
        print_score(&s, args.iou);
        merge(&mut summary, serde_json::to_value(s)?);
    } else {
        merge(
            &mut summary,
            json!({"images": files.len(), "detections": scored.len()}),
        );
    }
    if args.json {
        println!("{summary}");
    }
    Ok(())
}

fn print_score(s: &DetectionScore, iou: f32) {
    println!(
        "{} images, {} faces, {} detections, {} matched at IoU >= {iou}: recall {:.3}, precision {:.3}, AP {:.3}",
        s.images, s.faces, s.detections, s.true_positives, s.recall, s.precision, s.ap
    );
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(a), serde_json::Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

fn eval_video(
    detector: &mut Detector,
    path: &Path,
    expect: Expect,
    args: &DetectEvalArgs,
    mut dump: Option<&mut impl Write>,
) -> anyhow::Result<()> {
    let mut source = VideoSource::open(path)?;
    let mut present = Vec::new();
    let mut times = Vec::new();
    let mut timings = Vec::new();
    while let Some(frame) = source.next_frame()? {
        if frame.seq == 0 {
            // Plans for every pyramid level now, so frame 0 is timed like the rest.
            detector.prepare(frame.width(), frame.height())?;
        }
        let (faces, t) = detector.detect_timed(&frame.image)?;
        write_dump(
            dump.as_deref_mut(),
            &frame.seq.to_string(),
            frame.image.dimensions(),
            &faces,
        )?;
        present.push(!faces.is_empty());
        times.push(frame.media_time.as_secs_f64());
        timings.push(t);
    }
    if present.is_empty() {
        bail!("{} has no frames", path.display());
    }
    let frames = present.len();
    let with_face = present.iter().filter(|p| **p).count();
    let hit_rate = with_face as f64 / frames as f64;
    let changes = transitions(&present);
    let change_times: Vec<f64> = changes.iter().map(|i| times[*i]).collect();
    let first = present.iter().position(|p| *p);
    let last = present.iter().rposition(|p| *p);
    println!(
        "{}: {frames} frames, a face in {with_face} ({:.1}%), expected: {:?}",
        path.display(),
        100.0 * hit_rate,
        expect
    );
    println!(
        "face first seen at frame {first:?}, last at {last:?}; presence changes at frames {changes:?} (media time {})",
        change_times
            .iter()
            .map(|t| format!("{t:.3} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let timing = TimingSummary::of(&timings);
    timing.print();
    if args.json {
        let summary = json!({
            "video": path.display().to_string(),
            "expect": expect,
            "frames": frames,
            "frames_with_face": with_face,
            "frame_hit_rate": hit_rate,
            "first_face_frame": first,
            "last_face_frame": last,
            "transitions": changes,
            "transition_times_s": change_times,
            "min_face_px": detector.config().min_face_px,
            "timing": timing,
        });
        println!("{summary}");
    }
    Ok(())
}

/// Frame indices where face presence differs from the frame before.
pub fn transitions(present: &[bool]) -> Vec<usize> {
    present
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] != w[1])
        .map(|(i, _)| i + 1)
        .collect()
}

/// Median milliseconds per image, overall and per stage.
#[derive(Debug, Clone, Serialize)]
pub struct TimingSummary {
    /// Images (or frames) timed.
    pub images: usize,
    /// Median detector time per image, in milliseconds.
    pub median_ms: f64,
    /// 90th-percentile detector time per image, in milliseconds.
    pub p90_ms: f64,
    /// Median time per image of each detector step (pyramid resize, P-Net,
    /// R-Net, O-Net, ...), in milliseconds, by step name.
    pub stages_median_ms: BTreeMap<&'static str, f64>,
    /// Median number of candidate windows entering R-Net per image.
    pub median_rnet_windows: usize,
    /// Median number of windows entering O-Net per image.
    pub median_onet_windows: usize,
}

impl TimingSummary {
    /// Summarises per-image detector timings (all zero when `timings` is empty).
    pub fn of(timings: &[DetectTimings]) -> Self {
        let total: Vec<Duration> = timings.iter().map(|t| t.total).collect();
        let mut stages = BTreeMap::new();
        if let Some(first) = timings.first() {
            for (k, (name, _)) in first.stages().iter().enumerate() {
                let v: Vec<Duration> = timings.iter().map(|t| t.stages()[k].1).collect();
                stages.insert(*name, ms(quantile(&v, 0.5)));
            }
        }
        let mut rn: Vec<usize> = timings.iter().map(|t| t.rnet_windows).collect();
        let mut on: Vec<usize> = timings.iter().map(|t| t.onet_windows).collect();
        rn.sort_unstable();
        on.sort_unstable();
        Self {
            images: timings.len(),
            median_ms: ms(quantile(&total, 0.5)),
            p90_ms: ms(quantile(&total, 0.9)),
            stages_median_ms: stages,
            median_rnet_windows: rn.get(rn.len() / 2).copied().unwrap_or(0),
            median_onet_windows: on.get(on.len() / 2).copied().unwrap_or(0),
        }
    }

    /// Prints the summary to stdout: one line, then one line per step.
    pub fn print(&self) {
        println!(
            "detector time per image: median {:.2} ms, p90 {:.2} ms ({} images; median windows into R-Net {}, O-Net {})",
            self.median_ms,
            self.p90_ms,
            self.images,
            self.median_rnet_windows,
            self.median_onet_windows
        );
        for (name, v) in &self.stages_median_ms {
            println!("  {name:<20} {v:>7.2} ms");
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn quantile(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let mut s = v.to_vec();
    s.sort_unstable();
    let ix = ((s.len() - 1) as f64 * q).round() as usize;
    s[ix.min(s.len() - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_mark_changes() {
        assert_eq!(transitions(&[false, false, true, true, false]), vec![2, 4]);
        assert!(transitions(&[true; 4]).is_empty());
        assert!(transitions(&[]).is_empty());
    }

    #[test]
    fn boxes_csv_is_read_per_image() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("boxes.csv");
        std::fs::write(
            &p,
            "image,x,y,w,h\na.jpg,1,2,3,4\na.jpg,5,6,7,8\nb.jpg,0,0,1,1\n",
        )
        .unwrap();
        let m = read_boxes(&p).unwrap();
        assert_eq!(m["a.jpg"].len(), 2);
        assert_eq!(m["b.jpg"][0], BoundingBox::new(0.0, 0.0, 1.0, 1.0));
        std::fs::write(&p, "image,x,y,w,h\na.jpg,1,2,x,4\n").unwrap();
        assert!(read_boxes(&p).unwrap_err().to_string().contains("line 2"));
    }
}

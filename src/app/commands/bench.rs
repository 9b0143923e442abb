//! `vigil bench`: per-model latency, per-stage latency and drops, end-to-end
//! throughput and latency with every stage on, and peak memory.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use image::RgbImage;
use serde::Serialize;

use crate::app;
use crate::app::config::Config;
use crate::app::update::Update;
use crate::capture::{self, CaptureError, FrameSource, SourceOpener, SourceSpec};
use crate::core::frame::Frame;
use crate::core::imageops::RgbResizer;
use crate::models::{ModelSpec, ModelStore};
use crate::pipeline::stats::{quantile, RunSummary, StageStats};
use crate::pipeline::{Flow, LiveView, Presenter, StageResult};
use anyhow::Result;

/// Runs per model when timing single models (after one warm-up run).
pub const DEFAULT_MODEL_RUNS: usize = 30;
/// Frame size of the P-Net pyramid timed per level (the target camera size).
pub const PYRAMID_FRAME: (usize, usize) = (640, 480);
/// P-Net pyramid for the per-model figures: minimum face, in pixels (as
/// `detect.min_face_px`).
pub const PYRAMID_MIN_FACE: f64 = 40.0;
/// P-Net pyramid for the per-model figures: scale step between levels (as
/// `detect.scale_factor`).
pub const PYRAMID_FACTOR: f64 = 0.709;
/// P-Net's receptive cell.
const PNET_CELL: f64 = 12.0;
/// Interval between memory samples during a looped run.
const RSS_SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Flags of `vigil bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Replay source (default: demo). Any `--source` spec except a camera.
    #[arg(long, value_name = "SPEC")]
    pub source: Option<String>,
    /// Frames to run end to end (default: the whole source once).
    #[arg(long, value_name = "N")]
    pub frames: Option<u64>,
    /// Resize every frame to WxH before the pipeline (e.g. 640x480).
    #[arg(long, value_name = "WxH")]
    pub resize: Option<String>,
    /// Replay the source in a loop for this many seconds, sampling memory (growth check).
    #[arg(long, value_name = "S")]
    pub loop_seconds: Option<f64>,
    /// Timed runs per model.
    #[arg(long, default_value_t = DEFAULT_MODEL_RUNS)]
    pub model_runs: usize,
    /// Skip the per-model timings.
    #[arg(long)]
    pub no_models: bool,
    /// Print one JSON object as the last stdout line.
    #[arg(long)]
    pub json: bool,
}

/// Median and p95 of one model at one input shape.
#[derive(Debug, Clone, Serialize)]
pub struct ModelTiming {
    /// The model's file name.
    pub model: String,
    /// The input tensor shape it was timed at.
    pub shape: Vec<usize>,
    /// Median time of one run, in milliseconds.
    pub median_ms: f64,
    /// 95th-percentile time of one run, in milliseconds.
    pub p95_ms: f64,
}

/// The `--json` object: the keys fixed by the issue first, then details.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Frames that reached the presenter.
    pub frames: u64,
    /// Frames presented per wall-clock second.
    pub fps: f64,
    /// CPU time of the process during the run (start-up excluded), seconds.
    pub cpu_s: f64,
    /// Frames presented per CPU-second of the process.
    pub frames_per_cpu_s: f64,
    /// Median capture-to-verdict latency (identity, emotion, scene), in milliseconds.
    pub latency_p50_ms: f64,
    /// 95th-percentile capture-to-verdict latency, in milliseconds.
    pub latency_p95_ms: f64,
    /// Detect stage median time per processed frame, in milliseconds (0 when
    /// the stage is not in the pipeline; likewise below).
    pub detect_ms: f64,
    /// Verify stage (face embedding) median time per processed input, in milliseconds.
    pub embed_ms: f64,
    /// Emotion stage median time per processed input, in milliseconds.
    pub emotion_ms: f64,
    /// Attention stage p50 over every frame (reads every `attention.every_n_frames`).
    pub attention_ms: f64,
    /// Scene stage median time per processed input, in milliseconds.
    pub scene_ms: f64,
    /// Peak resident set size of the process (`VmHWM`), in MiB.
    pub rss_mb: f64,
    /// Median capture-to-output latency (the frame's result reaching the
    /// presenter), in milliseconds.
    pub output_p50_ms: f64,
    /// Per-stage statistics of the run (latency, drops).
    pub stages: Vec<StageStats>,
    /// Per-model timings, one thread each (empty with `--no-models`).
    pub models: Vec<ModelTiming>,
    /// (seconds since start, RSS MiB) every few seconds of a looped run.
    pub rss_samples_mb: Vec<(f64, f64)>,
    /// The replay source spec that was run.
    pub source: String,
}

/// Resident set size now and at peak, in MiB (Linux `/proc/self/status`).
pub fn rss_mb() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Input shapes of every P-Net pyramid level for a `w` x `h` frame ([1, W, H, 3]).
pub fn pnet_level_shapes(w: usize, h: usize, min_face: f64, factor: f64) -> Vec<Vec<usize>> {
    let mut shapes = Vec::new();
    let mut scale = PNET_CELL / min_face;
    let min_side = w.min(h) as f64;
    while min_side * scale >= PNET_CELL {
        let lw = (w as f64 * scale).ceil() as usize;
        let lh = (h as f64 * scale).ceil() as usize;
        shapes.push(vec![1, lw, lh, 3]);
        scale *= factor;
    }
    shapes
}

/// A deterministic pseudo-random input in [-1, 1) (same seed, same values).
fn seeded_input(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Times one model at one shape: `runs` timed runs after one warm-up.
pub fn time_model(
    store: &ModelStore,
    spec: &'static ModelSpec,
    shape: &[usize],
    runs: usize,
) -> Result<ModelTiming> {
    // The detector's nets are loaded as the detector loads them (with its
    // faster operator translations), so these are the product's timings.
    let is_detector = crate::detect::specs::ALL
        .iter()
        .any(|s| std::ptr::eq(*s, spec));
    let model = if is_detector {
        store.load_spec_with_ops(spec, crate::detect::ops::register)?
    } else {
        store.load_spec(spec)?
    };
    let mut plan = model.plan(shape)?;
    let n: usize = shape.iter().product();
    let input = seeded_input(n, 42);
    plan.run_f32(input.clone())?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let data = input.clone();
        let t = Instant::now();
        plan.run_f32(data)?;
        samples.push((t.elapsed().as_secs_f64() * 1e3) as f32);
    }
    Ok(ModelTiming {
        model: spec.file.to_string(),
        shape: shape.to_vec(),
        median_ms: quantile(&samples, 0.5).unwrap_or(0.0),
        p95_ms: quantile(&samples, 0.95).unwrap_or(0.0),
    })
}

/// The per-model figures: every P-Net level of a 640x480 frame, R-Net batch
/// 16, O-Net batch 4, and the other models at batch 1.
pub fn time_models(store: &ModelStore, runs: usize) -> Result<Vec<ModelTiming>> {
    let mut out = Vec::new();
    let (w, h) = PYRAMID_FRAME;
    for shape in pnet_level_shapes(w, h, PYRAMID_MIN_FACE, PYRAMID_FACTOR) {
        out.push(time_model(
            store,
            &crate::detect::specs::PNET,
            &shape,
            runs,
        )?);
    }
    // P-Net above, per pyramid level; every other model at its probe shape.
    let pnet: &ModelSpec = &crate::detect::specs::PNET;
    for spec in super::models::all_specs()
        .into_iter()
        .filter(|s| !std::ptr::eq(*s, pnet))
    {
        out.push(time_model(store, spec, spec.probe_shape, runs)?);
    }
    Ok(out)
}

/// A presenter that only counts (the pipeline measures latencies itself).
#[derive(Debug, Default)]
struct Counter {
    frames: u64,
}

impl Presenter<Update> for Counter {
    fn present(&mut self, update: &Update, _live: &LiveView) -> StageResult<Flow> {
        if matches!(update, Update::Faces(_)) {
            self.frames += 1;
        }
        Ok(Flow::Continue)
    }

    fn finish(&mut self, _summary: &RunSummary) -> StageResult<()> {
        Ok(())
    }
}

type Reopen = Box<dyn FnMut() -> std::result::Result<Box<dyn FrameSource>, CaptureError>>;

/// Replays a source again and again until a deadline, resizing frames if asked,
/// and samples memory on the way.
struct BenchSource {
    reopen: Reopen,
    inner: Box<dyn FrameSource>,
    until: Option<Instant>,
    resize: Option<(u32, u32)>,
    resizer: RgbResizer,
    seq: u64,
    media_offset: Duration,
    last_media: Duration,
    samples: Arc<Mutex<Vec<(f64, f64)>>>,
    started: Instant,
    last_sample: Instant,
}

impl BenchSource {
    fn sample_memory(&mut self) {
        if self.last_sample.elapsed() >= RSS_SAMPLE_EVERY {
            let (rss, _) = rss_mb();
            if let Ok(mut s) = self.samples.lock() {
                s.push((self.started.elapsed().as_secs_f64(), rss));
            }
            self.last_sample = Instant::now();
        }
    }

    fn next_raw(&mut self) -> std::result::Result<Option<Frame>, CaptureError> {
        if let Some(f) = self.inner.next_frame()? {
            return Ok(Some(f));
        }
        match self.until {
            Some(until) if Instant::now() < until => {
                self.inner = (self.reopen)()?;
                self.media_offset = self.last_media + Duration::from_millis(33);
                self.inner.next_frame()
            }
            _ => Ok(None),
        }
    }
}

impl FrameSource for BenchSource {
    fn next_frame(&mut self) -> std::result::Result<Option<Frame>, CaptureError> {
        self.sample_memory();
        if self.until.is_some_and(|u| Instant::now() >= u) {
            return Ok(None);
        }
        let Some(frame) = self.next_raw()? else {
            return Ok(None);
        };
        let media_time = self.media_offset + frame.media_time;
        self.last_media = media_time;
        let image: RgbImage = match self.resize {
            Some((w, h)) if (w, h) != (frame.width(), frame.height()) => self
                .resizer
                .resize(&frame.image, w, h)
                .map_err(|e| CaptureError::Video {
                    path: PathBuf::from("<bench resize>"),
                    message: e.to_string(),
                })?,
            _ => (*frame.image).clone(),
        };
        let out = Frame::new(self.seq, media_time, image);
        self.seq += 1;
        Ok(Some(out))
    }

    fn describe(&self) -> String {
        format!("{} (bench)", self.inner.describe())
    }

    fn native_fps(&self) -> Option<f64> {
        self.inner.native_fps()
    }

    fn is_live(&self) -> bool {
        false
    }
}

fn parse_size(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.split_once('x')?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    (w > 0 && h > 0).then_some((w, h))
}

/// `vigil bench`: measures and prints the report (JSON last with --json).
pub fn run(config: Config, args: &BenchArgs) -> anyhow::Result<()> {
    let report = measure(config, args)?;
    super::emit(&report, args.json)
}

/// Runs the benchmark.
pub fn measure(mut config: Config, args: &BenchArgs) -> anyhow::Result<BenchReport> {
    let spec = SourceSpec::parse(args.source.as_deref().unwrap_or("demo"))?;
    if !spec.is_replay() {
        anyhow::bail!("vigil bench needs a replay source (dir:, video: or demo), not {spec}");
    }
    let resize = match &args.resize {
        Some(s) => {
            Some(parse_size(s).ok_or_else(|| anyhow::anyhow!("--resize expects WxH, got `{s}`"))?)
        }
        None => None,
    };
    let dir = app::models_dir(&config)?;
    let store = ModelStore::new(&dir);
    let models = if args.no_models {
        Vec::new()
    } else {
        time_models(&store, args.model_runs)?
    };

    config.capture.realtime = false;
    config.pipeline.max_frames = args.frames.unwrap_or(0);
    let (mut pipeline, options) = app::build_pipeline(&config, &spec)?;
    let samples = Arc::new(Mutex::new(Vec::new()));
    let until = args
        .loop_seconds
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let capture_cfg = config.capture.clone();
    let samples_for_source = samples.clone();
    let spec_for_source = spec.clone();
    let opener: SourceOpener = Box::new(move || {
        let mut reopen: Reopen =
            Box::new(move || capture::open(&spec_for_source, &capture_cfg, &dir));
        let inner = reopen()?;
        Ok(Box::new(BenchSource {
            inner,
            reopen,
            until,
            resize,
            resizer: RgbResizer::new(),
            seq: 0,
            media_offset: Duration::ZERO,
            last_media: Duration::ZERO,
            samples: samples_for_source,
            started: Instant::now(),
            last_sample: Instant::now(),
        }) as Box<dyn FrameSource>)
    });
    pipeline.source = opener;
    let mut counter = Counter::default();
    let summary = pipeline.run(&mut counter, &options, Arc::new(AtomicBool::new(false)))?;
    let stage_ms = |name: &str| {
        summary
            .stages
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.latency.p50_ms)
            .unwrap_or(0.0)
    };
    let (_, peak) = rss_mb();
    let rss_samples_mb = samples.lock().map(|s| s.clone()).unwrap_or_default();
    Ok(BenchReport {
        frames: summary.frames_presented,
        fps: summary.fps,
        cpu_s: summary.cpu_s,
        frames_per_cpu_s: summary.frames_per_cpu_s,
        latency_p50_ms: summary.capture_to_verdict.p50_ms,
        latency_p95_ms: summary.capture_to_verdict.p95_ms,
        detect_ms: stage_ms("detect"),
        embed_ms: stage_ms("verify"),
        emotion_ms: stage_ms("emotion"),
        attention_ms: stage_ms("attention"),
        scene_ms: stage_ms("scene"),
        rss_mb: peak,
        output_p50_ms: summary.end_to_end.p50_ms,
        stages: summary.stages,
        models,
        rss_samples_mb,
        source: spec.to_string(),
    })
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&to_text(self))
    }
}

/// Human-readable report.
fn to_text(r: &BenchReport) -> String {
    let mut s = String::new();
    if !r.models.is_empty() {
        s.push_str("per model, one thread (median / p95 ms):\n");
        for m in &r.models {
            s.push_str(&format!(
                "  {:<32} {:<18} {:>8.2} {:>8.2}\n",
                m.model,
                format!("{:?}", m.shape),
                m.median_ms,
                m.p95_ms
            ));
        }
        let pnet: f64 = r
            .models
            .iter()
            .filter(|m| m.model == "pnet.onnx")
            .map(|m| m.median_ms)
            .sum();
        s.push_str(&format!(
            "  P-Net, all pyramid levels of a 640x480 frame: {pnet:.2} ms\n"
        ));
    }
    s.push_str(&format!("end to end on {}:\n", r.source));
    s.push_str(&format!(
        "  {} frames, {:.1} FPS, capture-to-verdict p50 {:.1} ms p95 {:.1} ms, capture-to-output p50 {:.1} ms\n",
        r.frames, r.fps, r.latency_p50_ms, r.latency_p95_ms, r.output_p50_ms
    ));
    s.push_str(&format!(
        "  process CPU {:.2} s (start-up excluded): {:.1} frames per CPU-second\n",
        r.cpu_s, r.frames_per_cpu_s
    ));
    s.push_str("  stage        processed dropped   p50 ms   p95 ms  cpu ms/item  thread cpu s\n");
    for st in &r.stages {
        s.push_str(&format!(
            "  {:<10} {:>11} {:>7} {:>8.2} {:>8.2} {:>12.2} {:>13.2}\n",
            st.name,
            st.processed,
            st.dropped,
            st.latency.p50_ms,
            st.latency.p95_ms,
            st.cpu_ms,
            st.thread_cpu_s
        ));
    }
    s.push_str(&format!("  peak RSS {:.1} MiB\n", r.rss_mb));
    if let (Some(first), Some(last)) = (r.rss_samples_mb.first(), r.rss_samples_mb.last()) {
        s.push_str(&format!(
            "  RSS over the loop: {:.1} MiB at {:.0} s, {:.1} MiB at {:.0} s ({} samples)\n",
            first.1,
            first.0,
            last.1,
            last.0,
            r.rss_samples_mb.len()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_of_640x480_at_40px_has_eight_levels() {
        let shapes = pnet_level_shapes(640, 480, 40.0, 0.709);
        assert_eq!(shapes.len(), 8);
        assert_eq!(shapes[0], vec![1, 192, 144, 3]);
        let last = shapes.last().unwrap();
        assert!(last[1].min(last[2]) >= 12);
    }

    #[test]
    fn seeded_input_is_deterministic_and_bounded() {
        let a = seeded_input(100, 7);
        assert_eq!(a, seeded_input(100, 7));
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)));
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("640x480"), Some((640, 480)));
        assert_eq!(parse_size("0x480"), None);
        assert_eq!(parse_size("640"), None);
    }
}

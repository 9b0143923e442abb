//! The only module that knows about threads and channels.
//!
//! ```text
//! capture ──▶ front (detect + track) ──┬──▶ consumer (verify)  ──┐
//!                                      ├──▶ consumer (emotion) ──┼──▶ presenter (this thread)
//!                                      ├──▶ consumer (scene)   ──┤
//!                                      └─────────────────────────┘
//! ```
//! Every arrow is a bounded channel. Frame edges follow the source: a live
//! source (camera, `--realtime`) drops the stalest frame when a stage is busy
//! ("latest frame wins", counted per stage); a replay run as fast as possible
//! makes the source wait instead, so every frame is processed. Analysed frames
//! reach the presenter on an edge of the same kind; verdicts have their own
//! edge and are never dropped (the presenter only draws and writes).
//!
//! Layer 2, pipeline: generic over the message type `M` the app defines
//! ([`Message`]); uses core and capture (the [`FrameSource`] it runs), and
//! names no stage. The only module that spawns threads or makes channels
//! (kept so by clippy's `disallowed-methods`, see `clippy.toml`).

// The one layer allowed to start threads and make channels (clippy.toml
// forbids them everywhere else).
#![allow(clippy::disallowed_methods)]

pub mod config;
pub mod cputime;
pub mod edge;
pub mod error;
pub mod message;
pub mod stats;
pub mod worker;

pub use config::{PipelineConfig, ReplayPolicy};
pub use error::{BoxError, PipelineError, StageError};
pub use message::{Analysis, Message, Stamp};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::capture::{FrameSource, Poll, SourceEvent, SourceOpener};
use crate::core::frame::Frame;

use edge::{edge, EdgePolicy, EdgeRx, EdgeTx};
use stats::{LatencySeries, RunSummary, StageStats};

/// Capacity of the verdict channel into the presenter.
pub const UPDATE_CAPACITY: usize = 32;
/// How often the presenter wakes when nothing arrives (window events, stats).
pub const PRESENTER_TICK: Duration = Duration::from_millis(20);

/// The result of one stage step; the pipeline adds the stage's name to an error.
pub type StageResult<T> = std::result::Result<T, BoxError>;

/// Turns a frame into faces and tracks. Runs on its own thread.
pub trait FrontStage: Send {
    /// The stage's name in statistics and errors.
    fn name(&self) -> &'static str;
    /// Analyses one frame.
    fn process(&mut self, frame: Frame) -> StageResult<Analysis>;
    /// The source was lost or came back (e.g. end every track).
    fn source_event(&mut self, _event: &SourceEvent) {}
}

/// Interprets analysed frames (verify, emotion, scene). Runs on its own thread.
pub trait Consumer<M>: Send {
    /// The stage's name in statistics and errors.
    fn name(&self) -> &'static str;
    /// Scheduling: whether this frame needs work (e.g. the scene runs every
    /// k-th frame). Frames it declines are neither timed nor counted.
    fn wants(&mut self, _analysis: &Analysis) -> bool {
        true
    }
    /// Interprets one frame, pushing its verdicts to `out`.
    fn process(&mut self, analysis: &Analysis, out: &mut Vec<M>) -> StageResult<()>;
    /// The source was lost or came back (e.g. drop per-track state, relock),
    /// pushing any verdicts to `out`. Never dropped, unlike frames.
    fn source_event(
        &mut self,
        _event: &SourceEvent,
        _stamp: Stamp,
        _out: &mut Vec<M>,
    ) -> StageResult<()> {
        Ok(())
    }
}

/// What the front and consumer threads receive: data, or (on the control
/// lane, never dropped) a change in the source's health.
enum Feed<T> {
    Data(T),
    Source(SourceEvent, Stamp),
}

/// Whether the presenter wants to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop the run (the window was closed).
    Stop,
}

/// Shows results: overlay window or event stream. Runs on the calling thread.
pub trait Presenter<M> {
    /// Shows one message.
    fn present(&mut self, update: &M, live: &LiveView) -> StageResult<Flow>;
    /// Called when nothing arrived for a tick (keeps a window responsive).
    fn idle(&mut self, _live: &LiveView) -> StageResult<Flow> {
        Ok(Flow::Continue)
    }
    /// The run is over.
    fn finish(&mut self, summary: &RunSummary) -> StageResult<()>;
}

/// A snapshot of the run for the overlay.
#[derive(Debug, Clone, Default)]
pub struct LiveView {
    /// Frames presented per second, over the last half second.
    pub fps: f64,
    /// Every stage's counters.
    pub stages: Vec<StageStats>,
}

/// How a run's edges behave.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// Frames queued between two stages.
    pub capacity: usize,
    /// Whether a busy stage drops the stalest frame or makes its source wait.
    pub frame_policy: EdgePolicy,
    /// Stop after this many captured frames.
    pub max_frames: Option<u64>,
    /// How often progress is logged.
    pub stats_interval: Duration,
}

/// The stages of a run, carrying messages of type `M` to the presenter.
pub struct Pipeline<M> {
    /// Opened on the capture thread (camera handles are not `Send`).
    pub source: SourceOpener,
    /// Detect and track.
    pub front: Box<dyn FrontStage>,
    /// The consumers, each on its own thread.
    pub consumers: Vec<Box<dyn Consumer<M>>>,
}

/// Name of the presenter in statistics and errors.
pub const PRESENT_STAGE: &str = "present";

/// Live counters of one stage, shared between its thread and the presenter.
struct StageMonitor {
    name: String,
    processed: AtomicU64,
    dropped: Arc<AtomicU64>,
    latency: Mutex<LatencySeries>,
    /// Thread CPU time spent processing, in nanoseconds.
    cpu_ns: AtomicU64,
    /// The stage thread's whole CPU time, set when it ends.
    thread_cpu_ns: AtomicU64,
}

impl StageMonitor {
    fn new(name: &str, dropped: Arc<AtomicU64>) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_string(),
            processed: AtomicU64::new(0),
            dropped,
            latency: Mutex::new(LatencySeries::default()),
            cpu_ns: AtomicU64::new(0),
            thread_cpu_ns: AtomicU64::new(0),
        })
    }

    /// One input processed in `d` of wall time, using `cpu` of thread CPU time.
    fn record(&self, d: Duration, cpu: Duration) {
        self.cpu_ns
            .fetch_add(cpu.as_nanos() as u64, Ordering::Relaxed);
        self.processed.fetch_add(1, Ordering::Relaxed);
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(d);
    }

    /// Records the calling (stage) thread's CPU time since `start` (its
    /// thread CPU time when the stage began: zero for a thread of its own).
    fn thread_ended(&self, start: Duration) {
        let used = cputime::thread_cpu().saturating_sub(start);
        self.thread_cpu_ns
            .store(used.as_nanos() as u64, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StageStats {
        let processed = self.processed.load(Ordering::Relaxed);
        let cpu_s = self.cpu_ns.load(Ordering::Relaxed) as f64 / 1e9;
        StageStats {
            name: self.name.clone(),
            processed,
            cpu_ms: if processed > 0 {
                cpu_s * 1e3 / processed as f64
            } else {
                0.0
            },
            thread_cpu_s: self.thread_cpu_ns.load(Ordering::Relaxed) as f64 / 1e9,
            dropped: self.dropped.load(Ordering::Relaxed),
            latency: self
                .latency
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .summary(),
        }
    }
}

/// The first error of any thread, and the stop flag it raises.
struct Shared {
    stop: Arc<AtomicBool>,
    error: Mutex<Option<PipelineError>>,
}

impl Shared {
    fn fail(&self, e: PipelineError) {
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e);
        }
        self.stop.store(true, Ordering::Release);
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }
}

impl<M: Message> Pipeline<M> {
    /// Runs until the source ends, `max_frames` are captured, `stop` is raised
    /// (Ctrl-C) or the presenter stops (window closed). Every thread is joined
    /// before this returns; the first error of any stage is returned.
    pub fn run(
        self,
        presenter: &mut dyn Presenter<M>,
        opts: &PipelineOptions,
        stop: Arc<AtomicBool>,
    ) -> Result<RunSummary, PipelineError> {
        let shared = Shared {
            stop,
            error: Mutex::new(None),
        };
        let Pipeline {
            source,
            mut front,
            consumers,
        } = self;

        let (frame_tx, frame_rx) = edge::<Feed<Frame>>(opts.capacity, opts.frame_policy);
        let (update_tx, update_rx) = edge::<M>(UPDATE_CAPACITY, EdgePolicy::Block);
        let (shown_tx, shown_rx) = edge::<M>(opts.capacity, opts.frame_policy);
        let front_monitor = StageMonitor::new(front.name(), frame_rx.dropped_counter());
        let mut consumer_edges = Vec::new();
        let mut consumer_rxs = Vec::new();
        let mut monitors = vec![front_monitor.clone()];
        for c in &consumers {
            let (tx, rx) = edge::<Feed<Arc<Analysis>>>(opts.capacity, opts.frame_policy);
            monitors.push(StageMonitor::new(c.name(), rx.dropped_counter()));
            consumer_edges.push(tx);
            consumer_rxs.push(rx);
        }
        let present_monitor = StageMonitor::new(PRESENT_STAGE, shown_rx.dropped_counter());
        monitors.push(present_monitor.clone());
        let captured = AtomicU64::new(0);
        let skipped = AtomicU64::new(0);
        let started = Instant::now();
        let cpu_started = cputime::process_cpu();

        let summary = thread::scope(|scope| {
            let mut handles = Vec::new();
            {
                let shared = &shared;
                let counts = CaptureCounts {
                    captured: &captured,
                    skipped: &skipped,
                };
                let max = opts.max_frames;
                let notices = update_tx.clone();
                handles.push((
                    "capture".to_string(),
                    thread::Builder::new()
                        .name("vigil-capture".into())
                        .spawn_scoped(scope, move || match source() {
                            Ok(mut source) => {
                                log::info!("source: {}", source.describe());
                                capture_loop(&mut *source, frame_tx, notices, max, counts, shared)
                            }
                            Err(e) => shared.fail(e.into()),
                        }),
                ));
            }
            {
                let shared = &shared;
                let monitor = front_monitor.clone();
                handles.push((
                    front.name().to_string(),
                    thread::Builder::new()
                        .name("vigil-front".into())
                        .spawn_scoped(scope, move || {
                            front_loop(
                                &mut *front,
                                frame_rx,
                                consumer_edges,
                                shown_tx,
                                &monitor,
                                shared,
                            );
                            monitor.thread_ended(Duration::ZERO);
                        }),
                ));
            }
            for ((mut consumer, rx), monitor) in consumers
                .into_iter()
                .zip(consumer_rxs)
                .zip(monitors.iter().skip(1).cloned())
            {
                let shared = &shared;
                let update_tx = update_tx.clone();
                let name = consumer.name().to_string();
                handles.push((
                    name.clone(),
                    thread::Builder::new()
                        .name(format!("vigil-{name}"))
                        .spawn_scoped(scope, move || {
                            consumer_loop(&mut *consumer, rx, update_tx, &monitor, shared);
                            monitor.thread_ended(Duration::ZERO);
                        }),
                ));
            }
            drop(update_tx);

            let present_cpu = cputime::thread_cpu();
            let presented = present_loop(
                presenter,
                &shown_rx,
                &update_rx,
                &monitors,
                &present_monitor,
                opts,
                &shared,
                started,
            );
            drop(update_rx);
            drop(shown_rx);

            for (name, handle) in handles {
                match handle {
                    Ok(h) => {
                        if h.join().is_err() {
                            shared.fail(PipelineError::Thread {
                                name,
                                message: "panicked".into(),
                            });
                        }
                    }
                    Err(e) => shared.fail(PipelineError::Thread {
                        name,
                        message: format!("cannot start: {e}"),
                    }),
                }
            }
            present_monitor.thread_ended(present_cpu);
            presented
        });

        let wall_s = started.elapsed().as_secs_f64();
        let cpu_s = cputime::process_cpu()
            .saturating_sub(cpu_started)
            .as_secs_f64();
        let (end_to_end, verdict, presented) = summary;
        let summary = RunSummary {
            frames_captured: captured.load(Ordering::Relaxed),
            skipped: skipped.load(Ordering::Relaxed),
            frames_presented: presented,
            wall_s,
            fps: if wall_s > 0.0 {
                presented as f64 / wall_s
            } else {
                0.0
            },
            cpu_s,
            frames_per_cpu_s: if cpu_s > 0.0 {
                presented as f64 / cpu_s
            } else {
                0.0
            },
            end_to_end: end_to_end.summary(),
            capture_to_verdict: verdict.summary(),
            stages: monitors.iter().map(|m| m.snapshot()).collect(),
        };
        let finish = presenter.finish(&summary);
        if let Some(e) = shared.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        finish.map_err(|e| PipelineError::stage(PRESENT_STAGE, e))?;
        Ok(summary)
    }
}

/// Runs one stage step, turning a panic into an error so the run stops at
/// once (and the unlock path, which treats any error as "locked", stays locked).
fn guarded<T>(stage: &str, f: impl FnOnce() -> StageResult<T>) -> Result<T, PipelineError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(PipelineError::stage(stage, e)),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(PipelineError::Panicked {
                stage: stage.to_string(),
                what,
            })
        }
    }
}

/// The capture thread's counters.
#[derive(Clone, Copy)]
struct CaptureCounts<'a> {
    captured: &'a AtomicU64,
    skipped: &'a AtomicU64,
}

fn capture_loop<M: Message>(
    source: &mut dyn FrameSource,
    tx: EdgeTx<Feed<Frame>>,
    notices: EdgeTx<M>,
    max_frames: Option<u64>,
    counts: CaptureCounts<'_>,
    shared: &Shared,
) {
    let mut last_seq = 0;
    loop {
        if shared.stopping() {
            break;
        }
        if let Some(max) = max_frames {
            if counts.captured.load(Ordering::Relaxed) >= max {
                break;
            }
        }
        let polled = source.poll();
        counts.skipped.store(source.skipped(), Ordering::Relaxed);
        match polled {
            Ok(Poll::Frame(frame)) => {
                last_seq = frame.seq;
                counts.captured.fetch_add(1, Ordering::Relaxed);
                if tx.send(Feed::Data(frame)).is_err() {
                    break;
                }
            }
            Ok(Poll::Event(event)) => {
                let stamp = Stamp {
                    seq: last_seq,
                    media_time: event.at(),
                    captured: Instant::now(),
                };
                let to_stages = tx.send_control(Feed::Source(event.clone(), stamp));
                if to_stages.is_err() || notices.send(M::source(event, stamp)).is_err() {
                    break;
                }
            }
            Ok(Poll::Idle) => {}
            Ok(Poll::End) => break,
            Err(e) => {
                shared.fail(e.into());
                break;
            }
        }
    }
}

fn front_loop<M: Message>(
    front: &mut dyn FrontStage,
    rx: EdgeRx<Feed<Frame>>,
    consumers: Vec<EdgeTx<Feed<Arc<Analysis>>>>,
    updates: EdgeTx<M>,
    monitor: &StageMonitor,
    shared: &Shared,
) {
    while let Some(item) = rx.recv() {
        let frame = match item {
            Feed::Data(frame) => frame,
            Feed::Source(event, stamp) => {
                front.source_event(&event);
                for c in &consumers {
                    if c.send_control(Feed::Source(event.clone(), stamp)).is_err() {
                        shared.stop.store(true, Ordering::Release);
                    }
                }
                continue;
            }
        };
        let (t, cpu) = (Instant::now(), cputime::thread_cpu());
        let analysis = match guarded(front.name(), || front.process(frame)) {
            Ok(a) => Arc::new(a),
            Err(e) => {
                shared.fail(e);
                return;
            }
        };
        monitor.record(t.elapsed(), cputime::thread_cpu().saturating_sub(cpu));
        for c in &consumers {
            // A consumer only leaves early when it failed: stop the run.
            if c.send(Feed::Data(analysis.clone())).is_err() {
                shared.stop.store(true, Ordering::Release);
            }
        }
        if updates.send(M::frame(analysis)).is_err() {
            return;
        }
    }
}

fn consumer_loop<M: Message>(
    consumer: &mut dyn Consumer<M>,
    rx: EdgeRx<Feed<Arc<Analysis>>>,
    updates: EdgeTx<M>,
    monitor: &StageMonitor,
    shared: &Shared,
) {
    let mut out = Vec::new();
    while let Some(item) = rx.recv() {
        let name = consumer.name();
        match item {
            Feed::Source(event, stamp) => {
                let result = guarded(name, || consumer.source_event(&event, stamp, &mut out));
                if let Err(e) = result {
                    shared.fail(e);
                    return;
                }
            }
            Feed::Data(analysis) => {
                if !consumer.wants(&analysis) {
                    continue;
                }
                let (t, cpu) = (Instant::now(), cputime::thread_cpu());
                if let Err(e) = guarded(name, || consumer.process(&analysis, &mut out)) {
                    shared.fail(e);
                    return;
                }
                monitor.record(t.elapsed(), cputime::thread_cpu().saturating_sub(cpu));
            }
        }
        for u in out.drain(..) {
            if updates.send(u).is_err() {
                return;
            }
        }
    }
}

/// Receives updates until every stage is done. Returns the end-to-end and
/// capture-to-verdict latencies and the number of frames presented.
#[allow(clippy::too_many_arguments)]
fn present_loop<M: Message>(
    presenter: &mut dyn Presenter<M>,
    shown: &EdgeRx<M>,
    verdicts: &EdgeRx<M>,
    monitors: &[Arc<StageMonitor>],
    monitor: &StageMonitor,
    opts: &PipelineOptions,
    shared: &Shared,
    started: Instant,
) -> (LatencySeries, LatencySeries, u64) {
    let mut end_to_end = LatencySeries::default();
    let mut verdict = LatencySeries::default();
    let mut presented = 0u64;
    let mut presenting = true;
    let mut live = LiveView::default();
    let mut last_view = Instant::now();
    let mut last_log = Instant::now();
    let mut frames_at_view = 0u64;
    let (mut shown_open, mut verdicts_open) = (true, true);
    let never = crossbeam_channel::never::<M>();
    while shown_open || verdicts_open {
        let shown_rx = if shown_open { shown.receiver() } else { &never };
        let verdict_rx = if verdicts_open {
            verdicts.receiver()
        } else {
            &never
        };
        // Verdicts first: they are rare and must never wait behind frames.
        let received = crossbeam_channel::select_biased! {
            recv(verdict_rx) -> m => m.map_err(|_| {
                verdicts_open = false;
            }),
            recv(shown_rx) -> m => m.map_err(|_| {
                shown_open = false;
            }),
            default(PRESENTER_TICK) => Err(()),
        };
        let idle = received.is_err() && shown_open && verdicts_open;
        let now = Instant::now();
        if now.duration_since(last_view) >= Duration::from_millis(500) {
            let dt = now.duration_since(last_view).as_secs_f64();
            live.fps = (presented - frames_at_view) as f64 / dt;
            live.stages = monitors.iter().map(|m| m.snapshot()).collect();
            frames_at_view = presented;
            last_view = now;
        }
        if now.duration_since(last_log) >= opts.stats_interval {
            log_progress(&live, presented, started, &end_to_end);
            last_log = now;
        }
        let flow = match received {
            Ok(update) => {
                let latency = update.stamp().captured.elapsed();
                if update.is_verdict() {
                    verdict.record(latency);
                } else {
                    end_to_end.record(latency);
                    presented += 1;
                }
                if presenting {
                    let (t, cpu) = (Instant::now(), cputime::thread_cpu());
                    let flow = presenter.present(&update, &live);
                    if !update.is_verdict() {
                        monitor.record(t.elapsed(), cputime::thread_cpu().saturating_sub(cpu));
                    }
                    flow
                } else {
                    Ok(Flow::Continue)
                }
            }
            Err(()) if idle && presenting => presenter.idle(&live),
            Err(()) => Ok(Flow::Continue),
        };
        match flow {
            Ok(Flow::Continue) => {}
            Ok(Flow::Stop) => {
                // Keep draining so the stages can finish, but show nothing more.
                presenting = false;
                shared.stop.store(true, Ordering::Release);
            }
            Err(e) => {
                presenting = false;
                shared.fail(PipelineError::stage(PRESENT_STAGE, e));
            }
        }
    }
    (end_to_end, verdict, presented)
}

fn log_progress(live: &LiveView, presented: u64, started: Instant, e2e: &LatencySeries) {
    let mut line = format!(
        "{presented} frames in {:.0} s, {:.1} FPS, capture-to-output p50 {:.1} ms",
        started.elapsed().as_secs_f64(),
        live.fps,
        e2e.quantile_ms(0.5).unwrap_or(0.0)
    );
    for s in &live.stages {
        line.push_str(&format!(
            "; {} {:.1} ms ({} dropped)",
            s.name, s.latency.p50_ms, s.dropped
        ));
    }
    log::info!("{line}");
}

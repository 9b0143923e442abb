//! Threads, channels, drops and shutdown, with synthetic stages around the
//! real pipeline code (no model is needed to test the plumbing).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use image::RgbImage;
use vigil::app::update::Update;
use vigil::capture::{CaptureError, FrameSource};
use vigil::core::frame::Frame;
use vigil::pipeline::edge::EdgePolicy;
use vigil::pipeline::stats::RunSummary;
use vigil::pipeline::Analysis;
use vigil::pipeline::{
    Consumer, Flow, FrontStage, LiveView, Pipeline, PipelineOptions, Presenter, StageResult,
};
use vigil::scene::{SceneVerdict, Scored};

/// A source of `n` synthetic frames that remembers every frame it made, to
/// count how many are alive at once.
struct Synthetic {
    n: u64,
    next: u64,
    live: bool,
    made: Arc<Mutex<Vec<Weak<RgbImage>>>>,
    max_alive: Arc<AtomicUsize>,
    dropped: Arc<AtomicBool>,
    interval: Duration,
}

impl FrameSource for Synthetic {
    fn next_frame(&mut self) -> Result<Option<Frame>, CaptureError> {
        if self.next >= self.n {
            return Ok(None);
        }
        std::thread::sleep(self.interval);
        let frame = Frame::new(
            self.next,
            Duration::from_millis(self.next * 33),
            RgbImage::new(64, 48),
        );
        self.next += 1;
        let mut made = self.made.lock().unwrap();
        made.retain(|w| w.strong_count() > 0);
        made.push(Arc::downgrade(&frame.image));
        self.max_alive.fetch_max(made.len(), Ordering::Relaxed);
        Ok(Some(frame))
    }
    fn describe(&self) -> String {
        "synthetic".into()
    }
    fn native_fps(&self) -> Option<f64> {
        Some(30.0)
    }
    fn is_live(&self) -> bool {
        self.live
    }
}

impl Drop for Synthetic {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

struct PassFront;
impl FrontStage for PassFront {
    fn name(&self) -> &'static str {
        "front"
    }
    fn process(&mut self, frame: Frame) -> StageResult<Analysis> {
        Ok(Analysis {
            frame,
            faces: vec![],
            ended: vec![],
        })
    }
}

/// A consumer that takes `delay` per frame, or fails / panics at frame `fail_at`.
struct Slow {
    delay: Duration,
    fail_at: Option<u64>,
    panic_at: Option<u64>,
}
impl Consumer<Update> for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn process(&mut self, a: &Analysis, out: &mut Vec<Update>) -> StageResult<()> {
        std::thread::sleep(self.delay);
        if self.fail_at == Some(a.frame.seq) {
            return Err("slow stage failed on purpose".into());
        }
        if self.panic_at == Some(a.frame.seq) {
            panic!("slow stage panicked on purpose");
        }
        out.push(Update::Scene(
            a.stamp(),
            SceneVerdict {
                top: vec![Scored {
                    label: "x".into(),
                    score: 1.0,
                }],
            },
        ));
        Ok(())
    }
}

#[derive(Default)]
struct Collect {
    frames: u64,
    verdicts: u64,
    stop_after: Option<u64>,
    finished: bool,
}
impl Presenter<Update> for Collect {
    fn present(&mut self, u: &Update, _: &LiveView) -> StageResult<Flow> {
        match u {
            Update::Faces(_) => self.frames += 1,
            _ => self.verdicts += 1,
        }
        Ok(match self.stop_after {
            Some(n) if self.frames >= n => Flow::Stop,
            _ => Flow::Continue,
        })
    }
    fn finish(&mut self, _: &RunSummary) -> StageResult<()> {
        self.finished = true;
        Ok(())
    }
}

struct Harness {
    max_alive: Arc<AtomicUsize>,
    source_dropped: Arc<AtomicBool>,
}

fn pipeline(n: u64, live: bool, interval: Duration, slow: Slow) -> (Pipeline<Update>, Harness) {
    let max_alive = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicBool::new(false));
    let source = Synthetic {
        n,
        next: 0,
        live,
        made: Arc::new(Mutex::new(Vec::new())),
        max_alive: max_alive.clone(),
        dropped: dropped.clone(),
        interval,
    };
    let p = Pipeline {
        source: Box::new(move || Ok(Box::new(source) as Box<dyn FrameSource>)),
        front: Box::new(PassFront),
        consumers: vec![Box::new(slow)],
    };
    (
        p,
        Harness {
            max_alive,
            source_dropped: dropped,
        },
    )
}

fn options(policy: EdgePolicy) -> PipelineOptions {
    PipelineOptions {
        capacity: 1,
        frame_policy: policy,
        max_frames: None,
        stats_interval: Duration::from_secs(60),
    }
}

#[test]
fn slow_stage_drops_frames_and_memory_stays_bounded() {
    let slow = Slow {
        delay: Duration::from_millis(15),
        fail_at: None,
        panic_at: None,
    };
    let (p, h) = pipeline(300, true, Duration::from_millis(1), slow);
    let mut presenter = Collect::default();
    let summary = p
        .run(
            &mut presenter,
            &options(EdgePolicy::LatestWins),
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap();
    let slow = summary.stages.iter().find(|s| s.name == "slow").unwrap();
    assert_eq!(summary.frames_captured, 300);
    let front = summary.stages.iter().find(|s| s.name == "front").unwrap();
    // The slow stage keeps up with at most one frame in 15: most frames are
    // dropped, at its edge or, when the machine is loaded and the front
    // thread runs late, already at the front's.
    assert!(
        front.dropped + slow.dropped > 100,
        "dropped {} + {}",
        front.dropped,
        slow.dropped
    );
    // Every frame is accounted for: dropped before the front stage, dropped
    // before the slow stage, or processed by it.
    assert_eq!(front.dropped + slow.dropped + slow.processed, 300);
    assert_eq!(presenter.verdicts, slow.processed);
    // Frames alive at once: a handful in channels and stages, never a queue.
    let alive = h.max_alive.load(Ordering::Relaxed);
    assert!(alive <= 12, "{alive} frames alive at once");
}

#[test]
fn blocking_replay_processes_every_frame() {
    let slow = Slow {
        delay: Duration::from_millis(2),
        fail_at: None,
        panic_at: None,
    };
    let (p, h) = pipeline(60, false, Duration::ZERO, slow);
    let mut presenter = Collect::default();
    let summary = p
        .run(
            &mut presenter,
            &options(EdgePolicy::Block),
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap();
    assert!(summary.stages.iter().all(|s| s.dropped == 0));
    assert_eq!(presenter.frames, 60);
    assert_eq!(presenter.verdicts, 60);
    assert!(h.max_alive.load(Ordering::Relaxed) <= 12);
}

#[test]
fn stop_flag_ends_the_run_and_joins_every_thread() {
    let slow = Slow {
        delay: Duration::from_millis(1),
        fail_at: None,
        panic_at: None,
    };
    // An endless live source: only the stop flag ends this run.
    let (p, h) = pipeline(u64::MAX, true, Duration::from_millis(2), slow);
    let stop = Arc::new(AtomicBool::new(false));
    // Ctrl-C stands in: a thread of the test's own raises the stop flag.
    #[allow(clippy::disallowed_methods)]
    let stopper = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::SeqCst);
        })
    };
    let t = Instant::now();
    let mut presenter = Collect::default();
    p.run(&mut presenter, &options(EdgePolicy::LatestWins), stop)
        .unwrap();
    stopper.join().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10));
    // The capture thread was joined: it dropped its source before run returned.
    assert!(h.source_dropped.load(Ordering::SeqCst));
    assert!(presenter.finished);
    assert!(presenter.frames > 0);
}

#[test]
fn presenter_stop_ends_the_run() {
    let slow = Slow {
        delay: Duration::ZERO,
        fail_at: None,
        panic_at: None,
    };
    let (p, h) = pipeline(u64::MAX, true, Duration::from_millis(1), slow);
    let mut presenter = Collect {
        stop_after: Some(10),
        ..Default::default()
    };
    p.run(
        &mut presenter,
        &options(EdgePolicy::LatestWins),
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    assert!(h.source_dropped.load(Ordering::SeqCst));
    assert!(presenter.frames >= 10);
}

#[test]
fn stage_error_stops_the_run_and_is_returned() {
    let slow = Slow {
        delay: Duration::ZERO,
        fail_at: Some(5),
        panic_at: None,
    };
    let (p, h) = pipeline(u64::MAX, false, Duration::ZERO, slow);
    let mut presenter = Collect::default();
    let err = p
        .run(
            &mut presenter,
            &options(EdgePolicy::Block),
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("failed on purpose"), "{err}");
    assert!(h.source_dropped.load(Ordering::SeqCst));
}

#[test]
fn stage_panic_becomes_an_error() {
    let slow = Slow {
        delay: Duration::ZERO,
        fail_at: None,
        panic_at: Some(3),
    };
    let (p, h) = pipeline(u64::MAX, false, Duration::ZERO, slow);
    let mut presenter = Collect::default();
    let err = p
        .run(
            &mut presenter,
            &options(EdgePolicy::Block),
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    assert!(h.source_dropped.load(Ordering::SeqCst));
}

#[test]
fn source_error_is_returned() {
    let p = Pipeline {
        source: Box::new(|| {
            Err(CaptureError::NoCamera {
                detail: " (test)".into(),
            })
        }),
        front: Box::new(PassFront),
        consumers: vec![],
    };
    let mut presenter = Collect::default();
    let err = p
        .run(
            &mut presenter,
            &options(EdgePolicy::LatestWins),
            Arc::new(AtomicBool::new(false)),
        )
        .unwrap_err();
    assert!(err.to_string().contains("no camera"), "{err}");
}

/// A consumer that records the source events it is told about.
struct Watcher(Arc<Mutex<Vec<String>>>);
impl Consumer<Update> for Watcher {
    fn name(&self) -> &'static str {
        "watcher"
    }
    fn process(&mut self, _: &Analysis, _: &mut Vec<Update>) -> StageResult<()> {
        Ok(())
    }
    fn source_event(
        &mut self,
        event: &vigil::capture::SourceEvent,
        _: vigil::pipeline::Stamp,
        _: &mut Vec<Update>,
    ) -> StageResult<()> {
        self.0.lock().unwrap().push(format!("{event:?}"));
        Ok(())
    }
}

/// Collects the presenter's source updates and counts frames.
#[derive(Default)]
struct SourceLog {
    frames: u64,
    events: Vec<String>,
}
impl Presenter<Update> for SourceLog {
    fn present(&mut self, u: &Update, _: &LiveView) -> StageResult<Flow> {
        match u {
            Update::Faces(_) => self.frames += 1,
            Update::Source(_, e) => self.events.push(format!("{e:?}")),
            _ => {}
        }
        Ok(Flow::Continue)
    }
    fn finish(&mut self, _: &RunSummary) -> StageResult<()> {
        Ok(())
    }
}

#[test]
fn a_lost_live_source_is_reopened_and_every_stage_is_told() {
    use vigil::capture::live::{Reopen, Resilient};
    // Each opening is a live stream of 5 frames that then ends (a camera
    // unplugged); the third opening fails (still unplugged).
    let openings = Arc::new(AtomicUsize::new(0));
    let counter = openings.clone();
    let reopen: Reopen = Box::new(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        if n == 2 {
            return Err(CaptureError::NoCamera {
                detail: " (still unplugged)".into(),
            });
        }
        Ok(Box::new(Synthetic {
            n: 5,
            next: 0,
            live: true,
            made: Arc::new(Mutex::new(Vec::new())),
            max_alive: Arc::new(AtomicUsize::new(0)),
            dropped: Arc::new(AtomicBool::new(false)),
            interval: Duration::from_millis(2),
        }) as Box<dyn FrameSource>)
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let p = Pipeline {
        source: Box::new(move || {
            Ok(
                Box::new(Resilient::open(reopen, Duration::from_millis(200), false)?)
                    as Box<dyn FrameSource>,
            )
        }),
        front: Box::new(PassFront),
        consumers: vec![Box::new(Watcher(seen.clone()))],
    };
    let mut presenter = SourceLog::default();
    let mut opts = options(EdgePolicy::Block);
    opts.max_frames = Some(15);
    let summary = p
        .run(&mut presenter, &opts, Arc::new(AtomicBool::new(false)))
        .unwrap();
    assert_eq!(summary.frames_captured, 15);
    // Lost after 5 frames, restored, lost after 10, a failed retry, restored.
    let kinds: Vec<&str> = presenter
        .events
        .iter()
        .map(|e| e.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["Lost", "Restored", "Lost", "Restored"],
        "{:?}",
        presenter.events
    );
    assert!(presenter.events[0].contains("ended"));
    assert_eq!(*seen.lock().unwrap(), presenter.events);
    assert_eq!(openings.load(Ordering::SeqCst), 4);
}

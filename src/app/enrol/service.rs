//! Enrolment while the service runs: the presenter hands the analysed live
//! frames (only while an enrolment runs), a worker thread of its own puts
//! them through an [`EnrolSession`], and the HTTP API and the control socket
//! start it and follow it. The pipeline never waits for it: a frame the
//! worker is not ready for is skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::people::{self, PersonInfo};
use super::{EnrolError, EnrolSession, EnrolState, EnrolStatus};
use crate::app::config::Config;
use crate::core::face::Detection;
use crate::models::ModelStore;
use crate::pipeline::worker::{spawn_worker, Worker, WorkerRecvError, WorkerRx, WorkerTx};
use crate::pipeline::Analysis;
use crate::verify::StatePaths;

/// Frames queued for the worker; more are skipped while it is busy.
pub const ENROL_QUEUE: usize = 2;
/// An enrolment that gets no frame for this long (source lost) is abandoned.
pub const ENROL_NO_FRAME_TIMEOUT: Duration = Duration::from_secs(30);
/// A progress event at least every this many frames examined (and whenever
/// a template is kept).
pub const PROGRESS_EVERY_FRAMES: usize = 10;
/// Statuses kept for the presenter's `enroll` events before the oldest go.
const MAX_PENDING_EVENTS: usize = 64;

struct Job {
    session: EnrolSession,
    last_frame: Instant,
    last_event_examined: usize,
    last_event_kept: usize,
}

struct Shared {
    config: Config,
    models: ModelStore,
    paths: StatePaths,
    active: AtomicBool,
    job: Mutex<Option<Job>>,
    /// The current status and a version that grows with every change.
    status: Mutex<(u64, EnrolStatus)>,
    changed: Condvar,
    events: Mutex<Vec<EnrolStatus>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn publish(&self, status: EnrolStatus, event: bool) {
        if event {
            let mut events = lock(&self.events);
            if events.len() >= MAX_PENDING_EVENTS {
                events.remove(0);
            }
            events.push(status.clone());
        }
        let mut s = lock(&self.status);
        s.0 += 1;
        s.1 = status;
        self.changed.notify_all();
    }

    fn status_of(&self, job: &Job) -> EnrolStatus {
        EnrolStatus::running(
            job.session.name(),
            job.session.frames(),
            self.config.verify.enroll_templates,
            job.session.summary(),
        )
    }

    /// One analysed frame for the running enrolment, if any.
    fn offer(&self, analysis: &Analysis) {
        let mut slot = lock(&self.job);
        let Some(job) = slot.as_mut() else {
            return;
        };
        job.last_frame = Instant::now();
        let faces: Vec<Detection> = analysis.faces.iter().map(|f| f.detection).collect();
        let origin = format!("live#{}", analysis.frame.seq);
        let offered = job.session.offer(&analysis.frame.image, &faces, origin);
        let status = self.status_of(job);
        if let Err(e) = offered {
            slot.take();
            self.end(status.ended(EnrolState::Failed, e.to_string()));
            return;
        }
        if job.session.is_done() {
            if let Some(job) = slot.take() {
                self.active.store(false, Ordering::Release);
                let ended = match job.session.finish() {
                    Ok(outcome) => status.ended(EnrolState::Done, outcome.to_text()),
                    Err(e) => status.ended(EnrolState::Failed, e.to_string()),
                };
                self.end(ended);
            }
            return;
        }
        let event = status.kept != job.last_event_kept
            || status.examined >= job.last_event_examined + PROGRESS_EVERY_FRAMES;
        if event {
            job.last_event_kept = status.kept;
            job.last_event_examined = status.examined;
        }
        self.publish(status, event);
    }

    /// Abandons a job that has had no frame for too long.
    fn check_stalled(&self) {
        let mut slot = lock(&self.job);
        let stalled = slot
            .as_ref()
            .is_some_and(|j| j.last_frame.elapsed() >= ENROL_NO_FRAME_TIMEOUT);
        if stalled {
            if let Some(job) = slot.take() {
                let status = self.status_of(&job);
                let e = EnrolError::NoFrames {
                    name: job.session.name().to_string(),
                    seconds: ENROL_NO_FRAME_TIMEOUT.as_secs(),
                };
                self.end(status.ended(EnrolState::Failed, e.to_string()));
            }
        }
    }

    fn end(&self, status: EnrolStatus) {
        self.active.store(false, Ordering::Release);
        match status.state {
            EnrolState::Done => log::info!("enrol: {}", status.message.replace('\n', "; ")),
            _ => log::warn!("enrol: {}", status.message),
        }
        self.publish(status, true);
    }

    fn run(&self, rx: WorkerRx<Arc<Analysis>>) {
        loop {
            match rx.recv_timeout(Duration::from_secs(1)) {
                Ok(analysis) => self.offer(&analysis),
                Err(WorkerRecvError::Timeout) => self.check_stalled(),
                Err(WorkerRecvError::Disconnected) => break,
            }
        }
    }
}

/// The enrolment service of a run (cheap to clone: a handle).
#[derive(Clone)]
pub struct EnrolService {
    shared: Arc<Shared>,
    tx: Arc<Mutex<Option<WorkerTx<Arc<Analysis>>>>>,
    worker: Arc<Mutex<Option<Worker>>>,
}

impl EnrolService {
    /// Starts the worker; `paths` is the running verifier's state.
    pub fn start(
        config: &Config,
        models: ModelStore,
        paths: StatePaths,
    ) -> Result<Self, crate::pipeline::PipelineError> {
        let shared = Arc::new(Shared {
            config: config.clone(),
            models,
            paths,
            active: AtomicBool::new(false),
            job: Mutex::new(None),
            status: Mutex::new((0, EnrolStatus::idle())),
            changed: Condvar::new(),
            events: Mutex::new(Vec::new()),
        });
        let body = {
            let shared = shared.clone();
            move |rx: WorkerRx<Arc<Analysis>>| shared.run(rx)
        };
        let (tx, worker) = spawn_worker("enrol", ENROL_QUEUE, body)?;
        Ok(Self {
            shared,
            tx: Arc::new(Mutex::new(Some(tx))),
            worker: Arc::new(Mutex::new(Some(worker))),
        })
    }

    /// Starts enrolling `name` from the next `frames` live frames (default
    /// `verify.enroll_frames`). Refused while another runs.
    pub fn begin(&self, name: &str, frames: Option<usize>) -> Result<EnrolStatus, EnrolError> {
        if lock(&self.tx).is_none() {
            return Err(EnrolError::Stopped);
        }
        let mut slot = lock(&self.shared.job);
        if let Some(job) = slot.as_ref() {
            return Err(EnrolError::Busy {
                name: job.session.name().to_string(),
            });
        }
        let s = &self.shared;
        let session = EnrolSession::new(&s.config, &s.models, &s.paths, name, frames)?;
        let job = Job {
            session,
            last_frame: Instant::now(),
            last_event_examined: 0,
            last_event_kept: 0,
        };
        let status = s.status_of(&job);
        *slot = Some(job);
        s.active.store(true, Ordering::Release);
        log::info!("enrol: {name} from the next {} live frames", status.frames);
        s.publish(status.clone(), true);
        Ok(status)
    }

    /// The latest status.
    pub fn status(&self) -> EnrolStatus {
        lock(&self.shared.status).1.clone()
    }

    /// The version of the latest status (see [`Self::status_after`]).
    pub fn version(&self) -> u64 {
        lock(&self.shared.status).0
    }

    /// Waits at most `timeout` for a status newer than `version`; returns
    /// the newest with its version.
    pub fn status_after(&self, version: u64, timeout: Duration) -> (u64, EnrolStatus) {
        let guard = lock(&self.shared.status);
        let (guard, _) = self
            .shared
            .changed
            .wait_timeout_while(guard, timeout, |s| s.0 <= version)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (guard.0, guard.1.clone())
    }

    /// Whether the presenter should hand over frames now.
    pub fn wants_frames(&self) -> bool {
        self.shared.active.load(Ordering::Acquire)
    }

    /// One analysed frame; never waits (skipped when the worker is busy).
    pub fn offer(&self, analysis: Arc<Analysis>) {
        if let Some(tx) = lock(&self.tx).as_ref() {
            let _ = tx.try_send(analysis);
        }
    }

    /// The statuses to report as `enroll` events since the last call.
    pub fn take_events(&self) -> Vec<EnrolStatus> {
        std::mem::take(&mut *lock(&self.shared.events))
    }

    /// Everyone enrolled.
    pub fn people(&self) -> Result<Vec<PersonInfo>, EnrolError> {
        let s = &self.shared;
        people::list(&s.models, &s.paths, s.config.verify.model)
    }

    /// Removes `name` (the verifier reloads the gallery).
    pub fn remove(&self, name: &str) -> Result<PersonInfo, EnrolError> {
        let s = &self.shared;
        people::remove(&s.models, &s.paths, s.config.verify.model, name)
    }

    /// Stops the worker (a running enrolment is abandoned, nothing saved).
    pub fn close(&self) {
        lock(&self.tx).take();
        if let Some(worker) = lock(&self.worker).take() {
            if let Err(e) = worker.join() {
                log::error!("enrol: {e}");
            }
        }
        if lock(&self.shared.job).take().is_some() {
            self.shared.active.store(false, Ordering::Release);
            log::warn!("enrol: the run ended during an enrolment: nothing saved");
        }
    }
}

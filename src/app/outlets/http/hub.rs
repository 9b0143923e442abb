//! What the HTTP server shows, shared between the presenter (which writes
//! it) and the connection threads (which read it): the latest overlay
//! frame, the device state, recent events, the pipeline's counters and the
//! source's health. The presenter never waits here for a viewer: it swaps
//! an `Arc` under a short lock. JPEG encoding happens on the viewers'
//! threads, once per frame and width, shared by every viewer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use image::RgbImage;

use crate::pipeline::stats::StageStats;

/// Recent events kept for `/api/events` clients that (re)connect.
pub const RECENT_EVENTS: usize = 200;
/// JPEG quality of the live view.
pub const JPEG_QUALITY: u8 = 80;
/// A frame older than this means frames no longer flow (`/healthz` 503).
pub const HEALTH_STALE: Duration = Duration::from_secs(5);

/// One overlay frame and its JPEG encodings, made on demand.
pub struct LiveFrame {
    /// Counts frames handed to the hub.
    pub seq: u64,
    /// When the presenter handed it over (for capture-to-viewer latency).
    pub captured: Instant,
    image: RgbImage,
    jpegs: Mutex<Vec<(u32, Arc<Vec<u8>>)>>,
}

impl LiveFrame {
    /// The frame as JPEG at `width` pixels (the frame's own width when
    /// larger or 0), encoded once and shared.
    pub fn jpeg(&self, width: u32) -> Option<Arc<Vec<u8>>> {
        let width = if width == 0 || width >= self.image.width() {
            self.image.width()
        } else {
            width.max(16)
        };
        let mut cache = lock(&self.jpegs);
        if let Some((_, j)) = cache.iter().find(|(w, _)| *w == width) {
            return Some(j.clone());
        }
        let img = if width == self.image.width() {
            None
        } else {
            let h = ((self.image.height() as u64 * width as u64) / self.image.width() as u64).max(1)
                as u32;
            Some(image::imageops::resize(
                &self.image,
                width,
                h,
                image::imageops::FilterType::Triangle,
            ))
        };
        let mut out = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        let src = img.as_ref().unwrap_or(&self.image);
        if let Err(e) = src.write_with_encoder(enc) {
            log::warn!("http: JPEG encoding failed: {e}");
            return None;
        }
        let jpeg = Arc::new(out);
        cache.push((width, jpeg.clone()));
        Some(jpeg)
    }
}

/// Counters exposed at `/metrics` besides the pipeline's.
#[derive(Debug, Default)]
pub struct Counters {
    /// Unlock actions that succeeded.
    pub unlocks: AtomicU64,
    /// Failed attempts (unknown faces, liveness failures, failed unlocks).
    pub failed_attempts: AtomicU64,
    /// Lockouts after too many failed attempts.
    pub lockouts: AtomicU64,
    /// Times a lost live source came back.
    pub source_restarts: AtomicU64,
    /// Bytes in the MQTT spool, when MQTT is on (else absent).
    pub mqtt_spool_bytes: Option<Arc<AtomicU64>>,
}

/// Everything that changes, under one lock.
#[derive(Default)]
struct Shared {
    frame: Option<Arc<LiveFrame>>,
    state_json: String,
    events: VecDeque<(u64, String, String)>,
    next_event: u64,
    stages: Vec<StageStats>,
    fps: f64,
    source_lost: Option<String>,
    frames_total: u64,
}

/// The hub (see the module docs).
pub struct Hub {
    shared: Mutex<Shared>,
    changed: Condvar,
    viewers: AtomicUsize,
    frame_listeners: AtomicUsize,
    snapshot_wanted: AtomicBool,
    stopping: AtomicBool,
    /// Extra counters for `/metrics`.
    pub counters: Counters,
    started: Instant,
    last_frame: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    /// An empty hub.
    pub fn new(counters: Counters) -> Arc<Self> {
        Arc::new(Self {
            shared: Mutex::new(Shared {
                state_json: "{}".into(),
                ..Shared::default()
            }),
            changed: Condvar::new(),
            viewers: AtomicUsize::new(0),
            frame_listeners: AtomicUsize::new(0),
            snapshot_wanted: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            counters,
            started: Instant::now(),
            last_frame: Mutex::new(None),
        })
    }

    // ---- written by the presenter ----

    /// Whether the presenter should render overlay frames for the hub
    /// (someone watches or asked for a snapshot).
    pub fn wants_frames(&self) -> bool {
        self.viewers.load(Ordering::Relaxed) > 0 || self.snapshot_wanted.load(Ordering::Relaxed)
    }

    /// A new overlay frame.
    pub fn put_frame(&self, image: RgbImage, captured: Instant) {
        let mut s = lock(&self.shared);
        s.frames_total += 1;
        s.frame = Some(Arc::new(LiveFrame {
            seq: s.frames_total,
            captured,
            image,
            jpegs: Mutex::new(Vec::new()),
        }));
        drop(s);
        self.snapshot_wanted.store(false, Ordering::Relaxed);
        self.changed.notify_all();
    }

    /// A processed frame went by (health), whether or not it was drawn.
    pub fn frame_seen(&self) {
        *lock(&self.last_frame) = Some(Instant::now());
    }

    /// The device state changed.
    pub fn put_state(&self, json: String) {
        lock(&self.shared).state_json = json;
        self.changed.notify_all();
    }

    /// An event of the stream (`kind` is its `event` tag).
    pub fn put_event(&self, kind: &str, json: String) {
        let mut s = lock(&self.shared);
        s.next_event += 1;
        let id = s.next_event;
        s.events.push_back((id, kind.to_string(), json));
        while s.events.len() > RECENT_EVENTS {
            s.events.pop_front();
        }
        drop(s);
        self.changed.notify_all();
    }

    /// The pipeline's counters.
    pub fn put_stats(&self, fps: f64, stages: Vec<StageStats>) {
        let mut s = lock(&self.shared);
        s.fps = fps;
        s.stages = stages;
    }

    /// The live source was lost (`Some(reason)`) or restored (`None`).
    pub fn put_source(&self, lost: Option<String>) {
        lock(&self.shared).source_lost = lost;
        self.changed.notify_all();
    }

    /// The run is over: streams end.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    // ---- read by the connection threads ----

    /// True once the run is over.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Registers a viewer if fewer than `max` watch; the guard unregisters.
    pub fn join_viewer(self: &Arc<Self>, max: usize) -> Option<ViewerGuard> {
        let mut n = self.viewers.load(Ordering::Relaxed);
        loop {
            if n >= max {
                return None;
            }
            match self
                .viewers
                .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(ViewerGuard(self.clone())),
                Err(now) => n = now,
            }
        }
    }

    /// Whether an event-stream client asked for per-frame events (they are
    /// kept out of the recent-events ring otherwise).
    pub fn wants_frame_events(&self) -> bool {
        self.frame_listeners.load(Ordering::Relaxed) > 0
    }

    /// Registers an event-stream client that wants per-frame events.
    pub fn listen_frames(self: &Arc<Self>) -> FrameListener {
        self.frame_listeners.fetch_add(1, Ordering::AcqRel);
        FrameListener(self.clone())
    }

    /// Viewers of the MJPEG stream now.
    pub fn viewers(&self) -> usize {
        self.viewers.load(Ordering::Relaxed)
    }

    /// The newest frame after `after` (a frame's `seq`), waiting at most `wait`.
    pub fn next_frame(&self, after: u64, wait: Duration) -> Option<Arc<LiveFrame>> {
        let deadline = Instant::now() + wait;
        let mut s = lock(&self.shared);
        loop {
            if let Some(f) = s.frame.as_ref().filter(|f| f.seq > after) {
                return Some(f.clone());
            }
            let now = Instant::now();
            if now >= deadline || self.stopping() {
                return None;
            }
            s = self
                .changed
                .wait_timeout(s, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The latest frame, asking the presenter for one (and waiting up to
    /// `wait`) when none is recent.
    pub fn snapshot(&self, wait: Duration) -> Option<Arc<LiveFrame>> {
        let current = lock(&self.shared).frame.clone();
        if let Some(f) = current.filter(|f| f.captured.elapsed() < Duration::from_millis(500)) {
            return Some(f);
        }
        let after = lock(&self.shared).frame.as_ref().map_or(0, |f| f.seq);
        self.snapshot_wanted.store(true, Ordering::Relaxed);
        self.next_frame(after, wait)
            .or_else(|| lock(&self.shared).frame.clone())
    }

    /// The device state JSON.
    pub fn state_json(&self) -> String {
        lock(&self.shared).state_json.clone()
    }

    /// Events after id `after`, waiting at most `wait` for one.
    pub fn events_after(&self, after: u64, wait: Duration) -> Vec<(u64, String, String)> {
        let deadline = Instant::now() + wait;
        let mut s = lock(&self.shared);
        loop {
            let newer: Vec<_> = s
                .events
                .iter()
                .filter(|(id, _, _)| *id > after)
                .cloned()
                .collect();
            let now = Instant::now();
            if !newer.is_empty() || now >= deadline || self.stopping() {
                return newer;
            }
            s = self
                .changed
                .wait_timeout(s, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The id of the newest event (0 when none).
    pub fn last_event_id(&self) -> u64 {
        lock(&self.shared).next_event
    }

    /// Frames flow and the source is not lost.
    pub fn healthy(&self) -> Result<(), String> {
        if let Some(reason) = &lock(&self.shared).source_lost {
            return Err(format!("source lost: {reason}"));
        }
        match *lock(&self.last_frame) {
            Some(t) if t.elapsed() < HEALTH_STALE => Ok(()),
            Some(t) => Err(format!("no frame for {:.1} s", t.elapsed().as_secs_f64())),
            None => Err("no frame yet".into()),
        }
    }

    /// FPS, stage counters and the source's state, for the page and `/metrics`.
    pub fn stats(&self) -> (f64, Vec<StageStats>, Option<String>) {
        let s = lock(&self.shared);
        (s.fps, s.stages.clone(), s.source_lost.clone())
    }

    /// Seconds since the server started.
    pub fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// A client of per-frame events; dropping it unregisters.
pub struct FrameListener(Arc<Hub>);

impl Drop for FrameListener {
    fn drop(&mut self) {
        self.0.frame_listeners.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A registered viewer; dropping it frees the place.
pub struct ViewerGuard(Arc<Hub>);

impl Drop for ViewerGuard {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewers_are_capped_and_released() {
        let hub = Hub::new(Counters::default());
        let a = hub.join_viewer(2).unwrap();
        let _b = hub.join_viewer(2).unwrap();
        assert!(hub.join_viewer(2).is_none());
        assert!(hub.wants_frames());
        drop(a);
        assert!(hub.join_viewer(2).is_some());
    }

    #[test]
    fn a_frame_is_encoded_once_per_width() {
        let hub = Hub::new(Counters::default());
        hub.put_frame(RgbImage::new(64, 48), Instant::now());
        let f = hub.next_frame(0, Duration::ZERO).unwrap();
        let a = f.jpeg(0).unwrap();
        let b = f.jpeg(64).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let small = f.jpeg(32).unwrap();
        assert!(!Arc::ptr_eq(&a, &small));
        assert_eq!(&small[..2], &[0xFF, 0xD8]);
        assert!(hub.next_frame(f.seq, Duration::from_millis(10)).is_none());
    }

    #[test]
    fn events_are_kept_up_to_the_bound() {
        let hub = Hub::new(Counters::default());
        for i in 0..(RECENT_EVENTS + 10) {
            hub.put_event("x", format!("{i}"));
        }
        let all = hub.events_after(0, Duration::ZERO);
        assert_eq!(all.len(), RECENT_EVENTS);
        assert_eq!(all[0].0, 11);
        assert!(hub
            .events_after(hub.last_event_id(), Duration::ZERO)
            .is_empty());
    }

    #[test]
    fn health_follows_frames_and_the_source() {
        let hub = Hub::new(Counters::default());
        assert!(hub.healthy().is_err());
        hub.frame_seen();
        assert!(hub.healthy().is_ok());
        hub.put_source(Some("gone".into()));
        assert!(hub.healthy().unwrap_err().contains("gone"));
        hub.put_source(None);
        assert!(hub.healthy().is_ok());
    }
}

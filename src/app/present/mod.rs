//! Presentation: the overlay window and the JSON-lines event stream.

pub mod canvas;
pub mod config;
pub mod device_state;
pub mod error;
pub mod events;
pub mod label;
pub mod overlay;
pub mod snapshot;
pub mod state;
pub mod window;

use std::time::{Duration, Instant};

use crate::app::outlets::Outlet;
use crate::app::update::Update;
use crate::pipeline::stats::RunSummary;
use crate::pipeline::{Flow, LiveView, Presenter, StageResult};

pub use canvas::Canvas;
pub use config::PresentConfig;
pub use device_state::DeviceState;
pub use error::PresentError;
pub use events::{Event, EventWriter};
pub use state::PresentState;
pub use window::OverlayWindow;

/// The presenter of `vigil run`: events (headless, or alongside the window
/// with `--events`) and/or the overlay window.
pub struct Present {
    state: PresentState,
    events: Option<EventWriter>,
    frame_events: bool,
    window: Option<OverlayWindow>,
    scale: usize,
    outlets: Vec<Box<dyn Outlet>>,
    /// When the outlets last got the live counters.
    last_live: Option<Instant>,
    /// The device state last handed to the outlets.
    last_state: Option<DeviceState>,
    /// Enrolment through the running instance: gets the analysed frames
    /// while it runs; its progress becomes `enroll` events.
    enrol: Option<crate::app::enrol::EnrolService>,
}

/// How often the outlets get the pipeline's live counters.
pub const LIVE_EVERY: Duration = Duration::from_millis(500);

impl Present {
    /// A presenter writing `events` (per-frame ones too with `frame_events`)
    /// and showing the overlay in `window` at integer zoom `scale`.
    pub fn new(
        events: Option<EventWriter>,
        frame_events: bool,
        window: Option<OverlayWindow>,
        scale: usize,
    ) -> Self {
        Self {
            state: PresentState::default(),
            events,
            frame_events,
            window,
            scale,
            outlets: Vec::new(),
            last_live: None,
            last_state: None,
            enrol: None,
        }
    }

    /// Feeds `service` the analysed frames while it enrols, and reports its
    /// progress as `enroll` events.
    pub fn set_enrolment(&mut self, service: crate::app::enrol::EnrolService) {
        self.enrol = Some(service);
    }

    /// The enrolment progress since the last call, as events.
    fn enrol_events(&self) -> Vec<Event> {
        self.enrol
            .as_ref()
            .map(|e| e.take_events())
            .unwrap_or_default()
            .into_iter()
            .map(|status| Event::Enroll { status })
            .collect()
    }

    /// Adds an outlet: it gets every event and every device-state change.
    pub fn add_outlet(&mut self, outlet: Box<dyn Outlet>) {
        self.outlets.push(outlet);
        // Every outlet starts with the current state (published before `online`).
        self.last_state = None;
        self.publish_state();
    }

    /// Closes every outlet (delivering what each can within its grace
    /// period) and returns their one-line reports.
    pub fn close_outlets(&mut self) -> Vec<String> {
        self.outlets.iter_mut().filter_map(|o| o.close()).collect()
    }

    /// Hands the state to the outlets when it changed (time stamp aside).
    fn publish_state(&mut self) {
        if self.outlets.is_empty() {
            return;
        }
        let state = DeviceState::from_present(&self.state, String::new());
        if self.last_state.as_ref().is_some_and(|s| s.same_as(&state)) {
            return;
        }
        let stamped = DeviceState {
            ts: crate::app::outlets::clock::now_rfc3339(),
            ..state
        };
        for o in &mut self.outlets {
            o.state(&stamped);
        }
        self.last_state = Some(stamped);
    }

    /// Everything presented so far, merged.
    pub fn state(&self) -> &PresentState {
        &self.state
    }
}

impl Presenter<Update> for Present {
    fn present(&mut self, update: &Update, live: &LiveView) -> StageResult<Flow> {
        if let (Some(enrol), Update::Faces(analysis)) = (&self.enrol, update) {
            if enrol.wants_frames() {
                enrol.offer(analysis.clone());
            }
        }
        let mut changes = self.state.apply(update);
        changes.extend(self.enrol_events());
        let is_frame = matches!(update, Update::Faces(_));
        let write_frames = self.events.is_some() && self.frame_events;
        let frame_event = if is_frame && (write_frames || !self.outlets.is_empty()) {
            let latency = update.stamp().captured.elapsed().as_secs_f64() * 1e3;
            self.state.frame_event(latency)
        } else {
            None
        };
        if let Some(w) = self.events.as_mut() {
            if let Some(ev) = frame_event.as_ref().filter(|_| write_frames) {
                w.write(ev)?;
            }
            for ev in &changes {
                w.write(ev)?;
            }
        }
        for o in &mut self.outlets {
            for ev in frame_event.iter().chain(&changes) {
                o.event(ev);
            }
        }
        if self.outlets.iter().any(|o| o.wants_unknown_faces()) {
            for track in snapshot::unknown_tracks(&changes) {
                let Some(crop) = snapshot::track_crop(&self.state, track) else {
                    continue;
                };
                for o in self.outlets.iter_mut().filter(|o| o.wants_unknown_faces()) {
                    o.unknown_face(track, &crop);
                }
            }
        }
        self.publish_state();
        if is_frame && self.last_live.is_none_or(|t| t.elapsed() >= LIVE_EVERY) {
            self.last_live = Some(Instant::now());
            for o in &mut self.outlets {
                o.live(live);
            }
        }
        if is_frame || matches!(update, Update::Source(..)) {
            let outlets_want = self.outlets.iter().any(|o| o.wants_frame());
            if self.window.is_some() || outlets_want {
                if let Some(canvas) = overlay::render(&self.state, live, self.scale) {
                    let captured = update.stamp().captured;
                    for o in self.outlets.iter_mut().filter(|o| o.wants_frame()) {
                        o.frame(&canvas, captured);
                    }
                    if let Some(window) = self.window.as_mut() {
                        if !window.show(&canvas)? {
                            return Ok(Flow::Stop);
                        }
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn idle(&mut self, _live: &LiveView) -> StageResult<Flow> {
        for ev in self.enrol_events() {
            if let Some(w) = self.events.as_mut() {
                w.write(&ev)?;
            }
            for o in &mut self.outlets {
                o.event(&ev);
            }
        }
        let open = self.window.as_mut().map(|w| w.pump()).unwrap_or(true);
        Ok(if open { Flow::Continue } else { Flow::Stop })
    }

    fn finish(&mut self, summary: &RunSummary) -> StageResult<()> {
        let event = Event::Summary {
            summary: summary.clone(),
        };
        for o in &mut self.outlets {
            o.event(&event);
        }
        if let Some(w) = self.events.as_mut() {
            w.write(&event)?;
        }
        Ok(())
    }
}

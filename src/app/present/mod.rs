//! Presentation: the overlay window and the JSON-lines event stream.

pub mod canvas;
pub mod config;
pub mod device_state;
pub mod error;
pub mod events;
pub mod label;
pub mod overlay;
pub mod state;
pub mod window;

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
    /// The device state last handed to the outlets.
    last_state: Option<DeviceState>,
}

impl Present {
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
            last_state: None,
        }
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

    pub fn state(&self) -> &PresentState {
        &self.state
    }
}

impl Presenter<Update> for Present {
    fn present(&mut self, update: &Update, live: &LiveView) -> StageResult<Flow> {
        let changes = self.state.apply(update);
        let is_frame = matches!(update, Update::Faces(_));
        if let Some(w) = self.events.as_mut() {
            if is_frame && self.frame_events {
                let latency = update.stamp().captured.elapsed().as_secs_f64() * 1e3;
                if let Some(ev) = self.state.frame_event(latency) {
                    w.write(&ev)?;
                }
            }
            for ev in &changes {
                w.write(ev)?;
            }
        }
        for o in &mut self.outlets {
            for ev in &changes {
                o.event(ev);
            }
        }
        self.publish_state();
        if is_frame || matches!(update, Update::Source(..)) {
            if let Some(window) = self.window.as_mut() {
                if let Some(canvas) = overlay::render(&self.state, live, self.scale) {
                    if !window.show(&canvas)? {
                        return Ok(Flow::Stop);
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn idle(&mut self, _live: &LiveView) -> StageResult<Flow> {
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

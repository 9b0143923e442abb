//! Presentation: the overlay window and the JSON-lines event stream.

pub mod canvas;
pub mod config;
pub mod error;
pub mod events;
pub mod label;
pub mod overlay;
pub mod state;
pub mod window;

use crate::app::update::Update;
use crate::pipeline::stats::RunSummary;
use crate::pipeline::{Flow, LiveView, Presenter, StageResult};

pub use canvas::Canvas;
pub use config::PresentConfig;
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
        }
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
        if let Some(w) = self.events.as_mut() {
            w.write(&Event::Summary {
                summary: summary.clone(),
            })?;
        }
        Ok(())
    }
}

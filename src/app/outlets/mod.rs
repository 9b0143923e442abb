//! Outlets: where the presenter's events and the device state go besides the
//! JSON-lines stream (today MQTT). An outlet never makes the pipeline wait:
//! it hands its work to a background worker ([`crate::pipeline::worker`]).

pub mod clock;
pub mod http;
pub mod mqtt;

use std::time::Instant;

use image::RgbImage;

use super::present::{Canvas, DeviceState, Event};
use crate::core::face::TrackId;
use crate::pipeline::LiveView;

/// Receives every event and every change of the device state.
pub trait Outlet {
    /// One event of the JSON-lines stream (frame events included: the outlet
    /// decides what it forwards). Never waits on the network.
    fn event(&mut self, event: &Event);
    /// The device state changed (compared without its time stamp).
    fn state(&mut self, state: &DeviceState);
    /// Whether the outlet wants the overlay of the current frame (the
    /// presenter draws it once for the window and every outlet that asks).
    fn wants_frame(&self) -> bool {
        false
    }
    /// The overlay as drawn, of the frame captured at `captured`.
    fn frame(&mut self, _canvas: &Canvas, _captured: Instant) {}
    /// Whether the outlet wants pictures of unknown faces
    /// ([`Outlet::unknown_face`]); the presenter crops only when one asks.
    fn wants_unknown_faces(&self) -> bool {
        false
    }
    /// The verifier just decided `track` is unknown (the verify event comes
    /// first, through [`Outlet::event`]): `crop` is the latest analysed frame
    /// around the track's face box, with a margin
    /// ([`crate::app::present::snapshot`]). Never waits on the network.
    fn unknown_face(&mut self, _track: TrackId, _crop: &RgbImage) {}
    /// The pipeline's live counters (about twice a second).
    fn live(&mut self, _live: &LiveView) {}
    /// The run is over: deliver what can be delivered within the outlet's
    /// grace period, then stop. Returns a one-line report for the run's end.
    fn close(&mut self) -> Option<String>;
}

//! Outlets: where the presenter's events and the device state go besides the
//! JSON-lines stream (today MQTT). An outlet never makes the pipeline wait:
//! it hands its work to a background worker ([`crate::pipeline::worker`]).

pub mod clock;
pub mod mqtt;

use super::present::{DeviceState, Event};

/// Receives every event and every change of the device state.
pub trait Outlet {
    /// One event of the JSON-lines stream (frame events included: the outlet
    /// decides what it forwards). Never waits on the network.
    fn event(&mut self, event: &Event);
    /// The device state changed (compared without its time stamp).
    fn state(&mut self, state: &DeviceState);
    /// The run is over: deliver what can be delivered within the outlet's
    /// grace period, then stop. Returns a one-line report for the run's end.
    fn close(&mut self) -> Option<String>;
}

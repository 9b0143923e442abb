//! The live view and local API over HTTP (`[http]`, `vigil run --http ADDR`):
//! the overlay as an MJPEG stream and snapshots, the device state, the event
//! stream as server-sent events, health, Prometheus metrics and a status
//! page. An outlet: it reads what the presenter hands it and never reaches
//! into a stage; its threads are its own, so a slow viewer never slows the
//! pipeline.
//!
//! Why no HTTP framework: `httparse` (hyper's own request parser, fuzzed
//! upstream) parses the head; the server is plain `std::net` with one thread
//! per connection under a hard cap, a deadline on every request head (slow
//! loris) and no async runtime. tiny_http was the candidate crate: it starts
//! an unbounded thread per connection and has no read deadline, which are
//! exactly the two things a device on a network needs bounded.

pub mod config;
pub mod enrol;
pub mod hub;
pub mod metrics;
pub mod request;
pub mod routes;
pub mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

use super::Outlet;
use crate::app::present::{Canvas, DeviceState, Event};
use crate::pipeline::LiveView;
use crate::verify::report::VerifyNotice;

pub use config::HttpConfig;
use hub::{Counters, Hub};
use server::{Server, ServerCtx};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The configuration is wrong (the message names the key).
    #[error(transparent)]
    Config(#[from] crate::core::check::ConfigError),
    /// The address could not be bound.
    #[error("http: cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The HTTP outlet.
pub struct HttpOutlet {
    hub: Arc<Hub>,
    server: Server,
    frame_interval: Duration,
    last_frame: Option<Instant>,
}

impl HttpOutlet {
    /// Starts the server per `config` (which must be enabled), with the token
    /// read from `http.token_file` (mode 0600) when set. `spool_bytes` is the
    /// MQTT spool's size gauge when MQTT is on; `enrol` serves the enrolment
    /// and people endpoints (none with verification off).
    pub fn start(
        config: &HttpConfig,
        spool_bytes: Option<Arc<std::sync::atomic::AtomicU64>>,
        enrol: Option<crate::app::enrol::EnrolService>,
    ) -> Result<Self, HttpError> {
        config.validate()?;
        let Some(addr) = config.addr()? else {
            return Err(crate::core::check::ConfigError::invalid("http.bind", "empty").into());
        };
        let token = match &config.token_file {
            Some(path) => Some(crate::app::secrets::read_secret(path, "http.token_file")?),
            None => None,
        };
        let hub = Hub::new(Counters {
            mqtt_spool_bytes: spool_bytes,
            ..Counters::default()
        });
        let ctx = ServerCtx {
            hub: hub.clone(),
            token,
            max_viewers: config.max_viewers as usize,
            stream_fps: config.stream_fps,
            stream_width: config.stream_width,
            enrol,
        };
        let server =
            Server::start(addr, ctx, config.max_connections as usize).map_err(|source| {
                HttpError::Bind {
                    addr: addr.to_string(),
                    source,
                }
            })?;
        Ok(Self {
            hub,
            server,
            frame_interval: Duration::from_secs_f64(1.0 / config.stream_fps),
            last_frame: None,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    fn count(&self, event: &Event) {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.hub.counters;
        match event {
            Event::Verify { notice, .. } => match notice {
                VerifyNotice::Unlocked { .. } => {
                    c.unlocks.fetch_add(1, Relaxed);
                }
                VerifyNotice::LivenessFailed { .. } | VerifyNotice::UnlockFailed { .. } => {
                    c.failed_attempts.fetch_add(1, Relaxed);
                }
                VerifyNotice::Identity {
                    identity: crate::verify::decision::Identity::Unknown,
                    ..
                } => {
                    c.failed_attempts.fetch_add(1, Relaxed);
                }
                VerifyNotice::LockedOut { .. } => {
                    c.lockouts.fetch_add(1, Relaxed);
                }
                _ => {}
            },
            Event::SourceRestored { .. } => {
                c.source_restarts.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}

/// The `event` tag of a serialised event.
fn kind_of(json: &serde_json::Value) -> &str {
    json.get("event")
        .and_then(|v| v.as_str())
        .unwrap_or("event")
}

impl Outlet for HttpOutlet {
    fn event(&mut self, event: &Event) {
        match event {
            Event::Frame { .. } => {
                self.hub.frame_seen();
                if !self.hub.wants_frame_events() {
                    return;
                }
            }
            Event::SourceLost { reason, .. } => self.hub.put_source(Some(reason.clone())),
            Event::SourceRestored { .. } => self.hub.put_source(None),
            _ => {}
        }
        self.count(event);
        match serde_json::to_value(event) {
            Ok(json) => {
                let kind = kind_of(&json).to_string();
                self.hub.put_event(&kind, json.to_string());
            }
            Err(e) => log::warn!("http: event not serialisable: {e}"),
        }
    }

    fn state(&mut self, state: &DeviceState) {
        match serde_json::to_string(state) {
            Ok(json) => self.hub.put_state(json),
            Err(e) => log::warn!("http: state not serialisable: {e}"),
        }
    }

    fn wants_frame(&self) -> bool {
        self.hub.wants_frames()
            && self
                .last_frame
                .is_none_or(|t| t.elapsed() >= self.frame_interval)
    }

    fn frame(&mut self, canvas: &Canvas, captured: Instant) {
        self.last_frame = Some(Instant::now());
        let mut image = RgbImage::new(canvas.width as u32, canvas.height as u32);
        for (px, c) in image.pixels_mut().zip(&canvas.pixels) {
            *px = image::Rgb([(c >> 16) as u8, (c >> 8) as u8, *c as u8]);
        }
        self.hub.put_frame(image, captured);
    }

    fn live(&mut self, live: &LiveView) {
        self.hub.put_stats(live.fps, live.stages.clone());
    }

    fn close(&mut self) -> Option<String> {
        self.server.stop();
        Some(format!(
            "http: served on {} until the end of the run",
            self.addr()
        ))
    }
}

//! `vigil run`: the pipeline on a camera or a replay, with the overlay window
//! or headless events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;

use crate::app::build::build_pipeline;
use crate::app::config::Config;
use crate::app::enrol::socket::ControlSocket;
use crate::app::enrol::EnrolService;
use crate::app::outlets::http::HttpOutlet;
use crate::app::outlets::mqtt::MqttOutlet;
use crate::app::paths;
use crate::app::present::{EventWriter, OverlayWindow, Present};
use crate::capture::SourceSpec;

/// Flags of `vigil run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// auto, camera[:INDEX], picam[:INDEX], dir:PATH, video:PATH, a stream URL (rtsp://, rtsps://, http(s)://, tcp://, udp://) or demo (default: capture.source).
    #[arg(long, value_name = "SPEC")]
    pub source: Option<String>,
    /// No window: write JSON-lines events (to stdout unless --events).
    #[arg(long)]
    pub headless: bool,
    /// Write events to FILE ("-" = stdout); with a window, events are written too.
    #[arg(long, value_name = "FILE")]
    pub events: Option<String>,
    /// Stop after N frames.
    #[arg(long, value_name = "N")]
    pub max_frames: Option<u64>,
    /// Pace replays at their native FPS (frames are then dropped like a camera's).
    #[arg(long)]
    pub realtime: bool,
    /// Serve the live view and API on ADDR:PORT (http.bind), e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<String>,
    /// Start replays again at their end (capture.loop).
    #[arg(long = "loop")]
    pub loop_replay: bool,
}

impl RunArgs {
    /// Applies the flags over `config` and validates the result.
    pub fn apply(&self, mut config: Config) -> anyhow::Result<Config> {
        if let Some(s) = &self.source {
            config.capture.source = s.clone();
        }
        if self.headless {
            config.present.headless = true;
        }
        if let Some(e) = &self.events {
            config.present.events = e.clone();
        }
        if let Some(n) = self.max_frames {
            config.pipeline.max_frames = n;
        }
        if self.realtime {
            config.capture.realtime = true;
        }
        if let Some(bind) = &self.http {
            config.http.bind = bind.clone();
        }
        if self.loop_replay {
            config.capture.loop_replay = true;
        }
        config.validate()?;
        Ok(config)
    }
}

/// `vigil run`.
pub fn run(config: Config, args: &RunArgs) -> anyhow::Result<()> {
    let config = args.apply(config)?;
    let spec = SourceSpec::parse(&config.capture.source)?.resolve();
    let (pipeline, options) = build_pipeline(&config, &spec)?;

    let mut headless = config.present.headless;
    if !headless && !display_available() {
        log::warn!("no display (DISPLAY is not set): running headless, events on stdout");
        headless = true;
    }
    let events = if headless || args.events.is_some() {
        Some(EventWriter::open(&config.present.events)?)
    } else {
        None
    };
    let window = (!headless).then(OverlayWindow::new);
    let mut present = Present::new(
        events,
        config.present.frame_events,
        window,
        config.present.window_scale as usize,
    );

    // Enrolment while running (HTTP API, control socket for `vigil enroll`).
    let enrol = start_enrolment(&config)?;
    let mut socket = match &enrol {
        Some(service) => {
            let dir = paths::state_dir(config.verify.state_dir.as_deref())?;
            match ControlSocket::start(&dir, service.clone()) {
                Ok(s) => Some(s),
                Err(e) => {
                    log::warn!("{e}: `vigil enroll` cannot reach this run");
                    None
                }
            }
        }
        None => None,
    };
    if let Some(service) = &enrol {
        present.set_enrolment(service.clone());
    }

    let mut spool_gauge = None;
    if config.mqtt.enabled() {
        let state_dir = paths::state_dir(config.verify.state_dir.as_deref())?;
        let outlet = MqttOutlet::open(&config.mqtt, &state_dir)?;
        spool_gauge = Some(outlet.spool_gauge());
        present.add_outlet(Box::new(outlet));
    }
    if config.http.enabled() {
        let outlet = HttpOutlet::start(&config.http, spool_gauge, enrol.clone())?;
        present.add_outlet(Box::new(outlet));
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Release))
            .context("cannot install the Ctrl-C handler")?;
    }
    let result = pipeline.run(&mut present, &options, stop);
    // Outlets are closed also when the run failed: `offline`, spool synced.
    let reports = present.close_outlets();
    if let Some(s) = socket.as_mut() {
        s.close();
    }
    if let Some(service) = &enrol {
        service.close();
    }
    let summary = result.with_context(|| format!("run on {spec} failed"))?;
    eprintln!("{}", summary.to_text());
    for r in reports {
        eprintln!("{r}");
    }
    Ok(())
}

/// The enrolment service of a run with verification on.
fn start_enrolment(config: &Config) -> anyhow::Result<Option<EnrolService>> {
    if !config.verify.enabled {
        return Ok(None);
    }
    let store = crate::models::ModelStore::new(crate::app::build::models_dir(config)?);
    let state = paths::state_paths(config)?;
    Ok(Some(EnrolService::start(config, store, state)?))
}

/// Whether a window can be opened (minifb uses X11).
fn display_available() -> bool {
    cfg!(feature = "window") && std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

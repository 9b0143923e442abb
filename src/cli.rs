//! Command-line interface (clap). `main` parses and calls [`execute`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::app;
use crate::capture::SourceSpec;
use crate::config::Config;
use crate::models::{self, ModelId, ModelStore};
use crate::present::{EventWriter, OverlayWindow, Present};

#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    about = "Real-time face understanding on the CPU of a small board"
)]
pub struct Cli {
    /// Config file (default: $VIGIL_CONFIG, ./config/vigil.toml, /etc/vigil/vigil.toml, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on a camera or a replay, with the overlay window or headless events.
    Run(RunArgs),
    /// Check every model: checksum, shapes, load and plan time.
    Models(ModelsArgs),
    /// Measure per-model and per-stage latency, end-to-end FPS and memory.
    Bench(crate::bench::BenchArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// auto, camera[:INDEX], dir:PATH, video:PATH or demo (default: capture.source).
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
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Models directory (default: models.dir, $VIGIL_MODELS, ./models, /usr/share/vigil/models).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Loads the config file and applies the `run` flags over it.
pub fn run_config(cli_config: Option<&PathBuf>, args: &RunArgs) -> anyhow::Result<Config> {
    let (mut config, path) = Config::load(cli_config.map(|p| p.as_path()))?;
    match &path {
        Some(p) => log::info!("config: {}", p.display()),
        None => log::info!("config: built-in defaults"),
    }
    if let Some(s) = &args.source {
        config.capture.source = s.clone();
    }
    if args.headless {
        config.present.headless = true;
    }
    if let Some(e) = &args.events {
        config.present.events = e.clone();
    }
    if let Some(n) = args.max_frames {
        config.pipeline.max_frames = n;
    }
    if args.realtime {
        config.capture.realtime = true;
    }
    config.validate()?;
    Ok(config)
}

pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Run(args) => run(cli.config.as_ref(), args),
        Command::Models(args) => list_models(cli.config.as_ref(), args),
        Command::Bench(args) => bench(cli.config.as_ref(), args),
    }
}

fn run(config_path: Option<&PathBuf>, args: &RunArgs) -> anyhow::Result<()> {
    let config = run_config(config_path, args)?;
    let spec = SourceSpec::parse(&config.capture.source)?.resolve();
    let (pipeline, options) = app::build_pipeline(&config, &spec)?;

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

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::Release))
            .context("cannot install the Ctrl-C handler")?;
    }
    let summary = pipeline
        .run(&mut present, &options, stop)
        .with_context(|| format!("run on {spec} failed"))?;
    eprintln!("{}", summary.to_text());
    Ok(())
}

fn bench(config_path: Option<&PathBuf>, args: &crate::bench::BenchArgs) -> anyhow::Result<()> {
    let (config, _) = Config::load(config_path.map(|p| p.as_path()))?;
    let report = crate::bench::run(config, args)?;
    print!("{}", crate::bench::to_text(&report));
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(())
}

/// Whether a window can be opened (minifb uses X11).
fn display_available() -> bool {
    cfg!(feature = "window") && std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

fn list_models(config_path: Option<&PathBuf>, args: &ModelsArgs) -> anyhow::Result<()> {
    let (config, _) = Config::load(config_path.map(|p| p.as_path()))?;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => app::models_dir(&config)?,
    };
    println!("models in {}", dir.display());
    let store = ModelStore::new(&dir);
    let specs: Vec<&'static models::ModelSpec> = ModelId::ALL.iter().map(|id| id.spec()).collect();
    let reports = models::check_all(&store, &specs);
    let mut failed = 0;
    for r in &reports {
        match &r.result {
            Ok(c) => {
                println!(
                    "OK    {:<32} sha256 {}…  load {:>6.1} ms  plan {:>7.1} ms  run {:>6.1} ms",
                    r.file,
                    &c.sha256[..12],
                    c.load_time.as_secs_f64() * 1e3,
                    c.plan_time.as_secs_f64() * 1e3,
                    c.run_time.as_secs_f64() * 1e3
                );
                println!(
                    "      {}: in {}  out {}",
                    r.role,
                    c.input,
                    c.outputs.join(", ")
                );
            }
            Err(e) => {
                failed += 1;
                println!("FAIL  {:<32} {e}", r.file);
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} models failed their checks", reports.len());
    }
    Ok(())
}

//! Command-line interface (clap). `main` parses and calls [`execute`], which
//! loads the config once and hands it to the command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::app::commands;
use crate::app::config::Config;

/// `vigil`'s command line.
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
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline on a camera or a replay, with the overlay window or headless events.
    Run(commands::run::RunArgs),
    /// Check every model: checksum, shapes, load and plan time.
    Models(commands::models::ModelsArgs),
    /// Measure per-model and per-stage latency, end-to-end FPS and memory.
    Bench(commands::bench::BenchArgs),
    /// Enroll a person (or --list, --remove NAME) for owner verification.
    Enroll(commands::enroll::EnrollArgs),
    /// Measure a stage's accuracy on a development set (detect, verify, ...).
    Eval(commands::eval::EvalArgs),
    /// MQTT tools: `vigil mqtt check` connects with the config and reports.
    Mqtt(commands::mqtt::MqttArgs),
}

/// Loads the config and runs the command.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    let loaded = Config::load(cli.config.as_deref())?;
    match &loaded.path {
        Some(p) => log::info!("config: {}", p.display()),
        None => log::info!("config: built-in defaults"),
    }
    let config = loaded.config;
    match &cli.command {
        Command::Run(args) => commands::run::run(config, args),
        Command::Models(args) => commands::models::run(config, args),
        Command::Bench(args) => commands::bench::run(config, args),
        Command::Enroll(args) => commands::enroll::run(config, args),
        Command::Eval(args) => commands::eval::run(config, args),
        Command::Mqtt(args) => commands::mqtt::run(config, args),
    }
}

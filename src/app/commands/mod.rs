//! Every subcommand, one module each, with one signature:
//! `run(config: Config, args: &Args) -> anyhow::Result<()>` (the config is
//! loaded once by [`crate::app::cli`]; a command applies its flags over it
//! and validates it). Reports are printed by [`emit`].

pub mod bench;
pub mod enroll;
pub mod eval;
pub mod models;
pub mod mqtt;
pub mod run;

use std::fmt;

use serde::Serialize;

/// Prints a report as a table on stdout; with `json`, also one JSON object as
/// the last stdout line.
pub fn emit<R: Serialize + fmt::Display>(report: &R, json: bool) -> anyhow::Result<()> {
    print!("{report}");
    if json {
        println!("{}", serde_json::to_string(report)?);
    }
    Ok(())
}

//! `vigil eval ...`: accuracy evaluations on development sets.

pub mod scene;
pub mod verify;

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: EvalCommand,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Face verification on a folder of identities (one sub-folder per person).
    Verify(verify::VerifyEvalArgs),
    /// Owner / others / objects scene head: k-fold (--data) or enrollment (--enroll, --test).
    Scene(scene::SceneEvalArgs),
}

/// Runs an evaluation with the loaded config.
pub fn run(config: &crate::config::Config, args: &EvalArgs) -> anyhow::Result<()> {
    match &args.command {
        EvalCommand::Verify(a) => verify::run(config, a),
        EvalCommand::Scene(a) => {
            config.validate()?;
            scene::run(config, a)?;
            Ok(())
        }
    }
}

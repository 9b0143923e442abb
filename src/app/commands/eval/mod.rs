//! `vigil eval ...`: accuracy of each stage on a development set.

pub mod attention;
pub mod detect;
pub mod detect_metrics;
pub mod emotion;
pub mod lighting;
pub mod scene;
pub mod unlock;
pub mod unlock_plot;
pub mod values;
pub mod verify;

use clap::{Args, Subcommand};

/// Flags of `vigil eval`: which stage to evaluate.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The stage to evaluate, with its own flags.
    #[command(subcommand)]
    pub command: EvalCommand,
}

/// The `vigil eval` subcommands, one per stage.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Driver attention: eye state (closed/ open/) and yawn (yawn/ no_yawn/) accuracy through the detector.
    Attention(attention::AttentionEvalArgs),
    /// Face detector: recall / precision / AP on annotated photos, or frame hit rate on a clip.
    Detect(detect::DetectEvalArgs),
    /// Emotion classifier: accuracy, per-class recall, confusion on a folder per class.
    Emotion(emotion::EmotionEvalArgs),
    /// Face verification on a folder of identities (one sub-folder per person).
    Verify(verify::VerifyEvalArgs),
    /// Unlock end to end on clips: owner attempts, strangers, spoofs (and a liveness threshold sweep).
    Unlock(unlock::UnlockEvalArgs),
    /// Owner / others / objects scene head: k-fold (--data) or enrollment (--enroll, --test).
    Scene(scene::SceneEvalArgs),
}

/// Runs an evaluation with the loaded config.
pub fn run(config: crate::app::config::Config, args: &EvalArgs) -> anyhow::Result<()> {
    let config = &config;
    match &args.command {
        EvalCommand::Attention(a) => {
            config.validate()?;
            attention::run(config, a).map(|_| ()).map_err(Into::into)
        }
        EvalCommand::Detect(a) => detect::run(config, a),
        EvalCommand::Emotion(a) => emotion::run(config, a).map(|_| ()).map_err(Into::into),
        EvalCommand::Verify(a) => verify::run(config, a),
        EvalCommand::Unlock(a) => {
            config.validate()?;
            unlock::run(config, a).map(|_| ())
        }
        EvalCommand::Scene(a) => {
            config.validate()?;
            scene::run(config, a)?;
            Ok(())
        }
    }
}

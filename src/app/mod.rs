//! Layer 4, app: everything that knows the whole program. The aggregate
//! [`config::Config`] and its search path, the state directory ([`paths`]),
//! the [`update::Update`] messages with the consumer impls for the stages, the
//! run assembly ([`build`], [`front`]), the presenters ([`present`]), the
//! outlets ([`outlets`]: MQTT) and every subcommand ([`commands`]), with the command line
//! ([`cli`]).
//!
//! May use every layer below (core, models, capture, pipeline, the stages);
//! nothing below imports it.

pub mod build;
pub mod cli;
pub mod commands;
pub mod config;
pub mod enrol;
pub mod front;
pub mod outlets;
pub mod paths;
pub mod present;
pub mod secrets;
pub mod update;

pub use build::{build_pipeline, face_finder, models_dir};

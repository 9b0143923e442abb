//! Vigil: real-time face understanding on small ARM boards.
//!
//! The modules read as the pipeline: frames come from [`capture`], and are
//! analysed by the stages; [`present`] shows the result. [`pipeline`] is the
//! only module that knows about threads and channels; every stage is a plain
//! type with a `process`-style method.

pub mod app;
pub mod bench;
pub mod capture;
pub mod cli;
pub mod config;
pub mod error;
pub mod face;
pub mod frame;
pub mod geometry;
pub mod imageops;
pub mod models;
pub mod pipeline;
pub mod present;
pub mod scene;
pub mod update;

pub use error::{Error, Result};

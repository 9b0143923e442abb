//! Vigil: real-time face understanding on small ARM boards.
//!
//! Layers, each importing only the ones before it (a test in
//! `tests/it/layers.rs` keeps it so):
//!
//! | layer | modules | may use |
//! |---|---|---|
//! | 0 core | [`core`]: frames, geometry, face types, alignment, image ops, config checks | nothing of the crate |
//! | 1 models, sources | [`models`] (the one place that loads ONNX), [`capture`] (frame sources) | core |
//! | 2 pipeline | [`pipeline`]: threads, channels, statistics, generic over its message | core, capture |
//! | 3 stages | [`detect`], [`track`], [`verify`], [`emotion`], [`scene`], [`attention`] | core, models, pipeline; never each other |
//! | 4 app | [`app`]: config, commands, presenters and outlets, the `Update` message | everything |
//!
//! Every stage is a plain type with a `process`-style method; only
//! [`pipeline`] starts threads or makes channels.

// `missing_docs` is on for the whole crate (Cargo.toml [lints]).
pub mod app;
pub mod attention;
pub mod capture;
pub mod core;
pub mod detect;
pub mod emotion;
pub mod models;
pub mod pipeline;
pub mod scene;
pub mod track;
pub mod verify;

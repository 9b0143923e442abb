//! The integration tests, one binary: a module per area, each linking tract
//! once instead of once per file (CI builds this twice, x86 and aarch64).

mod support;

mod attention;
mod cli;
mod detect_bad_input;
mod detect_eval;
mod detect_faces;
mod detect_ops;
mod emotion_classifier;
mod emotion_eval;
mod emotion_overlay;
mod emotion_stage;
mod fuzz_corpora;
mod http;
mod layers;
mod mqtt;
mod pipeline;
mod scene_eval;
mod scene_head;
mod scene_int8;
mod sources;
mod streams;
mod unlock_eval;
mod verify_clips;
mod verify_eval;
mod verify_unlock;
mod window;

//! `vigil eval`: accuracy of each stage on a development set.

pub mod detect;
pub mod detect_metrics;

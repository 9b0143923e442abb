//! Offline evaluation commands (`vigil eval ...`).

pub mod emotion;

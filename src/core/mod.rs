//! Layer 0, core: frames, geometry, face types, alignment, image operations
//! and the configuration checks. Imports nothing else from the crate; every
//! other layer may use it.

pub mod align;
pub mod check;
pub mod face;
pub mod filewatch;
pub mod finder;
pub mod frame;
pub mod geometry;
pub mod imageops;
pub mod warp;

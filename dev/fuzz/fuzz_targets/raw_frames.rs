#![no_main]
//! Fuzz target `raw_frames`: see `vigil_fuzz::entries::raw_frames`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::raw_frames(data));

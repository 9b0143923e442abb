#![no_main]
//! Fuzz target `scene_files`: see `vigil_fuzz::entries::scene_files`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::scene_files(data));

#![no_main]
//! Fuzz target `dir_image`: see `vigil_fuzz::entries::dir_image`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::dir_image(data));

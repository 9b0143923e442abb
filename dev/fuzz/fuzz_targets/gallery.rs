#![no_main]
//! Fuzz target `gallery`: see `vigil_fuzz::entries::gallery`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::gallery(data));

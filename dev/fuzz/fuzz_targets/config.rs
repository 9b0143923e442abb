#![no_main]
//! Fuzz target `config`: see `vigil_fuzz::entries::config`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::config(data));

#![no_main]
//! Fuzz target `http_request`: see `vigil_fuzz::entries::http_request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::http_request(data));

#![no_main]
//! Fuzz target `mqtt_spool`: see `vigil_fuzz::entries::mqtt_spool`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| vigil_fuzz::entries::mqtt_spool(data));

//! libFuzzer target: a hostile process writing into a shared socket's
//! memory (see `mx_fuzz::hostile_peer`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mx_fuzz::hostile_peer(data));

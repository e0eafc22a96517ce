//! libFuzzer target: system-call sequences (see `mx_fuzz::syscalls`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mx_fuzz::syscalls(data));

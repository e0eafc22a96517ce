//! libFuzzer target: C entry points with NULL and invalid pointers, odd
//! sizes and junk options, in strict pointer mode (see `mx_fuzz::c_abi`).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        // Read once, at the first call into the library: set before any.
        std::env::set_var("MX_STRICT_POINTERS", "1");
    },
    |data: &[u8]| {
        mx_fuzz::c_abi(data, true);
    }
);

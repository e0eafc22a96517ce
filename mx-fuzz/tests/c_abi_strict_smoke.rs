//! Runs the C ABI harness in strict pointer mode, where it also passes
//! pointers to nothing: every call must refuse them with `INVALID_ARGS`
//! (or an earlier error) instead of crashing.

#[test]
fn c_abi_harness_in_strict_mode() {
    // Read once, at the first call into the library: set before any.
    std::env::set_var("MX_STRICT_POINTERS", "1");
    let mut succeeded = 0;
    for seed in 0..200 {
        succeeded += mx_fuzz::c_abi(
            &mx_fuzz::generated(seed, 64 + (seed as usize * 29) % 1000),
            true,
        );
    }
    assert!(
        succeeded >= 500,
        "generated inputs make real calls ({succeeded} succeeded)"
    );
}

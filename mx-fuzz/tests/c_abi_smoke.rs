//! Runs the C ABI harness over its seed corpus and generated inputs, with
//! plain pointers (no invalid ones). One test: it counts live objects.

#[test]
fn c_abi_harness_over_corpus_and_generated_inputs() {
    let (seeds, succeeded) = mx_fuzz::over_corpus("c_abi", |data| mx_fuzz::c_abi(data, false));
    assert!(seeds >= 5);
    assert!(
        succeeded >= 8,
        "the seeds make real calls ({succeeded} succeeded)"
    );
    let mut generated_ok = 0;
    for seed in 0..300 {
        generated_ok += mx_fuzz::c_abi(
            &mx_fuzz::generated(seed, 64 + (seed as usize * 53) % 1500),
            false,
        );
    }
    assert!(
        generated_ok >= 1000,
        "generated inputs make real calls ({generated_ok} succeeded)"
    );
}

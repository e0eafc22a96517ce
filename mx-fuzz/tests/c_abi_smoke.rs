//! Runs the C ABI harness over its seed corpus and generated inputs, with
//! plain pointers (no invalid ones). One test: it counts live objects.

use std::path::Path;

#[test]
fn c_abi_harness_over_corpus_and_generated_inputs() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/c_abi");
    let mut seeds = 0;
    let mut succeeded = 0;
    for entry in std::fs::read_dir(&corpus).expect("seed corpus") {
        succeeded += mx_fuzz::c_abi(&std::fs::read(entry.unwrap().path()).unwrap(), false);
        seeds += 1;
    }
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

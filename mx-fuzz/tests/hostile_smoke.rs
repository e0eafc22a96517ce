//! Runs the hostile-peer harness over its seed corpus and over generated
//! inputs, so that `cargo test` plays the hostile process too (the harness
//! panics if the victim crashes, overruns a deadline, or the private
//! socket's bytes change).

use std::path::Path;

#[test]
fn hostile_peer_harness_over_corpus_and_generated_inputs() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/hostile_peer");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&corpus).expect("seed corpus") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        mx_fuzz::hostile_peer(&data);
        seeds += 1;
    }
    assert!(seeds >= 5, "seed corpus at {}", corpus.display());
    for seed in 0..100 {
        mx_fuzz::hostile_peer(&mx_fuzz::generated(seed, 64 + (seed as usize * 53) % 1500));
    }
}

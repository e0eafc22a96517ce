//! Runs the hostile-peer harness over its seed corpus and over generated
//! inputs, so that `cargo test` plays the hostile process too (the harness
//! panics if the victim crashes, overruns a deadline, or the private
//! socket's bytes change).

#[test]
fn hostile_peer_harness_over_corpus_and_generated_inputs() {
    let (seeds, _) = mx_fuzz::over_corpus("hostile_peer", |data| {
        mx_fuzz::hostile_peer(data);
        0
    });
    assert!(seeds >= 5, "seed corpus of at least 5 inputs");
    for seed in 0..100 {
        mx_fuzz::hostile_peer(&mx_fuzz::generated(seed, 64 + (seed as usize * 53) % 1500));
    }
}

//! Runs the fuzzing harnesses over the seed corpus and over generated
//! inputs: the fuzz smoke test of the project's test command. (One test:
//! the harness counts the process's live objects.)

use std::path::Path;

#[test]
fn syscalls_harness_over_corpus_and_generated_inputs() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/syscalls");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&corpus).expect("seed corpus") {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        mx_fuzz::syscalls(&data);
        seeds += 1;
    }
    assert!(seeds >= 5, "seed corpus at {}", corpus.display());
    for seed in 0..300 {
        mx_fuzz::syscalls(&mx_fuzz::generated(seed, 64 + (seed as usize * 37) % 2000));
    }
}

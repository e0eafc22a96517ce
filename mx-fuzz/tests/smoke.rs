//! Runs the fuzzing harnesses over the seed corpus and over generated
//! inputs: the fuzz smoke test of the project's test command. (One test:
//! the harness counts the process's live objects.)

#[test]
fn syscalls_harness_over_corpus_and_generated_inputs() {
    let (seeds, _) = mx_fuzz::over_corpus("syscalls", |data| {
        mx_fuzz::syscalls(data);
        0
    });
    assert!(seeds >= 5, "seed corpus of at least 5 inputs");
    for seed in 0..300 {
        mx_fuzz::syscalls(&mx_fuzz::generated(seed, 64 + (seed as usize * 37) % 2000));
    }
}

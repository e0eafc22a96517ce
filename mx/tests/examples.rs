//! The Rust examples of `mx/examples/`, run as a user runs them (with small
//! sizes).
//!
//! `cargo test -p mx` builds the examples next to the test binaries
//! (`target/<profile>/examples/`); a test run that did not build them
//! (`cargo test --test examples`) builds them itself, in a target
//! directory of its own.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The example `name`, built in the profile of this test.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/examples-<hash> -> target/<profile>/examples/
    let beside = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    if beside.exists() {
        return beside;
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = manifest.join("../target/examples-test");
    let status = Command::new(env!("CARGO"))
        .args(["build", "-p", "mx", "--example", name])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(&manifest)
        .status()
        .unwrap();
    assert!(status.success(), "cargo build --example {name}");
    target.join("debug/examples").join(name)
}

/// Runs `command`, killing it if it takes longer than `limit`.
fn run_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("{command:?} took over {limit:?}: {output:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn spawn_stream_checks_every_byte_in_a_child() {
    let output = run_within(
        Command::new(example("spawn_stream")).args(["--mib", "8"]),
        Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout.starts_with("8 MiB to a child process in ")
            && stdout.ends_with("MiB/s; the child checked every byte\n"),
        "{stdout}"
    );
}

#[test]
fn spawn_stream_rejects_bad_arguments() {
    let output = run_within(
        Command::new(example("spawn_stream")).arg("--bogus"),
        Duration::from_secs(60),
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage"));
}

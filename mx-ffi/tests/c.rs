//! The C and C++ test programs of `tests/c/`, compiled with the system
//! compilers against `include/` and the static `libmagenta.a` of the current
//! build, and run.
//!
//! - `suite.c`: every call and scenario, in the default mode and again in
//!   strict pointer mode (same results).
//! - `channel.c`: channels (SPEC 10) from C: NULL pointers at their step,
//!   the out-parameters written or untouched, `mx_channel_call_args_t`; in
//!   the default mode and in strict pointer mode (which adds the tests of
//!   invalid non-NULL pointers).
//! - `linux.c`: `<magenta/linux.h>` (SPEC 11): channels from
//!   `SOCK_SEQPACKET` descriptors, and `mx_linux_spawn` of the program
//!   itself with handles it takes with `mx_get_startup_handle`; every error
//!   leaves the handles and descriptors with the caller. In the default
//!   mode and in strict pointer mode (which adds invalid non-NULL
//!   pointers).
//! - `suite.cc`: the same headers and calls from C++17.
//! - `strict.c`: invalid pointers in strict mode give `INVALID_ARGS` and
//!   have no effect; without strict mode the same program dies of `SIGSEGV`.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Command;

use common::*;

fn binary(name: &str, source: &str) -> PathBuf {
    let dir = scratch(name);
    build(&[c_sources().join(source)], &dir.join(name), &[])
}

/// Runs a test program; checks that all its tests passed and how many.
fn run_suite(command: &mut Command, at_least: usize) {
    let output = run_ok(command);
    let (passed, failed) = summary(&output);
    print!("{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(failed, 0);
    assert!(passed >= at_least, "only {passed} tests ran");
}

#[test]
fn c_suite() {
    let suite = binary("suite", "suite.c");
    run_suite(Command::new(&suite).env_remove("MX_STRICT_POINTERS"), 45);
}

#[test]
fn c_suite_in_strict_pointer_mode() {
    let suite = binary("suite-strict", "suite.c");
    run_suite(Command::new(&suite).env("MX_STRICT_POINTERS", "1"), 45);
}

#[test]
fn c_channel_suite() {
    let channel = binary("channel", "channel.c");
    run_suite(Command::new(&channel).env_remove("MX_STRICT_POINTERS"), 31);
}

#[test]
fn c_channel_suite_in_strict_pointer_mode() {
    let channel = binary("channel-strict", "channel.c");
    run_suite(Command::new(&channel).env("MX_STRICT_POINTERS", "1"), 34);
}

#[test]
fn c_linux_suite() {
    let linux = binary("linux", "linux.c");
    run_suite(Command::new(&linux).env_remove("MX_STRICT_POINTERS"), 13);
}

#[test]
fn c_linux_suite_in_strict_pointer_mode() {
    let linux = binary("linux-strict", "linux.c");
    run_suite(Command::new(&linux).env("MX_STRICT_POINTERS", "1"), 13);
}

#[test]
fn cxx_suite() {
    let suite = binary("suite-cxx", "suite.cc");
    run_suite(&mut Command::new(&suite), 4);
}

#[test]
fn strict_mode_turns_bad_pointers_into_invalid_args() {
    let strict = binary("strict", "strict.c");
    run_suite(Command::new(&strict).env("MX_STRICT_POINTERS", "1"), 9);
}

#[test]
fn without_strict_mode_bad_pointers_crash() {
    let strict = binary("strict-off", "strict.c");
    // Only the first test: it passes a wild pointer at once. (No core
    // file: `ulimit -c 0`.)
    let output = Command::new("sh")
        .args(["-c", "ulimit -c 0; exec \"$0\" \"$@\""])
        .arg(&strict)
        .arg("socket_write_from_a_wild_pointer")
        .env_remove("MX_STRICT_POINTERS")
        .output()
        .unwrap();
    assert_eq!(output.status.signal(), Some(libc::SIGSEGV), "{output:?}");
}

#[test]
fn c_suite_linked_with_the_shared_library() {
    let dir = scratch("suite-shared");
    let out = dir.join("suite");
    let mut command = Command::new("cc");
    command
        .args(C_FLAGS)
        .arg("-I")
        .arg(include_dir())
        .arg(c_sources().join("suite.c"))
        .arg("-L")
        .arg(library_dir())
        .arg("-lmagenta")
        .arg(format!("-Wl,-rpath,{}", library_dir().display()))
        .arg("-lpthread")
        .arg("-o")
        .arg(&out);
    run_ok(&mut command);
    run_suite(&mut Command::new(&out), 45);
}

#[test]
fn c_system_calls() {
    let system = binary("system", "system.c");
    run_suite(&mut Command::new(&system), 9);
    run_suite(Command::new(&system).env("MX_STRICT_POINTERS", "1"), 9);
}

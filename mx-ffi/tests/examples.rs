//! The C examples of `examples/c/`, and the way a C programmer gets them
//! built: `mx-ffi/install.sh`, `magenta.pc` and the examples' Makefile.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn examples() -> std::path::PathBuf {
    workspace().join("examples/c")
}

/// Runs `program` with `input` on its standard input; returns its output.
fn pipe_through(program: &Path, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(output.status.success(), "{program:?}: {output:?}");
    output.stdout
}

/// Bytes that are not all alike (xorshift).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn datagram_pipeline_delivers_every_record_in_order() {
    let dir = scratch("example-pipeline");
    let program = build(
        &[examples().join("datagram_pipeline.c")],
        &dir.join("datagram_pipeline"),
        &[],
    );
    let output = run_ok(Command::new(&program).arg("50000"));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "received 50000 of 50000 records, in order\nlast: record 49999\n"
    );
}

#[test]
fn stream_copy_copies_stdin_to_stdout() {
    let dir = scratch("example-copy");
    let program = build(
        &[examples().join("stream_copy.c")],
        &dir.join("stream_copy"),
        &[],
    );
    for len in [0, 1, 257_024, 3_000_001] {
        let input = noise(len);
        let output = pipe_through(&program, &input);
        assert_eq!(output.len(), input.len());
        assert!(output == input, "{len} bytes came out different");
    }
}

/// `command` exists on this machine.
fn have(command: &str) -> bool {
    Command::new(command).arg("--version").output().is_ok()
}

#[test]
fn install_then_build_the_examples_with_pkg_config_and_make() {
    for tool in ["make", "pkg-config"] {
        assert!(have(tool), "{tool} is needed to test the installed library");
    }
    let dir = scratch("install");
    let prefix = dir.join("prefix");
    run_ok(
        Command::new(workspace().join("mx-ffi/install.sh"))
            .env("PREFIX", &prefix)
            .env("NO_BUILD", "1")
            .env("BUILD_DIR", library_dir()),
    );
    for file in [
        "lib/libmagenta.so",
        "lib/libmagenta.a",
        "lib/pkgconfig/magenta.pc",
        "include/magenta/syscalls.h",
        "include/magenta/types.h",
        "include/magenta/errors.h",
        "include/magenta/rights.h",
        "include/magenta/syscalls/object.h",
        "include/magenta/syscalls/port.h",
    ] {
        assert!(prefix.join(file).is_file(), "{file} not installed");
    }
    let pkg_config_path = prefix.join("lib/pkgconfig");
    let flags = run_ok(
        Command::new("pkg-config")
            .args(["--cflags", "--libs", "magenta"])
            .env("PKG_CONFIG_PATH", &pkg_config_path),
    );
    let flags = String::from_utf8_lossy(&flags.stdout);
    assert!(
        flags.contains(&format!("-I{}", prefix.join("include").display())),
        "{flags}"
    );
    assert!(flags.contains("-lmagenta"), "{flags}");
    let static_flags = run_ok(
        Command::new("pkg-config")
            .args(["--static", "--libs", "magenta"])
            .env("PKG_CONFIG_PATH", &pkg_config_path),
    );
    assert!(String::from_utf8_lossy(&static_flags.stdout).contains("-lpthread"));

    // The Makefile builds both examples shared and static, and runs them.
    // (Without cargo's LD_LIBRARY_PATH, which names the build tree and would
    // take precedence over the installed library.)
    let build_dir = dir.join("build");
    std::fs::create_dir_all(&build_dir).unwrap();
    let output = run_ok(
        Command::new("make")
            .arg("-C")
            .arg(examples())
            .arg(format!("O={}", build_dir.display()))
            .arg("check")
            .env("PKG_CONFIG_PATH", &pkg_config_path)
            .env_remove("LD_LIBRARY_PATH"),
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("examples: ok"));
    // The shared build uses the installed shared library.
    let ldd = run_ok(
        Command::new("ldd")
            .arg(build_dir.join("stream_copy"))
            .env_remove("LD_LIBRARY_PATH"),
    );
    let ldd = String::from_utf8_lossy(&ldd.stdout);
    assert!(
        ldd.contains(&prefix.join("lib/libmagenta.so").display().to_string()),
        "{ldd}"
    );
}

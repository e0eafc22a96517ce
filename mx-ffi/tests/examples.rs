//! The C examples of `examples/c/`, and the ways a C programmer gets them
//! built: the examples' Makefile against the repository itself (a fresh
//! clone, nothing installed), and `mx-ffi/install.sh` with `magenta.pc`.

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

#[test]
fn spawn_stream_hands_a_socket_to_a_child_that_verifies_every_byte() {
    let dir = scratch("example-spawn");
    let program = build(
        &[examples().join("spawn_stream.c")],
        &dir.join("spawn_stream"),
        &[],
    );
    for (mib, bytes) in [("0", 0u64), ("1", 1 << 20), ("64", 64 << 20)] {
        let output = run_ok(Command::new(&program).arg(mib));
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            format!("child verified {bytes} of {bytes} bytes\n")
        );
    }
    // The child's role alone, not started by `mx_linux_spawn`: no handle.
    let output = Command::new(&program)
        .arg("--child")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no startup handle"));
}

/// The cargo profile of the current build, as the Makefile's `PROFILE`
/// (the name of its directory under the target directory).
fn profile() -> String {
    library_dir()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

/// The dynamic loader's view of `program`, without cargo's
/// `LD_LIBRARY_PATH` (which names the build tree).
fn ldd(program: &Path) -> String {
    let output = run_ok(
        Command::new("ldd")
            .arg(program)
            .env_remove("LD_LIBRARY_PATH"),
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn make_check_builds_against_the_repository_with_nothing_installed() {
    assert!(
        have("make"),
        "make is needed to test the examples' Makefile"
    );
    // As from a fresh clone: no PKG_CONFIG_PATH, no LD_LIBRARY_PATH, and no
    // pkg-config at all (PKG_CONFIG=false fails if the Makefile asks it).
    // The Makefile runs cargo itself, for the current build's profile and
    // target directory (up to date already, so a no-op here; from a fresh
    // clone it builds target/release).
    let dir = scratch("fresh-clone");
    let output = run_ok(
        Command::new("make")
            .arg("-C")
            .arg(examples())
            .arg(format!("O={}", dir.display()))
            .arg(format!("PROFILE={}", profile()))
            .arg("check")
            .env("CARGO_TARGET_DIR", library_dir().parent().unwrap())
            .env("PKG_CONFIG", "false")
            .env_remove("PKG_CONFIG_PATH")
            .env_remove("MAGENTA")
            .env_remove("LD_LIBRARY_PATH"),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("examples: ok"), "{stdout}");
    assert!(
        stdout.contains("cargo build"),
        "make did not build the library: {stdout}"
    );
    // The shared programs find the tree's libmagenta.so through their rpath.
    let ldd = ldd(&dir.join("stream_copy"));
    let expected = library_dir().join("libmagenta.so");
    assert!(ldd.contains(&expected.display().to_string()), "{ldd}");
    assert!(dir.join("datagram_pipeline-static").is_file());
    assert!(dir.join("spawn_stream-static").is_file());
}

#[test]
fn make_with_pkg_config_and_no_magenta_pc_says_what_to_set() {
    assert!(have("make") && have("pkg-config"));
    let dir = scratch("no-pc");
    let empty = dir.join("pkgconfig");
    std::fs::create_dir_all(&empty).unwrap();
    let output = Command::new("make")
        .arg("-C")
        .arg(examples())
        .arg(format!("O={}", dir.display()))
        .arg("MAGENTA=pkg-config")
        .env("PKG_CONFIG_PATH", &empty)
        .env("PKG_CONFIG_LIBDIR", &empty)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig"),
        "{stderr}"
    );
    assert!(!dir.join("stream_copy").exists());
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
        "include/magenta/linux.h",
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

    // The Makefile builds the examples shared and static, and runs them.
    // (Without cargo's LD_LIBRARY_PATH, which names the build tree and would
    // take precedence over the installed library.)
    let build_dir = dir.join("build");
    std::fs::create_dir_all(&build_dir).unwrap();
    let output = run_ok(
        Command::new("make")
            .arg("-C")
            .arg(examples())
            .arg(format!("O={}", build_dir.display()))
            .arg("MAGENTA=pkg-config")
            .arg("check")
            .env("PKG_CONFIG_PATH", &pkg_config_path)
            .env_remove("LD_LIBRARY_PATH"),
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("examples: ok"));
    // The shared build uses the installed shared library.
    let installed = prefix.join("lib/libmagenta.so").display().to_string();
    let found = ldd(&build_dir.join("stream_copy"));
    assert!(found.contains(&installed), "{found}");

    // The README's command, with nothing but pkg-config's flags: magenta.pc
    // carries the rpath, so the program starts without LD_LIBRARY_PATH.
    assert!(flags.contains("-Wl,-rpath,"), "{flags}");
    let program = dir.join("stream_copy_pc");
    let mut cc = Command::new("cc");
    cc.arg(examples().join("stream_copy.c"))
        .arg("-o")
        .arg(&program)
        .args(flags.split_whitespace())
        .arg("-lpthread");
    run_ok(&mut cc);
    let found = ldd(&program);
    assert!(found.contains(&installed), "{found}");
    let mut child = Command::new(&program)
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"through the rpath")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(output.stdout, b"through the rpath");
}

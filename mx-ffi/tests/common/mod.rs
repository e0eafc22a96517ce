//! What the C-facing integration tests share: building `libmagenta`,
//! compiling C and C++ against it with the system compilers, running the
//! results.
//!
//! The library is the one of the current build: the test binary sits in
//! `<target>/<profile>/deps/`, so `<target>/<profile>/` is where
//! `cargo build -p mx-ffi` (run here, with the same profile, and a no-op
//! when nothing changed) leaves `libmagenta.a` and `libmagenta.so`.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// Libraries the static library needs besides libc (what rustc prints with
/// `--print native-static-libs`, minus what the C driver adds itself).
pub const NATIVE_LIBS: &[&str] = &["-lpthread", "-ldl", "-lm", "-lrt", "-lutil"];

/// Flags every C file is compiled with.
pub const C_FLAGS: &[&str] = &[
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-pedantic",
    "-Werror",
    "-g",
    "-O1",
];

/// Flags every C++ file is compiled with.
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-Wall",
    "-Wextra",
    "-pedantic",
    "-Werror",
    "-g",
    "-O1",
];

/// The repository root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `include/`, holding `magenta/*.h`.
pub fn include_dir() -> PathBuf {
    workspace().join("include")
}

/// `mx-ffi/tests/c/`, the C sources of the tests.
pub fn c_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("mx-ffi")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The directory holding the current build's `libmagenta.a` and
/// `libmagenta.so`, built if needed.
pub fn library_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().unwrap();
        // <target>/<profile>/deps/<test binary>
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
        let profile = profile_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "mx-ffi", "--lib"])
            .current_dir(workspace());
        if profile != "debug" {
            build.args(["--profile", &profile]);
        }
        let status = build.status().expect("running cargo build -p mx-ffi");
        assert!(status.success(), "cargo build -p mx-ffi failed");
        for lib in ["libmagenta.a", "libmagenta.so"] {
            assert!(
                profile_dir.join(lib).exists(),
                "{lib} not in {}",
                profile_dir.display()
            );
        }
        profile_dir
    })
}

/// The static library of the current build.
pub fn static_lib() -> PathBuf {
    library_dir().join("libmagenta.a")
}

/// Runs a command to completion, panicking with its output if it fails.
pub fn run_ok(command: &mut Command) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {command:?}: {e}"));
    if !output.status.success() {
        panic!(
            "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// Compiles and links C (`cc`) or C++ (`c++`, chosen by a `.cc` source)
/// sources against the headers and the static library into `out`.
pub fn build(sources: &[PathBuf], out: &Path, extra: &[&str]) -> PathBuf {
    let cxx = sources
        .iter()
        .any(|s| s.extension().is_some_and(|e| e == "cc"));
    let mut command = Command::new(if cxx { "c++" } else { "cc" });
    command
        .args(if cxx { CXX_FLAGS } else { C_FLAGS })
        .arg("-I")
        .arg(include_dir())
        .args(extra)
        .args(sources)
        .arg(static_lib())
        .args(NATIVE_LIBS)
        .arg("-o")
        .arg(out);
    run_ok(&mut command);
    out.to_path_buf()
}

/// Compiles one source to an object file (no linking), for header checks.
pub fn compile_only(source: &Path, out: &Path, extra: &[&str]) {
    let cxx = source.extension().is_some_and(|e| e == "cc");
    let mut command = Command::new(if cxx { "c++" } else { "cc" });
    command
        .args(if cxx { CXX_FLAGS } else { C_FLAGS })
        .arg("-I")
        .arg(include_dir())
        .args(extra)
        .arg("-c")
        .arg(source)
        .arg("-o")
        .arg(out);
    run_ok(&mut command);
}

/// The summary line a C test program prints last: `N passed, M failed`.
pub fn summary(output: &Output) -> (usize, usize) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.contains(" passed, "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

/// One entry of `mx-ffi/abi/calls.txt`.
#[derive(Clone, Debug)]
pub struct Call {
    /// `syscalls.h` or `process.h`.
    pub header: String,
    /// `mx_socket_write`.
    pub name: String,
    /// The C return type.
    pub ret: String,
    /// The C parameters, `void` for none.
    pub params: String,
    /// `implemented`, `NOT_SUPPORTED` or `noreturn`.
    pub behaviour: String,
}

impl Call {
    /// The parameters as (C type, name) pairs.
    pub fn args(&self) -> Vec<(String, String)> {
        if self.params == "void" {
            return Vec::new();
        }
        self.params
            .split(',')
            .map(|p| {
                let p = p.trim();
                let at = p
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap()
                    + 1;
                (p[..at].trim().to_owned(), p[at..].to_owned())
            })
            .collect()
    }
}

/// The lines of a list in `mx-ffi/abi/` split at `|`, without comments.
pub fn list(name: &str) -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("abi").join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('|').map(|f| f.trim().to_owned()).collect())
        .collect()
}

/// Every call of `mx-ffi/abi/calls.txt`.
pub fn calls() -> Vec<Call> {
    list("calls.txt")
        .into_iter()
        .map(|f| {
            assert_eq!(f.len(), 5, "calls.txt: {f:?}");
            let behaviour = f[4].clone();
            assert!(
                ["implemented", "NOT_SUPPORTED", "noreturn"].contains(&behaviour.as_str()),
                "calls.txt: {f:?}"
            );
            Call {
                header: f[0].clone(),
                name: f[1].clone(),
                ret: f[2].clone(),
                params: f[3].clone(),
                behaviour,
            }
        })
        .collect()
}

/// The `mx_*` functions a library exports, by `nm` (`-D` for a shared one).
pub fn exported(lib: &Path) -> Vec<String> {
    let shared = lib.extension().is_some_and(|e| e == "so");
    let mut nm = Command::new("nm");
    if shared {
        nm.arg("-D");
    }
    let output = run_ok(nm.arg("--defined-only").arg(lib));
    let mut symbols: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (kind, name) = (f.nth(1)?, f.next()?);
            (kind == "T" && name.starts_with("mx_")).then(|| name.to_owned())
        })
        .collect();
    symbols.sort_unstable();
    symbols.dedup();
    symbols
}

//! No panic crosses into C: a panic inside an entry point (provoked with the
//! test-only `magenta::testing::panic_in_next_call`, since no input makes
//! one) returns `MX_ERR_INTERNAL`, writes no out-parameter, leaves the
//! library usable, and is reported on standard error once per process.

use std::process::Command;

use magenta::ctypes::mx_handle_t;
use magenta::testing::{caught_panics, panic_in_next_call};
use mx_core::Status;

const INTERNAL: i32 = Status::INTERNAL.into_raw();

/// Set in the environment of the child process of `reported_once`.
const CHILD: &str = "MX_FFI_BOUNDARY_CHILD";

/// Provokes three panics in entry points and checks what the caller sees.
fn panic_three_times() {
    let before = caught_panics();

    let mut out: mx_handle_t = 77;
    panic_in_next_call();
    // SAFETY: `out` is a valid `mx_handle_t`.
    assert_eq!(unsafe { magenta::mx_event_create(0, &mut out) }, INTERNAL);
    assert_eq!(out, 77, "no out-parameter written");

    panic_in_next_call();
    assert_eq!(magenta::mx_time_get(0), 0, "mx_time_get's fallback value");

    let (mut a, mut b): (mx_handle_t, mx_handle_t) = (0, 0);
    // SAFETY: valid out-parameters.
    assert_eq!(unsafe { magenta::mx_socket_create(0, &mut a, &mut b) }, 0);
    let mut actual = 5usize;
    panic_in_next_call();
    // SAFETY: a valid 2-byte buffer and out-parameter.
    let status = unsafe { magenta::mx_socket_write(a, 0, b"hi".as_ptr().cast(), 2, &mut actual) };
    assert_eq!(status, INTERNAL);
    assert_eq!(actual, 5);

    // The library still works, and the panicking write had no effect.
    let mut buf = [0u8; 4];
    // SAFETY: a valid buffer and out-parameter.
    let status = unsafe { magenta::mx_socket_read(b, 0, buf.as_mut_ptr().cast(), 4, &mut actual) };
    assert_eq!(status, Status::SHOULD_WAIT.into_raw());
    assert!(magenta::mx_time_get(0) > 0);
    assert_eq!(magenta::mx_handle_close(a), 0);
    assert_eq!(magenta::mx_handle_close(b), 0);

    assert_eq!(caught_panics(), before + 3);
}

#[test]
fn a_panic_in_an_entry_point_returns_internal() {
    panic_three_times();
}

#[test]
fn panics_are_reported_once_on_stderr() {
    if std::env::var_os(CHILD).is_some() {
        panic_three_times();
        return;
    }
    // Run this test alone in a child process, to see its standard error.
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "panics_are_reported_once_on_stderr",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {output:?}");
    assert_eq!(
        stderr.matches("libmagenta: internal error in").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("internal error in mx_event_create"),
        "{stderr}"
    );
    assert!(
        stderr.contains("panic requested by magenta::testing"),
        "{stderr}"
    );
    assert!(
        stderr.contains("further internal errors will not be reported"),
        "{stderr}"
    );
    // The default hook's message was replaced, not added to.
    assert!(!stderr.contains("thread '"), "{stderr}");
}

//! The edge of every entry point: results become `mx_status_t` here, and
//! panics stop here.
//!
//! Every `extern "C"` function is one call to `status` (or `value`, for
//! the time calls that return a value instead of a status) around a body that
//! returns `Result<(), Status>`. This module:
//!
//! - maps the body's result to the C status once (`Ok` is `MX_OK`);
//! - catches any panic (a bug of ours, never a caller's mistake: those are
//!   statuses), so that no unwinding crosses into C, and returns
//!   `MX_ERR_INTERNAL` (or the documented fallback value);
//! - reports the first such panic of the process on standard error, naming
//!   the entry point, and keeps quiet about later ones: a program that
//!   handles `MX_ERR_INTERNAL` does not flood its log.
//!
//! To report panics itself (instead of the default hook's message per panic),
//! the module installs a panic hook the first time an entry point runs. The
//! hook handles panics raised inside an entry point and passes every other
//! panic to the hook that was installed before it. A program that later
//! replaces the hook gets its own hook's messages instead; the calls still
//! return `MX_ERR_INTERNAL`.
//!
//! `testing` can make an entry point panic, so that tests
//! exercise this path through the real functions.

use core::cell::Cell;
use core::panic::AssertUnwindSafe;
use std::io::Write as _;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Once;

use mx_core::Status;

use crate::ctypes::mx_status_t;

thread_local! {
    /// The entry point this thread is running (`None` outside them).
    static CURRENT: Cell<Option<&'static str>> = const { Cell::new(None) };
    /// Whether the next entry point on this thread should panic (tests).
    static PANIC_NEXT: Cell<bool> = const { Cell::new(false) };
}

/// Whether a panic was already reported on standard error.
static REPORTED: AtomicBool = AtomicBool::new(false);
/// Panics caught at the boundary since the process started.
static CAUGHT: AtomicUsize = AtomicUsize::new(0);

/// Runs the body of the entry point `name` and returns its C status.
pub(crate) fn status(name: &'static str, body: impl FnOnce() -> Result<(), Status>) -> mx_status_t {
    run(name, body)
        .map_or(Status::INTERNAL, Status::from_result)
        .into_raw()
}

/// Runs the body of the entry point `name`, which returns a value; after a
/// panic, returns `on_panic`.
pub(crate) fn value<T>(name: &'static str, on_panic: T, body: impl FnOnce() -> T) -> T {
    run(name, body).unwrap_or(on_panic)
}

/// Runs `body` with panics caught; `None` if it panicked.
fn run<T>(name: &'static str, body: impl FnOnce() -> T) -> Option<T> {
    install_hook();
    let outer = CURRENT.replace(Some(name));
    // `AssertUnwindSafe`: after a panic nothing of `body`'s is used again,
    // and the objects it reached keep their invariants under their own
    // locks (`mx` uses `parking_lot`, which does not poison).
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if PANIC_NEXT.replace(false) {
            panic!("{name}: panic requested by magenta::testing::panic_in_next_call");
        }
        body()
    }));
    CURRENT.set(outer);
    match result {
        Ok(value) => Some(value),
        Err(payload) => {
            CAUGHT.fetch_add(1, Ordering::Relaxed);
            // Dropping a payload runs arbitrary code that could panic
            // again, outside any `catch_unwind`; a leak per bug is cheaper.
            core::mem::forget(payload);
            None
        }
    }
}

/// Installs the panic hook (once per process).
#[inline]
fn install_hook() {
    // One relaxed load per call; `Once` below orders the installation.
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if !INSTALLED.load(Ordering::Relaxed) {
        install_hook_slow();
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

/// The first call's path: installs the hook under a `Once`, so that
/// concurrent first calls install it once. (`Once::call_once` on every call
/// cost more than the rest of an `mx_object_wait_one`.)
#[cold]
fn install_hook_slow() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            match CURRENT.try_with(Cell::get).ok().flatten() {
                Some(name) => report(name, info),
                None => previous(info),
            }
        }));
    });
}

/// Reports a panic inside the entry point `name`, if none was reported yet.
fn report(name: &str, info: &PanicHookInfo<'_>) {
    if REPORTED.swap(true, Ordering::Relaxed) {
        return;
    }
    // Not `eprintln!`: it panics if standard error is closed, and a panic
    // inside a panic hook aborts the process.
    let _ = writeln!(
        std::io::stderr(),
        "libmagenta: internal error in {name}, which returned MX_ERR_INTERNAL: {info}\n\
         libmagenta: further internal errors will not be reported"
    );
}

/// Makes the next entry point called on this thread panic (see
/// [`crate::testing`]).
pub(crate) fn panic_next() {
    PANIC_NEXT.set(true);
}

/// Panics caught so far (see [`crate::testing`]).
pub(crate) fn caught() -> usize {
    CAUGHT.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_map_to_statuses() {
        assert_eq!(status("t", || Ok(())), 0);
        assert_eq!(status("t", || Err(Status::SHOULD_WAIT)), -22);
        assert_eq!(value("t", 0u64, || 7), 7);
    }

    #[test]
    fn panics_become_internal_and_are_counted() {
        let before = caught();
        assert_eq!(status("t", || panic!("boom")), Status::INTERNAL.into_raw());
        panic_next();
        assert_eq!(value("t", 99u64, || 7), 99);
        // The request is used up.
        assert_eq!(value("t", 99u64, || 7), 7);
        assert!(caught() >= before + 2);
        assert_eq!(CURRENT.with(Cell::get), None);
    }
}

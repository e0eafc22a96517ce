//! Events: `mx_event_create`, `mx_eventpair_create`.

use mx_core::Status;

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_status_t};
use crate::handle::{create_pair, deliver};
use crate::ptr::{probe_all, UserOut};

/// `mx_event_create`—Creates an event (see [`mx::sys::event_create`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out` (checked first), then as
/// [`mx::sys::event_create`].
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_event_create(options: u32, out: *mut mx_handle_t) -> mx_status_t {
    boundary::status("mx_event_create", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let handle = mx::sys::event_create(options)?;
        deliver(&[(&out, handle)])
    })
}

/// `mx_eventpair_create`—Creates a pair of peered events (see
/// [`mx::sys::eventpair_create`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out0` or `out1` (checked first, so this
/// precedes the `NOT_SUPPORTED` of bad options), then as
/// [`mx::sys::eventpair_create`]. On error the outputs are untouched.
///
/// # Safety
///
/// 1. `out0` and `out1` are each NULL or valid for writing an
///    `mx_handle_t`, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_eventpair_create(
    options: u32,
    out0: *mut mx_handle_t,
    out1: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_eventpair_create", || {
        // SAFETY: promise 1.
        let (out0, out1) = unsafe {
            (
                UserOut::assume_writable(out0),
                UserOut::assume_writable(out1),
            )
        };
        create_pair(out0, out1, || mx::sys::eventpair_create(options))
    })
}

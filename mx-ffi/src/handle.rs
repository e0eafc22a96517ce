//! Handles: `mx_handle_close`, `mx_handle_duplicate`, `mx_handle_replace`,
//! and how new handles reach the caller.

use mx_core::{RawHandle, Rights, Status};

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_rights_t, mx_status_t};
use crate::ptr::{probe_all, UserOut};

/// Writes new handles to their out-parameters.
///
/// The out-parameters were probed before the handles were made, so this
/// fails only if the caller's memory changed in between (strict mode). Then,
/// as Magenta does when its copy-out faults, the new handles are closed and
/// the call fails with `INVALID_ARGS`; values already written name nothing.
///
/// # Errors
/// The first write's fault.
pub(crate) fn deliver(outs: &[(&UserOut<mx_handle_t>, RawHandle)]) -> Result<(), Status> {
    for (out, handle) in outs {
        if let Err(status) = out.write(*handle) {
            for (_, handle) in outs {
                let _ = mx::sys::handle_close(*handle);
            }
            return Err(status);
        }
    }
    Ok(())
}

/// The body of a call that creates a pair of handles: NULL or unwritable
/// outputs fail with `INVALID_ARGS` before `create` runs, so on any error
/// the outputs are untouched and nothing was created.
///
/// # Errors
/// `INVALID_ARGS` (an output), or `create`'s error.
pub(crate) fn create_pair(
    out0: Option<UserOut<mx_handle_t>>,
    out1: Option<UserOut<mx_handle_t>>,
    create: impl FnOnce() -> Result<(RawHandle, RawHandle), Status>,
) -> Result<(), Status> {
    probe_all(&[&out0, &out1])?;
    let (Some(out0), Some(out1)) = (out0, out1) else {
        return Err(Status::INVALID_ARGS);
    };
    let (h0, h1) = create()?;
    deliver(&[(&out0, h0), (&out1, h1)])
}

/// `mx_handle_close`—Closes a handle (see [`mx::sys::handle_close`]).
///
/// `MX_HANDLE_INVALID` is `MX_OK`; waits through the handle end with
/// `MX_ERR_CANCELED`.
#[unsafe(no_mangle)]
pub extern "C" fn mx_handle_close(handle: mx_handle_t) -> mx_status_t {
    boundary::status("mx_handle_close", || mx::sys::handle_close(handle))
}

/// `mx_handle_duplicate`—Makes another handle to the same object, with the
/// same or fewer rights (see [`mx::sys::handle_duplicate`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out` (checked first), then as
/// [`mx::sys::handle_duplicate`].
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_handle_duplicate(
    handle: mx_handle_t,
    rights: mx_rights_t,
    out: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_handle_duplicate", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let new = mx::sys::handle_duplicate(handle, Rights::from_bits_retain(rights))?;
        deliver(&[(&out, new)])
    })
}

/// `mx_handle_replace`—Replaces a handle by a new one with the same or
/// fewer rights (see [`mx::sys::handle_replace`]). On success `handle` is
/// closed; on any error it stays valid.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out` (checked first, so `handle` stays valid),
/// then as [`mx::sys::handle_replace`].
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_handle_replace(
    handle: mx_handle_t,
    rights: mx_rights_t,
    out: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_handle_replace", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let new = mx::sys::handle_replace(handle, Rights::from_bits_retain(rights))?;
        deliver(&[(&out, new)])
    })
}

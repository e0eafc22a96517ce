//! Sockets: `mx_socket_create`, `mx_socket_write`, `mx_socket_read`.

use core::ffi::c_void;

use mx_core::Status;

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_status_t};
use crate::handle::create_pair;
use crate::ptr::{probe_all, write_optional, UserBytes, UserBytesMut, UserOut};

/// `mx_socket_create`—Creates a socket: a connected pair of endpoints (see
/// [`mx::sys::socket_create`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out0` or `out1` (checked first), then as
/// [`mx::sys::socket_create`]. On error the outputs are untouched.
///
/// # Safety
///
/// 1. `out0` and `out1` are each NULL or valid for writing an
///    `mx_handle_t`, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_socket_create(
    options: u32,
    out0: *mut mx_handle_t,
    out1: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_socket_create", || {
        // SAFETY: promise 1.
        let (out0, out1) = unsafe {
            (
                UserOut::assume_writable(out0),
                UserOut::assume_writable(out1),
            )
        };
        create_pair(out0, out1, || mx::sys::socket_create(options))
    })
}

/// `mx_socket_write`—Writes bytes into a socket, or half-closes it (see
/// [`mx::sys::socket_write`]).
///
/// A NULL `actual` is ignored; `*actual` is written only on success.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `buffer` with a non-zero `size`, before the
/// handle is looked up; then as [`mx::sys::socket_write`] (which rejects a
/// `size` beyond 32 bits without reading `buffer`).
///
/// # Safety
///
/// 1. `buffer` is NULL or points to `size` readable bytes (or to fewer, if
///    `size` exceeds `UINT32_MAX`), which no other thread writes during the
///    call, unless strict pointer mode is on.
/// 2. `actual` is NULL or valid for writing a `size_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_socket_write(
    handle: mx_handle_t,
    options: u32,
    buffer: *const c_void,
    size: usize,
    actual: *mut usize,
) -> mx_status_t {
    boundary::status("mx_socket_write", || {
        if size > 0 && buffer.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 1 is `assume_readable`'s promises 1 and 2.
        let src = unsafe { UserBytes::assume_readable(buffer, size) };
        // SAFETY: promise 2.
        let actual = unsafe { UserOut::assume_writable(actual) };
        probe_all(&[&actual])?;
        let written = mx::sys::socket_write(handle, options, &src)?;
        write_optional(&actual, written)
    })
}

/// `mx_socket_read`—Reads bytes from a socket (see
/// [`mx::sys::socket_read`]).
///
/// With a NULL `buffer` and a `size` of 0, reports in `*actual` how many
/// bytes are waiting and consumes nothing. A NULL `actual` is ignored;
/// `*actual` is written only on success.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `buffer` with a non-zero `size`, before the
/// handle is looked up, then as [`mx::sys::socket_read`]. (Magenta checks
/// the options first; both are `INVALID_ARGS`, so the order is invisible.)
///
/// # Safety
///
/// 1. `buffer` is NULL or points to `size` writable bytes (or to fewer, if
///    `size` exceeds `UINT32_MAX`), which no other thread uses during the
///    call, unless strict pointer mode is on.
/// 2. `actual` is NULL or valid for writing a `size_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_socket_read(
    handle: mx_handle_t,
    options: u32,
    buffer: *mut c_void,
    size: usize,
    actual: *mut usize,
) -> mx_status_t {
    boundary::status("mx_socket_read", || {
        if size > 0 && buffer.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 2.
        let actual = unsafe { UserOut::assume_writable(actual) };
        probe_all(&[&actual])?;
        let read = if buffer.is_null() {
            mx::sys::socket_read::<UserBytesMut>(handle, options, None)?
        } else {
            // SAFETY: promise 1 is `assume_writable`'s promises 1 and 2.
            let mut dst = unsafe { UserBytesMut::assume_writable(buffer, size) };
            mx::sys::socket_read(handle, options, Some(&mut dst))?
        };
        write_optional(&actual, read)
    })
}

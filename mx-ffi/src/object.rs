//! Objects: `mx_object_signal`, `mx_object_signal_peer`,
//! `mx_object_wait_one`, `mx_object_wait_many`, `mx_object_get_info`.

use core::ffi::c_void;

use mx::sys::ErrorWith;
use mx_core::abi::{WaitItem, WAIT_MANY_MAX_ITEMS};
use mx_core::{Signals, Status, Time};

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_signals_t, mx_status_t, mx_time_t};
use crate::ptr::{probe_all, write_optional, UserArray, UserBytesMut, UserOut};

/// Splits a result that reports a value on some errors into the status and
/// the value to write, if any.
fn split<T>(result: Result<T, ErrorWith<T>>) -> (Result<(), Status>, Option<T>) {
    match result {
        Ok(value) => (Ok(()), Some(value)),
        Err(ErrorWith { status, value }) => (Err(status), value),
    }
}

/// `mx_object_signal`—Clears, then sets, user signals of an object (see
/// [`mx::sys::object_signal`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_object_signal(
    handle: mx_handle_t,
    clear_mask: u32,
    set_mask: u32,
) -> mx_status_t {
    boundary::status("mx_object_signal", || {
        mx::sys::object_signal(
            handle,
            Signals::from_bits_retain(clear_mask),
            Signals::from_bits_retain(set_mask),
        )
    })
}

/// `mx_object_signal_peer`—Clears, then sets, user signals of an object's
/// peer (see [`mx::sys::object_signal_peer`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_object_signal_peer(
    handle: mx_handle_t,
    clear_mask: u32,
    set_mask: u32,
) -> mx_status_t {
    boundary::status("mx_object_signal_peer", || {
        mx::sys::object_signal_peer(
            handle,
            Signals::from_bits_retain(clear_mask),
            Signals::from_bits_retain(set_mask),
        )
    })
}

/// `mx_object_wait_one`—Waits for any of `signals` on one object (see
/// [`mx::sys::object_wait_one`]).
///
/// `*observed` (a NULL `observed` is ignored) is written when the call
/// returns `MX_OK`, `MX_ERR_TIMED_OUT` or `MX_ERR_CANCELED`, and only then.
///
/// # Safety
///
/// 1. `observed` is NULL or valid for writing an `mx_signals_t`, unless
///    strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_wait_one(
    handle: mx_handle_t,
    signals: mx_signals_t,
    deadline: mx_time_t,
    observed: *mut mx_signals_t,
) -> mx_status_t {
    boundary::status("mx_object_wait_one", || {
        // SAFETY: promise 1.
        let observed = unsafe { UserOut::assume_writable(observed) };
        probe_all(&[&observed])?;
        let (status, seen) = split(mx::sys::object_wait_one(
            handle,
            Signals::from_bits_retain(signals),
            Time(deadline),
        ));
        if let Some(seen) = seen {
            write_optional(&observed, seen.bits())?;
        }
        status
    })
}

/// `mx_object_wait_many`—Waits for any of several objects' signals (see
/// [`mx::sys::object_wait_many`]).
///
/// The items are copied in, and copied back (with every `pending` filled)
/// when the call returns `MX_OK`, `MX_ERR_TIMED_OUT` or `MX_ERR_CANCELED`,
/// the results for which [`mx::sys::object_wait_many`] fills them.
///
/// # Errors
/// With `count` 0, as [`mx::sys::object_wait_many`] (sleeps, then
/// `TIMED_OUT`; `items` is not used). Otherwise `INVALID_ARGS` for more than
/// `MX_WAIT_MANY_MAX_ITEMS` items (the bound of the copy; the `sys` function
/// applies the same limit) or a NULL `items`, then as
/// [`mx::sys::object_wait_many`].
///
/// # Safety
///
/// 1. `items` is NULL or valid for reading and writing `count` items, which
///    no other thread writes during the call, unless strict pointer mode is
///    on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_wait_many(
    items: *mut WaitItem,
    count: u32,
    deadline: mx_time_t,
) -> mx_status_t {
    boundary::status("mx_object_wait_many", || {
        let count = count as usize;
        if count == 0 {
            return mx::sys::object_wait_many(&mut [], Time(deadline));
        }
        if count > WAIT_MANY_MAX_ITEMS {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 1.
        let user = unsafe { UserArray::assume_valid(items, count) }.ok_or(Status::INVALID_ARGS)?;
        let mut items = user.read()?;
        let result = mx::sys::object_wait_many(&mut items, Time(deadline));
        if matches!(result, Ok(()) | Err(Status::TIMED_OUT | Status::CANCELED)) {
            user.write(&items)?;
        }
        result
    })
}

/// `mx_object_get_info`—Reads information about a handle or its object (see
/// [`mx::sys::object_get_info`]).
///
/// `*actual` and `*avail` (NULL is ignored) receive the record counts when
/// the call succeeds and with `MX_ERR_BUFFER_TOO_SMALL`. A NULL `buffer`
/// acts as a buffer that faults if written: with a non-zero `buffer_size`,
/// `MX_INFO_HANDLE_BASIC` then fails with `INVALID_ARGS`.
///
/// # Safety
///
/// 1. `buffer` is NULL or points to `buffer_size` writable bytes, which no
///    other thread uses during the call, unless strict pointer mode is on.
/// 2. `actual` and `avail` are each NULL or valid for writing a `size_t`,
///    unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_get_info(
    handle: mx_handle_t,
    topic: u32,
    buffer: *mut c_void,
    buffer_size: usize,
    actual: *mut usize,
    avail: *mut usize,
) -> mx_status_t {
    boundary::status("mx_object_get_info", || {
        // SAFETY: promise 1 is `assume_writable`'s promises 1 and 2.
        let mut buffer = unsafe { UserBytesMut::assume_writable(buffer, buffer_size) };
        // SAFETY: promise 2.
        let (actual, avail) = unsafe {
            (
                UserOut::assume_writable(actual),
                UserOut::assume_writable(avail),
            )
        };
        probe_all(&[&actual, &avail])?;
        let (status, count) = match mx::sys::object_get_info(handle, topic, &mut buffer) {
            Ok(count) => (Ok(()), count),
            Err(ErrorWith { status, value }) => (Err(status), value),
        };
        if let Some(count) = count {
            write_optional(&actual, count.actual)?;
            write_optional(&avail, count.avail)?;
        }
        status
    })
}

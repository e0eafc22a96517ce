//! Channels: `mx_channel_create`, `mx_channel_write`, `mx_channel_read`,
//! `mx_channel_call`.
//!
//! The NULL checks of these calls come where the specification puts them,
//! after the handle lookup and the size limits, so the entry points pass
//! possibly-NULL buffers on to `mx::sys`, which finds them when it copies:
//! a NULL array of non-zero length reads and writes as a fault
//! (`INVALID_ARGS`).

use core::ffi::c_void;

use mx::sys::CallError;
use mx_core::storage::HandleSink;
use mx_core::{RawHandle, Status, Time};

use crate::boundary;
use crate::ctypes::{mx_channel_call_args_t, mx_handle_t, mx_status_t, mx_time_t};
use crate::handle::create_pair;
use crate::ptr::{
    probe_all, write_optional, UserBytes, UserBytesMut, UserHandles, UserHandlesMut, UserIn,
    UserOut,
};

/// `mx_channel_create`—Creates a channel: a connected pair of endpoints
/// that carry messages (see [`mx::sys::channel_create`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out0` or `out1` (checked first; nothing is
/// created), then as [`mx::sys::channel_create`]. On error the outputs are
/// untouched.
///
/// # Safety
///
/// 1. `out0` and `out1` are each NULL or valid for writing an
///    `mx_handle_t`, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_channel_create(
    options: u32,
    out0: *mut mx_handle_t,
    out1: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_channel_create", || {
        // SAFETY: promise 1.
        let (out0, out1) = unsafe {
            (
                UserOut::assume_writable(out0),
                UserOut::assume_writable(out1),
            )
        };
        create_pair(out0, out1, || mx::sys::channel_create(options))
    })
}

/// `mx_channel_write`—Writes a message of bytes and handles (see
/// [`mx::sys::channel_write`]).
///
/// # Safety
///
/// 1. `bytes` is NULL or points to `num_bytes` readable bytes, and
///    `handles` is NULL or points to `num_handles` readable values, which no
///    other thread writes during the call, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_channel_write(
    handle: mx_handle_t,
    options: u32,
    bytes: *const c_void,
    num_bytes: u32,
    handles: *const mx_handle_t,
    num_handles: u32,
) -> mx_status_t {
    boundary::status("mx_channel_write", || {
        // SAFETY: promise 1 is `assume_readable`'s promises, for both.
        let (bytes, handles) = unsafe {
            (
                UserBytes::assume_readable(bytes, num_bytes as usize),
                UserHandles::assume_readable(handles, num_handles as usize),
            )
        };
        mx::sys::channel_write(handle, options, &bytes, &handles)
    })
}

/// `mx_channel_read`—Reads the first message queued at a channel end (see
/// [`mx::sys::channel_read`]).
///
/// `*actual_bytes` and `*actual_handles` (each may be NULL) receive the
/// message's counts when the call succeeds, with
/// `MX_ERR_BUFFER_TOO_SMALL`, and with the `MX_ERR_INVALID_ARGS` of a NULL
/// buffer for a part the message has (the message is consumed then); on
/// other errors they are untouched.
///
/// # Safety
///
/// 1. `bytes` is NULL or points to `num_bytes` writable bytes, and
///    `handles` is NULL or points to `num_handles` writable values, which
///    nobody else uses during the call, unless strict pointer mode is on.
/// 2. `actual_bytes` and `actual_handles` are each NULL or valid for
///    writing a `uint32_t`, unless strict pointer mode is on.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mx_channel_read(
    handle: mx_handle_t,
    options: u32,
    bytes: *mut c_void,
    handles: *mut mx_handle_t,
    num_bytes: u32,
    num_handles: u32,
    actual_bytes: *mut u32,
    actual_handles: *mut u32,
) -> mx_status_t {
    boundary::status("mx_channel_read", || {
        // SAFETY: promise 2.
        let (actual_bytes, actual_handles) = unsafe {
            (
                UserOut::assume_writable(actual_bytes),
                UserOut::assume_writable(actual_handles),
            )
        };
        probe_all(&[&actual_bytes, &actual_handles])?;
        // SAFETY: promise 1 is `assume_writable`'s promises, for both.
        let (mut bytes, mut handles) = unsafe {
            (
                UserBytesMut::assume_writable(bytes, num_bytes as usize),
                UserHandlesMut::assume_writable(handles, num_handles as usize),
            )
        };
        let (status, counts) =
            match mx::sys::channel_read(handle, options, &mut bytes, &mut handles) {
                Ok(counts) => (Ok(()), Some(counts)),
                Err(error) => (Err(error.status), error.value),
            };
        if let Some((b, h)) = counts {
            write_optional(&actual_bytes, b)?;
            write_optional(&actual_handles, h)?;
        }
        status
    })
}

/// A handle sink that remembers what it wrote, so that the handles can be
/// closed if the call fails after writing them.
struct Remembering {
    user: UserHandlesMut,
    written: Vec<RawHandle>,
}

impl HandleSink for Remembering {
    fn len(&self) -> usize {
        self.user.len()
    }

    fn write_all(&mut self, values: &[RawHandle]) -> Result<(), Status> {
        self.written.clear();
        self.written.try_reserve_exact(values.len())?;
        self.written.extend_from_slice(values);
        self.user.write_all(values)
    }
}

/// `mx_channel_call`—Writes a message and waits for its reply (see
/// [`mx::sys::channel_call`]).
///
/// `*actual_bytes` and `*actual_handles` are required: if either is NULL the
/// reply is destroyed and the call fails with `MX_ERR_CALL_FAILED` and
/// `*read_status` = `MX_ERR_INVALID_ARGS`. `read_status` may be NULL; it is
/// written only with `MX_ERR_CALL_FAILED`.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `args` (first of all), then as
/// [`mx::sys::channel_call`].
///
/// # Safety
///
/// 1. `args` is NULL or valid for reading an `mx_channel_call_args_t`, and
///    its four pointers are each NULL or valid for their counts (readable
///    for `wr_*`, writable for `rd_*`), unused by other threads during the
///    call, unless strict pointer mode is on.
/// 2. `actual_bytes`, `actual_handles` and `read_status` are each NULL or
///    valid for writing their type, unless strict pointer mode is on.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn mx_channel_call(
    handle: mx_handle_t,
    options: u32,
    deadline: mx_time_t,
    args: *const mx_channel_call_args_t,
    actual_bytes: *mut u32,
    actual_handles: *mut u32,
    read_status: *mut mx_status_t,
) -> mx_status_t {
    boundary::status("mx_channel_call", || {
        // SAFETY: promise 1 (the struct itself).
        let args = unsafe { UserIn::assume_readable(args) }.ok_or(Status::INVALID_ARGS)?;
        let args = args.read()?;
        // SAFETY: promise 2.
        let (actual_bytes, actual_handles, read_status) = unsafe {
            (
                UserOut::assume_writable(actual_bytes),
                UserOut::assume_writable(actual_handles),
                UserOut::assume_writable(read_status),
            )
        };
        probe_all(&[&actual_bytes, &actual_handles])?;
        probe_all(&[&read_status])?;
        // SAFETY: promise 1 (the buffers it points to), as each
        // `assume_*` asks.
        let (wr_bytes, wr_handles, mut rd_bytes, rd_handles) = unsafe {
            (
                UserBytes::assume_readable(
                    args.wr_bytes as *const c_void,
                    args.wr_num_bytes as usize,
                ),
                UserHandles::assume_readable(
                    args.wr_handles as *const RawHandle,
                    args.wr_num_handles as usize,
                ),
                UserBytesMut::assume_writable(
                    args.rd_bytes as *mut c_void,
                    args.rd_num_bytes as usize,
                ),
                UserHandlesMut::assume_writable(
                    args.rd_handles as *mut RawHandle,
                    args.rd_num_handles as usize,
                ),
            )
        };
        let mut rd_handles = Remembering {
            user: rd_handles,
            written: Vec::new(),
        };
        let result = mx::sys::channel_call(
            handle,
            options,
            Time(deadline),
            &wr_bytes,
            &wr_handles,
            &mut rd_bytes,
            &mut rd_handles,
        );
        let result = match (result, &actual_bytes, &actual_handles) {
            (Ok(counts), Some(_), Some(_)) => Ok(counts),
            (Ok(_), _, _) => {
                // Nowhere to say how much arrived: the reply is destroyed.
                for &value in &rd_handles.written {
                    let _ = mx::sys::handle_close(value);
                }
                Err(CallError {
                    status: Status::CALL_FAILED,
                    read_status: Some(Status::INVALID_ARGS),
                })
            }
            (Err(error), _, _) => Err(error),
        };
        match result {
            Ok((b, h)) => {
                write_optional(&actual_bytes, b)?;
                write_optional(&actual_handles, h)
            }
            Err(CallError {
                status,
                read_status: detail,
            }) => {
                if let Some(detail) = detail {
                    write_optional(&read_status, detail.into_raw())?;
                }
                Err(status)
            }
        }
    })
}

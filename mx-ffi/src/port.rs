//! Ports: `mx_port_create`, `mx_port_queue`, `mx_port_wait`,
//! `mx_port_cancel`, `mx_object_wait_async`.

use core::ffi::c_void;

use mx_core::abi::PortPacket;
use mx_core::{Signals, Status, Time};

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_signals_t, mx_status_t, mx_time_t};
use crate::handle::deliver;
use crate::ptr::{probe_all, UserIn, UserOut};

/// `mx_port_create`—Creates a port (see [`mx::sys::port_create`]).
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out` (checked first), then as
/// [`mx::sys::port_create`].
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_port_create(options: u32, out: *mut mx_handle_t) -> mx_status_t {
    boundary::status("mx_port_create", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let handle = mx::sys::port_create(options)?;
        deliver(&[(&out, handle)])
    })
}

/// `mx_port_queue`—Queues a user packet (an `mx_port_packet_t`; see
/// [`mx::sys::port_queue`]).
///
/// The packet is read only when `size` is 0 (the `mx_port_packet_t` form);
/// [`mx::sys::port_queue`] rejects any other size before it looks at the
/// packet, so a legacy packet of `size` bytes is never read past its end.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `packet`, then as [`mx::sys::port_queue`].
///
/// # Safety
///
/// 1. `packet` is NULL or, if `size` is 0, valid for reading an
///    `mx_port_packet_t`, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_port_queue(
    handle: mx_handle_t,
    packet: *const c_void,
    size: usize,
) -> mx_status_t {
    boundary::status("mx_port_queue", || {
        // SAFETY: promise 1 (the packet is read only if `size` is 0).
        let user = unsafe { UserIn::<PortPacket>::assume_readable(packet.cast()) };
        let user = user.ok_or(Status::INVALID_ARGS)?;
        let packet = if size == 0 {
            user.read()?
        } else {
            PortPacket::default()
        };
        mx::sys::port_queue(handle, &packet, size)
    })
}

/// `mx_port_wait`—Takes the oldest packet, waiting until `deadline` (see
/// [`mx::sys::port_wait`]). `*packet` is written only on success.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `packet` (checked first), then as
/// [`mx::sys::port_wait`].
///
/// # Safety
///
/// 1. `packet` is NULL or valid for writing an `mx_port_packet_t`, unless
///    strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_port_wait(
    handle: mx_handle_t,
    deadline: mx_time_t,
    packet: *mut c_void,
    size: usize,
) -> mx_status_t {
    boundary::status("mx_port_wait", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::<PortPacket>::assume_writable(packet.cast()) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let taken = mx::sys::port_wait(handle, Time(deadline), size)?;
        out.write(taken)
    })
}

/// `mx_port_cancel`—Ends the asynchronous waits of `source` with `key` on a
/// port and removes their packets (see [`mx::sys::port_cancel`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_port_cancel(
    handle: mx_handle_t,
    source: mx_handle_t,
    key: u64,
) -> mx_status_t {
    boundary::status("mx_port_cancel", || {
        mx::sys::port_cancel(handle, source, key)
    })
}

/// `mx_object_wait_async`—Asks for a packet on `port` when any of `signals`
/// is asserted on `handle` (see [`mx::sys::object_wait_async`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_object_wait_async(
    handle: mx_handle_t,
    port: mx_handle_t,
    key: u64,
    signals: mx_signals_t,
    options: u32,
) -> mx_status_t {
    boundary::status("mx_object_wait_async", || {
        mx::sys::object_wait_async(
            handle,
            port,
            key,
            Signals::from_bits_retain(signals),
            options,
        )
    })
}

//! Ports: the packet layout now; the calls when `mx::sys` has them.
//!
//! # PENDING: the port entry points
//!
//! `mx::sys` does not have the port calls yet. Each goes here, in the shape
//! of the others (wrap pointers with `crate::ptr`, check the NULL cases,
//! call the one `sys` function, write out-parameters through
//! `crate::ptr::UserOut`):
//!
//! - `mx_port_create(uint32_t options, mx_handle_t* out)`: NULL `out` is
//!   `INVALID_ARGS`; hand the handle out with `crate::handle::deliver`.
//! - `mx_port_queue(mx_handle_t, const void* packet, size_t size)`: `size`
//!   goes to `sys` (SPEC 7: `size != 0` is `INVALID_ARGS`, checked first);
//!   the packet is copied in as a `PortPacket` (add `unsafe impl Plain`
//!   once the type lives in `mx-core`; its union must be built from the
//!   32-byte `user` arm so that every byte is initialised).
//! - `mx_port_wait(mx_handle_t, mx_time_t deadline, void* packet, size_t
//!   size)`: NULL `packet` is `INVALID_ARGS`; probe it, call `sys`, write it.
//! - `mx_port_cancel(mx_handle_t, mx_handle_t source, uint64_t key)`: no
//!   pointers.
//! - `mx_object_wait_async(mx_handle_t, mx_handle_t port, uint64_t key,
//!   mx_signals_t signals, uint32_t options)`: no pointers.
//!
//! The C declarations are already in `include/magenta/syscalls.h` and
//! `include/magenta/syscalls/port.h`; `tests/abi.rs` lists the five names
//! as not yet exported and checks the packet layout against `PortPacket`.

use core::fmt;

use mx_core::Signals;

/// `MX_PKT_TYPE_USER`: a packet queued by `mx_port_queue`.
pub const PKT_TYPE_USER: u32 = 0;
/// `MX_PKT_TYPE_SIGNAL_ONE`: from an `MX_WAIT_ASYNC_ONCE` wait.
pub const PKT_TYPE_SIGNAL_ONE: u32 = 1;
/// `MX_PKT_TYPE_SIGNAL_REP`: from an `MX_WAIT_ASYNC_REPEATING` wait.
pub const PKT_TYPE_SIGNAL_REP: u32 = 2;
/// `MX_WAIT_ASYNC_ONCE`: an `mx_object_wait_async` option.
pub const WAIT_ASYNC_ONCE: u32 = 0;
/// `MX_WAIT_ASYNC_REPEATING`: an `mx_object_wait_async` option.
pub const WAIT_ASYNC_REPEATING: u32 = 1;

/// `mx_port_packet_t` (SPEC 7): 48 bytes.
///
/// To move to `mx_core::abi` with the port calls; this crate then re-exports
/// it.
#[derive(Copy, Clone)]
#[repr(C)]
pub struct PortPacket {
    /// The key of the wait or of the queued packet.
    pub key: u64,
    /// `MX_PKT_TYPE_*`.
    pub type_: u32,
    /// `mx_status_t`: 0 for the packets of SPEC 7.
    pub status: i32,
    /// The C struct's anonymous union.
    pub payload: PacketPayload,
}

/// The anonymous union of `mx_port_packet_t`: `user` or `signal`.
#[derive(Copy, Clone)]
#[repr(C)]
pub union PacketPayload {
    /// `mx_packet_user_t`, as 64-bit words.
    pub user: [u64; 4],
    /// `mx_packet_signal_t`.
    pub signal: PacketSignal,
}

/// `mx_packet_signal_t`: what an asynchronous wait saw.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct PacketSignal {
    /// The signals the wait was registered for.
    pub trigger: Signals,
    /// The signals observed.
    pub observed: Signals,
    /// Always 1.
    pub count: u64,
}

impl fmt::Debug for PortPacket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortPacket")
            .field("key", &self.key)
            .field("type_", &self.type_)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PacketPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Which arm is live is the packet's `type_`; not ours to read here.
        f.debug_struct("PacketPayload").finish_non_exhaustive()
    }
}

const _: () = assert!(core::mem::size_of::<PortPacket>() == 48);

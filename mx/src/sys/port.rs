//! Port system calls.

use mx_core::abi::{PortPacket, PKT_TYPE_USER, WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING};
use mx_core::{RawHandle, Rights, Signals, Status, Time};

use super::add_one;
use crate::object::{port, Object, Port, Waitable};
use crate::sync::{counters, try_arc, Arc, Parker};
use crate::table::table;
use crate::time::now;

/// `mx_port_create`—Creates a port: a queue of packets.
///
/// # Errors
/// - `INVALID_ARGS`: `options` is not 0.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_port_create")]
pub fn port_create(options: u32) -> Result<RawHandle, Status> {
    if options != 0 {
        return Err(Status::INVALID_ARGS);
    }
    add_one(Object::Port(try_arc(Port::new())?), Rights::PORT_DEFAULT)
}

/// `mx_port_queue`—Queues a user packet.
///
/// The packet is copied with its type set to `MX_PKT_TYPE_USER`; its key,
/// status and payload are the caller's. If threads wait in `mx_port_wait`,
/// the longest waiting one gets it.
///
/// # Errors
/// - `INVALID_ARGS`: `size` is not 0 (checked first; Magenta's manual said
///   `WRONG_TYPE`, its kernel returned `INVALID_ARGS`).
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`.
/// - `NO_MEMORY`.
#[doc(alias = "mx_port_queue")]
pub fn port_queue(handle: RawHandle, packet: &PortPacket, size: usize) -> Result<(), Status> {
    if size != 0 {
        return Err(Status::INVALID_ARGS);
    }
    let packet = PortPacket {
        type_: PKT_TYPE_USER,
        ..*packet
    };
    table().find::<Port, _>(handle, Rights::WRITE, |found| found.target.queue(packet))
}

/// `mx_port_wait`—Takes the oldest packet, waiting until `deadline` for one.
///
/// Packets are delivered in order, each to exactly one caller; a packet
/// wakes one waiting thread, never more.
///
/// # Errors
/// - `INVALID_ARGS`: `size` is not 0 (checked first).
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`), `WRONG_TYPE`.
/// - `TIMED_OUT`: nothing arrived before the deadline.
/// - `CANCELED`: the handle was closed during the wait.
/// - `NO_MEMORY`.
#[doc(alias = "mx_port_wait")]
pub fn port_wait(handle: RawHandle, deadline: Time, size: usize) -> Result<PortPacket, Status> {
    if size != 0 {
        return Err(Status::INVALID_ARGS);
    }
    let port = table().find::<Port, _>(handle, Rights::READ, |found| Ok(found.target.clone()))?;
    if let Some(packet) = port.take(handle, None)? {
        return Ok(packet);
    }
    if deadline != Time::INFINITE && deadline <= now() {
        return Err(Status::TIMED_OUT);
    }
    let parker = try_arc(Parker::new())?;
    let id = counters::observer_id();
    // Registered under the handle's lock, so that a concurrent close
    // either comes first or sees the waiter.
    match table().find_locked::<Port, _>(handle, Rights::READ, |found| {
        found.target.take(handle, Some((id, &parker)))
    }) {
        Ok(Some(packet)) => Ok(packet),
        Ok(None) => port.park(id, &parker, deadline),
        // The handle was valid when the wait began: it was closed since.
        Err(Status::BAD_HANDLE) => Err(Status::CANCELED),
        Err(status) => Err(status),
    }
}

/// `mx_port_cancel`—Ends the asynchronous waits made through `source` with
/// `key` towards the port `port`, and removes their queued packets.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE` on the port, no `READ` on
///   the source), `WRONG_TYPE` (`port` is not a port).
/// - `NOT_FOUND`: no wait and no queued packet matched.
#[doc(alias = "mx_port_cancel")]
pub fn port_cancel(port: RawHandle, source: RawHandle, key: u64) -> Result<(), Status> {
    let port: Arc<Port> =
        table().find::<Port, _>(port, Rights::WRITE, |found| Ok(found.target.clone()))?;
    table().find::<crate::object::Any, _>(source, Rights::READ, |found| {
        Port::cancel(&port, found.target, source, key)
    })
}

/// `mx_object_wait_async`—Asks for a packet on `port` when any of `signals`
/// is asserted on the object `handle` names.
///
/// With `MX_WAIT_ASYNC_ONCE` one packet (`MX_PKT_TYPE_SIGNAL_ONE`) is queued
/// when a watched signal is or becomes asserted, and the wait ends. With
/// `MX_WAIT_ASYNC_REPEATING` a packet (`MX_PKT_TYPE_SIGNAL_REP`) is queued
/// whenever the object's signals change while a watched one is asserted; at
/// most one is queued at a time (its `observed` is updated meanwhile), and
/// taking it re-arms the wait, until `mx_port_cancel` or the handle is closed.
/// Packets carry `key`, `trigger` = `signals`, the `observed` signals and
/// `count` = 1.
///
/// # Errors
/// In this order:
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`: for `port`.
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`), `NOT_SUPPORTED` (cannot be
///   waited on): for `handle`.
/// - `INVALID_ARGS`: `options` is neither mode (the kernel of the time took
///   any other value as repeating; the documented behaviour is kept).
/// - `NO_MEMORY`.
#[doc(alias = "mx_object_wait_async")]
pub fn object_wait_async(
    handle: RawHandle,
    port: RawHandle,
    key: u64,
    signals: Signals,
    options: u32,
) -> Result<(), Status> {
    let port: Arc<Port> =
        table().find::<Port, _>(port, Rights::WRITE, |found| Ok(found.target.clone()))?;
    // Registered under the handle's lock, so that a concurrent close either
    // comes first or finds the wait and removes it.
    table().find_locked::<Waitable, _>(handle, Rights::READ, |found| {
        let repeating = match options {
            WAIT_ASYNC_ONCE => false,
            WAIT_ASYNC_REPEATING => true,
            _ => return Err(Status::INVALID_ARGS),
        };
        port::wait_async(&found.end(), handle, &port, key, signals, repeating)
    })
}

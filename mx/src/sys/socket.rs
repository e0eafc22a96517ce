//! Socket system calls.

use mx_core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx_core::observer::Wanted;
use mx_core::socket::SOCKET_CAPACITY;
use mx_core::storage::{Sink, Source};
use mx_core::{RawHandle, Rights, Status, Time};

use super::object::wait_registered;
use super::{add_pair, with_handle};
use crate::object::wait::spin_until;
use crate::object::{Kernel, SocketPair};

/// `mx_socket_create`—Creates a socket: a connected pair of endpoints.
///
/// `options` is `MX_SOCKET_STREAM` or `MX_SOCKET_DATAGRAM`. Both ends start
/// `WRITABLE | LAST_HANDLE` with the default socket rights.
///
/// # Errors
/// - `INVALID_ARGS`: `options` is neither mode.
/// - `NO_MEMORY`.
#[doc(alias = "mx_socket_create")]
pub fn socket_create(options: u32) -> Result<(RawHandle, RawHandle), Status> {
    let datagram = match options {
        SOCKET_STREAM => false,
        SOCKET_DATAGRAM => true,
        _ => return Err(Status::INVALID_ARGS),
    };
    add_pair(
        Kernel::Socket(SocketPair::new(datagram)),
        Rights::SOCKET_DEFAULT,
    )
}

/// `mx_socket_write`—Writes bytes into a socket, or half-closes it.
///
/// With `options` 0, writes `src` and returns how many bytes were written:
/// a stream write may be short, a datagram write is all or nothing, and an
/// empty write succeeds without queueing anything. With
/// `MX_SOCKET_HALF_CLOSE` and an empty `src`, closes this end for writing:
/// the peer reads what was written, then `PEER_CLOSED`.
///
/// # Errors
/// In the order they are checked (a NULL buffer with a non-zero size is the
/// C ABI's `INVALID_ARGS`, before all of these):
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`.
/// - `INVALID_ARGS`: `HALF_CLOSE` with bytes, or another option.
/// - `PEER_CLOSED`: the peer is closed (half-close: and this end had not
///   half-closed).
/// - `BAD_STATE`: this end half-closed earlier.
/// - `INVALID_ARGS`: more than `u32::MAX` bytes.
/// - `SHOULD_WAIT`: the peer's buffer is full, or a datagram does not fit.
/// - `NO_MEMORY`.
#[doc(alias = "mx_socket_write")]
pub fn socket_write<S: Source + ?Sized>(
    handle: RawHandle,
    options: u32,
    src: &S,
) -> Result<usize, Status> {
    with_handle(handle, Rights::WRITE, |entry| {
        let kernel = &entry.kernel;
        if !matches!(**kernel, Kernel::Socket(_)) {
            return Err(Status::WRONG_TYPE);
        }
        match options {
            0 => kernel.socket_write(entry.side(), src),
            SOCKET_HALF_CLOSE if src.is_empty() => {
                kernel.socket_half_close(entry.side()).map(|()| 0)
            }
            _ => Err(Status::INVALID_ARGS),
        }
    })
}

/// `mx_socket_read`—Reads bytes from a socket.
///
/// With `dst` `None` (a NULL buffer of size 0), returns the number of bytes
/// waiting (for datagrams, the sum of their lengths) and consumes nothing.
/// Otherwise a stream read copies up to `dst.len()` bytes; a datagram read
/// returns the first datagram, truncated to `dst.len()` (the rest of it is
/// discarded). An empty `dst` on a non-empty socket reads 0 bytes.
///
/// # Errors
/// - `INVALID_ARGS`: `options` is not 0.
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`), `WRONG_TYPE`.
/// - `INVALID_ARGS`: more than `u32::MAX` bytes.
/// - `PEER_CLOSED`: nothing to read and the peer is closed or half-closed.
/// - `SHOULD_WAIT`: nothing to read.
#[doc(alias = "mx_socket_read")]
pub fn socket_read<D: Sink + ?Sized>(
    handle: RawHandle,
    options: u32,
    dst: Option<&mut D>,
) -> Result<usize, Status> {
    if options != 0 {
        return Err(Status::INVALID_ARGS);
    }
    with_handle(handle, Rights::READ, |entry| match dst {
        None => entry.kernel.socket_outstanding(entry.side()),
        Some(dst) => entry.kernel.socket_read(entry.side(), dst),
    })
}

/// Not a Magenta call: blocks until `need` payload bytes can be written to
/// the socket `handle` at once, or a write through it would fail whatever
/// the room (the peer closed, or this end half-closed, perhaps through
/// another handle), or `deadline` passes.
///
/// This is how every blocking writer sleeps. It watches no signal:
/// `WRITABLE` stays asserted while a datagram does not fit (SPEC 4), and
/// `PEER_CLOSED` stays asserted after the peer half-closed while the peer
/// can still read; a writer woken by either would find no room and spin.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`.
/// - `TIMED_OUT`, `CANCELED` (the handle was closed meanwhile), `NO_MEMORY`.
pub fn socket_wait_room(handle: RawHandle, need: usize, deadline: Time) -> Result<(), Status> {
    let object = with_handle(handle, Rights::WRITE, |entry| match &*entry.kernel {
        Kernel::Socket(_) => Ok(entry.object()),
        _ => Err(Status::WRONG_TYPE),
    })?;
    // While spinning, wait for a good share of the capacity to be free, so
    // a writer that outpaces its reader writes in batches instead of taking
    // every byte the reader frees (and the cache line with it). Parked, it
    // waits for exactly `need`: the reader may never free more.
    let batch = need.max(SOCKET_CAPACITY / 8);
    let fits = || {
        object
            .kernel
            .socket_room(object.side)
            .map_or(true, |room| room.is_none_or(|room| room >= batch))
    };
    if spin_until(deadline, fits) {
        return Ok(());
    }
    wait_registered(
        handle,
        Rights::WRITE,
        &object,
        Wanted::Room(need.max(1)),
        deadline,
    )
    .map(|_| ())
    .map_err(Status::from)
}

/// Not a Magenta call: whether the socket `handle` is in datagram mode.
///
/// # Errors
/// - `BAD_HANDLE`, `WRONG_TYPE`.
pub fn socket_is_datagram(handle: RawHandle) -> Result<bool, Status> {
    with_handle(handle, Rights::NONE, |entry| {
        entry.kernel.socket_is_datagram()
    })
}

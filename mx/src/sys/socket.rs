//! Socket system calls.

use mx_core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx_core::{RawHandle, Rights, Status};
use mx_shm::storage::{Sink, Source};

use super::add_pair;
use crate::object::{Object, SocketPair};
use crate::table::table;

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
        Object::Socket(SocketPair::new(datagram)),
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
    table().find::<SocketPair, _>(handle, Rights::WRITE, |found| match options {
        0 => found.target.write(found.side, src),
        SOCKET_HALF_CLOSE if src.is_empty() => found.target.half_close(found.side).map(|()| 0),
        _ => Err(Status::INVALID_ARGS),
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
    table().find::<SocketPair, _>(handle, Rights::READ, |found| match dst {
        None => Ok(found.target.outstanding(found.side)),
        Some(dst) => found.target.read(found.side, dst),
    })
}

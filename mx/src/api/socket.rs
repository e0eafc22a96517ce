//! [`Socket`]: a typed socket handle, with blocking I/O on top.

use std::io;

use mx_core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx_core::socket::SOCKET_CAPACITY;
use mx_core::{Signals, Status, Time};

use super::{handle_type, AsHandleRef, Handle, Peered};
use crate::sys;

/// The mode of a new socket.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum SocketOpts {
    /// A byte stream (`MX_SOCKET_STREAM`): writes may be short.
    Stream,
    /// Datagrams (`MX_SOCKET_DATAGRAM`): writes are all or nothing, reads
    /// return one datagram.
    Datagram,
}

/// One end of a socket.
///
/// The non-blocking calls mirror the system calls: [`Socket::write`] and
/// [`Socket::read`] return `SHOULD_WAIT` instead of blocking. The blocking
/// ones wait on signals (after a short spin) and never poll:
/// [`Socket::send`], [`Socket::recv`], and `std::io::Read`/`Write` for
/// `Socket` and `&Socket`, where `PEER_CLOSED` reads as end of file and a
/// write to a closed or half-closed socket fails with
/// `io::ErrorKind::BrokenPipe`.
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Socket(Handle);

handle_type!(Socket);

impl Peered for Socket {}

impl Socket {
    /// Creates a connected pair ([`sys::socket_create`]).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub fn create(opts: SocketOpts) -> Result<(Socket, Socket), Status> {
        let options = match opts {
            SocketOpts::Stream => SOCKET_STREAM,
            SocketOpts::Datagram => SOCKET_DATAGRAM,
        };
        let (a, b) = sys::socket_create(options)?;
        Ok((Socket(Handle::from_raw(a)), Socket(Handle::from_raw(b))))
    }

    /// Writes without blocking ([`sys::socket_write`]); returns the bytes
    /// written.
    ///
    /// # Errors
    /// As [`sys::socket_write`], notably `SHOULD_WAIT`.
    pub fn write(&self, bytes: &[u8]) -> Result<usize, Status> {
        sys::socket_write(self.raw_handle(), 0, bytes)
    }

    /// Reads without blocking ([`sys::socket_read`]); returns the bytes read.
    ///
    /// # Errors
    /// As [`sys::socket_read`], notably `SHOULD_WAIT` and `PEER_CLOSED`.
    pub fn read(&self, bytes: &mut [u8]) -> Result<usize, Status> {
        sys::socket_read(self.raw_handle(), 0, Some(bytes))
    }

    /// Closes this end for writing (`MX_SOCKET_HALF_CLOSE`): the peer reads
    /// what was written, then `PEER_CLOSED`.
    ///
    /// # Errors
    /// As [`sys::socket_write`].
    pub fn half_close(&self) -> Result<(), Status> {
        sys::socket_write(self.raw_handle(), SOCKET_HALF_CLOSE, &[][..]).map(|_| ())
    }

    /// Bytes waiting to be read (for datagrams, the sum of their lengths).
    ///
    /// # Errors
    /// As [`sys::socket_read`].
    pub fn outstanding_read_bytes(&self) -> Result<usize, Status> {
        sys::socket_read::<[u8]>(self.raw_handle(), 0, None)
    }

    /// Writes all of `bytes`, waiting for room as needed: one datagram on a
    /// datagram socket, the whole slice on a stream socket.
    ///
    /// A datagram writer sleeps until enough room for the whole datagram is
    /// free, not merely until `WRITABLE` (which stays asserted while a
    /// datagram does not fit).
    ///
    /// # Errors
    /// - `OUT_OF_RANGE`: a datagram longer than the socket's capacity.
    /// - `PEER_CLOSED`, `BAD_STATE`, and the handle errors of
    ///   [`sys::socket_write`].
    pub fn send(&self, bytes: &[u8]) -> Result<(), Status> {
        self.send_deadline(bytes, Time::INFINITE)
    }

    /// [`Socket::send`] with a deadline.
    ///
    /// # Errors
    /// As [`Socket::send`], and `TIMED_OUT` (a stream may have written part).
    pub fn send_deadline(&self, bytes: &[u8], deadline: Time) -> Result<(), Status> {
        let raw = self.raw_handle();
        let mut sent = 0;
        loop {
            match sys::socket_write(raw, 0, &bytes[sent..]) {
                Ok(n) => {
                    sent += n;
                    if sent == bytes.len() {
                        return Ok(());
                    }
                }
                Err(Status::SHOULD_WAIT) => {
                    let need = bytes.len() - sent;
                    if need > SOCKET_CAPACITY && sent == 0 && self.is_datagram()? {
                        return Err(Status::OUT_OF_RANGE);
                    }
                    sys::ext::socket_wait_room(raw, need.min(SOCKET_CAPACITY), deadline)?;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// Reads, waiting until there is something to read; on a datagram socket
    /// returns one datagram (truncated to `bytes`).
    ///
    /// # Errors
    /// `PEER_CLOSED` once the peer is done writing and everything was read;
    /// the handle errors of [`sys::socket_read`].
    pub fn recv(&self, bytes: &mut [u8]) -> Result<usize, Status> {
        self.recv_deadline(bytes, Time::INFINITE)
    }

    /// [`Socket::recv`] with a deadline.
    ///
    /// # Errors
    /// As [`Socket::recv`], and `TIMED_OUT`.
    pub fn recv_deadline(&self, bytes: &mut [u8], deadline: Time) -> Result<usize, Status> {
        loop {
            match self.read(bytes) {
                Err(Status::SHOULD_WAIT) => {
                    self.wait_handle(Signals::READABLE | Signals::PEER_CLOSED, deadline)?;
                }
                other => return other,
            }
        }
    }

    fn is_datagram(&self) -> Result<bool, Status> {
        sys::ext::socket_is_datagram(self.raw_handle())
    }
}

fn io_read(socket: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    match socket.recv(buf) {
        Ok(n) => Ok(n),
        Err(Status::PEER_CLOSED) => Ok(0),
        Err(status) => Err(status.into()),
    }
}

fn io_write(socket: &Socket, buf: &[u8]) -> io::Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    loop {
        match socket.write(buf) {
            Ok(n) => return Ok(n),
            Err(Status::SHOULD_WAIT) => {
                if socket.is_datagram()? {
                    // A datagram that does not fit: wait for room for all of it.
                    return Ok(socket.send(buf).map(|()| buf.len())?);
                }
                // Room for one byte, or a write that would fail (peer closed,
                // or this end half-closed through another handle).
                sys::ext::socket_wait_room(socket.raw_handle(), 1, Time::INFINITE)?;
            }
            Err(status) => return Err(status.into()),
        }
    }
}

impl io::Read for &Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io_read(self, buf)
    }
}

impl io::Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        io_read(self, buf)
    }
}

impl io::Write for &Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io_write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        io_write(self, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

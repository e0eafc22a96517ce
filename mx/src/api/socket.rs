//! [`Socket`]: a typed socket handle, with blocking I/O on top.

use std::io;

use mx_core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx_core::socket::SOCKET_CAPACITY;
use mx_core::{Signals, Status, Time};

use super::{handle_type, AsHandleRef, Deadline, Handle, Peered};
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
/// # Blocking and non-blocking calls
///
/// | call | blocks? | on `PEER_CLOSED` |
/// |---|---|---|
/// | [`Socket::try_write`], [`Socket::try_read`] (`mx_socket_write`, `mx_socket_read`) | never: `SHOULD_WAIT` instead | `Err(PEER_CLOSED)` |
/// | `std::io::Read::read`, `std::io::Write::write` (for `Socket` and `&Socket`) | until some bytes move (a datagram: until it fits whole) | reads: end of file (`Ok(0)`); writes: `BrokenPipe` |
/// | [`Socket::send`], [`Socket::recv`] and their `_deadline` forms | until all of `bytes` is sent / something is read | `Err(PEER_CLOSED)` |
///
/// The non-blocking calls are named `try_*`, as in tokio and mio
/// (`TcpStream::try_read`): a `try_` call never waits. There is no inherent
/// `read` or `write`, so that `socket.read(&mut buf)` means
/// `std::io::Read::read`, exactly as for a `UnixStream`: it blocks, and
/// reads end of file once the peer is done. Without `std::io::Read` in
/// scope it does not compile (the compiler suggests importing the trait).
/// `fuchsia-zircon`'s `Socket::read` never blocked; giving the blocking
/// call that name, or keeping a non-blocking `read` that shadows the
/// trait's, would change what existing code means without a word from the
/// compiler. With these names no call silently changes meaning: code
/// ported from `fuchsia-zircon` fails to compile until each call says
/// which one it wants.
///
/// The blocking calls wait on the socket's signals (after a short spin)
/// and never poll. A writer sleeps until there is room (for a datagram:
/// room for all of it; see [`sys::ext::socket_wait_room`]) or until a
/// write would fail; a reader until `READABLE` or `PEER_CLOSED`.
///
/// ```
/// use std::io::{Read, Write};
/// use mx::api::{Socket, SocketOpts};
/// use mx::Status;
///
/// let (mut a, mut b) = Socket::create(SocketOpts::Stream)?;
/// assert_eq!(b.try_read(&mut [0; 8]), Err(Status::SHOULD_WAIT)); // never blocks
/// a.write_all(b"ping")?;                                          // std::io::Write
/// drop(a);
/// let mut text = String::new();
/// b.read_to_string(&mut text)?;                                   // std::io::Read: blocks, PEER_CLOSED is EOF
/// assert_eq!(text, "ping");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    #[doc(alias = "mx_socket_write")]
    pub fn try_write(&self, bytes: &[u8]) -> Result<usize, Status> {
        sys::socket_write(self.raw_handle(), 0, bytes)
    }

    /// Reads without blocking ([`sys::socket_read`]); returns the bytes read.
    ///
    /// # Errors
    /// As [`sys::socket_read`], notably `SHOULD_WAIT` and `PEER_CLOSED`.
    #[doc(alias = "mx_socket_read")]
    pub fn try_read(&self, bytes: &mut [u8]) -> Result<usize, Status> {
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
        self.send_deadline(bytes, Deadline::INFINITE)
    }

    /// [`Socket::send`] with a deadline.
    ///
    /// # Errors
    /// As [`Socket::send`], and `TIMED_OUT` (a stream may have written part).
    pub fn send_deadline(&self, bytes: &[u8], deadline: impl Into<Deadline>) -> Result<(), Status> {
        let deadline = deadline.into().to_time();
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
        self.recv_deadline(bytes, Deadline::INFINITE)
    }

    /// [`Socket::recv`] with a deadline.
    ///
    /// # Errors
    /// As [`Socket::recv`], and `TIMED_OUT`.
    pub fn recv_deadline(
        &self,
        bytes: &mut [u8],
        deadline: impl Into<Deadline>,
    ) -> Result<usize, Status> {
        let deadline = deadline.into().to_time();
        loop {
            match self.try_read(bytes) {
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
        match socket.try_write(buf) {
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

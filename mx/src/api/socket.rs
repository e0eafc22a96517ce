//! [`Socket`]: a typed socket handle, with blocking I/O on top.
//!
//! The non-blocking calls are the system calls, named `try_*`; the
//! blocking ones (`send`, `recv`, `std::io::Read` and `Write`) loop over
//! them and sleep in between, on the socket's signals or on the room to
//! write ([`sys::ext::socket_wait_room`]).

use std::io;

use mx_core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx_core::socket::SOCKET_CAPACITY;
use mx_core::{Signals, Status, Time};

use super::{handle_type, AsHandleRef, Deadline, Handle, Peered};
use crate::sys;

/// The mode of a new socket ([`Socket::create`]).
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
///
/// Without `std::io::Read` in scope, `read` is not a method of `Socket`:
///
/// ```compile_fail,E0599
/// use mx::api::{Socket, SocketOpts};
///
/// let (_a, b) = Socket::create(SocketOpts::Stream).unwrap();
/// let mut buf = [0u8; 4];
/// let _ = b.read(&mut buf); // error: no method named `read` (import std::io::Read)
/// ```
///
/// Datagram sockets work with `std::io` too: a write is one datagram, a
/// read returns one datagram cut to the buffer. So `read_to_end`,
/// `read_exact` and `BufReader`, which read into small or partial
/// buffers, would drop the rest of a datagram: read datagrams with
/// [`Socket::recv`] and a buffer as large as the largest one.
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Socket(Handle);

handle_type!(Socket);

impl Peered for Socket {}

impl Socket {
    /// Creates a connected pair ([`sys::socket_create`]). Each direction
    /// holds up to 257,024 bytes.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    ///
    /// ```
    /// use mx::api::{AsHandleRef, Socket, SocketOpts};
    /// use mx::{Signals, Time};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// // A new end may write, and is its object's only handle.
    /// let now = a.wait_handle(Signals::WRITABLE, Time::ZERO)?;
    /// assert_eq!(now, Signals::WRITABLE | Signals::LAST_HANDLE);
    /// assert_eq!(a.basic_info()?.related_koid, b.koid()?);
    /// # Ok::<(), mx::Status>(())
    /// ```
    #[doc(alias = "mx_socket_create")]
    pub fn create(opts: SocketOpts) -> Result<(Socket, Socket), Status> {
        let options = match opts {
            SocketOpts::Stream => SOCKET_STREAM,
            SocketOpts::Datagram => SOCKET_DATAGRAM,
        };
        let (a, b) = sys::socket_create(options)?;
        Ok((Socket(Handle::from_raw(a)), Socket(Handle::from_raw(b))))
    }

    /// Writes without blocking ([`sys::socket_write`]); returns the bytes
    /// written. A stream write may be short (as much as fits); a datagram
    /// is written whole or not at all.
    ///
    /// # Errors
    /// As [`sys::socket_write`]: `SHOULD_WAIT` (no room; for a datagram,
    /// not enough for all of it), `PEER_CLOSED`, `BAD_STATE` (this end
    /// half-closed), `ACCESS_DENIED` (no `WRITE`).
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (a, _b) = Socket::create(SocketOpts::Stream)?;
    /// let big = vec![0u8; 300_000];
    /// assert_eq!(a.try_write(&big)?, 257_024); // short: the buffer is full
    /// assert_eq!(a.try_write(b"more"), Err(Status::SHOULD_WAIT));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_socket_write")]
    pub fn try_write(&self, bytes: &[u8]) -> Result<usize, Status> {
        sys::socket_write(self.raw_handle(), 0, bytes)
    }

    /// Reads without blocking ([`sys::socket_read`]); returns the bytes
    /// read: up to `bytes.len()` of a stream, or one datagram (cut to
    /// `bytes`, the rest of it discarded).
    ///
    /// # Errors
    /// As [`sys::socket_read`]: `SHOULD_WAIT` (nothing queued),
    /// `PEER_CLOSED` (nothing queued and the peer closed or half-closed),
    /// `ACCESS_DENIED` (no `READ`).
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (a, b) = Socket::create(SocketOpts::Datagram)?;
    /// let mut buf = [0u8; 4];
    /// assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
    /// a.try_write(b"a datagram")?;
    /// assert_eq!(b.try_read(&mut buf)?, 4); // cut to the buffer
    /// assert_eq!(&buf, b"a da");
    /// drop(a);
    /// assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_socket_read")]
    pub fn try_read(&self, bytes: &mut [u8]) -> Result<usize, Status> {
        sys::socket_read(self.raw_handle(), 0, Some(bytes))
    }

    /// Closes this end for writing (`MX_SOCKET_HALF_CLOSE`): the peer reads
    /// what was written, then `PEER_CLOSED` (end of file through
    /// `std::io::Read`); it can still write back. Writing here afterwards
    /// is `BAD_STATE` (`BrokenPipe` through `std::io::Write`). Idempotent.
    ///
    /// # Errors
    /// As [`sys::socket_write`]: `PEER_CLOSED` (the peer is gone, and this
    /// end had not half-closed), `NO_MEMORY`, `ACCESS_DENIED`.
    ///
    /// ```
    /// use std::io::Read;
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (a, mut b) = Socket::create(SocketOpts::Stream)?;
    /// a.send(b"request")?;
    /// a.half_close()?;
    /// let mut request = Vec::new();
    /// b.read_to_end(&mut request)?; // ends at the half-close
    /// assert_eq!(request, b"request");
    /// b.send(b"reply")?;             // the other direction is open
    /// assert_eq!(a.try_write(b"x"), Err(Status::BAD_STATE));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn half_close(&self) -> Result<(), Status> {
        sys::socket_write(self.raw_handle(), SOCKET_HALF_CLOSE, &[][..]).map(|_| ())
    }

    /// Bytes waiting to be read (for datagrams, the sum of their lengths),
    /// without reading them.
    ///
    /// # Errors
    /// As [`sys::socket_read`].
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Datagram)?;
    /// a.try_write(b"one")?;
    /// a.try_write(b"three")?;
    /// assert_eq!(b.outstanding_read_bytes()?, 8);
    /// # Ok::<(), mx::Status>(())
    /// ```
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
    /// - `CANCELED`: another thread closed the handle meanwhile.
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Datagram)?;
    /// let reader = std::thread::spawn(move || {
    ///     let mut buf = vec![0u8; 200_000];
    ///     let mut sizes = Vec::new();
    ///     while let Ok(n) = b.recv(&mut buf) {
    ///         sizes.push(n);
    ///     }
    ///     sizes
    /// });
    /// for _ in 0..3 {
    ///     a.send(&vec![7u8; 200_000])?; // waits until all of it fits
    /// }
    /// drop(a);
    /// assert_eq!(reader.join().unwrap(), [200_000; 3]);
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub fn send(&self, bytes: &[u8]) -> Result<(), Status> {
        self.send_deadline(bytes, Deadline::INFINITE)
    }

    /// [`Socket::send`] with a deadline: a `Duration` from now, a
    /// [`Time`] or an `Instant` ([`Deadline`]).
    ///
    /// # Errors
    /// As [`Socket::send`], and `TIMED_OUT` (a stream may have written part).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (a, _b) = Socket::create(SocketOpts::Datagram)?;
    /// a.send(&vec![0u8; 200_000])?;
    /// // Nobody reads: the second datagram never fits.
    /// let result = a.send_deadline(&vec![0u8; 100_000], Duration::from_millis(10));
    /// assert_eq!(result, Err(Status::TIMED_OUT));
    /// # Ok::<(), Status>(())
    /// ```
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
    /// `CANCELED` if another thread closed the handle meanwhile; the handle
    /// errors of [`sys::socket_read`].
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (a, b) = Socket::create(SocketOpts::Datagram)?;
    /// std::thread::spawn(move || a.send(b"from a thread"));
    /// let mut buf = [0u8; 64];
    /// let n = b.recv(&mut buf)?;
    /// assert_eq!(&buf[..n], b"from a thread");
    /// assert_eq!(b.recv(&mut buf), Err(Status::PEER_CLOSED)); // a is gone
    /// # Ok::<(), Status>(())
    /// ```
    pub fn recv(&self, bytes: &mut [u8]) -> Result<usize, Status> {
        self.recv_deadline(bytes, Deadline::INFINITE)
    }

    /// [`Socket::recv`] with a deadline: a `Duration` from now, a
    /// [`Time`] or an `Instant` ([`Deadline`]).
    ///
    /// # Errors
    /// As [`Socket::recv`], and `TIMED_OUT`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    ///
    /// let (_a, b) = Socket::create(SocketOpts::Stream)?;
    /// let mut buf = [0u8; 8];
    /// assert_eq!(b.recv_deadline(&mut buf, Duration::from_millis(10)), Err(Status::TIMED_OUT));
    /// # Ok::<(), Status>(())
    /// ```
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

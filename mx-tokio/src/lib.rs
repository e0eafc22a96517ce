//! Magenta sockets and handles in tokio.
//!
//! - [`AsyncSocket`]: `tokio::io::AsyncRead` and `AsyncWrite` for stream
//!   sockets (`poll_shutdown` half-closes; `PEER_CLOSED` reads as end of
//!   file), [`AsyncSocket::send`] / [`AsyncSocket::recv`] for datagram
//!   sockets, [`split`](AsyncSocket::split) and
//!   [`into_split`](AsyncSocket::into_split) into a reading and a writing
//!   half, [`try_clone`](AsyncSocket::try_clone), and readiness:
//!   [`readable`](AsyncSocket::readable), [`writable`](AsyncSocket::writable),
//!   [`poll_read_ready`](AsyncSocket::poll_read_ready),
//!   [`poll_write_ready`](AsyncSocket::poll_write_ready), with the
//!   non-blocking [`try_read`](AsyncSocket::try_read) and
//!   [`try_write`](AsyncSocket::try_write).
//! - [`AsyncChannel`]: `recv_msg`, `send_msg`, `call` and `readable` for
//!   channel ends.
//! - [`OnSignals`]: a future that resolves when any of some signals is
//!   asserted on any handle, with the signals observed.
//! - [`with_deadline`]: any of these with a deadline (a `Duration` or an
//!   `mx::Time`), ending in `TIMED_OUT` as the blocking calls do.
//!
//! The names are tokio's: `try_*` never waits, `readable().await` waits
//! until `try_read` is worth calling, `split` borrows and `into_split`
//! shares the socket between two owned halves (through an `Arc`, with no
//! lock: reading and writing never contend).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use mx::api::{Socket, SocketOpts};
//! use mx_tokio::AsyncSocket;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let (a, b) = Socket::create(SocketOpts::Stream)?;
//! let (mut a, mut b) = (AsyncSocket::new(a), AsyncSocket::new(b));
//! let echo = tokio::spawn(async move {
//!     let (mut rx, mut tx) = b.split();
//!     tokio::io::copy(&mut rx, &mut tx).await?; // until end of file
//!     tx.shutdown().await                       // half-close: a reads end of file
//! });
//! a.write_all(b"hello").await?;
//! a.shutdown().await?;
//! let mut echoed = String::new();
//! a.read_to_string(&mut echoed).await?;
//! assert_eq!(echoed, "hello");
//! echo.await.unwrap()?;
//! # Ok(())
//! # }
//! ```
//!
//! # How waiting works
//!
//! A pending operation registers the task's waker directly on the object's
//! signal state ([`mx::sys::ext::object_wait_waker`]), as one more observer: no
//! thread, file descriptor or timer per socket, and any number of tasks and
//! blocking threads may wait on the same object at once. The registration
//! is renewed on every `Pending` and removed when the future (or socket) is
//! dropped. A datagram sender waits for room for its whole datagram, not
//! merely for `WRITABLE`.
//!
//! Readers wait for `READABLE` or `PEER_CLOSED` (data, or end of file);
//! writers wait for room for their next byte or whole datagram, or for a
//! write that would fail ([`mx::sys::ext::Wanted::Room`]), never for a signal: a
//! writer whose peer half-closed (so `PEER_CLOSED` is asserted while the
//! peer can still read) sleeps until the peer reads. `mx::sys`'s `wait`
//! module docs list every waiting path and why it sleeps; `tests/asleep.rs`
//! checks each one on both the `current_thread` and the multi-thread
//! runtime. A wait whose handle is closed by another thread ends with
//! `CANCELED`.
//!
//! Operations only consume data when they return `Ready`, so dropping a
//! pending read or write future loses nothing (they are cancel-safe). Every
//! operation takes part in tokio's cooperative budget: a socket that is
//! always ready still yields to other tasks.
//!
//! # Timeouts
//!
//! The async calls take no deadline: wrap any of them in [`with_deadline`]
//! (`TIMED_OUT`, like the blocking calls of `mx::api`), or in
//! `tokio::time::timeout`. Both need a runtime with its timer enabled
//! (`#[tokio::main]` and `Builder::enable_all` enable it). Since the
//! operations are cancel-safe, a timed-out read or receive loses nothing.
//!
//! # Errors
//!
//! Calls of this crate's own return `Result<_, Status>`, as `mx::api`
//! does; `AsyncRead` and `AsyncWrite` return `io::Error`s made from the
//! status with `Status::io_kind`'s one mapping (a write to a closed peer,
//! or after this end's half-close, is `BrokenPipe`), and carrying it.

use std::error::Error;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use mx::api::{AsHandleRef, Channel, Deadline, Handle, HandleBased, HandleRef, MessageBuf, Socket};
use mx::core::socket::SOCKET_CAPACITY;
use mx::sys::ext::{self, WakerRegistration, WakerWait, Wanted};
use mx::sys::CallError;
use mx::{Rights, Signals, Status, Time, TimeExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::coop;

/// What a reader waits for: data, or end of file.
const READ_READY: Wanted = Wanted::Signals(Signals::READABLE.union(Signals::PEER_CLOSED));
/// What a stream writer waits for: room for one byte, or a write that
/// would fail.
const WRITE_READY: Wanted = Wanted::Room(1);

/// Registers the task on `handle` for `wanted` unless that already holds:
/// `Ready(())` means "try again now".
fn wait_for(
    handle: HandleRef<'_>,
    wanted: Wanted,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Status>> {
    // Dropping the previous registration first keeps one per waiter.
    *slot = None;
    match ext::object_wait_waker(handle.raw_handle(), wanted, cx.waker()) {
        Ok(WakerRegistration::Ready(_)) => Poll::Ready(Ok(())),
        Ok(WakerRegistration::Waiting(wait)) => {
            *slot = Some(wait);
            Poll::Pending
        }
        Err(status) => Poll::Ready(Err(status)),
    }
}

/// Ends a wait that `slot` may hold and passes on `result`: a handle closed
/// while the task waited through it (the retry finds it gone) is `CANCELED`,
/// as for a blocking wait.
fn finish_wait<T>(slot: &mut Option<WakerWait>, result: Result<T, Status>) -> Result<T, Status> {
    let waited = slot.take().is_some();
    match result {
        Err(Status::BAD_HANDLE) if waited => Err(Status::CANCELED),
        other => other,
    }
}

/// Polls for readiness: `Ready(Ok(()))` once `wanted` holds, with the task
/// registered in `slot` until then.
fn poll_ready(
    handle: HandleRef<'_>,
    wanted: Wanted,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Status>> {
    let coop = ready!(coop::poll_proceed(cx));
    let waited = slot.is_some();
    match ready!(wait_for(handle, wanted, slot, cx)) {
        Ok(()) => {
            coop.made_progress();
            Poll::Ready(Ok(()))
        }
        Err(Status::BAD_HANDLE) if waited => Poll::Ready(Err(Status::CANCELED)),
        Err(status) => Poll::Ready(Err(status)),
    }
}

/// Polls a read of up to `buf.len()` bytes (one datagram on a datagram
/// socket, truncated to `buf`). `Ready(Err(PEER_CLOSED))` once the peer
/// is done writing and everything was read.
fn poll_read_bytes(
    socket: &Socket,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<Result<usize, Status>> {
    let coop = ready!(coop::poll_proceed(cx));
    loop {
        match socket.try_read(buf) {
            Err(Status::SHOULD_WAIT) => {
                ready!(wait_for(socket.as_handle_ref(), READ_READY, slot, cx))?;
            }
            result => {
                coop.made_progress();
                return Poll::Ready(finish_wait(slot, result));
            }
        }
    }
}

/// Polls a write of `buf`: a stream write may be short; a datagram is
/// written whole, waiting for room for all of it.
fn poll_write_bytes(
    socket: &Socket,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<Result<usize, Status>> {
    let coop = ready!(coop::poll_proceed(cx));
    loop {
        match socket.try_write(buf) {
            Err(Status::SHOULD_WAIT) => {
                let datagram = ext::socket_is_datagram(socket.raw_handle())?;
                if datagram && buf.len() > SOCKET_CAPACITY {
                    return Poll::Ready(Err(Status::OUT_OF_RANGE));
                }
                // Room for the whole datagram, or for one byte of a
                // stream; a write that would fail (peer closed, or this
                // end half-closed elsewhere) also wakes the task.
                let room = if datagram { buf.len() } else { 1 };
                ready!(wait_for(
                    socket.as_handle_ref(),
                    Wanted::Room(room),
                    slot,
                    cx
                ))?;
            }
            result => {
                coop.made_progress();
                return Poll::Ready(finish_wait(slot, result));
            }
        }
    }
}

/// `AsyncRead::poll_read` on `socket`: `PEER_CLOSED` is end of file.
fn poll_read_into(
    socket: &Socket,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if buf.remaining() == 0 {
        return Poll::Ready(Ok(()));
    }
    match ready!(poll_read_bytes(socket, slot, cx, buf.initialize_unfilled())) {
        Ok(n) => {
            buf.advance(n);
            Poll::Ready(Ok(()))
        }
        // End of file.
        Err(Status::PEER_CLOSED) => Poll::Ready(Ok(())),
        Err(status) => Poll::Ready(Err(status.into())),
    }
}

/// `AsyncWrite::poll_write` on `socket`.
fn poll_write_from(
    socket: &Socket,
    slot: &mut Option<WakerWait>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if buf.is_empty() {
        return Poll::Ready(Ok(0));
    }
    poll_write_bytes(socket, slot, cx, buf).map_err(io::Error::from)
}

/// `AsyncWrite::poll_shutdown` on `socket`: half-closes it; succeeds if the
/// peer is already gone (nothing is left to shut).
fn shutdown(socket: &Socket) -> Poll<io::Result<()>> {
    match socket.half_close() {
        Ok(()) | Err(Status::PEER_CLOSED) => Poll::Ready(Ok(())),
        Err(status) => Poll::Ready(Err(status.into())),
    }
}

/// Receives into `buf`, waiting for something to read.
async fn recv_from(socket: &Socket, buf: &mut [u8]) -> Result<usize, Status> {
    let mut slot = None;
    poll_fn(|cx| poll_read_bytes(socket, &mut slot, cx, buf)).await
}

/// Sends all of `buf`, waiting for room.
async fn send_to(socket: &Socket, buf: &[u8]) -> Result<(), Status> {
    let mut slot = None;
    let mut sent = 0;
    while sent < buf.len() {
        sent += poll_fn(|cx| poll_write_bytes(socket, &mut slot, cx, &buf[sent..])).await?;
    }
    Ok(())
}

/// Waits until `wanted` holds on `handle`.
async fn ready_for(handle: HandleRef<'_>, wanted: Wanted) -> Result<(), Status> {
    let mut slot = None;
    poll_fn(|cx| poll_ready(handle, wanted, &mut slot, cx)).await
}

/// A socket driven by tokio.
///
/// - Streams: `AsyncRead` (`PEER_CLOSED` is end of file) and `AsyncWrite`
///   (writes may be short; `shutdown` half-closes the socket).
/// - Datagrams: [`AsyncSocket::send`] writes one whole datagram, waiting
///   for room for all of it; [`AsyncSocket::recv`] reads one. (`AsyncRead`
///   and `AsyncWrite` work on datagram sockets too, as `std::io` does for
///   `mx::api::Socket`: a write is one datagram, and a read returns one
///   datagram cut to the buffer, so `read_to_end` and `read_exact`, which
///   read into small or partial buffers, would lose the rest of a
///   datagram. Read datagrams with `recv` and a buffer as large as the
///   largest one.)
/// - Halves: [`split`](AsyncSocket::split) borrows a reading and a writing
///   half, [`into_split`](AsyncSocket::into_split) gives owned ones to move
///   into two tasks. Neither takes a lock: a socket's two directions are
///   independent.
/// - Readiness: [`readable`](AsyncSocket::readable) and
///   [`writable`](AsyncSocket::writable) wait until
///   [`try_read`](AsyncSocket::try_read) or
///   [`try_write`](AsyncSocket::try_write) is worth calling.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mx::Status> {
/// use mx::api::{Socket, SocketOpts};
/// use mx_tokio::AsyncSocket;
///
/// let (a, b) = Socket::create(SocketOpts::Datagram)?;
/// let (a, b) = (AsyncSocket::new(a), AsyncSocket::new(b));
/// a.send(b"one datagram").await?;
/// let mut buf = [0u8; 64];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"one datagram");
/// drop(a);
/// assert_eq!(b.recv(&mut buf).await, Err(mx::Status::PEER_CLOSED));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncSocket {
    socket: Socket,
    /// The reader's registration while a read is pending.
    reading: Option<WakerWait>,
    /// The writer's registration while a write is pending.
    writing: Option<WakerWait>,
}

impl AsyncSocket {
    /// Wraps a socket (stream or datagram). Nothing is registered until an
    /// operation waits, so this cannot fail; a handle that is not a socket
    /// fails at its first operation (`WRONG_TYPE`).
    pub fn new(socket: Socket) -> AsyncSocket {
        AsyncSocket {
            socket,
            reading: None,
            writing: None,
        }
    }

    /// The socket.
    pub fn get_ref(&self) -> &Socket {
        &self.socket
    }

    /// Unwraps the socket.
    pub fn into_inner(self) -> Socket {
        self.socket
    }

    /// Another `AsyncSocket` on a duplicate handle to the same socket end
    /// (`mx_handle_duplicate` with the same rights), with its own
    /// registrations. Both may read and write; concurrent readers each get
    /// different bytes (whole datagrams on a datagram socket).
    ///
    /// # Errors
    /// `ACCESS_DENIED` (the handle lacks `DUPLICATE`), `NO_MEMORY`, and the
    /// other errors of `mx::sys::handle_duplicate`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mx::Status> {
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    ///
    /// let (a, b) = Socket::create(SocketOpts::Datagram)?;
    /// let a = AsyncSocket::new(a);
    /// let a2 = a.try_clone()?;
    /// tokio::spawn(async move { a2.send(b"from a task").await }).await.unwrap()?;
    /// let mut buf = [0u8; 16];
    /// assert_eq!(b.try_read(&mut buf)?, 11);
    /// # drop(a);
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_clone(&self) -> Result<AsyncSocket, Status> {
        self.socket
            .duplicate_handle(Rights::SAME_RIGHTS)
            .map(AsyncSocket::new)
    }

    /// Borrows a reading half and a writing half, for use at the same time
    /// (`tokio::io::copy(&mut rx, &mut tx)`, or `select!` over a read and a
    /// write). No lock and no allocation: each half keeps its own
    /// registration, and the socket's two directions are independent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// let mut a = AsyncSocket::new(a);
    /// b.try_write(b"request")?;
    /// let (mut rx, mut tx) = a.split();
    /// let mut request = [0u8; 7];
    /// let (read, wrote) = tokio::join!(rx.read_exact(&mut request), tx.write_all(b"reply"));
    /// read?;
    /// wrote?;
    /// assert_eq!(&request, b"request");
    /// # Ok(())
    /// # }
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        let AsyncSocket {
            socket,
            reading,
            writing,
        } = self;
        (
            ReadHalf {
                socket,
                slot: reading,
            },
            WriteHalf {
                socket,
                slot: writing,
            },
        )
    }

    /// Splits into owned halves that can move into different tasks; they
    /// share the socket through an `Arc`, with no lock. Dropping the
    /// writing half half-closes the socket (the peer reads end of file), as
    /// tokio's `OwnedWriteHalf` shuts down its stream; see
    /// [`OwnedWriteHalf::forget`]. [`OwnedReadHalf::reunite`] puts them
    /// back together.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// let (mut rx, mut tx) = AsyncSocket::new(a).into_split();
    /// let writer = tokio::spawn(async move {
    ///     tx.write_all(b"to b").await
    ///     // Dropping `tx` half-closes: b reads end of file.
    /// });
    /// let mut b = AsyncSocket::new(b);
    /// let mut got = Vec::new();
    /// b.read_to_end(&mut got).await?;
    /// assert_eq!(got, b"to b");
    /// writer.await.unwrap()?;
    /// b.write_all(b"to a").await?;
    /// let mut back = [0u8; 4];
    /// rx.read_exact(&mut back).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let AsyncSocket {
            socket,
            reading,
            writing,
        } = self;
        let socket = Arc::new(socket);
        (
            OwnedReadHalf {
                socket: socket.clone(),
                slot: reading,
            },
            OwnedWriteHalf {
                socket,
                slot: writing,
                shutdown_on_drop: true,
            },
        )
    }

    /// Waits until the socket is readable: data is queued, or the peer is
    /// done writing (`READABLE` or `PEER_CLOSED`), so that a read returns
    /// something, end of file included. Any number of tasks may wait at
    /// once. Another reader may take the data first, so
    /// [`try_read`](AsyncSocket::try_read) can still give `SHOULD_WAIT`.
    ///
    /// # Errors
    /// `ACCESS_DENIED` (no `READ`), `CANCELED` (the handle was closed
    /// meanwhile), `BAD_HANDLE`, `NO_MEMORY`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mx::Status> {
    /// use mx::api::{Socket, SocketOpts};
    /// use mx::Status;
    /// use mx_tokio::AsyncSocket;
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// let b = AsyncSocket::new(b);
    /// tokio::spawn(async move { a.try_write(b"later") });
    /// let mut buf = [0u8; 16];
    /// let n = loop {
    ///     b.readable().await?;
    ///     match b.try_read(&mut buf) {
    ///         Err(Status::SHOULD_WAIT) => continue,
    ///         other => break other?,
    ///     }
    /// };
    /// assert_eq!(&buf[..n], b"later");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn readable(&self) -> Result<(), Status> {
        ready_for(self.socket.as_handle_ref(), READ_READY).await
    }

    /// Waits until the socket is writable: there is room for at least one
    /// byte, or a write would fail (the peer closed, or this end was
    /// half-closed). Unlike the `WRITABLE` signal, this is not fooled by
    /// `PEER_CLOSED` after the peer's half-close. For a datagram, room for
    /// one byte may not be room for all of it: [`send`](AsyncSocket::send)
    /// waits for that.
    ///
    /// # Errors
    /// `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`, `CANCELED`,
    /// `BAD_HANDLE`, `NO_MEMORY`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mx::Status> {
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    ///
    /// let (a, _b) = Socket::create(SocketOpts::Stream)?;
    /// let a = AsyncSocket::new(a);
    /// a.writable().await?;
    /// assert_eq!(a.try_write(b"fits")?, 4);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn writable(&self) -> Result<(), Status> {
        ready_for(self.socket.as_handle_ref(), WRITE_READY).await
    }

    /// Polls for read readiness (as [`readable`](AsyncSocket::readable)),
    /// for code that implements its own futures or streams. The
    /// registration is kept in the socket, the one `AsyncRead` uses: with
    /// no lock, that takes `&mut self`, and only the last task to poll is
    /// woken. Tasks that share a socket use `readable().await`.
    ///
    /// # Errors
    /// As [`readable`](AsyncSocket::readable).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mx::Status> {
    /// use std::future::poll_fn;
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// let mut b = AsyncSocket::new(b);
    /// drop(a);
    /// poll_fn(|cx| b.poll_read_ready(cx)).await?; // end of file is ready
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        poll_ready(
            self.socket.as_handle_ref(),
            READ_READY,
            &mut self.reading,
            cx,
        )
    }

    /// Polls for write readiness (as [`writable`](AsyncSocket::writable)),
    /// with the registration kept in the socket (the one `AsyncWrite`
    /// uses), as [`poll_read_ready`](AsyncSocket::poll_read_ready).
    ///
    /// # Errors
    /// As [`writable`](AsyncSocket::writable).
    pub fn poll_write_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        poll_ready(
            self.socket.as_handle_ref(),
            WRITE_READY,
            &mut self.writing,
            cx,
        )
    }

    /// Reads without waiting (`mx::api::Socket::try_read`).
    ///
    /// # Errors
    /// `SHOULD_WAIT` (nothing to read yet), `PEER_CLOSED` (the peer is done
    /// and everything was read), and the handle errors.
    pub fn try_read(&self, buf: &mut [u8]) -> Result<usize, Status> {
        self.socket.try_read(buf)
    }

    /// Writes without waiting (`mx::api::Socket::try_write`); a stream
    /// write may be short.
    ///
    /// # Errors
    /// `SHOULD_WAIT` (no room, or a datagram that does not fit),
    /// `PEER_CLOSED`, `BAD_STATE` (this end was half-closed), and the
    /// handle errors.
    pub fn try_write(&self, buf: &[u8]) -> Result<usize, Status> {
        self.socket.try_write(buf)
    }

    /// Receives one datagram (or, on a stream socket, some bytes), waiting
    /// for one. Cancel-safe.
    ///
    /// # Errors
    /// `PEER_CLOSED` once the peer is done writing and everything was read;
    /// the handle errors of `mx::sys::socket_read`.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, Status> {
        recv_from(&self.socket, buf).await
    }

    /// Sends one whole datagram, waiting for room for all of it (on a stream
    /// socket: all of `buf`, perhaps in several writes, so a stream `send`
    /// dropped midway may have sent part).
    ///
    /// # Errors
    /// `OUT_OF_RANGE` for a datagram longer than the socket's capacity;
    /// `PEER_CLOSED`, `BAD_STATE` and the handle errors of
    /// `mx::sys::socket_write`.
    pub async fn send(&self, buf: &[u8]) -> Result<(), Status> {
        send_to(&self.socket, buf).await
    }
}

impl AsyncRead for AsyncSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        poll_read_into(&this.socket, &mut this.reading, cx, buf)
    }
}

impl AsyncWrite for AsyncSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        poll_write_from(&this.socket, &mut this.writing, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-closes the socket: the peer reads what was written, then end of
    /// file. Succeeds if the peer is already gone (nothing is left to shut).
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        shutdown(&self.socket)
    }
}

/// The reading half of an [`AsyncSocket`], borrowed by
/// [`AsyncSocket::split`]: `AsyncRead`, `recv`, `readable`, `try_read`.
#[derive(Debug)]
pub struct ReadHalf<'a> {
    socket: &'a Socket,
    slot: &'a mut Option<WakerWait>,
}

/// The writing half of an [`AsyncSocket`], borrowed by
/// [`AsyncSocket::split`]: `AsyncWrite` (`shutdown` half-closes the
/// socket), `send`, `writable`, `try_write`.
#[derive(Debug)]
pub struct WriteHalf<'a> {
    socket: &'a Socket,
    slot: &'a mut Option<WakerWait>,
}

/// The reading half of an [`AsyncSocket`], owned, from
/// [`AsyncSocket::into_split`]: `AsyncRead`, `recv`, `readable`,
/// `try_read`.
#[derive(Debug)]
pub struct OwnedReadHalf {
    socket: Arc<Socket>,
    slot: Option<WakerWait>,
}

/// The writing half of an [`AsyncSocket`], owned, from
/// [`AsyncSocket::into_split`]: `AsyncWrite`, `send`, `writable`,
/// `try_write`. Dropping it half-closes the socket (unless
/// [`forget`](OwnedWriteHalf::forget) drops it).
#[derive(Debug)]
pub struct OwnedWriteHalf {
    socket: Arc<Socket>,
    slot: Option<WakerWait>,
    shutdown_on_drop: bool,
}

/// Implements the reading half's methods for a type with fields `socket`
/// (derefs to `Socket`) and `slot` (derefs to `Option<WakerWait>`).
macro_rules! reader {
    ($type:ty) => {
        impl $type {
            /// The socket.
            pub fn get_ref(&self) -> &Socket {
                &self.socket
            }

            /// As [`AsyncSocket::readable`].
            ///
            /// # Errors
            /// As [`AsyncSocket::readable`].
            pub async fn readable(&self) -> Result<(), Status> {
                ready_for(self.socket.as_handle_ref(), READ_READY).await
            }

            /// As [`AsyncSocket::poll_read_ready`].
            ///
            /// # Errors
            /// As [`AsyncSocket::readable`].
            pub fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
                poll_ready(self.socket.as_handle_ref(), READ_READY, &mut self.slot, cx)
            }

            /// As [`AsyncSocket::try_read`].
            ///
            /// # Errors
            /// As [`AsyncSocket::try_read`].
            pub fn try_read(&self, buf: &mut [u8]) -> Result<usize, Status> {
                self.socket.try_read(buf)
            }

            /// As [`AsyncSocket::recv`].
            ///
            /// # Errors
            /// As [`AsyncSocket::recv`].
            pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, Status> {
                recv_from(&self.socket, buf).await
            }
        }

        impl AsyncRead for $type {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                let this = self.get_mut();
                poll_read_into(&this.socket, &mut this.slot, cx, buf)
            }
        }
    };
}

/// Implements the writing half's methods, as [`reader`].
macro_rules! writer {
    ($type:ty) => {
        impl $type {
            /// The socket.
            pub fn get_ref(&self) -> &Socket {
                &self.socket
            }

            /// As [`AsyncSocket::writable`].
            ///
            /// # Errors
            /// As [`AsyncSocket::writable`].
            pub async fn writable(&self) -> Result<(), Status> {
                ready_for(self.socket.as_handle_ref(), WRITE_READY).await
            }

            /// As [`AsyncSocket::poll_write_ready`].
            ///
            /// # Errors
            /// As [`AsyncSocket::writable`].
            pub fn poll_write_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
                poll_ready(self.socket.as_handle_ref(), WRITE_READY, &mut self.slot, cx)
            }

            /// As [`AsyncSocket::try_write`].
            ///
            /// # Errors
            /// As [`AsyncSocket::try_write`].
            pub fn try_write(&self, buf: &[u8]) -> Result<usize, Status> {
                self.socket.try_write(buf)
            }

            /// As [`AsyncSocket::send`].
            ///
            /// # Errors
            /// As [`AsyncSocket::send`].
            pub async fn send(&self, buf: &[u8]) -> Result<(), Status> {
                send_to(&self.socket, buf).await
            }
        }

        impl AsyncWrite for $type {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let this = self.get_mut();
                poll_write_from(&this.socket, &mut this.slot, cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Half-closes the socket, as [`AsyncSocket`]'s `poll_shutdown`.
            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                shutdown(&self.socket)
            }
        }
    };
}

reader!(ReadHalf<'_>);
writer!(WriteHalf<'_>);
reader!(OwnedReadHalf);
writer!(OwnedWriteHalf);

impl OwnedReadHalf {
    /// Puts the halves of one [`AsyncSocket::into_split`] back together
    /// (the writing half is not half-closed).
    ///
    /// # Errors
    /// [`ReuniteError`], holding both halves, if they come from different
    /// sockets.
    ///
    /// ```
    /// use mx::api::{Socket, SocketOpts};
    /// use mx_tokio::AsyncSocket;
    ///
    /// let (a, _b) = Socket::create(SocketOpts::Stream)?;
    /// let (rx, tx) = AsyncSocket::new(a).into_split();
    /// let a = rx.reunite(tx).expect("the halves of one socket");
    /// assert_eq!(a.try_write(b"still open")?, 10);
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<AsyncSocket, ReuniteError> {
        if !Arc::ptr_eq(&self.socket, &other.socket) {
            return Err(ReuniteError(self, other));
        }
        other.forget();
        let socket = match Arc::try_unwrap(self.socket) {
            Ok(socket) => socket,
            Err(_) => unreachable!("the two halves hold the only references"),
        };
        Ok(AsyncSocket {
            socket,
            reading: self.slot,
            writing: None,
        })
    }
}

impl OwnedWriteHalf {
    /// Drops the writing half without half-closing the socket.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Already half-closed, or the peer gone: nothing to do.
            let _ = self.socket.half_close();
        }
    }
}

/// [`OwnedReadHalf::reunite`] was given halves of two different sockets;
/// here they are back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl Error for ReuniteError {}

/// A channel end driven by tokio: messages are received without blocking
/// a thread, and calls wait for their replies as tasks.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mx::Status> {
/// use mx::api::{Channel, MessageBuf};
/// use mx_tokio::AsyncChannel;
///
/// let (a, b) = Channel::create()?;
/// let (a, b) = (AsyncChannel::new(a), AsyncChannel::new(b));
/// let server = tokio::spawn(async move {
///     let mut buf = MessageBuf::new();
///     b.recv_msg(&mut buf).await?;
///     // Echo the request, transaction id included, as the reply.
///     b.send_msg(buf.bytes(), &mut Vec::new())
/// });
/// let mut reply = MessageBuf::with_max_capacity()?;
/// let request = [7, 0, 0, 0, b'h', b'i'];
/// a.call(&request, &mut Vec::new(), &mut reply).await.map_err(|e| e.status)?;
/// assert_eq!(reply.bytes(), request);
/// server.await.unwrap()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncChannel {
    channel: Channel,
    /// The registration of [`AsyncChannel::poll_read_ready`].
    reading: Option<WakerWait>,
}

impl AsyncChannel {
    /// Wraps a channel end.
    pub fn new(channel: Channel) -> AsyncChannel {
        AsyncChannel {
            channel,
            reading: None,
        }
    }

    /// The channel end.
    pub fn get_ref(&self) -> &Channel {
        &self.channel
    }

    /// Unwraps the channel end.
    pub fn into_inner(self) -> Channel {
        self.channel
    }

    /// Receives the next message into `buf` (growing it as needed), waiting
    /// for one. Cancel-safe: a message is taken only when this returns.
    ///
    /// # Errors
    /// `PEER_CLOSED` once the peer closed and every message was read;
    /// `NO_MEMORY`; the handle errors of `mx::sys::channel_read`.
    pub async fn recv_msg(&self, buf: &mut MessageBuf) -> Result<(), Status> {
        let mut slot = None;
        poll_fn(|cx| {
            let coop = ready!(coop::poll_proceed(cx));
            loop {
                match self.channel.try_read(buf) {
                    Err(Status::SHOULD_WAIT) => {
                        ready!(wait_for(
                            self.channel.as_handle_ref(),
                            READ_READY,
                            &mut slot,
                            cx
                        ))?;
                    }
                    result => {
                        coop.made_progress();
                        return Poll::Ready(finish_wait(&mut slot, result));
                    }
                }
            }
        })
        .await
    }

    /// Reads the first queued message into `buf` without waiting
    /// (`mx::api::Channel::try_read`).
    ///
    /// # Errors
    /// `SHOULD_WAIT` (nothing queued), `PEER_CLOSED` (nothing queued and
    /// the peer closed), `NO_MEMORY`, and the handle errors.
    pub fn try_read(&self, buf: &mut MessageBuf) -> Result<(), Status> {
        self.channel.try_read(buf)
    }

    /// Waits until a message is queued or the peer closed (`READABLE` or
    /// `PEER_CLOSED`), so that [`try_read`](AsyncChannel::try_read) returns
    /// a message or `PEER_CLOSED` (unless another reader is faster).
    ///
    /// # Errors
    /// `CANCELED` (the handle was closed meanwhile), `BAD_HANDLE`,
    /// `ACCESS_DENIED`, `NO_MEMORY`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mx::Status> {
    /// use mx::api::{Channel, MessageBuf};
    /// use mx_tokio::AsyncChannel;
    ///
    /// let (a, b) = Channel::create()?;
    /// let b = AsyncChannel::new(b);
    /// a.write(b"hi", &mut Vec::new())?;
    /// b.readable().await?;
    /// let mut buf = MessageBuf::new();
    /// b.try_read(&mut buf)?;
    /// assert_eq!(buf.bytes(), b"hi");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn readable(&self) -> Result<(), Status> {
        ready_for(self.channel.as_handle_ref(), READ_READY).await
    }

    /// Polls for read readiness (as [`readable`](AsyncChannel::readable)),
    /// with the registration kept in `self`: only the last task to poll is
    /// woken.
    ///
    /// # Errors
    /// As [`readable`](AsyncChannel::readable).
    pub fn poll_read_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        poll_ready(
            self.channel.as_handle_ref(),
            READ_READY,
            &mut self.reading,
            cx,
        )
    }

    /// Sends a message (a channel write never waits: its queue has no
    /// limit). As `mx::api::Channel::write`: on success `handles` is empty.
    ///
    /// # Errors
    /// As `mx::api::Channel::write`.
    pub fn send_msg(&self, bytes: &[u8], handles: &mut Vec<Handle>) -> Result<(), Status> {
        self.channel.write(bytes, handles)
    }

    /// `mx_channel_call` as a task: writes the message, then waits for the
    /// reply with the same transaction id without blocking a thread, and
    /// reads it into `buf` (which must be large enough). Dropping the
    /// future gives the call up; a reply that arrives is then queued as an
    /// ordinary message. For a deadline, wrap it in [`with_deadline`].
    ///
    /// # Errors
    /// As `mx::api::Channel::call`.
    pub async fn call(
        &self,
        bytes: &[u8],
        handles: &mut Vec<Handle>,
        buf: &mut MessageBuf,
    ) -> Result<(), CallError> {
        let waker = poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        let mut call = self.channel.call_start(bytes, handles, &waker)?;
        poll_fn(|cx| call.poll_reply(cx.waker(), buf)).await
    }
}

/// A future that resolves when any of `signals` is asserted on a handle,
/// with the signals seen then: the async form of
/// `AsHandleRef::wait_handle`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mx::Status> {
/// use mx::api::{AsHandleRef, Event};
/// use mx::Signals;
/// use mx_tokio::OnSignals;
///
/// let event = Event::create()?;
/// event.signal_handle(Signals::NONE, Signals::USER_0)?;
/// let seen = OnSignals::new(&event, Signals::USER_0 | Signals::USER_1).await?;
/// assert!(seen.contains(Signals::USER_0));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct OnSignals<'a> {
    handle: HandleRef<'a>,
    signals: Signals,
    registration: Option<WakerWait>,
}

impl<'a> OnSignals<'a> {
    /// Waits on `handle` (which needs `READ`) for any of `signals`.
    pub fn new(handle: &'a impl AsHandleRef, signals: Signals) -> OnSignals<'a> {
        OnSignals {
            handle: handle.as_handle_ref(),
            signals,
            registration: None,
        }
    }
}

impl Future for OnSignals<'_> {
    type Output = Result<Signals, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let coop = ready!(coop::poll_proceed(cx));
        this.registration = None;
        match ext::object_wait_waker(
            this.handle.raw_handle(),
            Wanted::Signals(this.signals),
            cx.waker(),
        ) {
            Ok(WakerRegistration::Ready(signals)) => {
                coop.made_progress();
                Poll::Ready(Ok(signals))
            }
            Ok(WakerRegistration::Waiting(wait)) => {
                this.registration = Some(wait);
                Poll::Pending
            }
            Err(status) => Poll::Ready(Err(status)),
        }
    }
}

/// Runs `future` until `deadline`: a `std::time::Duration` from now, an
/// `mx::Time` on the monotonic clock or a `std::time::Instant` (anything
/// that converts into `mx::api::Deadline`, as for the blocking calls). If
/// the deadline passes first, the future is dropped and the result is
/// `TIMED_OUT` (for an `io::Error`, of kind `TimedOut`). A deadline that
/// has passed already polls the future once; `Time::INFINITE` just awaits
/// it, with no timer.
///
/// The operations of this crate are cancel-safe, so a read or receive that
/// times out loses nothing; a timed-out [`AsyncChannel::call`] is given up
/// as the blocking call's `TIMED_OUT` is (a late reply is queued as an
/// ordinary message).
///
/// # Errors
/// `TIMED_OUT`, or the future's own error.
///
/// # Panics
/// Unless the deadline is infinite, when the runtime's timer is not
/// enabled (`Builder::enable_time`), as `tokio::time::timeout` does.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), mx::Status> {
/// use std::time::Duration;
/// use mx::api::{Socket, SocketOpts};
/// use mx::Status;
/// use mx_tokio::{with_deadline, AsyncSocket};
///
/// let (_a, b) = Socket::create(SocketOpts::Datagram)?;
/// let b = AsyncSocket::new(b);
/// let mut buf = [0u8; 16];
/// let got = with_deadline(Duration::from_millis(10), b.recv(&mut buf)).await;
/// assert_eq!(got, Err(Status::TIMED_OUT));
/// # Ok(())
/// # }
/// ```
pub async fn with_deadline<F, T, E>(deadline: impl Into<Deadline>, future: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
    E: From<Status>,
{
    let deadline = deadline.into().to_time();
    match deadline.remaining_since(Time::now()) {
        None => future.await,
        Some(left) => tokio::time::timeout(left, future)
            .await
            .unwrap_or_else(|_| Err(Status::TIMED_OUT.into())),
    }
}

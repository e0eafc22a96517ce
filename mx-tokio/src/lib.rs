//! Magenta sockets and handles in tokio.
//!
//! - [`AsyncSocket`]: `tokio::io::AsyncRead` and `AsyncWrite` for stream
//!   sockets (`poll_shutdown` half-closes; `PEER_CLOSED` reads as end of
//!   file), and [`AsyncSocket::send`] / [`AsyncSocket::recv`] for datagram
//!   sockets.
//! - [`AsyncChannel`]: `recv_msg`, `send_msg` and `call` for channel ends.
//! - [`OnSignals`]: a future that resolves when any of some signals is
//!   asserted on any handle, with the signals observed.
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

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use mx::api::{AsHandleRef, Channel, Handle, HandleRef, MessageBuf, Socket};
use mx::core::socket::SOCKET_CAPACITY;
use mx::sys::ext::{self, WakerRegistration, WakerWait, Wanted};
use mx::sys::CallError;
use mx::{Signals, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::coop;

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

/// A socket driven by tokio.
#[derive(Debug)]
pub struct AsyncSocket {
    socket: Socket,
    /// The reader's registration while a read is pending.
    reading: Option<WakerWait>,
    /// The writer's registration while a write is pending.
    writing: Option<WakerWait>,
}

impl AsyncSocket {
    /// Wraps a socket (stream or datagram).
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
                    ready!(wait_for(
                        socket.as_handle_ref(),
                        Wanted::Signals(Signals::READABLE | Signals::PEER_CLOSED),
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

    /// Receives one datagram (or, on a stream socket, some bytes).
    ///
    /// # Errors
    /// `PEER_CLOSED` once the peer is done writing and everything was read;
    /// the handle errors of `mx::sys::socket_read`.
    pub async fn recv(&self, buf: &mut [u8]) -> Result<usize, Status> {
        let mut slot = None;
        std::future::poll_fn(|cx| Self::poll_read_bytes(&self.socket, &mut slot, cx, buf)).await
    }

    /// Sends one whole datagram, waiting for room for all of it (on a stream
    /// socket: all of `buf`).
    ///
    /// # Errors
    /// `OUT_OF_RANGE` for a datagram longer than the socket's capacity;
    /// `PEER_CLOSED`, `BAD_STATE` and the handle errors of
    /// `mx::sys::socket_write`.
    pub async fn send(&self, buf: &[u8]) -> Result<(), Status> {
        let mut slot = None;
        let mut sent = 0;
        while sent < buf.len() {
            sent += std::future::poll_fn(|cx| {
                Self::poll_write_bytes(&self.socket, &mut slot, cx, &buf[sent..])
            })
            .await?;
        }
        Ok(())
    }
}

impl AsyncRead for AsyncSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let unfilled = buf.initialize_unfilled();
        match ready!(Self::poll_read_bytes(
            &this.socket,
            &mut this.reading,
            cx,
            unfilled
        )) {
            Ok(n) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            // End of file.
            Err(Status::PEER_CLOSED) => Poll::Ready(Ok(())),
            Err(status) => Poll::Ready(Err(status.into())),
        }
    }
}

impl AsyncWrite for AsyncSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        Self::poll_write_bytes(&this.socket, &mut this.writing, cx, buf).map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Half-closes the socket: the peer reads what was written, then end of
    /// file. Succeeds if the peer is already gone (nothing is left to shut).
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.socket.half_close() {
            Ok(()) | Err(Status::PEER_CLOSED) => Poll::Ready(Ok(())),
            Err(status) => Poll::Ready(Err(status.into())),
        }
    }
}

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
}

impl AsyncChannel {
    /// Wraps a channel end.
    pub fn new(channel: Channel) -> AsyncChannel {
        AsyncChannel { channel }
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
        std::future::poll_fn(|cx| {
            let coop = ready!(coop::poll_proceed(cx));
            loop {
                match self.channel.try_read(buf) {
                    Err(Status::SHOULD_WAIT) => {
                        ready!(wait_for(
                            self.channel.as_handle_ref(),
                            Wanted::Signals(Signals::READABLE | Signals::PEER_CLOSED),
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
    /// ordinary message. For a deadline, wrap it in `tokio::time::timeout`.
    ///
    /// # Errors
    /// As `mx::api::Channel::call`.
    pub async fn call(
        &self,
        bytes: &[u8],
        handles: &mut Vec<Handle>,
        buf: &mut MessageBuf,
    ) -> Result<(), CallError> {
        let waker = std::future::poll_fn(|cx| Poll::Ready(cx.waker().clone())).await;
        let mut call = self.channel.call_start(bytes, handles, &waker)?;
        std::future::poll_fn(|cx| call.poll_reply(cx.waker(), buf)).await
    }
}

/// A future that resolves when any of `signals` is asserted on a handle,
/// with the signals seen then.
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

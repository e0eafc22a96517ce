//! [`Channel`]: a typed channel handle, messages of bytes and handles, and
//! [`MessageBuf`] to read them into.

use core::task::{Poll, Waker};

use smallvec::SmallVec;

use mx_core::channel::{MAX_MSG_BYTES, MAX_MSG_HANDLES};
use mx_core::storage::HandleSink;
use mx_core::{RawHandle, Signals, Status};
use mx_shm::storage::VecSink;

use super::{handle_type, AsHandleRef, Deadline, Handle, Peered};
use crate::sys::{self, ext, CallError};

/// One end of a channel: a connected pair of endpoints that carries
/// messages, each some bytes and some handles, delivered whole and in order.
///
/// Writing a message moves its handles out of this process's table into the
/// message; reading moves them into the reader's table, with the rights
/// they were sent with. This is how handles change owner.
///
/// Naming follows the safe-API convention: [`Channel::write`] never blocks
/// (a channel's queue has no length limit), [`Channel::try_read`] never
/// blocks, [`Channel::recv`] waits for a message, and [`Channel::call`]
/// writes and waits for the matching reply.
///
/// ```
/// use mx::api::{Channel, Event, Handle, HandleBased, MessageBuf};
///
/// let (a, b) = Channel::create()?;
/// let event = Event::create()?;
/// let mut handles = vec![event.into_handle()];
/// a.write(b"here is an event", &mut handles)?;
/// assert!(handles.is_empty(), "the handle moved into the message");
///
/// let mut buf = MessageBuf::new();
/// b.recv(&mut buf)?;
/// assert_eq!(buf.bytes(), b"here is an event");
/// let event: Event = buf.take_handle(0).unwrap().into();
/// # let _ = event;
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Channel(Handle);

handle_type!(Channel);

impl Peered for Channel {}

impl Channel {
    /// Creates a connected pair ([`sys::channel_create`]).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    #[doc(alias = "mx_channel_create")]
    pub fn create() -> Result<(Channel, Channel), Status> {
        let (a, b) = sys::channel_create(0)?;
        Ok((Channel(Handle::from_raw(a)), Channel(Handle::from_raw(b))))
    }

    /// Writes a message ([`sys::channel_write`]). On success the handles
    /// have moved into it and `handles` is empty; on failure they are all
    /// still in `handles`, unchanged.
    ///
    /// # Errors
    /// As [`sys::channel_write`]: `OUT_OF_RANGE` (over 65,536 bytes or 64
    /// handles), `ACCESS_DENIED` (a handle without `TRANSFER`),
    /// `NOT_SUPPORTED` (a handle to this very end), `PEER_CLOSED`, ...
    ///
    /// ```
    /// use mx::api::{Channel, Event, HandleBased};
    /// use mx::Status;
    ///
    /// let (a, b) = Channel::create()?;
    /// let mut handles = vec![Event::create()?.into_handle()];
    /// drop(b);
    /// assert_eq!(a.write(b"lost", &mut handles), Err(Status::PEER_CLOSED));
    /// assert_eq!(handles.len(), 1, "a failed write keeps the handles");
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_channel_write")]
    pub fn write(&self, bytes: &[u8], handles: &mut Vec<Handle>) -> Result<(), Status> {
        let raw = raw_values(handles)?;
        sys::channel_write(self.raw_handle(), 0, bytes, &raw[..])?;
        forget_all(handles);
        Ok(())
    }

    /// Reads the first queued message into `buf` without waiting, growing
    /// `buf` as needed (the message stays queued until `buf` is large
    /// enough, so an allocation failure loses nothing).
    ///
    /// # Errors
    /// `SHOULD_WAIT` (nothing queued), `PEER_CLOSED` (nothing queued and
    /// the peer closed), `NO_MEMORY`, and the handle errors of
    /// [`sys::channel_read`].
    ///
    /// ```
    /// use mx::api::{Channel, MessageBuf};
    /// use mx::Status;
    ///
    /// let (a, b) = Channel::create()?;
    /// let mut buf = MessageBuf::new();
    /// assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
    /// a.write(&[0u8; 1000], &mut Vec::new())?;
    /// b.try_read(&mut buf)?; // grows `buf` to fit
    /// assert_eq!(buf.bytes().len(), 1000);
    /// drop(a);
    /// assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_channel_read")]
    pub fn try_read(&self, buf: &mut MessageBuf) -> Result<(), Status> {
        loop {
            match self.try_read_raw(buf) {
                Ok(()) => return Ok(()),
                Err(ReadError::TooSmall { bytes, handles }) => {
                    buf.ensure_capacity_bytes(bytes)?;
                    buf.ensure_capacity_handles(handles)?;
                }
                Err(ReadError::Status(status)) => return Err(status),
            }
        }
    }

    /// Reads the first queued message into `buf`'s current capacity,
    /// without waiting or growing it.
    ///
    /// # Errors
    /// [`ReadError::TooSmall`] with the message's sizes (it stays queued);
    /// otherwise as [`Channel::try_read`].
    ///
    /// ```
    /// use mx::api::{Channel, MessageBuf, ReadError};
    ///
    /// let (a, b) = Channel::create()?;
    /// a.write(b"twelve bytes", &mut Vec::new())?;
    /// let mut buf = MessageBuf::new();
    /// assert_eq!(b.try_read_raw(&mut buf), Err(ReadError::TooSmall { bytes: 12, handles: 0 }));
    /// buf.ensure_capacity_bytes(12)?;
    /// b.try_read_raw(&mut buf).map_err(mx::Status::from)?;
    /// assert_eq!(buf.bytes(), b"twelve bytes");
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub fn try_read_raw(&self, buf: &mut MessageBuf) -> Result<(), ReadError> {
        buf.clear();
        let read = sys::channel_read(
            self.raw_handle(),
            0,
            &mut VecSink(&mut buf.bytes),
            &mut HandlesInto(&mut buf.handles),
        );
        match read {
            Ok(_) => Ok(()),
            Err(e) if e.status == Status::BUFFER_TOO_SMALL => {
                let (bytes, handles) = e.value.unwrap_or((0, 0));
                Err(ReadError::TooSmall {
                    bytes: bytes as usize,
                    handles: handles as usize,
                })
            }
            Err(e) => Err(ReadError::Status(e.status)),
        }
    }

    /// Waits until a message is queued (or the peer closed and none is),
    /// then reads it into `buf` as [`Channel::try_read`] does.
    ///
    /// # Errors
    /// `PEER_CLOSED` once the peer closed and every message was read;
    /// `NO_MEMORY`; `CANCELED` if another thread closed the handle
    /// meanwhile; the handle errors of [`sys::channel_read`].
    ///
    /// ```
    /// use mx::api::{Channel, MessageBuf};
    ///
    /// let (a, b) = Channel::create()?;
    /// std::thread::spawn(move || a.write(b"from a thread", &mut Vec::new()));
    /// let mut buf = MessageBuf::new();
    /// b.recv(&mut buf)?;
    /// assert_eq!(buf.bytes(), b"from a thread");
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub fn recv(&self, buf: &mut MessageBuf) -> Result<(), Status> {
        self.recv_deadline(buf, Deadline::INFINITE)
    }

    /// [`Channel::recv`] with a deadline: a `Duration` from now, a
    /// [`Time`](crate::Time) or an `Instant` ([`Deadline`]).
    ///
    /// # Errors
    /// As [`Channel::recv`], and `TIMED_OUT`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{Channel, MessageBuf};
    /// use mx::Status;
    ///
    /// let (_a, b) = Channel::create()?;
    /// let mut buf = MessageBuf::new();
    /// assert_eq!(b.recv_deadline(&mut buf, Duration::from_millis(5)), Err(Status::TIMED_OUT));
    /// # Ok::<(), Status>(())
    /// ```
    pub fn recv_deadline(
        &self,
        buf: &mut MessageBuf,
        deadline: impl Into<Deadline>,
    ) -> Result<(), Status> {
        let deadline = deadline.into().to_time();
        loop {
            match self.try_read(buf) {
                Err(Status::SHOULD_WAIT) => {
                    self.wait_handle(Signals::READABLE | Signals::PEER_CLOSED, deadline)?;
                }
                other => return other,
            }
        }
    }

    /// `mx_channel_call`: writes a message and waits until `deadline` for
    /// the reply whose transaction id (its first four bytes) matches, then
    /// reads it into `buf` (which must be large enough: a reply that does not
    /// fit is destroyed). `handles` behaves as for [`Channel::write`] when
    /// the message cannot be sent; once it is sent, they are gone.
    ///
    /// `deadline` is a `Duration` from now, a [`Time`](crate::Time) or an
    /// `Instant` ([`Deadline`]); a reply that comes after it is queued as an
    /// ordinary message.
    ///
    /// # Errors
    /// As [`sys::channel_call`]: the write's errors, `TIMED_OUT`, or
    /// `CALL_FAILED` with the read status.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{Channel, MessageBuf};
    ///
    /// let (client, server) = Channel::create()?;
    /// std::thread::spawn(move || -> Result<(), mx::Status> {
    ///     let mut request = MessageBuf::new();
    ///     server.recv(&mut request)?;
    ///     let mut reply = request.bytes()[..4].to_vec(); // the transaction id
    ///     reply.extend_from_slice(b"pong");
    ///     server.write(&reply, &mut Vec::new())
    /// });
    /// let mut reply = MessageBuf::with_max_capacity()?;
    /// let request = [1, 0, 0, 0, b'p', b'i', b'n', b'g'];
    /// client
    ///     .call(Duration::from_secs(10), &request, &mut Vec::new(), &mut reply)
    ///     .map_err(|e| e.status)?;
    /// assert_eq!(&reply.bytes()[4..], b"pong");
    /// # Ok::<(), mx::Status>(())
    /// ```
    #[doc(alias = "mx_channel_call")]
    pub fn call(
        &self,
        deadline: impl Into<Deadline>,
        bytes: &[u8],
        handles: &mut Vec<Handle>,
        buf: &mut MessageBuf,
    ) -> Result<(), CallError> {
        let raw = raw_values(handles)?;
        buf.clear();
        let result = sys::channel_call(
            self.raw_handle(),
            0,
            deadline.into().to_time(),
            bytes,
            &raw[..],
            &mut VecSink(&mut buf.bytes),
            &mut HandlesInto(&mut buf.handles),
        );
        if !matches!(&result, Err(e) if e.read_status.is_none() && e.status != Status::TIMED_OUT) {
            // The message was sent: its handles are gone.
            forget_all(handles);
        }
        result.map(|_| ())
    }
}

impl Channel {
    /// Starts a [`Channel::call`] without blocking, for async runtimes: the
    /// message is checked and written as `call` writes it (on failure the
    /// handles stay in `handles`), and `waker` is woken when the reply
    /// arrives. Poll the result with [`ChannelCall::poll_reply`]; dropping
    /// it gives the call up (a reply then queues as an ordinary message).
    ///
    /// # Errors
    /// The write's errors, as [`Channel::call`].
    ///
    /// ```
    /// use std::task::{Poll, Waker};
    /// use mx::api::{Channel, MessageBuf};
    ///
    /// let (a, b) = Channel::create()?;
    /// let mut call = a.call_start(&[5, 0, 0, 0], &mut Vec::new(), Waker::noop())?;
    /// let mut reply = MessageBuf::with_max_capacity()?;
    /// assert!(call.poll_reply(Waker::noop(), &mut reply).is_pending());
    /// b.write(&[5, 0, 0, 0, 1], &mut Vec::new())?;
    /// assert!(matches!(call.poll_reply(Waker::noop(), &mut reply), Poll::Ready(Ok(()))));
    /// assert_eq!(reply.bytes(), [5, 0, 0, 0, 1]);
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub fn call_start(
        &self,
        bytes: &[u8],
        handles: &mut Vec<Handle>,
        waker: &Waker,
    ) -> Result<ChannelCall, Status> {
        let raw = raw_values(handles)?;
        let pending = ext::channel_call_start(self.raw_handle(), bytes, &raw[..], waker)?;
        forget_all(handles);
        Ok(ChannelCall { pending })
    }
}

/// A call started by [`Channel::call_start`], waiting for its reply; see
/// there for an example. Dropping it gives the call up.
#[derive(Debug)]
pub struct ChannelCall {
    pending: ext::PendingCall,
}

impl ChannelCall {
    /// The reply, read into `buf` (which must be large enough), or
    /// `Pending` with `waker` registered to be woken.
    ///
    /// # Errors
    /// `CALL_FAILED` with the read status, as [`Channel::call`].
    pub fn poll_reply(
        &mut self,
        waker: &Waker,
        buf: &mut MessageBuf,
    ) -> Poll<Result<(), CallError>> {
        buf.clear();
        self.pending
            .poll(
                waker,
                &mut VecSink(&mut buf.bytes),
                &mut HandlesInto(&mut buf.handles),
            )
            .map(|result| result.map(|_| ()))
    }
}

/// Why [`Channel::try_read_raw`] read nothing.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ReadError {
    /// The buffer is too small for the first message, which needs this
    /// many bytes and handles; it stays queued.
    TooSmall {
        /// Bytes the message holds.
        bytes: usize,
        /// Handles the message holds.
        handles: usize,
    },
    /// Any other error.
    Status(Status),
}

impl From<ReadError> for Status {
    fn from(error: ReadError) -> Status {
        match error {
            ReadError::TooSmall { .. } => Status::BUFFER_TOO_SMALL,
            ReadError::Status(status) => status,
        }
    }
}

/// A sink of received handle values that takes ownership of them into a
/// `Vec<Handle>`, within its capacity (so it never allocates).
struct HandlesInto<'a>(&'a mut Vec<Handle>);

impl HandleSink for HandlesInto<'_> {
    fn len(&self) -> usize {
        self.0.capacity()
    }

    fn write_all(&mut self, values: &[RawHandle]) -> Result<(), Status> {
        if values.len() > self.0.capacity() {
            return Err(Status::BUFFER_TOO_SMALL);
        }
        self.0.clear();
        self.0.extend(values.iter().copied().map(Handle::from_raw));
        Ok(())
    }
}

/// The raw values of `handles`, which stay owned by the vector.
fn raw_values(handles: &[Handle]) -> Result<SmallVec<[RawHandle; 4]>, Status> {
    let mut raw = SmallVec::new();
    raw.try_reserve_exact(handles.len())
        .map_err(|_| Status::NO_MEMORY)?;
    raw.extend(handles.iter().map(Handle::raw_handle));
    Ok(raw)
}

/// Empties `handles` without closing them: they moved into a message.
fn forget_all(handles: &mut Vec<Handle>) {
    for handle in handles.drain(..) {
        let _ = handle.into_raw();
    }
}

/// A message read from a channel: its bytes and its handles, owned.
///
/// Reads fill it within its capacity and grow it when a message needs more
/// ([`Channel::try_read`]); [`MessageBuf::ensure_capacity_bytes`] and
/// [`MessageBuf::ensure_capacity_handles`] size it in advance (a call's
/// reply must fit).
///
/// ```
/// use mx::api::{Channel, Event, Handle, HandleBased, MessageBuf};
///
/// let (a, b) = Channel::create()?;
/// let mut handles = vec![Event::create()?.into_handle(), Event::create()?.into_handle()];
/// a.write(b"two events", &mut handles)?;
/// let mut buf = MessageBuf::new();
/// b.recv(&mut buf)?;
/// assert_eq!((buf.bytes(), buf.n_handles()), (&b"two events"[..], 2));
/// let first: Event = buf.take_handle(0).unwrap().into();
/// assert!(buf.take_handle(0).is_none(), "taken already");
/// let (bytes, rest): (Vec<u8>, Vec<Handle>) = buf.split();
/// assert_eq!(bytes, b"two events");
/// assert!(rest[0].is_invalid() && !rest[1].is_invalid());
/// # drop(first);
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, Default)]
pub struct MessageBuf {
    bytes: Vec<u8>,
    handles: Vec<Handle>,
}

impl MessageBuf {
    /// An empty buffer with no capacity.
    pub fn new() -> MessageBuf {
        MessageBuf::default()
    }

    /// A buffer that holds the largest message: 65,536 bytes and 64
    /// handles.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn with_max_capacity() -> Result<MessageBuf, Status> {
        let mut buf = MessageBuf::new();
        buf.ensure_capacity_bytes(MAX_MSG_BYTES)?;
        buf.ensure_capacity_handles(MAX_MSG_HANDLES)?;
        Ok(buf)
    }

    /// The bytes of the last message read.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many handles the last message brought (not yet taken).
    pub fn n_handles(&self) -> usize {
        self.handles.len()
    }

    /// Takes handle `index` of the message (leaving an invalid handle in
    /// its place), or `None` if there is no such handle.
    pub fn take_handle(&mut self, index: usize) -> Option<Handle> {
        self.handles
            .get_mut(index)
            .map(|h| core::mem::replace(h, Handle::invalid()))
            .filter(|h| !h.is_invalid())
    }

    /// Takes the bytes and handles.
    pub fn split(self) -> (Vec<u8>, Vec<Handle>) {
        (self.bytes, self.handles)
    }

    /// Room for at least `n` bytes.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn ensure_capacity_bytes(&mut self, n: usize) -> Result<(), Status> {
        let more = n.saturating_sub(self.bytes.len());
        Ok(self.bytes.try_reserve_exact(more)?)
    }

    /// Room for at least `n` handles.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn ensure_capacity_handles(&mut self, n: usize) -> Result<(), Status> {
        let more = n.saturating_sub(self.handles.len());
        Ok(self.handles.try_reserve_exact(more)?)
    }

    /// Empties the buffer (closing any handle not taken), keeping its
    /// capacity.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.handles.clear();
    }
}

//! The safe Rust API, in the conventions of the `magenta` and
//! `fuchsia-zircon` crates.
//!
//! [`Handle`] owns a handle value and closes it on drop; typed wrappers
//! ([`Socket`], [`Channel`], [`Event`], [`EventPair`], [`Port`]) own a
//! `Handle`. Behaviour common to all handles lives in traits:
//! [`AsHandleRef`] (waiting, signalling, information), [`HandleBased`]
//! (duplicate, replace, conversions) and [`Peered`] (signalling the peer).
//! Every method is a thin call into [`crate::sys`], so it behaves exactly
//! as the system call of the same name (SPEC in the repository), and
//! returns `Result<_, Status>`.
//!
//! ```
//! use std::io::{Read, Write};
//! use std::time::Duration;
//! use mx::api::{AsHandleRef, Socket, SocketOpts};
//! use mx::{Signals, Status};
//!
//! let (mut a, mut b) = Socket::create(SocketOpts::Stream)?;
//! a.write_all(b"hello")?;                         // std::io::Write: blocks while full
//! let seen = b.wait_handle(Signals::READABLE, Duration::from_secs(1))?;
//! assert!(seen.contains(Signals::READABLE));
//! let mut buf = [0u8; 16];
//! let n = b.read(&mut buf)?;                      // std::io::Read: blocks while empty
//! assert_eq!(&buf[..n], b"hello");
//! assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT)); // never blocks
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Blocking or not
//!
//! Each operation exists in the form its name says, and the names follow
//! tokio, mio and `std`:
//!
//! - **`try_*` never blocks**: [`Socket::try_read`], [`Socket::try_write`]
//!   and [`Channel::try_read`] are the system calls (`mx_socket_read`, ...)
//!   and return `SHOULD_WAIT` when they would have to wait.
//!   [`Channel::write`] never blocks either, without the prefix: a channel's
//!   queue has no limit, so there is nothing to wait for.
//! - **`std::io::Read` and `Write` block**, for `Socket` and `&Socket`, as
//!   for a `UnixStream`: `PEER_CLOSED` reads as end of file, and writing to
//!   a closed or half-closed socket is `io::ErrorKind::BrokenPipe`.
//! - **`send` and `recv` block**, for whole datagrams (and on streams, all
//!   of the bytes / some bytes): [`Socket::send`], [`Socket::recv`],
//!   [`Channel::recv`]; [`Channel::call`] sends and waits for its reply.
//!   Their `_deadline` forms give up at a deadline.
//! - **Waiting**: [`AsHandleRef::wait_handle`] (one object),
//!   [`object_wait_many`] (several), [`Port::wait`] (the packets of
//!   asynchronous waits, [`AsHandleRef::wait_async_handle`]).
//!
//! Why `Socket` has no inherent `read` or `write`: an inherent method
//! takes priority over a trait's, so a non-blocking `read` would shadow
//! `std::io::Read::read` even with the trait imported. `rx.read(&mut buf)?`,
//! written as for a `UnixStream`, would compile and then fail with
//! `SHOULD_WAIT` (`WouldBlock`) or `PEER_CLOSED` (`BrokenPipe`) instead of
//! waiting or reading end of file. So the non-blocking calls are
//! `try_read` and `try_write` (`#[doc(alias)]`ed to the C names), and
//! `rx.read(&mut buf)` is the blocking read when `std::io::Read` is in
//! scope. Without the trait in scope it does not compile (the compiler
//! suggests the import): for someone coming from `fuchsia-zircon`, whose
//! `Socket::read` never blocked, no call silently changes meaning.
//!
//! A blocking call waits on the object's signals, after a short spin
//! ([`crate::spin_budget`]), and never polls: a waiting thread sleeps. A
//! wait whose handle another thread closes ends with `CANCELED`.
//!
//! # Which signals
//!
//! | object | signals |
//! |---|---|
//! | [`Socket`] | `READABLE` (bytes are queued at this end), `WRITABLE` (there is room, the peer is open and this end has not half-closed), `PEER_CLOSED` (the peer closed, or half-closed its writing) |
//! | [`Channel`] | `READABLE` (a message is queued), `WRITABLE` (the peer is open), `PEER_CLOSED` (the peer closed) |
//! | [`Event`] | `EVENT_SIGNALED` (set and cleared by programs) |
//! | [`EventPair`] | `EPAIR_SIGNALED` (set by either end), `EPAIR_PEER_CLOSED` |
//! | [`Port`] | none: a port is not waited on, its packets are ([`Port::wait`]) |
//!
//! Every waitable object also has `LAST_HANDLE` (exactly one handle names
//! it) and the eight user signals `USER_0` ..= `USER_7`, set with
//! [`AsHandleRef::signal_handle`] and, on a peer, [`Peered::signal_peer`].
//! A blocking reader waits for `READABLE | PEER_CLOSED` (data, or the end
//! of it). A blocking writer waits for *room*, not for `WRITABLE`: that
//! stays asserted while a datagram does not fit, and `PEER_CLOSED` is
//! asserted on a writer whose peer half-closed but can still read.
//!
//! # Waiting with a timeout
//!
//! Every call that can wait takes `deadline: impl Into<`[`Deadline`]`>`:
//!
//! - a `std::time::Duration`, counted from the start of the call;
//! - a [`Time`](crate::Time) on the monotonic clock:
//!   [`Time::INFINITE`](crate::Time::INFINITE) (never give up),
//!   [`Time::ZERO`](crate::Time::ZERO) (check once, do not block), or
//!   `Time::after(duration)` and `Time::now() + duration` from
//!   [`TimeExt`];
//! - a `std::time::Instant`.
//!
//! When the deadline passes first, the call returns `TIMED_OUT`.
//!
//! ```
//! use std::time::Duration;
//! use mx::api::{AsHandleRef, Socket, SocketOpts};
//! use mx::{Signals, Status, Time, TimeExt};
//!
//! let (_a, b) = Socket::create(SocketOpts::Datagram)?;
//! let mut buf = [0u8; 64];
//! assert_eq!(b.recv_deadline(&mut buf, Duration::from_millis(5)), Err(Status::TIMED_OUT));
//! let deadline = Time::after(Duration::from_millis(5));
//! assert_eq!(b.wait_handle(Signals::READABLE, deadline), Err(Status::TIMED_OUT));
//! assert!(Time::now() >= deadline);
//! # Ok::<(), Status>(())
//! ```
//!
//! # From tokio
//!
//! The blocking calls block the thread. In async code, use the `mx-tokio`
//! crate: `AsyncSocket` (tokio's `AsyncRead`/`AsyncWrite`, `send`/`recv`,
//! `split`, `readable().await`), `AsyncChannel` (`recv_msg`, `call`) and
//! `OnSignals` (a future for any handle's signals). They wait by
//! registering the task's waker on the object itself
//! ([`crate::sys::ext::object_wait_waker`]): no thread, file descriptor or
//! timer per socket. For a timeout there, use `mx_tokio::with_deadline` or
//! `tokio::time::timeout` (the operations are cancel-safe). The
//! non-blocking `try_*` calls of this module are fine in async code as
//! they are. `mx-tokio`'s crate docs have tested examples.
//!
//! # Errors
//!
//! Every call returns `Result<_, `[`Status`]`>`. `Status` converts into
//! `std::io::Error` with one mapping, [`Status::io_kind`], used by every
//! `io::Error` the crates make.

mod channel;
mod event;
#[cfg(not(loom))]
pub mod linux;
mod port;
mod socket;
mod time;

use core::marker::PhantomData;

use mx_core::abi::{HandleBasicInfo, WaitItem as RawWaitItem, HANDLE_INVALID};
use mx_core::{Koid, ObjectType, RawHandle, Rights, Signals, Status};

use crate::sys;

pub use channel::{Channel, ChannelCall, MessageBuf, ReadError};
pub use event::{Event, EventPair};
pub use port::{Packet, PacketContents, Port, SignalPacket, UserPacket, WaitAsyncOpts};
pub use socket::{Socket, SocketOpts};
pub use time::{ClockId, Deadline, TimeExt};

/// An owned handle: dropping it closes it.
///
/// The typed wrappers convert to and from it ([`HandleBased::into_handle`],
/// `From<Handle>`), for example to send a handle in a channel message and
/// give it its type back on the other side.
///
/// ```
/// use mx::api::{AsHandleRef, Event, Handle, HandleBased};
/// use mx::ObjectType;
///
/// let handle: Handle = Event::create()?.into_handle();
/// assert_eq!(handle.object_type()?, ObjectType::EVENT);
/// let event = Event::from(handle); // the type is not checked
/// # let _ = event;
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Handle(RawHandle);

impl Handle {
    /// The invalid handle (`MX_HANDLE_INVALID`); dropping it does nothing.
    ///
    /// ```
    /// use mx::api::Handle;
    ///
    /// let h = Handle::invalid();
    /// assert!(h.is_invalid());
    /// assert_eq!(h.raw_handle(), mx::HANDLE_INVALID);
    /// ```
    pub const fn invalid() -> Handle {
        Handle(HANDLE_INVALID)
    }

    /// Takes ownership of a raw handle value: dropping the result closes it.
    /// Closing a value twice is a logic error, caught as `BAD_HANDLE` (or, if
    /// the value was reused, acting on the wrong handle), never undefined
    /// behaviour.
    ///
    /// ```
    /// use mx::api::{Handle, Socket};
    ///
    /// let (a, b) = mx::sys::socket_create(0)?; // raw values, as C sees them
    /// let a = Socket::from(Handle::from_raw(a));
    /// let b = Socket::from(Handle::from_raw(b));
    /// assert_eq!(a.try_write(b"x")?, 1);
    /// # drop(b);
    /// # Ok::<(), mx::Status>(())
    /// ```
    pub const fn from_raw(raw: RawHandle) -> Handle {
        Handle(raw)
    }

    /// Gives up ownership: the value stays open (until
    /// [`crate::sys::handle_close`], or a new owner from
    /// [`Handle::from_raw`]).
    pub fn into_raw(self) -> RawHandle {
        let raw = self.0;
        core::mem::forget(self);
        raw
    }

    /// The raw value (ownership stays here).
    pub const fn raw_handle(&self) -> RawHandle {
        self.0
    }

    /// Whether this is `MX_HANDLE_INVALID`.
    pub const fn is_invalid(&self) -> bool {
        self.0 == HANDLE_INVALID
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        if self.0 != HANDLE_INVALID {
            // BAD_HANDLE here means the value was closed behind our back;
            // there is nobody to report it to.
            let _ = sys::handle_close(self.0);
        }
    }
}

/// A borrowed handle, valid for `'a`: what [`AsHandleRef::as_handle_ref`]
/// returns, and what [`WaitItem`] holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct HandleRef<'a> {
    raw: RawHandle,
    _borrow: PhantomData<&'a Handle>,
}

impl HandleRef<'_> {
    /// Borrows a raw value that the caller keeps open for the borrow's life.
    pub const fn from_raw(raw: RawHandle) -> HandleRef<'static> {
        HandleRef {
            raw,
            _borrow: PhantomData,
        }
    }

    /// The raw value.
    pub const fn raw_handle(&self) -> RawHandle {
        self.raw
    }
}

/// What every handle can do: wait, signal, and tell what it names.
pub trait AsHandleRef {
    /// Borrows the handle.
    fn as_handle_ref(&self) -> HandleRef<'_>;

    /// The raw value.
    fn raw_handle(&self) -> RawHandle {
        self.as_handle_ref().raw
    }

    /// Waits until any of `signals` is asserted or `deadline` passes
    /// ([`sys::object_wait_one`]); returns the observed signals.
    ///
    /// `deadline` is a [`Deadline`]: a `Duration` from now, a
    /// [`Time`](crate::Time) (`Time::INFINITE` waits as long as it takes,
    /// `Time::ZERO` only checks) or an `Instant`.
    ///
    /// # Errors
    /// As [`sys::object_wait_one`]: `TIMED_OUT`, `CANCELED` (the handle was
    /// closed meanwhile), `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`),
    /// `NOT_SUPPORTED` (a port). Use that function to see the signals
    /// observed by a wait that timed out or was cancelled.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{AsHandleRef, Event, HandleBased};
    /// use mx::{Signals, Status};
    ///
    /// let event = Event::create()?;
    /// let waiter = {
    ///     let event = event.duplicate_handle(mx::Rights::SAME_RIGHTS)?;
    ///     std::thread::spawn(move || event.wait_handle(Signals::USER_0, Duration::from_secs(10)))
    /// };
    /// event.signal_handle(Signals::NONE, Signals::USER_0)?;
    /// assert!(waiter.join().unwrap()?.contains(Signals::USER_0));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_object_wait_one")]
    fn wait_handle(
        &self,
        signals: Signals,
        deadline: impl Into<Deadline>,
    ) -> Result<Signals, Status> {
        sys::object_wait_one(self.raw_handle(), signals, deadline.into().to_time())
            .map_err(Status::from)
    }

    /// Clears then sets user signals on the object ([`sys::object_signal`]):
    /// `USER_0` ..= `USER_7`, and on events and eventpairs their
    /// `SIGNALED` bit.
    ///
    /// # Errors
    /// As [`sys::object_signal`]: `INVALID_ARGS` for a bit the object does
    /// not let programs set, `ACCESS_DENIED` (no `SIGNAL`).
    ///
    /// ```
    /// use mx::api::{AsHandleRef, Event};
    /// use mx::{Signals, Status, Time};
    ///
    /// let event = Event::create()?;
    /// event.signal_handle(Signals::NONE, Signals::EVENT_SIGNALED | Signals::USER_1)?;
    /// event.signal_handle(Signals::USER_1, Signals::NONE)?;
    /// assert_eq!(
    ///     event.wait_handle(Signals::EVENT_SIGNALED, Time::ZERO)?,
    ///     Signals::EVENT_SIGNALED | Signals::LAST_HANDLE
    /// );
    /// assert_eq!(
    ///     event.signal_handle(Signals::NONE, Signals::READABLE),
    ///     Err(Status::INVALID_ARGS)
    /// );
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_object_signal")]
    fn signal_handle(&self, clear: Signals, set: Signals) -> Result<(), Status> {
        sys::object_signal(self.raw_handle(), clear, set)
    }

    /// `MX_INFO_HANDLE_BASIC` ([`sys::object_get_info`]): the object's
    /// koid, type and peer's koid, and the handle's rights.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    ///
    /// ```
    /// use mx::api::{AsHandleRef, Socket, SocketOpts};
    /// use mx::{ObjectType, Rights};
    ///
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// let info = a.basic_info()?;
    /// assert_eq!(ObjectType(info.type_), ObjectType::SOCKET);
    /// assert_eq!(info.related_koid, b.koid()?);
    /// assert_eq!(info.rights, Rights::SOCKET_DEFAULT);
    /// # Ok::<(), mx::Status>(())
    /// ```
    fn basic_info(&self) -> Result<HandleBasicInfo, Status> {
        sys::object_get_info_handle_basic(self.raw_handle())
    }

    /// Alias of [`AsHandleRef::basic_info`], under `fuchsia-zircon`'s name.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn get_info(&self) -> Result<HandleBasicInfo, Status> {
        self.basic_info()
    }

    /// Asks for a packet on `port` with `key` when any of `signals` is
    /// asserted on this object ([`sys::object_wait_async`]): once, or on
    /// every change while asserted ([`WaitAsyncOpts`]). Take the packets
    /// with [`Port::wait`]; many objects can report to one port.
    ///
    /// # Errors
    /// As [`sys::object_wait_async`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::{AsHandleRef, PacketContents, Port, Socket, SocketOpts, WaitAsyncOpts};
    /// use mx::Signals;
    ///
    /// let port = Port::create()?;
    /// let (a, b) = Socket::create(SocketOpts::Stream)?;
    /// b.wait_async_handle(&port, 42, Signals::READABLE, WaitAsyncOpts::Once)?;
    /// a.try_write(b"wake up")?;
    /// let packet = port.wait(Duration::from_secs(1))?;
    /// assert_eq!(packet.key(), 42);
    /// let PacketContents::SignalOne(signal) = packet.contents() else { panic!() };
    /// assert!(signal.observed.contains(Signals::READABLE));
    /// # Ok::<(), mx::Status>(())
    /// ```
    #[doc(alias = "mx_object_wait_async")]
    fn wait_async_handle(
        &self,
        port: &Port,
        key: u64,
        signals: Signals,
        options: WaitAsyncOpts,
    ) -> Result<(), Status> {
        sys::object_wait_async(
            self.raw_handle(),
            port.raw_handle(),
            key,
            signals,
            options.into_raw(),
        )
    }

    /// The object's koid: the same through every handle to it.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn koid(&self) -> Result<Koid, Status> {
        Ok(self.basic_info()?.koid)
    }

    /// The object's type.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    fn object_type(&self) -> Result<ObjectType, Status> {
        Ok(ObjectType(self.basic_info()?.type_))
    }
}

/// An owned handle of some type: duplicate it, replace it with fewer
/// rights, convert it to and from a plain [`Handle`].
pub trait HandleBased: AsHandleRef + From<Handle> + Into<Handle> {
    /// A new handle to the same object with `rights` (or
    /// [`Rights::SAME_RIGHTS`]). The object lives while any handle does;
    /// a socket's peer sees `PEER_CLOSED` when the last one closes.
    ///
    /// # Errors
    /// As [`sys::handle_duplicate`]: `ACCESS_DENIED` (no `DUPLICATE`;
    /// channel ends never have it), `INVALID_ARGS` (rights this handle
    /// lacks).
    ///
    /// ```
    /// use mx::api::{AsHandleRef, HandleBased, Socket, SocketOpts};
    /// use mx::{Rights, Status};
    ///
    /// let (a, _b) = Socket::create(SocketOpts::Stream)?;
    /// let reader = a.duplicate_handle(Rights::READ | Rights::DUPLICATE)?;
    /// assert_eq!(reader.koid(), a.koid());
    /// assert_eq!(reader.try_write(b"x"), Err(Status::ACCESS_DENIED));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_handle_duplicate")]
    fn duplicate_handle(&self, rights: Rights) -> Result<Self, Status> {
        sys::handle_duplicate(self.raw_handle(), rights)
            .map(|raw| Self::from(Handle::from_raw(raw)))
    }

    /// This handle, replaced by one with `rights` (the old value is
    /// closed; the object is not). On failure the handle is handed back
    /// unchanged, in the [`ReplaceError`].
    ///
    /// # Errors
    /// As [`sys::handle_replace`]: `INVALID_ARGS` (rights this handle
    /// lacks).
    ///
    /// ```
    /// use mx::api::{AsHandleRef, Channel, HandleBased};
    /// use mx::Rights;
    ///
    /// let (a, _b) = Channel::create()?;
    /// let a = a.replace_handle(Rights::READ | Rights::WRITE).map_err(|e| e.status)?;
    /// assert_eq!(a.basic_info()?.rights, Rights::READ | Rights::WRITE);
    /// # Ok::<(), mx::Status>(())
    /// ```
    #[doc(alias = "mx_handle_replace")]
    fn replace_handle(self, rights: Rights) -> Result<Self, ReplaceError<Self>> {
        let raw = self.raw_handle();
        match sys::handle_replace(raw, rights) {
            Ok(new) => {
                // The old value is closed already.
                let _ = self.into_handle().into_raw();
                Ok(Self::from(Handle::from_raw(new)))
            }
            Err(status) => Err(ReplaceError {
                status,
                handle: self,
            }),
        }
    }

    /// Converts to a plain [`Handle`].
    fn into_handle(self) -> Handle {
        self.into()
    }

    /// Converts from a plain [`Handle`] (the type is not checked).
    fn from_handle(handle: Handle) -> Self {
        Self::from(handle)
    }
}

/// A failed [`HandleBased::replace_handle`]: the status and the handle.
#[derive(Debug)]
pub struct ReplaceError<T> {
    /// Why it failed.
    pub status: Status,
    /// The handle, still valid.
    pub handle: T,
}

/// An object with a peer (socket, channel and eventpair ends).
pub trait Peered: HandleBased {
    /// Clears then sets user signals on the peer
    /// ([`sys::object_signal_peer`]).
    ///
    /// # Errors
    /// As [`sys::object_signal_peer`]: `PEER_CLOSED` once the peer is gone,
    /// `INVALID_ARGS`, `ACCESS_DENIED` (no `SIGNAL_PEER`).
    ///
    /// ```
    /// use mx::api::{AsHandleRef, EventPair, Peered};
    /// use mx::{Signals, Time};
    ///
    /// let (a, b) = EventPair::create()?;
    /// a.signal_peer(Signals::NONE, Signals::EPAIR_SIGNALED)?;
    /// assert!(b.wait_handle(Signals::EPAIR_SIGNALED, Time::ZERO)?.contains(Signals::EPAIR_SIGNALED));
    /// # Ok::<(), mx::Status>(())
    /// ```
    #[doc(alias = "mx_object_signal_peer")]
    fn signal_peer(&self, clear: Signals, set: Signals) -> Result<(), Status> {
        sys::object_signal_peer(self.raw_handle(), clear, set)
    }
}

impl AsHandleRef for Handle {
    fn as_handle_ref(&self) -> HandleRef<'_> {
        HandleRef {
            raw: self.0,
            _borrow: PhantomData,
        }
    }
}

impl AsHandleRef for HandleRef<'_> {
    fn as_handle_ref(&self) -> HandleRef<'_> {
        *self
    }
}

impl HandleBased for Handle {}

/// Implements the handle traits for a typed wrapper around [`Handle`].
macro_rules! handle_type {
    ($name:ident) => {
        impl $crate::api::AsHandleRef for $name {
            fn as_handle_ref(&self) -> $crate::api::HandleRef<'_> {
                self.0.as_handle_ref()
            }
        }
        impl From<$crate::api::Handle> for $name {
            fn from(handle: $crate::api::Handle) -> $name {
                $name(handle)
            }
        }
        impl From<$name> for $crate::api::Handle {
            fn from(value: $name) -> $crate::api::Handle {
                value.0
            }
        }
        impl $crate::api::HandleBased for $name {}
    };
}
pub(crate) use handle_type;

/// One object to wait on with [`object_wait_many`].
#[derive(Copy, Clone, Debug)]
pub struct WaitItem<'a> {
    /// The handle.
    pub handle: HandleRef<'a>,
    /// The signals that end the wait.
    pub waitfor: Signals,
    /// Out: the signals observed on it.
    pub pending: Signals,
}

/// Waits until any item's `waitfor` signals are asserted, or `deadline`
/// passes ([`sys::object_wait_many`]); fills every item's `pending` (also
/// after `TIMED_OUT` and `CANCELED`).
///
/// # Errors
/// As [`sys::object_wait_many`]: `TIMED_OUT`, `CANCELED`, `INVALID_ARGS`
/// (over 1,024 items), and the first failing item's handle error.
///
/// ```
/// use std::time::Duration;
/// use mx::api::{object_wait_many, AsHandleRef, Event, Socket, SocketOpts, WaitItem};
/// use mx::Signals;
///
/// let (a, b) = Socket::create(SocketOpts::Stream)?;
/// let stop = Event::create()?;
/// let mut items = [
///     WaitItem { handle: b.as_handle_ref(), waitfor: Signals::READABLE, pending: Signals::NONE },
///     WaitItem { handle: stop.as_handle_ref(), waitfor: Signals::EVENT_SIGNALED, pending: Signals::NONE },
/// ];
/// a.try_write(b"x")?;
/// object_wait_many(&mut items, Duration::from_secs(1))?;
/// assert!(items[0].pending.contains(Signals::READABLE));
/// assert!(!items[1].pending.contains(Signals::EVENT_SIGNALED));
/// # Ok::<(), mx::Status>(())
/// ```
#[doc(alias = "mx_object_wait_many")]
pub fn object_wait_many(
    items: &mut [WaitItem<'_>],
    deadline: impl Into<Deadline>,
) -> Result<(), Status> {
    let deadline = deadline.into().to_time();
    let mut raw: Vec<RawWaitItem> = Vec::new();
    raw.try_reserve_exact(items.len())?;
    raw.extend(items.iter().map(|item| RawWaitItem {
        handle: item.handle.raw,
        waitfor: item.waitfor,
        pending: Signals::NONE,
    }));
    let result = sys::object_wait_many(&mut raw, deadline);
    if matches!(
        result,
        Ok(()) | Err(Status::TIMED_OUT) | Err(Status::CANCELED)
    ) {
        for (item, raw) in items.iter_mut().zip(&raw) {
            item.pending = raw.pending;
        }
    }
    result
}

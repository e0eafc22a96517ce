//! [`Port`], [`Packet`] and asynchronous waits.

use mx_core::abi::{PortPacket, PKT_TYPE_SIGNAL_ONE, PKT_TYPE_SIGNAL_REP, PKT_TYPE_USER};
use mx_core::{Signals, Status};

use super::{handle_type, AsHandleRef, Deadline, Handle};
use crate::sys;

/// A port: a queue of packets, filled by [`Port::queue`] and by asynchronous
/// waits ([`AsHandleRef::wait_async_handle`]), taken by [`Port::wait`] in
/// order; each packet goes to one waiting thread, so a pool of threads can
/// serve one port.
///
/// ```
/// use std::time::Duration;
/// use mx::api::{AsHandleRef, PacketContents, Port, Socket, SocketOpts, WaitAsyncOpts};
/// use mx::Signals;
///
/// let port = Port::create()?;
/// let pairs: Vec<_> = (0..3).map(|_| Socket::create(SocketOpts::Datagram)).collect::<Result<_, _>>()?;
/// for (key, (_, b)) in pairs.iter().enumerate() {
///     b.wait_async_handle(&port, key as u64, Signals::READABLE, WaitAsyncOpts::Once)?;
/// }
/// pairs[2].0.try_write(b"to the third")?;
/// let packet = port.wait(Duration::from_secs(1))?;
/// assert_eq!(packet.key(), 2);
/// assert!(matches!(packet.contents(), PacketContents::SignalOne(_)));
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Port(Handle);

handle_type!(Port);

/// How long an asynchronous wait lasts ([`AsHandleRef::wait_async_handle`]).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum WaitAsyncOpts {
    /// `MX_WAIT_ASYNC_ONCE`: one packet, then the wait ends.
    Once,
    /// `MX_WAIT_ASYNC_REPEATING`: a packet on every change while triggered,
    /// at most one queued at a time, until cancelled.
    Repeating,
}

impl WaitAsyncOpts {
    /// The raw option of `mx_object_wait_async`.
    pub const fn into_raw(self) -> u32 {
        match self {
            WaitAsyncOpts::Once => mx_core::abi::WAIT_ASYNC_ONCE,
            WaitAsyncOpts::Repeating => mx_core::abi::WAIT_ASYNC_REPEATING,
        }
    }
}

impl Port {
    /// Creates a port ([`sys::port_create`]).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    #[doc(alias = "mx_port_create")]
    pub fn create() -> Result<Port, Status> {
        sys::port_create(0).map(|raw| Port(Handle::from_raw(raw)))
    }

    /// Queues a user packet ([`sys::port_queue`]); the contents must be
    /// [`PacketContents::User`].
    ///
    /// # Errors
    /// `INVALID_ARGS` for other contents; as [`sys::port_queue`].
    ///
    /// ```
    /// use mx::api::{Packet, PacketContents, Port, UserPacket};
    /// use mx::{Status, Time};
    ///
    /// let port = Port::create()?;
    /// let user = UserPacket::from_u64_array([1, 2, 3, 4]);
    /// port.queue(&Packet::from_user_packet(9, Status::OK, user))?;
    /// let packet = port.wait(Time::ZERO)?; // queued already: no waiting
    /// assert_eq!(packet.key(), 9);
    /// assert_eq!(packet.contents(), PacketContents::User(user));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_port_queue")]
    pub fn queue(&self, packet: &Packet) -> Result<(), Status> {
        if !matches!(packet.contents, PacketContents::User(_)) {
            return Err(Status::INVALID_ARGS);
        }
        sys::port_queue(self.raw_handle(), &packet.into_raw(), 0)
    }

    /// Takes the oldest packet, waiting until `deadline` ([`sys::port_wait`]):
    /// a `Duration` from now, a [`Time`](crate::Time) or an `Instant`
    /// ([`Deadline`]).
    ///
    /// # Errors
    /// As [`sys::port_wait`]: `TIMED_OUT`, `CANCELED` (the handle was closed
    /// meanwhile), `ACCESS_DENIED` (no `READ`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::Port;
    /// use mx::Status;
    ///
    /// let port = Port::create()?;
    /// assert_eq!(port.wait(Duration::from_millis(5)), Err(Status::TIMED_OUT));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_port_wait")]
    pub fn wait(&self, deadline: impl Into<Deadline>) -> Result<Packet, Status> {
        sys::port_wait(self.raw_handle(), deadline.into().to_time(), 0).map(Packet::from_raw)
    }

    /// Ends the asynchronous waits made through `source` with `key` and
    /// drops their queued packets ([`sys::port_cancel`]).
    ///
    /// # Errors
    /// As [`sys::port_cancel`], notably `NOT_FOUND`.
    ///
    /// ```
    /// use mx::api::{AsHandleRef, Event, Port, WaitAsyncOpts};
    /// use mx::{Signals, Status, Time};
    ///
    /// let port = Port::create()?;
    /// let event = Event::create()?;
    /// event.wait_async_handle(&port, 1, Signals::USER_0, WaitAsyncOpts::Repeating)?;
    /// port.cancel(&event, 1)?;
    /// event.signal_handle(Signals::NONE, Signals::USER_0)?;
    /// assert_eq!(port.wait(Time::ZERO), Err(Status::TIMED_OUT)); // no packet
    /// assert_eq!(port.cancel(&event, 1), Err(Status::NOT_FOUND));
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_port_cancel")]
    pub fn cancel(&self, source: &impl AsHandleRef, key: u64) -> Result<(), Status> {
        sys::port_cancel(self.raw_handle(), source.raw_handle(), key)
    }
}

/// The payload of a user packet ([`Port::queue`]): 32 bytes, as four words
/// or as bytes.
///
/// ```
/// use mx::api::UserPacket;
///
/// let mut bytes = [0u8; 32];
/// bytes[..5].copy_from_slice(b"hello");
/// let user = UserPacket::from_u8_array(bytes);
/// assert_eq!(&user.as_u8_array()[..5], b"hello");
/// assert_eq!(UserPacket::from_u64_array(user.as_u64_array()), user);
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct UserPacket([u64; 4]);

impl UserPacket {
    /// From four words (the C union's `u64[4]`).
    pub const fn from_u64_array(words: [u64; 4]) -> UserPacket {
        UserPacket(words)
    }

    /// As four words.
    pub const fn as_u64_array(&self) -> [u64; 4] {
        self.0
    }

    /// From 32 bytes (in memory order).
    pub fn from_u8_array(bytes: [u8; 32]) -> UserPacket {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_ne_bytes(w)
        };
        UserPacket([word(0), word(1), word(2), word(3)])
    }

    /// As 32 bytes (in memory order).
    pub fn as_u8_array(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (i, word) in self.0.iter().enumerate() {
            bytes[i * 8..i * 8 + 8].copy_from_slice(&word.to_ne_bytes());
        }
        bytes
    }
}

/// The payload of a signal packet.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct SignalPacket {
    /// The signals the wait was registered for.
    pub trigger: Signals,
    /// The signals seen when the packet was queued (or last updated).
    pub observed: Signals,
    /// 1; for the first packet of a channel wait registered while
    /// `READABLE` was asserted, the number of messages queued then.
    pub count: u64,
}

/// What a packet holds, by type.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum PacketContents {
    /// `MX_PKT_TYPE_USER`.
    User(UserPacket),
    /// `MX_PKT_TYPE_SIGNAL_ONE`.
    SignalOne(SignalPacket),
    /// `MX_PKT_TYPE_SIGNAL_REP`.
    SignalRep(SignalPacket),
    /// Another type (kept as raw words).
    Unknown {
        /// The packet type.
        type_: u32,
        /// The union's words.
        payload: [u64; 4],
    },
}

/// A port packet (`mx_port_packet_t`), typed: what [`Port::wait`] returns
/// and [`Port::queue`] takes. See [`Port`] for an example.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct Packet {
    key: u64,
    status: Status,
    contents: PacketContents,
}

impl Packet {
    /// A user packet to queue.
    pub const fn from_user_packet(key: u64, status: Status, user: UserPacket) -> Packet {
        Packet {
            key,
            status,
            contents: PacketContents::User(user),
        }
    }

    /// The key.
    pub const fn key(&self) -> u64 {
        self.key
    }

    /// The status (`OK` for signal packets).
    pub const fn status(&self) -> Status {
        self.status
    }

    /// The typed contents.
    pub const fn contents(&self) -> PacketContents {
        self.contents
    }

    /// From the C layout.
    pub fn from_raw(raw: PortPacket) -> Packet {
        let signal = || {
            let (trigger, observed, count) = raw.signal_fields();
            SignalPacket {
                trigger,
                observed,
                count,
            }
        };
        let contents = match raw.type_ {
            PKT_TYPE_USER => PacketContents::User(UserPacket(raw.payload)),
            PKT_TYPE_SIGNAL_ONE => PacketContents::SignalOne(signal()),
            PKT_TYPE_SIGNAL_REP => PacketContents::SignalRep(signal()),
            type_ => PacketContents::Unknown {
                type_,
                payload: raw.payload,
            },
        };
        Packet {
            key: raw.key,
            status: Status::from_raw(raw.status),
            contents,
        }
    }

    /// To the C layout.
    pub fn into_raw(self) -> PortPacket {
        let status = self.status.into_raw();
        match self.contents {
            PacketContents::User(user) => PortPacket {
                key: self.key,
                type_: PKT_TYPE_USER,
                status,
                payload: user.0,
            },
            PacketContents::SignalOne(s) => PortPacket {
                status,
                ..PortPacket::signal(
                    self.key,
                    PKT_TYPE_SIGNAL_ONE,
                    s.trigger,
                    s.observed,
                    s.count,
                )
            },
            PacketContents::SignalRep(s) => PortPacket {
                status,
                ..PortPacket::signal(
                    self.key,
                    PKT_TYPE_SIGNAL_REP,
                    s.trigger,
                    s.observed,
                    s.count,
                )
            },
            PacketContents::Unknown { type_, payload } => PortPacket {
                key: self.key,
                type_,
                status,
                payload,
            },
        }
    }
}

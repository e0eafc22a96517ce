//! Objects: every kind, what a handle names, and how a call finds the kind
//! it needs.
//!
//! Every object kind is a variant of [`Object`], so a `match` shows what a
//! new kind must handle; peered kinds (sockets, eventpairs, channels) hold
//! both ends in one allocation. A handle names an [`End`]:
//! an object and which of its ends (unpeered kinds have one, [`Side::A`]).
//!
//! Each kind lives in its own module and owns its operations there
//! (`socket::SocketPair::write`, `port::Port::queue`, ...). A call reaches
//! them through a typed lookup ([`Kind`]): the handle table checks the
//! handle, then the rights, then the kind, in the order the specification
//! gives, and hands the call a `&SocketPair` (or whatever it asked for), so
//! no operation downcasts and no check runs twice. What every kind has (a
//! koid, handle counting, `object_signal`) is dispatched here, once.
//!
//! The observer machinery (who waits, and waking them) is in [`watch`],
//! generic over the kinds; blocking waits are in [`wait`].

pub(crate) mod channel;
pub(crate) mod event;
pub(crate) mod port;
pub(crate) mod socket;
mod state;
pub(crate) mod wait;
pub(crate) mod watch;

use mx_core::abi::OBJ_PROP_WAITABLE;
use mx_core::{Koid, ObjectType, RawHandle, Side, Signals, Status};

use crate::sync::{counters, Arc};

pub(crate) use channel::ChannelPair;
pub(crate) use event::{CookieJar, Event, EventPair};
pub(crate) use port::Port;
pub(crate) use socket::SocketPair;
use watch::Observable;

/// An object of some kind; for peered kinds, both ends.
#[derive(Debug)]
pub(crate) enum Object {
    /// A socket pair.
    Socket(SocketPair),
    /// An event.
    Event(Event),
    /// An eventpair.
    EventPair(EventPair),
    /// A port (behind its own `Arc`: the waits queueing into it hold it,
    /// and its queue would make every object as large).
    Port(Arc<Port>),
    /// A channel pair (behind its own `Arc`: its inboxes would make every
    /// object as large).
    Channel(Arc<ChannelPair>),
}

/// What a handle names: one end of an object, owned.
#[derive(Clone, Debug)]
pub(crate) struct End {
    /// The object.
    pub(crate) object: Arc<Object>,
    /// Which end ([`Side::A`] for unpeered kinds).
    pub(crate) side: Side,
}

impl End {
    /// The current signals of this end, without locking.
    pub(crate) fn signals(&self) -> Signals {
        self.object
            .observable()
            .map_or(Signals::NONE, |o| o.signals(self.side))
    }
}

/// What a typed lookup asks for: a kind of object, or any object that can
/// do something.
pub(crate) trait Kind {
    /// What the call gets.
    type Target: ?Sized;

    /// `object` as the target.
    ///
    /// # Errors
    /// `WRONG_TYPE` (another kind), or `NOT_SUPPORTED` (objects that cannot
    /// be waited on, for [`Waitable`]).
    fn of(object: &Object) -> Result<&Self::Target, Status>;
}

/// Any object.
#[derive(Debug)]
pub(crate) struct Any;

impl Kind for Any {
    type Target = Object;

    fn of(object: &Object) -> Result<&Object, Status> {
        Ok(object)
    }
}

/// Any object that can be waited on (`object_wait_*`); others give
/// `NOT_SUPPORTED`.
#[derive(Debug)]
pub(crate) struct Waitable;

impl Kind for Waitable {
    type Target = dyn Observable;

    fn of(object: &Object) -> Result<&(dyn Observable + 'static), Status> {
        object.observable().ok_or(Status::NOT_SUPPORTED)
    }
}

/// Implements [`Kind`] for the kind in variant `$variant`.
macro_rules! kind {
    ($kind:ty, $variant:ident) => {
        impl Kind for $kind {
            type Target = $kind;

            fn of(object: &Object) -> Result<&$kind, Status> {
                match object {
                    Object::$variant(kind) => Ok(kind),
                    _ => Err(Status::WRONG_TYPE),
                }
            }
        }
    };
}

kind!(SocketPair, Socket);
kind!(Event, Event);
kind!(EventPair, EventPair);

impl Kind for ChannelPair {
    type Target = ChannelPair;

    fn of(object: &Object) -> Result<&ChannelPair, Status> {
        match object {
            Object::Channel(pair) => Ok(pair),
            _ => Err(Status::WRONG_TYPE),
        }
    }
}

impl Kind for Port {
    /// The port's own `Arc`: asynchronous waits hold it.
    type Target = Arc<Port>;

    fn of(object: &Object) -> Result<&Arc<Port>, Status> {
        match object {
            Object::Port(port) => Ok(port),
            _ => Err(Status::WRONG_TYPE),
        }
    }
}

impl Object {
    /// `mx_obj_type_t` of the object.
    pub(crate) fn object_type(&self) -> ObjectType {
        match self {
            Object::Socket(_) => ObjectType::SOCKET,
            Object::Event(_) => ObjectType::EVENT,
            Object::EventPair(_) => ObjectType::EVENT_PAIR,
            Object::Port(_) => ObjectType::PORT,
            Object::Channel(_) => ObjectType::CHANNEL,
        }
    }

    /// Under loom, checks that the object was not freed (lookups call this
    /// before using what they found).
    pub(crate) fn check_live(&self) {
        match self {
            Object::Socket(o) => o._live.check(),
            Object::Event(o) => o._live.check(),
            Object::EventPair(o) => o._live.check(),
            Object::Port(o) => o._live.check(),
            Object::Channel(o) => o._live.check(),
        }
    }

    /// The object as something to wait on, if it is one.
    pub(crate) fn observable(&self) -> Option<&(dyn Observable + 'static)> {
        match self {
            Object::Socket(o) => Some(o),
            Object::Event(o) => Some(o),
            Object::EventPair(o) => Some(o),
            Object::Channel(o) => Some(&**o),
            Object::Port(_) => None,
        }
    }

    /// `MX_INFO_HANDLE_BASIC`'s `props`.
    pub(crate) fn props(&self) -> u32 {
        if self.observable().is_some() {
            OBJ_PROP_WAITABLE
        } else {
            0
        }
    }

    /// The koid of `side`.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        match self {
            Object::Socket(o) => o.koid(side),
            Object::Event(o) => o.koid(),
            Object::EventPair(o) => o.koid(side),
            Object::Port(o) => o.koid(),
            Object::Channel(o) => o.koid(side),
        }
    }

    /// The koid of `side`'s peer for peered objects, else `Koid::INVALID`.
    pub(crate) fn related_koid(&self, side: Side) -> Koid {
        match self {
            Object::Socket(o) => o.koid(side.peer()),
            Object::EventPair(o) => o.koid(side.peer()),
            Object::Channel(o) => o.koid(side.peer()),
            Object::Event(_) | Object::Port(_) => Koid::INVALID,
        }
    }

    /// Counts a new handle to `side`.
    ///
    /// # Errors
    /// `BAD_HANDLE` if the end's last handle was closed meanwhile (the handle
    /// being duplicated is gone).
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        match self {
            Object::Socket(o) => o.add_handle(side),
            Object::Event(o) => o.add_handle(),
            Object::EventPair(o) => o.add_handle(side),
            Object::Port(o) => o.add_handle(),
            Object::Channel(o) => o.add_handle(side),
        }
    }

    /// The handle `handle` to `side` was closed: cancels the waits made
    /// through it and uncounts it (which may close the end).
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        match self {
            Object::Socket(o) => o.close_handle(side, handle),
            Object::Event(o) => o.close_handle(handle),
            Object::EventPair(o) => o.close_handle(side, handle),
            Object::Port(o) => o.close_handle(handle),
            Object::Channel(o) => o.close_handle(side, handle),
        }
    }

    /// Whether any wait is registered on the object (ports: always
    /// answered yes, they keep their own waiters).
    pub(crate) fn is_watched(&self) -> bool {
        match self.observable() {
            Some(observable) => watch::is_watched(observable),
            None => true,
        }
    }

    /// The handle value `handle` stopped naming this object while its count
    /// stays (it was replaced): cancels the waits made through it.
    pub(crate) fn cancel_handle(&self, handle: RawHandle) {
        match self.observable() {
            Some(observable) => watch::cancel(observable, handle),
            None => {
                if let Object::Port(port) = self {
                    port.cancel_handle(handle);
                }
            }
        }
    }

    /// Runs `f` on the cookie jar of `side` (`mx_object_set_cookie`):
    /// events and eventpair ends have one, as in Magenta.
    ///
    /// # Errors
    /// `NOT_SUPPORTED`: the kind has none; `NO_MEMORY`; `f`'s error.
    pub(crate) fn with_cookie<R>(
        &self,
        side: Side,
        f: impl FnOnce(&mut CookieJar) -> Result<R, Status>,
    ) -> Result<R, Status> {
        match self {
            Object::Event(o) => o.cookies().with(0, f),
            Object::EventPair(o) => o.cookies().with(side.index(), f),
            Object::Socket(_) | Object::Port(_) | Object::Channel(_) => Err(Status::NOT_SUPPORTED),
        }
    }

    /// `mx_object_signal` on `side`.
    ///
    /// # Errors
    /// `INVALID_ARGS` (a bit the kind does not let programs set),
    /// `NOT_SUPPORTED` (ports).
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        match self {
            Object::Socket(o) => o.signal(side, clear, set),
            Object::Event(o) => o.signal(clear, set),
            Object::EventPair(o) => o.signal(side, clear, set),
            Object::Channel(o) => o.signal(side, clear, set),
            Object::Port(_) => Err(Status::NOT_SUPPORTED),
        }
    }

    /// `mx_object_signal_peer` from `side`.
    ///
    /// # Errors
    /// `NOT_SUPPORTED` (no peer), `INVALID_ARGS`, `PEER_CLOSED`.
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        match self {
            Object::Socket(o) => o.signal_peer(side, clear, set),
            Object::EventPair(o) => o.signal_peer(side, clear, set),
            Object::Channel(o) => o.signal_peer(side, clear, set),
            Object::Event(_) | Object::Port(_) => Err(Status::NOT_SUPPORTED),
        }
    }
}

/// Counts live objects for leak tests: one lives inside every object.
/// Under loom it also holds a sentinel that lookups check, so that a model
/// in which an object is used after it was freed fails.
#[derive(Debug)]
pub(crate) struct Live(mx_shm::rcu::Sentinel);

impl Live {
    pub(crate) fn new() -> Live {
        counters::object_born();
        Live(mx_shm::rcu::Sentinel::new())
    }

    /// Under loom, checks that the object is still alive (see
    /// [`mx_shm::rcu::Sentinel`]).
    pub(crate) fn check(&self) {
        self.0.check();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        counters::object_died();
    }
}

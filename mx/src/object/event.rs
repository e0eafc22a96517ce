//! Events and eventpairs: state in atomic words, changed under the watch
//! lock, and their operations; and the cookie jar each of them has (one per
//! eventpair end), as in Magenta, whose other kinds have none.

use mx_core::event::EventState;
use mx_core::{Koid, RawHandle, Side, Signals, Status};

use super::state::Packed;
use super::watch::{self, Observable, Watch};
use super::Live;
use crate::sync::{counters, try_arc, Arc, Mutex};

/// The cookie jars of an object with `N` ends, allocated at the first
/// cookie call so that objects whose cookies are never used stay small.
/// (The lock is a leaf: nothing is locked under it.)
#[derive(Debug, Default)]
pub(crate) struct Cookies<const N: usize>(std::sync::OnceLock<Arc<Mutex<[CookieJar; N]>>>);

impl<const N: usize> Cookies<N> {
    /// Runs `f` on the jar of end `index`, under its lock.
    ///
    /// # Errors
    /// `NO_MEMORY` (the first call allocates), or `f`'s error.
    pub(crate) fn with<R>(
        &self,
        index: usize,
        f: impl FnOnce(&mut CookieJar) -> Result<R, Status>,
    ) -> Result<R, Status> {
        let jars = match self.0.get() {
            Some(jars) => jars,
            None => {
                let fresh = try_arc(Mutex::new(core::array::from_fn(|_| CookieJar::default())))?;
                // If another thread won the race, its jars are the ones.
                let _ = self.0.set(fresh);
                self.0.get().ok_or(Status::INTERNAL)?
            }
        };
        f(&mut jars.lock()[index])
    }
}

/// `mx_object_set_cookie`'s storage: one cookie, and the scope (a koid) that
/// may read and change it. Empty until the first `set_cookie`.
#[derive(Debug, Default)]
pub(crate) struct CookieJar {
    /// The scope of the cookie; `Koid::INVALID` while none was set.
    scope: Koid,
    /// The cookie.
    cookie: u64,
}

impl CookieJar {
    /// Sets the cookie for `scope`: the first scope to set one owns the jar.
    ///
    /// # Errors
    /// `ACCESS_DENIED`: another scope owns it.
    pub(crate) fn set(&mut self, scope: Koid, cookie: u64) -> Result<(), Status> {
        if self.scope == Koid::INVALID || self.scope == scope {
            self.scope = scope;
            self.cookie = cookie;
            Ok(())
        } else {
            Err(Status::ACCESS_DENIED)
        }
    }

    /// The cookie set for `scope`.
    ///
    /// # Errors
    /// `ACCESS_DENIED`: none was set, or another scope owns the jar.
    pub(crate) fn get(&self, scope: Koid) -> Result<u64, Status> {
        if self.scope != Koid::INVALID && self.scope == scope {
            Ok(self.cookie)
        } else {
            Err(Status::ACCESS_DENIED)
        }
    }
}

/// An event: user-settable signals and nothing else.
#[derive(Debug)]
pub(crate) struct Event {
    koid: Koid,
    /// Its [`EventState`].
    state: Packed<EventState>,
    watch: Watch,
    /// Its cookie.
    cookie: Cookies<1>,
    pub(super) _live: Live,
}

impl Event {
    /// A new event with one handle.
    pub(crate) fn new() -> Event {
        Event {
            koid: counters::koids(1),
            state: Packed::new(EventState::NEW),
            watch: Watch::default(),
            cookie: Cookies::default(),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self) -> Koid {
        self.koid
    }

    /// The event's cookie jar.
    pub(crate) fn cookies(&self) -> &Cookies<1> {
        &self.cookie
    }

    /// Counts a new handle.
    pub(crate) fn add_handle(&self) -> Result<(), Status> {
        self.state.add_handle()?;
        watch::data_changed(self);
        Ok(())
    }

    /// The handle `handle` was closed.
    pub(crate) fn close_handle(&self, handle: RawHandle) {
        self.state.remove_handle();
        watch::handle_closed(self, handle);
    }

    /// `mx_object_signal`.
    pub(crate) fn signal(&self, clear: Signals, set: Signals) -> Result<(), Status> {
        watch::update(self, |locked| self.state.signal(locked, clear, set))
    }
}

impl Observable for Event {
    fn watch(&self) -> &Watch {
        &self.watch
    }

    fn sides(&self) -> &'static [Side] {
        &[Side::A]
    }

    fn signals(&self, _side: Side) -> Signals {
        self.state.get().signals()
    }
}

/// Both ends of an eventpair.
#[derive(Debug)]
pub(crate) struct EventPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Each end's [`EventState`].
    ends: [Packed<EventState>; 2],
    watch: Watch,
    /// Each end's cookie.
    cookies: Cookies<2>,
    pub(super) _live: Live,
}

impl EventPair {
    /// A new pair with one handle per end.
    pub(crate) fn new() -> EventPair {
        EventPair {
            koid: counters::koids(2),
            ends: [Packed::new(EventState::NEW), Packed::new(EventState::NEW)],
            watch: Watch::default(),
            cookies: Cookies::default(),
            _live: Live::new(),
        }
    }

    /// The cookie jars of both ends.
    pub(crate) fn cookies(&self) -> &Cookies<2> {
        &self.cookies
    }

    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }

    /// The state of `side`.
    fn end(&self, side: Side) -> &Packed<EventState> {
        &self.ends[side.index()]
    }

    /// Counts a new handle to `side`.
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        self.end(side).add_handle()?;
        watch::data_changed(self);
        Ok(())
    }

    /// The handle `handle` to `side` was closed; closing the last one tells
    /// the peer.
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        if !self.end(side).remove_handle() {
            watch::handle_closed(self, handle);
            return;
        }
        watch::update(self, |locked| {
            locked.cancel(handle);
            let _ = self.end(side.peer()).modify(locked, |peer| {
                peer.peer_gone();
                Ok(())
            });
        });
    }

    /// `mx_object_signal` on `side`.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        watch::update(self, |locked| self.end(side).signal(locked, clear, set))
    }

    /// `mx_object_signal_peer` from `side`.
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        watch::update(self, |locked| {
            self.end(side.peer()).signal_as_peer(locked, clear, set)
        })
    }
}

impl Observable for EventPair {
    fn watch(&self) -> &Watch {
        &self.watch
    }

    fn sides(&self) -> &'static [Side] {
        &Side::BOTH
    }

    fn signals(&self, side: Side) -> Signals {
        self.end(side).get().signals()
    }
}

//! Events and eventpairs: state in atomic words, changed under the watch
//! lock.

use mx_core::event::EventState;
use mx_core::{Koid, Side, Signals, Status};

use super::state::Packed;
use super::{Live, Watch, WatchState};
use crate::sync::counters;

/// An event: user-settable signals and nothing else.
#[derive(Debug)]
pub(crate) struct Event {
    koid: Koid,
    /// Its [`EventState`].
    state: Packed<EventState>,
    pub(crate) watch: Watch,
    _live: Live,
}

impl Event {
    /// A new event with one handle.
    pub(crate) fn new() -> Event {
        Event {
            koid: counters::koids(1),
            state: Packed::new(EventState::NEW),
            watch: Watch::default(),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self) -> Koid {
        self.koid
    }

    pub(crate) fn signals(&self) -> Signals {
        self.state.get().signals()
    }

    pub(crate) fn add_handle(&self, locked: &WatchState) -> Result<(), Status> {
        self.state.add_handle(locked)
    }

    pub(crate) fn remove_handle(&self, locked: &WatchState) -> bool {
        self.state.remove_handle(locked)
    }

    /// The event's state.
    pub(crate) fn state(&self) -> &Packed<EventState> {
        &self.state
    }
}

/// Both ends of an eventpair.
#[derive(Debug)]
pub(crate) struct EventPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Each end's [`EventState`].
    ends: [Packed<EventState>; 2],
    pub(crate) watch: Watch,
    _live: Live,
}

impl EventPair {
    /// A new pair with one handle per end.
    pub(crate) fn new() -> EventPair {
        EventPair {
            koid: counters::koids(2),
            ends: [Packed::new(EventState::NEW), Packed::new(EventState::NEW)],
            watch: Watch::default(),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }

    /// The state of `side`.
    pub(crate) fn end(&self, side: Side) -> &Packed<EventState> {
        &self.ends[side.index()]
    }

    pub(crate) fn signals(&self, side: Side) -> Signals {
        self.end(side).get().signals()
    }

    pub(crate) fn add_handle(&self, locked: &WatchState, side: Side) -> Result<(), Status> {
        self.end(side).add_handle(locked)
    }

    /// Uncounts a handle; closing the last one tells the peer.
    pub(crate) fn remove_handle(&self, locked: &WatchState, side: Side) -> bool {
        let last = self.end(side).remove_handle(locked);
        if last {
            let _ = self.end(side.peer()).modify(locked, |peer| {
                peer.peer_gone();
                Ok(())
            });
        }
        last
    }
}

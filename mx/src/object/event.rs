//! Events and eventpairs: state in atomic words, changed under the watch
//! lock.

use mx_core::event::EventState;
use mx_core::{Koid, Side, Signals, Status};

use super::{Live, Watch, WatchState};
use crate::sync::{counters, AtomicU64, Ordering};

/// An event: user-settable signals and nothing else.
#[derive(Debug)]
pub(crate) struct Event {
    koid: Koid,
    /// The [`EventState`], packed; stored under the watch lock.
    state: AtomicU64,
    pub(crate) watch: Watch,
    _live: Live,
}

impl Event {
    /// A new event with one handle.
    pub(crate) fn new() -> Event {
        Event {
            koid: counters::koids(1),
            state: AtomicU64::new(EventState::NEW.pack()),
            watch: Watch::default(),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self) -> Koid {
        self.koid
    }

    fn get(&self) -> EventState {
        EventState::unpack(self.state.load(Ordering::Acquire))
    }

    fn set(&self, _locked: &WatchState, state: EventState) {
        self.state.store(state.pack(), Ordering::Release);
    }

    pub(crate) fn signals(&self) -> Signals {
        self.get().signals()
    }

    pub(crate) fn add_handle(&self, locked: &WatchState) -> Result<(), Status> {
        let mut state = self.get();
        if !state.is_open() {
            return Err(Status::BAD_HANDLE);
        }
        state.handles += 1;
        self.set(locked, state);
        Ok(())
    }

    pub(crate) fn remove_handle(&self, locked: &WatchState) -> bool {
        let mut state = self.get();
        state.handles -= 1;
        self.set(locked, state);
        state.handles == 0
    }

    pub(crate) fn signal(
        &self,
        locked: &WatchState,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        let mut state = self.get();
        state.signal(clear, set)?;
        self.set(locked, state);
        Ok(())
    }
}

/// Both ends of an eventpair.
#[derive(Debug)]
pub(crate) struct EventPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Each end's [`EventState`], packed; stored under the watch lock.
    ends: [AtomicU64; 2],
    pub(crate) watch: Watch,
    _live: Live,
}

impl EventPair {
    /// A new pair with one handle per end.
    pub(crate) fn new() -> EventPair {
        EventPair {
            koid: counters::koids(2),
            ends: [
                AtomicU64::new(EventState::NEW.pack()),
                AtomicU64::new(EventState::NEW.pack()),
            ],
            watch: Watch::default(),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }

    fn get(&self, side: Side) -> EventState {
        EventState::unpack(self.ends[side.index()].load(Ordering::Acquire))
    }

    fn set(&self, _locked: &WatchState, side: Side, state: EventState) {
        self.ends[side.index()].store(state.pack(), Ordering::Release);
    }

    pub(crate) fn signals(&self, side: Side) -> Signals {
        self.get(side).signals()
    }

    pub(crate) fn add_handle(&self, locked: &WatchState, side: Side) -> Result<(), Status> {
        let mut state = self.get(side);
        if !state.is_open() {
            return Err(Status::BAD_HANDLE);
        }
        state.handles += 1;
        self.set(locked, side, state);
        Ok(())
    }

    /// Uncounts a handle; closing the last one tells the peer.
    pub(crate) fn remove_handle(&self, locked: &WatchState, side: Side) -> bool {
        let mut state = self.get(side);
        state.handles -= 1;
        self.set(locked, side, state);
        if state.handles > 0 {
            return false;
        }
        let mut peer = self.get(side.peer());
        peer.peer_gone();
        self.set(locked, side.peer(), peer);
        true
    }

    pub(crate) fn signal(
        &self,
        locked: &WatchState,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        let mut state = self.get(side);
        state.signal(clear, set)?;
        self.set(locked, side, state);
        Ok(())
    }

    pub(crate) fn signal_peer(
        &self,
        locked: &WatchState,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        let mut peer = self.get(side.peer());
        peer.signal_as_peer(clear, set)?;
        self.set(locked, side.peer(), peer);
        Ok(())
    }
}

//! Events and eventpairs.

use mx_core::event::{EventCore, EventPairCore};
use mx_core::{Koid, Side, Signals, Status};

use super::{Core, Guarded, Live};
use crate::sync::counters;

/// An event: user-settable signals and nothing else.
#[derive(Debug)]
pub(crate) struct Event {
    koid: Koid,
    pub(crate) guarded: Guarded<EventCore>,
    _live: Live,
}

impl Event {
    /// A new event with one handle.
    pub(crate) fn new() -> Event {
        Event {
            koid: counters::koids(1),
            guarded: Guarded::new(EventCore::new()),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self) -> Koid {
        self.koid
    }
}

/// Both ends of an eventpair.
#[derive(Debug)]
pub(crate) struct EventPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    pub(crate) guarded: Guarded<EventPairCore>,
    _live: Live,
}

impl EventPair {
    /// A new pair with one handle per end.
    pub(crate) fn new() -> EventPair {
        EventPair {
            koid: counters::koids(2),
            guarded: Guarded::new(EventPairCore::new()),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }
}

impl Core for EventCore {
    const SIDES: &'static [Side] = &[Side::A];
    fn signals(&self, side: Side) -> Signals {
        debug_assert_eq!(side, Side::A);
        EventCore::signals(self)
    }
    fn add_handle(&mut self, _side: Side) -> Result<(), Status> {
        if !self.is_open() {
            return Err(Status::BAD_HANDLE);
        }
        EventCore::add_handle(self);
        Ok(())
    }
    fn remove_handle(&mut self, _side: Side) -> bool {
        EventCore::remove_handle(self)
    }
    fn user_signal(&mut self, _side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        self.signal(clear, set)
    }
    fn user_signal_peer(
        &mut self,
        _side: Side,
        _clear: Signals,
        _set: Signals,
    ) -> Result<(), Status> {
        Err(Status::NOT_SUPPORTED)
    }
}

impl Core for EventPairCore {
    const SIDES: &'static [Side] = &Side::BOTH;
    fn signals(&self, side: Side) -> Signals {
        self.end(side).signals()
    }
    fn add_handle(&mut self, side: Side) -> Result<(), Status> {
        if !self.end(side).is_open() {
            return Err(Status::BAD_HANDLE);
        }
        self.end_mut(side).add_handle();
        Ok(())
    }
    fn remove_handle(&mut self, side: Side) -> bool {
        EventPairCore::remove_handle(self, side)
    }
    fn user_signal(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        self.end_mut(side).signal(clear, set)
    }
    fn user_signal_peer(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        self.signal_peer(side, clear, set)
    }
}

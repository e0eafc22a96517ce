//! Events and eventpairs: objects whose only state is their signals.

use crate::{Side, Signals, Status};

/// The signals `object_signal` may change on an event or eventpair end.
pub const EVENT_USER_SIGNALS: Signals = Signals::USER_ALL.union(Signals::EVENT_SIGNALED);

/// One event, or one end of an eventpair.
#[derive(Debug)]
pub struct EventCore {
    /// Handles naming it; 0 once closed.
    handles: u32,
    /// Bits set by `object_signal` (user signals and `SIGNALED`).
    user: Signals,
    /// The peer of an eventpair end is closed.
    peer_closed: bool,
}

impl Default for EventCore {
    fn default() -> Self {
        EventCore::new()
    }
}

impl EventCore {
    /// A new event with one handle: `LAST_HANDLE` only.
    pub const fn new() -> EventCore {
        EventCore {
            handles: 1,
            user: Signals::NONE,
            peer_closed: false,
        }
    }

    /// Whether handles remain.
    pub fn is_open(&self) -> bool {
        self.handles > 0
    }

    /// The current signals, computed from the state.
    pub fn signals(&self) -> Signals {
        let mut signals = self.user;
        if self.peer_closed {
            signals |= Signals::EPAIR_PEER_CLOSED;
        }
        if self.handles == 1 {
            signals |= Signals::LAST_HANDLE;
        }
        signals
    }

    /// Clears then sets user-settable bits.
    ///
    /// # Errors
    /// `INVALID_ARGS` for other bits.
    pub fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        if !EVENT_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        self.user = (self.user - clear) | set;
        Ok(())
    }

    /// A handle was created.
    pub fn add_handle(&mut self) {
        debug_assert!(self.is_open());
        self.handles += 1;
    }

    /// A handle was closed; returns whether it was the last.
    pub fn remove_handle(&mut self) -> bool {
        debug_assert!(self.handles > 0);
        self.handles -= 1;
        self.handles == 0
    }
}

/// Both ends of an eventpair.
#[derive(Debug, Default)]
pub struct EventPairCore {
    ends: [EventCore; 2],
}

impl EventPairCore {
    /// A new pair, one handle per end.
    pub const fn new() -> EventPairCore {
        EventPairCore {
            ends: [EventCore::new(), EventCore::new()],
        }
    }

    /// One end.
    pub fn end(&self, side: Side) -> &EventCore {
        &self.ends[side.index()]
    }

    /// One end.
    pub fn end_mut(&mut self, side: Side) -> &mut EventCore {
        &mut self.ends[side.index()]
    }

    /// `object_signal_peer` from `side`.
    ///
    /// # Errors
    /// `INVALID_ARGS` for bits that are not user-settable; `PEER_CLOSED`.
    pub fn signal_peer(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        if !EVENT_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        let peer = self.end_mut(side.peer());
        if !peer.is_open() {
            return Err(Status::PEER_CLOSED);
        }
        peer.signal(clear, set)
    }

    /// A handle to `side` was closed; closing the last one tells the peer.
    pub fn remove_handle(&mut self, side: Side) -> bool {
        let last = self.end_mut(side).remove_handle();
        if last {
            self.end_mut(side.peer()).peer_closed = true;
        }
        last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_signals() {
        let mut e = EventCore::new();
        assert_eq!(e.signals(), Signals::LAST_HANDLE);
        assert_eq!(
            e.signal(Signals::NONE, Signals::READABLE),
            Err(Status::INVALID_ARGS)
        );
        e.signal(Signals::NONE, Signals::EVENT_SIGNALED | Signals::USER_3)
            .unwrap();
        e.add_handle();
        assert_eq!(e.signals(), Signals::EVENT_SIGNALED | Signals::USER_3);
    }

    #[test]
    fn eventpair_peer_closed_keeps_other_signals() {
        let mut p = EventPairCore::new();
        p.signal_peer(Side::A, Signals::NONE, Signals::EPAIR_SIGNALED)
            .unwrap();
        assert!(p.remove_handle(Side::A));
        assert_eq!(
            p.end(Side::B).signals(),
            Signals::EPAIR_SIGNALED | Signals::EPAIR_PEER_CLOSED | Signals::LAST_HANDLE
        );
        assert_eq!(
            p.signal_peer(Side::B, Signals::NONE, Signals::USER_0),
            Err(Status::PEER_CLOSED)
        );
    }
}

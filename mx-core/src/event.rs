//! Events and eventpairs: objects whose only state is their signals.

use crate::{Signals, Status};

/// The signals `object_signal` may change on an event or eventpair end.
pub const EVENT_USER_SIGNALS: Signals = Signals::USER_ALL.union(Signals::EVENT_SIGNALED);

/// One event, or one end of an eventpair. Packs into a word
/// ([`EventState::pack`]) so it can be read without a lock.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct EventState {
    /// Handles naming it; 0 once closed.
    pub handles: u32,
    /// Bits set by `object_signal` (user signals and `SIGNALED`), plus
    /// `EPAIR_PEER_CLOSED` once an eventpair's peer is gone.
    pub flags: Signals,
}

impl EventState {
    /// A new event (or end) with one handle.
    pub const NEW: EventState = EventState {
        handles: 1,
        flags: Signals::NONE,
    };

    /// Whether handles remain.
    pub const fn is_open(self) -> bool {
        self.handles > 0
    }

    /// The signals: the flags, and `LAST_HANDLE` with exactly one handle.
    pub fn signals(self) -> Signals {
        if self.handles == 1 {
            self.flags | Signals::LAST_HANDLE
        } else {
            self.flags
        }
    }

    /// Clears then sets user-settable bits (`object_signal`).
    ///
    /// # Errors
    /// `INVALID_ARGS` for other bits.
    pub fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        if !EVENT_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        self.flags = (self.flags - clear) | set;
        Ok(())
    }

    /// `object_signal_peer` on an eventpair end's peer, `self`.
    ///
    /// # Errors
    /// `INVALID_ARGS` for bits that are not user-settable; `PEER_CLOSED`.
    pub fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        if !EVENT_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        if !self.is_open() {
            return Err(Status::PEER_CLOSED);
        }
        self.signal(clear, set)
    }

    /// The peer of this eventpair end closed its last handle; the other
    /// signals stay as they were.
    pub fn peer_gone(&mut self) {
        self.flags |= Signals::EPAIR_PEER_CLOSED;
    }

    /// One word holding the whole state.
    pub const fn pack(self) -> u64 {
        (self.handles as u64) | ((self.flags.bits() as u64) << 32)
    }

    /// Unpacks a word from [`EventState::pack`].
    pub const fn unpack(word: u64) -> EventState {
        EventState {
            handles: word as u32,
            flags: Signals::from_bits_retain((word >> 32) as u32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_signals() {
        let mut e = EventState::NEW;
        assert_eq!(e.signals(), Signals::LAST_HANDLE);
        assert_eq!(
            e.signal(Signals::NONE, Signals::READABLE),
            Err(Status::INVALID_ARGS)
        );
        e.signal(Signals::NONE, Signals::EVENT_SIGNALED | Signals::USER_3)
            .unwrap();
        e.handles = 2;
        assert_eq!(e.signals(), Signals::EVENT_SIGNALED | Signals::USER_3);
        assert_eq!(EventState::unpack(e.pack()), e);
    }

    #[test]
    fn eventpair_peer_closed_keeps_other_signals() {
        let mut b = EventState::NEW;
        b.signal_as_peer(Signals::NONE, Signals::EPAIR_SIGNALED)
            .unwrap();
        b.peer_gone();
        assert_eq!(
            b.signals(),
            Signals::EPAIR_SIGNALED | Signals::EPAIR_PEER_CLOSED | Signals::LAST_HANDLE
        );
        let mut closed = EventState {
            handles: 0,
            ..EventState::NEW
        };
        assert_eq!(
            closed.signal_as_peer(Signals::NONE, Signals::USER_0),
            Err(Status::PEER_CLOSED)
        );
    }
}

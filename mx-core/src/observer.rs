//! Who is waiting on an object, and the rule for when they wake.
//!
//! An [`ObserverList`] sits beside an object's state under the object's lock.
//! Each [`Observer`] watches some signals of one end; the payload `K` says what
//! to do when it fires (unpark a thread, wake a task, queue a port packet) and
//! is the object layer's business.
//!
//! The rules, from the specification of `mx_object_wait_one`:
//! - while registered, an observer accumulates (ORs) every state the end is
//!   seen in, so `observed` may hold bits that are no longer set;
//! - only a change that *asserts* a watched bit fires an observer (the state
//!   at registration is checked by the registering caller);
//! - a socket writer waits for [`Wanted::Room`], never for signals: it fires
//!   when at least that many payload bytes fit, or when a write would fail
//!   anyway (the object layer reports unlimited room then). A writer that
//!   watched `PEER_CLOSED` would spin once the peer half-closed (the peer
//!   can still read, so `PEER_CLOSED` stays asserted while the buffer stays
//!   full), and one that watched `WRITABLE` would spin on a datagram that
//!   does not fit (SPEC 4). So whatever fires a room waiter implies that its
//!   next write makes progress or fails;
//! - a *repeating* observer (`MX_WAIT_ASYNC_REPEATING`) fires on every change
//!   of the end's signals while any watched bit is asserted; its owner decides
//!   whether that queues a packet or updates the one already queued.

use alloc::vec::Vec;
use core::fmt;

use triomphe::UniqueArc;

use crate::abi::RawHandle;
use crate::{Side, Signals, Status};

/// The signals of both ends of an object before and after an operation.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct Changes {
    /// Signals before, by [`Side::index`].
    pub old: [Signals; 2],
    /// Signals after, by [`Side::index`].
    pub new: [Signals; 2],
}

impl Changes {
    /// Bits of `side` that went from clear to set.
    pub fn asserted(&self, side: Side) -> Signals {
        self.new[side.index()] & !self.old[side.index()]
    }

    /// Whether anything changed on `side`.
    pub fn changed(&self, side: Side) -> bool {
        self.new[side.index()] != self.old[side.index()]
    }
}

/// What happens to an observer after it fired.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Verdict {
    /// It stays registered (its owner removes it).
    Keep,
    /// It is removed now.
    Remove,
}

/// What an observer waits for.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Wanted {
    /// Any of these signals becoming asserted.
    Signals(Signals),
    /// Room for this many payload bytes (a socket writer; at least 1), or a
    /// write that would fail whatever the room.
    Room(usize),
}

impl Wanted {
    /// The signals that fire it (none for a room waiter).
    pub const fn signals(self) -> Signals {
        match self {
            Wanted::Signals(signals) => signals,
            Wanted::Room(_) => Signals::NONE,
        }
    }

    /// Whether an end showing `current` with `room` writable bytes (`None`:
    /// not a socket) satisfies it.
    pub fn satisfied_by(self, current: Signals, room: Option<usize>) -> bool {
        match self {
            Wanted::Signals(signals) => current.intersects(signals),
            Wanted::Room(need) => room.is_some_and(|room| room >= need.max(1)),
        }
    }
}

/// One registered wait.
#[derive(Debug)]
pub struct Observer<K> {
    /// Identifies the registration for removal.
    pub id: u64,
    /// The end watched (always [`Side::A`] for unpeered objects).
    pub side: Side,
    /// The handle value the wait was made through: closing it cancels the wait.
    pub handle: RawHandle,
    /// What fires it.
    pub wanted: Wanted,
    /// The OR of every state seen while registered.
    pub observed: Signals,
    /// Has fired at least once.
    pub fired: bool,
    /// Its handle was closed.
    pub canceled: bool,
    /// Fires on every change while triggered, not once.
    pub repeating: bool,
    /// What firing does.
    pub kind: K,
}

impl<K> Observer<K> {
    /// A new, unfired observer of `side` that has seen `current`.
    pub fn new(
        id: u64,
        side: Side,
        handle: RawHandle,
        wanted: Wanted,
        current: Signals,
        kind: K,
    ) -> Observer<K> {
        Observer {
            id,
            side,
            handle,
            wanted,
            observed: current,
            fired: false,
            canceled: false,
            repeating: false,
            kind,
        }
    }
}

/// The observers of one object (both ends of a peered one).
///
/// The list is allocated on first registration (an object nobody waited on
/// pays one pointer) and kept while small.
pub struct ObserverList<K> {
    entries: Option<UniqueArc<Vec<Observer<K>>>>,
}

impl<K: fmt::Debug> fmt::Debug for ObserverList<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.as_deref().into_iter().flatten())
            .finish()
    }
}

impl<K> Default for ObserverList<K> {
    fn default() -> Self {
        ObserverList::new()
    }
}

impl<K> ObserverList<K> {
    /// An empty list; allocates nothing.
    pub const fn new() -> ObserverList<K> {
        ObserverList { entries: None }
    }

    /// Whether nobody waits (the fast path of every state change).
    pub fn is_empty(&self) -> bool {
        self.entries.as_ref().is_none_or(|e| e.is_empty())
    }

    /// Number of observers.
    pub fn len(&self) -> usize {
        self.entries.as_ref().map_or(0, |e| e.len())
    }

    /// Registers an observer.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn add(&mut self, observer: Observer<K>) -> Result<(), Status> {
        self.reserve()?;
        self.push(observer);
        Ok(())
    }

    /// Makes room so that the next [`ObserverList::push`] cannot fail.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn reserve(&mut self) -> Result<(), Status> {
        if self.entries.is_none() {
            self.entries = Some(UniqueArc::try_new(Vec::new()).map_err(|_| Status::NO_MEMORY)?);
        }
        match self.entries.as_deref_mut() {
            Some(entries) => Ok(entries.try_reserve(1)?),
            None => Err(Status::INTERNAL),
        }
    }

    /// Registers an observer after [`ObserverList::reserve`].
    pub fn push(&mut self, observer: Observer<K>) {
        if let Some(entries) = self.entries.as_deref_mut() {
            debug_assert!(entries.len() < entries.capacity(), "reserve first");
            entries.push(observer);
        }
    }

    /// Removes and returns the observer `id`.
    pub fn remove(&mut self, id: u64) -> Option<Observer<K>> {
        let entries = self.entries.as_deref_mut()?;
        let i = entries.iter().position(|o| o.id == id)?;
        let observer = entries.swap_remove(i);
        if entries.is_empty() && entries.capacity() > 4 {
            self.entries = None;
        }
        Some(observer)
    }

    /// The observer `id`.
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Observer<K>> {
        self.entries.as_deref_mut()?.iter_mut().find(|o| o.id == id)
    }

    /// Calls `f` on every observer; removes those for which it says so.
    pub fn retain(&mut self, mut f: impl FnMut(&mut Observer<K>) -> Verdict) {
        if let Some(entries) = self.entries.as_deref_mut() {
            entries.retain_mut(|o| f(o) == Verdict::Keep);
        }
    }

    /// Applies a change of `side` from `old` to `new` signals, with `room`
    /// payload bytes now writable from `side` (sockets): every observer of
    /// `side` accumulates `new`, and `fire` runs for each one the change
    /// fires (a watched bit newly asserted, or enough room for a room waiter).
    pub fn notify(
        &mut self,
        side: Side,
        old: Signals,
        new: Signals,
        room: Option<usize>,
        mut fire: impl FnMut(&mut Observer<K>) -> Verdict,
    ) {
        let asserted = new & !old;
        let changed = new != old;
        let Some(entries) = self.entries.as_deref_mut() else {
            return;
        };
        if !changed && room.is_none() {
            return;
        }
        entries.retain_mut(|o| {
            if o.side != side {
                return true;
            }
            o.observed |= new;
            let fires = if o.repeating {
                changed && o.wanted.signals().intersects(new)
            } else {
                // Only a change that asserts a watched bit fires a signal
                // waiter; a room waiter fires whenever its room is there.
                !o.fired
                    && match o.wanted {
                        Wanted::Signals(signals) => signals.intersects(asserted),
                        Wanted::Room(_) => o.wanted.satisfied_by(new, room),
                    }
            };
            !fires || fire(o) == Verdict::Keep
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> ObserverList<u32> {
        let mut l = ObserverList::new();
        l.add(Observer::new(
            1,
            Side::A,
            5,
            Wanted::Signals(Signals::READABLE),
            Signals::WRITABLE,
            10,
        ))
        .unwrap();
        l.add(Observer::new(
            2,
            Side::B,
            6,
            Wanted::Signals(Signals::READABLE),
            Signals::NONE,
            20,
        ))
        .unwrap();
        l
    }

    #[test]
    fn only_assertions_of_watched_bits_fire() {
        let mut l = list();
        let mut fired = alloc::vec::Vec::new();
        l.notify(Side::A, Signals::WRITABLE, Signals::NONE, None, |o| {
            fired.push(o.kind);
            Verdict::Keep
        });
        l.notify(Side::A, Signals::NONE, Signals::USER_0, None, |o| {
            fired.push(o.kind);
            Verdict::Keep
        });
        assert!(fired.is_empty());
        assert_eq!(
            l.get_mut(1).unwrap().observed,
            Signals::WRITABLE | Signals::USER_0
        );
        l.notify(Side::A, Signals::NONE, Signals::READABLE, None, |o| {
            fired.push(o.kind);
            o.fired = true;
            Verdict::Keep
        });
        assert_eq!(fired, [10]);
        // Fired once; further changes only accumulate.
        l.notify(
            Side::A,
            Signals::NONE,
            Signals::READABLE | Signals::USER_1,
            None,
            |o| {
                fired.push(o.kind);
                Verdict::Keep
            },
        );
        assert_eq!(fired, [10]);
        assert!(l.get_mut(1).unwrap().observed.contains(Signals::USER_1));
        assert_eq!(l.get_mut(2).unwrap().observed, Signals::NONE);
    }

    #[test]
    fn repeating_observers_fire_on_every_change_while_triggered() {
        let mut l: ObserverList<u32> = ObserverList::new();
        let mut o = Observer::new(
            1,
            Side::A,
            5,
            Wanted::Signals(Signals::READABLE),
            Signals::NONE,
            1,
        );
        o.repeating = true;
        l.add(o).unwrap();
        let mut n = 0;
        let mut count = |l: &mut ObserverList<u32>, old, new| {
            l.notify(Side::A, old, new, None, |_| {
                n += 1;
                Verdict::Keep
            });
        };
        count(&mut l, Signals::NONE, Signals::USER_0);
        count(&mut l, Signals::USER_0, Signals::USER_0 | Signals::READABLE);
        count(
            &mut l,
            Signals::READABLE,
            Signals::READABLE | Signals::USER_1,
        );
        count(&mut l, Signals::READABLE, Signals::READABLE);
        count(&mut l, Signals::READABLE, Signals::NONE);
        assert_eq!(n, 2, "fires on changes while READABLE is asserted only");
    }

    #[test]
    fn room_waiters_fire_on_enough_room() {
        let mut l: ObserverList<u32> = ObserverList::new();
        let o = Observer::new(1, Side::A, 5, Wanted::Room(100), Signals::NONE, 1);
        l.add(o).unwrap();
        let mut n = 0;
        l.notify(Side::A, Signals::NONE, Signals::NONE, Some(99), |_| {
            n += 1;
            Verdict::Remove
        });
        // Signals that a writer must not wake on: the peer half-closed (it
        // can still read, so there is still no room).
        l.notify(
            Side::A,
            Signals::NONE,
            Signals::PEER_CLOSED | Signals::WRITABLE,
            Some(99),
            |_| {
                n += 1;
                Verdict::Remove
            },
        );
        assert_eq!(n, 0);
        l.notify(Side::A, Signals::NONE, Signals::NONE, Some(100), |_| {
            n += 1;
            Verdict::Remove
        });
        assert_eq!(n, 1);
        assert!(l.is_empty());
    }
}

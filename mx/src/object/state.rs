//! [`Packed`]: an object's per-end state in one atomic word.
//!
//! Every kind keeps what changes under its watch lock (handle count, user
//! signals, half-close, peer-closed) in a `mx-core` value that packs into a
//! `u64`. Slow changes hold the watch lock (the `&WatchState` parameter
//! proves it); handle counts change without it, by compare-and-swap, so
//! duplicating and closing a handle of an object nobody waits on takes no
//! lock. Every change is a compare-and-swap of the whole word; readers load
//! it without any lock and always see a whole value.

use core::marker::PhantomData;

use mx_core::channel::EndState as ChannelEnd;
use mx_core::event::EventState;
use mx_core::socket as rules;
use mx_core::socket::End;
use mx_core::{Signals, Status};

use super::watch::WatchState;
use crate::sync::{AtomicU64, Ordering};

/// A state that packs into a word, counts handles and holds user signals.
pub(crate) trait Pack: Copy {
    fn pack(self) -> u64;
    fn unpack(word: u64) -> Self;
    fn handles(&mut self) -> &mut u32;
    /// `mx_object_signal` on this end.
    fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status>;
    /// `mx_object_signal_peer` arriving at this end.
    fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status>;
}

impl Pack for End {
    fn pack(self) -> u64 {
        End::pack(self)
    }
    fn unpack(word: u64) -> End {
        End::unpack(word)
    }
    fn handles(&mut self) -> &mut u32 {
        &mut self.handles
    }
    fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        rules::signal(self, clear, set)
    }
    fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        rules::signal_peer(self, clear, set)
    }
}

impl Pack for ChannelEnd {
    fn pack(self) -> u64 {
        ChannelEnd::pack(self)
    }
    fn unpack(word: u64) -> ChannelEnd {
        ChannelEnd::unpack(word)
    }
    fn handles(&mut self) -> &mut u32 {
        &mut self.handles
    }
    fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        ChannelEnd::signal(self, clear, set)
    }
    fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        ChannelEnd::signal_as_peer(self, clear, set)
    }
}

impl Pack for EventState {
    fn pack(self) -> u64 {
        EventState::pack(self)
    }
    fn unpack(word: u64) -> EventState {
        EventState::unpack(word)
    }
    fn handles(&mut self) -> &mut u32 {
        &mut self.handles
    }
    fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        EventState::signal(self, clear, set)
    }
    fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        EventState::signal_as_peer(self, clear, set)
    }
}

/// One end's state, packed into an atomic word.
#[derive(Debug)]
pub(crate) struct Packed<T> {
    word: AtomicU64,
    _state: PhantomData<T>,
}

impl<T: Pack> Packed<T> {
    pub(crate) fn new(state: T) -> Packed<T> {
        Packed {
            word: AtomicU64::new(state.pack()),
            _state: PhantomData,
        }
    }

    /// The current state (no lock needed).
    pub(crate) fn get(&self) -> T {
        T::unpack(self.word.load(Ordering::Acquire))
    }

    /// Changes the state with `f`, under the watch lock; nothing is stored
    /// if `f` fails. (The change is a compare-and-swap, since handle counts
    /// change without the lock: `f` may run more than once.)
    pub(crate) fn modify<R>(
        &self,
        _locked: &WatchState,
        f: impl FnMut(&mut T) -> Result<R, Status>,
    ) -> Result<R, Status> {
        self.update(f)
    }

    /// Changes the state with `f` by compare-and-swap, with or without the
    /// watch lock; nothing is stored if `f` fails.
    pub(crate) fn update<R>(
        &self,
        mut f: impl FnMut(&mut T) -> Result<R, Status>,
    ) -> Result<R, Status> {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            let mut state = T::unpack(word);
            let result = f(&mut state)?;
            match self.word.compare_exchange_weak(
                word,
                state.pack(),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(result),
                Err(now) => word = now,
            }
        }
    }

    /// Counts a new handle, without the watch lock (the caller then
    /// publishes the change: `watch::data_changed`); `BAD_HANDLE` if the
    /// last one was closed already (the handle being duplicated is gone).
    pub(crate) fn add_handle(&self) -> Result<(), Status> {
        self.update(|state| match state.handles() {
            0 => Err(Status::BAD_HANDLE),
            handles => {
                *handles += 1;
                Ok(())
            }
        })
    }

    /// `mx_object_signal` on this end, under the watch lock.
    pub(crate) fn signal(
        &self,
        locked: &WatchState,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        self.modify(locked, |state| state.signal(clear, set))
    }

    /// `mx_object_signal_peer` arriving at this end, under the watch lock.
    pub(crate) fn signal_as_peer(
        &self,
        locked: &WatchState,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        self.modify(locked, |state| state.signal_as_peer(clear, set))
    }

    /// Uncounts a handle unless it is the last one (the caller then
    /// publishes: `watch::handle_closed`); returns whether it did. The last
    /// one goes through [`Packed::remove_handle_locked`].
    pub(crate) fn remove_handle_unless_last(&self) -> bool {
        self.update(|state| match state.handles() {
            0 | 1 => Err(Status::SHOULD_WAIT),
            handles => {
                *handles -= 1;
                Ok(())
            }
        })
        .is_ok()
    }

    /// Uncounts a handle under the watch lock; returns whether it was the
    /// last (a duplicate made meanwhile may have added one).
    pub(crate) fn remove_handle_locked(&self, _locked: &WatchState) -> bool {
        self.remove_handle()
    }

    /// Uncounts a handle, without the watch lock (the caller then
    /// publishes: `watch::handle_closed`); returns whether it was the last.
    pub(crate) fn remove_handle(&self) -> bool {
        self.update(|state| {
            let handles = state.handles();
            debug_assert!(*handles > 0);
            *handles = handles.saturating_sub(1);
            Ok(*handles == 0)
        })
        .unwrap_or(false)
    }
}

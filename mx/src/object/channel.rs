//! Channel pairs: two ends, each with an inbox of messages its peer wrote
//! and the callers of `mx_channel_call` waiting on it for replies.
//!
//! ```text
//!            write from A                          write from B
//!   A ------------------> inbox[B] -> stash[B] ... reader at B
//!   reader at A ... stash[A] <- inbox[A] <------------------------ B
//!   (callers waiting on A for replies sit in inbox[A])
//! ```
//!
//! A message's handles are [`Transit`]s: out of every handle table, still
//! counted as handles of their objects. A write moves them out of the
//! writer's table in the same step as the message enters the peer's inbox
//! (`HandleTable::transfer` holds the table's buckets while
//! [`ChannelPair::send`] runs); a read moves them into the reader's
//! (`HandleTable::find_with_slots`). A message that is destroyed unread (its
//! reader closed, or `MAY_DISCARD`, or a call's reply that does not fit)
//! closes its handles; [`bury`] does that without recursing, since a handle
//! may be the last of a channel end whose own inbox holds more messages.
//!
//! [`ChannelPair::send`] is the one place a message goes from an end to its
//! peer: the seam where a peer in another process will take the message
//! over an OS transport instead of an inbox.
//!
//! Signals are computed from atomic words (each end's [`EndState`] and its
//! queue length), so waiting works as for every kind ([`super::watch`]).
//!
//! Lock order: table buckets → an end's stash lock → that end's inbox lock
//! → watch lock → port lock; one end's locks are never held while taking
//! the other end's. Messages are destroyed only after these are released.

use core::cell::RefCell;
use core::task::Waker;
use std::collections::VecDeque;

use mx_core::channel::{self as rules, Delivered, EndState, Inbox, ReadCheck};
use mx_core::{Koid, RawHandle, Side, Signals, Status, Time};

use super::state::Packed;
use super::wait::{park_until, spin_until};
use super::watch::{self, Observable, Watch};
use super::Live;
use crate::sync::{counters, Arc, AtomicU64, Mutex, Ordering, Padded, Parker};
use smallvec::SmallVec;

use crate::table::{Slots, Transits};

/// A message's bytes: up to [`INLINE_BYTES`] inside the message itself (no
/// allocation for small messages), more on the heap.
pub(crate) type Bytes = SmallVec<[u8; INLINE_BYTES]>;

/// Bytes a message holds without an allocation of their own.
pub(crate) const INLINE_BYTES: usize = 64;

/// A message: bytes and handles, delivered whole.
#[derive(Debug, Default)]
pub(crate) struct Message {
    /// The bytes (at most `MX_CHANNEL_MAX_MSG_BYTES`).
    pub(crate) bytes: Bytes,
    /// The handles, in the order they were listed (at most
    /// `MX_CHANNEL_MAX_MSG_HANDLES`; no allocation for one or two).
    pub(crate) handles: Transits,
}

impl Message {
    /// Its size as a read checks it: `(bytes, handles)`.
    fn size(&self) -> (usize, usize) {
        (self.bytes.len(), self.handles.len())
    }
}

/// How a caller of `mx_channel_call` waits for its reply.
#[derive(Debug)]
pub(crate) enum CallWaker {
    /// A blocked thread.
    Thread(Arc<Parker>),
    /// An async task (re-registered at every poll).
    Task(Waker),
}

impl CallWaker {
    fn wake(&self) {
        match self {
            CallWaker::Thread(parker) => parker.unpark(),
            CallWaker::Task(waker) => waker.wake_by_ref(),
        }
    }
}

/// What one end holds to read.
///
/// Writers put messages into `inbox`; a reader takes them all from there at
/// once into `stash` (an O(1) exchange of the two queues) and reads from
/// `stash`, so while the reader has messages in hand, writer and reader
/// touch no common lock or cache line. Each side's counter is on its own
/// line too.
#[derive(Debug, Default)]
struct Queue {
    /// Messages written to this end, not yet taken into `stash`, and the
    /// callers waiting on this end for replies. Writers take this lock; a
    /// reader takes it only to empty it into `stash`.
    inbox: Padded<Mutex<Inbox<Message, CallWaker>>>,
    /// Messages taken from `inbox` for readers, oldest first. Readers take
    /// this lock (before `inbox`'s, when they take both).
    stash: Padded<Mutex<VecDeque<Message>>>,
    /// Messages ever queued at this end (not those handed straight to a
    /// caller); stored under `inbox`'s lock.
    written: Padded<AtomicU64>,
    /// Messages ever taken from this end (read, discarded, destroyed);
    /// stored under `stash`'s lock.
    taken: Padded<AtomicU64>,
}

impl Queue {
    /// Messages queued now: every one written and not yet taken (`taken`
    /// is read first, so the difference is never negative).
    fn len(&self) -> usize {
        let taken = self.taken.load(Ordering::Acquire);
        let written = self.written.load(Ordering::Acquire);
        written.wrapping_sub(taken) as usize
    }

    /// Counts `n` more messages queued; under `inbox`'s lock.
    fn wrote(&self, n: u64) {
        let written = self.written.load(Ordering::Relaxed);
        self.written.store(written + n, Ordering::Release);
    }

    /// Counts `n` more messages taken; under `stash`'s lock.
    fn took(&self, n: u64) {
        let taken = self.taken.load(Ordering::Relaxed);
        self.taken.store(taken + n, Ordering::Release);
    }
}

/// A stash that held a burst this large gives its memory back once empty.
const KEEP_STASH: usize = 1024;

/// Both ends of a channel.
#[derive(Debug)]
pub(crate) struct ChannelPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Each end's [`EndState`]: changed under the watch lock, read by anyone.
    ends: [Packed<EndState>; 2],
    /// What each end holds to read, and who waits on it for a reply.
    queues: [Queue; 2],
    /// Observers of both ends.
    watch: Watch,
    pub(super) _live: Live,
}

/// Why [`ChannelPair::read`] returned no message.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The first message fits but has handles, and the read was given no
    /// room in the table for them (nothing consumed: retry with room).
    HasHandles,
    /// `SHOULD_WAIT` or `PEER_CLOSED` (nothing queued), or the error of the
    /// reservation for the message's handles (nothing consumed).
    Status(Status),
    /// `BUFFER_TOO_SMALL`: the first message's size; `discarded` holds it if
    /// `MAY_DISCARD` removed it (the caller buries it).
    TooSmall {
        /// Bytes and handles of the message.
        size: (usize, usize),
        /// The message, removed with `MAY_DISCARD`.
        discarded: Option<Message>,
    },
}

/// How a call ended, seen from the caller.
#[derive(Debug)]
pub(crate) enum CallEnd {
    /// Its reply.
    Reply(Message),
    /// The deadline passed first.
    TimedOut,
    /// The peer's last handle was closed.
    PeerClosed,
    /// The caller's own end lost its last handle.
    Canceled,
}

impl ChannelPair {
    /// A new pair with one handle per end.
    pub(crate) fn new() -> ChannelPair {
        ChannelPair {
            koid: counters::koids(2),
            ends: [Packed::new(EndState::NEW), Packed::new(EndState::NEW)],
            queues: Default::default(),
            watch: Watch::default(),
            _live: Live::new(),
        }
    }

    /// The koid of one end.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }

    fn end(&self, side: Side) -> EndState {
        self.ends[side.index()].get()
    }

    /// Messages queued at `side`.
    pub(crate) fn queued(&self, side: Side) -> usize {
        self.queues[side.index()].len()
    }

    /// Counts a new handle to `side`.
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        self.ends[side.index()].add_handle()?;
        watch::data_changed(self);
        Ok(())
    }

    /// The handle `handle` to `side` was closed: cancels its waits and
    /// uncounts it. The last one closes the end: its queued messages are
    /// destroyed (closing their handles), and the callers waiting on either
    /// end wake (to `CANCELED` on this end, `PEER_CLOSED` on the other).
    ///
    /// The last one is uncounted under the watch lock, so that a call made
    /// under it (`signal_peer`) through a handle of this end whose lookup
    /// raced the close sees the end open or closed throughout.
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        let end = &self.ends[side.index()];
        let last = if end.remove_handle_unless_last() {
            watch::handle_closed(self, handle);
            false
        } else {
            watch::update(self, |locked| {
                locked.cancel(handle);
                end.remove_handle_locked(locked)
            })
        };
        if !last {
            return;
        }
        let queue = &self.queues[side.index()];
        let (stashed, queued) = {
            let mut stash = queue.stash.lock();
            let mut inbox = queue.inbox.lock();
            let stashed = core::mem::take(&mut *stash);
            let queued = inbox.take_all();
            queue.took((stashed.len() + queued.len()) as u64);
            // Callers find out under the lock: waking is a futex wake or a
            // task wake, neither of which takes our locks.
            inbox.callers().for_each(|c| c.waker.wake());
            (stashed, queued)
        };
        self.queues[side.peer().index()]
            .inbox
            .lock()
            .callers()
            .for_each(|c| c.waker.wake());
        bury(stashed.into_iter().chain(queued));
    }

    /// `mx_object_signal` on `side`: user signals only.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        watch::update(self, |locked| {
            self.ends[side.index()].signal(locked, clear, set)
        })
    }

    /// `mx_object_signal_peer` from `side`.
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        watch::update(self, |locked| {
            if !self.end(side).is_open() {
                // Closed after the lookup found the handle.
                return Err(Status::BAD_HANDLE);
            }
            self.ends[side.peer().index()].signal_as_peer(locked, clear, set)
        })
    }

    /// Sends `message` from `side` to its peer: to a caller on the peer
    /// waiting for its transaction id, or to the back of the peer's inbox.
    /// With `caller`, first registers a call on `side` waiting for the reply
    /// to the message's transaction id, in the same step (so no reply can
    /// come before it is registered). The peer being open is checked in
    /// that step too, and so is `side`: a write whose lookup found its
    /// handle just before another thread closed the end's last handle
    /// fails (`BAD_HANDLE`) rather than deliver a message the peer may
    /// already have seen `PEER_CLOSED` without (the peer's read looks at
    /// this end's state before it takes its inbox lock, where this looks).
    ///
    /// # Errors
    /// `BAD_HANDLE`, `PEER_CLOSED`, `NO_MEMORY`; the message is handed back
    /// (by value: a failing path must not allocate, so it is not boxed).
    #[allow(clippy::result_large_err)]
    pub(crate) fn send(
        &self,
        side: Side,
        message: Message,
        caller: Option<(u64, CallWaker)>,
    ) -> Result<(), (Status, Message)> {
        let peer = side.peer();
        let txid = rules::txid(&message.bytes);
        // A call waits on its own end before its message leaves (taking one
        // end's inbox lock at a time: two ends calling each other at once
        // cannot deadlock).
        let call = match caller {
            Some((id, waker)) => {
                let added = {
                    let mut inbox = self.queues[side.index()].inbox.lock();
                    // The last close wakes the callers under this lock.
                    if self.end(side).is_open() {
                        inbox.add_caller(id, txid, waker)
                    } else {
                        Err(Status::BAD_HANDLE)
                    }
                };
                if let Err(status) = added {
                    return Err((status, message));
                }
                Some(id)
            }
            None => None,
        };
        let sent = {
            let queue = &self.queues[peer.index()];
            let mut inbox = queue.inbox.lock();
            if !self.end(side).is_open() {
                Err((Status::BAD_HANDLE, message))
            } else if !self.end(peer).is_open() {
                Err((Status::PEER_CLOSED, message))
            } else if let Err(status) = inbox.reserve() {
                Err((status, message))
            } else {
                Ok(match inbox.deliver(message, txid) {
                    Delivered::Caller(waker) => {
                        waker.wake();
                        true
                    }
                    Delivered::Queued { .. } => {
                        queue.wrote(1);
                        false
                    }
                })
            }
        };
        match sent {
            Ok(woken) => {
                if !woken {
                    watch::data_changed(self);
                }
                Ok(())
            }
            Err(failed) => {
                if let Some(id) = call {
                    self.queues[side.index()].inbox.lock().remove_caller(id);
                }
                Err(failed)
            }
        }
    }

    /// Takes the first message at `side` if it fits in `room` (bytes,
    /// handles), once `slots` has room in the table for its handles (with no
    /// `slots`, only a message without handles is taken); with
    /// `may_discard`, removes it also when it does not fit.
    ///
    /// # Errors
    /// See [`ReadError`] (which holds a discarded message by value, not
    /// boxed, for the same reason as [`ChannelPair::send`]).
    #[allow(clippy::result_large_err)]
    pub(crate) fn read(
        &self,
        side: Side,
        room: (usize, usize),
        may_discard: bool,
        slots: Option<&mut Slots<'_, '_>>,
    ) -> Result<Message, ReadError> {
        let queue = &self.queues[side.index()];
        let result = {
            let mut stash = queue.stash.lock();
            if stash.is_empty() {
                // The peer's state first: if it was closed, everything it
                // wrote is in the inbox now, so an empty queue means
                // PEER_CLOSED; if it was open, SHOULD_WAIT is right at the
                // moment of the exchange below.
                let peer_open = self.end(side.peer()).is_open();
                queue.inbox.lock().swap_messages(&mut stash);
                if stash.is_empty() {
                    let status = if !self.end(side).is_open() {
                        // Closed after the lookup found the handle.
                        Status::BAD_HANDLE
                    } else if peer_open {
                        Status::SHOULD_WAIT
                    } else {
                        Status::PEER_CLOSED
                    };
                    return Err(ReadError::Status(status));
                }
            }
            let Some(first) = stash.front() else {
                return Err(ReadError::Status(Status::INTERNAL));
            };
            let size = first.size();
            let result = match rules::read_check(size, room, may_discard) {
                ReadCheck::Take => {
                    if size.1 > 0 {
                        let Some(slots) = slots else {
                            return Err(ReadError::HasHandles);
                        };
                        slots.reserve(size.1).map_err(ReadError::Status)?;
                    }
                    stash.pop_front().ok_or(ReadError::Status(Status::INTERNAL))
                }
                ReadCheck::TooSmall => {
                    return Err(ReadError::TooSmall {
                        size,
                        discarded: None,
                    })
                }
                ReadCheck::Discard => Err(ReadError::TooSmall {
                    size,
                    discarded: stash.pop_front(),
                }),
            };
            queue.took(1);
            if stash.is_empty() && stash.capacity() > KEEP_STASH {
                *stash = VecDeque::new();
            }
            result
        };
        watch::data_changed(self);
        result
    }

    /// Waits for the reply to the call `id` made from `side` (registered by
    /// [`ChannelPair::send`]) until `deadline`, and unregisters it.
    pub(crate) fn await_reply(
        &self,
        side: Side,
        id: u64,
        parker: &Parker,
        deadline: Time,
    ) -> CallEnd {
        if !spin_until(deadline, || parker.is_unparked()) {
            park_until(parker, deadline);
        }
        match self.poll_reply(side, id, None) {
            Some(end) => end,
            None => {
                self.cancel_call(side, id);
                CallEnd::TimedOut
            }
        }
    }

    /// How the call `id` from `side` ended, if it did (and then it is
    /// unregistered); otherwise, with `waker`, makes it the one to wake.
    pub(crate) fn poll_reply(&self, side: Side, id: u64, waker: Option<&Waker>) -> Option<CallEnd> {
        let mut inbox = self.queues[side.index()].inbox.lock();
        let end = match inbox.caller(id) {
            Some(caller) if caller.reply.is_some() => {
                let reply = inbox.remove_caller(id).and_then(|c| c.reply);
                return reply.map(CallEnd::Reply);
            }
            Some(_) if !self.end(side).is_open() => CallEnd::Canceled,
            Some(_) if !self.end(side.peer()).is_open() => CallEnd::PeerClosed,
            Some(_) => {
                if let Some(waker) = waker {
                    inbox.set_caller_waker(id, CallWaker::Task(waker.clone()));
                }
                return None;
            }
            None => CallEnd::Canceled,
        };
        inbox.remove_caller(id);
        Some(end)
    }

    /// Gives up the call `id` from `side` (its deadline passed, or its
    /// future was dropped). A reply that arrived meanwhile is queued as an
    /// ordinary message, as one arriving later will be.
    pub(crate) fn cancel_call(&self, side: Side, id: u64) {
        let queue = &self.queues[side.index()];
        let requeued = {
            let mut inbox = queue.inbox.lock();
            match inbox.remove_caller(id).and_then(|c| c.reply) {
                Some(reply) => match inbox.reserve() {
                    Ok(()) => {
                        inbox.push_back(reply);
                        queue.wrote(1);
                        None
                    }
                    Err(_) => Some(reply),
                },
                None => return,
            }
        };
        // Out of memory: the reply cannot be queued and is destroyed.
        bury(requeued);
        watch::data_changed(self);
    }
}

impl Observable for ChannelPair {
    fn watch(&self) -> &Watch {
        &self.watch
    }

    fn sides(&self) -> &'static [Side] {
        &Side::BOTH
    }

    fn signals(&self, side: Side) -> Signals {
        rules::signals(self.end(side), self.end(side.peer()), self.queued(side))
    }

    fn messages(&self, side: Side) -> Option<usize> {
        Some(self.queued(side))
    }
}

#[cfg(not(loom))]
std::thread_local! {
    /// Messages waiting to be destroyed by the [`bury`] running on this
    /// thread (`None`: none is running).
    static GRAVE: RefCell<Option<Vec<Message>>> = const { RefCell::new(None) };
}

// Loom's model threads share one OS thread: each needs its own grave.
#[cfg(loom)]
loom::thread_local! {
    static GRAVE: RefCell<Option<Vec<Message>>> = RefCell::new(None);
}

/// Destroys `messages`, closing their handles, without recursing: closing
/// a handle may close a channel end whose inbox holds messages with more
/// handles, and so on, as deep as a program nests them. The outermost call
/// on a thread drains a work list; calls made while it runs add to it.
/// Run with no lock held.
pub(crate) fn bury(messages: impl IntoIterator<Item = Message>) {
    let mut messages = messages.into_iter().peekable();
    if messages.peek().is_none() {
        return;
    }
    let nested = GRAVE.with(|grave| {
        let mut grave = grave.borrow_mut();
        match grave.as_mut() {
            Some(list) => {
                for message in messages.by_ref() {
                    if list.try_reserve(1).is_ok() {
                        list.push(message);
                    } else {
                        // Out of memory: destroy it here (recursing).
                        drop(message);
                    }
                }
                true
            }
            None => {
                *grave = Some(Vec::new());
                false
            }
        }
    });
    if nested {
        return;
    }
    messages.for_each(drop);
    loop {
        // Take one at a time, so that no borrow is held while it is dropped.
        let next = GRAVE.with(|grave| grave.borrow_mut().as_mut().and_then(Vec::pop));
        match next {
            Some(message) => drop(message),
            None => break,
        }
    }
    GRAVE.with(|grave| *grave.borrow_mut() = None);
}

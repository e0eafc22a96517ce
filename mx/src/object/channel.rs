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
use super::wait::{park_until, spin_until, Pace};
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
    /// Koids of end A and end B (consecutive for a pair made here).
    koids: [Koid; 2],
    /// Each end's [`EndState`]: changed under the watch lock, read by anyone.
    ends: [Packed<EndState>; 2],
    /// What each end holds to read, and who waits on it for a reply.
    queues: [Queue; 2],
    /// Observers of both ends.
    watch: Watch,
    /// Set when one end is in another process: the link to it (see
    /// `crate::remote::link`).
    #[cfg(not(loom))]
    link: std::sync::OnceLock<crate::remote::link::Link>,
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
        let koid = counters::koids(2);
        ChannelPair::with_koids([koid, Koid(koid.0 + 1)])
    }

    fn with_koids(koids: [Koid; 2]) -> ChannelPair {
        ChannelPair {
            koids,
            ends: [Packed::new(EndState::NEW), Packed::new(EndState::NEW)],
            queues: Default::default(),
            watch: Watch::default(),
            #[cfg(not(loom))]
            link: std::sync::OnceLock::new(),
            _live: Live::new(),
        }
    }

    /// The koid of one end.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        self.koids[side.index()]
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
        #[cfg(not(loom))]
        if let Some(link) = self.link.get() {
            if link.local == side {
                link.close(crate::remote::node::node().ok());
            }
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
        #[cfg(not(loom))]
        if let Some(link) = self.link.get() {
            if !self.end(side).is_open() {
                // Closed after the lookup found the handle (the link closes
                // after that, so a signal that passed this goes first).
                return Err(Status::BAD_HANDLE);
            }
            return self.signal_linked(link, clear, set);
        }
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
            // Checked under the peer's inbox lock: an end that leaves for
            // another process links its peer under that lock, so a message
            // either is in the inbox it takes along, or goes over the link.
            #[cfg(not(loom))]
            if let Some(link) = self.link.get() {
                drop(inbox);
                // The last close of this end closes the link after it is
                // uncounted: a write that finds the end open and then the
                // link open goes out before the hang-up.
                let sent = if self.end(side).is_open() {
                    self.send_linked(link, message)
                } else {
                    Err((Status::BAD_HANDLE, message))
                };
                if sent.is_err() {
                    if let Some(id) = call {
                        self.queues[side.index()].inbox.lock().remove_caller(id);
                    }
                }
                return sent;
            }
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
        if !spin_until(deadline, Pace::Eager, || parker.is_unparked()) {
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

/// An end in another process: how this pair reaches it.
#[cfg(not(loom))]
impl ChannelPair {
    /// The link, if one end is in another process.
    pub(crate) fn link(&self) -> Option<&crate::remote::link::Link> {
        self.link.get()
    }

    /// A pair for an end received from another process: end A is here,
    /// end B stands for the end across `fd` (read after `pending`, if
    /// given). `koids` are those the sender gave (zero: make new ones).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub(crate) fn linked(
        node: &crate::remote::node::Node,
        fd: std::os::fd::OwnedFd,
        pending: Option<std::os::fd::OwnedFd>,
        koids: [u64; 2],
    ) -> Result<Arc<ChannelPair>, Status> {
        let koids = if koids[0] == 0 || koids[1] == 0 || koids[0] == koids[1] {
            let koid = counters::koids(2);
            [koid, Koid(koid.0 + 1)]
        } else {
            [Koid(koids[0]), Koid(koids[1])]
        };
        let pair = crate::sync::try_arc(ChannelPair::with_koids(koids))?;
        let link = crate::remote::link::Link::new(Side::A, fd, VecDeque::new());
        let _ = pair.link.set(link);
        if let Some(link) = pair.link.get() {
            link.start(node, &pair, pending)?;
        }
        Ok(pair)
    }

    /// Sends `message` over the link (its handles leave this process).
    #[allow(clippy::result_large_err)]
    fn send_linked(
        &self,
        link: &crate::remote::link::Link,
        message: Message,
    ) -> Result<(), (Status, Message)> {
        let node = match crate::remote::node::node() {
            Ok(node) => node,
            Err(status) => return Err((status, message)),
        };
        if !link.is_open() {
            return Err((Status::PEER_CLOSED, message));
        }
        let (mut frame, mut exported) = crate::remote::transfer::export(node, message)?;
        // Socket handles leave this process's count before the frame can
        // be read, so the receiver sees the counts of a finished move.
        exported.hand_over_sockets(node, &mut frame);
        if link.send(node, frame) {
            exported.commit(node);
        } else {
            // The other end went away meanwhile: the message is destroyed
            // with it, as it would be in its queue (the frame, dropped,
            // closed its socket handles).
            drop(exported.undo(node));
        }
        Ok(())
    }

    /// `mx_object_signal_peer` from the local end, over the link.
    fn signal_linked(
        &self,
        link: &crate::remote::link::Link,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        // The same checks as for a local peer, in the same order.
        let mut probe = EndState::NEW;
        if !link.is_open() {
            probe.handles = 0;
        }
        probe.signal_as_peer(clear, set)?;
        let node = crate::remote::node::node()?;
        let mut frame = crate::remote::link::OutFrame::default();
        frame.bytes = crate::remote::wire::encode_signal(clear, set).to_vec();
        if link.send(node, frame) {
            Ok(())
        } else {
            Err(Status::PEER_CLOSED)
        }
    }

    /// The poller: the other end signalled this one.
    pub(crate) fn remote_signal(&self, clear: Signals, set: Signals) {
        let Some(link) = self.link.get() else { return };
        let local = link.local;
        let _ = watch::update(self, |locked| {
            self.ends[local.index()].signal_as_peer(locked, clear, set)
        });
    }

    /// The poller: a message from the other end, for the local end.
    pub(crate) fn deliver_remote(&self, message: Message) {
        let Some(link) = self.link.get() else { return };
        let local = link.local;
        let txid = rules::txid(&message.bytes);
        let queue = &self.queues[local.index()];
        let leftover = {
            let mut inbox = queue.inbox.lock();
            if !self.end(local).is_open() || link.is_moved() {
                Some(message)
            } else if inbox.reserve().is_err() {
                // Out of memory: the message cannot be queued.
                Some(message)
            } else {
                match inbox.deliver(message, txid) {
                    Delivered::Caller(waker) => waker.wake(),
                    Delivered::Queued { .. } => queue.wrote(1),
                }
                None
            }
        };
        bury(leftover);
        watch::data_changed(self);
    }

    /// The poller: the other end is gone (closed, or its process died).
    pub(crate) fn remote_hung_up(&self) {
        let Some(link) = self.link.get() else { return };
        let (local, far) = (link.local, link.local.peer());
        let _ = watch::update(self, |locked| {
            self.ends[far.index()].modify(locked, |end| {
                end.handles = 0;
                Ok(())
            })
        });
        self.queues[local.index()]
            .inbox
            .lock()
            .callers()
            .for_each(|c| c.waker.wake());
    }

    /// Whether messages are queued at `side`.
    pub(crate) fn has_queued(&self, side: Side) -> bool {
        self.queued(side) > 0
    }

    /// Takes every message queued at `side` (stash first) and ends the
    /// calls waiting on it (they see `CANCELED`: their end left). Under
    /// the queue's locks.
    fn drain(&self, side: Side) -> VecDeque<Message> {
        let queue = &self.queues[side.index()];
        let mut stash = queue.stash.lock();
        let mut inbox = queue.inbox.lock();
        let mut all = core::mem::take(&mut *stash);
        let mut rest = inbox.take_all();
        if all.is_empty() {
            all = rest;
        } else {
            all.append(&mut rest);
        }
        queue.took(all.len() as u64);
        let ids: SmallVec<[u64; 4]> = inbox.callers().map(|c| c.id).collect();
        for id in ids {
            if let Some(caller) = inbox.remove_caller(id) {
                caller.waker.wake();
                if let Some(reply) = caller.reply {
                    all.push_back(reply);
                }
            }
        }
        all
    }

    /// The end `sent` leaves for another process over the socket whose
    /// other end was sent with it; its peer stays here, linked to `keep`.
    /// The messages queued at `sent` go first, in order.
    pub(crate) fn link_to(
        pair: &Arc<ChannelPair>,
        node: &crate::remote::node::Node,
        sent: Side,
        keep: std::os::fd::OwnedFd,
    ) {
        let this = &**pair;
        use crate::remote::link::{Link, Outgoing};
        let local = sent.peer();
        {
            // Under the inbox lock of `sent`, which local writers take
            // (see `send`): after this, they find the link.
            let queue = &this.queues[sent.index()];
            let mut stash = queue.stash.lock();
            let mut inbox = queue.inbox.lock();
            let mut first = VecDeque::new();
            let mut messages = core::mem::take(&mut *stash);
            messages.append(&mut inbox.take_all());
            queue.took(messages.len() as u64);
            if first.try_reserve(messages.len()).is_ok() {
                first.extend(messages.into_iter().map(Outgoing::Message));
            } else {
                bury(messages);
                crate::remote::transfer::lost();
            }
            let ids: SmallVec<[u64; 4]> = inbox.callers().map(|c| c.id).collect();
            for id in ids {
                if let Some(caller) = inbox.remove_caller(id) {
                    caller.waker.wake();
                    bury(caller.reply);
                }
            }
            let _ = this.link.set(Link::new(local, keep, first));
        }
        let Some(link) = this.link.get() else { return };
        if link.start(node, pair, None).is_err() {
            link.report("out of resources to watch a channel");
            this.remote_hung_up();
            return;
        }
        link.flush(node);
    }

    /// The local end of this linked pair was sent on to a third process;
    /// `pending` is the writing end of its pending stream, if messages
    /// must follow it.
    pub(crate) fn send_on(
        &self,
        node: &crate::remote::node::Node,
        pending: Option<std::os::fd::OwnedFd>,
    ) {
        use crate::remote::link::{Handover, Outgoing};
        let Some(link) = self.link.get() else { return };
        let local = link.local;
        let (outbox, relay) = {
            let mut rx = link.hold();
            link.moved(node, &mut rx)
        };
        let queued = self.drain(local);
        // The end left: no handle here any more, and nothing to tell the
        // other process (its peer is still there).
        let _ = watch::update(self, |locked| {
            self.ends[local.index()].modify(locked, |end| {
                end.handles = 0;
                Ok(())
            })
        });
        let Some(pending) = pending else {
            if !(outbox.is_empty() && queued.is_empty() && relay.is_none()) {
                // Raced in after the check: nothing can carry them now.
                bury(queued);
                crate::remote::transfer::lost();
            }
            return;
        };
        let Ok(socket) = link.dup() else {
            bury(queued);
            crate::remote::transfer::lost();
            return;
        };
        let mut inbox = VecDeque::new();
        if inbox.try_reserve(queued.len()).is_err() {
            bury(queued);
            crate::remote::transfer::lost();
        } else {
            inbox.extend(queued.into_iter().map(Outgoing::Message));
        }
        let mut job = Box::new(Handover::moving(socket, outbox, pending, inbox, relay));
        if !job.advance(node) && node.add_handover(job).is_err() {
            crate::remote::transfer::lost();
        }
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

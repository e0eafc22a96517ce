//! Socket pairs: two ends' state in atomic words, two [`Pipe`]s, and the
//! data paths that move bytes without the object's lock.
//!
//! `pipes[side]` holds the bytes readable at `side` (its *inbox*). A write
//! from `side` goes into `pipes[side.peer()]`.
//!
//! - A write enters its pipe's writer side, reads both ends' state, decides
//!   the amount ([`mx_core::socket::write_amount`]), copies and publishes;
//!   then, without locks, notifies observers if there are any.
//! - A read enters its pipe's reader side and mirrors that.
//! - Half-close takes the writer side too, so it is ordered after any write
//!   in flight through the same end: the peer sees every byte written before
//!   the half-close, then `PEER_CLOSED`. So does closing an end's last
//!   handle (handle lookups take no lock, so a write through a handle may
//!   still be in flight when another thread closes it): a write checks
//!   inside the writer side that its end still has a handle, and fails with
//!   `BAD_HANDLE` once it has none.
//! - Handle counts, half-close and user signals change under the watch lock
//!   ([`watch::update`]); the data paths only read them.
//!
//! The pipes (two cache-line-padded halves each) are allocated on first
//! use: an unused pair is one small allocation. The allocation is published
//! under the watch lock while the allocating end is open, and the last
//! close looks at the pipes under that lock, so it either finds them (and
//! takes their writer side) or knows no write can start.
//!
//! # In shared memory
//!
//! When an end is first sent to another process, the pair moves into a
//! segment ([`mx_shm::shared::SharedSocket`]): its state words, both pipes'
//! bytes and counters, and one slot per process counting the handles that
//! process holds. From then on every operation of this process works on the
//! segment (the local pipes stay empty), exactly as every other process
//! does: there is no owner. After a change, the processes that want to hear
//! of it (their slot's bit in the end's interest mask) have their bell rung.
//! A process whose shared counters make no sense breaks the socket for
//! this process: it sees `PEER_CLOSED`, and the violation is reported once.
//!
//! Lock order: pipe writer side → watch lock. No thread is inside two pipe
//! sides at once (see `mx_shm::gate`), except the one moving a pair into a
//! segment, under the process-wide lock that serialises those moves.

use mx_core::socket::{self as rules, End, MAX_HEADER, SOCKET_CAPACITY};
use mx_core::storage::Tally;
use mx_core::{Koid, RawHandle, Side, Signals, Status};
use mx_shm::storage::{Framed, Sink, Source};
use mx_shm::Pipe;

use super::state::Packed;
use super::watch::{self, Observable, Watch};
use super::Live;
use crate::sync::counters;

/// Both ends of a socket.
#[derive(Debug)]
pub(crate) struct SocketPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Fixed at creation.
    datagram: bool,
    /// Each end's [`End`]: changed under the watch lock, read by anyone.
    /// Once the pair is shared, the segment's words take over (the handle
    /// counts here are then [`FROZEN`]).
    ends: [Packed<End>; 2],
    /// Observers of both ends; serialises changes to `ends`.
    watch: Watch,
    /// The inboxes of end A and end B, allocated on first use.
    pipes: Pipes,
    pub(super) _live: Live,
}

/// A handle count that means "moved to the shared segment".
#[cfg(not(loom))]
const FROZEN: u32 = u32::MAX;

/// Where the pair's bytes are.
#[derive(Debug, Default)]
struct Backing {
    /// The inboxes of end A and end B, in this process.
    local: [Pipe; 2],
    /// The segment, once an end has been sent to another process.
    #[cfg(not(loom))]
    shared: std::sync::OnceLock<Shared>,
}

/// This process's view of a pair in a segment.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct Shared {
    socket: mx_shm::shared::SharedSocket,
    /// This process's slot.
    slot: usize,
    /// The token other processes ring this process's bell with.
    token: u32,
    /// Another process broke the protocol: this process treats the socket
    /// as closed.
    broken: core::sync::atomic::AtomicBool,
    /// The handles this process holds to each end: its own count, in
    /// private memory, copied into its slot at every change (so a word
    /// another process overwrote is corrected, and never believed here).
    mine: [core::sync::atomic::AtomicU32; 2],
}

/// The two pipes of a pair, allocated when first needed.
#[cfg(not(loom))]
#[derive(Debug, Default)]
struct Pipes(std::sync::OnceLock<triomphe::Arc<Backing>>);

#[cfg(not(loom))]
impl Pipes {
    fn get(&self) -> Option<&Backing> {
        self.0.get().map(|pipes| &**pipes)
    }

    /// A new backing, for [`Pipes::set`].
    fn alloc() -> Result<triomphe::Arc<Backing>, Status> {
        triomphe::Arc::try_new(Backing::default()).map_err(|_| Status::NO_MEMORY)
    }

    /// Publishes `backing` (if another thread got there first, it is
    /// dropped).
    fn set(&self, backing: triomphe::Arc<Backing>) {
        let _ = self.0.set(backing);
    }
}

/// Under loom the pipes exist from the start (loom has no `OnceLock`).
#[cfg(loom)]
#[derive(Debug, Default)]
struct Pipes(Backing);

#[cfg(loom)]
impl Pipes {
    fn get(&self) -> Option<&Backing> {
        Some(&self.0)
    }

    fn alloc() -> Result<(), Status> {
        Ok(())
    }

    fn set(&self, _pipes: ()) {}
}

/// A writer side, local or shared, as the write rules use it.
trait WriteSide {
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status>;
    fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status>;
}

/// A reader side, local or shared, as the read rules use it.
trait ReadSide {
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status>;
    fn peek(&mut self, front: &mut [u8; MAX_HEADER], queued: usize) -> usize;
    fn take(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        consume: Tally,
    ) -> Result<(), Status>;
    /// What the queue holds contradicts itself (a corrupt header).
    fn violated(&mut self, what: &'static str) -> Status;
}

impl WriteSide for mx_shm::Writer<'_> {
    #[inline]
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status> {
        Ok(mx_shm::Writer::queued(self, fresh))
    }

    #[inline]
    fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status> {
        mx_shm::Writer::push(self, src, payload)
    }
}

impl ReadSide for mx_shm::Reader<'_> {
    #[inline]
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status> {
        Ok(mx_shm::Reader::queued(self, fresh))
    }

    #[inline]
    fn peek(&mut self, front: &mut [u8; MAX_HEADER], _queued: usize) -> usize {
        mx_shm::Reader::peek(self, front)
    }

    #[inline]
    fn take(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        consume: Tally,
    ) -> Result<(), Status> {
        mx_shm::Reader::take(self, skip, len, dst, consume)
    }

    fn violated(&mut self, _what: &'static str) -> Status {
        // This process wrote every byte: a bug.
        Status::INTERNAL
    }
}

impl SocketPair {
    /// A new pair with one handle per end.
    pub(crate) fn new(datagram: bool) -> SocketPair {
        SocketPair {
            koid: counters::koids(2),
            datagram,
            ends: [Packed::new(End::NEW), Packed::new(End::NEW)],
            watch: Watch::default(),
            pipes: Pipes::default(),
            _live: Live::new(),
        }
    }

    /// The koid of one end.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        Koid(self.koid.0 + side.index() as u64)
    }

    /// Whether this is a datagram socket.
    pub(crate) fn is_datagram(&self) -> bool {
        self.datagram
    }

    /// The segment, if the pair is shared.
    #[cfg(not(loom))]
    fn shared(&self) -> Option<&Shared> {
        self.pipes.get().and_then(|backing| backing.shared.get())
    }

    /// The state of `side`.
    fn end(&self, side: Side) -> End {
        #[cfg(not(loom))]
        if let Some(shared) = self.shared() {
            return shared.end(side, false);
        }
        self.ends[side.index()].get()
    }

    /// What `side`'s inbox holds.
    fn queued(&self, side: Side) -> Tally {
        #[cfg(not(loom))]
        if let Some(shared) = self.shared() {
            return shared.socket.queued(side.index()).unwrap_or(Tally::ZERO);
        }
        self.pipes
            .get()
            .map_or(Tally::ZERO, |pipes| pipes.local[side.index()].queued())
    }

    /// Payload bytes `side` may write now.
    fn room_now(&self, side: Side) -> usize {
        SOCKET_CAPACITY.saturating_sub(self.queued(side.peer()).payload as usize)
    }

    /// Payload bytes `side` may write now, or `None` if writes from `side`
    /// fail whatever the room (the peer is closed or `side` half-closed,
    /// perhaps through another handle).
    pub(crate) fn room(&self, side: Side) -> Option<usize> {
        if !self.end(side.peer()).is_open() || self.end(side).write_shut {
            None
        } else {
            Some(self.room_now(side))
        }
    }

    /// The pipes, allocated for a first write or half-close from `side`
    /// (see the module docs: published under the watch lock, and only
    /// while `side` is open), or for a move into a segment (`None`: the
    /// handle being sent keeps its end open).
    ///
    /// # Errors
    /// `NO_MEMORY`, `BAD_HANDLE` (`side` has no handle left).
    fn pipes_for(&self, side: Option<Side>) -> Result<&Backing, Status> {
        if let Some(pipes) = self.pipes.get() {
            return Ok(pipes);
        }
        let fresh = Pipes::alloc()?;
        watch::locked(self, |_| {
            if side.is_some_and(|side| !self.end(side).is_open()) {
                return Err(Status::BAD_HANDLE);
            }
            self.pipes.set(fresh);
            Ok(())
        })?;
        self.pipes.get().ok_or(Status::INTERNAL)
    }

    /// Counts a new handle to `side`.
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        #[cfg(not(loom))]
        loop {
            if let Some(shared) = self.shared() {
                shared.count(side, 1);
                self.changed(shared);
                return Ok(());
            }
            let added = self.ends[side.index()].update(|end| match end.handles {
                FROZEN => Err(Status::UNAVAILABLE),
                0 => Err(Status::BAD_HANDLE),
                _ => {
                    end.handles += 1;
                    Ok(())
                }
            });
            match added {
                // Moving into a segment right now: the segment is about to
                // be published.
                Err(Status::UNAVAILABLE) => crate::sync::yield_now(),
                Err(status) => return Err(status),
                Ok(()) => break,
            }
        }
        #[cfg(loom)]
        self.ends[side.index()].add_handle()?;
        watch::data_changed(self);
        Ok(())
    }

    /// The handle `handle` to `side` was closed: cancels its waits and
    /// uncounts it; the last one drops what `side` had to read.
    ///
    /// The last one is uncounted inside the writer side of `side`'s
    /// outgoing pipe and under the watch lock: a write through `side` still
    /// in flight (its lookup found the handle before it was closed)
    /// finishes first, so the peer reads it before `PEER_CLOSED`, or finds
    /// the end closed and fails.
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        #[cfg(not(loom))]
        loop {
            if let Some(shared) = self.shared() {
                watch::handle_closed(self, handle);
                self.uncount_shared(shared, side);
                return;
            }
            // Not the last: nothing to order against.
            let removed = self.ends[side.index()].update(|end| match end.handles {
                FROZEN => Err(Status::UNAVAILABLE),
                0 | 1 => Err(Status::SHOULD_WAIT),
                handles => {
                    end.handles = handles - 1;
                    Ok(())
                }
            });
            match removed {
                Ok(()) => {
                    watch::handle_closed(self, handle);
                    return;
                }
                // Moving into a segment right now: it is about to be
                // published.
                Err(Status::UNAVAILABLE) => crate::sync::yield_now(),
                Err(_) => {
                    if let Some(last) = self.close_last(side, handle) {
                        self.closed_local(side, last);
                        return;
                    }
                    // Moved into a segment meanwhile.
                    crate::sync::yield_now();
                }
            }
        }
        #[cfg(loom)]
        {
            let end = &self.ends[side.index()];
            if end.remove_handle_unless_last() {
                watch::handle_closed(self, handle);
                return;
            }
            if let Some(last) = self.close_last(side, handle) {
                self.closed_local(side, last);
            }
        }
    }

    /// Uncounts what may be `side`'s last handle inside the writer side of
    /// its outgoing pipe and under the watch lock (see `close_handle`);
    /// returns whether it was the last, or `None` if the pair moved into a
    /// segment meanwhile (nothing is uncounted then).
    fn close_last(&self, side: Side, handle: RawHandle) -> Option<bool> {
        let end = &self.ends[side.index()];
        loop {
            let pipes = self.pipes.get();
            #[cfg(not(loom))]
            if pipes.is_some_and(|pipes| pipes.shared.get().is_some()) {
                return None;
            }
            let writer = pipes.map(|pipes| pipes.local[side.peer().index()].writer());
            let done = watch::update(self, |locked| {
                if pipes.is_none() && self.pipes.get().is_some() {
                    // A first write allocated them meanwhile: take their
                    // writer side first.
                    return None;
                }
                #[cfg(not(loom))]
                if end.get().handles == FROZEN {
                    return Some(None);
                }
                locked.cancel(handle);
                Some(Some(end.remove_handle_locked(locked)))
            });
            drop(writer);
            if let Some(done) = done {
                return done;
            }
        }
    }

    /// After a local close: the last one drops what `side` had to read.
    fn closed_local(&self, side: Side, last: bool) {
        if last {
            if let Some(pipes) = self.pipes.get() {
                pipes.local[side.index()].clear();
            }
        }
    }

    /// `mx_object_signal` on `side`: user signals only.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        #[cfg(not(loom))]
        if let Some(shared) = self.shared() {
            shared.update_end(side, |end| rules::signal(end, clear, set))?;
            self.changed(shared);
            return Ok(());
        }
        watch::update(self, |locked| {
            #[cfg(not(loom))]
            if let Some(shared) = self.shared() {
                return shared.update_end(side, |end| rules::signal(end, clear, set));
            }
            self.ends[side.index()].signal(locked, clear, set)
        })
    }

    /// `mx_object_signal_peer` from `side` (`BAD_HANDLE` if `side`'s last
    /// handle was closed meanwhile: the last close is under the same lock).
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        #[cfg(not(loom))]
        if let Some(shared) = self.shared() {
            shared.update_end(side.peer(), |end| rules::signal_peer(end, clear, set))?;
            self.changed(shared);
            return Ok(());
        }
        watch::update(self, |locked| {
            #[cfg(not(loom))]
            if let Some(shared) = self.shared() {
                return shared.update_end(side.peer(), |end| rules::signal_peer(end, clear, set));
            }
            if !self.end(side).is_open() {
                return Err(Status::BAD_HANDLE);
            }
            self.ends[side.peer().index()].signal_as_peer(locked, clear, set)
        })
    }

    /// The rules of a write, on either kind of writer side.
    fn write_with(
        &self,
        writer: &mut impl WriteSide,
        this: End,
        peer: End,
        src: &(impl Source + ?Sized),
    ) -> Result<usize, Status> {
        let len = src.len();
        let mut amount = rules::write_amount(this, peer, self.datagram, writer.queued(false)?, len);
        if amount.is_ok_and(|n| n < len) || amount == Err(Status::SHOULD_WAIT) {
            // The reader may have made room since we last looked.
            amount = rules::write_amount(this, peer, self.datagram, writer.queued(true)?, len);
        }
        let n = amount?;
        if n == 0 {
            return Ok(0);
        }
        writer.push(&Framed::new(self.datagram, src, n), n as u32)?;
        Ok(n)
    }

    /// `mx_socket_write` (options 0) from `side`, after the handle checks.
    ///
    /// # Errors
    /// As [`rules::write_amount`], `NO_MEMORY`, and `BAD_HANDLE` if the
    /// end's last handle was closed after the lookup.
    pub(crate) fn write(&self, side: Side, src: &(impl Source + ?Sized)) -> Result<usize, Status> {
        let len = src.len();
        let pipes = match self.pipes.get() {
            Some(pipes) => pipes,
            None => {
                // Nothing was ever written: check before allocating.
                let n = rules::write_amount(
                    self.end(side),
                    self.end(side.peer()),
                    self.datagram,
                    Tally::ZERO,
                    len,
                )?;
                if n == 0 {
                    return Ok(0);
                }
                self.pipes_for(Some(side))?
            }
        };
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            return self.write_shared(shared, side, src);
        }
        let mut writer = pipes.local[side.peer().index()].writer();
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            // Moved into a segment while this write waited at the gate.
            drop(writer);
            return self.write_shared(shared, side, src);
        }
        let (this, peer) = (
            self.ends[side.index()].get(),
            self.ends[side.peer().index()].get(),
        );
        if !this.is_open() {
            // Closed after the lookup found the handle (the last close
            // takes this writer side: see `close_handle`).
            return Err(Status::BAD_HANDLE);
        }
        let n = self.write_with(&mut writer, this, peer, src)?;
        drop(writer);
        if n > 0 {
            watch::data_changed(self);
        }
        Ok(n)
    }

    /// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE` from `side`.
    ///
    /// # Errors
    /// `PEER_CLOSED`, `NO_MEMORY`, `BAD_HANDLE` (the end's last handle was
    /// closed after the lookup).
    pub(crate) fn half_close(&self, side: Side) -> Result<(), Status> {
        if self.end(side).write_shut {
            return Ok(());
        }
        // Writes in flight through this end finish first.
        let pipes = self.pipes_for(Some(side))?;
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            return self.half_close_shared(shared, side);
        }
        let _writer = pipes.local[side.peer().index()].writer();
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            drop(_writer);
            return self.half_close_shared(shared, side);
        }
        let peer = self.ends[side.peer().index()].get();
        watch::update(self, |locked| {
            self.ends[side.index()].modify(locked, |this| {
                if !this.is_open() {
                    return Err(Status::BAD_HANDLE);
                }
                rules::half_close(this, peer)
            })
        })
    }

    /// Why a read at `side` finds nothing: `BAD_HANDLE` if `side`'s last
    /// handle was closed after the lookup, else as [`rules::read_empty`].
    fn nothing_to_read(&self, side: Side) -> Status {
        if !self.end(side).is_open() {
            return Status::BAD_HANDLE;
        }
        rules::read_empty(self.end(side.peer()))
    }

    /// The rules of a read, on either kind of reader side (`empty`: why
    /// there is nothing to read, when the queue is empty).
    fn read_with(
        &self,
        reader: &mut impl ReadSide,
        empty: impl Fn() -> Status,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<usize, Status> {
        let size = dst.len();
        let mut queued = reader.queued(false)?;
        if queued.payload == 0 || (!self.datagram && (queued.payload as usize) < size) {
            // A stream read takes everything queued that fits: look at what
            // the writer published since this reader last looked.
            queued = reader.queued(true)?;
        }
        if queued.payload == 0 {
            let status = empty();
            if status != Status::PEER_CLOSED {
                return Err(status);
            }
            // The peer is done; writes it published before that count.
            queued = reader.queued(true)?;
            if queued.payload == 0 {
                return Err(status);
            }
        }
        let mut front = [0u8; MAX_HEADER];
        let front_len = if self.datagram {
            reader.peek(&mut front, queued.bytes as usize)
        } else {
            0
        };
        let plan = match rules::read_plan(self.datagram, queued, size, &front[..front_len]) {
            Ok(plan) => plan,
            Err(_) => return Err(reader.violated("a datagram header is corrupt")),
        };
        if plan.consume > queued.bytes as usize || plan.payload > queued.payload as usize {
            return Err(reader.violated("a datagram is longer than what is queued"));
        }
        if plan.consume == 0 {
            return Ok(0);
        }
        let consume = Tally {
            payload: plan.payload as u32,
            bytes: plan.consume as u32,
        };
        reader.take(plan.skip, plan.copy, dst, consume)?;
        Ok(plan.copy)
    }

    /// `mx_socket_read` at `side` into `dst`, after the handle checks.
    ///
    /// # Errors
    /// `INVALID_ARGS` (over 32 bits), `PEER_CLOSED`, `SHOULD_WAIT`, the
    /// sink's fault; `BAD_HANDLE` if nothing is queued and the end's last
    /// handle was closed after the lookup.
    pub(crate) fn read(&self, side: Side, dst: &mut (impl Sink + ?Sized)) -> Result<usize, Status> {
        if u32::try_from(dst.len()).is_err() {
            return Err(Status::INVALID_ARGS);
        }
        let Some(pipes) = self.pipes.get() else {
            return Err(self.nothing_to_read(side));
        };
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            return self.read_shared(shared, side, dst);
        }
        let mut reader = pipes.local[side.index()].reader();
        #[cfg(not(loom))]
        if let Some(shared) = pipes.shared.get() {
            drop(reader);
            return self.read_shared(shared, side, dst);
        }
        let n = self.read_with(&mut reader, || self.nothing_to_read(side), dst)?;
        drop(reader);
        watch::data_changed(self);
        Ok(n)
    }

    /// Payload bytes waiting at `side` (the `NULL, 0` read).
    pub(crate) fn outstanding(&self, side: Side) -> usize {
        self.queued(side).payload as usize
    }
}

impl Observable for SocketPair {
    fn watch(&self) -> &Watch {
        &self.watch
    }

    fn sides(&self) -> &'static [Side] {
        &Side::BOTH
    }

    fn signals(&self, side: Side) -> Signals {
        #[cfg(not(loom))]
        if let Some(shared) = self.shared() {
            return shared.signals(side);
        }
        rules::signals(
            self.end(side),
            self.end(side.peer()),
            self.queued(side),
            self.queued(side.peer()),
        )
    }

    /// A reader polling for `READABLE` or `PEER_CLOSED` leaves out its
    /// outbox's counters, which its peer writes at every read of its own.
    fn signals_among(&self, side: Side, wanted: Signals) -> Signals {
        #[cfg(not(loom))]
        let local = self.shared().is_none();
        #[cfg(loom)]
        let local = true;
        if !local || wanted.intersects(Signals::WRITABLE) {
            return self.signals(side) & wanted;
        }
        // The outbox decides only WRITABLE, which is not wanted.
        let signals = rules::signals(
            self.end(side),
            self.end(side.peer()),
            self.queued(side),
            Tally::ZERO,
        );
        signals & wanted
    }

    /// Compares what `side` has published into its outbox with what it
    /// had at this thread's previous wait on the same end. The first wait
    /// on an end counts as a conversation. In a segment the counter is
    /// another process's to scribble on too: a wrong guess only changes how
    /// fast this thread polls.
    #[cfg(not(loom))]
    fn conversing(&self, side: Side) -> bool {
        let Some(backing) = self.pipes.get() else {
            return true;
        };
        let sent = match backing.shared.get() {
            Some(shared) => shared.socket.published(side.peer().index()),
            None => backing.local[side.peer().index()].published().pack(),
        };
        let end = core::ptr::from_ref(self) as usize + side.index();
        watch::sent_since_last_wait(end, sent)
    }

    fn room(&self, side: Side) -> Option<usize> {
        Some(SocketPair::room(self, side).unwrap_or(usize::MAX))
    }

    #[cfg(not(loom))]
    fn observing(&self, side: Side) {
        if let Some(shared) = self.shared() {
            shared.want_wakeups(side);
        }
    }
}

#[cfg(not(loom))]
impl Shared {
    fn new(
        socket: mx_shm::shared::SharedSocket,
        slot: usize,
        token: u32,
        mine: [u32; 2],
    ) -> Shared {
        for side in Side::BOTH {
            socket.set_held(slot, side, mine[side.index()]);
        }
        Shared {
            socket,
            slot,
            token,
            broken: core::sync::atomic::AtomicBool::new(false),
            mine: mine.map(core::sync::atomic::AtomicU32::new),
        }
    }

    /// Changes this process's count of handles to `side` by `delta`, and
    /// its slot with it; returns the new count.
    fn count(&self, side: Side, delta: i32) -> u32 {
        use core::sync::atomic::Ordering;
        let mine = &self.mine[side.index()];
        let new = loop {
            let old = mine.load(Ordering::Acquire);
            let new = old.saturating_add_signed(delta);
            if mine
                .compare_exchange(old, new, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                break new;
            }
        };
        self.socket.set_held(self.slot, side, new);
        new
    }

    /// Whether this process holds no handle to the pair any more.
    fn unused(&self) -> bool {
        self.mine
            .iter()
            .all(|count| count.load(core::sync::atomic::Ordering::Acquire) == 0)
    }

    /// `side`, from the segment (`exact`: with the handle count over every
    /// process). A broken socket's ends are closed.
    fn end(&self, side: Side, exact: bool) -> End {
        if self.is_broken() {
            return End {
                handles: 0,
                write_shut: true,
                user: 0,
            };
        }
        self.socket.end(side, exact)
    }

    fn is_broken(&self) -> bool {
        self.broken.load(core::sync::atomic::Ordering::Acquire)
    }

    /// Changes `side`'s state word with a rule on its [`End`].
    fn update_end(
        &self,
        side: Side,
        mut rule: impl FnMut(&mut End) -> Result<(), Status>,
    ) -> Result<(), Status> {
        use mx_shm::shared::{SharedSocket, CLOSED, WRITE_SHUT};
        if self.is_broken() {
            // As for a closed peer.
            let mut closed = self.end(side, false);
            rule(&mut closed)?;
            return Err(Status::PEER_CLOSED);
        }
        self.socket
            .update_end(side, |word| {
                let mut end = End {
                    handles: if word & CLOSED != 0 { 0 } else { 1 },
                    write_shut: word & WRITE_SHUT != 0,
                    user: SharedSocket::user_of(word),
                };
                rule(&mut end)?;
                let word = if end.write_shut {
                    word | WRITE_SHUT
                } else {
                    word
                };
                Ok(SharedSocket::with_user(word, end.user))
            })
            .map(|_| ())
    }

    /// The signals of `side`.
    fn signals(&self, side: Side) -> Signals {
        let this = self.end(side, true);
        let peer = self.end(side.peer(), false);
        if self.is_broken() {
            return Signals::PEER_CLOSED;
        }
        let inbox = self.socket.queued(side.index()).unwrap_or(Tally::ZERO);
        let outbox = self
            .socket
            .queued(side.peer().index())
            .unwrap_or(Tally::ZERO);
        rules::signals(this, peer, inbox, outbox)
    }

    /// A local observer registers on `side`: this process must hear of the
    /// other processes' changes (under the watch lock, before the state is
    /// read: see `watch`).
    fn want_wakeups(&self, side: Side) {
        if !self.socket.set_interest(side, self.slot, true) {
            // Newly interested: a writer in another process that did not
            // see the bit published before this fence completes, and this
            // registration reads what it published.
            mx_shm::fence::heavy_shared();
        }
    }
}

/// A shared writer side, recording a violation for the caller to act on.
#[cfg(not(loom))]
struct SharedWrite<'a> {
    inner: mx_shm::shared::SharedWriter<'a>,
    violation: Option<mx_shm::shared::Violation>,
}

#[cfg(not(loom))]
impl WriteSide for SharedWrite<'_> {
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status> {
        self.inner.queued(fresh).map_err(|v| {
            self.violation = Some(v);
            Status::PEER_CLOSED
        })
    }

    fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status> {
        self.inner.push(src, payload)
    }
}

/// A shared reader side, recording a violation for the caller to act on.
#[cfg(not(loom))]
struct SharedRead<'a> {
    inner: mx_shm::shared::SharedReader<'a>,
    violation: Option<mx_shm::shared::Violation>,
}

#[cfg(not(loom))]
impl ReadSide for SharedRead<'_> {
    fn queued(&mut self, fresh: bool) -> Result<Tally, Status> {
        self.inner.queued(fresh).map_err(|v| {
            self.violation = Some(v);
            Status::PEER_CLOSED
        })
    }

    fn peek(&mut self, front: &mut [u8; MAX_HEADER], queued: usize) -> usize {
        self.inner.peek(front, queued)
    }

    fn take(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        consume: Tally,
    ) -> Result<(), Status> {
        self.inner.take(skip, len, dst, consume)
    }

    fn violated(&mut self, what: &'static str) -> Status {
        self.violation = Some(mx_shm::shared::Violation(what));
        Status::PEER_CLOSED
    }
}

/// Serialises moving pairs into segments (the one case of nested gates).
/// Replaced in a child after `fork()`, in case another thread held it.
#[cfg(not(loom))]
static PROMOTING: mx_shm::sync::Leaked<crate::sync::Mutex<()>> = mx_shm::sync::Leaked::new();

#[cfg(not(loom))]
fn promoting() -> &'static crate::sync::Mutex<()> {
    match PROMOTING.get() {
        Some(lock) => lock,
        None => PROMOTING.publish(Box::new(crate::sync::Mutex::new(()))).0,
    }
}

/// In a child after `fork()`.
#[cfg(not(loom))]
pub(crate) fn reset_after_fork() {
    PROMOTING.forget();
}

#[cfg(not(loom))]
impl SocketPair {
    /// Whether the process of `slot` lives (for lock takeovers).
    fn slot_alive(shared: &Shared, node: &crate::remote::node::Node, slot: usize) -> bool {
        use mx_shm::shared::SlotState;
        match shared.socket.slot_state(slot) {
            Some(SlotState::Live) => {
                let (pid, start, _, _) = shared.socket.owner(slot);
                node.alive(crate::remote::node::Identity { pid, start })
            }
            Some(SlotState::Reserved) => true,
            _ => false,
        }
    }

    fn write_shared(
        &self,
        shared: &Shared,
        side: Side,
        src: &(impl Source + ?Sized),
    ) -> Result<usize, Status> {
        let node = crate::remote::node::node()?;
        let (this, peer) = (shared.end(side, false), shared.end(side.peer(), false));
        if shared.is_broken() {
            return rules::write_amount(this, peer, self.datagram, Tally::ZERO, src.len());
        }
        let alive = |slot| SocketPair::slot_alive(shared, node, slot);
        let writer = match shared
            .socket
            .writer(side.peer().index(), shared.slot, &alive)
        {
            Ok(writer) => writer,
            Err(violation) => {
                self.break_shared(shared, violation);
                return Err(Status::PEER_CLOSED);
            }
        };
        let mut writer = SharedWrite {
            inner: writer,
            violation: None,
        };
        let result = self.write_with(&mut writer, this, peer, src);
        let violation = writer.violation;
        drop(writer);
        if let Some(violation) = violation {
            self.break_shared(shared, violation);
            return Err(Status::PEER_CLOSED);
        }
        if result.as_ref().is_ok_and(|&n| n > 0) {
            self.changed(shared);
        }
        result
    }

    fn read_shared(
        &self,
        shared: &Shared,
        side: Side,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<usize, Status> {
        if shared.is_broken() {
            return Err(Status::PEER_CLOSED);
        }
        let node = crate::remote::node::node()?;
        let alive = |slot| SocketPair::slot_alive(shared, node, slot);
        let reader = match shared.socket.reader(side.index(), shared.slot, &alive) {
            Ok(reader) => reader,
            Err(violation) => {
                self.break_shared(shared, violation);
                return Err(Status::PEER_CLOSED);
            }
        };
        let mut reader = SharedRead {
            inner: reader,
            violation: None,
        };
        let result = self.read_with(
            &mut reader,
            || rules::read_empty(shared.end(side.peer(), false)),
            dst,
        );
        let violation = reader.violation;
        drop(reader);
        if let Some(violation) = violation {
            self.break_shared(shared, violation);
            return Err(Status::PEER_CLOSED);
        }
        if result.is_ok() {
            self.changed(shared);
        }
        result
    }

    fn half_close_shared(&self, shared: &Shared, side: Side) -> Result<(), Status> {
        let node = crate::remote::node::node()?;
        let alive = |slot| SocketPair::slot_alive(shared, node, slot);
        // Writes in flight through this end, in any process, finish first.
        let writer = shared
            .socket
            .writer(side.peer().index(), shared.slot, &alive);
        let peer = shared.end(side.peer(), false);
        let result = shared.update_end(side, |this| rules::half_close(this, peer));
        drop(writer);
        if result.is_ok() {
            self.changed(shared);
        }
        result
    }

    /// After a change to the shared state: the local observers, then the
    /// other processes that asked to hear of it.
    fn changed(&self, shared: &Shared) {
        self.changed_for(shared, 1u32 << shared.slot);
    }

    /// [`SocketPair::changed`], ringing every slot that asked except those
    /// in `mine` (this process's own, while it holds it).
    fn changed_for(&self, shared: &Shared, mine: u32) {
        watch::data_changed(self);
        mx_shm::fence::light_shared();
        let wanted = shared.socket.interest(Side::A) | shared.socket.interest(Side::B);
        let others = wanted & !mine;
        if others == 0 {
            return;
        }
        let Ok(node) = crate::remote::node::node() else {
            return;
        };
        for slot in 0..mx_shm::shared::SLOTS {
            if others & (1 << slot) != 0 && shared.socket.ring(slot) {
                let (_, _, bell, token) = shared.socket.owner(slot);
                node.ring(&bell, token);
            }
        }
    }

    /// Rings every other process attached (they learn of a newcomer, or of
    /// a death).
    fn ring_all(&self, shared: &Shared, node: &crate::remote::node::Node) {
        for (slot, state) in shared.socket.live_slots() {
            if slot != shared.slot
                && state == mx_shm::shared::SlotState::Live
                && shared.socket.ring(slot)
            {
                let (_, _, bell, token) = shared.socket.owner(slot);
                node.ring(&bell, token);
            }
        }
    }

    /// Another process broke the protocol on this pair.
    fn break_shared(&self, shared: &Shared, violation: mx_shm::shared::Violation) {
        if !shared
            .broken
            .swap(true, core::sync::atomic::Ordering::AcqRel)
        {
            eprintln!(
                "libmagenta: socket {} is closed in this process: another process sharing it \
                 broke its protocol ({violation})",
                self.koid.0
            );
        }
        watch::data_changed(self);
    }

    /// A handle to `side` held by this process was closed (or left in a
    /// message): uncounts it in this process's slot; the last handle to
    /// `side` in every process closes the end.
    fn uncount_shared(&self, shared: &Shared, side: Side) {
        let mine = shared.count(side, -1);
        if mine == 0 && shared.socket.total_held(side) == 0 {
            let _ = shared
                .socket
                .update_end(side, |word| Ok::<u64, ()>(word | mx_shm::shared::CLOSED));
        }
        self.changed(shared);
        if shared.unused() {
            if let Ok(node) = crate::remote::node::node() {
                node.detach_socket(
                    shared.socket.segment().id(),
                    shared.token,
                    || shared.unused(),
                    || {
                        shared.socket.set_slot_state(
                            shared.slot,
                            mx_shm::shared::SlotState::Live,
                            mx_shm::shared::SlotState::Free,
                        );
                    },
                );
            }
        }
    }

    /// Moves the pair into a segment, if it is not there yet; `object` is
    /// its own `Arc`, registered with the node.
    fn promote(
        &self,
        node: &crate::remote::node::Node,
        object: &crate::sync::Arc<super::Object>,
    ) -> Result<&Shared, Status> {
        use mx_shm::shared::{SharedSocket, SlotState, CLOSED, WRITE_SHUT};
        let backing = self.pipes_for(None)?;
        if let Some(shared) = backing.shared.get() {
            return Ok(shared);
        }
        let _promoting = promoting().lock();
        if let Some(shared) = backing.shared.get() {
            return Ok(shared);
        }
        let socket = SharedSocket::create(self.datagram, self.koid.0)?;
        let token = node.add_socket(socket.segment().id(), object)?;
        // Every writer and reader of this process out (nested: see the
        // module docs), then the state, under the watch lock.
        let mut sides = Vec::new();
        if sides.try_reserve_exact(4).is_err() {
            node.remove_socket(socket.segment().id(), token);
            return Err(Status::NO_MEMORY);
        }
        for pipe in &backing.local {
            sides.push((pipe.writer_nested(), pipe.reader_nested()));
        }
        // A fresh segment has every slot free: this cannot fail.
        let slot = match socket.claim_slot(SlotState::Live, [0, 0]) {
            Ok(slot) => slot,
            Err(status) => {
                drop(sides);
                node.remove_socket(socket.segment().id(), token);
                return Err(status);
            }
        };
        let me = node.me();
        socket.set_owner(slot, me.pid, me.start, node.bell_name(), token);
        watch::update(self, |_locked| {
            let mut mine = [0u32; 2];
            for side in Side::BOTH {
                let end = self.ends[side.index()]
                    .update(|end| {
                        let before = *end;
                        end.handles = FROZEN;
                        Ok(before)
                    })
                    .unwrap_or(End::NEW);
                mine[side.index()] = end.handles;
                let mut word = SharedSocket::with_user(0, end.user);
                if end.write_shut {
                    word |= WRITE_SHUT;
                }
                if end.handles == 0 {
                    word |= CLOSED;
                }
                let _ = socket.update_end(side, |_| Ok::<u64, ()>(word));
            }
            for (pipe, (_writer, reader)) in sides.iter_mut().enumerate() {
                let queued = reader.queued(true);
                // Copies into a fresh ring of the same size: cannot fail.
                let _ = socket.preload(pipe, queued, |sink| {
                    reader.take(0, queued.bytes as usize, sink, queued)
                });
            }
            let _ = backing.shared.set(Shared::new(socket, slot, token, mine));
        });
        drop(sides);
        backing.shared.get().ok_or(Status::INTERNAL)
    }

    /// Prepares sending a handle to `side` to another process: the
    /// segment's descriptor, and a slot holding the handle's count, with
    /// the generation of that reservation.
    ///
    /// # Errors
    /// `NO_RESOURCES` (descriptors, or every slot taken), `NO_MEMORY`.
    pub(crate) fn prepare_export(
        &self,
        node: &crate::remote::node::Node,
        object: &crate::sync::Arc<super::Object>,
        side: Side,
    ) -> Result<(std::os::fd::OwnedFd, usize, u32), Status> {
        let shared = self.promote(node, object)?;
        if shared.is_broken() {
            return Err(Status::PEER_CLOSED);
        }
        let fd = rustix::io::fcntl_dupfd_cloexec(shared.socket.segment().fd(), 0)
            .map_err(crate::remote::node::fd_status)?;
        let slot = shared
            .socket
            .claim_slot(mx_shm::shared::SlotState::Reserved, held_one(side))?;
        // Ours until the frame naming it is sent: nobody else changes it.
        Ok((fd, slot, shared.socket.generation(slot)))
    }

    /// The send was abandoned before the frame went out: the reserved slot
    /// is freed (the handle's count is still in this process's slot).
    pub(crate) fn undo_export(
        &self,
        _node: &crate::remote::node::Node,
        slot: usize,
        generation: u32,
    ) {
        if let Some(shared) = self.shared() {
            let _ = shared.socket.release_reserved(slot, Some(generation));
        }
    }

    /// The message that carried a handle in reserved `slot` was destroyed
    /// before its receiver took the handle: it is closed (the end closes if
    /// it was the last handle to it, in every process).
    pub(crate) fn release_reserved(&self, slot: usize, generation: u32) {
        use mx_shm::shared::CLOSED;
        let Some(shared) = self.shared() else { return };
        let Some(held) = shared.socket.release_reserved(slot, Some(generation)) else {
            return;
        };
        for side in Side::BOTH {
            if held[side.index()] != 0 && shared.socket.total_held(side) == 0 {
                let _ = shared
                    .socket
                    .update_end(side, |word| Ok::<u64, ()>(word | CLOSED));
            }
        }
        // This process may have let its slot go when the handle left (it
        // holds no handle to the pair): another process may hold it now,
        // so no slot is skipped (ringing this process's own bell is
        // harmless).
        self.changed_for(shared, 0);
    }

    /// Whether reserved `slot` of `generation` still waits for its
    /// receiver.
    pub(crate) fn is_reserved(&self, slot: usize, generation: u32) -> bool {
        self.shared()
            .is_some_and(|shared| shared.socket.is_reserved(slot, generation))
    }

    /// The handle went: its count, in the reserved slot now, is the
    /// receiver's; this process's slot lets go of it.
    pub(crate) fn commit_export(&self, _node: &crate::remote::node::Node, side: Side) {
        if let Some(shared) = self.shared() {
            self.uncount_shared(shared, side);
        }
    }

    /// A handle to `side` arrived in a message from another process, its
    /// count in `slot` of the segment `fd`. Returns the object (this
    /// process's, if it has the segment mapped already).
    ///
    /// # Errors
    /// What was wrong with the record.
    pub(crate) fn import(
        node: &crate::remote::node::Node,
        fd: std::os::fd::OwnedFd,
        side: Side,
        slot: usize,
        generation: u32,
    ) -> Result<crate::sync::Arc<super::Object>, &'static str> {
        use mx_shm::shared::{SharedSocket, SlotState};
        let stat =
            rustix::fs::fstat(&fd).map_err(|_| "a socket record's descriptor is unusable")?;
        let id = (stat.st_dev, stat.st_ino);
        let merged = node.with_segment(id, |object| {
            let object = object?;
            let super::Object::Socket(pair) = &**object else {
                return Some(Err("a socket record names a segment of another kind"));
            };
            let Some(shared) = pair.shared() else {
                return Some(Err("a segment lost its pair"));
            };
            Some(
                pair.merge_slot(shared, side, slot, generation)
                    .map(|()| object.clone()),
            )
        });
        if let Some(result) = merged {
            return result;
        }
        let socket =
            SharedSocket::attach(fd).map_err(|_| "a socket record's segment is invalid")?;
        if !socket.is_reserved(slot, generation) || socket.held(slot)[side.index()] == 0 {
            return Err("a socket record names a slot not reserved for it");
        }
        let pair = SocketPair {
            koid: Koid(socket.koid()),
            datagram: socket.is_datagram(),
            ends: [
                Packed::new(End {
                    handles: FROZEN,
                    ..End::NEW
                }),
                Packed::new(End {
                    handles: FROZEN,
                    ..End::NEW
                }),
            ],
            watch: Watch::default(),
            pipes: Pipes::default(),
            _live: Live::new(),
        };
        // Nobody else can reach the pair yet.
        pair.pipes.set(Pipes::alloc().map_err(|_| "out of memory")?);
        let object =
            crate::sync::try_arc(super::Object::Socket(pair)).map_err(|_| "out of memory")?;
        let super::Object::Socket(pair) = &*object else {
            return Err("out of memory");
        };
        let backing = pair.pipes.get().ok_or("out of memory")?;
        let token = node
            .add_socket(socket.segment().id(), &object)
            .map_err(|_| "out of memory")?;
        let me = node.me();
        socket.set_owner(slot, me.pid, me.start, node.bell_name(), token);
        if !socket.set_reserved_state(slot, generation, SlotState::Live) {
            node.remove_socket(socket.segment().id(), token);
            return Err("a socket record's slot was taken meanwhile");
        }
        // One handle arrived: the slot counts that, whatever else the
        // sender wrote into it.
        let mut mine = [0u32; 2];
        mine[side.index()] = 1;
        let _ = backing.shared.set(Shared::new(socket, slot, token, mine));
        if let Some(shared) = pair.shared() {
            pair.ring_all(shared, node);
            pair.watch_processes(shared, node);
        }
        Ok(object.clone())
    }

    /// Takes the count of reserved `slot` of `generation` into this
    /// process's slot.
    fn merge_slot(
        &self,
        shared: &Shared,
        side: Side,
        slot: usize,
        generation: u32,
    ) -> Result<(), &'static str> {
        if slot == shared.slot
            || !shared.socket.is_reserved(slot, generation)
            || shared.socket.held(slot) != held_one(side)
        {
            return Err("a socket record names a slot not reserved for it");
        }
        // Ours first, then theirs: the total never drops to zero between.
        shared.count(side, 1);
        if shared
            .socket
            .release_reserved(slot, Some(generation))
            .is_none()
        {
            // Released by its sender meanwhile (it saw this end of the
            // channel close): the message is being destroyed.
            self.uncount_shared(shared, side);
            return Err("a socket record's slot was taken meanwhile");
        }
        Ok(())
    }

    /// Watches the processes attached to the pair (so their deaths are
    /// noticed).
    fn watch_processes(&self, shared: &Shared, node: &crate::remote::node::Node) {
        for (slot, state) in shared.socket.live_slots() {
            if slot != shared.slot && state == mx_shm::shared::SlotState::Live {
                let (pid, start, _, _) = shared.socket.owner(slot);
                if !node.alive(crate::remote::node::Identity { pid, start }) {
                    self.peer_died(node, crate::remote::node::Identity { pid, start });
                }
            }
        }
    }

    /// A copy of the descriptor of the pair's segment, if it is in one.
    pub(crate) fn segment_fd(&self) -> Option<std::os::fd::OwnedFd> {
        let shared = self.shared()?;
        rustix::io::fcntl_dupfd_cloexec(shared.socket.segment().fd(), 0).ok()
    }

    /// The poller: this process's bell was rung for this pair.
    pub(crate) fn rung(&self, node: &crate::remote::node::Node) {
        let Some(shared) = self.shared() else { return };
        shared.socket.answer(shared.slot);
        self.watch_processes(shared, node);
        watch::update(self, |_| ());
        if !watch::is_watched(self) {
            // Nobody here waits: stop the others ringing (a waiter that
            // registers later sets the bit again, with the fence).
            shared.socket.set_interest(Side::A, shared.slot, false);
            shared.socket.set_interest(Side::B, shared.slot, false);
            if watch::is_watched(self) {
                shared.want_wakeups(Side::A);
                shared.want_wakeups(Side::B);
            }
        }
    }

    /// The poller: process `who` died; its slots' handles are closed.
    pub(crate) fn peer_died(
        &self,
        node: &crate::remote::node::Node,
        who: crate::remote::node::Identity,
    ) {
        use mx_shm::shared::{SlotState, CLOSED};
        let Some(shared) = self.shared() else { return };
        let mut any = false;
        for (slot, state) in shared.socket.live_slots() {
            if state != SlotState::Live || slot == shared.slot {
                continue;
            }
            let (pid, start, _, _) = shared.socket.owner(slot);
            if pid == who.pid && start == who.start {
                any |= shared
                    .socket
                    .set_slot_state(slot, SlotState::Live, SlotState::Dead);
            }
        }
        if !any {
            return;
        }
        for side in Side::BOTH {
            if shared.socket.total_held(side) == 0 {
                let _ = shared
                    .socket
                    .update_end(side, |word| Ok::<u64, ()>(word | CLOSED));
            }
        }
        self.changed(shared);
        self.ring_all(shared, node);
    }
}

/// The counts of a reservation for one handle to `side`.
#[cfg(not(loom))]
fn held_one(side: Side) -> [u32; 2] {
    let mut held = [0; 2];
    held[side.index()] = 1;
    held
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_idle_pair_is_small() {
        // The object, in an `Arc<Object>` with its 8-byte count, must fit a
        // 96-byte allocation (malloc adds 8 and rounds to 16).
        let size = core::mem::size_of::<crate::object::Object>();
        assert!(size + 8 <= 88, "Object is {size} bytes");
    }

    #[cfg(not(loom))]
    #[test]
    fn a_waiter_converses_only_after_writing_since_its_last_wait() {
        use super::{Side, SocketPair};
        use crate::object::watch::Observable;
        let pair = SocketPair::new(false);
        pair.write(Side::A, &[1u8][..]).expect("write");
        // The first wait on an end counts as a conversation.
        assert!(pair.conversing(Side::B));
        // B only consumes: its peer is streaming.
        assert!(!pair.conversing(Side::B));
        assert!(!pair.conversing(Side::B));
        // B answers: the next wait expects the reply.
        pair.write(Side::B, &[2u8][..]).expect("write");
        assert!(pair.conversing(Side::B));
        assert!(!pair.conversing(Side::B));
        // A wait on the other end is another conversation.
        assert!(pair.conversing(Side::A));
    }
}

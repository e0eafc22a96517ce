//! Socket pairs: two ends' state in atomic words, two [`Pipe`]s, and the
//! data paths that move bytes without the object's lock.
//!
//! `pipes[side]` holds the bytes readable at `side` (its *inbox*). A write
//! from `side` goes into `pipes[side.peer()]`.
//!
//! - A write locks its pipe's writer side, reads both ends' state, decides
//!   the amount ([`mx_core::socket::write_amount`]), copies and publishes;
//!   then, without locks, notifies observers if there are any.
//! - A read locks its pipe's reader side and mirrors that.
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
//! Lock order: pipe writer side → watch lock. No thread is inside two pipe
//! sides at once (see `mx_shm::gate`).

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
    ends: [Packed<End>; 2],
    /// Observers of both ends; serialises changes to `ends`.
    watch: Watch,
    /// The inboxes of end A and end B, allocated on first use.
    pipes: Pipes,
    pub(super) _live: Live,
}

/// The two pipes of a pair, allocated when first needed.
#[cfg(not(loom))]
#[derive(Debug, Default)]
struct Pipes(std::sync::OnceLock<triomphe::Arc<[Pipe; 2]>>);

#[cfg(not(loom))]
impl Pipes {
    fn get(&self) -> Option<&[Pipe; 2]> {
        self.0.get().map(|pipes| &**pipes)
    }

    /// A new pair of pipes, for [`Pipes::set`].
    fn alloc() -> Result<triomphe::Arc<[Pipe; 2]>, Status> {
        triomphe::Arc::try_new([Pipe::new(), Pipe::new()]).map_err(|_| Status::NO_MEMORY)
    }

    /// Publishes `pipes` (if another thread got there first, they are
    /// dropped).
    fn set(&self, pipes: triomphe::Arc<[Pipe; 2]>) {
        let _ = self.0.set(pipes);
    }
}

/// Under loom the pipes exist from the start (loom has no `OnceLock`).
#[cfg(loom)]
#[derive(Debug, Default)]
struct Pipes([Pipe; 2]);

#[cfg(loom)]
impl Pipes {
    fn get(&self) -> Option<&[Pipe; 2]> {
        Some(&self.0)
    }

    fn alloc() -> Result<(), Status> {
        Ok(())
    }

    fn set(&self, _pipes: ()) {}
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

    /// The state of `side`.
    fn end(&self, side: Side) -> End {
        self.ends[side.index()].get()
    }

    /// What `side`'s inbox holds.
    fn queued(&self, side: Side) -> Tally {
        self.pipes
            .get()
            .map_or(Tally::ZERO, |pipes| pipes[side.index()].queued())
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
    /// while `side` is open).
    ///
    /// # Errors
    /// `NO_MEMORY`, `BAD_HANDLE` (`side` has no handle left).
    fn pipes_for(&self, side: Side) -> Result<&[Pipe; 2], Status> {
        if let Some(pipes) = self.pipes.get() {
            return Ok(pipes);
        }
        let fresh = Pipes::alloc()?;
        watch::locked(self, |_| {
            if !self.end(side).is_open() {
                return Err(Status::BAD_HANDLE);
            }
            self.pipes.set(fresh);
            Ok(())
        })?;
        self.pipes.get().ok_or(Status::INTERNAL)
    }

    /// Counts a new handle to `side`.
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
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
        let end = &self.ends[side.index()];
        if end.remove_handle_unless_last() {
            watch::handle_closed(self, handle);
            return;
        }
        let last = loop {
            let pipes = self.pipes.get();
            let writer = pipes.map(|pipes| pipes[side.peer().index()].writer());
            let done = watch::update(self, |locked| {
                if pipes.is_none() && self.pipes.get().is_some() {
                    // A first write allocated them meanwhile: take their
                    // writer side first.
                    return None;
                }
                locked.cancel(handle);
                Some(end.remove_handle_locked(locked))
            });
            drop(writer);
            if let Some(last) = done {
                break last;
            }
        };
        if last {
            if let Some(pipes) = self.pipes.get() {
                pipes[side.index()].clear();
            }
        }
    }

    /// `mx_object_signal` on `side`: user signals only.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        watch::update(self, |locked| {
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
        watch::update(self, |locked| {
            if !self.end(side).is_open() {
                return Err(Status::BAD_HANDLE);
            }
            self.ends[side.peer().index()].signal_as_peer(locked, clear, set)
        })
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
                self.pipes_for(side)?
            }
        };
        let mut writer = pipes[side.peer().index()].writer();
        let (this, peer) = (self.end(side), self.end(side.peer()));
        if !this.is_open() {
            // Closed after the lookup found the handle (the last close
            // takes this writer side: see `close_handle`).
            return Err(Status::BAD_HANDLE);
        }
        let mut amount = rules::write_amount(this, peer, self.datagram, writer.queued(false), len);
        if amount.is_ok_and(|n| n < len) || amount == Err(Status::SHOULD_WAIT) {
            // The reader may have made room since we last looked.
            amount = rules::write_amount(this, peer, self.datagram, writer.queued(true), len);
        }
        let n = amount?;
        if n == 0 {
            return Ok(0);
        }
        writer.push(&Framed::new(self.datagram, src, n), n as u32)?;
        drop(writer);
        watch::data_changed(self);
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
        let pipes = self.pipes_for(side)?;
        let _writer = pipes[side.peer().index()].writer();
        let peer = self.end(side.peer());
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

    /// `mx_socket_read` at `side` into `dst`, after the handle checks.
    ///
    /// # Errors
    /// `INVALID_ARGS` (over 32 bits), `PEER_CLOSED`, `SHOULD_WAIT`, the
    /// sink's fault; `BAD_HANDLE` if nothing is queued and the end's last
    /// handle was closed after the lookup.
    pub(crate) fn read(&self, side: Side, dst: &mut (impl Sink + ?Sized)) -> Result<usize, Status> {
        let size = dst.len();
        if u32::try_from(size).is_err() {
            return Err(Status::INVALID_ARGS);
        }
        let Some(pipes) = self.pipes.get() else {
            return Err(self.nothing_to_read(side));
        };
        let mut reader = pipes[side.index()].reader();
        let mut queued = reader.queued(false);
        if queued.payload == 0 || (!self.datagram && (queued.payload as usize) < size) {
            // A stream read takes everything queued that fits: look at what
            // the writer published since this reader last looked.
            queued = reader.queued(true);
        }
        if queued.payload == 0 {
            let status = self.nothing_to_read(side);
            if status != Status::PEER_CLOSED {
                return Err(status);
            }
            // The peer is done; writes it published before that count.
            queued = reader.queued(true);
            if queued.payload == 0 {
                return Err(status);
            }
        }
        let mut front = [0u8; MAX_HEADER];
        let front_len = if self.datagram {
            reader.peek(&mut front)
        } else {
            0
        };
        let plan = rules::read_plan(self.datagram, queued, size, &front[..front_len])?;
        if plan.consume == 0 {
            return Ok(0);
        }
        let consume = Tally {
            payload: plan.payload as u32,
            bytes: plan.consume as u32,
        };
        reader.take(plan.skip, plan.copy, dst, consume)?;
        drop(reader);
        watch::data_changed(self);
        Ok(plan.copy)
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
        rules::signals(
            self.end(side),
            self.end(side.peer()),
            self.queued(side),
            self.queued(side.peer()),
        )
    }

    fn room(&self, side: Side) -> Option<usize> {
        Some(SocketPair::room(self, side).unwrap_or(usize::MAX))
    }
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
}

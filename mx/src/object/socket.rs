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
//!   the half-close, then `PEER_CLOSED`.
//! - Handle counts, half-close and user signals change under the watch lock
//!   ([`Kernel::update`]); the data paths only read them.
//!
//! The pipes (two cache-line-padded halves each) are allocated on first
//! use: an unused pair is one small allocation.
//!
//! Lock order: pipe writer side → watch lock; pipe reader side → pipe writer
//! side (closing an end, compaction).

use mx_core::socket::{self as rules, End, Framed, MAX_HEADER, SOCKET_CAPACITY};
use mx_core::storage::{Sink, Source, Tally};
use mx_core::{Koid, Side, Signals, Status};
use mx_pipe::Pipe;

use super::state::Packed;
use super::{Kernel, Live, Watch, WatchState};
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
    pub(crate) watch: Watch,
    /// The inboxes of end A and end B, allocated on first use.
    pipes: Pipes,
    _live: Live,
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

    fn get_or_alloc(&self) -> Result<&[Pipe; 2], Status> {
        if self.0.get().is_none() {
            let pipes = triomphe::Arc::try_new([Pipe::new(), Pipe::new()])
                .map_err(|_| Status::NO_MEMORY)?;
            // If another thread got there first, ours is dropped.
            let _ = self.0.set(pipes);
        }
        self.get().ok_or(Status::INTERNAL)
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

    fn get_or_alloc(&self) -> Result<&[Pipe; 2], Status> {
        Ok(&self.0)
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

    /// The state of `side`.
    fn end(&self, side: Side) -> End {
        self.ends[side.index()].get()
    }

    /// The packed state of `side`, to change under the watch lock.
    pub(crate) fn state(&self, side: Side) -> &Packed<End> {
        &self.ends[side.index()]
    }

    /// What `side`'s inbox holds.
    fn queued(&self, side: Side) -> Tally {
        self.pipes
            .get()
            .map_or(Tally::ZERO, |pipes| pipes[side.index()].queued())
    }

    /// The signals of `side`, computed without locking.
    pub(crate) fn signals(&self, side: Side) -> Signals {
        rules::signals(
            self.end(side),
            self.end(side.peer()),
            self.queued(side),
            self.queued(side.peer()),
        )
    }

    /// Payload bytes `side` may write now.
    pub(crate) fn room(&self, side: Side) -> usize {
        SOCKET_CAPACITY.saturating_sub(self.queued(side.peer()).payload as usize)
    }

    /// What a writer from `side` waiting for room should see: the room, or
    /// unlimited room once a write would fail anyway (the peer closed, or
    /// `side` half-closed, perhaps through another handle), so that the
    /// writer wakes and finds out.
    pub(crate) fn room_for_waiters(&self, side: Side) -> usize {
        if !self.end(side.peer()).is_open() || self.end(side).write_shut {
            usize::MAX
        } else {
            self.room(side)
        }
    }

    /// Payload bytes waiting at `side`.
    pub(crate) fn outstanding(&self, side: Side) -> usize {
        self.queued(side).payload as usize
    }

    /// Counts a new handle to `side`.
    pub(crate) fn add_handle(&self, locked: &WatchState, side: Side) -> Result<(), Status> {
        self.ends[side.index()].add_handle(locked)
    }

    /// Uncounts a handle to `side`; returns whether it was the last (the
    /// caller then calls [`SocketPair::closed`] without the lock).
    pub(crate) fn remove_handle(&self, locked: &WatchState, side: Side) -> bool {
        self.ends[side.index()].remove_handle(locked)
    }

    /// `side` lost its last handle: drop what it had to read.
    pub(crate) fn closed(&self, side: Side) {
        if let Some(pipes) = self.pipes.get() {
            pipes[side.index()].clear();
        }
    }
}

impl Kernel {
    fn socket(&self) -> Result<&SocketPair, Status> {
        match self {
            Kernel::Socket(pair) => Ok(pair),
            _ => Err(Status::WRONG_TYPE),
        }
    }

    /// `mx_socket_write` (options 0) from `side`, after the handle checks.
    ///
    /// # Errors
    /// `WRONG_TYPE`, then as [`rules::write_amount`], and `NO_MEMORY`.
    pub(crate) fn socket_write(
        &self,
        side: Side,
        src: &(impl Source + ?Sized),
    ) -> Result<usize, Status> {
        let pair = self.socket()?;
        let len = src.len();
        let pipes = match pair.pipes.get() {
            Some(pipes) => pipes,
            None => {
                // Nothing was ever written: check before allocating.
                let n = rules::write_amount(
                    pair.end(side),
                    pair.end(side.peer()),
                    pair.datagram,
                    Tally::ZERO,
                    len,
                )?;
                if n == 0 {
                    return Ok(0);
                }
                pair.pipes.get_or_alloc()?
            }
        };
        let mut writer = pipes[side.peer().index()].writer();
        let (this, peer) = (pair.end(side), pair.end(side.peer()));
        let mut amount = rules::write_amount(this, peer, pair.datagram, writer.queued(false), len);
        if amount.is_ok_and(|n| n < len) || amount == Err(Status::SHOULD_WAIT) {
            // The reader may have made room since we last looked.
            amount = rules::write_amount(this, peer, pair.datagram, writer.queued(true), len);
        }
        let n = amount?;
        if n == 0 {
            return Ok(0);
        }
        writer.push(&Framed::new(pair.datagram, src, n), n as u32)?;
        drop(writer);
        self.data_changed();
        Ok(n)
    }

    /// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE` from `side`.
    ///
    /// # Errors
    /// `WRONG_TYPE`, `PEER_CLOSED`, `NO_MEMORY`.
    pub(crate) fn socket_half_close(&self, side: Side) -> Result<(), Status> {
        let pair = self.socket()?;
        if pair.end(side).write_shut {
            return Ok(());
        }
        // Writes in flight through this end finish first.
        let pipes = pair.pipes.get_or_alloc()?;
        let _writer = pipes[side.peer().index()].writer();
        let peer = pair.end(side.peer());
        self.update(|locked| {
            pair.ends[side.index()].modify(locked, |this| rules::half_close(this, peer))
        })
    }

    /// `mx_socket_read` at `side` into `dst`, after the handle checks.
    ///
    /// # Errors
    /// `WRONG_TYPE`, `INVALID_ARGS` (over 32 bits), `PEER_CLOSED`,
    /// `SHOULD_WAIT`, the sink's fault.
    pub(crate) fn socket_read(
        &self,
        side: Side,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<usize, Status> {
        let pair = self.socket()?;
        let size = dst.len();
        if u32::try_from(size).is_err() {
            return Err(Status::INVALID_ARGS);
        }
        let Some(pipes) = pair.pipes.get() else {
            return Err(rules::read_empty(pair.end(side.peer())));
        };
        let mut reader = pipes[side.index()].reader();
        let mut queued = reader.queued(false);
        if queued.payload == 0 || (!pair.datagram && (queued.payload as usize) < size) {
            // A stream read takes everything queued that fits: look at what
            // the writer published since this reader last looked.
            queued = reader.queued(true);
        }
        if queued.payload == 0 {
            let status = rules::read_empty(pair.end(side.peer()));
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
        let front_len = if pair.datagram {
            reader.peek(&mut front)
        } else {
            0
        };
        let plan = rules::read_plan(pair.datagram, queued, size, &front[..front_len])?;
        if plan.consume == 0 {
            return Ok(0);
        }
        let consume = Tally {
            payload: plan.payload as u32,
            bytes: plan.consume as u32,
        };
        reader.take(plan.skip, plan.copy, dst, consume)?;
        drop(reader);
        self.data_changed();
        Ok(plan.copy)
    }

    /// Payload bytes waiting at `side` (the `NULL, 0` read).
    ///
    /// # Errors
    /// `WRONG_TYPE`.
    pub(crate) fn socket_outstanding(&self, side: Side) -> Result<usize, Status> {
        Ok(self.socket()?.outstanding(side))
    }

    /// Whether this is a datagram socket.
    ///
    /// # Errors
    /// `WRONG_TYPE`.
    pub(crate) fn socket_is_datagram(&self) -> Result<bool, Status> {
        Ok(self.socket()?.is_datagram())
    }

    /// Payload bytes `side` may write now, or `None` if writes from `side`
    /// fail whatever the room (the peer is closed or `side` half-closed).
    ///
    /// # Errors
    /// `WRONG_TYPE`.
    pub(crate) fn socket_room(&self, side: Side) -> Result<Option<usize>, Status> {
        let pair = self.socket()?;
        if !pair.end(side.peer()).is_open() || pair.end(side).write_shut {
            return Ok(None);
        }
        Ok(Some(pair.room(side)))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_idle_pair_is_small() {
        // The object, in an `Arc<Kernel>` with its 8-byte count, must fit a
        // 96-byte allocation (malloc adds 8 and rounds to 16).
        let size = core::mem::size_of::<crate::object::Kernel>();
        assert!(size + 8 <= 88, "Kernel is {size} bytes");
    }
}

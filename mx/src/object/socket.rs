//! Socket pairs: the lock around [`SocketCore`], and copies outside it.
//!
//! Small transfers (at most [`INLINE_MAX`] bytes) copy under the pair lock:
//! that is one lock round trip and no allocation. Larger ones take two short
//! lock sections around an unlocked copy, so a writer filling new chunks and
//! a reader draining old ones copy at the same time, on two cores, as AF_UNIX
//! does:
//!
//! ```text
//! writer: lock{check, stage n} -- fill segment -- lock{commit, signals}
//! reader: lock{plan, lend}     -- drain segment -- lock{give back, signals}
//! ```
//!
//! Readers of one end are serialised by that end's reader mutex (a lent
//! read must finish before the next read looks at the front). Writers need
//! no such mutex: each write commits whole, and staged bytes count against
//! capacity.
//!
//! Lock order: reader mutex, then the pair lock.

use mx_core::chunks::ChunkQueue;
use mx_core::socket::{Framed, SocketCore};
use mx_core::storage::{Sink, Source, Storage};
use mx_core::{Koid, Side, Signals, Status};

use super::{Guarded, Live};
use crate::sync::{counters, Mutex};

/// Transfers up to this many bytes copy under the pair lock.
pub(crate) const INLINE_MAX: usize = 16 * 1024;

/// Both ends of a socket.
#[derive(Debug)]
pub(crate) struct SocketPair {
    /// Koid of end A; end B's is one more.
    koid: Koid,
    /// Fixed at creation.
    datagram: bool,
    /// Serialises the readers of each end (held across a lent read).
    readers: [Mutex<()>; 2],
    /// Both ends' state, buffers and observers.
    pub(crate) guarded: Guarded<SocketCore<ChunkQueue>>,
    _live: Live,
}

enum WriteStep {
    Done(usize),
    Staged(usize),
}

enum ReadStep<T> {
    Done(usize),
    Lent(mx_core::socket::ReadPlan, T),
}

impl SocketPair {
    /// A new pair with one handle per end.
    pub(crate) fn new(datagram: bool) -> SocketPair {
        SocketPair {
            koid: counters::koids(2),
            datagram,
            readers: [Mutex::new(()), Mutex::new(())],
            guarded: Guarded::new(SocketCore::new(datagram)),
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

    /// `mx_socket_write` (options 0) from `side`, after the handle checks.
    pub(crate) fn write(&self, side: Side, src: &(impl Source + ?Sized)) -> Result<usize, Status> {
        let len = src.len();
        let step = self.guarded.update(|l| -> Result<WriteStep, Status> {
            let n = l.core.write_amount(side, len)?;
            if n == 0 {
                return Ok(WriteStep::Done(0));
            }
            if n <= INLINE_MAX {
                l.core.write(side, src, n)?;
                return Ok(WriteStep::Done(n));
            }
            l.core.stage(side, n);
            Ok(WriteStep::Staged(n))
        })?;
        let n = match step {
            WriteStep::Done(n) => return Ok(n),
            WriteStep::Staged(n) => n,
        };
        let framed = Framed::new(self.datagram, src, n);
        let segment = ChunkQueue::new_segment(framed.len()).and_then(|mut segment| {
            ChunkQueue::fill_segment(&mut segment, &framed, 0, framed.len())?;
            Ok(segment)
        });
        self.guarded.update(|l| match segment {
            Ok(segment) => l.core.commit(side, n, segment).map(|()| n),
            Err(status) => {
                l.core.unstage(side, n);
                Err(status)
            }
        })
    }

    /// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE` from `side`.
    pub(crate) fn half_close(&self, side: Side) -> Result<(), Status> {
        self.guarded.update(|l| l.core.half_close(side))
    }

    /// Payload bytes waiting at `side`.
    pub(crate) fn outstanding(&self, side: Side) -> usize {
        self.guarded.lock().core.outstanding(side)
    }

    /// `mx_socket_read` at `side` into `dst`, after the handle checks.
    pub(crate) fn read(&self, side: Side, dst: &mut (impl Sink + ?Sized)) -> Result<usize, Status> {
        let _reader = self.readers[side.index()].lock();
        let step = self.guarded.update(|l| -> Result<ReadStep<_>, Status> {
            let plan = l.core.read_plan(side, dst.len())?;
            if plan.copy <= INLINE_MAX {
                l.core.read(side, plan, dst)?;
                return Ok(ReadStep::Done(plan.copy));
            }
            Ok(ReadStep::Lent(plan, l.core.lend(side, plan)?))
        })?;
        let (plan, segment) = match step {
            ReadStep::Done(n) => return Ok(n),
            ReadStep::Lent(plan, segment) => (plan, segment),
        };
        let copied = SocketCore::<ChunkQueue>::drain(plan, &segment, dst);
        self.guarded
            .update(|l| l.core.give_back(side, plan, segment, copied.is_ok()));
        copied.map(|()| plan.copy)
    }

    /// Payload bytes `side` may write now.
    pub(crate) fn room(&self, side: Side) -> usize {
        self.guarded.lock().core.room(side)
    }

    /// The current signals of `side`.
    pub(crate) fn signals(&self, side: Side) -> Signals {
        self.guarded.signals(side)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_pair_is_small() {
        // The object, in an `Arc<Kernel>` with its 8-byte count, must fit a
        // 128-byte allocation (malloc adds 8 and rounds to 16).
        let size = core::mem::size_of::<crate::object::Kernel>();
        eprintln!(
            "Kernel {size} SocketPair {}",
            core::mem::size_of::<SocketPair>()
        );
        assert!(size + 8 <= 120, "Kernel is {size} bytes");
    }
}

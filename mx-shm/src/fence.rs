//! Asymmetric fences: nearly free on the hot side, heavy on the rare side.
//!
//! Several protocols here have two parties that each store to one word and
//! then load the other's: a data path publishes a write and then looks for
//! waiters, while a waiter announces itself and then looks for data; a
//! gate's owner marks itself busy and then looks for a revocation, while a
//! revoker marks the revocation and then looks at `busy`; a handle lookup
//! marks its thread's record and then reads the bucket, while a reclaimer
//! unlinks what it will free and then looks at the records ([`crate::rcu`]);
//! a writer that would free at once unlinks and then counts the threads
//! holding a record, while a thread claiming its record counts itself and
//! then reads (`rcu::alone`; the claim is the rare side). Without a full
//! fence between the store and the load on *both* sides, each may miss the
//! other's store (x86 lets a load pass an earlier store; the C++ model lets
//! much more), and a wake-up or a revocation is lost.
//!
//! A full fence costs the hot side dearly: it waits until the stores of the
//! message just written have left the CPU. So the hot side issues only
//! [`light`] (a compiler fence), and the rare side issues [`heavy`]:
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every thread
//! of the process that is running at that moment execute a full barrier. A
//! hot-side thread then either ran its store before that barrier (and the
//! rare side's load, after `heavy` returns, sees it) or runs its load after
//! it (and sees the rare side's store). That is the guarantee of full
//! fences on both sides, paid for only on the rare side (Linux's
//! `membarrier(2)`; liburcu's "memb" flavour rests on it).
//!
//! When the other party may be another process ([`light_shared`],
//! [`heavy_shared`]), the rare side uses `MEMBARRIER_CMD_GLOBAL_EXPEDITED`,
//! which reaches the running threads of every process that registered for
//! it; every process that uses this crate registers at its first fence.
//!
//! If the kernel refuses (an old kernel, or a sandbox that filters the call),
//! both sides issue full fences: correct, and as fast as before. The choice
//! is made once per process, before any fence is issued, so both sides of a
//! protocol always agree.
//!
//! Under loom both sides are `SeqCst` fences: loom cannot run a fence in
//! another thread, so the models check the protocols with the guarantee
//! `membarrier` gives, a full fence on each side.

#[cfg(not(loom))]
use core::sync::atomic::{compiler_fence, AtomicU8};

use crate::sync::{fence, Ordering};

/// Not decided yet.
#[cfg(not(loom))]
const UNDECIDED: u8 = 0;
/// `membarrier` with the private and the global expedited commands.
#[cfg(not(loom))]
const BOTH: u8 = 1;
/// Only the private expedited command: cross-process fences are full.
#[cfg(not(loom))]
const PRIVATE_ONLY: u8 = 2;
/// Neither: full fences everywhere.
#[cfg(not(loom))]
const NONE: u8 = 3;

#[cfg(not(loom))]
#[allow(clippy::disallowed_types)]
static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// The process's mode, deciding it (and registering with the kernel) on
/// first use.
#[cfg(not(loom))]
#[inline]
fn mode() -> u8 {
    match MODE.load(Ordering::Acquire) {
        UNDECIDED => decide(),
        mode => mode,
    }
}

#[cfg(not(loom))]
#[cold]
#[inline(never)]
fn decide() -> u8 {
    use rustix::thread::{membarrier, MembarrierCommand};
    let private = membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok();
    let global = membarrier(MembarrierCommand::RegisterGlobalExpedited).is_ok();
    let mode = match (private, global) {
        (true, true) => BOTH,
        (true, false) => PRIVATE_ONLY,
        _ => NONE,
    };
    // Two threads deciding at once register twice (harmless) and agree.
    match MODE.compare_exchange(UNDECIDED, mode, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => mode,
        Err(decided) => decided,
    }
}

/// In a child after `fork()`: registers the child's new address space for
/// the same fences as the parent's, or falls back to full fences if the
/// kernel refuses (the child has one thread, so both sides change at once).
#[cfg(not(loom))]
pub fn reset_after_fork() {
    use rustix::thread::{membarrier, MembarrierCommand};
    let mode = MODE.load(Ordering::Acquire);
    if mode == UNDECIDED || mode == NONE {
        return;
    }
    let private = membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok();
    let global = membarrier(MembarrierCommand::RegisterGlobalExpedited).is_ok();
    let now = match (private, global) {
        (true, true) => mode,
        (true, false) => PRIVATE_ONLY,
        _ => NONE,
    };
    MODE.store(now, Ordering::Release);
}

/// Whether [`heavy`] is a `membarrier` (and [`light`] a compiler fence).
pub fn asymmetric() -> bool {
    #[cfg(not(loom))]
    {
        matches!(mode(), BOTH | PRIVATE_ONLY)
    }
    #[cfg(loom)]
    {
        false
    }
}

/// The hot side's fence, between its store and its load, for a protocol
/// within this process.
#[inline]
pub fn light() {
    #[cfg(not(loom))]
    match mode() {
        BOTH | PRIVATE_ONLY => compiler_fence(Ordering::SeqCst),
        _ => fence(Ordering::SeqCst),
    }
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// The rare side's fence, between its store and its load, for a protocol
/// within this process.
pub fn heavy() {
    #[cfg(not(loom))]
    match mode() {
        BOTH | PRIVATE_ONLY => {
            use rustix::thread::{membarrier, MembarrierCommand};
            if membarrier(MembarrierCommand::PrivateExpedited).is_err() {
                // Registered, so this cannot fail; were it to, the hot side
                // has only a compiler fence, and nothing else would do.
                std::process::abort();
            }
        }
        _ => fence(Ordering::SeqCst),
    }
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// [`light`] for a protocol whose other party may be another process.
#[inline]
pub fn light_shared() {
    #[cfg(not(loom))]
    match mode() {
        BOTH => compiler_fence(Ordering::SeqCst),
        _ => fence(Ordering::SeqCst),
    }
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

/// [`heavy`] for a protocol whose other party may be another process.
///
/// Both processes use this crate, so both registered at their first fence
/// (the other process's first fence comes before it touches the shared
/// memory at all).
pub fn heavy_shared() {
    #[cfg(not(loom))]
    match mode() {
        BOTH => {
            use rustix::thread::{membarrier, MembarrierCommand};
            if membarrier(MembarrierCommand::GlobalExpedited).is_err() {
                std::process::abort();
            }
        }
        _ => fence(Ordering::SeqCst),
    }
    #[cfg(loom)]
    fence(Ordering::SeqCst);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_mode_is_decided_once_and_the_fences_run() {
        let first = mode();
        assert_ne!(first, UNDECIDED);
        light();
        heavy();
        light_shared();
        heavy_shared();
        assert_eq!(mode(), first);
    }
}

//! Per-thread records: each thread that asks gets an index into static
//! pools of per-thread state, and gives it back when it exits.
//!
//! The biased gates ([`crate::gate`]) keep a busy flag per thread and the
//! read-side sections ([`crate::rcu`]) an epoch per thread, each in its own
//! static array indexed by this index: the two never share a record, so a
//! thread inside a gate may be inside a read section and the other way
//! round. Claiming an index never allocates, and naming a record needs no
//! pointer. There are [`RECORDS`] indices; a thread that finds none left
//! (or asks while exiting, after it gave its index back) gets `None`, and
//! each user then takes its slow path (a gate's mutex, the table's locks).
//!
//! A thread that exits hands its index to the next new thread.

use core::cell::Cell;

/// How many threads at once can hold an index.
#[cfg(not(loom))]
pub(crate) const RECORDS: usize = 4096;
#[cfg(loom)]
pub(crate) const RECORDS: usize = 8;

/// Not claimed yet.
const UNCLAIMED: u32 = u32::MAX;
/// None was left.
const NONE_LEFT: u32 = u32::MAX - 1;

#[cfg(not(loom))]
mod pool {
    use super::RECORDS;
    use crate::sync::Mutex;
    #[allow(clippy::disallowed_types)]
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// Indices not held by a thread.
    pub(super) struct Free {
        /// Indices ever handed out: `0..fresh`.
        fresh: usize,
        /// Indices given back by threads that exited.
        returned: [u16; RECORDS],
        returned_len: usize,
    }

    /// The process's pool.
    static FREE: Mutex<Free> = Mutex::new(Free {
        fresh: 0,
        returned: [0; RECORDS],
        returned_len: 0,
    });

    /// The pool of a child made by `fork()`, which replaces [`FREE`]: a
    /// thread of the parent may have held its lock.
    static CHILD_FREE: crate::sync::Leaked<Mutex<Free>> = crate::sync::Leaked::new();

    fn free() -> &'static Mutex<Free> {
        CHILD_FREE.get().unwrap_or(&FREE)
    }

    /// Threads holding an index now.
    #[allow(clippy::disallowed_types)]
    pub(super) static HELD: AtomicUsize = AtomicUsize::new(0);
    /// `fresh`, readable without the lock.
    #[allow(clippy::disallowed_types)]
    pub(super) static EVER: AtomicUsize = AtomicUsize::new(0);

    pub(super) fn claim() -> Option<u16> {
        if NO_POOL.load(Ordering::Relaxed) {
            return None;
        }
        let mut free = free().lock();
        let index = if free.returned_len > 0 {
            free.returned_len -= 1;
            free.returned[free.returned_len]
        } else if free.fresh < RECORDS {
            free.fresh += 1;
            EVER.store(free.fresh, Ordering::SeqCst);
            u16::try_from(free.fresh - 1).ok()?
        } else {
            return None;
        };
        HELD.fetch_add(1, Ordering::SeqCst);
        Some(index)
    }

    pub(super) fn give_back(index: u16) {
        if NO_POOL.load(Ordering::Relaxed) {
            // Nowhere safe to put it: it stays counted, so grace periods
            // keep looking at its (cleared) record, which is harmless.
            return;
        }
        let mut free = free().lock();
        // Each index is held once, so there is room for it.
        let at = free.returned_len;
        free.returned[at] = index;
        free.returned_len = at + 1;
        HELD.fetch_sub(1, Ordering::SeqCst);
    }

    pub(super) fn held() -> usize {
        HELD.load(Ordering::SeqCst)
    }

    pub(super) fn ever() -> usize {
        EVER.load(Ordering::SeqCst)
    }

    /// Set in a child of `fork()` whose new pool could not be allocated:
    /// no index is handed out or given back any more (threads use the
    /// paths for threads without one), since the old pool's lock may be
    /// held by a thread that is not in the child.
    #[allow(clippy::disallowed_types)]
    static NO_POOL: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

    /// A new, empty pool on the heap, or `None` if memory is short (never
    /// an abort: this runs in a child of `fork()`).
    fn try_new_pool(fresh: usize) -> Option<Box<Mutex<Free>>> {
        let layout = std::alloc::Layout::new::<Mutex<Free>>();
        // SAFETY: the layout is of a sized, non-zero-sized type.
        let raw = unsafe { std::alloc::alloc(layout) }.cast::<Mutex<Free>>();
        if raw.is_null() {
            return None;
        }
        // SAFETY: `raw` is a fresh allocation of the global allocator with
        // the layout of `Mutex<Free>`: writing the value initialises it,
        // and the box then owns it with that same layout.
        unsafe {
            raw.write(Mutex::new(Free {
                fresh,
                returned: [0; RECORDS],
                returned_len: 0,
            }));
            Some(Box::from_raw(raw))
        }
    }

    /// In a child after `fork()`, whose only thread holds `mine` (if any):
    /// every other index handed out so far is free again (its thread is
    /// not in the child), in a new pool. If the pool cannot be allocated,
    /// the child hands out no more indices ([`NO_POOL`]).
    pub(super) fn reset_after_fork(mine: Option<u16>) {
        let ever = EVER.load(Ordering::SeqCst);
        if ever == 0 {
            // No index was ever handed out: nothing to forget.
            return;
        }
        let Some(mut free) = try_new_pool(ever) else {
            NO_POOL.store(true, Ordering::SeqCst);
            HELD.store(usize::from(mine.is_some()), Ordering::SeqCst);
            return;
        };
        {
            let pool = free.get_mut();
            // Highest first at the back, so that low indices go first.
            for index in (0..ever).rev() {
                let Ok(index) = u16::try_from(index) else {
                    continue;
                };
                if Some(index) != mine {
                    let at = pool.returned_len;
                    pool.returned[at] = index;
                    pool.returned_len = at + 1;
                }
            }
        }
        HELD.store(usize::from(mine.is_some()), Ordering::SeqCst);
        CHILD_FREE.forget();
        let _ = CHILD_FREE.publish(free);
    }
}

#[cfg(loom)]
mod pool {
    use super::RECORDS;
    use loom::sync::atomic::{AtomicUsize, Ordering};

    // Loom's threads share one OS thread and a model must run the same way
    // each time: the pool is per execution, and indices are never given
    // back (a model has fewer threads than indices).
    loom::lazy_static! {
        static ref TAKEN: AtomicUsize = AtomicUsize::new(0);
    }

    pub(super) fn claim() -> Option<u16> {
        let index = TAKEN.fetch_add(1, Ordering::SeqCst);
        u16::try_from(index)
            .ok()
            .filter(|&i| usize::from(i) < RECORDS)
    }

    pub(super) fn held() -> usize {
        TAKEN.load(Ordering::SeqCst).min(RECORDS)
    }

    pub(super) fn ever() -> usize {
        held()
    }
}

/// Holds this thread's index and gives it back when the thread exits.
struct Held(Cell<u32>);

#[cfg(not(loom))]
impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(index) = u16::try_from(self.0.get()) {
            pool::give_back(index);
        }
    }
}

#[cfg(not(loom))]
std::thread_local! {
    static MINE: Held = const { Held(Cell::new(UNCLAIMED)) };
}

#[cfg(loom)]
loom::thread_local! {
    static MINE: Held = Held(Cell::new(UNCLAIMED));
}

/// This thread's index, claiming one on first use; `None` if none is left,
/// or the thread is exiting and gave its index back.
#[inline]
pub(crate) fn index() -> Option<usize> {
    #[cfg(not(loom))]
    let raw = MINE.try_with(|held| held.0.get()).ok()?;
    #[cfg(loom)]
    let raw = MINE.with(|held| held.0.get());
    match raw {
        UNCLAIMED => claim(),
        NONE_LEFT => None,
        index => Some(index as usize),
    }
}

#[cold]
fn claim() -> Option<usize> {
    // A child of `fork()` clears the records of the parent's threads.
    #[cfg(not(loom))]
    crate::process::crate_hook_kept();
    let claimed = pool::claim();
    let raw = claimed.map_or(NONE_LEFT, u32::from);
    #[cfg(not(loom))]
    let _ = MINE.try_with(|held| held.0.set(raw));
    #[cfg(loom)]
    MINE.with(|held| held.0.set(raw));
    // The new holder counts before this thread reads anything a reclaimer
    // may free: a reclaimer that finds itself alone ([`held`], after its
    // light fence) and frees at once has made its stores visible to
    // whatever this thread reads after this heavy fence (see `rcu::alone`).
    crate::fence::heavy();
    claimed.map(usize::from)
}

/// This thread's index if it holds one already (never claims).
#[inline]
pub(crate) fn held_index() -> Option<usize> {
    #[cfg(not(loom))]
    let raw = MINE.try_with(|held| held.0.get()).ok()?;
    #[cfg(loom)]
    let raw = MINE.with(|held| held.0.get());
    (raw < NONE_LEFT).then_some(raw as usize)
}

/// In a child after `fork()` (its only thread runs this): the indices of
/// the parent's other threads, which are not in the child, are free again,
/// and their records in the gates and the read sections are cleared (a
/// thread of the parent may have been inside a gate or a section when it
/// forked: a grace period in the child must not wait for it).
#[cfg(not(loom))]
pub(crate) fn reset_after_fork() {
    let mine = held_index();
    for index in (0..ever()).filter(|&index| Some(index) != mine) {
        crate::rcu::clear_record(index);
        crate::gate::clear_record(index);
    }
    pool::reset_after_fork(mine.and_then(|index| u16::try_from(index).ok()));
}

/// How many threads hold an index now (a sequentially consistent load).
pub(crate) fn held() -> usize {
    pool::held()
}

/// How many indices were ever handed out: every index in use is below.
pub(crate) fn ever() -> usize {
    pool::ever()
}

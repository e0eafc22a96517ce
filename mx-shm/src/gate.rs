//! [`Gate`]: a lock biased towards the one thread that uses it, which then
//! enters with no atomic read-modify-write and no full fence.
//!
//! Each side of a pipe has one writer or one reader at a time. Usually the
//! same thread is that writer every time, and an ordinary mutex would make
//! it pay two locked instructions per message for a lock nobody else
//! wants; each waits until the message's stores have drained (that is most
//! of a small write's cost). So a gate remembers its *owner*, the thread it
//! is biased towards:
//!
//! - The owner enters by raising the busy flag of its own thread record
//!   (a plain store: only that thread writes it), a light fence
//!   ([`crate::fence::light`]), and checking that it is still the owner;
//!   it leaves by lowering the flag again (a release store).
//! - Anyone else takes the gate's mutex and *revokes* the bias: it stores
//!   `owner = REVOKED`, issues a heavy fence ([`crate::fence::heavy`]), and
//!   waits until the owner's busy flag is 0. The two fences make the owner
//!   either see the revocation (and take the mutex too) or be seen busy (and
//!   be waited for); see [`crate::fence`]. Then it works under the mutex.
//! - Once revoked, everyone uses the mutex, until one thread has taken it
//!   [`STREAK`] times in a row: it becomes the owner again. Threads that
//!   take turns on one side keep the plain mutex, and pay the heavy fence
//!   only when the bias moves.
//!
//! The busy flag is the thread's, not the gate's: a thread that read
//! "owner = me" just before a revocation, and stores its busy mark late,
//! marks only itself, never the gate's next owner. Records live in a static
//! pool indexed by the thread's index (the crate's `thread` module hands
//! out 4,096), and a gate names its owner by that index (a thread that
//! exits hands its index to the next new thread, which inherits any bias it
//! held; threads beyond the pool's size always take the mutex), so claiming
//! a record never allocates and naming one needs no pointer. The read-side
//! sections of [`crate::rcu`] keep their own records under the same index,
//! so being in one never looks like being in the other. A revoker waits
//! until the owner is inside no gate at all; nobody blocks while inside a
//! gate (a pass only wraps copies), so that wait is short.
//!
//! **Passes never nest**: a thread inside one gate enters no other. Were it
//! to, two threads could each wait, inside a gate, for the other to leave
//! all of its gates. Debug builds check this.
//!
//! Memory is handed on as by any lock: the owner's release of its busy
//! flag is acquired by a revoker that waited for it; a revoker's mutex
//! release is acquired by whoever takes the mutex next, including the old
//! owner, which finds the bias revoked and takes the mutex; the bias is only
//! ever given under the mutex, to its holder.
//!
//! This is biased locking (Kawachiya, Koseki and Onodera, 2002) with the
//! asymmetric fences of `membarrier(2)` instead of a safepoint.

use core::ops::{Deref, DerefMut};

use crate::sync::{AtomicU32, AtomicU64, Mutex, MutexGuard, Ordering, UnsafeCell};
use crate::thread::RECORDS;

/// No owner yet: the first thread to take the mutex gets the bias.
const NOBODY: u64 = 0;
/// The bias was revoked: everyone takes the mutex.
const REVOKED: u64 = u64::MAX;

/// Consecutive mutex entries by one thread that make it the owner again.
pub const STREAK: u32 = 256;

/// Who entered the gate through its mutex last, and how many times in a row.
#[derive(Debug, Default)]
struct Turns {
    last: u64,
    streak: u32,
}

/// A lock around `T`, biased towards the thread that uses it (see the module
/// docs).
#[derive(Debug)]
pub struct Gate<T> {
    /// The token of the thread the gate is biased towards,
    /// [`NOBODY`] or [`REVOKED`]. Changed only under `turns`' mutex.
    owner: AtomicU64,
    /// Everyone else's way in; who used it last.
    turns: Mutex<Turns>,
    /// What the gate guards.
    value: UnsafeCell<T>,
}

// SAFETY: `value` is reached only through a `Pass`, and the protocol in the
// module docs gives at most one `Pass` at a time; `T: Send` lets the value
// be used from whichever thread holds it.
unsafe impl<T: Send> Sync for Gate<T> {}
// SAFETY: as for `Sync`: the gate owns its `T`.
unsafe impl<T: Send> Send for Gate<T> {}

impl<T: Default> Default for Gate<T> {
    fn default() -> Self {
        Gate::new(T::default())
    }
}

/// A thread's record: whether it is inside a gate as an owner. Alone on
/// its cache line, since its thread writes it at every entry.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Record {
    /// Written only by the thread holding the record.
    busy: AtomicU32,
}

/// This thread's token: its record's index plus one, never [`NOBODY`] or
/// [`REVOKED`]; `None` if no record is left for it (or the thread is
/// exiting and gave its record back). The index is the thread's
/// ([`crate::thread`]); the record, in this module's own pool, only the
/// gates use.
#[inline]
fn my_token() -> Option<u64> {
    crate::thread::index().map(|index| index as u64 + 1)
}

/// All records, in static memory, one per thread index.
#[cfg(not(loom))]
static POOL: [Record; RECORDS] = [const {
    Record {
        busy: AtomicU32::new(0),
    }
}; RECORDS];

/// In a child after `fork()`: the record of `index`, whose thread is not in
/// the child, is inside no gate (so a revoker there does not wait for it,
/// and the next thread given the index starts outside every gate).
#[cfg(not(loom))]
pub(crate) fn clear_record(index: usize) {
    POOL[index].busy.store(0, Ordering::Release);
}

/// The record a token names.
fn record(token: u64) -> &'static Record {
    #[cfg(loom)]
    loom::lazy_static! {
        static ref POOL: Vec<Record> = (0..RECORDS).map(|_| Record::default()).collect();
    }
    &POOL[(token - 1) as usize]
}

impl<T> Gate<T> {
    /// A gate around `value`, biased towards nobody yet.
    pub fn new(value: T) -> Gate<T> {
        Gate {
            owner: AtomicU64::new(NOBODY),
            turns: Mutex::new(Turns::default()),
            value: UnsafeCell::new(value),
        }
    }

    /// Enters the gate, waiting as long as it takes.
    ///
    /// # Panics
    /// In debug builds, if this thread is inside a gate already.
    #[inline]
    pub fn enter(&self) -> Pass<'_, T> {
        nesting::enter();
        let Some(me) = my_token() else {
            return self.enter_locked(NOBODY);
        };
        if self.owner.load(Ordering::Relaxed) == me {
            let mine = record(me);
            mine.busy.store(1, Ordering::Relaxed);
            crate::fence::light();
            if self.owner.load(Ordering::Relaxed) == me {
                return Pass {
                    gate: self,
                    how: How::Owner(mine),
                };
            }
            // Revoked meanwhile: the revoker waits for this.
            mine.busy.store(0, Ordering::Release);
        }
        self.enter_locked(me)
    }

    /// Enters the gate while this thread is inside another one.
    ///
    /// Passes must not nest (module docs), with one exception: a caller
    /// that holds a process-wide lock that every nesting caller takes (so
    /// at most one thread nests at a time) may nest. Another thread then
    /// never waits, inside a gate, for the nesting one: it is inside at
    /// most one gate, and leaves it.
    pub fn enter_nested(&self) -> Pass<'_, T> {
        nesting::leave();
        let pass = self.enter();
        nesting::enter_again();
        pass
    }

    /// Enters through the mutex, revoking another thread's bias.
    #[cold]
    fn enter_locked(&self, me: u64) -> Pass<'_, T> {
        let mut turns = self.turns.lock();
        let owner = self.owner.load(Ordering::Relaxed);
        if owner != NOBODY && owner != REVOKED {
            self.owner.store(REVOKED, Ordering::Relaxed);
            crate::fence::heavy();
            if owner != me {
                let record = record(owner);
                while record.busy.load(Ordering::Acquire) != 0 {
                    // The owner is inside for a copy at most.
                    crate::sync::spin_or_yield();
                }
            }
        }
        if turns.last == me {
            turns.streak = turns.streak.saturating_add(1);
        } else {
            turns.last = me;
            turns.streak = 1;
        }
        let owner = self.owner.load(Ordering::Relaxed);
        let eligible = me != NOBODY;
        if eligible && (owner == NOBODY || (owner == REVOKED && turns.streak >= STREAK)) {
            // Biased towards us from our next entry on.
            self.owner.store(me, Ordering::Relaxed);
        }
        Pass {
            gate: self,
            how: How::Locked(turns),
        }
    }

    /// The value, through exclusive access.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self`: no `Pass` exists.
        self.value.with_mut(|value| unsafe { &mut *value })
    }

    /// Whether a thread is biased to enter without the mutex (for tests).
    pub fn is_biased(&self) -> bool {
        !matches!(self.owner.load(Ordering::Relaxed), NOBODY | REVOKED)
    }
}

/// How a pass got in.
#[derive(Debug)]
enum How<'a> {
    /// As the owner, marked busy in its record.
    Owner(&'static Record),
    /// Through the mutex (the guard releases it on drop).
    Locked(#[allow(dead_code)] MutexGuard<'a, Turns>),
}

/// Being inside a [`Gate`]: access to its value until dropped.
#[derive(Debug)]
pub struct Pass<'a, T> {
    gate: &'a Gate<T>,
    how: How<'a>,
}

impl<T> Deref for Pass<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a `Pass` is exclusive (module docs); the reference lives
        // no longer than the pass.
        self.gate.value.with(|value| unsafe { &*value })
    }
}

impl<T> DerefMut for Pass<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`, and `&mut self` makes it unique here.
        self.gate.value.with_mut(|value| unsafe { &mut *value })
    }
}

impl<T> Drop for Pass<'_, T> {
    fn drop(&mut self) {
        if let How::Owner(mine) = self.how {
            // The owner leaves; a revoker acquires this.
            mine.busy.store(0, Ordering::Release);
        }
        // Otherwise the mutex guard releases.
        nesting::leave();
    }
}

/// The debug check that passes never nest.
#[cfg(all(debug_assertions, not(loom)))]
mod nesting {
    use core::cell::Cell;

    std::thread_local! {
        static INSIDE: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn enter() {
        let _ = INSIDE.try_with(|inside| {
            assert!(
                !inside.replace(true),
                "a thread entered a gate inside another"
            );
        });
    }

    pub(super) fn leave() {
        let _ = INSIDE.try_with(|inside| inside.set(false));
    }

    /// After a nested entry: the thread is still inside the outer gate.
    pub(super) fn enter_again() {
        let _ = INSIDE.try_with(|inside| inside.set(true));
    }
}

#[cfg(not(all(debug_assertions, not(loom))))]
mod nesting {
    #[inline(always)]
    pub(super) fn enter() {}
    #[inline(always)]
    pub(super) fn leave() {}
    #[inline(always)]
    pub(super) fn enter_again() {}
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_first_thread_gets_the_bias_and_a_second_revokes_it() {
        let gate = std::sync::Arc::new(Gate::new(0u64));
        *gate.enter() += 1;
        assert!(gate.is_biased());
        *gate.enter() += 1;
        let other = gate.clone();
        std::thread::spawn(move || *other.enter() += 1)
            .join()
            .unwrap();
        assert!(!gate.is_biased(), "a second thread revokes the bias");
        for _ in 0..STREAK {
            *gate.enter() += 1;
        }
        assert!(gate.is_biased(), "a streak gives it back");
        assert_eq!(*gate.enter(), 3 + u64::from(STREAK));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "inside another")]
    fn nested_passes_are_caught_in_debug_builds() {
        let (a, b) = (Gate::new(()), Gate::new(()));
        let _outer = a.enter();
        let _inner = b.enter();
    }

    #[test]
    fn threads_taking_turns_lose_nothing() {
        let gate = std::sync::Arc::new(Gate::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let gate = gate.clone();
                std::thread::spawn(move || {
                    for i in 0..20_000 {
                        *gate.enter() += 1;
                        if i % 1000 == 0 {
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*gate.enter(), 80_000);
    }
}

//! Read-copy-update: read-side sections that cost a reader no lock, no
//! atomic read-modify-write and no full fence, and grace periods after
//! which memory those readers might still see can be freed.
//!
//! A reader marks itself in its thread's record (the crate's `thread`
//! module gives the index; the records are this module's): it stores the
//! current epoch there with a plain store, issues the light fence
//! ([`crate::fence`]), reads, and leaves by storing 0 (a release store). A
//! [`Section`] is that mark; sections nest (an inner one changes nothing).
//!
//! A writer that makes memory unreachable (under whatever lock serialises
//! writers) does not free it: it keeps it aside, *retired*, and frees it
//! after a grace period ([`synchronize`]): it advances the epoch, issues
//! the heavy fence, and waits until every record is either 0 or holds the
//! new epoch or a later one. The two fences make a reader either visible
//! to that scan (which waits for it) or too late to see the memory at all;
//! a record with the new epoch belongs to a section that began after the
//! epoch advanced, so it sees the writer's stores too (it loaded the epoch
//! with acquire). This is liburcu's "memb" flavour.
//!
//! Rules, each of which would otherwise deadlock or free too early:
//!
//! - [`synchronize`] is never called inside a section, nor while holding a
//!   lock a reader may wait for. Retired memory is therefore kept in the
//!   structure that retired it (the handle buckets of [`crate::handles`]
//!   keep it in place) and reclaimed in batches by a thread that holds no
//!   lock; see [`crate::handles::Bucket::reclaim`].
//! - A thread without a record (4,096 threads at once already, or one
//!   exiting) cannot enter a section ([`Section::enter`] returns `None`)
//!   and must use the writers' lock instead.
//! - [`alone`] lets a writer skip the grace period when no other thread
//!   holds a record at all (a single-threaded program): then nothing can be
//!   reading what it just unlinked, and it frees at once.
//!
//! - In a child made by `fork()`, only the forking thread exists: the
//!   records of the parent's other threads are cleared before the child
//!   runs anything else (`process` runs the crate's hook), so a grace
//!   period there never waits for a thread that is not in the process, and
//!   [`alone`] counts the child's threads only.
//!
//! Under loom both fences are `SeqCst` fences, as everywhere in this crate,
//! and the records and the epoch are per model execution.

use core::marker::PhantomData;

use crate::sync::{spin_or_yield, AtomicU64, Ordering};
use crate::thread;

/// A thread's record: the epoch its current section began in, or 0.
/// Alone on its cache line, since its thread writes it at every section.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Record {
    /// Written only by its thread; read by [`synchronize`].
    epoch: AtomicU64,
}

/// The epoch: advanced by every grace period; never 0.
#[derive(Debug)]
#[repr(align(64))]
struct Epoch(AtomicU64);

#[cfg(not(loom))]
static RECORDS: [Record; thread::RECORDS] = [const {
    Record {
        epoch: AtomicU64::new(0),
    }
}; thread::RECORDS];

#[cfg(not(loom))]
static EPOCH: Epoch = Epoch(AtomicU64::new(1));

#[cfg(loom)]
loom::lazy_static! {
    static ref RECORDS: Vec<Record> = (0..thread::RECORDS).map(|_| Record::default()).collect();
    static ref EPOCH: Epoch = Epoch(AtomicU64::new(1));
}

fn record(index: usize) -> &'static Record {
    &RECORDS[index]
}

/// Being inside a read-side section: memory read from an RCU-protected
/// structure stays allocated until this is dropped. Not `Send`: it marks
/// this thread's record.
#[derive(Debug)]
pub struct Section {
    record: &'static Record,
    /// The outermost section of this thread (it unmarks the record).
    outer: bool,
    _not_send: PhantomData<*const ()>,
}

impl Section {
    /// Enters a section; `None` if this thread has no record (it then
    /// reads under the writers' lock).
    #[inline]
    pub fn enter() -> Option<Section> {
        let record = record(thread::index()?);
        if record.epoch.load(Ordering::Relaxed) != 0 {
            // Nested: the outer section keeps the mark.
            return Some(Section {
                record,
                outer: false,
                _not_send: PhantomData,
            });
        }
        // Acquire: a section that sees an advanced epoch also sees what
        // the writer that advanced it unlinked before (module docs).
        let epoch = EPOCH.0.load(Ordering::Acquire);
        record.epoch.store(epoch, Ordering::Relaxed);
        // The mark before any read; a grace period's heavy fence pairs
        // with this.
        crate::fence::light();
        Some(Section {
            record,
            outer: true,
            _not_send: PhantomData,
        })
    }
}

impl Drop for Section {
    #[inline]
    fn drop(&mut self) {
        if self.outer {
            // Every read of the section before this; a grace period that
            // sees 0 acquires it.
            self.record.epoch.store(0, Ordering::Release);
        }
    }
}

/// In a child after `fork()`: the record of `index`, whose thread is not in
/// the child, shows no section (see `thread::reset_after_fork`).
#[cfg(not(loom))]
pub(crate) fn clear_record(index: usize) {
    record(index).epoch.store(0, Ordering::Release);
}

/// Whether this thread is inside a read-side section now.
pub fn in_section() -> bool {
    thread::held_index().is_some_and(|index| record(index).epoch.load(Ordering::Relaxed) != 0)
}

/// Waits for a grace period: every section that began before this call
/// has ended when it returns, so memory made unreachable before the call
/// may be freed.
///
/// # Panics
/// In debug builds, if called inside a section (it would wait for itself).
pub fn synchronize() {
    debug_assert!(!in_section(), "a grace period inside a read section");
    let target = EPOCH.0.fetch_add(1, Ordering::AcqRel) + 1;
    // Every unlinking store before this (they happened before the caller
    // took the lock it released, or in this thread) against every
    // reader's mark: either the scan sees the mark, or the reader sees the
    // stores.
    crate::fence::heavy();
    for index in 0..thread::ever() {
        let record = record(index);
        loop {
            let epoch = record.epoch.load(Ordering::Acquire);
            if epoch == 0 || epoch >= target {
                break;
            }
            // A section is short: nothing blocks inside one.
            spin_or_yield();
        }
    }
}

/// Whether the calling writer may free what it just made unreachable at
/// once: no other thread holds a record (so none is inside a section, and
/// one that claims a record later fences after claiming it, and then sees
/// the writer's stores), and this thread is not inside a section itself,
/// except `own` if it is the outermost one (the caller entered it for this
/// operation, so found nothing through it before).
///
/// Call it after the unlinking stores. It costs a few loads and the light
/// fence (the heavy one is paid once per thread, when it claims a record).
pub fn alone(own: Option<&Section>) -> bool {
    let mine = thread::held_index();
    let inside = mine.is_some_and(|index| record(index).epoch.load(Ordering::Relaxed) != 0);
    if inside && !own.is_some_and(|section| section.outer) {
        return false;
    }
    // The unlinking stores before the count. A thread that claims a record
    // issues the heavy fence after counting itself, before it reads
    // anything: either this load sees it counted, or it sees the stores.
    crate::fence::light();
    thread::held() <= usize::from(mine.is_some())
}

/// Under loom, a cell that its owner's drop writes and its users read, so
/// that loom reports a use after free as a race between the two; nothing
/// otherwise. Objects that RCU protects carry one, and lookups check it.
#[derive(Debug)]
pub struct Sentinel(#[cfg(loom)] loom::cell::UnsafeCell<bool>);

// SAFETY: the cell is written only by `drop`, through `&mut self`, and
// otherwise only read; a program in which a drop overlaps a read is the one
// loom is there to report.
unsafe impl Sync for Sentinel {}
// SAFETY: as for `Sync`; the cell holds a plain `bool`.
unsafe impl Send for Sentinel {}

impl Sentinel {
    /// A live sentinel.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Sentinel {
        #[cfg(loom)]
        {
            Sentinel(loom::cell::UnsafeCell::new(true))
        }
        #[cfg(not(loom))]
        {
            Sentinel()
        }
    }

    /// Under loom, reads the cell (a use of the object) and checks that
    /// it is still live.
    #[inline]
    pub fn check(&self) {
        #[cfg(loom)]
        // SAFETY: a read of the cell; loom checks it against the write in
        // `drop` (that is the point).
        self.0
            .with(|live| assert!(unsafe { *live }, "used after free"));
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        #[cfg(loom)]
        // SAFETY: `&mut self`: the last use of the cell.
        self.0.with_mut(|live| unsafe { *live = false });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering as O};
    use std::sync::Arc;
    use std::time::Duration;

    /// A thread inside a read section until `leave` is set (returned once
    /// it is inside), and its handle.
    fn reader_inside() -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
        let inside = Arc::new(AtomicBool::new(false));
        let leave = Arc::new(AtomicBool::new(false));
        let reader = {
            let (inside, leave) = (inside.clone(), leave.clone());
            std::thread::spawn(move || {
                let _section = Section::enter().unwrap();
                inside.store(true, O::SeqCst);
                while !leave.load(O::SeqCst) {
                    std::thread::yield_now();
                }
            })
        };
        while !inside.load(O::SeqCst) {
            std::thread::yield_now();
        }
        (leave, reader)
    }

    #[test]
    fn sections_nest_and_mark_the_thread() {
        assert!(!in_section());
        let outer = Section::enter().unwrap();
        assert!(in_section());
        {
            let _inner = Section::enter().unwrap();
            assert!(in_section());
        }
        assert!(in_section(), "the inner section leaves the mark");
        drop(outer);
        assert!(!in_section());
    }

    #[test]
    fn a_grace_period_waits_for_sections_that_began_before() {
        let (leave, reader) = reader_inside();
        let done = Arc::new(AtomicBool::new(false));
        let waiter = {
            let done = done.clone();
            std::thread::spawn(move || {
                synchronize();
                done.store(true, O::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!done.load(O::SeqCst), "returned while a reader was inside");
        leave.store(true, O::SeqCst);
        reader.join().unwrap();
        waiter.join().unwrap();
        assert!(done.load(O::SeqCst));
        // With nobody inside, it returns at once.
        synchronize();
    }

    #[test]
    fn a_child_of_fork_waits_for_no_thread_of_the_parent() {
        let (leave, reader) = reader_inside();
        // This thread holds a record too.
        drop(Section::enter().unwrap());
        // SAFETY: the child runs only this crate's code (atomics, a
        // membarrier, a thread of its own) and leaves with `_exit`, never
        // returning into the test harness.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // The reader's record was cleared: this returns.
            synchronize();
            let mut code = if alone(None) { 0 } else { 2 };
            // A new thread gets a record (perhaps the reader's index) and
            // a grace period waits for it no more than for anyone else.
            let spawned = std::thread::spawn(|| {
                let _section = Section::enter().is_some();
            })
            .join();
            if spawned.is_err() {
                code = 3;
            }
            synchronize();
            // SAFETY: ends the child at once, running no destructor or
            // atexit handler of the parent's.
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let exited = loop {
            // SAFETY: waits for our own child, without blocking.
            let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if got == pid {
                break true;
            }
            if std::time::Instant::now() > deadline {
                // SAFETY: our own child, which we then reap.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                break false;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        leave.store(true, O::SeqCst);
        reader.join().unwrap();
        assert!(
            exited,
            "the child's grace period waited for the parent's reader"
        );
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "the child failed: {status:#x}"
        );
    }
}

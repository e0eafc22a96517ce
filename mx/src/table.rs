//! The process's handle table.
//!
//! 2,048 buckets ([`mx_core::handle`] explains the value format), each an
//! [`mx_shm::handles::Bucket`] on its own cache line. New handles go to the
//! buckets in turn, so the handles of different threads rarely share a
//! bucket and never a table-wide lock.
//!
//! # Lookups take no lock
//!
//! A lookup ([`HandleTable::find`], [`HandleTable::with`]) enters a read
//! section ([`mx_shm::rcu`]: a plain store to this thread's record and a
//! compiler fence), reads the bucket's array (acquire loads of atomics
//! only), and runs the caller's closure on what it found. It executes no
//! atomic read-modify-write and no full fence, and writes no shared cache
//! line: lookups of one handle from many threads do not contend. The
//! section ends with a release store.
//!
//! A handle may therefore be closed while a closure found it and still
//! runs. The object stays alive: a closed handle's slot keeps its reference
//! (a *tombstone*) until a grace period has passed, which waits for every
//! section that began before. What a close *does* (handle counts,
//! `PEER_CLOSED`, `LAST_HANDLE`, cancelling waits: `Object::close_handle`)
//! still happens at the close; only freeing the memory waits. The objects
//! make each operation through a handle either come before the close of
//! its end's last handle or fail with `BAD_HANDLE`: a socket write checks
//! its end inside its pipe's writer side, which the last close takes; a
//! channel write and a call register check it under the inbox lock the
//! last close takes; user signals on a peer and port packets check it
//! under the lock the last close uncounts under.
//!
//! Closing must not overtake a wait being registered through the handle
//! (the close would not find the wait to cancel it), so waits register
//! through [`HandleTable::find_locked`], under the bucket's mutex, which
//! closes take too.
//!
//! # Writers and reclamation
//!
//! Creating, closing, replacing and transferring handles lock the bucket's
//! mutex (several in index order for [`HandleTable::transfer`],
//! [`HandleTable::replace`] and [`HandleTable::find_with_slots`]). Removed
//! entries and replaced arrays are retired, not freed; the bucket is marked
//! in a bitmap, and a thread that retired [`RECLAIM_EVERY`] things since
//! its last time reclaims the marked buckets: a ticket from each (acquire
//! loads of the bucket's retirement counts, no lock), one grace period,
//! then each frees what it retired before its ticket, dropping the
//! references with no lock held (an object's drop may close the handles in
//! its queued messages). Nothing waits for a grace
//! period while holding a lock or inside a section: reclamation runs at the
//! end of a table operation, after its locks are released, and is skipped
//! inside a section. [`HandleTable::flush`] reclaims everything retired so
//! far (`mx::sys::ext::live_objects` calls it, so that leak tests see
//! closed objects gone). In a process where no other thread has ever
//! looked a handle up, nothing can be reading: a close frees at once.
//!
//! Retiring never allocates, so closing cannot fail; growing a bucket can
//! (`NO_MEMORY`), before anything changes.
//!
//! [`HandleTable::find`] is the typed lookup every call uses: the handle,
//! then its rights, then the kind of object ([`Kind`]), in the order the
//! specification gives (`BAD_HANDLE`, `ACCESS_DENIED`, `WRONG_TYPE`), so
//! each is checked once and the call receives the kind it asked for.
//!
//! Lock order: bucket (by index, when two or more are held), then object.
//! A lookup holds no lock; `find_locked` holds its bucket's while its
//! closure runs.

#[cfg(not(loom))]
use mx_core::handle::BUCKETS;
use mx_core::handle::{self, BUCKET_CAPACITY};
use mx_core::{RawHandle, Rights, Side, Status};
use mx_shm::handles::{self as buckets, Bucket, Locked, Ticket};
use mx_shm::rcu::{self, Section};

use crate::object::{End, Kind, Object};
use crate::sync::Arc;
use core::cell::Cell;

use smallvec::SmallVec;

use crate::sync::{AtomicU64, AtomicUsize, Ordering};

/// What a handle is, as a lookup finds it: an object end and the rights to
/// it. Stored in its bucket as a 64-bit tag (the generation and the end in
/// the key, the rights as data) and a pointer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<'a>(buckets::Entry<'a, Object>);

const SIDE_B: u32 = 1 << 31;

/// How far apart the first buckets of successive threads are (a prime, so
/// that the starts cover every bucket).
const STRIDE: usize = 251;

/// The most buckets a transfer locks: one per handle of the largest
/// message, and the channel's own.
const MAX_LOCKED: usize = mx_core::channel::MAX_MSG_HANDLES + 1;

/// A thread that retired this much since its last reclamation reclaims
/// (under loom, at once, so that the models race reclamation too): a
/// removed handle weighs 1, a replaced array
/// [`mx_shm::handles::ARRAY_WEIGHT`].
///
/// Each reclamation's grace period costs a `membarrier`, an interrupt to
/// every CPU running a thread of the process: tens of microseconds on a
/// virtual machine. At 128, messages carrying one handle each (two
/// retirements per message) ran 25 % slower than with the locked table;
/// at 1,024 the cost is a few percent. The price is memory: up to 1,024
/// closed objects per thread stay allocated until the next reclamation
/// (a socket pair's rings are mapped, not touched, until used), and up to
/// 8 replaced arrays (a table growing by 100,000 handles kept the idle
/// pairs' footprint at 145 bytes only with arrays reclaimed this soon).
#[cfg(not(loom))]
const RECLAIM_EVERY: u32 = 1024;
#[cfg(loom)]
const RECLAIM_EVERY: u32 = 1;

/// The most buckets one reclamation takes tickets for before its grace
/// period (the tickets live on the stack).
const RECLAIM_CHUNK: usize = 128;

/// What a bucket stores for an entry: `(key, data, reference)`.
fn stored(generation: u32, rights: Rights, end: End) -> (u32, u32, Arc<Object>) {
    let side = if end.side == Side::B { SIDE_B } else { 0 };
    (generation | side, rights.bits(), end.object)
}

impl<'a> Entry<'a> {
    /// The end this handle names.
    pub(crate) fn side(&self) -> Side {
        if self.0.key() & SIDE_B != 0 {
            Side::B
        } else {
            Side::A
        }
    }

    /// The handle's rights.
    pub(crate) fn rights(&self) -> Rights {
        Rights::from_bits_retain(self.0.data())
    }

    /// The object it names.
    pub(crate) fn object(&self) -> &'a Object {
        self.0.value()
    }

    /// The end it names, as an owned reference.
    pub(crate) fn end(&self) -> End {
        End {
            object: self.0.to_arc(),
            side: self.side(),
        }
    }
}

/// What a typed lookup found: the kind asked for, and the handle's end and
/// rights. It borrows the lookup (its read section, or its lock), so it
/// lives only inside it.
#[derive(Debug)]
pub(crate) struct Found<'a, T: ?Sized> {
    /// The object, as the kind the call asked for.
    pub(crate) target: &'a T,
    /// Which end the handle names.
    pub(crate) side: Side,
    /// The handle's rights.
    pub(crate) rights: Rights,
    /// The entry, for an owned reference.
    entry: Entry<'a>,
}

impl<T: ?Sized> Found<'_, T> {
    /// The end the handle names, as an owned reference (for waits that
    /// outlive the lookup).
    pub(crate) fn end(&self) -> End {
        self.entry.end()
    }
}

/// Checks `entry` as SPEC 1 says (rights, then kind) and runs `f` on it.
#[inline(always)]
fn found<K: Kind, R>(
    entry: Entry<'_>,
    rights: Rights,
    f: impl FnOnce(Found<'_, K::Target>) -> Result<R, Status>,
) -> Result<R, Status> {
    if !entry.rights().contains(rights) {
        return Err(Status::ACCESS_DENIED);
    }
    f(Found {
        target: K::of(entry.object())?,
        side: entry.side(),
        rights: entry.rights(),
        entry,
    })
}

/// A bucket with room for new handles, under its lock (see
/// [`HandleTable::find_with_slots`]).
#[derive(Debug)]
pub(crate) struct Slots<'a, 'b> {
    index: usize,
    bucket: &'b mut Locked<'a, Object>,
    /// How many handles the bucket has room for.
    room: usize,
    /// How many inserts [`Slots::reserve`] made infallible.
    reserved: usize,
}

impl Slots<'_, '_> {
    /// Makes the next `n` [`Slots::insert`]s infallible (`n` at most the
    /// room asked for): allocates exactly what they need.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub(crate) fn reserve(&mut self, n: usize) -> Result<(), Status> {
        debug_assert!(n <= self.room, "more handles than room");
        self.bucket.reserve(n)?;
        self.reserved = n;
        Ok(())
    }

    /// Adds a handle to `end` with `rights`, after [`Slots::reserve`].
    pub(crate) fn insert(&mut self, end: End, rights: Rights) -> RawHandle {
        debug_assert!(self.reserved > 0, "insert without reserve");
        self.reserved = self.reserved.saturating_sub(1);
        let generation = self.bucket.insert(|g| stored(g, rights, end));
        handle::encode(self.index, generation)
    }
}

/// A handle out of every table, in a message: it still counts as a handle
/// of its object (its `LAST_HANDLE`, its peer's `PEER_CLOSED`), and keeps
/// the rights it was sent with. Dropping it closes it, as
/// `mx_handle_close` would; [`Slots::insert`] of its parts (via
/// [`Transit::into_parts`]) puts it in a table instead.
#[derive(Debug)]
pub(crate) struct Transit {
    /// `None` once handed on.
    end: Option<End>,
    rights: Rights,
}

impl Transit {
    /// A transit for a handle already counted on `end` (one that arrived
    /// from another process).
    #[cfg(not(loom))]
    pub(crate) fn counted(end: End, rights: Rights) -> Transit {
        Transit {
            end: Some(end),
            rights,
        }
    }

    /// The end and rights, without taking them.
    #[cfg(not(loom))]
    pub(crate) fn parts(&self) -> Option<(&End, Rights)> {
        self.end.as_ref().map(|end| (end, self.rights))
    }

    /// The end and rights, taken out: the transit is left handed on (it
    /// closes nothing), and the handle count is the caller's.
    #[cfg(not(loom))]
    pub(crate) fn take(&mut self) -> Option<(End, Rights)> {
        self.end.take().map(|end| (end, self.rights))
    }

    /// The end and rights, to put in a table; the handle count stays.
    /// (`None` only for a transit already handed on, which cannot be.)
    pub(crate) fn into_parts(mut self) -> Option<(End, Rights)> {
        self.end.take().map(|end| (end, self.rights))
    }

    /// The end, given up after a failed transfer (the handle never left
    /// the table): only the reference goes, the count stays, as for
    /// [`Transit::into_parts`].
    fn into_end_uncounted(mut self) -> Option<End> {
        self.end.take()
    }
}

impl Drop for Transit {
    fn drop(&mut self) {
        if let Some(end) = self.end.take() {
            // No wait was made through a handle in transit: the value that
            // cancels nothing will do.
            end.object
                .close_handle(end.side, mx_core::abi::HANDLE_INVALID);
        }
    }
}

/// The handles of a message: a few inline, more on the heap.
pub(crate) type Transits = SmallVec<[Transit; 2]>;

/// A bucket alone on its cache line.
#[derive(Debug)]
#[repr(align(64))]
struct Padded(Bucket<Object>);

#[cfg(not(loom))]
type Buckets = [Padded; BUCKETS];
#[cfg(loom)]
type Buckets = Vec<Padded>;

/// One bit per bucket: the bucket holds retired memory not reclaimed yet.
#[cfg(not(loom))]
type Dirty = [AtomicU64; BUCKETS / 64];
#[cfg(loom)]
type Dirty = Vec<AtomicU64>;

/// All handles of the process.
#[derive(Debug)]
pub(crate) struct HandleTable {
    buckets: Buckets,
    /// Where the next thread that makes its first handle starts (see
    /// [`HandleTable::start`]).
    next: AtomicUsize,
    /// Which buckets to reclaim.
    dirty: Dirty,
}

// Loom's threads share one OS thread and a model must run the same way
// each time: loom's thread-locals are per model thread and run.
#[cfg(not(loom))]
std::thread_local! {
    /// This thread's retirements since its last reclamation.
    static RETIRED: Cell<u32> = const { Cell::new(0) };
    /// This thread is reclaiming (what it drops may retire more).
    static RECLAIMING: Cell<bool> = const { Cell::new(false) };
}
#[cfg(loom)]
loom::thread_local! {
    static RETIRED: Cell<u32> = Cell::new(0);
    static RECLAIMING: Cell<bool> = Cell::new(false);
}

impl HandleTable {
    /// An empty table, usable as a `static` (it allocates nothing until used).
    #[cfg(not(loom))]
    pub(crate) const fn new() -> HandleTable {
        HandleTable {
            buckets: [const { Padded(Bucket::new()) }; BUCKETS],
            next: AtomicUsize::new(0),
            dirty: [const { AtomicU64::new(0) }; BUCKETS / 64],
        }
    }

    /// An empty table with a few buckets, for loom models.
    #[cfg(loom)]
    pub(crate) fn new() -> HandleTable {
        HandleTable {
            buckets: (0..4).map(|_| Padded(Bucket::new())).collect(),
            next: AtomicUsize::new(0),
            dirty: vec![AtomicU64::new(0)],
        }
    }

    /// The bucket this thread tries first for its next new handle. Each
    /// thread goes round the buckets in turn from a start of its own, so
    /// that threads making handles share no counter and rarely a bucket.
    fn start(&self) -> usize {
        #[cfg(not(loom))]
        std::thread_local! {
            static NEXT: Cell<Option<usize>> = const { Cell::new(None) };
        }
        #[cfg(loom)]
        loom::thread_local! {
            static NEXT: Cell<Option<usize>> = Cell::new(None);
        }
        NEXT.with(|next| {
            // A thread's first handle: spread the threads' starts out.
            let n = next
                .get()
                .unwrap_or_else(|| self.next.fetch_add(STRIDE, Ordering::Relaxed));
            next.set(Some(n.wrapping_add(1)));
            n
        })
    }

    fn bucket(&self, value: RawHandle) -> Result<(usize, &Bucket<Object>, u32), Status> {
        let (index, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
        let slot = self.buckets.get(index).ok_or(Status::BAD_HANDLE)?;
        Ok((index, &slot.0, generation))
    }

    /// Looks `value` up as SPEC 1 says: a live handle (`BAD_HANDLE`), with
    /// `rights` (`ACCESS_DENIED`), naming the kind `K` (`K`'s error,
    /// `WRONG_TYPE` or `NOT_SUPPORTED`); then runs `f` on what it found.
    /// No lock is taken: `f` runs inside a read section, so the object stays
    /// alive even if the handle is closed meanwhile (nothing that blocks may
    /// run in `f`, which would hold back reclamation). For what a close
    /// must not overtake, see [`HandleTable::find_locked`].
    ///
    /// # Errors
    /// The lookup's, then `f`'s.
    #[inline]
    pub(crate) fn find<K: Kind, R>(
        &self,
        value: RawHandle,
        rights: Rights,
        f: impl FnOnce(Found<'_, K::Target>) -> Result<R, Status>,
    ) -> Result<R, Status> {
        // As `with`, but `f`'s result is returned as it is: a nested
        // `Result` copied out piecewise made the caller's wider reload of
        // it stall on store forwarding, a few nanoseconds per call.
        let (_, bucket, generation) = self.bucket(value)?;
        let Some(section) = Section::enter() else {
            return Self::with_owned(bucket, generation, |entry| found::<K, R>(entry, rights, f))?;
        };
        let entry = bucket.get(&section, generation).ok_or(Status::BAD_HANDLE)?;
        entry.value().check_live();
        found::<K, R>(Entry(entry), rights, f)
    }

    /// [`HandleTable::find`] under the bucket's lock: a close of the handle
    /// comes before `f` (`BAD_HANDLE`) or after it, never during. Waits
    /// register through this, so that closing the handle either comes first
    /// or finds the wait and cancels it.
    ///
    /// # Errors
    /// The lookup's, then `f`'s.
    pub(crate) fn find_locked<K: Kind, R>(
        &self,
        value: RawHandle,
        rights: Rights,
        f: impl FnOnce(Found<'_, K::Target>) -> Result<R, Status>,
    ) -> Result<R, Status> {
        let (_, bucket, generation) = self.bucket(value)?;
        let locked = bucket.lock();
        let entry = locked.get(generation).ok_or(Status::BAD_HANDLE)?;
        found::<K, R>(Entry(entry), rights, f)
    }

    /// Runs `f` on the live handle `value`, inside a read section (no lock,
    /// no atomic read-modify-write, no full fence).
    ///
    /// # Errors
    /// `BAD_HANDLE` if `value` is not a live handle.
    #[inline]
    pub(crate) fn with<R>(
        &self,
        value: RawHandle,
        f: impl FnOnce(Entry<'_>) -> R,
    ) -> Result<R, Status> {
        let (_, bucket, generation) = self.bucket(value)?;
        let Some(section) = Section::enter() else {
            return Self::with_owned(bucket, generation, f);
        };
        let entry = bucket.get(&section, generation).ok_or(Status::BAD_HANDLE)?;
        entry.value().check_live();
        Ok(f(Entry(entry)))
    }

    /// [`HandleTable::with`] for a thread that cannot enter a read section
    /// (no record left for it): a reference of its own, taken under the
    /// bucket's lock.
    #[cold]
    fn with_owned<R>(
        bucket: &Bucket<Object>,
        generation: u32,
        f: impl FnOnce(Entry<'_>) -> R,
    ) -> Result<R, Status> {
        let (object, key, data) = {
            let locked = bucket.lock();
            let entry = locked.get(generation).ok_or(Status::BAD_HANDLE)?;
            (entry.to_arc(), entry.key(), entry.data())
        };
        Ok(f(Entry(buckets::Entry::owned(&object, key, data))))
    }

    /// Adds a handle. `make` gives its object and rights under the bucket's
    /// lock once room is reserved, so it may count the handle on its
    /// object without a window in which the count and the table disagree.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES` (every bucket full), or `make`'s error.
    pub(crate) fn add(
        &self,
        make: impl FnOnce() -> Result<(End, Rights), Status>,
    ) -> Result<RawHandle, Status> {
        let count = self.buckets.len();
        let start = self.start();
        for i in 0..count {
            let index = (start + i) % count;
            let mut bucket = self.buckets[index].0.lock();
            match bucket.reserve(1) {
                Ok(()) => {
                    let result = make().map(|(end, rights)| {
                        let generation = bucket.insert(|g| stored(g, rights, end));
                        handle::encode(index, generation)
                    });
                    let retired = bucket.retired();
                    drop(bucket);
                    self.retired(index, retired);
                    return result;
                }
                Err(Status::NO_RESOURCES) => continue,
                Err(status) => {
                    let retired = bucket.retired();
                    drop(bucket);
                    self.retired(index, retired);
                    return Err(status);
                }
            }
        }
        Err(Status::NO_RESOURCES)
    }

    /// Looks `value` up as [`HandleTable::find`] does and runs `f` with a
    /// bucket that has room for `room` more handles locked (both buckets
    /// locked in index order), so that `f` can reserve what it needs
    /// ([`Slots::reserve`]) and insert it without failing for room. This is
    /// how a read moves the handles of a message into the table in the same
    /// step as it takes the message.
    ///
    /// # Errors
    /// The lookup's; `NO_RESOURCES` (no bucket has room); or `f`'s.
    pub(crate) fn find_with_slots<K: Kind, R>(
        &self,
        value: RawHandle,
        rights: Rights,
        room: usize,
        f: impl FnOnce(&K::Target, Side, &mut Slots<'_, '_>) -> Result<R, Status>,
    ) -> Result<R, Status> {
        let (index, slot, generation) = self.bucket(value)?;
        let count = self.buckets.len();
        let start = self.start();
        // The handle's own bucket first: one lock instead of two.
        let targets = core::iter::once(index).chain((0..count).map(|i| (start + i) % count));
        for target in targets {
            let (mut own, mut other) = if target == index {
                (slot.lock(), None)
            } else if index < target {
                let own = slot.lock();
                (own, Some(self.buckets[target].0.lock()))
            } else {
                let other = self.buckets[target].0.lock();
                (slot.lock(), Some(other))
            };
            let entry = Entry(own.get(generation).ok_or(Status::BAD_HANDLE)?);
            if !entry.rights().contains(rights) {
                return Err(Status::ACCESS_DENIED);
            }
            // An owned reference, so that the bucket can be borrowed mutably.
            let end = entry.end();
            K::of(&end.object)?;
            let bucket = other.as_mut().unwrap_or(&mut own);
            if bucket.len() + room > BUCKET_CAPACITY {
                continue;
            }
            let mut slots = Slots {
                index: target,
                bucket,
                room,
                reserved: 0,
            };
            let result = f(K::of(&end.object)?, end.side, &mut slots);
            let retired = slots.bucket.retired();
            drop((own, other));
            self.retired(target, retired);
            return result;
        }
        Err(Status::NO_RESOURCES)
    }

    /// Moves the handles `values` out of the table, atomically with
    /// `commit`. With every bucket involved locked (that of `via`, the
    /// handle the transfer goes through, and those of the values, in index
    /// order), it checks that `via` is live, then each value in list order:
    /// live (`BAD_HANDLE`), then `check(via, entry)`; then that no value is
    /// listed twice (`INVALID_ARGS`). Then it calls `commit` with `via`'s
    /// entry and a [`Transit`] for each value (a new reference to its
    /// object; no handle count is touched). Only if `commit` succeeds do the
    /// values leave the table (so a lookup never misses a handle whose
    /// transfer fails); if it fails it hands the transits back, and they go
    /// away without closing anything: the table is as it was.
    ///
    /// After a success, the waits made through the values end
    /// (`CANCELED`); objects nobody waits on are not even looked at.
    ///
    /// # Errors
    /// As above, `NO_MEMORY`, or `commit`'s error.
    pub(crate) fn transfer<R>(
        &self,
        via: RawHandle,
        values: &[RawHandle],
        mut check: impl FnMut(Entry<'_>, Entry<'_>) -> Result<(), Status>,
        commit: impl FnOnce(Entry<'_>, Transits) -> Result<R, (Status, Transits)>,
    ) -> Result<R, Status> {
        let (via_index, via_generation) = handle::decode(via).ok_or(Status::BAD_HANDLE)?;
        if values.len() >= MAX_LOCKED {
            // More values than a message may carry: the caller checks the
            // limit first; this keeps the bookkeeping below on the stack.
            return Err(Status::OUT_OF_RANGE);
        }
        // The buckets to lock, in index order; an undecodable value names no
        // bucket (it is reported as BAD_HANDLE in its turn).
        let mut indices: SmallVec<[usize; MAX_LOCKED]> = SmallVec::new();
        indices.push(via_index);
        indices.extend(
            values
                .iter()
                .filter_map(|&v| handle::decode(v))
                .map(|(i, _)| i)
                .filter(|&i| i < self.buckets.len()),
        );
        indices.sort_unstable();
        indices.dedup();
        let mut guards: SmallVec<[_; MAX_LOCKED]> = SmallVec::new();
        for &i in &indices {
            guards.push(self.buckets.get(i).ok_or(Status::BAD_HANDLE)?.0.lock());
        }
        let guard_of = |i: usize| indices.binary_search(&i).ok();
        let via_guard = guard_of(via_index).ok_or(Status::INTERNAL)?;

        // Every check, before anything moves: where each value lives.
        let mut places: SmallVec<[(usize, u32); MAX_LOCKED]> = SmallVec::new();
        // The message's own list of handles (inline for a few).
        let mut transits = Transits::new();
        // Objects some wait may be made on through the values: their waits
        // through them end after a success (a wait through a value registers
        // under its bucket's lock, held here, so none can start meanwhile).
        let mut watched: SmallVec<[(Arc<Object>, RawHandle); 2]> = SmallVec::new();
        let result = {
            let via_entry = Entry(
                guards[via_guard]
                    .get(via_generation)
                    .ok_or(Status::BAD_HANDLE)?,
            );
            for &value in values {
                let (i, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
                let g = guard_of(i).ok_or(Status::BAD_HANDLE)?;
                let entry = Entry(guards[g].get(generation).ok_or(Status::BAD_HANDLE)?);
                check(via_entry, entry)?;
                places.push((g, generation));
            }
            let mut sorted: SmallVec<[RawHandle; MAX_LOCKED]> = SmallVec::from_slice(values);
            sorted.sort_unstable();
            if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
                return Err(Status::INVALID_ARGS);
            }
            transits
                .try_reserve_exact(values.len())
                .map_err(|_| Status::NO_MEMORY)?;
            for (&(g, generation), &value) in places.iter().zip(values) {
                let entry = Entry(guards[g].get(generation).ok_or(Status::INTERNAL)?);
                if entry.object().is_watched() {
                    watched.push((entry.end().object, value));
                }
                transits.push(Transit {
                    end: Some(entry.end()),
                    rights: entry.rights(),
                });
            }
            commit(via_entry, transits)
        };
        match result {
            Ok(result) => {
                // The values leave the table; their objects stay alive for
                // lookups that found them just before (and the transits
                // hold references of their own). Entered under the locks:
                // what the removals hand back stays valid for it.
                let section = Section::enter();
                for &(g, generation) in &places {
                    let removed = guards[g].remove(section.as_ref(), generation);
                    debug_assert!(removed.is_some(), "a checked value vanished");
                }
                let retired: SmallVec<[(usize, u32); MAX_LOCKED]> = indices
                    .iter()
                    .zip(&guards)
                    .map(|(&i, guard)| (i, guard.retired()))
                    .collect();
                drop(guards);
                for (object, value) in watched {
                    object.cancel_handle(value);
                }
                drop(section);
                for (i, retired) in retired {
                    self.retired(i, retired);
                }
                Ok(result)
            }
            Err((status, mut handed_back)) => {
                // Never left the table: the references just go.
                for transit in handed_back.drain(..) {
                    drop(transit.into_end_uncounted());
                }
                Err(status)
            }
        }
    }

    /// Removes the handle `value` and runs `then` on what it named (after
    /// the bucket's lock is released; the object stays alive meanwhile).
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    pub(crate) fn remove<R>(
        &self,
        value: RawHandle,
        then: impl FnOnce(Entry<'_>) -> R,
    ) -> Result<R, Status> {
        let (index, bucket, generation) = self.bucket(value)?;
        // Entered before locking: what the removal hands back stays valid
        // for it.
        let section = Section::enter();
        let (removed, retired) = {
            let mut locked = bucket.lock();
            let removed = locked.remove(section.as_ref(), generation);
            (removed, locked.retired())
        };
        let removed = removed.ok_or(Status::BAD_HANDLE)?;
        let result = then(Entry(removed.entry()));
        drop(removed);
        drop(section);
        self.retired(index, retired);
        Ok(result)
    }

    /// Replaces the handle `value` by a new one whose entry `make` derives
    /// from the old, atomically: on success the old value is gone and the
    /// new one live; on failure nothing changed. Runs `then` on the old
    /// entry (after the locks are released) and returns the new value and
    /// `then`'s result.
    ///
    /// # Errors
    /// `BAD_HANDLE`, `NO_MEMORY`, `NO_RESOURCES`, or `make`'s error.
    pub(crate) fn replace<R>(
        &self,
        value: RawHandle,
        make: impl FnOnce(Entry<'_>) -> Result<(End, Rights), Status>,
        then: impl FnOnce(Entry<'_>) -> R,
    ) -> Result<(RawHandle, R), Status> {
        let (old_index, old_slot, generation) = self.bucket(value)?;
        let mut entry = Some({
            let locked = old_slot.lock();
            make(Entry(locked.get(generation).ok_or(Status::BAD_HANDLE)?))?
        });
        let count = self.buckets.len();
        let start = self.start();
        for i in 0..count {
            let new_index = (start + i) % count;
            // Two locks, taken in index order.
            let (mut old, mut new_guard) = if new_index == old_index {
                (old_slot.lock(), None)
            } else if old_index < new_index {
                let old = old_slot.lock();
                (old, Some(self.buckets[new_index].0.lock()))
            } else {
                let new = self.buckets[new_index].0.lock();
                (old_slot.lock(), Some(new))
            };
            // Entries never change in place: if the generation is still
            // there, it is the entry `make` saw.
            if old.get(generation).is_none() {
                return Err(Status::BAD_HANDLE);
            }
            let target = new_guard.as_mut().unwrap_or(&mut old);
            match target.reserve(1) {
                Ok(()) => {}
                Err(Status::NO_RESOURCES) => continue,
                Err(status) => return Err(status),
            }
            let (end, rights) = entry.take().ok_or(Status::INTERNAL)?;
            let new_generation = target.insert(|g| stored(g, rights, end));
            // Entered under the locks (after the reservation, which frees a
            // replaced array at once if nobody else can be reading): what
            // the removal hands back stays valid for it.
            let section = Section::enter();
            let removed = old
                .remove(section.as_ref(), generation)
                .ok_or(Status::INTERNAL)?;
            let retired = [
                (old_index, old.retired()),
                (new_index, new_guard.as_ref().map_or(0, |g| g.retired())),
            ];
            drop((old, new_guard));
            let result = then(Entry(removed.entry()));
            drop(removed);
            drop(section);
            for (i, retired) in retired {
                self.retired(i, retired);
            }
            return Ok((handle::encode(new_index, new_generation), result));
        }
        Err(Status::NO_RESOURCES)
    }

    /// Live handles (sums every bucket; for tests and diagnostics).
    pub(crate) fn len(&self) -> usize {
        self.buckets.iter().map(|slot| slot.0.lock().len()).sum()
    }

    /// After an operation on bucket `index` that `retired` memory, with no
    /// lock held: marks the bucket for reclamation, and reclaims if this
    /// thread has retired enough since it last did (and is neither inside a
    /// read section nor reclaiming already).
    fn retired(&self, index: usize, weight: u32) {
        if weight == 0 {
            return;
        }
        self.mark(index);
        let due = RETIRED
            .try_with(|n| {
                let retired = n.get().saturating_add(weight);
                n.set(if retired >= RECLAIM_EVERY { 0 } else { retired });
                retired >= RECLAIM_EVERY
            })
            .unwrap_or(false);
        if due && !rcu::in_section() {
            self.reclaim(false);
        }
    }

    /// Marks bucket `index` as holding retired memory.
    fn mark(&self, index: usize) {
        // A read-modify-write, so that a reclamation that cleared the bit
        // before this either took its ticket after the retirement or leaves
        // the bit set for the next one.
        self.dirty[index / 64].fetch_or(1 << (index % 64), Ordering::AcqRel);
    }

    /// Reclaims the marked buckets: up to [`RECLAIM_CHUNK`] of them, or
    /// (`all`) every bucket marked when it starts. For each, a ticket (its
    /// retirement counts, no lock); then one grace period; then each frees what it retired
    /// before its ticket. Call with no lock held, outside any read section.
    fn reclaim(&self, all: bool) {
        if RECLAIMING.try_with(|r| r.replace(true)).unwrap_or(true) {
            // Already reclaiming on this thread (dropping an object can
            // retire more), or exiting: the marks stay for later.
            return;
        }
        let mut tickets: [(usize, Option<Ticket>); RECLAIM_CHUNK] = [(0, None); RECLAIM_CHUNK];
        let mut taken = 0;
        for (word, bits) in self.dirty.iter().enumerate() {
            let mut bits = bits.swap(0, Ordering::AcqRel);
            while bits != 0 {
                if taken == RECLAIM_CHUNK {
                    if !all {
                        // Enough for now: the rest stay marked.
                        self.dirty[word].fetch_or(bits, Ordering::AcqRel);
                        break;
                    }
                    self.reclaim_tickets(&mut tickets);
                    taken = 0;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let index = word * 64 + bit;
                tickets[taken] = (index, Some(self.buckets[index].0.ticket()));
                taken += 1;
            }
            if taken == RECLAIM_CHUNK && !all {
                break;
            }
        }
        self.reclaim_tickets(&mut tickets[..taken]);
        let _ = RECLAIMING.try_with(|r| r.set(false));
    }

    /// One grace period, then each bucket reclaims up to its ticket.
    fn reclaim_tickets(&self, tickets: &mut [(usize, Option<Ticket>)]) {
        if tickets.iter().all(|(_, t)| t.is_none()) {
            return;
        }
        rcu::synchronize();
        for (index, ticket) in tickets.iter_mut() {
            if let Some(ticket) = ticket.take() {
                if self.buckets[*index].0.reclaim(ticket) {
                    // Retired meanwhile, or emptied now: later.
                    self.mark(*index);
                }
            }
        }
    }

    /// Reclaims everything retired before the call (for `live_objects` and
    /// leak tests: what closed handles named is freed when it returns).
    /// Does nothing inside a read section.
    pub(crate) fn flush(&self) {
        if rcu::in_section() {
            return;
        }
        // Reclaiming an emptied bucket retires its array: twice is enough.
        for _ in 0..2 {
            self.reclaim(true);
        }
    }
}

#[cfg(not(loom))]
static TABLE: HandleTable = HandleTable::new();

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: HandleTable = HandleTable::new();
}

/// The process's handle table.
pub(crate) fn table() -> &'static HandleTable {
    #[cfg(not(loom))]
    if let Some(table) = CHILD_TABLE.get() {
        return table;
    }
    &TABLE
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_fills_one_cache_line() {
        assert_eq!(core::mem::size_of::<Padded>(), 64);
    }
}

/// The table of a child made by `fork()` (see `crate::remote::fork`).
#[cfg(not(loom))]
static CHILD_TABLE: mx_shm::sync::Leaked<HandleTable> = mx_shm::sync::Leaked::new();

/// In a child after `fork()`: a new, empty table (the parent's stays in
/// memory, unreachable).
#[cfg(not(loom))]
pub(crate) fn reset_after_fork() {
    CHILD_TABLE.forget();
    let _ = CHILD_TABLE.publish(Box::new(HandleTable::new()));
}

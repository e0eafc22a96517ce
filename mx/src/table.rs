//! The process's handle table.
//!
//! 2,048 buckets ([`mx_core::handle`] explains the value format), each under
//! its own reader-writer lock on its own cache line. New handles go to the
//! buckets in turn, so the handles of different threads rarely share a lock
//! and never share a single table-wide one.
//!
//! A lookup takes its bucket's lock for reading and runs the caller's closure
//! under it: the entry cannot be closed meanwhile, and no reference count
//! is touched. So nothing that blocks may run in the closure; waits register
//! under it and park after it.
//!
//! [`HandleTable::find`] is the typed lookup every call uses: the handle,
//! then its rights, then the kind of object ([`Kind`]), in the order the
//! specification gives (`BAD_HANDLE`, `ACCESS_DENIED`, `WRONG_TYPE`), so
//! each is checked once and the call receives the kind it asked for.
//!
//! Lock order: bucket (by index, when two are held), then object.

#[cfg(not(loom))]
use mx_core::handle::BUCKETS;
use mx_core::handle::{self, Bucket, BUCKET_CAPACITY};
use mx_core::{RawHandle, Rights, Side, Status};

use crate::object::{End, Kind, Object};
use crate::sync::Arc;
use core::cell::Cell;

use smallvec::SmallVec;

use crate::sync::{AtomicUsize, Ordering, RwLock};

/// What a handle is: an object end and the rights to it, in 16 bytes.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The generation the bucket stored this under, and in bit 31 the end.
    key: u32,
    /// The handle's rights.
    pub(crate) rights: Rights,
    /// The object it names.
    pub(crate) object: crate::sync::Arc<Object>,
}

const SIDE_B: u32 = 1 << 31;

/// How far apart the first buckets of successive threads are (a prime, so
/// that the starts cover every bucket).
const STRIDE: usize = 251;

/// The most buckets a transfer locks: one per handle of the largest
/// message, and the channel's own.
const MAX_LOCKED: usize = mx_core::channel::MAX_MSG_HANDLES + 1;

impl Entry {
    fn new(generation: u32, rights: Rights, end: End) -> Entry {
        let side = if end.side == Side::B { SIDE_B } else { 0 };
        Entry {
            key: generation | side,
            rights,
            object: end.object,
        }
    }

    /// The end this handle names.
    pub(crate) fn side(&self) -> Side {
        if self.key & SIDE_B != 0 {
            Side::B
        } else {
            Side::A
        }
    }

    /// The end it names, taking the entry's reference.
    fn into_end(self) -> End {
        End {
            side: self.side(),
            object: self.object,
        }
    }

    /// The end it names, as an owned reference.
    pub(crate) fn end(&self) -> End {
        End {
            object: self.object.clone(),
            side: self.side(),
        }
    }
}

/// What a typed lookup found: the kind asked for, and the handle's end and
/// rights. It borrows the table entry, so it lives only inside the lookup.
#[derive(Debug)]
pub(crate) struct Found<'a, T: ?Sized> {
    /// The object, as the kind the call asked for.
    pub(crate) target: &'a T,
    /// Which end the handle names.
    pub(crate) side: Side,
    /// The handle's rights.
    pub(crate) rights: Rights,
    /// The entry, for an owned reference.
    entry: &'a Entry,
}

impl<T: ?Sized> Found<'_, T> {
    /// The end the handle names, as an owned reference (for waits that
    /// outlive the lookup).
    pub(crate) fn end(&self) -> End {
        self.entry.end()
    }
}

impl handle::Slot for Entry {
    fn generation(&self) -> u32 {
        self.key & !SIDE_B
    }
}

/// A bucket with room for new handles, under its write lock (see
/// [`HandleTable::find_with_slots`]).
#[derive(Debug)]
pub(crate) struct Slots<'a> {
    index: usize,
    bucket: &'a mut Bucket<Entry>,
    /// How many handles the bucket has room for.
    room: usize,
    /// How many inserts [`Slots::reserve`] made infallible.
    reserved: usize,
}

impl Slots<'_> {
    /// Makes the next `n` [`Slots::insert`]s infallible (`n` at most the
    /// room asked for): allocates exactly what they need.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub(crate) fn reserve(&mut self, n: usize) -> Result<(), Status> {
        debug_assert!(n <= self.room, "more handles than room");
        self.bucket.reserve_many(n)?;
        self.reserved = n;
        Ok(())
    }

    /// Adds a handle to `end` with `rights`, after [`Slots::reserve`].
    pub(crate) fn insert(&mut self, end: End, rights: Rights) -> RawHandle {
        debug_assert!(self.reserved > 0, "insert without reserve");
        self.reserved = self.reserved.saturating_sub(1);
        let generation = self.bucket.insert(|g| Entry::new(g, rights, end));
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

    /// The end, going back to the table entry it came from (a failed
    /// transfer): the count stays, as for [`Transit::into_parts`].
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
struct Padded(RwLock<Bucket<Entry>>);

#[cfg(not(loom))]
type Buckets = [Padded; BUCKETS];
#[cfg(loom)]
type Buckets = Vec<Padded>;

/// All handles of the process.
#[derive(Debug)]
pub(crate) struct HandleTable {
    buckets: Buckets,
    /// Where the next thread that makes its first handle starts (see
    /// [`HandleTable::start`]).
    next: AtomicUsize,
}

impl HandleTable {
    /// An empty table, usable as a `static` (it allocates nothing until used).
    #[cfg(not(loom))]
    pub(crate) const fn new() -> HandleTable {
        HandleTable {
            buckets: [const { Padded(RwLock::new(Bucket::new())) }; BUCKETS],
            next: AtomicUsize::new(0),
        }
    }

    /// An empty table with a few buckets, for loom models.
    #[cfg(loom)]
    pub(crate) fn new() -> HandleTable {
        HandleTable {
            buckets: (0..4).map(|_| Padded(RwLock::new(Bucket::new()))).collect(),
            next: AtomicUsize::new(0),
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
        // Loom's threads share one OS thread, and a model must run the same
        // way each time: loom's thread-locals are per model thread and run.
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

    fn bucket(&self, value: RawHandle) -> Result<(&RwLock<Bucket<Entry>>, u32), Status> {
        let (bucket, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
        let slot = self.buckets.get(bucket).ok_or(Status::BAD_HANDLE)?;
        Ok((&slot.0, generation))
    }

    /// Looks `value` up as SPEC 1 says: a live handle (`BAD_HANDLE`), with
    /// `rights` (`ACCESS_DENIED`), naming the kind `K` (`K`'s error,
    /// `WRONG_TYPE` or `NOT_SUPPORTED`); then runs `f` on what it found,
    /// under the bucket's read lock (nothing that blocks may run in `f`).
    ///
    /// # Errors
    /// The lookup's, then `f`'s.
    pub(crate) fn find<K: Kind, R>(
        &self,
        value: RawHandle,
        rights: Rights,
        f: impl FnOnce(Found<'_, K::Target>) -> Result<R, Status>,
    ) -> Result<R, Status> {
        self.with(value, |entry| {
            if !entry.rights.contains(rights) {
                return Err(Status::ACCESS_DENIED);
            }
            f(Found {
                target: K::of(&entry.object)?,
                side: entry.side(),
                rights: entry.rights,
                entry,
            })
        })?
    }

    /// Runs `f` on the live handle `value`, under its bucket's read lock.
    ///
    /// # Errors
    /// `BAD_HANDLE` if `value` is not a live handle.
    pub(crate) fn with<R>(
        &self,
        value: RawHandle,
        f: impl FnOnce(&Entry) -> R,
    ) -> Result<R, Status> {
        let (lock, generation) = self.bucket(value)?;
        let bucket = lock.read();
        let entry = bucket.get(generation).ok_or(Status::BAD_HANDLE)?;
        Ok(f(entry))
    }

    /// Adds a handle. `make` gives its object and rights under the bucket's
    /// write lock once room is reserved, so it may count the handle on its
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
            let mut bucket = self.buckets[index].0.write();
            match bucket.reserve() {
                Ok(()) => {
                    let (end, rights) = make()?;
                    let generation = bucket.insert(|g| Entry::new(g, rights, end));
                    return Ok(handle::encode(index, generation));
                }
                Err(Status::NO_RESOURCES) => continue,
                Err(status) => return Err(status),
            }
        }
        Err(Status::NO_RESOURCES)
    }

    /// Looks `value` up as [`HandleTable::find`] does and runs `f` with a
    /// bucket that has room for `room` more handles write-locked (both
    /// buckets locked in index order), so that `f` can reserve what it needs
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
        f: impl FnOnce(&K::Target, Side, &mut Slots<'_>) -> Result<R, Status>,
    ) -> Result<R, Status> {
        let (index, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
        let slot = self.buckets.get(index).ok_or(Status::BAD_HANDLE)?;
        let count = self.buckets.len();
        let start = self.start();
        // The handle's own bucket first: one lock instead of two.
        let targets = core::iter::once(index).chain((0..count).map(|i| (start + i) % count));
        for target in targets {
            let (mut own, mut other) = if target == index {
                (slot.0.write(), None)
            } else if index < target {
                let own = slot.0.write();
                (own, Some(self.buckets[target].0.write()))
            } else {
                let other = self.buckets[target].0.write();
                (slot.0.write(), Some(other))
            };
            let entry = own.get(generation).ok_or(Status::BAD_HANDLE)?;
            if !entry.rights.contains(rights) {
                return Err(Status::ACCESS_DENIED);
            }
            // An owned reference, so that the bucket can be borrowed mutably.
            let end = entry.end();
            K::of(&end.object)?;
            let bucket = other.as_deref_mut().unwrap_or(&mut own);
            if bucket.len() + room > BUCKET_CAPACITY {
                continue;
            }
            let mut slots = Slots {
                index: target,
                bucket,
                room,
                reserved: 0,
            };
            return f(K::of(&end.object)?, end.side, &mut slots);
        }
        Err(Status::NO_RESOURCES)
    }

    /// Moves the handles `values` out of the table, atomically with
    /// `commit`. With every bucket involved write-locked (that of `via`, the
    /// handle the transfer goes through, and those of the values, in index
    /// order), it checks that `via` is live, then each value in list order:
    /// live (`BAD_HANDLE`), then `check(via, entry)`; then that no value is
    /// listed twice (`INVALID_ARGS`). Then it takes the values' entries out
    /// (their object references move into the [`Transit`]s, no count is
    /// touched) and calls `commit` with `via`'s entry and the transits. If
    /// `commit` fails it hands the transits back and the entries go back
    /// under their old values: the table is as it was.
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
        mut check: impl FnMut(&Entry, &Entry) -> Result<(), Status>,
        commit: impl FnOnce(&Entry, Transits) -> Result<R, (Status, Transits)>,
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
            guards.push(self.buckets.get(i).ok_or(Status::BAD_HANDLE)?.0.write());
        }
        let guard_of = |i: usize| indices.binary_search(&i).ok();
        let via_guard = guard_of(via_index).ok_or(Status::INTERNAL)?;

        // Every check, before anything moves: where each value lives.
        let mut places: SmallVec<[(usize, u32); MAX_LOCKED]> = SmallVec::new();
        {
            let via_entry = guards[via_guard]
                .get(via_generation)
                .ok_or(Status::BAD_HANDLE)?;
            for &value in values {
                let (i, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
                let g = guard_of(i).ok_or(Status::BAD_HANDLE)?;
                let entry = guards[g].get(generation).ok_or(Status::BAD_HANDLE)?;
                check(via_entry, entry)?;
                places.push((g, generation));
            }
        }
        let mut sorted: SmallVec<[RawHandle; MAX_LOCKED]> = SmallVec::from_slice(values);
        sorted.sort_unstable();
        if sorted.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(Status::INVALID_ARGS);
        }
        // The message's own list of handles (inline for a few).
        let mut transits = Transits::new();
        transits
            .try_reserve_exact(values.len())
            .map_err(|_| Status::NO_MEMORY)?;
        // Objects some wait may be made on through the values: their waits
        // through them end after a success (a wait through a value registers
        // under its bucket's lock, held here, so none can start meanwhile).
        let mut watched: SmallVec<[(Arc<Object>, RawHandle); 2]> = SmallVec::new();
        for (&(g, generation), &value) in places.iter().zip(values) {
            let Some(entry) = guards[g].take(generation) else {
                return Err(Status::INTERNAL);
            };
            if entry.object.is_watched() {
                watched.push((entry.object.clone(), value));
            }
            let rights = entry.rights;
            transits.push(Transit {
                end: Some(entry.into_end()),
                rights,
            });
        }
        let via_entry = guards[via_guard]
            .get(via_generation)
            .ok_or(Status::INTERNAL)?;
        match commit(via_entry, transits) {
            Ok(result) => {
                drop(guards);
                for (object, value) in watched {
                    object.cancel_handle(value);
                }
                Ok(result)
            }
            Err((status, mut handed_back)) => {
                // Back where they were, under the same values.
                for (transit, &(g, generation)) in handed_back.drain(..).zip(&places) {
                    let rights = transit.rights;
                    if let Some(end) = transit.into_end_uncounted() {
                        guards[g].put_back(Entry::new(generation, rights, end));
                    }
                }
                Err(status)
            }
        }
    }

    /// Removes the handle `value` and returns what it named.
    ///
    /// # Errors
    /// `BAD_HANDLE`.
    pub(crate) fn remove(&self, value: RawHandle) -> Result<Entry, Status> {
        let (lock, generation) = self.bucket(value)?;
        let removed = lock.write().remove(generation);
        removed.ok_or(Status::BAD_HANDLE)
    }

    /// Replaces the handle `value` by a new one whose entry `make` derives
    /// from the old, atomically: on success the old value is gone and the
    /// new one live; on failure nothing changed. Returns the new value and
    /// the old entry.
    ///
    /// # Errors
    /// `BAD_HANDLE`, `NO_MEMORY`, `NO_RESOURCES`, or `make`'s error.
    pub(crate) fn replace(
        &self,
        value: RawHandle,
        make: impl FnOnce(&Entry) -> Result<(End, Rights), Status>,
    ) -> Result<(RawHandle, Entry), Status> {
        let (old_index, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
        let old_slot = self.buckets.get(old_index).ok_or(Status::BAD_HANDLE)?;
        let mut entry = Some(make(
            old_slot
                .0
                .read()
                .get(generation)
                .ok_or(Status::BAD_HANDLE)?,
        )?);
        let count = self.buckets.len();
        let start = self.start();
        for i in 0..count {
            let new_index = (start + i) % count;
            // Two write locks, taken in index order.
            let (mut old, mut new_guard) = if new_index == old_index {
                (old_slot.0.write(), None)
            } else if old_index < new_index {
                let old = old_slot.0.write();
                (old, Some(self.buckets[new_index].0.write()))
            } else {
                let new = self.buckets[new_index].0.write();
                (old_slot.0.write(), Some(new))
            };
            // Entries never change in place: if the generation is still
            // there, it is the entry `make` saw.
            if old.get(generation).is_none() {
                return Err(Status::BAD_HANDLE);
            }
            let target = new_guard.as_deref_mut().unwrap_or(&mut old);
            match target.reserve() {
                Ok(()) => {}
                Err(Status::NO_RESOURCES) => continue,
                Err(status) => return Err(status),
            }
            let (end, rights) = entry.take().ok_or(Status::INTERNAL)?;
            let new_generation = target.insert(|g| Entry::new(g, rights, end));
            let old_entry = old.remove(generation).ok_or(Status::INTERNAL)?;
            return Ok((handle::encode(new_index, new_generation), old_entry));
        }
        Err(Status::NO_RESOURCES)
    }

    /// Live handles (sums every bucket; for tests and diagnostics).
    pub(crate) fn len(&self) -> usize {
        self.buckets.iter().map(|slot| slot.0.read().len()).sum()
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

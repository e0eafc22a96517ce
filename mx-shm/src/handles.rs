//! [`Bucket`]: one bucket of the handle table, looked up with no lock, no
//! atomic read-modify-write and no full fence, changed under a mutex.
//!
//! The value format and the generation sequence are `mx-core`'s
//! ([`mx_core::handle`]): a bucket hands out generations in turn and finds
//! an entry by `generation & mask` in an index whose slots hold the
//! entry's position, so a stale value finds an entry with another
//! generation, or none. What differs from `mx-core`'s pure bucket is where
//! things live, so that a reader can run while a writer changes them:
//!
//! - One allocation, the *array*: a header (its sizes, fixed), the index
//!   (`u32` positions, 0 for none) and the entry slots (a 64-bit tag, the
//!   key in the low half and the caller's data, the handle's rights, in the
//!   high half, and a pointer from `Arc::into_raw`). Every word a reader
//!   touches is an atomic, so a reader never reads memory a writer writes
//!   without one, and no Rust reference covers a word that changes.
//! - Entries never move. A writer fills a free slot (pointer, then the tag
//!   with release, then the index slot with release); a reader loads the
//!   index slot and the tag with acquire and checks the generation, and the
//!   pointer it then loads is the one stored before that tag.
//! - A removed entry's slot becomes a *tombstone*: its index slot and tag
//!   are cleared, but the slot keeps the pointer and the reference it
//!   stands for, so the object stays alive for readers that found it just
//!   before. Tombstones are reclaimed ([`Bucket::reclaim`]) after a grace
//!   period ([`crate::rcu`]): their references are dropped, outside the
//!   mutex, and the slots become free. Until then nothing can reuse a slot,
//!   so a reader never mixes two entries' words.
//! - A bucket that needs room gets a new array (the slots copied to the
//!   same positions, the index rebuilt), published with release; the old
//!   one is retired (chained from the bucket) and freed by a later
//!   reclamation. A reader still in it sees the bucket as it was when the
//!   new one was published, which is a state the bucket was in while the
//!   reader ran.
//! - When no other thread can be reading ([`crate::rcu::alone`]: a
//!   single-threaded program), a removal frees the slot and hands the
//!   reference back at once, and a replaced array is freed at once.
//!
//! Retiring never allocates (a tombstone is the slot it was; a retired
//! array is chained through its own header), so closing a handle cannot
//! fail; growing can (`NO_MEMORY`), before anything changes.

use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of, ManuallyDrop};
use core::ptr::{self, NonNull};
use std::alloc::{alloc, dealloc, Layout};

use mx_core::handle::{self, BUCKET_CAPACITY};
use mx_core::Status;

use crate::rcu::{self, Section, Sentinel};
use crate::sync::{Arc, AtomicPtr, AtomicU32, AtomicU64, Mutex, MutexGuard, Ordering};

/// The fixed part of an array; the index and the slots follow it.
#[repr(C)]
struct Header<T> {
    /// Index slots minus one (their number is a power of two).
    mask: u32,
    /// Entry slots, at positions `1..=cap`.
    cap: u32,
    /// Writers only, once retired: the array retired before this one.
    older: AtomicPtr<Header<T>>,
    /// Writers only, once retired: its retirement number.
    seq: AtomicU32,
    /// Under loom, catches a use of the array after it was freed.
    sentinel: Sentinel,
}

/// An entry slot.
struct Slot<T> {
    /// Live: the key (generation in the low bits, never 0) and, above, the
    /// data. Free or tombstone: key 0 and, above, the next slot of its list.
    tag: AtomicU64,
    /// Live or tombstone: from `Arc::into_raw`, one reference. Free: null.
    ptr: AtomicPtr<T>,
}

const fn round_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

const fn index_offset<T>() -> usize {
    round_up(size_of::<Header<T>>(), align_of::<AtomicU32>())
}

const fn slots_offset<T>(index_len: usize) -> usize {
    round_up(
        index_offset::<T>() + index_len * size_of::<AtomicU32>(),
        align_of::<Slot<T>>(),
    )
}

fn layout<T>(index_len: usize, cap: usize) -> Option<Layout> {
    let size = slots_offset::<T>(index_len).checked_add(cap.checked_mul(size_of::<Slot<T>>())?)?;
    let align = align_of::<Header<T>>().max(align_of::<Slot<T>>());
    Layout::from_size_align(size, align).ok()
}

/// An array, with the lifetime for which it stays allocated.
struct Array<'a, T> {
    base: NonNull<Header<T>>,
    _life: PhantomData<&'a Header<T>>,
}

impl<T> Clone for Array<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Array<'_, T> {}

impl<'a, T> Array<'a, T> {
    /// # Safety
    /// `base` was made by [`allocate`] and is neither freed nor retired and
    /// reclaimed during `'a` (the caller holds the bucket's mutex, or is
    /// inside a read section that began before it could be retired).
    unsafe fn at(base: NonNull<Header<T>>) -> Array<'a, T> {
        Array {
            base,
            _life: PhantomData,
        }
    }

    fn header(self) -> &'a Header<T> {
        // SAFETY: allocated and initialised for `'a` (`at`); the fields a
        // writer changes after publication are atomics.
        unsafe { self.base.as_ref() }
    }

    fn mask(self) -> u32 {
        self.header().mask
    }

    fn cap(self) -> u32 {
        self.header().cap
    }

    /// The index slot `i & mask`.
    fn index(self, i: u32) -> &'a AtomicU32 {
        let i = (i & self.mask()) as usize;
        // SAFETY: `i` is below the index length (`mask + 1`); the index
        // starts at `index_offset` and was initialised by `allocate`.
        unsafe {
            &*self
                .base
                .as_ptr()
                .cast::<u8>()
                .add(index_offset::<T>())
                .cast::<AtomicU32>()
                .add(i)
        }
    }

    /// The slot at position `p` (`1..=cap`).
    fn slot(self, p: u32) -> Option<&'a Slot<T>> {
        if p == 0 || p > self.cap() {
            return None;
        }
        let index_len = self.mask() as usize + 1;
        // SAFETY: `p - 1` is below `cap`; the slots start at `slots_offset`
        // and were initialised by `allocate`.
        Some(unsafe {
            &*self
                .base
                .as_ptr()
                .cast::<u8>()
                .add(slots_offset::<T>(index_len))
                .cast::<Slot<T>>()
                .add(p as usize - 1)
        })
    }
}

/// A new array, every index slot 0 and every slot free (not yet linked).
fn allocate<T>(index_len: usize, cap: usize) -> Result<NonNull<Header<T>>, Status> {
    debug_assert!(index_len.is_power_of_two() && index_len >= 2);
    let (Ok(mask), Ok(cap32)) = (u32::try_from(index_len - 1), u32::try_from(cap)) else {
        return Err(Status::NO_MEMORY);
    };
    let layout = layout::<T>(index_len, cap).ok_or(Status::NO_MEMORY)?;
    // SAFETY: the layout's size is at least the header's, so not zero.
    let base =
        NonNull::new(unsafe { alloc(layout) }.cast::<Header<T>>()).ok_or(Status::NO_MEMORY)?;
    // SAFETY: `base` is a fresh allocation of `layout`, which has room for
    // the header, `index_len` index slots and `cap` slots at these offsets,
    // each suitably aligned; each is written once before any use.
    unsafe {
        ptr::write(
            base.as_ptr(),
            Header {
                mask,
                cap: cap32,
                older: AtomicPtr::new(ptr::null_mut()),
                seq: AtomicU32::new(0),
                sentinel: Sentinel::new(),
            },
        );
        let bytes = base.as_ptr().cast::<u8>();
        let index = bytes.add(index_offset::<T>()).cast::<AtomicU32>();
        for i in 0..index_len {
            ptr::write(index.add(i), AtomicU32::new(0));
        }
        let slots = bytes.add(slots_offset::<T>(index_len)).cast::<Slot<T>>();
        for p in 0..cap {
            ptr::write(
                slots.add(p),
                Slot {
                    tag: AtomicU64::new(0),
                    ptr: AtomicPtr::new(ptr::null_mut()),
                },
            );
        }
    }
    Ok(base)
}

/// Frees an array (not the references its slots hold).
///
/// # Safety
/// `base` was made by [`allocate`], and no reader or writer can reach it
/// any more (a grace period passed since it was unlinked, or nobody else
/// can read: [`rcu::alone`]).
unsafe fn free<T>(base: NonNull<Header<T>>) {
    // SAFETY: the caller's contract; the sizes are the header's own.
    unsafe {
        let (index_len, cap) = {
            let header = base.as_ref();
            (header.mask as usize + 1, header.cap as usize)
        };
        let bytes = base.as_ptr().cast::<u8>();
        let index = bytes.add(index_offset::<T>()).cast::<AtomicU32>();
        for i in 0..index_len {
            ptr::drop_in_place(index.add(i));
        }
        let slots = bytes.add(slots_offset::<T>(index_len)).cast::<Slot<T>>();
        for p in 0..cap {
            ptr::drop_in_place(slots.add(p));
        }
        // The sentinel's drop is the write loom checks readers against.
        ptr::drop_in_place(base.as_ptr());
        if let Some(layout) = layout::<T>(index_len, cap) {
            dealloc(bytes, layout);
        }
    }
}

/// Frees `first` and every array chained after it.
///
/// # Safety
/// As [`free`], for each of them.
unsafe fn free_chain<T>(first: Option<NonNull<Header<T>>>) {
    let mut next = first;
    while let Some(base) = next {
        // SAFETY: allocated (the caller's contract), so its header is there.
        next = NonNull::new(unsafe { base.as_ref() }.older.load(Ordering::Relaxed));
        // SAFETY: the caller's contract.
        unsafe { free(base) };
    }
}

/// A new reference to the object behind `ptr`.
///
/// # Safety
/// `ptr` came from `Arc::into_raw` (or `Arc::as_ptr`) and a reference to
/// it is held throughout the call.
unsafe fn clone_raw<T>(ptr: *const T) -> Arc<T> {
    // SAFETY: the caller's contract; the borrowed reference is not dropped.
    let held = ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
    Arc::clone(&held)
}

/// What only writers touch, under the bucket's mutex.
struct Meta<T> {
    /// The generation to try next.
    next: u32,
    /// Live entries.
    live: u32,
    /// The first free slot (0: none), and how many are free.
    free: u32,
    free_len: u32,
    /// Tombstones, oldest first (0: none).
    dead_head: u32,
    dead_tail: u32,
    /// Tombstones ever reclaimed (wrapping; `Bucket::dead_made` counts
    /// those ever made).
    dead_reclaimed: u32,
    /// The newest array still retired.
    retired: Option<NonNull<Header<T>>>,
}

// SAFETY: the retired arrays are owned by the bucket, which is only
// reached through the mutex around this; they hold no `T` of their own
// (the references are the live array's).
unsafe impl<T: Send + Sync> Send for Meta<T> {}

/// How far a bucket's retirements had got: reclaiming with it, after a
/// grace period that began after it was taken, frees what was retired
/// before ([`Bucket::ticket`]).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    dead: u32,
    arrays: u32,
}

/// Whether `a` comes before `b` in a wrapping count.
fn before(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

/// One bucket of handles: see the module docs.
pub struct Bucket<T> {
    /// The current array, or null (nothing stored yet, or emptied).
    array: AtomicPtr<Header<T>>,
    /// Tombstones ever made, and arrays ever retired (wrapping): written
    /// under the mutex with release, after what they count, so that a
    /// reclaimer takes a [`Ticket`] without the mutex.
    dead_made: AtomicU32,
    arrays_retired: AtomicU32,
    /// Serialises writers.
    writer: Mutex<Meta<T>>,
    /// The bucket owns one reference per live entry and per tombstone.
    _owns: PhantomData<Arc<T>>,
}

impl<T> fmt::Debug for Bucket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bucket").finish_non_exhaustive()
    }
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket::new()
    }
}

const fn empty_meta<T>() -> Meta<T> {
    Meta {
        next: 1,
        live: 0,
        free: 0,
        free_len: 0,
        dead_head: 0,
        dead_tail: 0,
        dead_reclaimed: 0,
        retired: None,
    }
}

impl<T> Bucket<T> {
    /// An empty bucket; allocates nothing.
    #[cfg(not(loom))]
    pub const fn new() -> Bucket<T> {
        Bucket {
            array: AtomicPtr::new(ptr::null_mut()),
            dead_made: AtomicU32::new(0),
            arrays_retired: AtomicU32::new(0),
            writer: Mutex::new(empty_meta()),
            _owns: PhantomData,
        }
    }

    /// An empty bucket; allocates nothing.
    #[cfg(loom)]
    pub fn new() -> Bucket<T> {
        Bucket {
            array: AtomicPtr::new(ptr::null_mut()),
            dead_made: AtomicU32::new(0),
            arrays_retired: AtomicU32::new(0),
            writer: Mutex::new(empty_meta()),
            _owns: PhantomData,
        }
    }

    /// The live entry of `generation`, found without locking; it stays
    /// valid (its object alive) while `section` lasts, even if it is removed
    /// meanwhile.
    #[inline]
    pub fn get<'a>(&'a self, section: &'a Section, generation: u32) -> Option<Entry<'a, T>> {
        let _ = section;
        // SAFETY: inside `section`, which began before this load, so the
        // array and any entry found stay allocated until it ends: freeing
        // either waits for a grace period that starts after it was unlinked,
        // and that waits for this section.
        unsafe { self.find(generation) }
    }

    /// Looks `generation` up.
    ///
    /// # Safety
    /// The caller keeps what it finds allocated for `'a`: it holds the
    /// mutex, or is inside a read section, for `'a`.
    #[inline]
    unsafe fn find<'a>(&'a self, generation: u32) -> Option<Entry<'a, T>> {
        let base = NonNull::new(self.array.load(Ordering::Acquire))?;
        // SAFETY: the caller's contract.
        let array = unsafe { Array::<'a, T>::at(base) };
        array.header().sentinel.check();
        let p = array.index(generation).load(Ordering::Acquire);
        let slot = array.slot(p)?;
        let tag = slot.tag.load(Ordering::Acquire);
        let key = tag as u32;
        if generation == 0 || !handle::key_is(key, generation) {
            return None;
        }
        // Stored before the tag we acquired, and not changed until the
        // slot is reclaimed, after this section or lock.
        let value = NonNull::new(slot.ptr.load(Ordering::Relaxed))?;
        Some(Entry {
            key,
            data: (tag >> 32) as u32,
            // SAFETY: a live entry's pointer is from `Arc::into_raw`, and the
            // reference it stands for is dropped only after `'a` (caller).
            value: unsafe { value.as_ref() },
        })
    }

    /// Locks the bucket for writing.
    pub fn lock(&self) -> Locked<'_, T> {
        Locked {
            bucket: self,
            meta: self.writer.lock(),
            retired: 0,
        }
    }

    /// How far this bucket's retirements have got (acquire loads of what
    /// writers store with release after each retirement, so the
    /// retirements counted happened before whatever the caller does next).
    pub fn ticket(&self) -> Ticket {
        Ticket {
            dead: self.dead_made.load(Ordering::Acquire),
            arrays: self.arrays_retired.load(Ordering::Acquire),
        }
    }

    /// Frees what was retired before `ticket` was taken: drops the
    /// tombstones' references (outside the mutex, a few at a time, so that
    /// the destruction they may start runs with no lock held and may use
    /// the table again) and frees the arrays. Returns whether the bucket
    /// still holds retired memory (retired later, or its array, emptied
    /// now, retired in turn).
    ///
    /// Call only after a grace period ([`rcu::synchronize`]) that began
    /// after `ticket` was taken, with no lock held.
    pub fn reclaim(&self, ticket: Ticket) -> bool {
        const BATCH: usize = 16;
        loop {
            let mut dropped: [Option<Arc<T>>; BATCH] = [const { None }; BATCH];
            let mut freed = None;
            let left = {
                let mut meta = self.writer.lock();
                let base = NonNull::new(self.array.load(Ordering::Relaxed));
                // SAFETY: under the mutex, the current array stays.
                let array = base.map(|base| unsafe { Array::<'_, T>::at(base) });
                let mut n = 0;
                while n < BATCH && before(meta.dead_reclaimed, ticket.dead) {
                    let Some(slot) = array.and_then(|array| array.slot(meta.dead_head)) else {
                        break;
                    };
                    let next = (slot.tag.load(Ordering::Relaxed) >> 32) as u32;
                    let ptr = slot.ptr.load(Ordering::Relaxed);
                    slot.ptr.store(ptr::null_mut(), Ordering::Relaxed);
                    slot.tag
                        .store(u64::from(meta.free) << 32, Ordering::Relaxed);
                    meta.free = meta.dead_head;
                    meta.free_len += 1;
                    meta.dead_head = next;
                    if next == 0 {
                        meta.dead_tail = 0;
                    }
                    meta.dead_reclaimed = meta.dead_reclaimed.wrapping_add(1);
                    if !ptr.is_null() {
                        // SAFETY: the tombstone's reference, from
                        // `Arc::into_raw`; a grace period passed since it
                        // was unlinked, so no reader still uses it.
                        dropped[n] = Some(unsafe { Arc::from_raw(ptr) });
                    }
                    n += 1;
                }
                if before(meta.dead_reclaimed, ticket.dead) && n == BATCH {
                    None
                } else {
                    freed = detach(&mut meta, ticket.arrays);
                    let mut locked = Locked {
                        bucket: self,
                        meta,
                        retired: 0,
                    };
                    locked.shrink_if_empty(None);
                    Some(locked.has_retired())
                }
            };
            // SAFETY: detached arrays were retired before the ticket, and a
            // grace period passed since (the caller's contract).
            unsafe { free_chain(freed) };
            drop(dropped);
            if let Some(left) = left {
                return left;
            }
        }
    }
}

/// Unchains the arrays retired before `upto` and returns the first of them.
fn detach<T>(meta: &mut Meta<T>, upto: u32) -> Option<NonNull<Header<T>>> {
    let first = meta.retired?;
    // SAFETY: retired arrays stay allocated until freed here, under the
    // mutex the caller holds.
    let seq = |base: NonNull<Header<T>>| unsafe { base.as_ref() }.seq.load(Ordering::Relaxed);
    if !before(upto, seq(first)) {
        meta.retired = None;
        return Some(first);
    }
    let mut at = first;
    loop {
        // SAFETY: as above.
        let older = &unsafe { at.as_ref() }.older;
        let next = NonNull::new(older.load(Ordering::Relaxed))?;
        if !before(upto, seq(next)) {
            older.store(ptr::null_mut(), Ordering::Relaxed);
            return Some(next);
        }
        at = next;
    }
}

impl<T> Drop for Bucket<T> {
    fn drop(&mut self) {
        let meta = self.writer.get_mut();
        let retired = meta.retired.take();
        if let Some(base) = NonNull::new(self.array.load(Ordering::Relaxed)) {
            // SAFETY: `&mut self`: nobody else can reach the array.
            let array = unsafe { Array::<'_, T>::at(base) };
            for p in 1..=array.cap() {
                let Some(slot) = array.slot(p) else { break };
                let ptr = slot.ptr.load(Ordering::Relaxed);
                if !ptr.is_null() {
                    // SAFETY: a live entry's or a tombstone's reference.
                    drop(unsafe { Arc::from_raw(ptr) });
                }
            }
            // SAFETY: as above.
            unsafe { free(base) };
        }
        // SAFETY: as above.
        unsafe { free_chain(retired) };
    }
}

/// A bucket locked for writing.
pub struct Locked<'a, T> {
    bucket: &'a Bucket<T>,
    meta: MutexGuard<'a, Meta<T>>,
    /// What this lock retired that a grace period must pass for, weighed
    /// (a tombstone 1, an array [`ARRAY_WEIGHT`]).
    retired: u32,
}

/// How much a retired array weighs against a tombstone, for a caller's
/// reclamation policy: an array holds many entries' worth of memory, a
/// tombstone only keeps one reference alive.
pub const ARRAY_WEIGHT: u32 = 128;

impl<T> fmt::Debug for Locked<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Locked")
            .field("live", &self.meta.live)
            .finish_non_exhaustive()
    }
}

impl<'a, T> Locked<'a, T> {
    fn current(&self) -> Option<Array<'_, T>> {
        // SAFETY: used for the borrow of `self`, under the mutex, during
        // which no other thread replaces or frees the current array.
        unsafe { self.current_unbound() }
    }

    /// The current array, for a lifetime the caller picks.
    ///
    /// # Safety
    /// Used only while this lock is held, and not after this lock itself
    /// replaced or freed it.
    unsafe fn current_unbound<'x>(&self) -> Option<Array<'x, T>> {
        let base = NonNull::new(self.bucket.array.load(Ordering::Relaxed))?;
        // SAFETY: the caller's contract.
        Some(unsafe { Array::at(base) })
    }

    /// The live entry of `generation`.
    pub fn get(&self, generation: u32) -> Option<Entry<'_, T>> {
        // SAFETY: under the mutex, for the borrow of `self`: nothing can be
        // removed, let alone freed, meanwhile.
        unsafe { self.bucket.find(generation) }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.meta.live as usize
    }

    /// Whether the bucket holds no live entry.
    pub fn is_empty(&self) -> bool {
        self.meta.live == 0
    }

    /// What this lock retired that a grace period must pass for, weighed
    /// (0: nothing; otherwise the caller should see that the bucket is
    /// reclaimed): 1 per tombstone, [`ARRAY_WEIGHT`] per array.
    pub fn retired(&self) -> u32 {
        self.retired
    }

    /// Whether the bucket holds retired memory that a grace period must
    /// pass for (retired now or before).
    pub fn has_retired(&self) -> bool {
        self.retired != 0
            || self.bucket.dead_made.load(Ordering::Relaxed) != self.meta.dead_reclaimed
            || self.meta.retired.is_some()
    }

    /// Makes the next `n` [`Locked::insert`]s infallible.
    ///
    /// # Errors
    /// `NO_RESOURCES` when the bucket cannot hold `n` more live entries,
    /// `NO_MEMORY`.
    pub fn reserve(&mut self, n: usize) -> Result<(), Status> {
        let live = self.meta.live as usize;
        if live + n > BUCKET_CAPACITY {
            return Err(Status::NO_RESOURCES);
        }
        let want_index = handle::index_len(live + n);
        // SAFETY: not used after it is retired below.
        let old = unsafe { self.current_unbound() };
        let (index_len, cap) = old.map_or((0, 0), |a| (a.mask() as usize + 1, a.cap() as usize));
        let free = self.meta.free_len as usize;
        if free >= n && index_len >= want_index {
            return Ok(());
        }
        let new_cap = if free < n {
            handle::grown_capacity(cap - free, n)
        } else {
            cap
        };
        let new_index_len = want_index.max(index_len);
        let base = allocate::<T>(new_index_len, new_cap)?;
        // SAFETY: ours alone until published below.
        let new = unsafe { Array::<'_, T>::at(base) };
        if let Some(old) = old {
            for p in 1..=old.cap() {
                let (Some(from), Some(to)) = (old.slot(p), new.slot(p)) else {
                    break;
                };
                let tag = from.tag.load(Ordering::Relaxed);
                to.tag.store(tag, Ordering::Relaxed);
                to.ptr
                    .store(from.ptr.load(Ordering::Relaxed), Ordering::Relaxed);
                let generation = handle::generation_of(tag as u32);
                if generation != 0 {
                    // Distinct under the larger mask, as under the old one.
                    new.index(generation).store(p, Ordering::Relaxed);
                }
            }
        }
        let mut free_head = self.meta.free;
        for p in (cap as u32 + 1..=new_cap as u32).rev() {
            if let Some(slot) = new.slot(p) {
                slot.tag
                    .store(u64::from(free_head) << 32, Ordering::Relaxed);
                free_head = p;
            }
        }
        self.meta.free = free_head;
        self.meta.free_len += (new_cap - cap) as u32;
        // Everything above before the pointer, for readers.
        self.bucket.array.store(base.as_ptr(), Ordering::Release);
        if let Some(old) = old {
            self.retire_array(old.base, None);
        }
        Ok(())
    }

    /// Stores the entry `make` builds for a fresh generation, `(key, data,
    /// reference)`, whose key's generation bits are that generation; returns
    /// the generation. Call [`Locked::reserve`] first.
    ///
    /// # Panics
    /// If nothing was reserved.
    pub fn insert(&mut self, make: impl FnOnce(u32) -> (u32, u32, Arc<T>)) -> u32 {
        // SAFETY: used under the lock; this method replaces nothing.
        let array = unsafe { self.current_unbound() }.expect("insert without reserve");
        let p = self.meta.free;
        let slot = array.slot(p).expect("insert without reserve");
        let mut generation = self.meta.next;
        // The index is at most seven eighths full, so this ends quickly.
        while array.index(generation).load(Ordering::Relaxed) != 0 {
            generation = handle::next_generation(generation);
        }
        self.meta.next = handle::next_generation(generation);
        self.meta.free = (slot.tag.load(Ordering::Relaxed) >> 32) as u32;
        self.meta.free_len -= 1;
        let (key, data, value) = make(generation);
        debug_assert!(handle::key_is(key, generation));
        slot.ptr
            .store(Arc::into_raw(value).cast_mut(), Ordering::Relaxed);
        // The pointer before the tag, the tag before the index slot.
        slot.tag
            .store(u64::from(key) | u64::from(data) << 32, Ordering::Release);
        array.index(generation).store(p, Ordering::Release);
        self.meta.live += 1;
        generation
    }

    /// Removes the entry of `generation`. Lookups from now on miss it;
    /// one that found it just before keeps using its object, which stays
    /// alive until a grace period has passed: the slot keeps the reference
    /// meanwhile. What is returned gives access to the object: inside
    /// `section` (entered before this lock is released, as passing it here
    /// ensures), for as long as it lasts; without one, through a new
    /// reference. When no other
    /// thread can be reading ([`rcu::alone`]) the bucket's own reference is
    /// handed back instead and the slot is free at once.
    pub fn remove<'s>(
        &mut self,
        section: Option<&'s Section>,
        generation: u32,
    ) -> Option<Removed<'s, T>>
    where
        'a: 's,
    {
        // SAFETY: used under the lock, and not after `shrink_if_empty`.
        let array = unsafe { self.current_unbound() }?;
        let index = array.index(generation);
        let p = index.load(Ordering::Relaxed);
        let slot = array.slot(p)?;
        let tag = slot.tag.load(Ordering::Relaxed);
        let (key, data) = (tag as u32, (tag >> 32) as u32);
        if generation == 0 || !handle::key_is(key, generation) {
            return None;
        }
        index.store(0, Ordering::Relaxed);
        self.meta.live -= 1;
        let ptr = slot.ptr.load(Ordering::Relaxed);
        if rcu::alone(section) {
            slot.ptr.store(ptr::null_mut(), Ordering::Relaxed);
            slot.tag
                .store(u64::from(self.meta.free) << 32, Ordering::Relaxed);
            self.meta.free = p;
            self.meta.free_len += 1;
            // SAFETY: the slot's reference, from `Arc::into_raw`; nobody
            // else can be reading it (`alone`), and the slot no longer has it.
            let value = unsafe { Arc::from_raw(ptr) };
            self.shrink_if_empty(section);
            return Some(Removed {
                key,
                data,
                value: Holding::Owned(value),
            });
        }
        // A tombstone, at the back of the list.
        slot.tag.store(0, Ordering::Relaxed);
        match array.slot(self.meta.dead_tail) {
            Some(tail) => tail.tag.store(u64::from(p) << 32, Ordering::Relaxed),
            None => self.meta.dead_head = p,
        }
        self.meta.dead_tail = p;
        // After the stores it counts (see `Bucket::ticket`).
        let made = self.bucket.dead_made.load(Ordering::Relaxed);
        self.bucket
            .dead_made
            .store(made.wrapping_add(1), Ordering::Release);
        self.retired = self.retired.saturating_add(1);
        let value = match section {
            // SAFETY: the tombstone keeps the reference until a grace period
            // that begins after this lock is released, and `section` began
            // before: that grace period waits for it.
            Some(_) => Holding::Borrowed(unsafe { &*ptr }),
            // SAFETY: from `Arc::into_raw`; the tombstone holds it.
            None => Holding::Owned(unsafe { clone_raw(ptr) }),
        };
        Some(Removed { key, data, value })
    }

    /// Gives back an emptied array (no live entry, no tombstone) of more
    /// than a few slots (`own`: as for [`Locked::retire_array`]).
    fn shrink_if_empty(&mut self, own: Option<&Section>) {
        let Some(array) = self.current() else { return };
        if self.meta.live != 0 || self.meta.dead_head != 0 || array.cap() <= 8 {
            return;
        }
        let base = array.base;
        self.bucket.array.store(ptr::null_mut(), Ordering::Release);
        self.meta.free = 0;
        self.meta.free_len = 0;
        self.retire_array(base, own);
    }

    /// Retires an array just replaced: freed at once if nobody else can
    /// be reading ([`rcu::alone`], checked after the replacing store; `own`
    /// is the caller's section, if it entered one for this operation),
    /// else chained for a later reclamation.
    fn retire_array(&mut self, base: NonNull<Header<T>>, own: Option<&Section>) {
        if rcu::alone(own) {
            let older = self.meta.retired.take();
            // SAFETY: unlinked (the caller replaced it), and nobody else
            // can be reading (`alone`), this or any array retired before.
            unsafe {
                free(base);
                free_chain(older);
            }
            return;
        }
        let seq = self
            .bucket
            .arrays_retired
            .load(Ordering::Relaxed)
            .wrapping_add(1);
        // After the store that replaced it (`Bucket::ticket`).
        self.bucket.arrays_retired.store(seq, Ordering::Release);
        // SAFETY: retired now, still allocated; only writers touch these.
        let header = unsafe { base.as_ref() };
        header.seq.store(seq, Ordering::Relaxed);
        header.older.store(
            self.meta.retired.map_or(ptr::null_mut(), NonNull::as_ptr),
            Ordering::Relaxed,
        );
        self.meta.retired = Some(base);
        self.retired = self.retired.saturating_add(ARRAY_WEIGHT);
    }
}

/// A live entry: its key, its data and its object, which stays alive for
/// `'a` (a read section, or a lock).
pub struct Entry<'a, T> {
    key: u32,
    data: u32,
    /// Points into an `Arc` allocation holding at least one reference
    /// throughout `'a`.
    value: &'a T,
}

impl<T> Clone for Entry<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Entry<'_, T> {}

impl<T> fmt::Debug for Entry<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl<'a, T> Entry<'a, T> {
    /// An entry for an object the caller holds a reference to (a lookup
    /// that had to copy it out under the lock).
    pub fn owned(value: &'a Arc<T>, key: u32, data: u32) -> Entry<'a, T> {
        Entry {
            key,
            data,
            value: &**value,
        }
    }

    /// The key it was stored with.
    pub fn key(&self) -> u32 {
        self.key
    }

    /// The data it was stored with.
    pub fn data(&self) -> u32 {
        self.data
    }

    /// The object.
    pub fn value(&self) -> &'a T {
        self.value
    }

    /// A new reference to the object.
    pub fn to_arc(&self) -> Arc<T> {
        // SAFETY: `value` points into an `Arc` allocation with a reference
        // held for `'a` (the field's invariant).
        unsafe { clone_raw(self.value) }
    }
}

/// A removed entry's key, data and object.
pub struct Removed<'s, T> {
    key: u32,
    data: u32,
    value: Holding<'s, T>,
}

enum Holding<'s, T> {
    /// A reference of our own.
    Owned(Arc<T>),
    /// Borrowed for a read section, the tombstone holding the reference.
    Borrowed(&'s T),
}

impl<T> fmt::Debug for Removed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Removed")
            .field("key", &self.key)
            .field("data", &self.data)
            .finish_non_exhaustive()
    }
}

impl<T> Removed<'_, T> {
    /// The key it was stored with.
    pub fn key(&self) -> u32 {
        self.key
    }

    /// The data it was stored with.
    pub fn data(&self) -> u32 {
        self.data
    }

    /// The object.
    pub fn value(&self) -> &T {
        match &self.value {
            Holding::Owned(arc) => arc,
            Holding::Borrowed(value) => value,
        }
    }

    /// The removed entry, as a lookup would have found it.
    pub fn entry(&self) -> Entry<'_, T> {
        Entry {
            key: self.key,
            data: self.data,
            // A reference is held while `self` lives: its own, or the
            // tombstone's for the read section it borrows.
            value: self.value(),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as O};

    /// A payload that counts its drops and says whether it was dropped.
    #[derive(Debug)]
    struct Thing {
        id: u32,
        alive: AtomicBool,
        drops: &'static AtomicUsize,
    }

    impl Drop for Thing {
        fn drop(&mut self) {
            self.alive.store(false, O::SeqCst);
            self.drops.fetch_add(1, O::SeqCst);
        }
    }

    #[allow(clippy::disallowed_methods)]
    fn thing(id: u32, drops: &'static AtomicUsize) -> Arc<Thing> {
        Arc::new(Thing {
            id,
            alive: AtomicBool::new(true),
            drops,
        })
    }

    fn insert(bucket: &Bucket<Thing>, id: u32, drops: &'static AtomicUsize) -> u32 {
        let mut locked = bucket.lock();
        locked.reserve(1).unwrap();
        locked.insert(|g| (g, id, thing(id, drops)))
    }

    fn lookup(bucket: &Bucket<Thing>, generation: u32) -> Option<u32> {
        let section = Section::enter().unwrap();
        bucket.get(&section, generation).map(|entry| {
            assert!(entry.value().alive.load(O::SeqCst));
            assert_eq!(entry.value().id, entry.data());
            entry.value().id
        })
    }

    fn remove(bucket: &Bucket<Thing>, generation: u32) -> Option<u32> {
        let section = Section::enter();
        let removed = bucket.lock().remove(section.as_ref(), generation);
        removed.map(|removed| removed.value().id)
    }

    /// Reclaims everything retired so far.
    fn reclaim(bucket: &Bucket<Thing>) {
        let ticket = bucket.ticket();
        rcu::synchronize();
        bucket.reclaim(ticket);
    }

    #[test]
    fn entries_are_found_until_removed_and_freed_after_reclaiming() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = Bucket::new();
        let g1 = insert(&bucket, 7, &DROPS);
        let g2 = insert(&bucket, 8, &DROPS);
        assert_ne!(g1, g2);
        assert_eq!(lookup(&bucket, g1), Some(7));
        assert_eq!(lookup(&bucket, g2), Some(8));
        assert_eq!(remove(&bucket, g1), Some(7));
        assert_eq!(lookup(&bucket, g1), None);
        assert_eq!(remove(&bucket, g1), None);
        assert_eq!(lookup(&bucket, g2), Some(8));
        reclaim(&bucket);
        assert_eq!(DROPS.load(O::SeqCst), 1);
        let g3 = insert(&bucket, 9, &DROPS);
        assert!(g3 != g1 && g3 != g2);
        assert_eq!(lookup(&bucket, g1), None);
        drop(bucket);
        assert_eq!(DROPS.load(O::SeqCst), 3);
    }

    #[test]
    fn a_value_recurs_only_after_the_generation_wraps() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = Bucket::new();
        let first = insert(&bucket, 0, &DROPS);
        remove(&bucket, first);
        let mut seen = 1u32;
        loop {
            let g = insert(&bucket, seen, &DROPS);
            assert_eq!(remove(&bucket, g), Some(seen));
            if g == first {
                break;
            }
            seen += 1;
            if seen.is_multiple_of(4096) {
                reclaim(&bucket);
            }
        }
        assert_eq!(seen, (1 << handle::GENERATION_BITS) - 1);
    }

    #[test]
    fn many_entries_with_removals_stay_consistent() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = Bucket::new();
        let mut live = Vec::new();
        for i in 0..1500u32 {
            live.push((insert(&bucket, i, &DROPS), i));
            if i.is_multiple_of(3) {
                let (g, id) = live.swap_remove((i as usize * 7) % live.len());
                assert_eq!(remove(&bucket, g), Some(id));
            }
            if i.is_multiple_of(100) {
                reclaim(&bucket);
            }
        }
        for &(g, id) in &live {
            assert_eq!(lookup(&bucket, g), Some(id));
        }
        assert_eq!(bucket.lock().len(), live.len());
    }

    #[test]
    fn a_full_bucket_says_no_resources() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = Bucket::new();
        for i in 0..BUCKET_CAPACITY as u32 {
            insert(&bucket, i, &DROPS);
        }
        assert_eq!(bucket.lock().reserve(1), Err(Status::NO_RESOURCES));
    }

    #[test]
    fn emptied_buckets_give_their_array_back() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = Bucket::new();
        let values: Vec<u32> = (0..100).map(|i| insert(&bucket, i, &DROPS)).collect();
        for g in values {
            remove(&bucket, g);
        }
        reclaim(&bucket);
        // Reclaiming the tombstones emptied it: its array was retired too.
        reclaim(&bucket);
        assert!(bucket.array.load(Ordering::Relaxed).is_null());
        assert!(!bucket.lock().has_retired());
        assert_eq!(DROPS.load(O::SeqCst), 100);
    }

    #[test]
    fn readers_race_a_writer_and_see_only_live_entries() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let bucket = std::sync::Arc::new(Bucket::new());
        // Values whose ids are their index in `published`.
        let published: std::sync::Arc<Vec<std::sync::atomic::AtomicU32>> = std::sync::Arc::new(
            (0..20_000)
                .map(|_| std::sync::atomic::AtomicU32::new(0))
                .collect(),
        );
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|r| {
                let (bucket, published, done) = (bucket.clone(), published.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut found = 0u64;
                    let mut i = r;
                    while !done.load(O::Relaxed) {
                        i = (i * 7 + 13) % published.len();
                        let g = published[i].load(O::Acquire);
                        if g != 0 {
                            if let Some(id) = lookup(&bucket, g) {
                                assert_eq!(id as usize, i);
                                found += 1;
                            }
                        }
                    }
                    found
                })
            })
            .collect();
        let mut live = Vec::new();
        for i in 0..published.len() as u32 {
            let g = insert(&bucket, i, &DROPS);
            published[i as usize].store(g, O::Release);
            live.push(i);
            if live.len() > 1000 {
                let id = live.swap_remove((i as usize * 31) % live.len());
                let g = published[id as usize].swap(0, O::AcqRel);
                assert_eq!(remove(&bucket, g), Some(id));
            }
            if i.is_multiple_of(500) {
                reclaim(&bucket);
            }
        }
        done.store(true, O::Relaxed);
        let found: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
        assert!(found > 0);
    }
}

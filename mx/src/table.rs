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
//! Lock order: bucket (by index, when two are held), then object.

#[cfg(not(loom))]
use mx_core::handle::BUCKETS;
use mx_core::handle::{self, Bucket};
use mx_core::{RawHandle, Rights, Side, Status};

use crate::object::{Kernel, Object};
use crate::sync::{AtomicUsize, Ordering, RwLock};

/// What a handle is: an object end and the rights to it, in 16 bytes.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The generation the bucket stored this under, and in bit 31 the end.
    key: u32,
    /// The handle's rights.
    pub(crate) rights: Rights,
    /// The object it names.
    pub(crate) kernel: crate::sync::Arc<Kernel>,
}

const SIDE_B: u32 = 1 << 31;

impl Entry {
    fn new(generation: u32, rights: Rights, object: Object) -> Entry {
        let side = if object.side == Side::B { SIDE_B } else { 0 };
        Entry {
            key: generation | side,
            rights,
            kernel: object.kernel,
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

    /// The object end, as an owned reference.
    pub(crate) fn object(&self) -> Object {
        Object {
            kernel: self.kernel.clone(),
            side: self.side(),
        }
    }
}

impl handle::Slot for Entry {
    fn generation(&self) -> u32 {
        self.key & !SIDE_B
    }
}

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
    /// Where the next new handle goes (round robin).
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

    fn bucket(&self, value: RawHandle) -> Result<(&RwLock<Bucket<Entry>>, u32), Status> {
        let (bucket, generation) = handle::decode(value).ok_or(Status::BAD_HANDLE)?;
        let slot = self.buckets.get(bucket).ok_or(Status::BAD_HANDLE)?;
        Ok((&slot.0, generation))
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
        make: impl FnOnce() -> Result<(Object, Rights), Status>,
    ) -> Result<RawHandle, Status> {
        let count = self.buckets.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..count {
            let index = (start + i) % count;
            let mut bucket = self.buckets[index].0.write();
            match bucket.reserve() {
                Ok(()) => {
                    let (object, rights) = make()?;
                    let generation = bucket.insert(|g| Entry::new(g, rights, object));
                    return Ok(handle::encode(index, generation));
                }
                Err(Status::NO_RESOURCES) => continue,
                Err(status) => return Err(status),
            }
        }
        Err(Status::NO_RESOURCES)
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
        make: impl FnOnce(&Entry) -> Result<(Object, Rights), Status>,
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
        let start = self.next.fetch_add(1, Ordering::Relaxed);
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
            let (object, rights) = entry.take().ok_or(Status::INTERNAL)?;
            let new_generation = target.insert(|g| Entry::new(g, rights, object));
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_fills_one_cache_line() {
        assert_eq!(core::mem::size_of::<Padded>(), 64);
    }
}

//! Handle values and the buckets of slots behind them.
//!
//! A handle value is a positive `int32_t`: 20 bits of *generation* above 11
//! bits of *bucket* number.
//!
//! ```text
//!  31 30                      11 10          0
//! | 0 |   generation (1..2^20)  |   bucket    |
//! ```
//!
//! Each bucket hands out generations in sequence (skipping 0, so no value is
//! 0 and none is negative), and looks entries up by generation in a small
//! open-addressed index. A closed value therefore comes back only after its
//! bucket has handed out 2^20 - 1 other generations; until then a stale value
//! finds nothing ([`Bucket::get`] compares the whole generation). This keeps
//! the 20 bits of generation per slot that the specification asks for while
//! still allowing over a million live handles: a fixed index/generation split
//! of 31 bits could not do both.
//!
//! Buckets are independent, so handle lookups on different buckets never
//! touch shared state. [`Bucket`] is the pure form of one, with the policy
//! ([`next_generation`], [`index_len`], [`grown_capacity`]) as functions;
//! the object layer's table keeps the same format and policy in
//! `mx_shm::handles`, laid out so that lookups read it without a lock.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::abi::RawHandle;
use crate::Status;

/// Bits of bucket number in a handle value.
pub const BUCKET_BITS: u32 = 11;
/// Number of buckets.
pub const BUCKETS: usize = 1 << BUCKET_BITS;
/// Bits of generation in a handle value.
pub const GENERATION_BITS: u32 = 20;
const GENERATION_MASK: u32 = (1 << GENERATION_BITS) - 1;
/// The most live handles one bucket holds.
pub const BUCKET_CAPACITY: usize = 2048;

/// Splits a handle value into `(bucket, generation)`; `None` for values no
/// handle can have.
pub fn decode(value: RawHandle) -> Option<(usize, u32)> {
    let raw = u32::try_from(value).ok()?;
    let generation = raw >> BUCKET_BITS;
    if generation == 0 {
        return None;
    }
    Some(((raw as usize) & (BUCKETS - 1), generation))
}

/// Joins a bucket number and a generation into a handle value.
pub fn encode(bucket: usize, generation: u32) -> RawHandle {
    debug_assert!(bucket < BUCKETS && generation != 0 && generation <= GENERATION_MASK);
    ((generation << BUCKET_BITS) | bucket as u32) as RawHandle
}

/// The generation a bucket tries after `g`: the next one, skipping 0.
pub fn next_generation(g: u32) -> u32 {
    if g >= GENERATION_MASK {
        1
    } else {
        g + 1
    }
}

/// Whether the generation bits of `key` (an entry's stored key, whose low
/// [`GENERATION_BITS`] bits are its generation) are `generation`.
pub fn key_is(key: u32, generation: u32) -> bool {
    key & GENERATION_MASK == generation
}

/// The generation bits of `key` (0 for none: no handle has generation 0).
pub fn generation_of(key: u32) -> u32 {
    key & GENERATION_MASK
}

/// How many index slots a bucket needs for `live` entries: a power of
/// two, at least 2, kept at most seven eighths full, so that a lookup
/// never probes and an insertion soon finds a free generation.
pub fn index_len(live: usize) -> usize {
    (live * 8).div_ceil(7).next_power_of_two().max(2)
}

/// How many entries a bucket that must grow makes room for: the `used`
/// ones, the `n` wanted, and a quarter of both more (so a bucket costs
/// little more than its entries).
pub fn grown_capacity(used: usize, n: usize) -> usize {
    used + (used + n) / 4 + n
}

/// What a bucket stores: anything that remembers the generation it was
/// stored under (so the generation costs no separate field).
pub trait Slot {
    /// The generation passed to the `make` closure of [`Bucket::insert`].
    fn generation(&self) -> u32;
}

/// The live handles of one bucket.
#[derive(Debug)]
pub struct Bucket<T> {
    /// The generation to try next.
    next: u32,
    /// `index[generation & (len - 1)]` is 1 + the entry's position, or 0.
    /// (A boxed slice, one word smaller than a `Vec`: the object layer fits
    /// a bucket and its lock in one cache line.)
    index: Option<Box<[u32]>>,
    /// Live entries, densely packed.
    entries: Vec<T>,
}

impl<T> Default for Bucket<T> {
    fn default() -> Self {
        Bucket::new()
    }
}

impl<T> Bucket<T> {
    /// An empty bucket; allocates nothing.
    pub const fn new() -> Bucket<T> {
        Bucket {
            next: 1,
            index: None,
            entries: Vec::new(),
        }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the bucket holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Calls `f` on every live entry.
    pub fn for_each(&self, f: impl FnMut(&T)) {
        self.entries.iter().for_each(f);
    }
}

impl<T: Slot> Bucket<T> {
    fn slots(&self) -> &[u32] {
        self.index.as_deref().unwrap_or(&[])
    }

    fn slots_mut(&mut self) -> &mut [u32] {
        self.index.as_deref_mut().unwrap_or(&mut [])
    }

    fn position(&self, generation: u32) -> Option<usize> {
        if self.slots().is_empty() {
            return None;
        }
        let slot = self.slots()[generation as usize & (self.slots().len() - 1)];
        let pos = (slot as usize).checked_sub(1)?;
        (self.entries[pos].generation() == generation).then_some(pos)
    }

    /// The entry of `generation`, if live.
    pub fn get(&self, generation: u32) -> Option<&T> {
        self.position(generation).map(|pos| &self.entries[pos])
    }

    /// Makes room so that the next [`Bucket::insert`] cannot fail.
    ///
    /// Entries grow by a quarter and the index is kept at most seven eighths
    /// full, so a bucket costs little more than its entries (16 bytes each in
    /// the object layer). Lookups never probe; only insertion scans for a
    /// free generation.
    ///
    /// # Errors
    /// `NO_RESOURCES` when the bucket is full, `NO_MEMORY`.
    pub fn reserve(&mut self) -> Result<(), Status> {
        self.reserve_many(1)
    }

    /// Makes room so that the next `n` [`Bucket::insert`]s cannot fail.
    ///
    /// # Errors
    /// `NO_RESOURCES` when the bucket cannot hold `n` more, `NO_MEMORY`.
    pub fn reserve_many(&mut self, n: usize) -> Result<(), Status> {
        let wanted = self.entries.len() + n;
        if wanted > BUCKET_CAPACITY {
            return Err(Status::NO_RESOURCES);
        }
        if self.entries.capacity() < wanted {
            let len = self.entries.len();
            self.entries
                .try_reserve_exact(grown_capacity(len, n) - len)?;
        }
        let index_len = index_len(wanted);
        if self.slots().len() < index_len {
            let mut index = Vec::new();
            index.try_reserve_exact(index_len)?;
            index.resize(index_len, 0u32);
            // Length equals capacity: no reallocation.
            let mut index = index.into_boxed_slice();
            // Growing keeps positions distinct: equal low bits under the
            // larger mask imply equal low bits under the smaller one.
            for (pos, entry) in self.entries.iter().enumerate() {
                index[entry.generation() as usize & (index_len - 1)] = pos as u32 + 1;
            }
            self.index = Some(index);
        }
        Ok(())
    }

    /// Stores the entry `make` builds for a fresh generation and returns the
    /// generation. Call [`Bucket::reserve`] first.
    pub fn insert(&mut self, make: impl FnOnce(u32) -> T) -> u32 {
        debug_assert!(self.entries.len() < self.entries.capacity());
        debug_assert!(self.slots().len() * 7 >= 8 * (self.entries.len() + 1));
        let mask = self.slots().len() - 1;
        let mut generation = self.next;
        // The index is at most seven eighths full, so this ends quickly.
        while self.slots_mut()[generation as usize & mask] != 0 {
            generation = next_generation(generation);
        }
        self.next = next_generation(generation);
        let entry = make(generation);
        debug_assert_eq!(entry.generation(), generation);
        self.entries.push(entry);
        self.slots_mut()[generation as usize & mask] = self.entries.len() as u32;
        generation
    }

    /// Removes the entry of `generation` and keeps the room it took, so that
    /// [`Bucket::put_back`] cannot fail (a transfer that may have to undo
    /// itself).
    pub fn take(&mut self, generation: u32) -> Option<T> {
        let pos = self.position(generation)?;
        let mask = self.slots().len() - 1;
        self.slots_mut()[generation as usize & mask] = 0;
        let value = self.entries.swap_remove(pos);
        if let Some(moved) = self.entries.get(pos).map(Slot::generation) {
            self.slots_mut()[moved as usize & mask] = pos as u32 + 1;
        }
        Some(value)
    }

    /// Puts back an entry [`Bucket::take`] removed, under its old
    /// generation (which nothing has reused: the caller held the bucket in
    /// between).
    pub fn put_back(&mut self, entry: T) {
        let generation = entry.generation();
        debug_assert!(self.get(generation).is_none(), "generation in use");
        debug_assert!(
            self.entries.len() < self.entries.capacity(),
            "room was kept"
        );
        let mask = self.slots().len() - 1;
        self.entries.push(entry);
        self.slots_mut()[generation as usize & mask] = self.entries.len() as u32;
    }

    /// Removes the entry of `generation`.
    pub fn remove(&mut self, generation: u32) -> Option<T> {
        let pos = self.position(generation)?;
        let mask = self.slots().len() - 1;
        self.slots_mut()[generation as usize & mask] = 0;
        let value = self.entries.swap_remove(pos);
        if let Some(moved) = self.entries.get(pos).map(Slot::generation) {
            self.slots_mut()[moved as usize & mask] = pos as u32 + 1;
        }
        if self.entries.is_empty() && self.entries.capacity() > 8 {
            self.entries = Vec::new();
            self.index = None;
        }
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct E(u32, u32);
    impl Slot for E {
        fn generation(&self) -> u32 {
            self.0
        }
    }

    fn insert(b: &mut Bucket<E>, v: u32) -> u32 {
        b.reserve().unwrap();
        b.insert(|g| E(g, v))
    }

    #[test]
    fn values_are_positive_and_round_trip() {
        for bucket in [0, 1, BUCKETS - 1] {
            for generation in [1, 2, GENERATION_MASK] {
                let v = encode(bucket, generation);
                assert!(v > 0);
                assert_eq!(decode(v), Some((bucket, generation)));
            }
        }
        assert_eq!(decode(0), None);
        assert_eq!(decode(-5), None);
        assert_eq!(decode(5), None, "generation 0 is never handed out");
    }

    #[test]
    fn stale_generations_find_nothing() {
        let mut b = Bucket::new();
        let g1 = insert(&mut b, 1);
        assert_eq!(b.remove(g1), Some(E(g1, 1)));
        let g2 = insert(&mut b, 2);
        assert_ne!(g1, g2);
        assert_eq!(b.get(g1), None);
        assert_eq!(b.get(g2), Some(&E(g2, 2)));
    }

    #[test]
    fn a_value_recurs_only_after_the_generation_wraps() {
        let mut b = Bucket::new();
        let first = insert(&mut b, 0);
        b.remove(first);
        let mut seen = 1u32;
        loop {
            let g = insert(&mut b, seen);
            b.remove(g);
            if g == first {
                break;
            }
            seen += 1;
        }
        assert_eq!(seen, GENERATION_MASK, "{seen} closes before reuse");
    }

    #[test]
    fn many_entries_with_removals_stay_consistent() {
        let mut b = Bucket::new();
        let mut live = alloc::vec::Vec::new();
        for i in 0..1500u32 {
            live.push((insert(&mut b, i), i));
            if i % 3 == 0 {
                let (g, v) = live.swap_remove((i as usize * 7) % live.len());
                assert_eq!(b.remove(g), Some(E(g, v)));
            }
        }
        for (g, v) in &live {
            assert_eq!(b.get(*g), Some(&E(*g, *v)));
        }
        assert_eq!(b.len(), live.len());
    }

    #[test]
    fn reserving_many_makes_room_for_all() {
        let mut b = Bucket::new();
        b.reserve_many(64).unwrap();
        let gens: alloc::vec::Vec<u32> = (0..64).map(|i| b.insert(|g| E(g, i))).collect();
        for (i, g) in gens.iter().enumerate() {
            assert_eq!(b.get(*g), Some(&E(*g, i as u32)));
        }
        for _ in 0..BUCKET_CAPACITY - 64 - 10 {
            insert(&mut b, 0);
        }
        assert_eq!(b.reserve_many(11), Err(Status::NO_RESOURCES));
        assert_eq!(b.reserve_many(10), Ok(()));
    }

    #[test]
    fn taken_entries_go_back_under_their_generation() {
        let mut b = Bucket::new();
        let g1 = insert(&mut b, 1);
        let g2 = insert(&mut b, 2);
        let e1 = b.take(g1).unwrap();
        assert_eq!(b.get(g1), None);
        assert_eq!(b.get(g2), Some(&E(g2, 2)));
        b.put_back(e1);
        assert_eq!(b.get(g1), Some(&E(g1, 1)));
        assert_eq!(b.get(g2), Some(&E(g2, 2)));
    }

    #[test]
    fn a_full_bucket_says_no_resources() {
        let mut b = Bucket::new();
        for i in 0..BUCKET_CAPACITY {
            insert(&mut b, i as u32);
        }
        assert_eq!(b.reserve(), Err(Status::NO_RESOURCES));
    }
}

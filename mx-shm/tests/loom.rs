//! Loom models of the pipe protocol and the biased gate. Under loom the
//! ring is 32 bytes (capacity 16), so a few bytes wrap around it.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mx-shm --test loom --release`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use mx_core::storage::Tally;
use mx_shm::gate::Gate;
use mx_shm::Pipe;

/// Reads up to `most` queued bytes, appending them to `out`.
fn drain(pipe: &Pipe, out: &mut Vec<u8>, most: usize) {
    let mut reader = pipe.reader();
    let queued = reader.queued(true);
    let n = (queued.bytes as usize).min(most);
    if n == 0 {
        return;
    }
    let mut buf = vec![0u8; n];
    reader
        .take(
            0,
            n,
            &mut buf[..],
            Tally {
                payload: n as u32,
                bytes: n as u32,
            },
        )
        .unwrap();
    out.extend(buf);
}

fn write(pipe: &Pipe, data: &[u8]) {
    pipe.writer().push(data, data.len() as u32).unwrap();
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let builder = loom::model::Builder::new();
    // Exhaustive unless LOOM_MAX_PREEMPTIONS bounds it.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    builder.check(move || {
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "loom: {} executions",
        RUNS.swap(0, std::sync::atomic::Ordering::Relaxed)
    );
}

/// A writer and a reader at once, across the ring's end: every byte
/// arrives once, in order, and none is read before it was written.
#[test]
fn writer_and_reader_lose_nothing_across_the_wrap() {
    model(|| {
        let pipe = Arc::new(Pipe::new());
        // Move both counters near the end of the 32-byte ring.
        write(&pipe, &[0u8; 28]);
        drain(&pipe, &mut Vec::new(), 28);
        let writer = {
            let pipe = pipe.clone();
            thread::spawn(move || {
                write(&pipe, &[1, 2, 3]);
                write(&pipe, &[4, 5, 6, 7, 8, 9]);
            })
        };
        let mut got = Vec::new();
        drain(&pipe, &mut got, 2);
        drain(&pipe, &mut got, 8);
        writer.join().unwrap();
        drain(&pipe, &mut got, 9);
        assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(pipe.queued().is_zero());
    });
}

/// Two writers take turns through one gate (one biased, one revoking) while
/// a reader drains: writes stay whole and each writer's stay in order.
#[test]
fn two_writers_share_a_side() {
    model(|| {
        let pipe = Arc::new(Pipe::new());
        write(&pipe, &[]); // nothing: the bias is given at the first entry
        let other = {
            let pipe = pipe.clone();
            thread::spawn(move || write(&pipe, &[7, 7, 7]))
        };
        write(&pipe, &[1, 1]);
        write(&pipe, &[2, 2]);
        other.join().unwrap();
        let mut got = Vec::new();
        drain(&pipe, &mut got, 16);
        let sevens = got.iter().position(|&b| b == 7).unwrap();
        assert_eq!(&got[sevens..sevens + 3], &[7, 7, 7]);
        let mut rest = got.clone();
        rest.drain(sevens..sevens + 3);
        assert_eq!(rest, [1, 1, 2, 2]);
    });
}

/// Clearing (the reading end closing) while a writer writes: no use after
/// free, and the writer's bytes are there whole or not at all.
#[test]
fn clear_races_a_writer() {
    model(|| {
        let pipe = Arc::new(Pipe::new());
        write(&pipe, &[1, 2, 3, 4, 5]);
        let writer = {
            let pipe = pipe.clone();
            thread::spawn(move || write(&pipe, &[6, 7, 8, 9, 10, 11]))
        };
        pipe.clear();
        writer.join().unwrap();
        let mut got = Vec::new();
        drain(&pipe, &mut got, 11);
        assert!(got.is_empty() || got == [6, 7, 8, 9, 10, 11], "{got:?}");
    });
}

/// The gate excludes: its owner entering with plain stores and a second
/// thread revoking the bias never overlap (loom checks the cell's accesses).
#[test]
fn a_gate_excludes_its_owner_and_a_revoker() {
    model(|| {
        let gate = Arc::new(Gate::new(0u32));
        *gate.enter() += 1; // this thread becomes the owner
        assert!(gate.is_biased());
        let other = {
            let gate = gate.clone();
            thread::spawn(move || {
                *gate.enter() += 10;
                *gate.enter() += 10;
            })
        };
        *gate.enter() += 1;
        *gate.enter() += 1;
        other.join().unwrap();
        assert_eq!(*gate.enter(), 23);
        assert!(!gate.is_biased());
    });
}

mod rcu_models {
    use super::model;
    use loom::sync::Arc;
    use loom::thread;
    use mx_shm::handles::Bucket;
    use mx_shm::rcu::{self, Section, Sentinel};

    /// A payload whose drop loom checks every use against.
    #[derive(Debug)]
    struct Thing {
        id: u32,
        sentinel: Sentinel,
    }

    fn insert(bucket: &Bucket<Thing>, id: u32) -> u32 {
        let mut locked = bucket.lock();
        locked.reserve(1).unwrap();
        locked.insert(|g| {
            (
                g,
                id,
                Arc::new(Thing {
                    id,
                    sentinel: Sentinel::new(),
                }),
            )
        })
    }

    /// Looks `generation` up and uses what it finds.
    fn lookup(bucket: &Bucket<Thing>, generation: u32) -> Option<u32> {
        let section = Section::enter().unwrap();
        bucket.get(&section, generation).map(|entry| {
            entry.value().sentinel.check();
            assert_eq!(entry.value().id, entry.data());
            entry.value().id
        })
    }

    /// Removes `generation`, then reclaims everything retired so far: a
    /// grace period, then the tombstones' references dropped.
    fn remove_and_reclaim(bucket: &Bucket<Thing>, generation: u32) {
        {
            let section = Section::enter();
            let removed = bucket.lock().remove(section.as_ref(), generation);
            assert!(removed.is_some());
        }
        let ticket = bucket.ticket();
        rcu::synchronize();
        bucket.reclaim(ticket);
    }

    /// A lookup racing the removal of what it looks up and the reclamation
    /// that follows: it finds the entry and uses a live object, or finds
    /// nothing; the object is never used after it was freed (its sentinel
    /// would race the drop).
    #[test]
    fn lookup_racing_remove_and_reclaim() {
        model(|| {
            let bucket = Arc::new(Bucket::new());
            let g = insert(&bucket, 5);
            let reader = {
                let bucket = bucket.clone();
                thread::spawn(move || lookup(&bucket, g))
            };
            remove_and_reclaim(&bucket, g);
            let found = reader.join().unwrap();
            assert!(found.is_none() || found == Some(5));
            assert_eq!(lookup(&bucket, g), None);
        });
    }

    /// A reader already inside a section when the writer removes and
    /// reclaims: the grace period waits for it.
    #[test]
    fn reclaim_waits_for_a_reader_inside_a_section() {
        model(|| {
            let bucket = Arc::new(Bucket::new());
            let g = insert(&bucket, 3);
            // The reader's record exists before the race (it is not
            // `alone` that saves it).
            assert_eq!(lookup(&bucket, g), Some(3));
            let reader = {
                let bucket = bucket.clone();
                thread::spawn(move || {
                    let section = Section::enter().unwrap();
                    let first = bucket.get(&section, g).map(|e| e.value().id);
                    thread::yield_now();
                    // Still inside: whatever it found is still alive.
                    if let Some(entry) = bucket.get(&section, g) {
                        entry.value().sentinel.check();
                    }
                    first
                })
            };
            remove_and_reclaim(&bucket, g);
            let first = reader.join().unwrap();
            assert!(first.is_none() || first == Some(3));
        });
    }

    /// A lookup racing an insertion that grows the bucket (a new array,
    /// the old one retired) and the reclamation of the old array: the
    /// lookup finds the entry in either array, and never reads a freed one.
    #[test]
    fn lookup_racing_growth_and_reclaim() {
        model(|| {
            let bucket = Arc::new(Bucket::new());
            let g = insert(&bucket, 1);
            let reader = {
                let bucket = bucket.clone();
                thread::spawn(move || lookup(&bucket, g))
            };
            // The first array has room for one: this grows it.
            let h = insert(&bucket, 2);
            let ticket = bucket.ticket();
            rcu::synchronize();
            bucket.reclaim(ticket);
            assert_eq!(reader.join().unwrap(), Some(1));
            assert_eq!(lookup(&bucket, h), Some(2));
        });
    }
}

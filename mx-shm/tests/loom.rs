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

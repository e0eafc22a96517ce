//! Loom models of the pipe protocol (chunks of 4-8 bytes under loom, so a
//! few bytes cross chunk boundaries, recycle chunks and trigger compaction).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mx-pipe --test loom --release`.
#![cfg(loom)]

use loom::sync::Arc;
use loom::thread;
use mx_core::storage::Tally;
use mx_pipe::Pipe;

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

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
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

/// A writer and a reader at once: every byte arrives once, in order.
#[test]
fn writer_and_reader_lose_nothing() {
    model(|| {
        let pipe = Arc::new(Pipe::new());
        let writer = {
            let pipe = pipe.clone();
            thread::spawn(move || {
                pipe.writer().push(&[1u8, 2, 3][..], 3).unwrap();
                pipe.writer().push(&[4u8, 5, 6, 7, 8, 9][..], 6).unwrap();
            })
        };
        let mut got = Vec::new();
        drain(&pipe, &mut got, 2);
        drain(&pipe, &mut got, 8);
        writer.join().unwrap();
        drain(&pipe, &mut got, 9);
        drain(&pipe, &mut got, 9);
        assert_eq!(got, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(pipe.queued().is_zero());
    });
}

/// Clearing (the reading end closing) while a writer writes: no use after
/// free, and nothing left behind.
#[test]
fn clear_races_a_writer() {
    model(|| {
        let pipe = Arc::new(Pipe::new());
        pipe.writer().push(&[1u8, 2, 3, 4, 5][..], 5).unwrap();
        let writer = {
            let pipe = pipe.clone();
            thread::spawn(move || {
                pipe.writer().push(&[6u8, 7, 8, 9, 10, 11][..], 6).unwrap();
            })
        };
        pipe.clear();
        writer.join().unwrap();
        let mut got = Vec::new();
        drain(&pipe, &mut got, 11);
        assert!(got.is_empty() || got == [6, 7, 8, 9, 10, 11], "{got:?}");
    });
}

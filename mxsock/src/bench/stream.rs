//! Workload 1: stream throughput.
//!
//! A writer thread writes 64 KiB at a time; a reader thread reads into a
//! 64 KiB buffer and compares every byte it gets with the pattern the writer
//! wrote (one slice comparison per read, so checking costs about what one
//! more copy would). The writer and the reader are pinned to different CPUs.
//! The figure is payload bytes per second, from the moment both threads are
//! released to the moment the reader has checked the last byte.
//!
//! Reference bounds, measured alongside: one thread copying the same
//! 64 KiB blocks into a 256 KiB ring and out again (the two copies a
//! transfer makes), which gives memcpy's bandwidth on this working set; and
//! the whole transfer, checked the same way, between the same two CPUs
//! through a bare ring of four 64 KiB blocks in shared memory, which gives
//! what copying across CPUs allows.

use std::hint::black_box;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use mx::api::{Socket, SocketOpts};

use super::dgram::backoff;
use super::{interleave, median, Better, Bound, Ctx, Outcome, Row, Target};
use crate::os;

/// Bytes per write (and the reader's buffer size).
pub(crate) const WRITE: usize = 64 * 1024;

/// The pattern's period: a prime, so successive writes start at different
/// phases and a misplaced block cannot compare equal.
pub(crate) const PERIOD: usize = 251;

/// The pattern, long enough to take any `WRITE`-byte window at any phase.
pub(crate) fn pattern() -> Vec<u8> {
    (0..WRITE + PERIOD).map(|i| (i % PERIOD) as u8).collect()
}

/// Write number `block` of the stream: [`WRITE`] bytes of `pattern`.
pub(crate) fn block(pattern: &[u8], block: u64) -> &[u8] {
    let phase = (block * WRITE as u64 % PERIOD as u64) as usize;
    &pattern[phase..phase + WRITE]
}

/// Checks `bytes`, read at `offset` of a stream of `total` bytes, against
/// `pattern` (no bytes at all is an early end).
pub(crate) fn check(pattern: &[u8], offset: u64, total: u64, bytes: &[u8]) -> Outcome<()> {
    let n = bytes.len();
    if n == 0 {
        return Err(format!("stream ended after {offset} of {total} bytes"));
    }
    let phase = (offset % PERIOD as u64) as usize;
    if bytes != &pattern[phase..phase + n] {
        return Err(format!(
            "stream bytes differ in {n} bytes at offset {offset}"
        ));
    }
    Ok(())
}

/// Moves `total` bytes (a multiple of [`WRITE`]) from `write` to `read` on
/// two pinned threads; returns GB/s (10^9 bytes per second).
fn transfer(
    ctx: &Ctx,
    total: u64,
    mut write: impl FnMut(&[u8]) -> Outcome<()> + Send,
    mut read: impl FnMut(&mut [u8]) -> Outcome<usize> + Send,
) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    let pattern = pattern();
    let blocks = total / WRITE as u64;
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Outcome<()> {
            os::pin(writer_cpu)?;
            start.wait();
            for n in 0..blocks {
                write(block(&pattern, n))?;
            }
            Ok(())
        });
        let reader = scope.spawn(|| -> Outcome<f64> {
            os::pin(reader_cpu)?;
            let mut buf = vec![0u8; WRITE];
            let total = blocks * WRITE as u64;
            start.wait();
            let began = Instant::now();
            let mut offset = 0u64;
            while offset < total {
                let n = read(&mut buf)?;
                check(&pattern, offset, total, &buf[..n])?;
                offset += n as u64;
            }
            Ok(total as f64 / began.elapsed().as_secs_f64() / 1e9)
        });
        let rate = reader.join().map_err(|_| "reader panicked")?;
        writer.join().map_err(|_| "writer panicked")??;
        rate
    })
}

/// One run over a Magenta stream socket.
pub(crate) fn magenta(ctx: &Ctx, total: u64) -> Outcome<f64> {
    let (a, b) = Socket::create(SocketOpts::Stream).map_err(|s| format!("socket_create: {s:?}"))?;
    transfer(
        ctx,
        total,
        |bytes| a.send(bytes).map_err(|s| format!("mx write: {s:?}")),
        |buf| b.recv(buf).map_err(|s| format!("mx read: {s:?}")),
    )
}

/// One run over an AF_UNIX `SOCK_STREAM` socketpair.
fn socketpair(ctx: &Ctx, total: u64) -> Outcome<f64> {
    let (a, b) = os::stream_pair().map_err(|e| format!("socketpair: {e}"))?;
    let (a, b) = (UnixStream::from(a), UnixStream::from(b));
    transfer(
        ctx,
        total,
        |bytes| {
            (&a).write_all(bytes)
                .map_err(|e| format!("socketpair write: {e}"))
        },
        |buf| (&b).read(buf).map_err(|e| format!("socketpair read: {e}")),
    )
}

/// The reference: one thread copies `total` bytes in [`WRITE`]-byte blocks
/// into a 256 KiB ring and back out. Returns memcpy's bandwidth in GB/s
/// (bytes copied, counting both copies, per second).
fn memcpy(ctx: &Ctx, total: u64) -> Outcome<f64> {
    let cpu = ctx.cpus.first;
    std::thread::scope(|scope| {
        scope
            .spawn(|| -> Outcome<f64> {
                os::pin(cpu)?;
                let pattern = pattern();
                let mut ring = vec![0u8; 4 * WRITE];
                let mut out = vec![0u8; WRITE];
                let blocks = total / WRITE as u64;
                let began = Instant::now();
                for n in 0..blocks {
                    let slot = (n % 4) as usize * WRITE;
                    ring[slot..slot + WRITE].copy_from_slice(block(&pattern, n));
                    black_box(&mut ring);
                    out.copy_from_slice(&ring[slot..slot + WRITE]);
                    black_box(&mut out);
                }
                Ok(2.0 * (blocks * WRITE as u64) as f64 / began.elapsed().as_secs_f64() / 1e9)
            })
            .join()
            .map_err(|_| "memcpy thread panicked".to_string())?
    })
}

/// Blocks in the reference ring (4 x 64 KiB: what a Magenta socket holds).
const SLOTS: u64 = 4;

/// One run of the two-CPU reference: the same transfer, checked the same
/// way, through a bare ring of [`SLOTS`] blocks in shared memory. Each
/// block sits under its own lock, taken once per 64 KiB (the standard
/// library's; the crates' lock rules are for code loom checks); the
/// counters say which blocks are full, and waiting is spinning.
fn ring(ctx: &Ctx, total: u64) -> Outcome<f64> {
    #[allow(clippy::disallowed_types)]
    type Slot = std::sync::Mutex<Vec<u8>>;
    let slots: Vec<Slot> = (0..SLOTS).map(|_| Slot::new(vec![0u8; WRITE])).collect();
    let head = AtomicU64::new(0);
    let tail = AtomicU64::new(0);
    let (slots, head, tail) = (&slots, &head, &tail);
    let lock = |slot: u64| {
        slots[(slot % SLOTS) as usize]
            .lock()
            .map_err(|_| "ring slot poisoned".to_string())
    };
    transfer(
        ctx,
        total,
        move |bytes| {
            let at = head.load(Ordering::Relaxed);
            let mut polls = 0u32;
            while at - tail.load(Ordering::Acquire) == SLOTS {
                backoff(&mut polls);
            }
            lock(at)?.copy_from_slice(bytes);
            head.store(at + 1, Ordering::Release);
            Ok(())
        },
        move |buf| {
            let at = tail.load(Ordering::Relaxed);
            let mut polls = 0u32;
            while head.load(Ordering::Acquire) == at {
                backoff(&mut polls);
            }
            buf.copy_from_slice(&lock(at)?);
            tail.store(at + 1, Ordering::Release);
            Ok(WRITE)
        },
    )
}

/// Runs the workload; returns its row.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Vec<Row>> {
    let total = ctx.config.stream_bytes.div_ceil(WRITE as u64).max(1) * WRITE as u64;
    let warm = (total / 8).max(WRITE as u64) / WRITE as u64 * WRITE as u64;
    let size = |warmup: bool| if warmup { warm } else { total };
    let samples = interleave(
        ctx,
        "stream",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta(ctx, size(w))),
            ("socketpair", &mut |w| socketpair(ctx, size(w))),
            ("memcpy", &mut |w| memcpy(ctx, size(w))),
            ("shared-memory ring", &mut |w| ring(ctx, size(w))),
        ],
    )?;
    let [mx, sp, copy, bare] = samples;
    let copy = median(&copy);
    let (reader, writer) = ctx.cpus.pair();
    Ok(vec![Row::new(
        "stream",
        "stream throughput, 64 KiB writes",
        "GB/s",
        Better::Higher,
        mx,
        sp,
    )
    .target(Target::at_least(2.0))
    .bound(Bound::new("memcpy/2", copy / 2.0))
    .bound(Bound::new("memcpy", copy))
    .bound(Bound::new("2-CPU ring", median(&bare)))
    .checked(format!(
        "every byte compared with the written pattern, {total} bytes per run"
    ))
    .pinning(format!(
        "writer on CPU {writer}, reader on CPU {reader}"
    ))])
}

//! Workload 4: 1-byte ping-pong round trip.
//!
//! A client thread writes one byte and waits for it to come back; an echo
//! thread reads it and writes it back. The client times every round trip on
//! its own and checks that the byte it gets is the one it sent (it changes
//! every round). Runs twice: client and echo pinned to different CPUs, then
//! both pinned to the same CPU. Stream sockets on both sides (Magenta
//! `MX_SOCKET_STREAM`, AF_UNIX `SOCK_STREAM`), blocking reads and writes.
//! Each run's median and 99th percentile are taken; rows report the median
//! of those over repetitions.
//!
//! Reference bounds, measured alongside: the same exchange through one
//! atomic word. Across CPUs the threads spin on it: that is a bare
//! cache-line round trip, below which no design can go. On one CPU each
//! waiting thread yields the CPU at every poll: that is two `sched_yield`
//! switches per round trip, what a design that never sleeps in the kernel
//! pays. Across CPUs, also through two bare byte rings (one each way, with
//! cached indices): each hop moves two cache lines, the ring's index and
//! its data, which is what a socket built on a ring pays at least.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use mx::api::{Socket, SocketOpts};

use super::dgram::{backoff, Padded};
use super::{interleave, median, percentile, Better, Bound, Ctx, Outcome, Row, Target};
use crate::os;

/// One run's latencies.
#[derive(Clone, Debug)]
struct Latency {
    /// Median round trip, in microseconds.
    median: f64,
    /// 99th percentile, in microseconds.
    p99: f64,
    /// Every round trip, in nanoseconds, sorted.
    times: Vec<u64>,
}

/// Every round trip timed in one placement's repetitions (warm-ups left
/// out), for the `--svg` chart.
#[derive(Clone, Debug)]
pub(crate) struct RoundTrips {
    /// Where the two threads ran: "across CPUs" or "same CPU".
    pub(crate) placement: String,
    /// The reference's name.
    pub(crate) reference: String,
    /// Magenta sockets, nanoseconds, sorted.
    pub(crate) mx: Vec<u64>,
    /// Socketpair, nanoseconds, sorted.
    pub(crate) socketpair: Vec<u64>,
    /// The reference, nanoseconds, sorted.
    pub(crate) bound: Vec<u64>,
}

/// All the samples of some runs, sorted.
fn pooled(runs: &[Latency]) -> Vec<u64> {
    let mut times: Vec<u64> = runs
        .iter()
        .flat_map(|run| run.times.iter().copied())
        .collect();
    times.sort_unstable();
    times
}

/// Runs `rounds` round trips between a client on `client_cpu` and an echo
/// thread on `echo_cpu`. `call` sends a byte and returns the byte that came
/// back; `echo` serves one round trip.
fn pingpong(
    client_cpu: usize,
    echo_cpu: usize,
    rounds: u64,
    mut call: impl FnMut(u8) -> Outcome<u8> + Send,
    mut echo: impl FnMut() -> Outcome<()> + Send,
) -> Outcome<Latency> {
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let echoer = scope.spawn(|| -> Outcome<()> {
            os::pin(echo_cpu)?;
            start.wait();
            for _ in 0..rounds {
                echo()?;
            }
            Ok(())
        });
        let client = scope.spawn(|| -> Outcome<Vec<u64>> {
            os::pin(client_cpu)?;
            start.wait();
            timed_rounds(rounds, &mut call)
        });
        let times = client.join().map_err(|_| "client panicked")?;
        echoer.join().map_err(|_| "echo thread panicked")??;
        let times = times?;
        Ok(Latency {
            median: percentile(&times, 50.0) as f64 / 1e3,
            p99: percentile(&times, 99.0) as f64 / 1e3,
            times,
        })
    })
}

/// Times `rounds` round trips with `call`, which sends a byte and returns
/// the byte echoed back (checked); nanoseconds each, sorted.
pub(crate) fn timed_rounds(
    rounds: u64,
    mut call: impl FnMut(u8) -> Outcome<u8>,
) -> Outcome<Vec<u64>> {
    let mut times = Vec::with_capacity(rounds as usize);
    for round in 0..rounds {
        let sent = round as u8;
        let began = Instant::now();
        let got = call(sent)?;
        times.push(began.elapsed().as_nanos() as u64);
        if got != sent {
            return Err(format!("round {round}: sent {sent}, got {got} back"));
        }
    }
    times.sort_unstable();
    Ok(times)
}

/// One run over a Magenta stream socket.
fn magenta(cpus: (usize, usize), rounds: u64) -> Outcome<Latency> {
    let (a, b) = Socket::create(SocketOpts::Stream).map_err(|s| format!("socket_create: {s:?}"))?;
    let mx = |s: mx::Status| format!("mx: {s:?}");
    pingpong(
        cpus.0,
        cpus.1,
        rounds,
        |byte| {
            a.send(&[byte]).map_err(mx)?;
            let mut back = [0u8; 1];
            match a.recv(&mut back).map_err(mx)? {
                1 => Ok(back[0]),
                n => Err(format!("read {n} bytes")),
            }
        },
        || {
            let mut byte = [0u8; 1];
            match b.recv(&mut byte).map_err(mx)? {
                1 => b.send(&byte).map_err(mx),
                n => Err(format!("read {n} bytes")),
            }
        },
    )
}

/// One run over an AF_UNIX `SOCK_STREAM` socketpair.
fn socketpair(cpus: (usize, usize), rounds: u64) -> Outcome<Latency> {
    let (a, b) = os::stream_pair().map_err(|e| format!("socketpair: {e}"))?;
    let (a, b) = (UnixStream::from(a), UnixStream::from(b));
    let io = |e: std::io::Error| format!("socketpair: {e}");
    pingpong(
        cpus.0,
        cpus.1,
        rounds,
        |byte| {
            (&a).write_all(&[byte]).map_err(io)?;
            let mut back = [0u8; 1];
            (&a).read_exact(&mut back).map_err(io)?;
            Ok(back[0])
        },
        || {
            let mut byte = [0u8; 1];
            (&b).read_exact(&mut byte).map_err(io)?;
            (&b).write_all(&byte).map_err(io)
        },
    )
}

/// One run of the reference: the byte goes through one atomic word, as
/// `turn << 8 | byte`; odd turns are requests, even turns replies.
fn bare(cpus: (usize, usize), rounds: u64, yield_every_poll: bool) -> Outcome<Latency> {
    let ball = AtomicU64::new(0);
    let wait_for = |turn: u64| -> u64 {
        let mut polls = 0u32;
        loop {
            let word = ball.load(Ordering::Acquire);
            if word >> 8 == turn {
                return word;
            }
            if yield_every_poll {
                std::thread::yield_now();
            } else {
                backoff(&mut polls);
            }
        }
    };
    let mut client_turn = 0u64;
    let mut echo_turn = 0u64;
    pingpong(
        cpus.0,
        cpus.1,
        rounds,
        |byte| {
            client_turn += 2;
            ball.store((client_turn - 1) << 8 | u64::from(byte), Ordering::Release);
            Ok(wait_for(client_turn) as u8)
        },
        || {
            echo_turn += 2;
            let word = wait_for(echo_turn - 1);
            ball.store(echo_turn << 8 | (word & 0xff), Ordering::Release);
            Ok(())
        },
    )
}

/// The name of the ring reference.
const RING_BOUND: &str = "ring round trip";

/// Bytes in each ring of the ring reference.
const RING_BYTES: usize = 4096;

/// One direction of the ring reference: bytes, and each side's index on its
/// own cache lines.
#[derive(Debug)]
struct ByteRing {
    /// Byte `i` of the stream is at `i % RING_BYTES`.
    bytes: Box<[AtomicU8]>,
    /// Bytes published: written by the writer only.
    head: Padded,
    /// Bytes consumed: written by the reader only.
    tail: Padded,
}

impl ByteRing {
    fn new() -> ByteRing {
        ByteRing {
            bytes: (0..RING_BYTES).map(|_| AtomicU8::new(0)).collect(),
            head: Padded::default(),
            tail: Padded::default(),
        }
    }
}

/// The writer of a [`ByteRing`], with its cached view of the reader's index.
#[derive(Debug)]
struct RingWriter<'a> {
    ring: &'a ByteRing,
    head: u64,
    tail_seen: u64,
}

impl RingWriter<'_> {
    fn push(&mut self, byte: u8) {
        let mut polls = 0u32;
        while self.head - self.tail_seen == RING_BYTES as u64 {
            self.tail_seen = self.ring.tail.0.load(Ordering::Acquire);
            if self.head - self.tail_seen == RING_BYTES as u64 {
                backoff(&mut polls);
            }
        }
        self.ring.bytes[(self.head % RING_BYTES as u64) as usize].store(byte, Ordering::Relaxed);
        self.head += 1;
        self.ring.head.0.store(self.head, Ordering::Release);
    }
}

/// The reader of a [`ByteRing`], with its cached view of the writer's index.
#[derive(Debug)]
struct RingReader<'a> {
    ring: &'a ByteRing,
    tail: u64,
    head_seen: u64,
}

impl RingReader<'_> {
    fn pop(&mut self) -> u8 {
        let mut polls = 0u32;
        while self.tail == self.head_seen {
            self.head_seen = self.ring.head.0.load(Ordering::Acquire);
            if self.tail == self.head_seen {
                backoff(&mut polls);
            }
        }
        let byte =
            self.ring.bytes[(self.tail % RING_BYTES as u64) as usize].load(Ordering::Relaxed);
        self.tail += 1;
        self.ring.tail.0.store(self.tail, Ordering::Release);
        byte
    }
}

/// One run of the ring reference: the byte goes out through one ring and
/// comes back through the other.
fn rings(cpus: (usize, usize), rounds: u64) -> Outcome<Latency> {
    let (out, back) = (ByteRing::new(), ByteRing::new());
    let writer = |ring| RingWriter {
        ring,
        head: 0,
        tail_seen: 0,
    };
    let reader = |ring| RingReader {
        ring,
        tail: 0,
        head_seen: 0,
    };
    let (mut client_tx, mut client_rx) = (writer(&out), reader(&back));
    let (mut echo_rx, mut echo_tx) = (reader(&out), writer(&back));
    pingpong(
        cpus.0,
        cpus.1,
        rounds,
        |byte| {
            client_tx.push(byte);
            Ok(client_rx.pop())
        },
        || {
            echo_tx.push(echo_rx.pop());
            Ok(())
        },
    )
}

/// Runs one placement; returns its two rows and its samples.
fn placement(
    ctx: &Ctx,
    id: &str,
    label: &str,
    cpus: (usize, usize),
    target: f64,
    same_cpu: bool,
) -> Outcome<(Vec<Row>, RoundTrips)> {
    let rounds = ctx.config.rounds.max(1);
    let size = |warmup: bool| if warmup { (rounds / 8).max(1) } else { rounds };
    let bound_name = if same_cpu {
        "yield ping-pong"
    } else {
        "cache-line ping-pong"
    };
    let workload = format!("round trip, {label}");
    let (mx, sp, floor, ring) = if same_cpu {
        // Two spinning rings on one CPU measure the scheduler's time slice.
        let [mx, sp, floor] = interleave(
            ctx,
            &workload,
            ctx.config.reps,
            &mut [
                ("mx", &mut |w| magenta(cpus, size(w))),
                ("socketpair", &mut |w| socketpair(cpus, size(w))),
                (bound_name, &mut |w| bare(cpus, size(w), same_cpu)),
            ],
        )?;
        (mx, sp, floor, None)
    } else {
        let [mx, sp, floor, ring] = interleave(
            ctx,
            &workload,
            ctx.config.reps,
            &mut [
                ("mx", &mut |w| magenta(cpus, size(w))),
                ("socketpair", &mut |w| socketpair(cpus, size(w))),
                (bound_name, &mut |w| bare(cpus, size(w), same_cpu)),
                (RING_BOUND, &mut |w| rings(cpus, size(w))),
            ],
        )?;
        (mx, sp, floor, Some(ring))
    };
    let medians = |samples: &[Latency]| samples.iter().map(|l| l.median).collect::<Vec<_>>();
    let p99s = |samples: &[Latency]| samples.iter().map(|l| l.p99).collect::<Vec<_>>();
    let checked = format!("the byte of every round trip, {rounds} per run");
    let pinning = format!("client on CPU {}, echo on CPU {}", cpus.0, cpus.1);
    let samples = RoundTrips {
        placement: label.to_string(),
        reference: bound_name.to_string(),
        mx: pooled(&mx),
        socketpair: pooled(&sp),
        bound: pooled(&floor),
    };
    let mut median_row = Row::new(
        &format!("{id}_median"),
        &format!("round trip, 1 byte, {label}, median"),
        "us",
        Better::Lower,
        medians(&mx),
        medians(&sp),
    )
    .target(Target::at_most(target))
    .bound(Bound::new(bound_name, median(&medians(&floor))))
    .checked(checked.clone())
    .pinning(pinning.clone());
    let mut p99_row = Row::new(
        &format!("{id}_p99"),
        &format!("round trip, 1 byte, {label}, p99"),
        "us",
        Better::Lower,
        p99s(&mx),
        p99s(&sp),
    )
    .bound(Bound::new(bound_name, median(&p99s(&floor))))
    .checked(checked)
    .pinning(pinning);
    if let Some(ring) = &ring {
        median_row = median_row.bound(Bound::new(RING_BOUND, median(&medians(ring))));
        p99_row = p99_row.bound(Bound::new(RING_BOUND, median(&p99s(ring))));
    }
    let rows = vec![median_row, p99_row];
    Ok((rows, samples))
}

/// Runs the workload; returns its rows, and pushes every placement's
/// samples onto `samples`.
pub(crate) fn run(
    ctx: &Ctx,
    notes: &mut Vec<String>,
    samples: &mut Vec<RoundTrips>,
) -> Outcome<Vec<Row>> {
    let mut rows = Vec::new();
    match ctx.cpus.second {
        Some(second) => {
            let (these, times) = placement(
                ctx,
                "rtt_cross_cpu",
                "across CPUs",
                (ctx.cpus.first, second),
                0.2,
                false,
            )?;
            rows.extend(these);
            samples.push(times);
        }
        None => notes.push("only one CPU is available: no cross-CPU round trip".to_string()),
    }
    let (these, times) = placement(
        ctx,
        "rtt_same_cpu",
        "same CPU",
        (ctx.cpus.first, ctx.cpus.first),
        0.67,
        true,
    )?;
    rows.extend(these);
    samples.push(times);
    Ok(rows)
}

//! Workload 3: 64-byte datagram message rate.
//!
//! A writer thread sends 64-byte datagrams, each starting with its sequence
//! number; a reader thread receives them into a 128-byte buffer and checks
//! the length, the sequence number and the other 56 bytes of every one.
//! Magenta datagram sockets on one side, AF_UNIX `SOCK_SEQPACKET` (the
//! socketpair type that keeps message boundaries and order) on the other.
//! Writer and reader are pinned to different CPUs.
//!
//! Two references, measured alongside with the same messages, the same
//! checks and the same two pinned CPUs:
//! - the *cached-index ring*, the best known design for handing messages
//!   from one CPU to another: a bare single-producer single-consumer ring
//!   in shared memory, each side's index alone on its cache line, each side
//!   keeping a private copy of the other's index and reloading it only when
//!   the ring looks full (writer) or when everything it saw is consumed
//!   (reader); waiting is spinning. It has no handles, no rights, no
//!   signals and never sleeps: what the hardware allows for 64-byte
//!   messages published one at a time. The cached indices are those of
//!   MCRingBuffer (Lee, Bu and Chandranmenon, 2009), a refinement of
//!   Lamport's ring; the layout is that of Rigtorp's `SPSCQueue`.
//! - `crossbeam-channel`'s bounded channel of `[u8; 64]` messages: not a
//!   floor but what a Rust program would use instead for messages between
//!   two threads of one process (it sleeps when there is nothing to do, as
//!   Magenta sockets do).

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use mx::api::{Socket, SocketOpts};
use rustix::net::{RecvFlags, SendFlags};

use super::{interleave, median, Better, Bound, Ctx, Outcome, Row, Target};
use crate::os;

/// Bytes per message.
pub(crate) const MSG: usize = 64;

/// Every message's bytes after its 8-byte sequence number.
pub(crate) const FILLER: [u8; MSG] = {
    let mut bytes = [0u8; MSG];
    let mut i = 0;
    while i < MSG {
        bytes[i] = (i as u8).wrapping_mul(7).wrapping_add(3);
        i += 1;
    }
    bytes
};

/// Checks one received message.
pub(crate) fn check(seq: u64, message: &[u8]) -> Outcome<()> {
    if message.len() != MSG {
        return Err(format!(
            "message {seq} is {} bytes, not {MSG}",
            message.len()
        ));
    }
    if message[..8] != seq.to_le_bytes() {
        let got = u64::from_le_bytes(message[..8].try_into().unwrap_or_default());
        return Err(format!("expected message {seq}, got {got}"));
    }
    if message[8..] != FILLER[8..] {
        return Err(format!("message {seq}: payload differs"));
    }
    Ok(())
}

/// Sends `count` messages from `send` to `recv` on two pinned threads;
/// returns millions of messages per second.
fn flow(
    ctx: &Ctx,
    count: u64,
    mut send: impl FnMut(&[u8]) -> Outcome<()> + Send,
    mut recv: impl FnMut(&mut [u8]) -> Outcome<usize> + Send,
) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Outcome<()> {
            os::pin(writer_cpu)?;
            let mut message = FILLER;
            start.wait();
            for seq in 0..count {
                message[..8].copy_from_slice(&seq.to_le_bytes());
                send(&message)?;
            }
            Ok(())
        });
        let reader = scope.spawn(|| -> Outcome<f64> {
            os::pin(reader_cpu)?;
            let mut buf = [0u8; 2 * MSG];
            start.wait();
            let began = Instant::now();
            for seq in 0..count {
                let n = recv(&mut buf)?;
                check(seq, &buf[..n])?;
            }
            Ok(count as f64 / began.elapsed().as_secs_f64() / 1e6)
        });
        let rate = reader.join().map_err(|_| "reader panicked")?;
        writer.join().map_err(|_| "writer panicked")??;
        rate
    })
}

/// One run over a Magenta datagram socket.
pub(crate) fn magenta(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) =
        Socket::create(SocketOpts::Datagram).map_err(|s| format!("socket_create: {s:?}"))?;
    flow(
        ctx,
        count,
        |message| a.send(message).map_err(|s| format!("mx write: {s:?}")),
        |buf| b.recv(buf).map_err(|s| format!("mx read: {s:?}")),
    )
}

/// One run over an AF_UNIX `SOCK_SEQPACKET` socketpair.
fn socketpair(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) = os::seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    flow(
        ctx,
        count,
        |message| match rustix::net::send(&a, message, SendFlags::empty()) {
            Ok(n) if n == message.len() => Ok(()),
            Ok(n) => Err(format!("socketpair sent {n} of {} bytes", message.len())),
            Err(e) => Err(format!("socketpair send: {e}")),
        },
        |buf| {
            rustix::net::recv(&b, buf, RecvFlags::empty())
                .map(|(n, _)| n)
                .map_err(|e| format!("socketpair recv: {e}"))
        },
    )
}

/// Slots in the reference ring and in the channel (about the 4,016
/// 64-byte messages a Magenta socket holds).
const RING: usize = 4096;

/// A value alone on its cache lines (two of them: x86 prefetches lines in
/// pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Padded(pub(crate) AtomicU64);

/// One message slot: eight words on one cache line of its own.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot([AtomicU64; MSG / 8]);

/// The reference ring: message slots, and each side's index on its own
/// cache lines. The cached copies of the other side's index are not here:
/// each thread keeps its own, in its own closure.
#[derive(Debug)]
struct Ring {
    /// Message slots; slot `i % RING` holds message `i`.
    slots: Vec<Slot>,
    /// Messages published: written by the writer only.
    head: Padded,
    /// Messages consumed: written by the reader only.
    tail: Padded,
}

/// One poll of a spinning wait: a pause, and now and then the CPU given up
/// (should both threads share one CPU).
pub(crate) fn backoff(polls: &mut u32) {
    *polls = polls.wrapping_add(1);
    if polls.is_multiple_of(1024) {
        std::thread::yield_now();
    } else {
        spin_loop();
    }
}

/// One run of the cached-index ring.
///
/// The writer owns `head` and keeps `tail_seen`, its last reading of the
/// reader's index: it reloads it only when `head - tail_seen` says the ring
/// is full. The reader owns `tail` and keeps `head_seen`: it reloads the
/// writer's index only when it has consumed every message it knew of. So in
/// a steady flow each side touches the other's cache line about once per
/// batch of messages, not once per message. Each message is published with
/// one release store of the writer's index (a plain store on x86), and the
/// slot is released to the writer the same way.
fn ring(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let ring = Ring {
        slots: (0..RING).map(|_| Slot::default()).collect(),
        head: Padded::default(),
        tail: Padded::default(),
    };
    let ring = &ring;
    let (mut head, mut tail_seen) = (0u64, 0u64);
    let (mut tail, mut head_seen) = (0u64, 0u64);
    flow(
        ctx,
        count,
        move |message| {
            let message: &[u8; MSG] = message.try_into().map_err(|_| "bad size")?;
            let mut polls = 0u32;
            while head - tail_seen == RING as u64 {
                tail_seen = ring.tail.0.load(Ordering::Acquire);
                if head - tail_seen == RING as u64 {
                    backoff(&mut polls);
                }
            }
            let slot = &ring.slots[(head % RING as u64) as usize];
            for (cell, word) in slot.0.iter().zip(message.chunks_exact(8)) {
                let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
                cell.store(word, Ordering::Relaxed);
            }
            head += 1;
            ring.head.0.store(head, Ordering::Release);
            Ok(())
        },
        move |buf| {
            let mut polls = 0u32;
            while tail == head_seen {
                head_seen = ring.head.0.load(Ordering::Acquire);
                if tail == head_seen {
                    backoff(&mut polls);
                }
            }
            let slot = &ring.slots[(tail % RING as u64) as usize];
            for (cell, bytes) in slot.0.iter().zip(buf.chunks_exact_mut(8)) {
                bytes.copy_from_slice(&cell.load(Ordering::Relaxed).to_le_bytes());
            }
            tail += 1;
            ring.tail.0.store(tail, Ordering::Release);
            Ok(MSG)
        },
    )
}

/// One run over a bounded `crossbeam-channel` of [`RING`] messages.
fn channel(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (tx, rx) = crossbeam_channel::bounded::<[u8; MSG]>(RING);
    flow(
        ctx,
        count,
        move |message| {
            let message: [u8; MSG] = message.try_into().map_err(|_| "bad size")?;
            tx.send(message)
                .map_err(|_| "crossbeam-channel: receiver gone".to_string())
        },
        move |buf| {
            let message = rx
                .recv()
                .map_err(|_| "crossbeam-channel: sender gone".to_string())?;
            buf[..MSG].copy_from_slice(&message);
            Ok(MSG)
        },
    )
}

/// Runs the workload; returns its row.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Vec<Row>> {
    let count = ctx.config.datagrams.max(1);
    let size = |warmup: bool| if warmup { (count / 8).max(1) } else { count };
    let [mx, sp, bare, crossbeam] = interleave(
        ctx,
        "datagram",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta(ctx, size(w))),
            ("socketpair", &mut |w| socketpair(ctx, size(w))),
            ("cached-index ring", &mut |w| ring(ctx, size(w))),
            ("crossbeam-channel", &mut |w| channel(ctx, size(w))),
        ],
    )?;
    let (reader, writer) = ctx.cpus.pair();
    Ok(vec![Row::new(
        "datagram",
        "datagram rate, 64-byte messages",
        "M msg/s",
        Better::Higher,
        mx,
        sp,
    )
    .target(Target::at_least(10.0))
    .bound(Bound::new("cached-index ring", median(&bare)))
    .bound(Bound::new("crossbeam-channel", median(&crossbeam)))
    .checked(format!(
        "length, sequence number and payload of every message, {count} per run"
    ))
    .pinning(format!(
        "writer on CPU {writer}, reader on CPU {reader}"
    ))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Cpus;

    #[test]
    fn check_accepts_the_message_and_rejects_others() {
        let mut message = FILLER;
        message[..8].copy_from_slice(&5u64.to_le_bytes());
        assert!(check(5, &message).is_ok());
        assert!(check(6, &message).is_err());
        assert!(check(5, &message[..63]).is_err());
        message[40] ^= 1;
        assert!(check(5, &message).is_err());
    }

    fn tiny_ctx() -> Ctx {
        Ctx {
            config: crate::bench::tests::tiny_config(),
            cpus: Cpus::from_allowed(&os::allowed_cpus()),
            progress: crate::progress::Progress::Silent,
        }
    }

    #[test]
    fn the_references_deliver_every_message_in_order() {
        let ctx = tiny_ctx();
        // More messages than slots, so both sides wrap around and wait.
        let count = 3 * RING as u64 + 17;
        assert!(ring(&ctx, count).is_ok_and(|rate| rate > 0.0));
        assert!(channel(&ctx, count).is_ok_and(|rate| rate > 0.0));
    }
}

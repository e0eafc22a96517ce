//! Workload 2: 64-byte datagram message rate.
//!
//! A writer thread sends 64-byte datagrams, each starting with its sequence
//! number; a reader thread receives them into a 128-byte buffer and checks
//! the length, the sequence number and the other 56 bytes of every one.
//! Magenta datagram sockets on one side, AF_UNIX `SOCK_SEQPACKET` (the
//! socketpair type that keeps message boundaries and order) on the other.
//! Writer and reader are pinned to different CPUs.
//!
//! The reference bound, measured alongside: the same messages, checked the
//! same way, through a bare single-producer single-consumer ring in shared
//! memory between the same two CPUs (each message published on its own,
//! each side re-reading the other's counter only when the ring looks full
//! or empty, waiting by spinning). It has no handles, no rights, no signals and never
//! sleeps: it is roughly what the hardware allows for handing 64-byte
//! messages from one CPU to the other one at a time.

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
const FILLER: [u8; MSG] = {
    let mut bytes = [0u8; MSG];
    let mut i = 0;
    while i < MSG {
        bytes[i] = (i as u8).wrapping_mul(7).wrapping_add(3);
        i += 1;
    }
    bytes
};

/// Checks one received message.
fn check(seq: u64, message: &[u8]) -> Outcome<()> {
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
fn magenta(ctx: &Ctx, count: u64) -> Outcome<f64> {
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

/// Ring slots for the reference (about what a Magenta socket holds).
const RING: usize = 4096;

/// A value alone on its cache lines.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Padded(AtomicU64);

/// The reference's ring: 64-byte slots of eight words, and two counters.
#[derive(Debug)]
struct Ring {
    /// Message slots.
    slots: Vec<[AtomicU64; MSG / 8]>,
    /// Messages published (written by the producer).
    head: Padded,
    /// Messages consumed (written by the consumer).
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

/// One run of the reference ring.
fn ring(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let ring = Ring {
        slots: (0..RING).map(|_| Default::default()).collect(),
        head: Padded::default(),
        tail: Padded::default(),
    };
    let words = |bytes: &[u8; MSG]| -> [u64; MSG / 8] {
        std::array::from_fn(|i| {
            u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap_or_default())
        })
    };
    let ring = &ring;
    // Each side keeps its last reading of the other's counter and reads it
    // again only when the ring looks full (or empty), as fast rings do.
    let mut tail_seen = 0u64;
    let mut head_seen = 0u64;
    flow(
        ctx,
        count,
        move |message| {
            let message: &[u8; MSG] = message.try_into().map_err(|_| "bad size")?;
            let head = ring.head.0.load(Ordering::Relaxed);
            let mut polls = 0u32;
            while head - tail_seen == RING as u64 {
                tail_seen = ring.tail.0.load(Ordering::Acquire);
                if head - tail_seen == RING as u64 {
                    backoff(&mut polls);
                }
            }
            let slot = &ring.slots[(head % RING as u64) as usize];
            for (cell, word) in slot.iter().zip(words(message)) {
                cell.store(word, Ordering::Relaxed);
            }
            ring.head.0.store(head + 1, Ordering::Release);
            Ok(())
        },
        move |buf| {
            let tail = ring.tail.0.load(Ordering::Relaxed);
            let mut polls = 0u32;
            while head_seen == tail {
                head_seen = ring.head.0.load(Ordering::Acquire);
                if head_seen == tail {
                    backoff(&mut polls);
                }
            }
            let slot = &ring.slots[(tail % RING as u64) as usize];
            for (i, cell) in slot.iter().enumerate() {
                buf[i * 8..i * 8 + 8].copy_from_slice(&cell.load(Ordering::Relaxed).to_le_bytes());
            }
            ring.tail.0.store(tail + 1, Ordering::Release);
            Ok(MSG)
        },
    )
}

/// Runs the workload; returns its row.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Vec<Row>> {
    let count = ctx.config.datagrams.max(1);
    let size = |warmup: bool| if warmup { (count / 8).max(1) } else { count };
    let [mx, sp, bare] = interleave(
        ctx,
        "datagram",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta(ctx, size(w))),
            ("socketpair", &mut |w| socketpair(ctx, size(w))),
            ("shared-memory ring", &mut |w| ring(ctx, size(w))),
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
    .bound(Bound::new("spsc ring", median(&bare)))
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
}

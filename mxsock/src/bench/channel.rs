//! Workload: channel message rate, 64-byte messages, without and with a
//! handle in each.
//!
//! A writer thread sends 64-byte messages, each starting with its sequence
//! number; a reader thread receives them and checks the length, the
//! sequence number and the other 56 bytes of every one. Writer and reader
//! are pinned to different CPUs.
//!
//! - Plain messages: Magenta channels against an AF_UNIX `SOCK_SEQPACKET`
//!   socketpair (messages, in order, whole).
//! - One handle per message: the writer duplicates an event and sends the
//!   duplicate in each message, the reader takes it out and closes it;
//!   against `SOCK_SEQPACKET` with one descriptor passed by `SCM_RIGHTS`
//!   (the kernel gives the reader a new descriptor, which it closes). The
//!   reader checks that every message brought exactly one handle (one
//!   descriptor) and that it works.
//!
//! A channel's queue has no length limit, so both sides keep the writer at
//! most [`WINDOW`] messages ahead of the reader (the socketpair's own buffer
//! holds fewer): the same flow control on both sides, so neither measures
//! a queue growing without bound.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;
use std::time::Instant;

use mx::api::{AsHandleRef, Channel, Event, HandleBased, MessageBuf};
use mx::Rights;
use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::{interleave, Better, Ctx, Outcome, Row, Target};
use crate::os;

/// Bytes per message.
const MSG: usize = 64;

/// How far the writer may run ahead of the reader, in messages.
const WINDOW: u64 = 1024;

/// Every message's bytes after its 8-byte sequence number.
const FILLER: [u8; MSG] = {
    let mut bytes = [0u8; MSG];
    let mut i = 0;
    while i < MSG {
        bytes[i] = (i as u8).wrapping_mul(11).wrapping_add(5);
        i += 1;
    }
    bytes
};

/// Checks one received message.
fn check(seq: u64, message: &[u8]) -> Outcome<()> {
    if message.len() != MSG {
        return Err(format!("message {seq} is {} bytes", message.len()));
    }
    if message[..8] != seq.to_le_bytes() || message[8..] != FILLER[8..] {
        return Err(format!("message {seq} differs"));
    }
    Ok(())
}

/// Sends `count` messages from `send` to `recv` on two pinned threads, the
/// writer at most [`WINDOW`] ahead; returns millions of messages per second.
fn flow(
    ctx: &Ctx,
    count: u64,
    mut send: impl FnMut(&[u8]) -> Outcome<()> + Send,
    mut recv: impl FnMut(&mut [u8]) -> Outcome<usize> + Send,
) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    let start = Barrier::new(2);
    let received = AtomicU64::new(0);
    std::thread::scope(|scope| {
        let writer = scope.spawn(|| -> Outcome<()> {
            os::pin(writer_cpu)?;
            let mut message = FILLER;
            start.wait();
            for seq in 0..count {
                while seq >= received.load(Ordering::Acquire) + WINDOW {
                    std::thread::yield_now();
                }
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
                if seq % 64 == 63 {
                    received.store(seq + 1, Ordering::Release);
                }
            }
            received.store(count, Ordering::Release);
            Ok(count as f64 / began.elapsed().as_secs_f64() / 1e6)
        });
        let rate = reader.join().map_err(|_| "reader panicked")?;
        writer.join().map_err(|_| "writer panicked")??;
        rate
    })
}

/// Plain messages over a Magenta channel.
fn magenta(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) = Channel::create().map_err(|s| format!("channel_create: {s:?}"))?;
    let mut buf = MessageBuf::with_max_capacity().map_err(|s| format!("{s:?}"))?;
    flow(
        ctx,
        count,
        |message| {
            a.write(message, &mut Vec::new())
                .map_err(|s| format!("mx write: {s:?}"))
        },
        |out| {
            b.recv(&mut buf).map_err(|s| format!("mx read: {s:?}"))?;
            if buf.n_handles() != 0 {
                return Err("a plain message brought a handle".into());
            }
            let n = buf.bytes().len().min(out.len());
            out[..n].copy_from_slice(&buf.bytes()[..n]);
            Ok(n)
        },
    )
}

/// Messages carrying one handle each over a Magenta channel.
fn magenta_with_handle(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) = Channel::create().map_err(|s| format!("channel_create: {s:?}"))?;
    let event = Event::create().map_err(|s| format!("event_create: {s:?}"))?;
    let koid = event.koid().map_err(|s| format!("{s:?}"))?;
    let mut buf = MessageBuf::with_max_capacity().map_err(|s| format!("{s:?}"))?;
    let mut handles = Vec::with_capacity(1);
    flow(
        ctx,
        count,
        |message| {
            let dup = event
                .duplicate_handle(Rights::SAME_RIGHTS)
                .map_err(|s| format!("duplicate: {s:?}"))?;
            handles.push(dup.into_handle());
            a.write(message, &mut handles)
                .map_err(|s| format!("mx write: {s:?}"))
        },
        |out| {
            b.recv(&mut buf).map_err(|s| format!("mx read: {s:?}"))?;
            if buf.n_handles() != 1 {
                return Err(format!("a message brought {} handles", buf.n_handles()));
            }
            let handle = buf.take_handle(0).ok_or("no handle")?;
            if handle.koid() != Ok(koid) {
                return Err("the handle names another object".into());
            }
            drop(handle);
            let n = buf.bytes().len().min(out.len());
            out[..n].copy_from_slice(&buf.bytes()[..n]);
            Ok(n)
        },
    )
}

/// Plain messages over `SOCK_SEQPACKET`.
fn socketpair(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) = os::seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    flow(
        ctx,
        count,
        |message| match rustix::net::send(&a, message, SendFlags::empty()) {
            Ok(n) if n == message.len() => Ok(()),
            Ok(n) => Err(format!("sent {n} of {} bytes", message.len())),
            Err(e) => Err(format!("send: {e}")),
        },
        |buf| {
            rustix::net::recv(&b, buf, RecvFlags::empty())
                .map(|(n, _)| n)
                .map_err(|e| format!("recv: {e}"))
        },
    )
}

/// Messages carrying one descriptor each (`SCM_RIGHTS`) over
/// `SOCK_SEQPACKET`.
fn socketpair_with_fd(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (a, b) = os::seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    let passed: OwnedFd = rustix::event::eventfd(0, rustix::event::EventfdFlags::CLOEXEC)
        .map_err(|e| format!("eventfd: {e}"))?;
    let mut send_space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut recv_space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    flow(
        ctx,
        count,
        |message| {
            let fds = [passed.as_fd()];
            let mut control = SendAncillaryBuffer::new(&mut send_space);
            if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
                return Err("no room for SCM_RIGHTS".into());
            }
            match rustix::net::sendmsg(
                &a,
                &[IoSlice::new(message)],
                &mut control,
                SendFlags::empty(),
            ) {
                Ok(n) if n == message.len() => Ok(()),
                Ok(n) => Err(format!("sent {n} of {} bytes", message.len())),
                Err(e) => Err(format!("sendmsg: {e}")),
            }
        },
        |buf| {
            let mut control = RecvAncillaryBuffer::new(&mut recv_space);
            let got = rustix::net::recvmsg(
                &b,
                &mut [std::io::IoSliceMut::new(buf)],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            )
            .map_err(|e| format!("recvmsg: {e}"))?;
            let mut fds = 0;
            for message in control.drain() {
                if let RecvAncillaryMessage::ScmRights(received) = message {
                    for fd in received {
                        // It works: an eventfd can be read (0, not ready).
                        rustix::io::fcntl_getfd(&fd).map_err(|e| format!("fd: {e}"))?;
                        fds += 1;
                    }
                }
            }
            if fds != 1 {
                return Err(format!("a message brought {fds} descriptors"));
            }
            Ok(got.bytes)
        },
    )
}

/// Runs the workload.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Vec<Row>> {
    let count = ctx.config.channel_messages.max(1);
    let size = |warmup: bool| if warmup { (count / 8).max(1) } else { count };
    let [mx, sp] = interleave(
        ctx,
        "channel",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta(ctx, size(w))),
            ("socketpair", &mut |w| socketpair(ctx, size(w))),
        ],
    )?;
    let [mx_h, sp_h] = interleave(
        ctx,
        "channel with handles",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta_with_handle(ctx, size(w))),
            ("socketpair", &mut |w| socketpair_with_fd(ctx, size(w))),
        ],
    )?;
    let (reader, writer) = ctx.cpus.pair();
    let pinning = format!("writer on CPU {writer}, reader on CPU {reader}");
    Ok(vec![
        Row::new(
            "channel",
            "channel messages, 64 bytes (vs SOCK_SEQPACKET)",
            "M msg/s",
            Better::Higher,
            mx,
            sp,
        )
        .target(Target::at_least(5.0))
        .checked(format!(
            "length, sequence number and payload of every message, {count} per run"
        ))
        .pinning(pinning.clone()),
        Row::new(
            "channel_handle",
            "channel messages with one handle (vs SCM_RIGHTS)",
            "M msg/s",
            Better::Higher,
            mx_h,
            sp_h,
        )
        .target(Target::at_least(10.0))
        .checked(format!(
            "every message's bytes, and exactly one working handle (descriptor) in each, \
             {count} per run"
        ))
        .pinning(pinning),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::Cpus;

    fn tiny_ctx() -> Ctx {
        Ctx {
            config: crate::bench::tests::tiny_config(),
            cpus: Cpus::from_allowed(&os::allowed_cpus()),
            progress: crate::progress::Progress::Silent,
        }
    }

    #[test]
    fn every_side_delivers_every_message_and_handle() {
        let ctx = tiny_ctx();
        for run in [magenta, magenta_with_handle, socketpair, socketpair_with_fd] {
            assert!(run(&ctx, 3000).unwrap() > 0.0);
        }
    }
}

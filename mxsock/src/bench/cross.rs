//! Workload 8: the stream, datagram and round-trip workloads with the two
//! ends in two processes.
//!
//! The peer is this program again (`mxsock bench-peer`, hidden), started
//! for each run and pinned to the second CPU; this process reads, checks and
//! times on the first. Magenta's side hands the peer its socket end at
//! spawn (`mx::sys::linux::spawn`); from then on the pair lives in shared
//! memory. The socketpair side hands the peer its AF_UNIX end as an
//! inherited descriptor. Each run starts when this process sends the peer
//! one byte (stream and datagram) or the first request (round trip), and
//! the writer's data is the stream and datagram workloads' own, checked the
//! same way.
//!
//! Reference, measured alongside: the same workload with both ends in this
//! process (Magenta sockets), since crossing a process boundary should cost
//! almost nothing once the pair is in shared memory.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command};
use std::time::Instant;

use mx::api::{Handle, Socket, SocketOpts};
use rustix::net::{RecvFlags, SendFlags};

use super::dgram::{self, MSG};
use super::stream::{block, check, pattern, WRITE};
use super::{interleave, median, percentile, Better, Bound, Ctx, Outcome, Row, Target};
use crate::os;

/// `PA_HND(PA_USER0, 0)`: the info of the peer's startup handle.
const PEER_HANDLE: u32 = 0xF0;

/// What the peer does.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Role {
    /// Writes `count` bytes of the stream pattern, in 64 KiB writes.
    Stream,
    /// Sends `count` 64-byte datagrams.
    Datagram,
    /// Echoes `count` one-byte round trips.
    Echo,
}

/// Which transport the peer was given.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Transport {
    /// A Magenta socket end, as its startup handle.
    Mx,
    /// An AF_UNIX socket, as the inherited descriptor `--fd`.
    Unix,
}

/// Kills and reaps the peer if the run stops early.
struct Peer(Option<Child>);

impl Peer {
    /// Waits for the peer to finish its part; its exit status must be 0.
    fn finish(mut self) -> Outcome<()> {
        let mut child = self.0.take().ok_or("no peer")?;
        let status = child
            .wait()
            .map_err(|e| format!("waiting for the peer: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the peer failed: {status}"))
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// This program as a peer.
fn command(role: Role, transport: Transport, count: u64, cpu: usize) -> Outcome<Command> {
    let exe = std::env::current_exe().map_err(|e| format!("finding this program: {e}"))?;
    let mut command = Command::new(exe);
    command.args([
        "bench-peer",
        "--role",
        match role {
            Role::Stream => "stream",
            Role::Datagram => "datagram",
            Role::Echo => "echo",
        },
        "--transport",
        match transport {
            Transport::Mx => "mx",
            Transport::Unix => "unix",
        },
        "--count",
        &count.to_string(),
        "--cpu",
        &cpu.to_string(),
    ]);
    Ok(command)
}

/// Starts a peer with a Magenta socket end.
fn spawn_mx(role: Role, count: u64, cpu: usize, end: Socket) -> Outcome<Peer> {
    let mut command = command(role, Transport::Mx, count, cpu)?;
    let raw = Handle::from(end).into_raw();
    match mx::sys::linux::spawn(&mut command, &[(PEER_HANDLE, raw)]) {
        Ok(child) => Ok(Peer(Some(child))),
        Err(status) => {
            let _ = mx::sys::handle_close(raw);
            Err(format!("spawning the peer: {status:?}"))
        }
    }
}

/// Starts a peer with an AF_UNIX socket.
fn spawn_unix(role: Role, count: u64, cpu: usize, fd: OwnedFd) -> Outcome<Peer> {
    let mut command = command(role, Transport::Unix, count, cpu)?;
    command.args(["--fd", &fd.as_raw_fd().to_string()]);
    let child = mx_shm::process::spawn_keeping(&mut command, fd.as_fd())
        .map_err(|e| format!("spawning the peer: {e}"))?;
    Ok(Peer(Some(child)))
}

/// The peer's side (`mxsock bench-peer`).
pub(crate) fn peer(
    role: Role,
    transport: Transport,
    count: u64,
    cpu: usize,
    fd: Option<i32>,
) -> Outcome<()> {
    os::pin(cpu)?;
    match transport {
        Transport::Mx => {
            let raw = mx::sys::linux::get_startup_handle(PEER_HANDLE).ok_or("no startup handle")?;
            let socket = Socket::from(Handle::from_raw(raw));
            let mx = |s: mx::Status| format!("mx: {s:?}");
            let mut go = [0u8; 1];
            match role {
                Role::Stream => {
                    socket.recv(&mut go).map_err(mx)?;
                    let pattern = pattern();
                    for n in 0..count / WRITE as u64 {
                        socket.send(block(&pattern, n)).map_err(mx)?;
                    }
                }
                Role::Datagram => {
                    socket.recv(&mut go).map_err(mx)?;
                    let mut message = dgram::FILLER;
                    for seq in 0..count {
                        message[..8].copy_from_slice(&seq.to_le_bytes());
                        socket.send(&message).map_err(mx)?;
                    }
                }
                Role::Echo => {
                    for _ in 0..count {
                        let mut byte = [0u8; 1];
                        socket.recv(&mut byte).map_err(mx)?;
                        socket.send(&byte).map_err(mx)?;
                    }
                }
            }
            // Wait for the reader to be done before the end closes.
            let _ = socket.recv(&mut go);
            Ok(())
        }
        Transport::Unix => {
            let fd = fd
                .and_then(|fd| {
                    // The pair the bench made: a stream or seqpacket socket.
                    mx_shm::process::take_inherited(fd, |fd| {
                        rustix::net::sockopt::socket_type(fd).is_ok()
                    })
                })
                .ok_or("no inherited socket")?;
            let io = |e: std::io::Error| format!("socketpair: {e}");
            let errno = |e: rustix::io::Errno| format!("socketpair: {e}");
            let mut go = [0u8; 1];
            match role {
                Role::Stream => {
                    let mut stream = UnixStream::from(fd);
                    stream.read_exact(&mut go).map_err(io)?;
                    let pattern = pattern();
                    for n in 0..count / WRITE as u64 {
                        stream.write_all(block(&pattern, n)).map_err(io)?;
                    }
                    let _ = stream.read(&mut go);
                }
                Role::Datagram => {
                    rustix::net::recv(&fd, &mut go[..], RecvFlags::empty()).map_err(errno)?;
                    let mut message = dgram::FILLER;
                    for seq in 0..count {
                        message[..8].copy_from_slice(&seq.to_le_bytes());
                        rustix::net::send(&fd, &message, SendFlags::empty()).map_err(errno)?;
                    }
                    let _ = rustix::net::recv(&fd, &mut go[..], RecvFlags::empty());
                }
                Role::Echo => {
                    let mut stream = UnixStream::from(fd);
                    for _ in 0..count {
                        let mut byte = [0u8; 1];
                        stream.read_exact(&mut byte).map_err(io)?;
                        stream.write_all(&byte).map_err(io)?;
                    }
                    let _ = stream.read(&mut go);
                }
            }
            Ok(())
        }
    }
}

/// Reads `total` bytes of the pattern with `read`, checking them; GB/s
/// from `began`.
fn read_stream(
    total: u64,
    began: Instant,
    mut read: impl FnMut(&mut [u8]) -> Outcome<usize>,
) -> Outcome<f64> {
    let pattern = pattern();
    let mut buf = vec![0u8; WRITE];
    let mut offset = 0u64;
    while offset < total {
        let n = read(&mut buf)?;
        check(&pattern, offset, total, &buf[..n])?;
        offset += n as u64;
    }
    Ok(total as f64 / began.elapsed().as_secs_f64() / 1e9)
}

/// Receives `count` datagrams with `recv`, checking them; M msg/s.
fn read_datagrams(
    count: u64,
    began: Instant,
    mut recv: impl FnMut(&mut [u8]) -> Outcome<usize>,
) -> Outcome<f64> {
    let mut buf = [0u8; 2 * MSG];
    for seq in 0..count {
        let n = recv(&mut buf)?;
        dgram::check(seq, &buf[..n])?;
    }
    Ok(count as f64 / began.elapsed().as_secs_f64() / 1e6)
}

/// Times `rounds` round trips with `call`; (median, p99) in microseconds.
fn time_round_trips(rounds: u64, call: impl FnMut(u8) -> Outcome<u8>) -> Outcome<(f64, f64)> {
    let times = super::rtt::timed_rounds(rounds, call)?;
    Ok((
        percentile(&times, 50.0) as f64 / 1e3,
        percentile(&times, 99.0) as f64 / 1e3,
    ))
}

fn mx_err(s: mx::Status) -> String {
    format!("mx: {s:?}")
}

fn stream_mx(ctx: &Ctx, total: u64) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    os::pin(reader_cpu)?;
    let (a, b) = Socket::create(SocketOpts::Stream).map_err(mx_err)?;
    let peer = spawn_mx(Role::Stream, total, writer_cpu, b)?;
    let began = Instant::now();
    a.send(&[1]).map_err(mx_err)?;
    let rate = read_stream(total, began, |buf| a.recv(buf).map_err(mx_err))?;
    a.send(&[2]).map_err(mx_err)?;
    peer.finish()?;
    Ok(rate)
}

fn stream_unix(ctx: &Ctx, total: u64) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    os::pin(reader_cpu)?;
    let (a, b) = os::stream_pair().map_err(|e| format!("socketpair: {e}"))?;
    let peer = spawn_unix(Role::Stream, total, writer_cpu, b)?;
    let mut a = UnixStream::from(a);
    let io = |e: std::io::Error| format!("socketpair: {e}");
    let began = Instant::now();
    a.write_all(&[1]).map_err(io)?;
    let rate = read_stream(total, began, |buf| (&a).read(buf).map_err(io))?;
    a.write_all(&[2]).map_err(io)?;
    peer.finish()?;
    Ok(rate)
}

fn datagram_mx(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    os::pin(reader_cpu)?;
    let (a, b) = Socket::create(SocketOpts::Datagram).map_err(mx_err)?;
    let peer = spawn_mx(Role::Datagram, count, writer_cpu, b)?;
    let began = Instant::now();
    a.send(&[1]).map_err(mx_err)?;
    let rate = read_datagrams(count, began, |buf| a.recv(buf).map_err(mx_err))?;
    a.send(&[2]).map_err(mx_err)?;
    peer.finish()?;
    Ok(rate)
}

fn datagram_unix(ctx: &Ctx, count: u64) -> Outcome<f64> {
    let (reader_cpu, writer_cpu) = ctx.cpus.pair();
    os::pin(reader_cpu)?;
    let (a, b) = os::seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    let peer = spawn_unix(Role::Datagram, count, writer_cpu, b)?;
    let errno = |e: rustix::io::Errno| format!("socketpair: {e}");
    let began = Instant::now();
    rustix::net::send(&a, &[1], SendFlags::empty()).map_err(errno)?;
    let rate = read_datagrams(count, began, |buf| {
        rustix::net::recv(&a, buf, RecvFlags::empty())
            .map(|(n, _)| n)
            .map_err(errno)
    })?;
    rustix::net::send(&a, &[2], SendFlags::empty()).map_err(errno)?;
    peer.finish()?;
    Ok(rate)
}

fn rtt_mx(ctx: &Ctx, rounds: u64) -> Outcome<(f64, f64)> {
    let (client_cpu, echo_cpu) = ctx.cpus.pair();
    os::pin(client_cpu)?;
    let (a, b) = Socket::create(SocketOpts::Stream).map_err(mx_err)?;
    let peer = spawn_mx(Role::Echo, rounds, echo_cpu, b)?;
    let times = time_round_trips(rounds, |byte| {
        a.send(&[byte]).map_err(mx_err)?;
        let mut back = [0u8; 1];
        match a.recv(&mut back).map_err(mx_err)? {
            1 => Ok(back[0]),
            n => Err(format!("read {n} bytes")),
        }
    })?;
    a.send(&[0]).map_err(mx_err)?;
    peer.finish()?;
    Ok(times)
}

fn rtt_unix(ctx: &Ctx, rounds: u64) -> Outcome<(f64, f64)> {
    let (client_cpu, echo_cpu) = ctx.cpus.pair();
    os::pin(client_cpu)?;
    let (a, b) = os::stream_pair().map_err(|e| format!("socketpair: {e}"))?;
    let peer = spawn_unix(Role::Echo, rounds, echo_cpu, b)?;
    let a = UnixStream::from(a);
    let io = |e: std::io::Error| format!("socketpair: {e}");
    let times = time_round_trips(rounds, |byte| {
        (&a).write_all(&[byte]).map_err(io)?;
        let mut back = [0u8; 1];
        (&a).read_exact(&mut back).map_err(io)?;
        Ok(back[0])
    })?;
    (&a).write_all(&[0]).map_err(io)?;
    peer.finish()?;
    Ok(times)
}

/// The same round trips with both ends here (the echo on a thread pinned
/// to the second CPU).
fn rtt_local(ctx: &Ctx, rounds: u64) -> Outcome<(f64, f64)> {
    let (client_cpu, echo_cpu) = ctx.cpus.pair();
    let (a, b) = Socket::create(SocketOpts::Stream).map_err(mx_err)?;
    std::thread::scope(|scope| {
        let echo = scope.spawn(move || -> Outcome<()> {
            os::pin(echo_cpu)?;
            for _ in 0..rounds {
                let mut byte = [0u8; 1];
                b.recv(&mut byte).map_err(mx_err)?;
                b.send(&byte).map_err(mx_err)?;
            }
            Ok(())
        });
        os::pin(client_cpu)?;
        let times = time_round_trips(rounds, |byte| {
            a.send(&[byte]).map_err(mx_err)?;
            let mut back = [0u8; 1];
            a.recv(&mut back).map_err(mx_err)?;
            Ok(back[0])
        });
        echo.join().map_err(|_| "echo thread panicked")??;
        times
    })
}

/// Runs the workload; returns its rows.
pub(crate) fn run(ctx: &Ctx, notes: &mut Vec<String>) -> Outcome<Vec<Row>> {
    let (reader, writer) = ctx.cpus.pair();
    let total = ctx.config.stream_bytes.div_ceil(WRITE as u64).max(1) * WRITE as u64;
    let warm = (total / 8).max(WRITE as u64) / WRITE as u64 * WRITE as u64;
    let bytes = |w: bool| if w { warm } else { total };
    let [mx, sp, local] = interleave(
        ctx,
        "stream across processes",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| stream_mx(ctx, bytes(w))),
            ("socketpair", &mut |w| stream_unix(ctx, bytes(w))),
            ("mx in one process", &mut |w| {
                super::stream::magenta(ctx, bytes(w))
            }),
        ],
    )?;
    let stream_local = median(&local);
    let stream = Row::new(
        "cross_stream",
        "stream across processes, 64 KiB writes",
        "GB/s",
        Better::Higher,
        mx,
        sp,
    )
    .target(Target::at_least(3.0))
    .bound(Bound::new("mx in one process", stream_local))
    .checked(format!(
        "every byte compared with the written pattern, {total} bytes per run"
    ))
    .pinning(format!(
        "writer (peer process) on CPU {writer}, reader on CPU {reader}"
    ));

    let count = ctx.config.datagrams.max(1);
    let messages = |w: bool| if w { (count / 8).max(1) } else { count };
    let [mx, sp, local] = interleave(
        ctx,
        "datagrams across processes",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| datagram_mx(ctx, messages(w))),
            ("socketpair", &mut |w| datagram_unix(ctx, messages(w))),
            ("mx in one process", &mut |w| {
                dgram::magenta(ctx, messages(w))
            }),
        ],
    )?;
    let datagram_local = median(&local);
    let datagram = Row::new(
        "cross_datagram",
        "datagram rate across processes, 64 bytes",
        "M msg/s",
        Better::Higher,
        mx,
        sp,
    )
    .target(Target::at_least(10.0))
    .bound(Bound::new("mx in one process", datagram_local))
    .checked(format!(
        "length, sequence number and payload of every message, {count} per run"
    ))
    .pinning(format!(
        "writer (peer process) on CPU {writer}, reader on CPU {reader}"
    ));

    let rounds = ctx.config.rounds.max(1);
    let trips = |w: bool| if w { (rounds / 8).max(1) } else { rounds };
    let [mx, sp, local] = interleave(
        ctx,
        "round trips across processes",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| rtt_mx(ctx, trips(w))),
            ("socketpair", &mut |w| rtt_unix(ctx, trips(w))),
            ("mx in one process", &mut |w| rtt_local(ctx, trips(w))),
        ],
    )?;
    let medians = |runs: &[(f64, f64)]| runs.iter().map(|r| r.0).collect::<Vec<_>>();
    let rtt_local_median = median(&medians(&local));
    let rtt = Row::new(
        "cross_rtt_median",
        "round trip, 1 byte, across processes, median",
        "us",
        Better::Lower,
        medians(&mx),
        medians(&sp),
    )
    .target(Target::at_most(0.05))
    .bound(Bound::new("mx in one process", rtt_local_median))
    .checked(format!("the byte of every round trip, {rounds} per run"))
    .pinning(format!(
        "client on CPU {reader}, echo (peer process) on CPU {writer}"
    ));

    notes.push(format!(
        "across processes / in one process (mx): stream {:.2}, datagrams {:.2}, round trip \
         {:.2} (the goal: within 0.9 for rates, 1.11 for times)",
        stream.mx / stream_local,
        datagram.mx / datagram_local,
        rtt.mx / rtt_local_median,
    ));
    notes.push(cost_note());
    Ok(vec![stream, datagram, rtt])
}

/// What one socket pair shared with another process costs this process:
/// descriptors, and memory.
fn cost_note() -> String {
    format!(
        "a socket pair shared with another process costs each process one descriptor (its \
         segment's memory file) and a mapping of {} KiB of shared memory, committed as bytes \
         first reach it; the process's poller thread, epoll descriptor and bell socket are \
         shared by all its shared objects",
        mx_shm::shared::SEGMENT_BYTES / 1024
    )
}

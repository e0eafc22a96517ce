//! Workload 6: fan-in, one thread serving many socket pairs.
//!
//! A client thread sends 64-byte datagrams over many socket pairs (64 by
//! default), visiting the pairs in a fixed shuffled order, one message each
//! per round. A server thread learns which sockets are readable, drains each
//! one without blocking, and checks every message: its length, the pair it
//! names, that pair's sequence number, and the payload. Client and server
//! are pinned to different CPUs.
//!
//! How the server learns what is readable is the subject:
//! - Magenta, `object_wait_many` over every socket (each call registers a
//!   waiter on every socket and removes it afterwards);
//! - Magenta, a port (one repeating asynchronous wait per socket, keyed by
//!   the pair's index, registered once; then one `port_wait` per packet);
//! - AF_UNIX `SOCK_SEQPACKET` socketpairs, level-triggered `epoll`.
//!
//! Rows give messages per second, and the JSON also records how many
//! messages each wake-up of the server delivered.

use std::time::Instant;

use mx::api::{object_wait_many, AsHandleRef, Port, Socket, SocketOpts, WaitAsyncOpts, WaitItem};
use mx::{Signals, Status, Time};
use rustix::event::epoll;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};
use std::os::fd::OwnedFd;
use std::sync::Barrier;

use super::dgram::MSG;
use super::{interleave, median, Better, Ctx, Outcome, Row};
use crate::os;

/// How the server learns which sockets are readable.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Server {
    /// `mx_object_wait_many` over all the sockets.
    WaitMany,
    /// A port with one `MX_WAIT_ASYNC_REPEATING` wait per socket.
    Port,
}

/// One run's figures.
#[derive(Copy, Clone, Debug)]
struct Sample {
    /// Millions of messages per second.
    rate: f64,
    /// Messages delivered per wake-up of the server.
    per_wake: f64,
}

/// The message the client sends as message `seq` of pair `pair`.
fn message(pair: usize, seq: u64) -> [u8; MSG] {
    let mut bytes = [0u8; MSG];
    bytes[..8].copy_from_slice(&(pair as u64).to_le_bytes());
    bytes[8..16].copy_from_slice(&seq.to_le_bytes());
    for (i, byte) in bytes.iter_mut().enumerate().skip(16) {
        *byte = (i as u8).wrapping_mul(13).wrapping_add(5);
    }
    bytes
}

/// Checks messages as the server receives them.
#[derive(Debug)]
struct Checker {
    /// The next sequence number expected on each pair.
    next: Vec<u64>,
    /// Payload of every message (bytes 16..).
    payload: [u8; MSG],
    /// Messages received so far.
    received: u64,
}

impl Checker {
    fn new(pairs: usize) -> Checker {
        Checker {
            next: vec![0; pairs],
            payload: message(0, 0),
            received: 0,
        }
    }

    fn check(&mut self, pair: usize, bytes: &[u8]) -> Outcome<()> {
        let expected = self.next[pair];
        if bytes.len() != MSG
            || bytes[..8] != (pair as u64).to_le_bytes()
            || bytes[8..16] != expected.to_le_bytes()
            || bytes[16..] != self.payload[16..]
        {
            return Err(format!(
                "pair {pair}: message {expected} is wrong ({} bytes: {:?}...)",
                bytes.len(),
                &bytes[..bytes.len().min(16)]
            ));
        }
        self.next[pair] = expected + 1;
        self.received += 1;
        Ok(())
    }
}

/// The order in which the client visits the pairs: a fixed shuffle, so that
/// readiness is not in index order.
fn visiting_order(pairs: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pairs).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..pairs).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    order
}

/// Runs the client (sending with `send(pair, message)`) and the server
/// (`serve(checker)` must return the number of wake-ups once `messages` were
/// received) on two pinned threads.
fn fan_in(
    ctx: &Ctx,
    pairs: usize,
    messages: u64,
    mut send: impl FnMut(usize, &[u8]) -> Outcome<()> + Send,
    serve: impl FnOnce(&mut Checker) -> Outcome<u64> + Send,
) -> Outcome<Sample> {
    let (server_cpu, client_cpu) = ctx.cpus.pair();
    let order = visiting_order(pairs);
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let client = scope.spawn(|| -> Outcome<()> {
            os::pin(client_cpu)?;
            let mut seqs = vec![0u64; pairs];
            start.wait();
            for k in 0..messages {
                let pair = order[(k % pairs as u64) as usize];
                send(pair, &message(pair, seqs[pair]))?;
                seqs[pair] += 1;
            }
            Ok(())
        });
        let server = scope.spawn(|| -> Outcome<Sample> {
            os::pin(server_cpu)?;
            let mut checker = Checker::new(pairs);
            start.wait();
            let began = Instant::now();
            let wakes = serve(&mut checker)?;
            let seconds = began.elapsed().as_secs_f64();
            Ok(Sample {
                rate: checker.received as f64 / seconds / 1e6,
                per_wake: checker.received as f64 / wakes.max(1) as f64,
            })
        });
        let sample = server.join().map_err(|_| "server panicked")?;
        client.join().map_err(|_| "client panicked")??;
        sample
    })
}

/// One run over Magenta datagram sockets, served as `server` says.
fn magenta(ctx: &Ctx, server: Server, pairs: usize, messages: u64) -> Outcome<Sample> {
    let mx = |s: Status| format!("mx: {s:?}");
    let sockets: Vec<(Socket, Socket)> = (0..pairs)
        .map(|_| Socket::create(SocketOpts::Datagram).map_err(mx))
        .collect::<Outcome<_>>()?;
    let sockets = &sockets;
    fan_in(
        ctx,
        pairs,
        messages,
        |pair, bytes| sockets[pair].0.send(bytes).map_err(mx),
        |checker| match server {
            Server::WaitMany => {
                let mut items: Vec<WaitItem<'_>> = sockets
                    .iter()
                    .map(|(_, end)| WaitItem {
                        handle: end.as_handle_ref(),
                        waitfor: Signals::READABLE,
                        pending: Signals::NONE,
                    })
                    .collect();
                let mut buf = [0u8; 2 * MSG];
                let mut wakes = 0u64;
                while checker.received < messages {
                    object_wait_many(&mut items, Time::INFINITE).map_err(mx)?;
                    wakes += 1;
                    for (pair, item) in items.iter().enumerate() {
                        if !item.pending.contains(Signals::READABLE) {
                            continue;
                        }
                        loop {
                            match sockets[pair].1.try_read(&mut buf) {
                                Ok(n) => checker.check(pair, &buf[..n])?,
                                Err(Status::SHOULD_WAIT) => break,
                                Err(status) => return Err(mx(status)),
                            }
                        }
                    }
                }
                Ok(wakes)
            }
            Server::Port => {
                let port = Port::create().map_err(mx)?;
                for (pair, (_, end)) in sockets.iter().enumerate() {
                    end.wait_async_handle(
                        &port,
                        pair as u64,
                        Signals::READABLE,
                        WaitAsyncOpts::Repeating,
                    )
                    .map_err(mx)?;
                }
                let mut buf = [0u8; 2 * MSG];
                let mut wakes = 0u64;
                while checker.received < messages {
                    let packet = port.wait(Time::INFINITE).map_err(mx)?;
                    wakes += 1;
                    let pair = packet.key() as usize;
                    let end = &sockets.get(pair).ok_or("packet with a bad key")?.1;
                    loop {
                        match end.try_read(&mut buf) {
                            Ok(n) => checker.check(pair, &buf[..n])?,
                            Err(Status::SHOULD_WAIT) => break,
                            Err(status) => return Err(mx(status)),
                        }
                    }
                }
                Ok(wakes)
            }
        },
    )
}

/// One run over AF_UNIX `SOCK_SEQPACKET` socketpairs served through `epoll`.
fn epoll_server(ctx: &Ctx, pairs: usize, messages: u64) -> Outcome<Sample> {
    let io = |e: Errno| format!("socketpair: {e}");
    let sockets: Vec<(OwnedFd, OwnedFd)> = (0..pairs)
        .map(|_| os::seqpacket_pair().map_err(|e| format!("socketpair: {e}")))
        .collect::<Outcome<_>>()?;
    let poller = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(io)?;
    for (pair, (_, end)) in sockets.iter().enumerate() {
        epoll::add(
            &poller,
            end,
            epoll::EventData::new_u64(pair as u64),
            epoll::EventFlags::IN,
        )
        .map_err(io)?;
    }
    let sockets = &sockets;
    let poller = &poller;
    fan_in(
        ctx,
        pairs,
        messages,
        |pair, bytes| match rustix::net::send(&sockets[pair].0, bytes, SendFlags::empty()) {
            Ok(n) if n == bytes.len() => Ok(()),
            Ok(n) => Err(format!("socketpair sent {n} of {} bytes", bytes.len())),
            Err(e) => Err(io(e)),
        },
        |checker| {
            let none = epoll::Event {
                flags: epoll::EventFlags::empty(),
                data: epoll::EventData::new_u64(0),
            };
            let mut events = vec![none; pairs];
            let mut buf = [0u8; 2 * MSG];
            let mut wakes = 0u64;
            while checker.received < messages {
                let ready = epoll::wait(poller, &mut events[..], None).map_err(io)?;
                wakes += 1;
                for event in &events[..ready] {
                    let pair = event.data.u64() as usize;
                    loop {
                        match rustix::net::recv(&sockets[pair].1, &mut buf[..], RecvFlags::DONTWAIT)
                        {
                            Ok((n, _)) => checker.check(pair, &buf[..n])?,
                            Err(Errno::AGAIN) => break,
                            Err(e) => return Err(io(e)),
                        }
                    }
                }
            }
            Ok(wakes)
        },
    )
}

/// Open files the socketpair side needs beyond what the process has: two
/// per pair, the epoll instance, and a margin.
fn files_needed(pairs: usize) -> u64 {
    2 * pairs as u64 + 64
}

/// Checks, before anything runs, that this process may open the
/// socketpair side's files, raising its soft limit if needed.
pub(crate) fn preflight(pairs: usize) -> Outcome<()> {
    let need = files_needed(pairs);
    let limit = os::raise_nofile(need);
    if limit < need {
        return Err(format!(
            "--fanin-pairs {pairs} needs about {need} open files (two per socketpair) and \
             the limit is {limit} (RLIMIT_NOFILE): lower --fanin-pairs"
        ));
    }
    Ok(())
}

/// Runs the workload; returns its rows.
pub(crate) fn run(ctx: &Ctx, notes: &mut Vec<String>) -> Outcome<Vec<Row>> {
    let pairs = ctx.config.fanin_pairs.max(1);
    let messages = ctx.config.fanin_messages.max(1);
    let size = |warmup: bool| {
        if warmup {
            (messages / 8).max(1)
        } else {
            messages
        }
    };
    let [wait_many, port, epolled] = interleave(
        ctx,
        "fan-in",
        ctx.config.reps,
        &mut [
            ("mx wait_many", &mut |w| {
                magenta(ctx, Server::WaitMany, pairs, size(w))
            }),
            ("mx port", &mut |w| {
                magenta(ctx, Server::Port, pairs, size(w))
            }),
            ("socketpair epoll", &mut |w| {
                epoll_server(ctx, pairs, size(w))
            }),
        ],
    )?;
    let rates = |samples: &[Sample]| samples.iter().map(|s| s.rate).collect::<Vec<_>>();
    let per_wake =
        |samples: &[Sample]| median(&samples.iter().map(|s| s.per_wake).collect::<Vec<_>>());
    notes.push(format!(
        "fan-in messages per server wake-up (median): wait_many {:.1}, port {:.1}, epoll {:.1}",
        per_wake(&wait_many),
        per_wake(&port),
        per_wake(&epolled)
    ));
    let (server, client) = ctx.cpus.pair();
    let checked = format!("pair, sequence number and payload of every message, {messages} per run");
    let pinning = format!("server on CPU {server}, client on CPU {client}");
    Ok(vec![
        Row::new(
            "fanin_wait_many",
            &format!("fan-in, {pairs} pairs: wait_many vs epoll"),
            "M msg/s",
            Better::Higher,
            rates(&wait_many),
            rates(&epolled),
        )
        .checked(checked.clone())
        .pinning(pinning.clone()),
        Row::new(
            "fanin_port",
            &format!("fan-in, {pairs} pairs: port vs epoll"),
            "M msg/s",
            Better::Higher,
            rates(&port),
            rates(&epolled),
        )
        .checked(checked)
        .pinning(pinning),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visiting_order_is_a_permutation() {
        for pairs in [1, 2, 7, 64] {
            let mut order = visiting_order(pairs);
            order.sort_unstable();
            assert_eq!(order, (0..pairs).collect::<Vec<_>>());
        }
    }

    #[test]
    fn the_checker_follows_each_pair_in_sequence() {
        let mut checker = Checker::new(2);
        assert!(checker.check(1, &message(1, 0)).is_ok());
        assert!(checker.check(0, &message(0, 0)).is_ok());
        assert!(checker.check(1, &message(1, 1)).is_ok());
        assert!(checker.check(1, &message(1, 1)).is_err(), "a repeat");
        assert!(checker.check(0, &message(1, 1)).is_err(), "another pair's");
        assert_eq!(checker.received, 3);
    }
}

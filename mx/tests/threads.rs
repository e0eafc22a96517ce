//! Multi-threaded tests: several writers on duplicated handles and several
//! readers (nothing lost, duplicated, torn or reordered per writer), and
//! blocking wake-ups between threads.
//!
//! Every blocking call has a deadline far beyond what a correct run needs, so
//! a lost wake-up fails the test instead of hanging the suite. Each test
//! moves a few megabytes at most: the machine is small and shared.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::Duration;

use mx::api::{AsHandleRef, EventPair, HandleBased, Peered, Socket, SocketOpts};
use mx::sys::{self, ErrorWith};
use mx::{Rights, Signals, Status, Time, WaitItem};

/// A deadline no correct run reaches.
fn far() -> Time {
    sys::deadline_after(20_000_000_000)
}

/// FNV-1a, to detect torn or mixed datagrams.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A small deterministic generator (xorshift), one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A datagram: writer, sequence number, payload length, payload, checksum.
fn tagged(writer: u32, seq: u32, len: usize) -> Vec<u8> {
    let mut d = Vec::with_capacity(20 + len);
    d.extend_from_slice(&writer.to_le_bytes());
    d.extend_from_slice(&seq.to_le_bytes());
    d.extend_from_slice(&(len as u32).to_le_bytes());
    d.extend((0..len).map(|i| (i as u32 ^ seq ^ writer.rotate_left(8)) as u8));
    let sum = checksum(&d);
    d.extend_from_slice(&sum.to_le_bytes());
    d
}

/// Checks a datagram made by [`tagged`]; returns `(writer, seq)`.
fn untag(d: &[u8]) -> (u32, u32) {
    assert!(d.len() >= 20, "runt datagram of {} bytes", d.len());
    let word = |o: usize| u32::from_le_bytes(d[o..o + 4].try_into().unwrap());
    let (writer, seq, len) = (word(0), word(4), word(8) as usize);
    assert_eq!(
        d.len(),
        20 + len,
        "torn datagram from writer {writer}, seq {seq}"
    );
    let sum = u64::from_le_bytes(d[12 + len..].try_into().unwrap());
    assert_eq!(
        sum,
        checksum(&d[..12 + len]),
        "corrupt datagram {writer}/{seq}"
    );
    (writer, seq)
}

#[test]
fn threads_datagram_writers_and_readers_lose_nothing() {
    const WRITERS: u32 = 4;
    const READERS: usize = 3;
    const PER_WRITER: u32 = 1500;
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let writers: Vec<Socket> = (0..WRITERS)
        .map(|_| a.duplicate_handle(Rights::WRITE).unwrap())
        .collect();
    let readers: Vec<Socket> = (0..READERS)
        .map(|_| b.duplicate_handle(Rights::READ).unwrap())
        .collect();
    // Only the duplicates remain: the readers see PEER_CLOSED once every
    // writer is done and everything is read.
    drop(a);
    drop(b);
    let deadline = far();
    let seen: Vec<Vec<(u32, u32)>> = thread::scope(|scope| {
        for (w, socket) in writers.into_iter().enumerate() {
            scope.spawn(move || {
                let mut rng = Rng(0x1234_5678 + w as u64);
                for seq in 0..PER_WRITER {
                    // Mostly small, some large enough to fill the socket.
                    let len = if rng.below(20) == 0 {
                        20_000 + rng.below(60_000)
                    } else {
                        rng.below(3000)
                    };
                    let d = tagged(w as u32, seq, len);
                    socket.send_deadline(&d, deadline).unwrap();
                }
            });
        }
        let handles: Vec<_> = readers
            .into_iter()
            .map(|socket| {
                scope.spawn(move || {
                    let mut buf = vec![0u8; 100_000];
                    let mut got = Vec::new();
                    loop {
                        match socket.recv_deadline(&mut buf, deadline) {
                            Ok(n) => got.push(untag(&buf[..n])),
                            Err(Status::PEER_CLOSED) => return got,
                            Err(status) => panic!("recv: {status:?}"),
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Each reader took datagrams in queue order: per writer, increasing.
    for got in &seen {
        let mut last = vec![None; WRITERS as usize];
        for &(w, seq) in got {
            let prev = &mut last[w as usize];
            assert!(
                prev.is_none_or(|p| p < seq),
                "writer {w}: {prev:?} then {seq}"
            );
            *prev = Some(seq);
        }
    }
    // Together they took every datagram exactly once.
    let mut all: Vec<(u32, u32)> = seen.into_iter().flatten().collect();
    all.sort_unstable();
    let want: Vec<(u32, u32)> = (0..WRITERS)
        .flat_map(|w| (0..PER_WRITER).map(move |s| (w, s)))
        .collect();
    assert_eq!(all.len(), want.len(), "datagrams lost or duplicated");
    assert_eq!(all, want);
}

#[test]
fn threads_stream_writers_interleave_only_whole_bytes() {
    // Each byte carries its writer (2 bits) and its position mod 64 (6 bits),
    // so the reader can check every writer's bytes arrive complete and in
    // order, whatever the interleaving of (possibly short) writes.
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 300_000;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let writers: Vec<Socket> = (0..WRITERS)
        .map(|_| a.duplicate_handle(Rights::WRITE).unwrap())
        .collect();
    drop(a);
    let deadline = far();
    thread::scope(|scope| {
        for (w, socket) in writers.into_iter().enumerate() {
            scope.spawn(move || {
                let bytes: Vec<u8> = (0..PER_WRITER)
                    .map(|i| ((w as u8) << 6) | (i % 64) as u8)
                    .collect();
                let mut rng = Rng(0x9e37 + w as u64);
                let mut sent = 0;
                while sent < PER_WRITER {
                    let n = (1 + rng.below(9000)).min(PER_WRITER - sent);
                    socket
                        .send_deadline(&bytes[sent..sent + n], deadline)
                        .unwrap();
                    sent += n;
                }
            });
        }
        let mut counts = [0usize; WRITERS];
        let mut rng = Rng(77);
        let mut buf = vec![0u8; 70_000];
        loop {
            let size = 1 + rng.below(buf.len());
            match b.recv_deadline(&mut buf[..size], deadline) {
                Ok(n) => {
                    assert!(n > 0 && n <= size);
                    for &byte in &buf[..n] {
                        let w = (byte >> 6) as usize;
                        assert_eq!(
                            (byte & 63) as usize,
                            counts[w] % 64,
                            "writer {w}: byte {} out of order",
                            counts[w]
                        );
                        counts[w] += 1;
                    }
                }
                Err(Status::PEER_CLOSED) => break,
                Err(status) => panic!("recv: {status:?}"),
            }
        }
        assert_eq!(counts, [PER_WRITER; WRITERS], "bytes lost or duplicated");
    });
}

#[test]
fn threads_stream_records_survive_short_writes_and_reads() {
    // One writer, one reader, records of mixed sizes: exercises the buffer
    // filling up, draining, and odd read sizes across chunk boundaries.
    const RECORDS: u32 = 400;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let deadline = far();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut rng = Rng(5);
            for seq in 0..RECORDS {
                let len = if seq % 37 == 0 {
                    100_000 + rng.below(200_000)
                } else {
                    rng.below(5000)
                };
                a.send_deadline(&tagged(0, seq, len), deadline).unwrap();
            }
            // Dropping `a` ends the stream.
        });
        let mut stream = Vec::new();
        let mut rng = Rng(11);
        let mut buf = vec![0u8; 300_000];
        loop {
            let size = 1 + rng.below(buf.len());
            match b.recv_deadline(&mut buf[..size], deadline) {
                Ok(n) => stream.extend_from_slice(&buf[..n]),
                Err(Status::PEER_CLOSED) => break,
                Err(status) => panic!("recv: {status:?}"),
            }
        }
        let mut at = 0;
        for seq in 0..RECORDS {
            let len = u32::from_le_bytes(stream[at + 8..at + 12].try_into().unwrap()) as usize;
            let record = &stream[at..at + 20 + len];
            assert_eq!(untag(record), (0, seq));
            at += record.len();
        }
        assert_eq!(at, stream.len(), "trailing bytes");
    });
}

#[test]
fn threads_ping_pong_datagrams() {
    const ROUNDS: u32 = 2000;
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let deadline = far();
    thread::scope(|scope| {
        scope.spawn(move || {
            let mut buf = [0u8; 8];
            loop {
                match b.recv_deadline(&mut buf, deadline) {
                    Ok(4) => {
                        let n = u32::from_le_bytes(buf[..4].try_into().unwrap());
                        b.send_deadline(&(n + 1).to_le_bytes(), deadline).unwrap();
                    }
                    Err(Status::PEER_CLOSED) => return,
                    other => panic!("echo: {other:?}"),
                }
            }
        });
        let mut buf = [0u8; 8];
        for i in 0..ROUNDS {
            a.send_deadline(&(2 * i).to_le_bytes(), deadline).unwrap();
            assert_eq!(a.recv_deadline(&mut buf, deadline), Ok(4));
            assert_eq!(buf[..4], (2 * i + 1).to_le_bytes());
        }
        drop(a);
    });
}

#[test]
fn threads_ping_pong_eventpair_signals() {
    const ROUNDS: u32 = 2000;
    let (a, b) = EventPair::create().unwrap();
    let ping = Signals::USER_0;
    let deadline = far();
    thread::scope(|scope| {
        scope.spawn(move || {
            for _ in 0..ROUNDS {
                b.wait_handle(ping, deadline).unwrap();
                b.signal_handle(ping, Signals::NONE).unwrap();
                b.signal_peer(Signals::NONE, ping).unwrap();
            }
        });
        for _ in 0..ROUNDS {
            a.signal_peer(Signals::NONE, ping).unwrap();
            a.wait_handle(ping, deadline).unwrap();
            a.signal_handle(ping, Signals::NONE).unwrap();
        }
    });
}

#[test]
fn threads_many_waiters_all_wake_on_one_write() {
    const WAITERS: usize = 6;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let dups: Vec<Socket> = (0..WAITERS / 2)
        .map(|_| b.duplicate_handle(Rights::READ).unwrap())
        .collect();
    let barrier = Barrier::new(WAITERS + 1);
    let deadline = far();
    thread::scope(|scope| {
        let mut joins = Vec::new();
        for i in 0..WAITERS {
            // Half wait through the same handle, half through their own.
            let raw = if i % 2 == 0 {
                b.raw_handle()
            } else {
                dups[i / 2].raw_handle()
            };
            let barrier = &barrier;
            joins.push(scope.spawn(move || {
                barrier.wait();
                sys::object_wait_one(raw, Signals::READABLE, deadline)
            }));
        }
        barrier.wait();
        thread::sleep(Duration::from_millis(100));
        assert_eq!(a.try_write(b"!"), Ok(1));
        for j in joins {
            let observed = j.join().unwrap().expect("every waiter wakes");
            assert!(observed.contains(Signals::READABLE));
        }
    });
}

#[test]
fn threads_blocked_readers_all_get_peer_closed() {
    const READERS: usize = 4;
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let readers: Vec<Socket> = (0..READERS)
        .map(|_| b.duplicate_handle(Rights::READ).unwrap())
        .collect();
    let deadline = far();
    thread::scope(|scope| {
        let joins: Vec<_> = readers
            .iter()
            .map(|r| scope.spawn(move || r.recv_deadline(&mut [0u8; 16], deadline)))
            .collect();
        thread::sleep(Duration::from_millis(100));
        drop(a);
        for j in joins {
            assert_eq!(j.join().unwrap(), Err(Status::PEER_CLOSED));
        }
    });
}

#[test]
fn threads_blocked_writer_wakes_when_reader_drains() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let big = vec![0x5a; 600_000];
    let deadline = far();
    thread::scope(|scope| {
        let writer = scope.spawn(|| a.send_deadline(&big, deadline));
        let mut got = 0;
        let mut buf = vec![0u8; 50_000];
        while got < big.len() {
            let n = b.recv_deadline(&mut buf, deadline).unwrap();
            assert!(buf[..n].iter().all(|&x| x == 0x5a));
            got += n;
        }
        assert_eq!(writer.join().unwrap(), Ok(()));
    });
    assert_eq!(b.try_read(&mut [0u8; 4]), Err(Status::SHOULD_WAIT));
}

#[test]
fn threads_blocked_writer_gets_peer_closed() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let big = vec![1u8; 2 * 257_024];
    let deadline = far();
    thread::scope(|scope| {
        let writer = scope.spawn(|| a.send_deadline(&big, deadline));
        thread::sleep(Duration::from_millis(100));
        drop(b);
        assert_eq!(writer.join().unwrap(), Err(Status::PEER_CLOSED));
    });
}

#[test]
fn threads_close_racing_a_wait_cancels_it() {
    // A wait either starts after the close (BAD_HANDLE) or is cancelled by
    // it; it never times out or hangs.
    let (_a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let mut canceled = 0;
    for i in 0..200u64 {
        let d = b
            .duplicate_handle(Rights::READ)
            .unwrap()
            .into_handle()
            .into_raw();
        let barrier = Barrier::new(2);
        let result = thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                barrier.wait();
                sys::object_wait_one(d, Signals::USER_0, sys::deadline_after(10_000_000_000))
            });
            barrier.wait();
            // Vary the moment of the close.
            let spin = (i % 20) * 5_000;
            let until = sys::deadline_after(spin);
            while sys::time_get(0) < until {
                std::hint::spin_loop();
            }
            sys::handle_close(d).unwrap();
            waiter.join().unwrap()
        });
        match result {
            Err(ErrorWith {
                status: Status::CANCELED,
                value: Some(observed),
            }) => {
                assert!(observed.contains(Signals::HANDLE_CLOSED), "{observed:?}");
                canceled += 1;
            }
            Err(ErrorWith {
                status: Status::BAD_HANDLE,
                value: None,
            }) => {}
            other => panic!("iteration {i}: {other:?}"),
        }
    }
    assert!(canceled > 0, "no wait was ever cancelled");
}

#[test]
fn threads_wait_many_woken_by_any_item() {
    const SOCKETS: usize = 8;
    let pairs: Vec<(Socket, Socket)> = (0..SOCKETS)
        .map(|_| Socket::create(SocketOpts::Datagram).unwrap())
        .collect();
    for round in 0..20 {
        let target = (round * 5) % SOCKETS;
        let mut items: Vec<WaitItem> = pairs
            .iter()
            .map(|(_, b)| WaitItem {
                handle: b.raw_handle(),
                waitfor: Signals::READABLE,
                pending: Signals::NONE,
            })
            .collect();
        let result = thread::scope(|scope| {
            let waiter = scope.spawn(|| sys::object_wait_many(&mut items, far()));
            thread::sleep(Duration::from_millis(5));
            assert_eq!(pairs[target].0.try_write(b"x"), Ok(1));
            waiter.join().unwrap()
        });
        assert_eq!(result, Ok(()));
        for (i, item) in items.iter().enumerate() {
            assert_eq!(
                item.pending.contains(Signals::READABLE),
                i == target,
                "round {round}, item {i}"
            );
        }
        assert_eq!(pairs[target].1.try_read(&mut [0u8; 4]), Ok(1));
    }
}

#[test]
fn threads_duplicate_and_close_keep_handle_counts() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2000;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let barrier = Barrier::new(THREADS);
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                barrier.wait();
                for _ in 0..ROUNDS {
                    let d = a.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
                    let d2 = d.duplicate_handle(Rights::READ).unwrap();
                    drop(d);
                    drop(d2);
                }
            });
        }
    });
    let both = Signals::WRITABLE | Signals::LAST_HANDLE;
    assert_eq!(
        a.wait_handle(Signals::NONE, Time::ZERO),
        Err(Status::TIMED_OUT)
    );
    assert_eq!(
        sys::object_wait_one(a.raw_handle(), Signals::NONE, Time::ZERO),
        Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(both)
        })
    );
    assert_eq!(
        sys::object_wait_one(b.raw_handle(), Signals::NONE, Time::ZERO),
        Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(both)
        })
    );
}

#[test]
fn threads_half_close_during_writes_loses_nothing_written() {
    // Every datagram whose write succeeded before the half-close is read,
    // then PEER_CLOSED; writes after it fail with BAD_STATE.
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let closer = a.duplicate_handle(Rights::WRITE).unwrap();
    let written = AtomicUsize::new(0);
    let deadline = far();
    thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut seq = 0u32;
            loop {
                match a.try_write(&tagged(0, seq, (seq % 500) as usize)) {
                    Ok(_) => {
                        seq += 1;
                        written.store(seq as usize, Ordering::Release);
                    }
                    Err(Status::SHOULD_WAIT) => thread::yield_now(),
                    Err(Status::BAD_STATE) => return seq,
                    Err(status) => panic!("write: {status:?}"),
                }
            }
        });
        let reader = scope.spawn(|| {
            let mut buf = vec![0u8; 1000];
            let mut next = 0u32;
            loop {
                match b.recv_deadline(&mut buf, deadline) {
                    Ok(n) => {
                        assert_eq!(untag(&buf[..n]), (0, next));
                        next += 1;
                    }
                    Err(Status::PEER_CLOSED) => return next,
                    Err(status) => panic!("recv: {status:?}"),
                }
            }
        });
        while written.load(Ordering::Acquire) < 2000 {
            thread::yield_now();
        }
        closer.half_close().unwrap();
        let sent = writer.join().unwrap();
        let received = reader.join().unwrap();
        assert_eq!(received, sent, "datagrams written before the half-close");
    });
}

#[test]
fn threads_peer_close_during_reads_and_writes() {
    // Closing one end while both directions are busy: every thread ends with
    // PEER_CLOSED (or its own handle's end) and nothing hangs.
    for _ in 0..20 {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let deadline = far();
        thread::scope(|scope| {
            let a = &a;
            let writer = scope.spawn(move || loop {
                match a.send_deadline(&[7u8; 10_000], deadline) {
                    Ok(()) => {}
                    Err(status) => return status,
                }
            });
            let reader = scope.spawn(move || {
                let mut buf = [0u8; 4096];
                loop {
                    match a.recv_deadline(&mut buf, deadline) {
                        Ok(_) => {}
                        Err(status) => return status,
                    }
                }
            });
            let mut buf = [0u8; 3000];
            for _ in 0..20 {
                let _ = b.try_write(&[1u8; 2000]);
                let _ = b.try_read(&mut buf);
            }
            drop(b);
            assert_eq!(writer.join().unwrap(), Status::PEER_CLOSED);
            assert_eq!(reader.join().unwrap(), Status::PEER_CLOSED);
        });
    }
}

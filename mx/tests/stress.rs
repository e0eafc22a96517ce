//! Stress: more threads than cores on duplicated handles of many socket
//! pairs, mixing writes, reads, waits, duplicates, closes, signals and
//! half-closes for a bounded time. Every record carries its writer, pair,
//! sequence number and a checksum, so the readers prove that nothing was
//! lost, duplicated, reordered per writer or torn; at the end every object
//! is freed.
//!
//! Runs for `MX_STRESS_SECS` seconds (2 by default). The long version:
//! `MX_STRESS_SECS=600 cargo test --release -p mx --test stress -- --nocapture`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use mx::api::{AsHandleRef, HandleBased, Socket, SocketOpts};
use mx::core::abi::WaitItem;
use mx::sys;
use mx::{Rights, Signals, Status, Time};

const DATAGRAM_PAIRS: usize = 8;
const STREAM_PAIRS: usize = 4;
const WRITERS: usize = 4;
const READERS: usize = 3;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn checksum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// A record: writer, pair, sequence, payload length, payload, checksum.
fn record(writer: u8, pair: u8, seq: u32, rng: &mut Rng) -> Vec<u8> {
    let len = rng.below(600) as usize;
    let mut r = Vec::with_capacity(12 + len + 4);
    r.push(writer);
    r.push(pair);
    r.extend_from_slice(&seq.to_le_bytes());
    r.extend_from_slice(&(len as u32).to_le_bytes());
    r.extend((0..len).map(|i| (seq as usize + i * 7) as u8));
    let sum = checksum(&r);
    r.extend_from_slice(&sum.to_le_bytes());
    r
}

/// Checks a record's checksum; returns `(writer, pair, seq)`.
fn parse(r: &[u8]) -> (u8, u8, u32) {
    assert!(r.len() >= 14, "torn record of {} bytes", r.len());
    let (body, sum) = r.split_at(r.len() - 4);
    assert_eq!(
        checksum(body),
        u32::from_le_bytes(sum.try_into().unwrap()),
        "torn or corrupt record"
    );
    let len = u32::from_le_bytes(body[6..10].try_into().unwrap()) as usize;
    assert_eq!(body.len(), 10 + len, "record length");
    (
        body[0],
        body[1],
        u32::from_le_bytes(body[2..6].try_into().unwrap()),
    )
}

fn deadline_ms(ms: u64) -> Time {
    sys::deadline_after(ms * 1_000_000)
}

#[test]
fn stress_mixed_operations_lose_nothing() {
    let secs: u64 = std::env::var("MX_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let before = mx::sys::ext::live_objects();
    let stop = Arc::new(AtomicBool::new(false));
    let ops = Arc::new(AtomicU64::new(0));

    let mut writer_ends = Vec::new();
    let mut reader_ends = Vec::new();
    for i in 0..DATAGRAM_PAIRS + STREAM_PAIRS {
        let mode = if i < DATAGRAM_PAIRS {
            SocketOpts::Datagram
        } else {
            SocketOpts::Stream
        };
        let (a, b) = Socket::create(mode).unwrap();
        writer_ends.push(a);
        reader_ends.push(b);
    }

    // Datagram writers: each sends to random datagram pairs through its own
    // duplicates of the writing ends. Stream pair `i` has writer `i` alone
    // (bytes of two stream writers could interleave between short writes).
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let dgram: Vec<Socket> = writer_ends[..DATAGRAM_PAIRS]
                .iter()
                .map(|s| s.duplicate_handle(Rights::SAME_RIGHTS).unwrap())
                .collect();
            let stream = writer_ends[DATAGRAM_PAIRS + w % STREAM_PAIRS]
                .duplicate_handle(Rights::SAME_RIGHTS)
                .unwrap();
            let owns_stream = w < STREAM_PAIRS;
            let stop = stop.clone();
            let ops = ops.clone();
            thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (w as u64 + 1));
                let mut sent = vec![0u32; DATAGRAM_PAIRS + STREAM_PAIRS];
                while !stop.load(Ordering::Relaxed) {
                    if owns_stream && rng.below(4) == 0 {
                        let pair = DATAGRAM_PAIRS + w;
                        let r = record(w as u8, pair as u8, sent[pair], &mut rng);
                        (&stream).write_all(&r).unwrap();
                        sent[pair] += 1;
                    } else {
                        let pair = rng.below(DATAGRAM_PAIRS as u64) as usize;
                        let r = record(w as u8, pair as u8, sent[pair], &mut rng);
                        match dgram[pair].send_deadline(&r, deadline_ms(50)) {
                            Ok(()) => sent[pair] += 1,
                            Err(Status::TIMED_OUT) => {}
                            Err(status) => panic!("send: {status}"),
                        }
                    }
                    ops.fetch_add(1, Ordering::Relaxed);
                }
                drop(dgram);
                drop(stream);
                sent
            })
        })
        .collect();

    // Readers: each owns every READERS-th pair, reads what is there, and
    // waits on all of its pairs at once when nothing is.
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let mine: Vec<(usize, Socket)> = reader_ends
                .iter()
                .enumerate()
                .filter(|(i, _)| i % READERS == r)
                .map(|(i, s)| (i, s.duplicate_handle(Rights::SAME_RIGHTS).unwrap()))
                .collect();
            let ops = ops.clone();
            thread::spawn(move || {
                // (pair, writer) -> next sequence expected.
                let mut next: HashMap<(u8, u8), u32> = HashMap::new();
                let mut stream_bytes: HashMap<usize, Vec<u8>> = HashMap::new();
                let mut done = vec![false; mine.len()];
                let mut buf = vec![0u8; 64 * 1024];
                while done.iter().any(|d| !d) {
                    let mut progress = false;
                    for (k, (pair, socket)) in mine.iter().enumerate() {
                        if done[k] {
                            continue;
                        }
                        match socket.try_read(&mut buf) {
                            Ok(n) => {
                                progress = true;
                                ops.fetch_add(1, Ordering::Relaxed);
                                let mut records = Vec::new();
                                if *pair < DATAGRAM_PAIRS {
                                    records.push(buf[..n].to_vec());
                                } else {
                                    let pending = stream_bytes.entry(*pair).or_default();
                                    pending.extend_from_slice(&buf[..n]);
                                    while pending.len() >= 10 {
                                        let len =
                                            u32::from_le_bytes(pending[6..10].try_into().unwrap())
                                                as usize;
                                        if pending.len() < 14 + len {
                                            break;
                                        }
                                        records.push(pending.drain(..14 + len).collect());
                                    }
                                }
                                for r in records {
                                    let (writer, p, seq) = parse(&r);
                                    assert_eq!(
                                        p as usize, *pair,
                                        "record delivered to the wrong pair"
                                    );
                                    let expected = next.entry((p, writer)).or_insert(0);
                                    assert_eq!(
                                        seq, *expected,
                                        "pair {p} writer {writer}: lost, duplicated or reordered"
                                    );
                                    *expected += 1;
                                }
                            }
                            Err(Status::SHOULD_WAIT) => {}
                            Err(Status::PEER_CLOSED) => {
                                assert!(
                                    stream_bytes.get(pair).is_none_or(Vec::is_empty),
                                    "torn stream tail"
                                );
                                done[k] = true;
                                progress = true;
                            }
                            Err(status) => panic!("read: {status}"),
                        }
                    }
                    if !progress {
                        let mut items: Vec<WaitItem> = mine
                            .iter()
                            .zip(&done)
                            .filter(|(_, d)| !**d)
                            .map(|((_, s), _)| WaitItem {
                                handle: s.raw_handle(),
                                waitfor: Signals::READABLE | Signals::PEER_CLOSED,
                                pending: Signals::NONE,
                            })
                            .collect();
                        match sys::object_wait_many(&mut items, deadline_ms(20)) {
                            Ok(()) | Err(Status::TIMED_OUT) => {}
                            Err(status) => panic!("wait_many: {status}"),
                        }
                    }
                }
                next
            })
        })
        .collect();

    // Chaos: duplicates, waits through and closes handles of random ends,
    // toggles user signals, and checks basic info, all while the traffic
    // runs.
    let chaos = {
        let ends: Vec<Socket> = writer_ends
            .iter()
            .chain(&reader_ends)
            .map(|s| s.duplicate_handle(Rights::SAME_RIGHTS).unwrap())
            .collect();
        let stop = stop.clone();
        let ops = ops.clone();
        thread::spawn(move || {
            let mut rng = Rng(42);
            while !stop.load(Ordering::Relaxed) {
                let end = &ends[rng.below(ends.len() as u64) as usize];
                let dup = end
                    .duplicate_handle(Rights::READ | Rights::SIGNAL | Rights::DUPLICATE)
                    .unwrap();
                let bit = Signals::from_bits_retain(1 << (24 + rng.below(8)));
                dup.signal_handle(Signals::USER_ALL, bit).unwrap();
                let closer = dup.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
                let waiter =
                    thread::spawn(move || dup.wait_handle(Signals::USER_0, deadline_ms(5)));
                thread::sleep(Duration::from_micros(rng.below(500)));
                drop(closer);
                match waiter.join().unwrap() {
                    Ok(_) | Err(Status::TIMED_OUT) => {}
                    Err(status) => panic!("chaos wait: {status}"),
                }
                assert_eq!(end.basic_info().unwrap().type_, mx::ObjectType::SOCKET.0);
                ops.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    chaos.join().unwrap();
    let mut sent: HashMap<(u8, u8), u32> = HashMap::new();
    for (w, writer) in writers.into_iter().enumerate() {
        for (pair, count) in writer.join().unwrap().into_iter().enumerate() {
            if count > 0 {
                sent.insert((pair as u8, w as u8), count);
            }
        }
    }
    // The writers are done: half-close every writing end; the readers drain
    // and see PEER_CLOSED.
    for end in &writer_ends {
        end.half_close().unwrap();
    }
    let mut received: HashMap<(u8, u8), u32> = HashMap::new();
    for reader in readers {
        received.extend(reader.join().unwrap());
    }
    assert_eq!(received, sent, "every record sent arrived exactly once");
    let total: u32 = sent.values().sum();
    assert!(total > 100, "the stress test moved only {total} records");
    eprintln!(
        "stress: {total} records, {} operations in {secs} s",
        ops.load(Ordering::Relaxed)
    );

    drop(writer_ends);
    drop(reader_ends);
    assert_eq!(
        mx::sys::ext::live_objects(),
        before,
        "every object was freed"
    );
}

//! Fuzzing harnesses.
//!
//! [`syscalls`] decodes arbitrary bytes into a sequence of system calls
//! (through `mx::sys`) on a handful of objects, including stale and made-up
//! handle values, odd options and sizes around the socket capacity, rights
//! reductions, half-closes and closes. After every call it checks the
//! invariants against a small model of what must hold:
//!
//! - nothing panics, and every status is one the call may return;
//! - bytes are conserved: each socket end's outstanding byte count equals
//!   what was written to it minus what was read from it;
//! - signals match the state (`READABLE`, `WRITABLE`, `PEER_CLOSED`,
//!   `LAST_HANDLE` on every live socket end);
//! - a closed handle value acts on nothing;
//! - the objects alive are exactly those with handles; at the end, after
//!   closing everything, none is left.
//!
//! [`hostile_peer`] plays a process that shares a socket and writes
//! anything into its shared memory, while the victim uses it and another
//! socket whose bytes must stay intact.
//!
//! [`c_abi`] does the same through `libmagenta`'s C entry points, with NULL
//! and (in strict pointer mode) invalid pointers, odd sizes and junk
//! options.
//!
//! `fuzz/` runs both under libFuzzer; `cargo test -p mx-fuzz` runs them over
//! the seed corpora in `fuzz/corpus/` and over generated inputs.

mod cabi;
mod hostile;

pub use cabi::c_abi;
pub use hostile::hostile_peer;

use std::collections::VecDeque;

use mx::core::abi::{WaitItem, SOCKET_HALF_CLOSE, WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING};
use mx::core::socket::SOCKET_CAPACITY;
use mx::storage::{Sink, Source};
use mx::sys;
use mx::{RawHandle, Rights, Signals, Status, Time};

/// Reads the fuzzer's bytes as small numbers.
struct Input<'a> {
    bytes: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    fn u32(&mut self) -> u32 {
        let mut v = 0u32;
        for _ in 0..4 {
            v = (v << 8) | u32::from(self.byte().unwrap_or(0));
        }
        v
    }
}

/// A source of `len` bytes that must never be read (sizes beyond 32 bits).
struct Huge(usize);

impl Source for Huge {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn copy_to_raw(&self, _offset: usize, _dst: *mut u8, _len: usize) -> Result<(), Status> {
        panic!("a size beyond 32 bits was copied");
    }
}

/// A sink of `len` bytes that must never be written.
struct HugeSink(usize);

impl Sink for HugeSink {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn write_from_raw(
        &mut self,
        _offset: usize,
        _src: *const u8,
        _len: usize,
    ) -> Result<(), Status> {
        panic!("a size beyond 32 bits was copied");
    }
}

/// What the model knows of one socket end.
#[derive(Debug, Default)]
struct EndModel {
    /// Live handles to this end.
    handles: u32,
    /// Half-closed its writing.
    shut: bool,
    /// Payload bytes waiting to be read here (datagram lengths, or one entry
    /// per write for a stream).
    queued: VecDeque<usize>,
}

impl EndModel {
    fn outstanding(&self) -> usize {
        self.queued.iter().sum()
    }
}

/// The kind of read decoded.
#[derive(Copy, Clone, Debug)]
enum Read {
    /// `NULL, 0`: the outstanding byte count.
    Query,
    /// A size beyond 32 bits.
    Huge,
    /// Into a buffer of this size.
    Into(usize),
}

/// What a handle value names, as the model sees it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Named {
    Socket { pair: usize, side: usize },
    Other { object: usize },
}

/// The harness state.
struct Harness {
    /// Every handle value handed out, with what it named and its rights,
    /// and whether it is still live.
    handles: Vec<(RawHandle, Named, Rights, bool)>,
    /// Socket pairs: datagram mode and the two ends.
    pairs: Vec<(bool, [EndModel; 2])>,
    /// Handle counts of events, eventpair ends and ports, with the object
    /// each belongs to (the two ends of an eventpair are one object).
    others: Vec<(u32, usize)>,
    /// Objects other than socket pairs created so far.
    groups: usize,
    objects_before: usize,
}

fn expect(what: &str, status: Status, allowed: &[Status]) {
    assert!(allowed.contains(&status), "{what}: unexpected {status}");
}

impl Harness {
    fn new() -> Harness {
        Harness {
            handles: Vec::new(),
            pairs: Vec::new(),
            others: Vec::new(),
            groups: 0,
            objects_before: mx::sys::ext::live_objects(),
        }
    }

    /// A handle value to use: a known one (maybe closed), or made up.
    fn pick(&self, input: &mut Input<'_>) -> (RawHandle, Option<usize>) {
        let b = input.byte().unwrap_or(0);
        if self.handles.is_empty() || b >= 250 {
            return (
                match b % 3 {
                    0 => 0,
                    1 => -1,
                    _ => input.u32() as RawHandle,
                },
                None,
            );
        }
        let i = usize::from(b) % self.handles.len();
        (self.handles[i].0, Some(i))
    }

    fn live(&self, index: Option<usize>) -> Option<(Named, Rights)> {
        let (_, named, rights, live) = self.handles[index?];
        live.then_some((named, rights))
    }

    fn add(&mut self, handle: RawHandle, named: Named, rights: Rights) {
        self.handles.push((handle, named, rights, true));
    }

    fn end(&mut self, pair: usize, side: usize) -> &mut EndModel {
        &mut self.pairs[pair].1[side]
    }

    fn count(&mut self, named: Named, delta: i32) {
        let count = match named {
            Named::Socket { pair, side } => &mut self.end(pair, side).handles,
            Named::Other { object } => &mut self.others[object].0,
        };
        *count = count.checked_add_signed(delta).expect("handle count");
        if let Named::Socket { pair, side } = named {
            if self.pairs[pair].1[side].handles == 0 {
                // Closing an end drops what it had to read.
                self.pairs[pair].1[side].queued.clear();
            }
        }
    }

    fn size(input: &mut Input<'_>) -> usize {
        match input.byte().unwrap_or(0) % 8 {
            0 => 0,
            1 => 1,
            2 => SOCKET_CAPACITY - 1,
            3 => SOCKET_CAPACITY,
            4 => SOCKET_CAPACITY + 1,
            5 => usize::from(input.byte().unwrap_or(0)) * 1000,
            _ => usize::from(input.byte().unwrap_or(0)),
        }
    }

    fn rights(input: &mut Input<'_>) -> Rights {
        match input.byte().unwrap_or(0) % 4 {
            0 => Rights::SAME_RIGHTS,
            _ => Rights::from_bits_retain(input.u32() & 0x3fff),
        }
    }

    /// Applies one decoded call; returns `false` at the end of the input.
    fn step(&mut self, input: &mut Input<'_>, bytes: &mut [u8]) -> bool {
        let Some(op) = input.byte() else { return false };
        match op % 19 {
            0 => {
                let options = if input.byte().unwrap_or(0) < 240 {
                    u32::from(op & 1)
                } else {
                    input.u32()
                };
                match sys::socket_create(options) {
                    Ok((a, b)) => {
                        let datagram = options == 1;
                        self.pairs.push((
                            datagram,
                            [
                                EndModel {
                                    handles: 1,
                                    ..Default::default()
                                },
                                EndModel {
                                    handles: 1,
                                    ..Default::default()
                                },
                            ],
                        ));
                        let pair = self.pairs.len() - 1;
                        self.add(a, Named::Socket { pair, side: 0 }, Rights::SOCKET_DEFAULT);
                        self.add(b, Named::Socket { pair, side: 1 }, Rights::SOCKET_DEFAULT);
                    }
                    Err(status) => {
                        assert!(options > 1, "socket_create({options}): {status}");
                        assert_eq!(status, Status::INVALID_ARGS);
                    }
                }
            }
            1..=3 => {
                let options = if input.byte().unwrap_or(0) < 240 {
                    0
                } else {
                    input.u32()
                };
                let (created, rights, two) = match op % 19 {
                    1 => (
                        sys::event_create(options).map(|h| (h, 0)),
                        Rights::EVENT_DEFAULT,
                        false,
                    ),
                    2 => (
                        sys::eventpair_create(options),
                        Rights::EVENTPAIR_DEFAULT,
                        true,
                    ),
                    _ => (
                        sys::port_create(options).map(|h| (h, 0)),
                        Rights::PORT_DEFAULT,
                        false,
                    ),
                };
                match created {
                    Ok((a, b)) => {
                        let group = self.groups;
                        self.groups += 1;
                        for h in if two { vec![a, b] } else { vec![a] } {
                            self.others.push((1, group));
                            self.add(
                                h,
                                Named::Other {
                                    object: self.others.len() - 1,
                                },
                                rights,
                            );
                        }
                    }
                    Err(status) => {
                        assert_ne!(options, 0);
                        expect(
                            "create",
                            status,
                            &[Status::INVALID_ARGS, Status::NOT_SUPPORTED],
                        );
                    }
                }
            }
            4 => {
                let (h, i) = self.pick(input);
                let half_close = input.byte().unwrap_or(0).is_multiple_of(8);
                let size = Self::size(input);
                let huge = input.byte().unwrap_or(0) == 255;
                let options = if half_close { SOCKET_HALF_CLOSE } else { 0 };
                let result = if huge {
                    sys::socket_write(h, options, &Huge((1 << 32) + size))
                } else {
                    let fill = input.byte().unwrap_or(0);
                    bytes[..size].fill(fill);
                    sys::socket_write(h, options, &bytes[..size])
                };
                self.check_write(
                    i,
                    h,
                    half_close,
                    if huge { (1 << 32) + size } else { size },
                    result,
                );
            }
            5 => {
                let (h, i) = self.pick(input);
                let options = if input.byte().unwrap_or(0) < 250 {
                    0
                } else {
                    input.u32()
                };
                let size = Self::size(input);
                let (kind, result) = match input.byte().unwrap_or(0) % 8 {
                    0 => (Read::Query, sys::socket_read::<[u8]>(h, options, None)),
                    1 => (
                        Read::Huge,
                        sys::socket_read(h, options, Some(&mut HugeSink((1 << 32) + size))),
                    ),
                    _ => (
                        Read::Into(size),
                        sys::socket_read(h, options, Some(&mut bytes[..size])),
                    ),
                };
                self.check_read(i, options, kind, result);
            }
            6 => {
                let (h, i) = self.pick(input);
                let result = sys::handle_close(h);
                match self.live(i) {
                    Some((named, _)) => {
                        assert_eq!(result, Ok(()));
                        self.handles[i.unwrap()].3 = false;
                        self.count(named, -1);
                    }
                    None if h == 0 => assert_eq!(result, Ok(())),
                    None => assert_eq!(result, Err(Status::BAD_HANDLE)),
                }
            }
            7 | 8 => {
                let (h, i) = self.pick(input);
                let rights = Self::rights(input);
                let replace = op % 19 == 8;
                let result = if replace {
                    sys::handle_replace(h, rights)
                } else {
                    sys::handle_duplicate(h, rights)
                };
                match (self.live(i), result) {
                    (Some((named, held)), Ok(new)) => {
                        let got = if rights == Rights::SAME_RIGHTS {
                            held
                        } else {
                            rights
                        };
                        assert!(held.contains(got));
                        if replace {
                            self.handles[i.unwrap()].3 = false;
                        } else {
                            self.count(named, 1);
                        }
                        self.add(new, named, got);
                    }
                    (Some((_, held)), Err(status)) => {
                        if !replace && !held.contains(Rights::DUPLICATE) {
                            assert_eq!(status, Status::ACCESS_DENIED);
                        } else {
                            assert_eq!(
                                status,
                                Status::INVALID_ARGS,
                                "rights {rights:?} of {held:?}"
                            );
                        }
                    }
                    (None, result) => assert_eq!(result.map(|_| ()), Err(Status::BAD_HANDLE)),
                }
            }
            9 | 10 => {
                let (h, i) = self.pick(input);
                let clear = Signals::from_bits_retain(input.u32());
                let set = Signals::from_bits_retain(input.u32());
                let result = if op % 19 == 9 {
                    sys::object_signal(h, clear, set)
                } else {
                    sys::object_signal_peer(h, clear, set)
                };
                if self.live(i).is_none() {
                    assert_eq!(result, Err(Status::BAD_HANDLE));
                } else if let Err(status) = result {
                    expect(
                        "signal",
                        status,
                        &[
                            Status::ACCESS_DENIED,
                            Status::INVALID_ARGS,
                            Status::NOT_SUPPORTED,
                            Status::PEER_CLOSED,
                        ],
                    );
                }
            }
            11 => {
                let (h, i) = self.pick(input);
                let signals = Signals::from_bits_retain(input.u32());
                match sys::object_wait_one(h, signals, Time::ZERO) {
                    Ok(observed) => assert!(observed.intersects(signals)),
                    Err(error) => {
                        if self.live(i).is_none() {
                            assert_eq!(error.status, Status::BAD_HANDLE);
                        } else {
                            expect(
                                "wait_one",
                                error.status,
                                &[
                                    Status::TIMED_OUT,
                                    Status::ACCESS_DENIED,
                                    Status::NOT_SUPPORTED,
                                ],
                            );
                        }
                    }
                }
            }
            12 => {
                let n = usize::from(input.byte().unwrap_or(0) % 5);
                let mut items: Vec<WaitItem> = (0..n)
                    .map(|_| WaitItem {
                        handle: self.pick(input).0,
                        waitfor: Signals::from_bits_retain(input.u32()),
                        pending: Signals::NONE,
                    })
                    .collect();
                if let Err(status) = sys::object_wait_many(&mut items, Time::ZERO) {
                    expect(
                        "wait_many",
                        status,
                        &[
                            Status::TIMED_OUT,
                            Status::BAD_HANDLE,
                            Status::ACCESS_DENIED,
                            Status::NOT_SUPPORTED,
                        ],
                    );
                }
            }
            13 => {
                let (h, i) = self.pick(input);
                let topic = u32::from(input.byte().unwrap_or(0) % 4);
                let size = usize::from(input.byte().unwrap_or(0) % 48);
                let result = sys::object_get_info(h, topic, &mut bytes[..size]);
                if let Err(error) = result {
                    let allowed: &[Status] = if self.live(i).is_none() {
                        &[Status::BAD_HANDLE]
                    } else {
                        // Topic 3 (MX_INFO_PROCESS) is a topic of processes:
                        // READ is checked, then the kind.
                        &[
                            Status::BUFFER_TOO_SMALL,
                            Status::NOT_SUPPORTED,
                            Status::ACCESS_DENIED,
                            Status::WRONG_TYPE,
                        ]
                    };
                    expect("get_info", error.status, allowed);
                }
            }
            14 | 15 => {
                let (h, i) = self.pick(input);
                let size = usize::from(input.byte().unwrap_or(0).is_multiple_of(8));
                let status = if op % 19 == 14 {
                    sys::port_queue(h, &Default::default(), size).err()
                } else {
                    sys::port_wait(h, Time::ZERO, size).err()
                };
                if let Some(status) = status {
                    let allowed: &[Status] = if size != 0 {
                        &[Status::INVALID_ARGS]
                    } else if self.live(i).is_none() {
                        &[Status::BAD_HANDLE]
                    } else {
                        &[Status::ACCESS_DENIED, Status::WRONG_TYPE, Status::TIMED_OUT]
                    };
                    expect("port_queue/wait", status, allowed);
                }
            }
            16 => {
                let (h, _) = self.pick(input);
                let (port, _) = self.pick(input);
                let key = u64::from(input.byte().unwrap_or(0));
                let signals = Signals::from_bits_retain(input.u32());
                let options = match input.byte().unwrap_or(0) % 8 {
                    0 => input.u32(),
                    1..=3 => WAIT_ASYNC_REPEATING,
                    _ => WAIT_ASYNC_ONCE,
                };
                if let Err(status) = sys::object_wait_async(h, port, key, signals, options) {
                    expect(
                        "wait_async",
                        status,
                        &[
                            Status::BAD_HANDLE,
                            Status::ACCESS_DENIED,
                            Status::WRONG_TYPE,
                            Status::NOT_SUPPORTED,
                            Status::INVALID_ARGS,
                        ],
                    );
                }
            }
            17 => {
                let (port, _) = self.pick(input);
                let (h, _) = self.pick(input);
                let key = u64::from(input.byte().unwrap_or(0));
                if let Err(status) = sys::port_cancel(port, h, key) {
                    expect(
                        "port_cancel",
                        status,
                        &[
                            Status::BAD_HANDLE,
                            Status::ACCESS_DENIED,
                            Status::WRONG_TYPE,
                            Status::NOT_FOUND,
                        ],
                    );
                }
            }
            _ => {
                // Drain a port, so async waits keep firing.
                let (h, _) = self.pick(input);
                while sys::port_wait(h, Time::ZERO, 0).is_ok() {}
            }
        }
        true
    }

    fn check_write(
        &mut self,
        i: Option<usize>,
        h: RawHandle,
        half_close: bool,
        size: usize,
        result: Result<usize, Status>,
    ) {
        let Some((named, rights)) = self.live(i) else {
            assert_eq!(result, Err(Status::BAD_HANDLE), "write through {h:#x}");
            return;
        };
        let Named::Socket { pair, side } = named else {
            let status = result.expect_err("write to a non-socket");
            expect(
                "write",
                status,
                &[Status::ACCESS_DENIED, Status::WRONG_TYPE],
            );
            return;
        };
        if !rights.contains(Rights::WRITE) {
            assert_eq!(result, Err(Status::ACCESS_DENIED));
            return;
        }
        let datagram = self.pairs[pair].0;
        let peer_open = self.pairs[pair].1[1 - side].handles > 0;
        let shut = self.pairs[pair].1[side].shut;
        let room = SOCKET_CAPACITY - self.pairs[pair].1[1 - side].outstanding();
        let want = if half_close {
            if size != 0 {
                Err(Status::INVALID_ARGS)
            } else if shut {
                Ok(0)
            } else if !peer_open {
                Err(Status::PEER_CLOSED)
            } else {
                Ok(0)
            }
        } else if !peer_open {
            Err(Status::PEER_CLOSED)
        } else if shut {
            Err(Status::BAD_STATE)
        } else if size == 0 {
            Ok(0)
        } else if size > u32::MAX as usize {
            Err(Status::INVALID_ARGS)
        } else if room == 0 || (datagram && size > room) {
            Err(Status::SHOULD_WAIT)
        } else {
            Ok(size.min(room))
        };
        assert_eq!(
            result, want,
            "write of {size} (half-close {half_close}) at {pair}/{side}"
        );
        match (half_close, result) {
            (true, Ok(_)) => self.end(pair, side).shut = true,
            (false, Ok(n)) if n > 0 => self.end(pair, 1 - side).queued.push_back(n),
            _ => {}
        }
    }

    fn check_read(
        &mut self,
        i: Option<usize>,
        options: u32,
        kind: Read,
        result: Result<usize, Status>,
    ) {
        if options != 0 {
            assert_eq!(result, Err(Status::INVALID_ARGS));
            return;
        }
        let Some((named, rights)) = self.live(i) else {
            assert_eq!(result, Err(Status::BAD_HANDLE));
            return;
        };
        let Named::Socket { pair, side } = named else {
            expect(
                "read",
                result.expect_err("read from a non-socket"),
                &[Status::ACCESS_DENIED, Status::WRONG_TYPE],
            );
            return;
        };
        if !rights.contains(Rights::READ) {
            assert_eq!(result, Err(Status::ACCESS_DENIED));
            return;
        }
        let datagram = self.pairs[pair].0;
        let peer = &self.pairs[pair].1[1 - side];
        let peer_done = peer.handles == 0 || peer.shut;
        let this = &mut self.pairs[pair].1[side];
        let size = match kind {
            Read::Query => {
                assert_eq!(result, Ok(this.outstanding()), "outstanding query");
                return;
            }
            Read::Huge => {
                assert_eq!(result, Err(Status::INVALID_ARGS), "size beyond 32 bits");
                return;
            }
            Read::Into(size) => size,
        };
        if this.queued.is_empty() {
            let want = if peer_done {
                Status::PEER_CLOSED
            } else {
                Status::SHOULD_WAIT
            };
            assert_eq!(result, Err(want), "read from an empty socket");
            return;
        }
        let n = result.expect("read from a non-empty socket");
        if size == 0 {
            assert_eq!(n, 0);
        } else if datagram {
            let len = this.queued.pop_front().expect("a datagram");
            assert_eq!(n, size.min(len), "datagram read");
        } else {
            assert_eq!(n, size.min(this.outstanding()), "stream read");
            let mut left = n;
            while left > 0 {
                let front = this.queued.front_mut().expect("queued bytes");
                let take = left.min(*front);
                *front -= take;
                left -= take;
                if *front == 0 {
                    this.queued.pop_front();
                }
            }
        }
    }

    /// The invariants that hold between any two calls.
    fn check(&self) {
        let mut objects = 0;
        for (pair, (_, ends)) in self.pairs.iter().enumerate() {
            if ends.iter().any(|e| e.handles > 0) {
                objects += 1;
            }
            for side in 0..2 {
                let this = &ends[side];
                let peer = &ends[1 - side];
                let Some(&(h, ..)) = self.handles.iter().find(|(_, n, r, live)| {
                    *live && *n == Named::Socket { pair, side } && r.contains(Rights::READ)
                }) else {
                    continue;
                };
                assert_eq!(
                    sys::socket_read::<[u8]>(h, 0, None),
                    Ok(this.outstanding()),
                    "bytes conserved at {pair}/{side}"
                );
                let signals = match sys::object_wait_one(h, Signals::NONE, Time::ZERO) {
                    Err(error) => error.value.expect("observed"),
                    Ok(signals) => signals,
                };
                let mut want = Signals::NONE;
                if !this.queued.is_empty() {
                    want |= Signals::READABLE;
                }
                if peer.handles == 0 || peer.shut {
                    want |= Signals::PEER_CLOSED;
                }
                if !this.shut && peer.handles > 0 && peer.outstanding() < SOCKET_CAPACITY {
                    want |= Signals::WRITABLE;
                }
                if this.handles == 1 {
                    want |= Signals::LAST_HANDLE;
                }
                let mask = Signals::READABLE
                    | Signals::WRITABLE
                    | Signals::PEER_CLOSED
                    | Signals::LAST_HANDLE;
                assert_eq!(signals & mask, want, "signals of {pair}/{side}");
            }
        }
        let mut groups: Vec<usize> = self
            .others
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(_, g)| *g)
            .collect();
        groups.dedup();
        objects += groups.len();
        assert_eq!(
            mx::sys::ext::live_objects(),
            self.objects_before + objects,
            "live objects are those with handles"
        );
    }

    /// Closes every live handle and checks that every object is freed.
    fn finish(self) {
        for &(h, _, _, live) in &self.handles {
            if live {
                sys::handle_close(h).unwrap();
            }
        }
        assert_eq!(
            mx::sys::ext::live_objects(),
            self.objects_before,
            "objects leaked"
        );
    }
}

/// The system-call harness: runs the calls `data` encodes, checking the
/// invariants after each (see the crate docs). Panics on a violation.
pub fn syscalls(data: &[u8]) {
    let mut input = Input { bytes: data };
    let mut harness = Harness::new();
    let mut bytes = vec![0u8; SOCKET_CAPACITY + 2];
    let mut steps = 0;
    while steps < 200 && harness.step(&mut input, &mut bytes) {
        harness.check();
        steps += 1;
    }
    harness.finish();
}

/// Deterministic pseudo-random input bytes (xorshift), for the smoke tests
/// that run the harnesses without libFuzzer.
pub fn generated(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Runs `harness` over every input of the seed corpus `fuzz/corpus/<name>`
/// (for the smoke tests); returns how many there were and the sum of what
/// the harness returned.
///
/// # Panics
/// If the corpus cannot be read (or the harness panics).
pub fn over_corpus(name: &str, mut harness: impl FnMut(&[u8]) -> usize) -> (usize, usize) {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut seeds = 0;
    let mut total = 0;
    for entry in std::fs::read_dir(&corpus).expect("seed corpus") {
        let data = std::fs::read(entry.expect("corpus entry").path()).expect("corpus file");
        total += harness(&data);
        seeds += 1;
    }
    (seeds, total)
}

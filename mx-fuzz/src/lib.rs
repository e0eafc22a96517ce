//! Fuzzing harnesses.
//!
//! [`syscalls`] decodes arbitrary bytes into a sequence of system calls
//! (through `mx::sys`) on a handful of objects, including stale and made-up
//! handle values, odd options and sizes around the socket capacity, rights
//! reductions, half-closes and closes. Each call is made on the real
//! objects and on the reference [`model`] of the specification (the one the
//! model-based property test of `mx` uses too), which must agree:
//!
//! - nothing panics; creates, socket writes and reads (status, count and
//!   the bytes read), closes, duplicates and replaces (status and the new
//!   handle's rights), signals and waits give exactly the model's result;
//!   the other calls (waiting on many, information, ports) give a status
//!   the call may return;
//! - after every call, through one handle with `READ` of each open object,
//!   its signals (and a socket end's outstanding bytes) are the model's;
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
pub mod model;

pub use cabi::c_abi;
pub use hostile::hostile_peer;

use model::{Held, Kind, Model, ObjectId, SOCKET_CAPACITY};
use mx::core::abi::{WaitItem, SOCKET_HALF_CLOSE, WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING};
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

/// The harness state: the reference model, and every value handed out.
struct Harness {
    model: Model,
    /// Every handle value handed out (live or not), for picking.
    handles: Vec<RawHandle>,
    objects_before: usize,
}

fn expect(what: &str, status: Status, allowed: &[Status]) {
    assert!(allowed.contains(&status), "{what}: unexpected {status}");
}

impl Harness {
    fn new() -> Harness {
        Harness {
            model: Model::new(),
            handles: Vec::new(),
            objects_before: mx::sys::ext::live_objects(),
        }
    }

    /// A handle value to use: a known one (maybe closed), or made up.
    fn pick(&self, input: &mut Input<'_>) -> RawHandle {
        let b = input.byte().unwrap_or(0);
        if self.handles.is_empty() || b >= 250 {
            return match b % 3 {
                0 => 0,
                1 => -1,
                _ => input.u32() as RawHandle,
            };
        }
        self.handles[usize::from(b) % self.handles.len()]
    }

    /// Puts a handle the model made in the table under the real `value`.
    fn add(&mut self, held: Held, value: RawHandle) {
        self.model.place(held, value);
        self.handles.push(value);
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
                let got = sys::socket_create(options);
                let want = self.model.socket_create(options);
                match (got, want) {
                    (Ok((a, b)), Ok([ha, hb])) => {
                        self.add(ha, a);
                        self.add(hb, b);
                    }
                    (got, want) => assert_eq!(
                        got.map(|_| ()),
                        want.map(|_| ()),
                        "socket_create({options})"
                    ),
                }
            }
            1..=3 => {
                let options = if input.byte().unwrap_or(0) < 240 {
                    0
                } else {
                    input.u32()
                };
                let (got, want): (_, Result<Vec<Held>, Status>) = match op % 19 {
                    1 => (
                        sys::event_create(options).map(|h| vec![h]),
                        self.model.event_create(options).map(|h| vec![h]),
                    ),
                    2 => (
                        sys::eventpair_create(options).map(|(a, b)| vec![a, b]),
                        self.model.eventpair_create(options).map(Vec::from),
                    ),
                    _ => (
                        sys::port_create(options).map(|h| vec![h]),
                        self.model.port_create(options).map(|h| vec![h]),
                    ),
                };
                match (got, want) {
                    (Ok(values), Ok(held)) => {
                        for (held, value) in held.into_iter().zip(values) {
                            self.add(held, value);
                        }
                    }
                    (got, want) => assert_eq!(
                        got.map(|_| ()),
                        want.map(|_| ()),
                        "create ({op}, {options})"
                    ),
                }
            }
            4 => {
                let h = self.pick(input);
                let half_close = input.byte().unwrap_or(0).is_multiple_of(8);
                let size = Self::size(input);
                let huge = input.byte().unwrap_or(0) == 255;
                let options = if half_close { SOCKET_HALF_CLOSE } else { 0 };
                let (got, want) = if huge {
                    let size = (1 << 32) + size;
                    (
                        sys::socket_write(h, options, &Huge(size)),
                        self.model.socket_write_huge(h, options, size),
                    )
                } else {
                    let fill = input.byte().unwrap_or(0);
                    bytes[..size].fill(fill);
                    (
                        sys::socket_write(h, options, &bytes[..size]),
                        self.model.socket_write(h, options, &bytes[..size]),
                    )
                };
                assert_eq!(
                    got, want,
                    "write of {size} (half-close {half_close}, huge {huge}) through {h:#x}"
                );
            }
            5 => {
                let h = self.pick(input);
                let options = if input.byte().unwrap_or(0) < 250 {
                    0
                } else {
                    input.u32()
                };
                let size = Self::size(input);
                let kind = match input.byte().unwrap_or(0) % 8 {
                    0 => Read::Query,
                    1 => Read::Huge,
                    _ => Read::Into(size),
                };
                match kind {
                    Read::Query => assert_eq!(
                        sys::socket_read::<[u8]>(h, options, None),
                        self.model.socket_outstanding(h, options),
                        "outstanding query through {h:#x}"
                    ),
                    Read::Huge => {
                        let size = (1 << 32) + size;
                        assert_eq!(
                            sys::socket_read(h, options, Some(&mut HugeSink(size))),
                            self.model.socket_read(h, options, size).map(|d| d.len()),
                            "read of a size beyond 32 bits through {h:#x}"
                        );
                    }
                    Read::Into(size) => {
                        let got = sys::socket_read(h, options, Some(&mut bytes[..size]));
                        let want = self.model.socket_read(h, options, size);
                        assert_eq!(
                            got,
                            want.as_ref().map(Vec::len).map_err(|&s| s),
                            "read of {size} through {h:#x}"
                        );
                        if let Ok(data) = want {
                            assert!(bytes[..data.len()] == data[..], "bytes read");
                        }
                    }
                }
            }
            6 => {
                let h = self.pick(input);
                assert_eq!(
                    sys::handle_close(h),
                    self.model.handle_close(h),
                    "close {h:#x}"
                );
            }
            7 | 8 => {
                let h = self.pick(input);
                let rights = Self::rights(input);
                let replace = op % 19 == 8;
                let (got, want) = if replace {
                    (
                        sys::handle_replace(h, rights),
                        self.model.handle_replace(h, rights),
                    )
                } else {
                    (
                        sys::handle_duplicate(h, rights),
                        self.model.handle_duplicate(h, rights),
                    )
                };
                match (got, want) {
                    (Ok(new), Ok(held)) => {
                        let info = sys::object_get_info_handle_basic(new).expect("get_info");
                        assert_eq!(info.rights, held.rights(), "rights of {new:#x}");
                        self.add(held, new);
                    }
                    (got, want) => assert_eq!(
                        got.map(|_| ()),
                        want.map(|_| ()),
                        "duplicate/replace (replace {replace}) {h:#x} to {rights:?}"
                    ),
                }
            }
            9 | 10 => {
                let h = self.pick(input);
                let clear = Signals::from_bits_retain(input.u32());
                let set = Signals::from_bits_retain(input.u32());
                let peer = op % 19 == 10;
                let got = if peer {
                    sys::object_signal_peer(h, clear, set)
                } else {
                    sys::object_signal(h, clear, set)
                };
                let want = self.model.object_signal(h, peer, clear, set);
                assert_eq!(got, want, "signal (peer {peer}) through {h:#x}");
            }
            11 => {
                let h = self.pick(input);
                let signals = Signals::from_bits_retain(input.u32());
                assert_eq!(
                    sys::object_wait_one(h, signals, Time::ZERO),
                    self.model.object_wait_one(h, signals),
                    "wait_one through {h:#x}"
                );
            }
            12 => {
                let n = usize::from(input.byte().unwrap_or(0) % 5);
                let mut items: Vec<WaitItem> = (0..n)
                    .map(|_| WaitItem {
                        handle: self.pick(input),
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
                let h = self.pick(input);
                let topic = u32::from(input.byte().unwrap_or(0) % 4);
                let size = usize::from(input.byte().unwrap_or(0) % 48);
                let result = sys::object_get_info(h, topic, &mut bytes[..size]);
                if let Err(error) = result {
                    let allowed: &[Status] = if self.model.live(h).is_none() {
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
                let h = self.pick(input);
                let size = usize::from(input.byte().unwrap_or(0).is_multiple_of(8));
                let status = if op % 19 == 14 {
                    sys::port_queue(h, &Default::default(), size).err()
                } else {
                    sys::port_wait(h, Time::ZERO, size).err()
                };
                if let Some(status) = status {
                    let allowed: &[Status] = if size != 0 {
                        &[Status::INVALID_ARGS]
                    } else if self.model.live(h).is_none() {
                        &[Status::BAD_HANDLE]
                    } else {
                        &[Status::ACCESS_DENIED, Status::WRONG_TYPE, Status::TIMED_OUT]
                    };
                    expect("port_queue/wait", status, allowed);
                }
            }
            16 => {
                let h = self.pick(input);
                let port = self.pick(input);
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
                let port = self.pick(input);
                let h = self.pick(input);
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
                let h = self.pick(input);
                while sys::port_wait(h, Time::ZERO, 0).is_ok() {}
            }
        }
        true
    }

    /// The invariants that hold between any two calls: through one handle
    /// with `READ` of each open object, its signals (and, for a socket end,
    /// its outstanding bytes) are the model's; stale values act on nothing;
    /// the objects alive are those the model has.
    fn check(&self) {
        for id in (0..self.model.objects()).map(ObjectId) {
            let Some(&(h, _)) = self
                .model
                .handles(id)
                .iter()
                .find(|(_, r)| r.contains(Rights::READ))
            else {
                continue;
            };
            let kind = self.model.kind(id);
            if kind == Kind::Socket {
                assert_eq!(
                    sys::socket_read::<[u8]>(h, 0, None),
                    Ok(self.model.outstanding(id)),
                    "bytes conserved at {id:?}"
                );
            }
            if kind != Kind::Port {
                assert_eq!(
                    sys::object_wait_one(h, Signals::NONE, Time::ZERO),
                    self.model.object_wait_one(h, Signals::NONE),
                    "signals of {id:?} ({kind:?})"
                );
            }
        }
        for h in self.model.dead_values() {
            assert_eq!(
                sys::socket_read::<[u8]>(h, 0, None),
                Err(Status::BAD_HANDLE),
                "stale {h:#x}"
            );
        }
        assert_eq!(
            mx::sys::ext::live_objects(),
            self.objects_before + self.model.live_objects(),
            "live objects are those with handles"
        );
    }

    /// Closes every live handle and checks that every object is freed.
    fn finish(mut self) {
        for h in std::mem::take(&mut self.handles) {
            if self.model.live(h).is_some() {
                assert_eq!(sys::handle_close(h), self.model.handle_close(h));
            }
        }
        assert_eq!(self.model.live_objects(), 0, "the model leaked");
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

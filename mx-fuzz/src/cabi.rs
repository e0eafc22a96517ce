//! The C ABI harness: calls `libmagenta`'s `mx_*` entry points the way a C
//! program could: NULL pointers, odd sizes (0, 1, around the capacity,
//! beyond 32 bits, `SIZE_MAX`), junk options and clocks, made-up and
//! stale handles; in strict pointer mode also pointers to nothing.
//!
//! After every call it checks that the status is a known one (never
//! `MX_ERR_INTERNAL`), and that out-parameters are left alone on errors
//! (except `*observed` and the info counts, where SPEC says otherwise). At
//! the end it closes every handle and checks that every object is freed.
//!
//! This is the one place in the fuzzing code that is `unsafe`: it calls C
//! entry points, always with pointers that are NULL, valid for the size
//! passed (or for none of it, for sizes beyond 32 bits, which are refused
//! before any copy), or (strict mode only) invalid.

#![allow(unsafe_code)]

use core::ffi::c_void;
use core::ptr;

use magenta as c;
use mx::core::abi::{PortPacket, WaitItem};
use mx::core::socket::SOCKET_CAPACITY;
use mx::{RawHandle, Status};

/// An address no mapping covers (the first page is never mapped).
const NOWHERE: usize = 0x10;
/// A value out-parameters hold before a call, to see whether it wrote them.
const UNTOUCHED: usize = 0x5a5a_5a5a;

struct Input<'a> {
    bytes: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((&b, rest)) => {
                self.bytes = rest;
                b
            }
            None => 0,
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// What pointer to pass.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Pointer {
    Null,
    Valid,
    /// Strict mode only.
    Nowhere,
}

struct Harness {
    strict: bool,
    /// Calls that returned `MX_OK`.
    succeeded: usize,
    handles: Vec<RawHandle>,
    buffer: Vec<u8>,
    objects_before: usize,
}

/// Every status a call may return (never `INTERNAL`).
const KNOWN: [Status; 17] = [
    Status::OK,
    Status::NOT_SUPPORTED,
    Status::NO_RESOURCES,
    Status::NO_MEMORY,
    Status::INVALID_ARGS,
    Status::BAD_HANDLE,
    Status::WRONG_TYPE,
    Status::OUT_OF_RANGE,
    Status::BUFFER_TOO_SMALL,
    Status::BAD_STATE,
    Status::TIMED_OUT,
    Status::SHOULD_WAIT,
    Status::CANCELED,
    Status::PEER_CLOSED,
    Status::NOT_FOUND,
    Status::ACCESS_DENIED,
    Status::UNAVAILABLE,
];

fn known(what: &str, status: i32) -> Status {
    let status = Status::from_raw(status);
    assert!(KNOWN.contains(&status), "{what}: unexpected {status}");
    if status == Status::OK {
        SUCCEEDED.with(|n| n.set(n.get() + 1));
    }
    status
}

std::thread_local! {
    static SUCCEEDED: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

impl Harness {
    fn pointer(&self, input: &mut Input<'_>) -> Pointer {
        match input.byte() % 8 {
            0 => Pointer::Null,
            1 if self.strict => Pointer::Nowhere,
            _ => Pointer::Valid,
        }
    }

    fn handle(&self, input: &mut Input<'_>) -> RawHandle {
        let b = input.byte();
        if self.handles.is_empty() || b >= 240 {
            return [0, -1, i32::MAX, input.u32() as i32][usize::from(b % 4)];
        }
        self.handles[usize::from(b) % self.handles.len()]
    }

    /// A size: valid for the buffer, or beyond 32 bits (refused before any
    /// copy, so never read even though the buffer is shorter).
    fn size(&self, input: &mut Input<'_>) -> usize {
        match input.byte() % 8 {
            0 => 0,
            1 => 1,
            2 => SOCKET_CAPACITY,
            3 => SOCKET_CAPACITY + 1,
            4 => (1 << 32) + 1,
            5 => usize::MAX,
            _ => usize::from(input.byte()) * 37,
        }
    }

    /// A pointer of `kind` to `len` bytes (of the harness's buffer).
    fn bytes(&mut self, kind: Pointer) -> *mut c_void {
        match kind {
            Pointer::Null => ptr::null_mut(),
            Pointer::Valid => self.buffer.as_mut_ptr().cast(),
            Pointer::Nowhere => NOWHERE as *mut c_void,
        }
    }

    fn out<T>(kind: Pointer, slot: &mut T) -> *mut T {
        match kind {
            Pointer::Null => ptr::null_mut(),
            Pointer::Valid => slot,
            Pointer::Nowhere => NOWHERE as *mut T,
        }
    }

    /// A size safe to pass with `kind`: within the buffer for a valid
    /// pointer unless beyond 32 bits.
    fn fit(&self, kind: Pointer, size: usize) -> usize {
        if kind == Pointer::Valid && size <= u32::MAX as usize {
            size.min(self.buffer.len())
        } else {
            size
        }
    }

    fn step(&mut self, input: &mut Input<'_>) -> bool {
        if input.bytes.is_empty() {
            return false;
        }
        let op = input.byte() % 18;
        // SAFETY: for every call below, pointers are NULL, point into
        // `self.buffer` or a local with at least the size passed (or the
        // size is beyond 32 bits, refused before any copy), or are
        // `NOWHERE`, which only strict mode (which validates them) gets.
        unsafe {
            match op {
                0..=3 => {
                    let options = if input.byte() < 224 {
                        u32::from(input.byte() % 2)
                    } else {
                        input.u32()
                    };
                    let (k0, k1) = (self.pointer(input), self.pointer(input));
                    let (mut h0, mut h1) = (UNTOUCHED as RawHandle, UNTOUCHED as RawHandle);
                    let (p0, p1) = (Self::out(k0, &mut h0), Self::out(k1, &mut h1));
                    let status = match op {
                        0 => c::mx_socket_create(options, p0, p1),
                        1 => c::mx_event_create(options, p0),
                        2 => c::mx_eventpair_create(options, p0, p1),
                        _ => c::mx_port_create(options, p0),
                    };
                    let pair = op == 0 || op == 2;
                    if known("create", status) == Status::OK {
                        self.handles.push(h0);
                        if pair {
                            self.handles.push(h1);
                        }
                    } else {
                        assert_eq!(h0 as usize, UNTOUCHED, "out0 written on error");
                        assert_eq!(h1 as usize, UNTOUCHED, "out1 written on error");
                    }
                }
                4 | 5 => {
                    let h = self.handle(input);
                    let options = [0, 0, 0, 1, input.u32()][usize::from(input.byte() % 5)];
                    let kind = self.pointer(input);
                    let size = self.size(input);
                    let size = self.fit(kind, size);
                    let buffer = self.bytes(kind);
                    let actual_kind = self.pointer(input);
                    let mut actual = UNTOUCHED;
                    let actual_ptr = Self::out(actual_kind, &mut actual);
                    let status = if op == 4 {
                        c::mx_socket_write(h, options, buffer, size, actual_ptr)
                    } else {
                        c::mx_socket_read(h, options, buffer, size, actual_ptr)
                    };
                    if known("socket_write/read", status) != Status::OK {
                        assert_eq!(actual, UNTOUCHED, "*actual written on error");
                    } else if actual_kind == Pointer::Valid {
                        assert!(
                            actual <= size || (op == 5 && buffer.is_null()),
                            "*actual {actual} > {size}"
                        );
                    }
                }
                6 => {
                    let h = self.handle(input);
                    if c::mx_handle_close(h) == 0 {
                        self.handles.retain(|&x| x != h);
                    }
                }
                7 | 8 => {
                    let h = self.handle(input);
                    let rights = if input.byte() < 128 {
                        1 << 31
                    } else {
                        input.u32()
                    };
                    let kind = self.pointer(input);
                    let mut out = UNTOUCHED as RawHandle;
                    let status = if op == 7 {
                        c::mx_handle_duplicate(h, rights, Self::out(kind, &mut out))
                    } else {
                        c::mx_handle_replace(h, rights, Self::out(kind, &mut out))
                    };
                    if known("duplicate/replace", status) == Status::OK {
                        if op == 8 {
                            self.handles.retain(|&x| x != h);
                        }
                        self.handles.push(out);
                    } else {
                        assert_eq!(out as usize, UNTOUCHED, "out written on error");
                    }
                }
                9 => {
                    let h = self.handle(input);
                    let (clear, set) = (input.u32(), input.u32());
                    let status = if input.byte().is_multiple_of(2) {
                        c::mx_object_signal(h, clear, set)
                    } else {
                        c::mx_object_signal_peer(h, clear, set)
                    };
                    known("signal", status);
                }
                10 => {
                    let h = self.handle(input);
                    let signals = input.u32();
                    let kind = self.pointer(input);
                    let mut observed = UNTOUCHED as u32;
                    let status = known(
                        "wait_one",
                        c::mx_object_wait_one(h, signals, 0, Self::out(kind, &mut observed)),
                    );
                    if !matches!(status, Status::OK | Status::TIMED_OUT) {
                        assert_eq!(
                            observed as usize, UNTOUCHED,
                            "*observed written on {status}"
                        );
                    }
                }
                11 => {
                    let count: u32 = [0, 1, 3, 1025, u32::MAX][usize::from(input.byte() % 5)];
                    let kind = self.pointer(input);
                    let mut items: Vec<WaitItem> = (0..3)
                        .map(|_| WaitItem {
                            handle: self.handle(input),
                            waitfor: mx::Signals::from_bits_retain(input.u32()),
                            pending: mx::Signals::NONE,
                        })
                        .collect();
                    // A count beyond the items is passed only with a pointer
                    // the call refuses before reading (NULL, or a count over
                    // the limit).
                    let (ptr, count) = match kind {
                        Pointer::Null => (ptr::null_mut(), count),
                        Pointer::Nowhere => (NOWHERE as *mut WaitItem, count),
                        Pointer::Valid if count <= 3 => (items.as_mut_ptr(), count),
                        Pointer::Valid => (items.as_mut_ptr(), count.max(1025)),
                    };
                    known("wait_many", c::mx_object_wait_many(ptr, count, 0));
                }
                12 => {
                    let h = self.handle(input);
                    let topic = u32::from(input.byte() % 4);
                    let kind = self.pointer(input);
                    let size = self.fit(kind, self.size(input));
                    let buffer = self.bytes(kind);
                    let (ka, kv) = (self.pointer(input), self.pointer(input));
                    let (mut actual, mut avail) = (UNTOUCHED, UNTOUCHED);
                    let status = known(
                        "get_info",
                        c::mx_object_get_info(
                            h,
                            topic,
                            buffer,
                            size,
                            Self::out(ka, &mut actual),
                            Self::out(kv, &mut avail),
                        ),
                    );
                    if !matches!(status, Status::OK | Status::BUFFER_TOO_SMALL) {
                        assert_eq!(
                            (actual, avail),
                            (UNTOUCHED, UNTOUCHED),
                            "counts written on {status}"
                        );
                    }
                }
                13 | 14 => {
                    let h = self.handle(input);
                    let kind = self.pointer(input);
                    let size = [0, 0, 0, 48, usize::MAX][usize::from(input.byte() % 5)];
                    let mut packet = PortPacket {
                        key: u64::from(input.u32()),
                        ..PortPacket::default()
                    };
                    let p = Self::out(kind, &mut packet);
                    let status = if op == 13 {
                        c::mx_port_queue(h, p.cast(), size)
                    } else {
                        c::mx_port_wait(h, 0, p.cast(), size)
                    };
                    known("port_queue/wait", status);
                }
                15 => {
                    let (h, port) = (self.handle(input), self.handle(input));
                    let options = [0, 1, input.u32()][usize::from(input.byte() % 3)];
                    known(
                        "wait_async",
                        c::mx_object_wait_async(
                            h,
                            port,
                            u64::from(input.byte()),
                            input.u32(),
                            options,
                        ),
                    );
                }
                16 => {
                    let (port, h) = (self.handle(input), self.handle(input));
                    known(
                        "port_cancel",
                        c::mx_port_cancel(port, h, u64::from(input.byte())),
                    );
                }
                _ => {
                    let _ = c::mx_time_get(input.u32());
                    let _ = c::mx_deadline_after(u64::from(input.u32()) << (input.byte() % 40));
                    assert_eq!(c::mx_nanosleep(0), 0);
                }
            }
        }
        true
    }
}

/// Runs the C calls `data` encodes (see the module docs); `strict` says
/// whether the process runs with `MX_STRICT_POINTERS=1` (then invalid
/// pointers are passed too). Returns how many calls succeeded. Panics on a
/// violation.
pub fn c_abi(data: &[u8], strict: bool) -> usize {
    SUCCEEDED.with(|n| n.set(0));
    let mut harness = Harness {
        strict,
        succeeded: 0,
        handles: Vec::new(),
        buffer: vec![0u8; SOCKET_CAPACITY + 2],
        objects_before: mx::sys::ext::live_objects(),
    };
    let mut input = Input { bytes: data };
    let mut steps = 0;
    while steps < 200 && harness.step(&mut input) {
        steps += 1;
    }
    for h in std::mem::take(&mut harness.handles) {
        let status = c::mx_handle_close(h);
        assert!(status == 0 || Status::from_raw(status) == Status::BAD_HANDLE);
    }
    assert_eq!(
        mx::sys::ext::live_objects(),
        harness.objects_before,
        "objects leaked"
    );
    harness.succeeded = SUCCEEDED.with(|n| n.get());
    harness.succeeded
}

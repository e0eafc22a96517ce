//! Conformance tests: one test per statement of `SPEC.md` sections 1-6, 8
//! and 10, through `mx::sys` and raw handle values, grouped by area and
//! named by system call and scenario.
//!
//! Every socket scenario checks the signals of both ends after each step.
//! Blocking tests use deadlines, so a bug fails a test instead of hanging
//! the suite; timing assertions leave generous margins.
//!
//! The binary's allocator is the system's, except on a thread inside
//! [`failing_nth`], whose n-th allocation fails: that is how the
//! `NO_MEMORY` statements are reached. Other threads never see a failure.

mod channel;
mod event;
mod handle;
mod info;
mod signal;
mod socket;
mod system;
mod time;
mod wait;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use mx::core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx::storage::{Sink, Source};
use mx::sys::{self, ErrorWith};
use mx::{HandleBasicInfo, RawHandle, Rights, Signals, Status, Time};

/// Payload bytes each direction of a socket holds.
pub(crate) const CAP: usize = 257_024;

/// `MX_SOCKET_READABLE`.
pub(crate) const R: Signals = Signals::READABLE;
/// `MX_SOCKET_WRITABLE`.
pub(crate) const W: Signals = Signals::WRITABLE;
/// `MX_SOCKET_PEER_CLOSED` (and `MX_EPAIR_PEER_CLOSED`).
pub(crate) const P: Signals = Signals::PEER_CLOSED;
/// `MX_SIGNAL_LAST_HANDLE`.
pub(crate) const L: Signals = Signals::LAST_HANDLE;
/// No signals.
pub(crate) const NONE: Signals = Signals::NONE;

/// Both ends of a socket or eventpair, closed (if still open) when dropped.
pub(crate) struct Pair {
    pub(crate) a: RawHandle,
    pub(crate) b: RawHandle,
}

impl Pair {
    pub(crate) fn stream() -> Pair {
        let (a, b) = sys::socket_create(SOCKET_STREAM).expect("socket_create(STREAM)");
        Pair { a, b }
    }

    pub(crate) fn datagram() -> Pair {
        let (a, b) = sys::socket_create(SOCKET_DATAGRAM).expect("socket_create(DATAGRAM)");
        Pair { a, b }
    }

    /// A stream pair and a datagram pair, for statements that hold in both
    /// modes.
    pub(crate) fn both_modes() -> [Pair; 2] {
        [Pair::stream(), Pair::datagram()]
    }

    pub(crate) fn eventpair() -> Pair {
        let (a, b) = sys::eventpair_create(0).expect("eventpair_create");
        Pair { a, b }
    }

    pub(crate) fn channel() -> Pair {
        let (a, b) = sys::channel_create(0).expect("channel_create");
        Pair { a, b }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // The test may have closed either end already.
        let _ = sys::handle_close(self.a);
        let _ = sys::handle_close(self.b);
    }
}

/// One handle, closed (if still open) when dropped.
pub(crate) struct Owned(pub(crate) RawHandle);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = sys::handle_close(self.0);
    }
}

/// A new event, closed when dropped.
pub(crate) fn event() -> Owned {
    Owned(sys::event_create(0).expect("event_create"))
}

/// The current signals of `h`, read with a zero-deadline wait for nothing,
/// which reports them with `TIMED_OUT`.
#[track_caller]
pub(crate) fn signals(h: RawHandle) -> Signals {
    match sys::object_wait_one(h, NONE, Time::ZERO) {
        Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(observed),
        }) => observed,
        other => panic!("object_wait_one({h}, NONE, 0) = {other:?}"),
    }
}

/// Asserts the signals of one handle.
#[track_caller]
pub(crate) fn expect(h: RawHandle, want: Signals) {
    assert_eq!(signals(h), want, "signals of handle {h}");
}

/// Asserts the signals of both ends of a pair.
#[track_caller]
pub(crate) fn expect_both(pair: &Pair, a: Signals, b: Signals) {
    let got = (signals(pair.a), signals(pair.b));
    assert_eq!(got, (a, b), "signals of (a, b)");
}

/// `mx_socket_write` with options 0.
pub(crate) fn write(h: RawHandle, bytes: &[u8]) -> Result<usize, Status> {
    sys::socket_write(h, 0, bytes)
}

/// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE` and no bytes.
pub(crate) fn half_close(h: RawHandle) -> Result<usize, Status> {
    sys::socket_write(h, SOCKET_HALF_CLOSE, &[][..])
}

/// `mx_socket_read` of up to `size` bytes; returns what was read.
pub(crate) fn read(h: RawHandle, size: usize) -> Result<Vec<u8>, Status> {
    let mut buf = vec![0u8; size];
    let n = sys::socket_read(h, 0, Some(&mut buf[..]))?;
    assert!(n <= size, "read {n} bytes into {size}");
    buf.truncate(n);
    Ok(buf)
}

/// `mx_socket_read(h, 0, NULL, 0, &actual)`: the outstanding bytes.
pub(crate) fn outstanding(h: RawHandle) -> Result<usize, Status> {
    sys::socket_read::<[u8]>(h, 0, None)
}

/// `mx_handle_duplicate`, expected to succeed.
#[track_caller]
pub(crate) fn dup(h: RawHandle, rights: Rights) -> RawHandle {
    sys::handle_duplicate(h, rights).expect("handle_duplicate")
}

/// `mx_handle_close`, expected to succeed.
#[track_caller]
pub(crate) fn close(h: RawHandle) {
    sys::handle_close(h).expect("handle_close");
}

/// `MX_INFO_HANDLE_BASIC`, expected to succeed.
#[track_caller]
pub(crate) fn info(h: RawHandle) -> HandleBasicInfo {
    sys::object_get_info_handle_basic(h).expect("object_get_info(HANDLE_BASIC)")
}

/// `n` bytes of a pattern that differs from write to write (`seed`).
pub(crate) fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Fills the direction `writer` -> peer to exactly the capacity.
#[track_caller]
pub(crate) fn fill(writer: RawHandle) {
    let mut left = CAP;
    while left > 0 {
        let chunk = left.min(64 * 1024);
        assert_eq!(write(writer, &pattern(7, chunk)), Ok(chunk));
        left -= chunk;
    }
}

/// A deadline `ms` milliseconds from now.
pub(crate) fn after_ms(ms: u64) -> Time {
    sys::deadline_after(ms * 1_000_000)
}

/// Milliseconds from `start` to now, on the monotonic clock.
pub(crate) fn elapsed_ms(start: Time) -> u64 {
    (sys::time_get(0).0 - start.0) / 1_000_000
}

/// A source that claims more bytes than fit in 32 bits and must never be
/// copied from: the size check comes first.
pub(crate) struct HugeSource;

/// `(1 << 32) + 1`: the smallest size that does not fit in 32 bits, plus one.
pub(crate) const HUGE: usize = (1 << 32) + 1;

impl Source for HugeSource {
    fn len(&self) -> usize {
        HUGE
    }

    unsafe fn copy_to_raw(&self, _offset: usize, _dst: *mut u8, _len: usize) -> Result<(), Status> {
        panic!("a write of more than u32::MAX bytes must not copy");
    }
}

/// A sink that claims more room than fits in 32 bits and must never be
/// written to.
pub(crate) struct HugeSink;

impl Sink for HugeSink {
    fn len(&self) -> usize {
        HUGE
    }

    unsafe fn write_from_raw(
        &mut self,
        _offset: usize,
        _src: *const u8,
        _len: usize,
    ) -> Result<(), Status> {
        panic!("a read of more than u32::MAX bytes must not copy");
    }
}

/// A source of exactly `u32::MAX` bytes (the largest size that fits),
/// producing zeros, that counts what was copied from it.
pub(crate) struct U32MaxSource {
    pub(crate) copied: std::cell::Cell<usize>,
}

impl Source for U32MaxSource {
    fn len(&self) -> usize {
        u32::MAX as usize
    }

    unsafe fn copy_to_raw(&self, _offset: usize, dst: *mut u8, len: usize) -> Result<(), Status> {
        // SAFETY: the caller promises `dst` is valid for `len` writes.
        unsafe { dst.write_bytes(0, len) };
        self.copied.set(self.copied.get() + len);
        Ok(())
    }
}

/// A sink of exactly `u32::MAX` bytes that keeps what is written to it.
pub(crate) struct U32MaxSink {
    pub(crate) got: Vec<u8>,
}

impl Sink for U32MaxSink {
    fn len(&self) -> usize {
        u32::MAX as usize
    }

    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        if self.got.len() < offset + len {
            self.got.resize(offset + len, 0);
        }
        // SAFETY: the caller promises `src` is valid for `len` reads; it is
        // not our vector, which we hold exclusively.
        let src = unsafe { core::slice::from_raw_parts(src, len) };
        self.got[offset..offset + len].copy_from_slice(src);
        Ok(())
    }
}

/// The allocator of this test binary: the system's, except that a thread
/// inside [`failing_nth`] sees one allocation fail.
struct FailingOnRequest;

thread_local! {
    /// Allocations the current thread may still make before one fails
    /// (`usize::MAX`: no failure armed).
    static ALLOCATIONS_LEFT: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Whether the armed failure happened.
    static ALLOCATION_FAILED: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every request goes to the system allocator unchanged, except that
// `alloc` may return null, which `GlobalAlloc` allows to mean failure.
unsafe impl GlobalAlloc for FailingOnRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let fail = ALLOCATIONS_LEFT
            .try_with(|left| match left.get() {
                usize::MAX => false,
                0 => {
                    left.set(usize::MAX);
                    true
                }
                n => {
                    left.set(n - 1);
                    false
                }
            })
            .unwrap_or(false);
        if fail {
            let _ = ALLOCATION_FAILED.try_with(|failed| failed.set(true));
            return std::ptr::null_mut();
        }
        // SAFETY: the caller's layout contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: FailingOnRequest = FailingOnRequest;

/// Runs `f` on this thread with its `n`-th allocation (counting from 0)
/// failing; returns what `f` returned and whether that allocation was
/// reached. `f` must not allocate for itself: prepare its arguments first.
pub(crate) fn failing_nth<T>(n: usize, f: impl FnOnce() -> T) -> (T, bool) {
    ALLOCATION_FAILED.with(|failed| failed.set(false));
    ALLOCATIONS_LEFT.with(|left| left.set(n));
    let result = f();
    ALLOCATIONS_LEFT.with(|left| left.set(usize::MAX));
    (result, ALLOCATION_FAILED.with(Cell::get))
}

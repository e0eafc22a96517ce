//! Allocation failure: for every N, the N-th allocation of a scenario fails.
//! Every call must then return `NO_MEMORY` or succeed; the process must not
//! abort; and once everything is closed, nothing is leaked (bytes, objects,
//! handles).
//!
//! The scenario: sockets of both modes, small and large writes and reads,
//! events, eventpairs, duplicate, replace, signal, wait_one (registering an
//! observer), wait_many, ports with one-shot and repeating async waits,
//! queue, wait and cancel, a task waker registration, and channels:
//! messages with and without handles, reads that move handles into the
//! table, a call, and an end closed with messages (and their handles) still
//! queued.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use mx::core::abi::{PortPacket, WaitItem, WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING};
use mx::sys;
use mx::{RawHandle, Rights, Signals, Status, Time};

/// Fails the `FAIL_AT`-th allocation made by an armed thread.
struct Failing;

static COUNT: AtomicUsize = AtomicUsize::new(0);
static FAIL_AT: AtomicUsize = AtomicUsize::new(usize::MAX);
static FAILED: AtomicUsize = AtomicUsize::new(0);
/// Bytes allocated minus bytes freed by armed threads.
static NET: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

fn armed() -> bool {
    ARMED.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: forwards every request to the system allocator unchanged, except
// that it may return null (which `GlobalAlloc` allows to mean failure).
unsafe impl GlobalAlloc for Failing {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if armed() {
            if COUNT.fetch_add(1, Ordering::Relaxed) == FAIL_AT.load(Ordering::Relaxed) {
                FAILED.fetch_add(1, Ordering::Relaxed);
                return std::ptr::null_mut();
            }
            NET.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: the caller's layout contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if armed() {
            NET.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Failing = Failing;

/// The result of a call under test: success, or `NO_MEMORY`.
fn ok_or_oom<T: std::fmt::Debug>(what: &str, result: Result<T, Status>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(Status::NO_MEMORY) => None,
        Err(status) => panic!("{what}: {status} (only success or NO_MEMORY allowed)"),
    }
}

/// The test's own memory, allocated before the failures are armed.
struct Buffers {
    open: Vec<RawHandle>,
    big: Vec<u8>,
    buf: Vec<u8>,
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            open: Vec::with_capacity(64),
            big: vec![0x5au8; 100_000],
            buf: vec![0u8; 100_000],
        }
    }
}

/// Runs the scenario, recording the handles left open in `b.open` (the
/// caller closes them).
fn scenario(b: &mut Buffers) {
    let Buffers { open, big, buf } = b;

    for mode in [0, 1] {
        let Some((a, b)) = ok_or_oom("socket_create", sys::socket_create(mode)) else {
            continue;
        };
        open.extend([a, b]);
        ok_or_oom("small write", sys::socket_write(a, 0, &b"hello"[..]));
        ok_or_oom("large write", sys::socket_write(a, 0, &big[..50_000]));
        ok_or_oom("write back", sys::socket_write(b, 0, &big[..3_000]));
        if let Some(n) = ok_or_oom("small read", sys::socket_read(b, 0, Some(&mut buf[..3]))) {
            assert!(n <= 5);
        }
        let _ = ok_or_oom(
            "large read",
            sys::socket_read(b, 0, Some(&mut buf[..])).or_else(|s| {
                if s == Status::SHOULD_WAIT {
                    Ok(0)
                } else {
                    Err(s)
                }
            }),
        );
        if let Some(dup) = ok_or_oom(
            "duplicate",
            sys::handle_duplicate(a, Rights::READ | Rights::WRITE),
        ) {
            open.push(dup);
        }
        if let Some(fewer) = ok_or_oom(
            "replace",
            sys::handle_replace(b, Rights::READ | Rights::WRITE | Rights::DUPLICATE),
        ) {
            open.retain(|&h| h != b);
            open.push(fewer);
        }
        ok_or_oom(
            "half_close",
            sys::socket_write(a, mx::core::abi::SOCKET_HALF_CLOSE, &[][..]),
        );
    }

    let event = ok_or_oom("event_create", sys::event_create(0));
    if let Some(e) = event {
        open.push(e);
        ok_or_oom(
            "signal",
            sys::object_signal(e, Signals::NONE, Signals::USER_1),
        );
        // Not satisfied: registers an observer, parks, times out.
        match sys::object_wait_one(e, Signals::USER_0, sys::deadline_after(100_000)) {
            Err(error)
                if error.status == Status::TIMED_OUT || error.status == Status::NO_MEMORY => {}
            other => panic!("wait_one: {other:?}"),
        }
        let mut items = [WaitItem {
            handle: e,
            waitfor: Signals::USER_1,
            pending: Signals::NONE,
        }];
        ok_or_oom("wait_many", sys::object_wait_many(&mut items, Time::ZERO));
        let waker = std::task::Waker::noop();
        let _registration = ok_or_oom(
            "wait_waker",
            sys::ext::object_wait_waker(e, sys::ext::Wanted::Signals(Signals::USER_2), waker),
        );
    }
    if let Some((p, q)) = ok_or_oom("eventpair_create", sys::eventpair_create(0)) {
        open.extend([p, q]);
        ok_or_oom(
            "signal_peer",
            sys::object_signal_peer(p, Signals::NONE, Signals::USER_0),
        );
    }

    if let Some(port) = ok_or_oom("port_create", sys::port_create(0)) {
        open.push(port);
        if let Some(e) = event {
            ok_or_oom(
                "wait_async once",
                sys::object_wait_async(e, port, 1, Signals::USER_0, WAIT_ASYNC_ONCE),
            );
            ok_or_oom(
                "wait_async repeating",
                sys::object_wait_async(e, port, 2, Signals::USER_1, WAIT_ASYNC_REPEATING),
            );
            ok_or_oom(
                "signal",
                sys::object_signal(e, Signals::USER_1, Signals::USER_0 | Signals::USER_1),
            );
            let _ = ok_or_oom(
                "port_cancel",
                sys::port_cancel(port, e, 2).or_else(|s| {
                    if s == Status::NOT_FOUND {
                        Ok(())
                    } else {
                        Err(s)
                    }
                }),
            );
        }
        ok_or_oom(
            "port_queue",
            sys::port_queue(port, &PortPacket::default(), 0),
        );
        while let Ok(_packet) = sys::port_wait(port, Time::ZERO, 0) {}
    }

    if let Some((c, d)) = ok_or_oom("channel_create", sys::channel_create(0)) {
        open.extend([c, d]);
        // A message carrying a handle: on failure the handle stays ours.
        if let Some(e) = event {
            if let Some(dup) = ok_or_oom("duplicate", sys::handle_duplicate(e, Rights::SAME_RIGHTS))
            {
                if ok_or_oom(
                    "channel_write",
                    sys::channel_write(c, 0, &b"m"[..], &[dup][..]),
                )
                .is_none()
                {
                    open.push(dup);
                }
            }
        }
        ok_or_oom(
            "channel_write empty",
            sys::channel_write(c, 0, &[][..], &[][..]),
        );
        ok_or_oom(
            "channel_write large",
            sys::channel_write(c, 0, &big[..65_536], &[][..]),
        );
        // Read what is queued: received handles join the table.
        loop {
            let mut handles = [0; 4];
            match sys::channel_read(d, 0, &mut buf[..], &mut handles[..]) {
                Ok((_, n)) => open.extend_from_slice(&handles[..n as usize]),
                Err(e) if e.status == Status::SHOULD_WAIT || e.status == Status::NO_MEMORY => break,
                Err(e) => panic!("channel_read: {e:?}"),
            }
        }
        // A call that times out at once: the message is still sent.
        let txid = 9u32.to_ne_bytes();
        match sys::channel_call(
            c,
            0,
            Time::ZERO,
            &txid[..],
            &[][..],
            &mut buf[..8],
            &mut [][..],
        ) {
            Err(e) if e.status == Status::TIMED_OUT || e.status == Status::NO_MEMORY => {}
            other => panic!("channel_call: {other:?}"),
        }
        // A handle left in a queued message is closed with its reader.
        if let Some((x, y)) = ok_or_oom("socket_create", sys::socket_create(0)) {
            open.push(x);
            if ok_or_oom("channel_write", sys::channel_write(c, 0, &[][..], &[y][..])).is_none() {
                open.push(y);
            }
        }
    }
}

fn close_all(open: &mut Vec<RawHandle>) {
    for h in open.drain(..) {
        sys::handle_close(h).unwrap();
    }
}

#[test]
fn every_allocation_failure_is_reported_and_leaks_nothing() {
    // Warm up: touch every handle bucket once, so that the table's own
    // (kept) memory does not count as a leak below.
    let mut warm: Vec<RawHandle> = (0..4096).map(|_| sys::event_create(0).unwrap()).collect();
    close_all(&mut warm);
    let mut buffers = Buffers::new();
    scenario(&mut buffers);
    close_all(&mut buffers.open);

    let objects = mx::sys::ext::live_objects();
    let mut n = 0;
    loop {
        COUNT.store(0, Ordering::Relaxed);
        FAILED.store(0, Ordering::Relaxed);
        NET.store(0, Ordering::Relaxed);
        FAIL_AT.store(n, Ordering::Relaxed);
        ARMED.with(|armed| armed.set(true));
        scenario(&mut buffers);
        ARMED.with(|armed| armed.set(false));
        // Whatever failed, every handle the scenario kept still works.
        for &h in &buffers.open {
            sys::object_get_info_handle_basic(h).unwrap();
        }
        ARMED.with(|armed| armed.set(true));
        close_all(&mut buffers.open);
        ARMED.with(|armed| armed.set(false));
        assert_eq!(sys::ext::handle_count(), 0, "N={n}: handles left open");
        assert_eq!(
            mx::sys::ext::live_objects(),
            objects,
            "N={n}: objects leaked"
        );
        assert_eq!(
            NET.load(Ordering::Relaxed),
            0,
            "N={n}: bytes leaked (failed {})",
            FAILED.load(Ordering::Relaxed)
        );
        if FAILED.load(Ordering::Relaxed) == 0 {
            // The scenario made fewer than N allocations: every one was tried.
            eprintln!("swept {n} allocation points");
            assert!(n > 20, "the scenario allocates");
            return;
        }
        n += 1;
    }
}

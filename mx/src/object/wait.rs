//! Blocking: a short bounded spin, then parking until woken or the deadline.
//!
//! Waking a thread that sleeps on another CPU costs tens of microseconds on a
//! virtual machine, far more than a socket operation. So a waiter first
//! watches the object's lock-free signal snapshot for a short while (bounded
//! by about one wake-up's cost, [`spin_budget`]). Only then does it register
//! an observer and park. The budget is `MX_SPIN_NS` nanoseconds if that
//! environment variable is set (0 disables spinning), else
//! [`DEFAULT_SPIN_NS`].
//!
//! A thread that may run on several CPUs spins without yielding for the
//! first few microseconds (its peer is most likely running elsewhere and a
//! system call would only add latency), then yields between checks. A thread
//! pinned to one CPU yields between checks from the start: its peer may be
//! waiting for that very CPU.
//!
//! # Every waiting path, and why it sleeps
//!
//! A waiter must wake only on a change that lets its next attempt make
//! progress (or fail for good); otherwise it would retry, find nothing to
//! do, and wait again at once: a spin. Each path below waits for exactly
//! such a condition, and every one of them also ends (`CANCELED`) when the
//! handle it waits through is closed.
//!
//! | path | waits for | waits while |
//! |---|---|---|
//! | `object_wait_one`, `AsHandleRef::wait_handle`, `mx-tokio` `OnSignals` | a watched signal *becoming* asserted | none of the caller's signals is asserted (others may be: `PEER_CLOSED` after a half-close does not wake a wait for `READABLE`) |
//! | `object_wait_many` | any item's watched signal | no item is satisfied |
//! | `port_wait` | a packet handed to this waiter | the queue is empty |
//! | readers: `io::Read` for `Socket` and `&Socket`, `Socket::recv`, `mx-tokio` `AsyncRead` and `recv` | `READABLE` or `PEER_CLOSED` | the inbox is empty and the peer may still write (this end's own half-close does not matter: it can still read) |
//! | writers: `io::Write` for `Socket` and `&Socket`, `Socket::send`, `mx-tokio` `AsyncWrite` and `send` | [`Wanted::Room`]: room for the stream's next byte or the whole datagram, *or* a write that would fail | the buffer is full, or a datagram does not fit (while `WRITABLE` stays asserted), also after the peer half-closed |
//!
//! Writers watch no signal at all. `WRITABLE` stays asserted while a
//! datagram does not fit, and `PEER_CLOSED` is asserted as soon as the peer
//! half-closes although the peer can still read: a writer woken by either
//! would find the buffer as full as before. The room condition
//! ([`mx_core::observer::Wanted::Room`]) counts as unlimited once a write
//! would fail whatever the room (the peer closed, or this end half-closed,
//! perhaps through another handle), so those writers wake and get their
//! error. Blocking writers wait through `sys::socket_wait_room`, async ones
//! through `sys::object_wait_waker` with the same condition: one mechanism.
//!
//! Blocked threads spin for at most the budget below, then park on a futex.
//! Async tasks never spin: they register their waker and return `Pending`.
//! `tests/asleep.rs` (here and in `mx-tokio`, there on both runtimes) checks
//! every row in every state that makes it wait: the process uses under a
//! tenth of a CPU while it waits, and the call completes once the other
//! side acts.

use core::time::Duration;
use std::cell::Cell;
use std::sync::OnceLock;

#[cfg(doc)]
use mx_core::observer::Wanted;
use mx_core::Time;

use crate::sync::{yield_now, Parker};
use crate::time::now;

/// The default spin budget before parking, in nanoseconds.
pub const DEFAULT_SPIN_NS: u64 = 20_000;

/// Spin rounds between two clock reads (and, after the first stretch, two
/// yields of the CPU).
const ROUNDS_PER_CHECK: u32 = 16;

/// Pause instructions between two polls.
const PAUSES_PER_POLL: u32 = 16;

/// For this long a waiter spins without yielding: a peer on another CPU
/// answers well within it, and a system call would only add latency.
const PURE_SPIN_NS: u64 = 4_000;

/// The spin budget in nanoseconds.
pub fn spin_budget() -> u64 {
    #[allow(clippy::disallowed_types)]
    static BUDGET: OnceLock<u64> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var("MX_SPIN_NS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_SPIN_NS)
    })
}

/// Whether this thread may run on more than one CPU (re-read every so many
/// spins, since programs pin threads after starting them).
fn may_run_elsewhere() -> bool {
    thread_local! {
        static AFFINITY: Cell<(u32, bool)> = const { Cell::new((0, true)) };
    }
    AFFINITY.with(|cell| {
        let (uses, multi) = cell.get();
        if uses % 256 == 0 {
            let multi = rustix::thread::sched_getaffinity(None).map_or(true, |set| set.count() > 1);
            cell.set((uses.wrapping_add(1), multi));
            multi
        } else {
            cell.set((uses.wrapping_add(1), multi));
            multi
        }
    })
}

/// Polls `ready` for at most the spin budget (and not past `deadline`);
/// returns whether it became true.
pub(crate) fn spin_until(deadline: Time, mut ready: impl FnMut() -> bool) -> bool {
    if ready() {
        return true;
    }
    let budget = spin_budget();
    if cfg!(loom) || budget == 0 {
        return false;
    }
    let start = now();
    let end = start
        .saturating_add(Duration::from_nanos(budget))
        .min(deadline);
    if !may_run_elsewhere() {
        // Pinned to one CPU: the peer may need it. Give it up between polls.
        loop {
            yield_now();
            if ready() {
                return true;
            }
            if now() >= end {
                return false;
            }
        }
    }
    let pure = start.saturating_add(Duration::from_nanos(PURE_SPIN_NS.min(budget)));
    loop {
        for _ in 0..ROUNDS_PER_CHECK {
            // Polling less often leaves the watched cache lines to the peer
            // that is making progress on them.
            for _ in 0..PAUSES_PER_POLL {
                core::hint::spin_loop();
            }
            if ready() {
                return true;
            }
        }
        let current = now();
        if current >= end {
            return ready();
        }
        if current >= pure {
            // A peer on this CPU may need it to make progress.
            yield_now();
        }
    }
}

/// Parks until `parker` is unparked (true) or `deadline` passes (false).
pub(crate) fn park_until(parker: &Parker, deadline: Time) -> bool {
    loop {
        if parker.is_unparked() {
            return true;
        }
        let timeout = if deadline == Time::INFINITE {
            None
        } else {
            let current = now();
            if current >= deadline {
                return parker.is_unparked();
            }
            deadline.remaining_since(current)
        };
        if parker.park(timeout) {
            return true;
        }
        if cfg!(loom) && timeout.is_some() {
            return parker.is_unparked();
        }
    }
}

//! Blocking: a short bounded spin, then parking until woken or the deadline;
//! and the blocking waits themselves (`wait_one`, `wait_many`, room for a
//! socket writer).
//!
//! Waking a thread that sleeps on another CPU costs tens of microseconds on a
//! virtual machine, far more than a socket operation. So a waiter first
//! watches the object's lock-free signal snapshot for a short while (bounded
//! by about one wake-up's cost, [`spin_budget`]). Only then does it register
//! an observer and park. The budget is `MX_SPIN_NS` nanoseconds if that
//! environment variable is set (0 disables spinning), else
//! [`DEFAULT_SPIN_NS`].
//!
//! How a waiter spins ([`Pace`]) depends on what its peer is doing:
//!
//! - A waiter in a conversation (it wrote to the socket since its previous
//!   wait on it, so the peer is answering: `Observable::conversing`) spins
//!   without yielding for the first few microseconds, then yields between
//!   checks. The peer most likely runs elsewhere, and a system call would
//!   only add latency to the answer.
//! - A waiter that only consumes (its peer is streaming), and a writer
//!   waiting for room, yield between checks from the start: polling at full
//!   speed takes the producer's cache lines from it after every message,
//!   which made 64-byte datagrams a third slower.
//! - A thread pinned to a CPU that another waiting thread is pinned to
//!   yields between checks from the start: its peer may be waiting for that
//!   very CPU. The threads pinned to each CPU are counted ([`placement`])
//!   the first time they wait and whenever their affinity is re-read.
//!
//! Each poll of `wait_one` reads only the state that the wanted signals
//! depend on (`Observable::signals_among`): a socket reader leaves out its
//! outbox's counters, which its peer writes at every read.
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
//! | channel readers: `Channel::recv`, `mx-tokio` `AsyncChannel::recv_msg` | `READABLE` or `PEER_CLOSED` | no message is queued and the peer is open |
//! | channel callers: `mx_channel_call`, `Channel::call`, `mx-tokio` `AsyncChannel::call` | the reply handed to this caller, the peer's close, or its own end's close | the reply has not arrived (its own queue filling with other messages does not wake it) |
//!
//! A channel write never waits: its queue has no limit.
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

use mx_core::abi::{WaitItem, WAIT_MANY_MAX_ITEMS};
use mx_core::observer::Wanted;
use mx_core::socket::SOCKET_CAPACITY;
use mx_core::{RawHandle, Rights, Signals, Status, Time};

use super::watch::{self, Observable, ObserveRequest, Observed, Waiting};
use super::{End, Kind, Object, SocketPair, Waitable};
use crate::sync::{try_arc, yield_now, Parker};
use crate::sys::ErrorWith;
use crate::table::table;
use crate::time::now;

/// The default spin budget before parking, in nanoseconds.
pub const DEFAULT_SPIN_NS: u64 = 20_000;

/// Spin rounds between two clock reads (and, after the first stretch, two
/// yields of the CPU).
const ROUNDS_PER_CHECK: u32 = 16;

/// Pause instructions between two polls. A pause costs about 12 ns on the
/// machines we measure (far more on some CPUs): 16 of them made a waiter
/// see a change about 90 ns late on average, which a round trip pays
/// twice; two keep polls (plain loads) from flooding the peer's lines.
const PAUSES_PER_POLL: u32 = 2;

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

/// Where this thread may run, as a spinning waiter cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Placement {
    /// On more than one CPU (or unknown).
    Free,
    /// On one CPU, with no other waiting thread pinned to it.
    PinnedAlone,
    /// On one CPU that another waiting thread is pinned to as well.
    PinnedShared,
}

/// Slots of [`PINNED`]: CPUs beyond share slots, which can only make a
/// thread yield when it need not.
const PIN_SLOTS: usize = 64;

/// One CPU's count of waiting threads pinned to it, alone on its cache
/// line (written only when a thread's pinning changes).
#[derive(Debug)]
#[repr(align(64))]
struct PinCount(core::sync::atomic::AtomicU32);

/// How many threads that have waited are pinned to each CPU (slot
/// `cpu % PIN_SLOTS`).
#[allow(clippy::disallowed_types)]
static PINNED: [PinCount; PIN_SLOTS] =
    [const { PinCount(core::sync::atomic::AtomicU32::new(0)) }; PIN_SLOTS];

/// This thread's entry in [`PINNED`], taken back when the thread exits.
#[derive(Debug)]
struct Pin {
    /// Waits since the affinity was last read.
    uses: Cell<u32>,
    /// The slot this thread is counted in, if pinned.
    slot: Cell<Option<usize>>,
}

impl Pin {
    /// Counts this thread in `slot` (or in none), uncounting it from the
    /// one before.
    fn set(&self, slot: Option<usize>) {
        use core::sync::atomic::Ordering;
        if self.slot.get() == slot {
            return;
        }
        if let Some(old) = self.slot.get() {
            // Saturating: a fork child's reset may have dropped this count.
            let _ = PINNED[old]
                .0
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(1))
                });
        }
        if let Some(new) = slot {
            PINNED[new].0.fetch_add(1, Ordering::Relaxed);
        }
        self.slot.set(slot);
    }
}

impl Drop for Pin {
    fn drop(&mut self) {
        self.set(None);
    }
}

thread_local! {
    /// This thread's count in [`PINNED`].
    static PIN: Pin = const {
        Pin {
            uses: Cell::new(0),
            slot: Cell::new(None),
        }
    };
}

/// In a child after `fork()`: only this thread came along, so the counts
/// are its own pin alone.
#[cfg(not(loom))]
pub(crate) fn reset_after_fork() {
    use core::sync::atomic::Ordering;
    for count in &PINNED {
        count.0.store(0, Ordering::Relaxed);
    }
    let _ = PIN.try_with(|pin| {
        if let Some(slot) = pin.slot.get() {
            PINNED[slot].0.store(1, Ordering::Relaxed);
        }
    });
}

/// Where this thread may run (its affinity re-read every so many waits,
/// since programs pin threads after starting them).
fn placement() -> Placement {
    PIN.try_with(|pin| {
        let uses = pin.uses.get();
        pin.uses.set(uses.wrapping_add(1));
        if uses % 256 == 0 {
            let only = rustix::thread::sched_getaffinity(None)
                .ok()
                .filter(|set| set.count() == 1)
                .and_then(|set| (0..rustix::thread::CpuSet::MAX_CPU).find(|&cpu| set.is_set(cpu)));
            pin.set(only.map(|cpu| cpu % PIN_SLOTS));
        }
        match pin.slot.get() {
            None => Placement::Free,
            Some(slot) => {
                if PINNED[slot].0.load(core::sync::atomic::Ordering::Relaxed) > 1 {
                    Placement::PinnedShared
                } else {
                    Placement::PinnedAlone
                }
            }
        }
    })
    .unwrap_or(Placement::PinnedShared)
}

/// How a spinning waiter polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Without yielding for the first [`PURE_SPIN_NS`]: the peer is
    /// answering and the answer is wanted at once.
    Eager,
    /// Yielding the CPU between polls from the start: the peer is busy
    /// producing, and every poll would take its cache lines away.
    Gentle,
}

/// Polls `ready` for at most the spin budget (and not past `deadline`);
/// returns whether it became true.
pub(crate) fn spin_until(deadline: Time, pace: Pace, mut ready: impl FnMut() -> bool) -> bool {
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
    if pace == Pace::Gentle || placement() == Placement::PinnedShared {
        // A busy producer, or a peer that may need this very CPU (another
        // waiter is pinned to it): give it up between polls.
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

/// `mx_object_wait_one`: see [`crate::sys::object_wait_one`].
///
/// The handle is looked up to read the signals (once, then at each poll of
/// the spin: a lookup through the handle writes no shared cache line and
/// touches none the peer uses), then once more, under its bucket's lock, to
/// register, so that a concurrent close either comes first (the wait
/// reports `CANCELED`) or sees the observer.
pub(crate) fn wait_one(
    handle: RawHandle,
    signals: Signals,
    deadline: Time,
) -> Result<Signals, ErrorWith<Signals>> {
    let (mut current, pace) = table().find::<Waitable, _>(handle, Rights::READ, |found| {
        let pace = if found.target.conversing(found.side) {
            Pace::Eager
        } else {
            Pace::Gentle
        };
        Ok((found.target.signals(found.side), pace))
    })?;
    if current.intersects(signals) {
        return Ok(current);
    }
    if deadline != Time::INFINITE && deadline <= now() {
        return Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(current),
        });
    }
    // Each poll reads only the state that the wanted signals depend on;
    // once one of them is asserted, all of them, in the same lookup.
    let poll = || {
        table().find::<Waitable, _>(handle, Rights::READ, |found| {
            let wanted = found.target.signals_among(found.side, signals);
            Ok((!wanted.is_empty()).then(|| found.target.signals(found.side)))
        })
    };
    let seen = spin_until(deadline, pace, || match poll() {
        Ok(None) => false,
        Ok(Some(now)) => {
            current = now;
            now.intersects(signals)
        }
        // Closed meanwhile: registering below reports it.
        Err(_) => true,
    });
    if seen && current.intersects(signals) {
        return Ok(current);
    }
    wait_registered::<Waitable>(
        handle,
        Rights::READ,
        current,
        Wanted::Signals(signals),
        deadline,
    )
}

/// Not a Magenta call: see [`crate::sys::ext::socket_wait_room`].
pub(crate) fn wait_room(handle: RawHandle, need: usize, deadline: Time) -> Result<(), Status> {
    let end = table().find::<SocketPair, _>(handle, Rights::WRITE, |found| Ok(found.end()))?;
    let Object::Socket(pair) = &*end.object else {
        return Err(Status::INTERNAL);
    };
    // While spinning, wait for a good share of the capacity to be free, so
    // a writer that outpaces its reader writes in batches instead of taking
    // every byte the reader frees (and the cache line with it). Parked, it
    // waits for exactly `need`: the reader may never free more.
    let batch = need.max(SOCKET_CAPACITY / 8);
    let fits = || pair.room(end.side).is_none_or(|room| room >= batch);
    // A writer waiting for room waits for its reader to drain a batch.
    if spin_until(deadline, Pace::Gentle, fits) {
        return Ok(());
    }
    wait_registered::<SocketPair>(
        handle,
        Rights::WRITE,
        end.signals(),
        Wanted::Room(need.max(1)),
        deadline,
    )
    .map(|_| ())
    .map_err(Status::from)
}

/// Registers a thread observer through `handle` (under its bucket's lock, so
/// a concurrent close either sees it or comes first), parks, and reports.
/// `last_seen` is what the caller saw before, reported if the handle turns
/// out to be closed already.
fn wait_registered<K: Kind>(
    handle: RawHandle,
    rights: Rights,
    last_seen: Signals,
    wanted: Wanted,
    deadline: Time,
) -> Result<Signals, ErrorWith<Signals>>
where
    K::Target: Observable,
{
    let parker = try_arc(Parker::new())?;
    let request = ObserveRequest {
        handle,
        wanted,
        always: false,
        repeating: false,
        kind: Waiting::Thread(parker.clone()),
    };
    let registered = table().find_locked::<K, _>(handle, rights, |found| {
        let observed = watch::observe(found.target, found.side, request)?;
        Ok((observed, found.end()))
    });
    let (id, end) = match registered {
        Ok((Observed::Now(current), _)) => return Ok(current),
        Ok((Observed::Registered { id, .. }, end)) => (id, end),
        // The handle was valid when the wait began: it was closed since.
        Err(Status::BAD_HANDLE) => {
            return Err(ErrorWith {
                status: Status::CANCELED,
                value: Some(last_seen | Signals::HANDLE_CLOSED),
            });
        }
        Err(status) => return Err(status.into()),
    };
    park_until(&parker, deadline);
    let observable = end.object.observable().ok_or(Status::INTERNAL)?;
    let Some(observer) = watch::unobserve(observable, id) else {
        // Thread observers are removed only by their own thread.
        return Err(Status::INTERNAL.into());
    };
    if observer.canceled {
        Err(ErrorWith {
            status: Status::CANCELED,
            value: Some(observer.observed | Signals::HANDLE_CLOSED),
        })
    } else if observer.fired {
        Ok(observer.observed)
    } else {
        Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(observer.observed),
        })
    }
}

/// `mx_object_wait_many`: see [`crate::sys::object_wait_many`].
pub(crate) fn wait_many(items: &mut [WaitItem], deadline: Time) -> Result<(), Status> {
    if items.len() > WAIT_MANY_MAX_ITEMS {
        return Err(Status::INVALID_ARGS);
    }
    if items.is_empty() {
        sleep_until(deadline);
        return Err(Status::TIMED_OUT);
    }
    let parker = try_arc(Parker::new())?;
    let mut registered: Vec<(End, u64)> = Vec::new();
    registered.try_reserve_exact(items.len())?;
    let mut satisfied = false;
    for item in items.iter() {
        let request = ObserveRequest {
            handle: item.handle,
            wanted: Wanted::Signals(item.waitfor),
            always: true,
            repeating: false,
            kind: Waiting::Thread(parker.clone()),
        };
        // Under the handle's lock, as for `wait_one`.
        let result = table().find_locked::<Waitable, _>(item.handle, Rights::READ, |found| {
            Ok((
                found.end(),
                watch::observe(found.target, found.side, request)?,
            ))
        });
        match result {
            Ok((end, Observed::Registered { id, current })) => {
                satisfied |= current.intersects(item.waitfor);
                registered.push((end, id));
            }
            Ok((_, Observed::Now(_))) => {
                debug_assert!(false, "`always` registers");
            }
            Err(status) => {
                for (end, id) in registered {
                    if let Some(observable) = end.object.observable() {
                        watch::unobserve(observable, id);
                    }
                }
                return Err(status);
            }
        }
    }
    if !satisfied && (deadline == Time::INFINITE || deadline > now()) {
        spin_until(deadline, Pace::Eager, || parker.is_unparked());
        park_until(&parker, deadline);
    }
    let mut canceled = false;
    for ((end, id), item) in registered.into_iter().zip(items.iter_mut()) {
        let observer = end
            .object
            .observable()
            .and_then(|observable| watch::unobserve(observable, id));
        let Some(observer) = observer else {
            return Err(Status::INTERNAL);
        };
        item.pending = observer.observed;
        if observer.canceled {
            item.pending |= Signals::HANDLE_CLOSED;
            canceled = true;
        }
        satisfied |= observer.observed.intersects(item.waitfor);
    }
    if canceled {
        Err(Status::CANCELED)
    } else if satisfied {
        Ok(())
    } else {
        Err(Status::TIMED_OUT)
    }
}

/// Sleeps until `deadline` (at once if it has passed; forever for
/// `MX_TIME_INFINITE`).
pub(crate) fn sleep_until(deadline: Time) {
    loop {
        let current = now();
        if current >= deadline {
            return;
        }
        let remaining = deadline
            .remaining_since(current)
            .unwrap_or(Duration::from_secs(3600));
        std::thread::sleep(remaining);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// Pins this thread to `cpu`.
    fn pin(cpu: usize) {
        let mut set = rustix::thread::CpuSet::new();
        set.set(cpu);
        rustix::thread::sched_setaffinity(None, &set).expect("sched_setaffinity");
    }

    #[test]
    fn waiters_pinned_to_one_cpu_yield_only_while_they_share_it() {
        let allowed = rustix::thread::sched_getaffinity(None).expect("sched_getaffinity");
        let cpu = (0..rustix::thread::CpuSet::MAX_CPU)
            .find(|&cpu| allowed.is_set(cpu))
            .expect("a CPU");
        std::thread::spawn(move || {
            assert_eq!(placement(), Placement::Free, "not pinned");
            pin(cpu);
            // The affinity is re-read every 256 waits.
            let mut seen = Placement::Free;
            for _ in 0..256 {
                seen = placement();
            }
            assert_eq!(seen, Placement::PinnedAlone);
            let (joined, wait) = mpsc::channel();
            let (release, released) = mpsc::channel::<()>();
            let other = std::thread::spawn(move || {
                pin(cpu);
                let seen = placement();
                joined.send(seen).expect("send");
                released.recv().expect("recv");
            });
            assert_eq!(wait.recv().expect("recv"), Placement::PinnedShared);
            assert_eq!(placement(), Placement::PinnedShared);
            release.send(()).expect("send");
            other.join().expect("join");
            // The other thread's count left with it.
            assert_eq!(placement(), Placement::PinnedAlone);
            // A fork child counts only the thread that forked.
            let (joined, wait) = mpsc::channel();
            let (release, released) = mpsc::channel::<()>();
            let other = std::thread::spawn(move || {
                pin(cpu);
                joined.send(placement()).expect("send");
                released.recv().expect("recv");
            });
            assert_eq!(wait.recv().expect("recv"), Placement::PinnedShared);
            reset_after_fork();
            assert_eq!(placement(), Placement::PinnedAlone);
            release.send(()).expect("send");
            other.join().expect("join");
            assert_eq!(placement(), Placement::PinnedAlone);
        })
        .join()
        .expect("the test thread");
    }
}

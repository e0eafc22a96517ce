//! Checks that a blocked call sleeps: while it waits, the whole process
//! uses under a tenth of one CPU.
//!
//! CPU time is the process's (`CLOCK_PROCESS_CPUTIME_ID`: the same user plus
//! system time `getrusage(RUSAGE_SELF)` sums over every thread), so a
//! spinning waiter shows up whichever thread it is on. Tests that use this
//! take [`serial`] first, so that no other test of the binary burns CPU
//! during a measurement.
//!
//! This tests behaviour, not speed: a sleeping waiter uses microseconds of
//! CPU in half a second, a spinning one uses all of it.

#![allow(dead_code)]
// Tests lock with std directly: the rule that locks go through a crate's
// `sync` module (so loom sees them) concerns the libraries.
#![allow(clippy::disallowed_types)]

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a measurement lasts.
pub(crate) const WINDOW: Duration = Duration::from_millis(500);

/// How long a waiter is given to block (its spin budget is 20 µs) before
/// the measurement starts.
pub(crate) const SETTLE: Duration = Duration::from_millis(60);

/// The most CPU the process may use during [`WINDOW`]: 10 % of one CPU.
pub(crate) const BUDGET: Duration = Duration::from_millis(50);

/// CPU time the process has used so far.
pub(crate) fn process_cpu() -> Duration {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Serialises the tests of one binary that measure CPU.
pub(crate) fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Measures the process's CPU time over [`WINDOW`] of sleeping on this
/// thread and panics, naming `what`, if it exceeds [`BUDGET`].
pub(crate) fn assert_idle_for_a_window(what: &str) {
    let before = process_cpu();
    std::thread::sleep(WINDOW);
    let used = process_cpu() - before;
    assert!(
        used < BUDGET,
        "{what}: the process used {used:?} of CPU in {WINDOW:?} while it waited \
         (at most {BUDGET:?} allowed): something spins"
    );
}

/// Runs `wait` on a new thread. Once it has had time to block, checks that
/// it is still blocked and that the process stays idle for [`WINDOW`]; then
/// runs `act` (which should unblock it) and returns what `wait` returned.
///
/// # Panics
/// If `wait` returns before `act`, if the process is busy while it waits,
/// or if `wait` does not return within 20 s of `act`.
pub(crate) fn sleeps_until<T: Send + 'static>(
    what: &str,
    wait: impl FnOnce() -> T + Send + 'static,
    act: impl FnOnce(),
) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let result = wait();
        let _ = done.send(());
        result
    });
    std::thread::sleep(SETTLE);
    assert!(
        finished.try_recv().is_err(),
        "{what}: returned before the other side acted"
    );
    assert_idle_for_a_window(what);
    assert!(
        finished.try_recv().is_err(),
        "{what}: returned before the other side acted"
    );
    act();
    finished
        .recv_timeout(Duration::from_secs(20))
        .unwrap_or_else(|_| panic!("{what}: still blocked 20 s after the other side acted"));
    waiter.join().expect("the waiting thread panicked")
}

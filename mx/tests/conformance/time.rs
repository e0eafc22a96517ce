//! SPEC 6 (time): `mx_time_get`, `mx_deadline_after`, `mx_nanosleep`.

use mx::core::abi::CLOCK_MONOTONIC;
use mx::sys;
use mx::Time;

/// `CLOCK_MONOTONIC` read directly from the OS.
fn os_monotonic() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[test]
fn time_get_is_clock_monotonic() {
    let before = os_monotonic();
    let t = sys::time_get(CLOCK_MONOTONIC);
    let after = os_monotonic();
    assert!(
        before <= t.0 && t.0 <= after,
        "{before} <= {t:?} <= {after}"
    );
}

#[test]
fn time_get_never_goes_back() {
    let mut last = sys::time_get(CLOCK_MONOTONIC);
    for _ in 0..10_000 {
        let now = sys::time_get(CLOCK_MONOTONIC);
        assert!(now >= last);
        last = now;
    }
}

#[test]
fn time_get_advances_across_a_sleep() {
    let t0 = sys::time_get(CLOCK_MONOTONIC);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let t1 = sys::time_get(CLOCK_MONOTONIC);
    assert!(t1.0 - t0.0 >= 20_000_000);
}

#[test]
fn time_get_unknown_clock_reads_zero() {
    for clock in [3, 100, u32::MAX] {
        assert_eq!(sys::time_get(clock), Time(0), "clock {clock}");
    }
}

#[test]
fn deadline_after_adds_to_now() {
    let before = sys::time_get(CLOCK_MONOTONIC);
    let d = sys::deadline_after(1_000_000_000);
    let after = sys::time_get(CLOCK_MONOTONIC);
    assert!(d.0 >= before.0 + 1_000_000_000);
    assert!(d.0 <= after.0 + 1_000_000_000);
}

#[test]
fn deadline_after_zero_is_now() {
    let before = sys::time_get(CLOCK_MONOTONIC);
    let d = sys::deadline_after(0);
    let after = sys::time_get(CLOCK_MONOTONIC);
    assert!(before <= d && d <= after);
}

#[test]
fn deadline_after_saturates() {
    assert_eq!(sys::deadline_after(u64::MAX), Time::INFINITE);
    assert_eq!(sys::deadline_after(u64::MAX - 1), Time::INFINITE);
    let now = sys::time_get(CLOCK_MONOTONIC).0;
    assert_eq!(sys::deadline_after(u64::MAX - now / 2), Time::INFINITE);
}

#[test]
fn nanosleep_sleeps_until_deadline() {
    let deadline = sys::deadline_after(30_000_000);
    assert_eq!(sys::nanosleep(deadline), Ok(()));
    assert!(sys::time_get(CLOCK_MONOTONIC) >= deadline);
}

#[test]
fn nanosleep_past_deadline_returns_at_once() {
    let start = sys::time_get(CLOCK_MONOTONIC);
    assert_eq!(sys::nanosleep(Time::ZERO), Ok(()));
    assert_eq!(sys::nanosleep(Time(1)), Ok(()));
    assert_eq!(sys::nanosleep(start), Ok(()));
    let took = sys::time_get(CLOCK_MONOTONIC).0 - start.0;
    assert!(took < 500_000_000, "took {took} ns");
}

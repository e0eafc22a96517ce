//! Time: `mx_time_get`, `mx_deadline_after`, `mx_nanosleep`.

use mx_core::Time;

use crate::boundary;
use crate::ctypes::{mx_status_t, mx_time_t};

/// `mx_time_get`—Reads a clock, in nanoseconds.
///
/// `MX_CLOCK_MONOTONIC`, `MX_CLOCK_UTC` or `MX_CLOCK_THREAD`; other clocks
/// read as 0 (see [`mx::sys::time_get`]). Returns 0 after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn mx_time_get(clock_id: u32) -> mx_time_t {
    boundary::value("mx_time_get", 0, || mx::sys::time_get(clock_id).0)
}

/// `mx_deadline_after`—The monotonic time `nanoseconds` from now,
/// saturating at `MX_TIME_INFINITE` (see [`mx::sys::deadline_after`]).
/// Returns 0 (a deadline that has passed) after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn mx_deadline_after(nanoseconds: u64) -> mx_time_t {
    boundary::value("mx_deadline_after", 0, || {
        mx::sys::deadline_after(nanoseconds).0
    })
}

/// `mx_nanosleep`—Sleeps until `deadline` (see [`mx::sys::nanosleep`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_nanosleep(deadline: mx_time_t) -> mx_status_t {
    boundary::status("mx_nanosleep", || mx::sys::nanosleep(Time(deadline)))
}

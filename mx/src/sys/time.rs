//! Time system calls.

use core::time::Duration;

use mx_core::abi::{CLOCK_MONOTONIC, CLOCK_THREAD, CLOCK_UTC};
use mx_core::{Status, Time};
use rustix::time::{clock_gettime, ClockId};

use crate::time::now;

/// `clock` in nanoseconds (0 before its start, which no clock here has).
fn nanos(clock: ClockId) -> Time {
    let ts = clock_gettime(clock);
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Time(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

/// `mx_time_get`—Reads a clock, in nanoseconds.
///
/// - `MX_CLOCK_MONOTONIC`: since boot (`CLOCK_MONOTONIC`); deadlines and
///   `mx_deadline_after` use this clock.
/// - `MX_CLOCK_UTC`: wall-clock time since the Unix epoch
///   (`CLOCK_REALTIME`; it moves when the system's time is set).
/// - `MX_CLOCK_THREAD`: the CPU time the calling thread has used
///   (`CLOCK_THREAD_CPUTIME_ID`).
///
/// Any other `clock_id` reads as 0, as in Magenta.
#[doc(alias = "mx_time_get")]
pub fn time_get(clock_id: u32) -> Time {
    match clock_id {
        CLOCK_MONOTONIC => now(),
        CLOCK_UTC => nanos(ClockId::Realtime),
        CLOCK_THREAD => nanos(ClockId::ThreadCPUTime),
        _ => Time(0),
    }
}

/// `mx_deadline_after`—The monotonic time `nanoseconds` from now, saturating
/// at `MX_TIME_INFINITE`.
#[doc(alias = "mx_deadline_after")]
pub fn deadline_after(nanoseconds: u64) -> Time {
    now().saturating_add(Duration::from_nanos(nanoseconds))
}

/// `mx_nanosleep`—Sleeps until `deadline` (at once if it has passed; forever
/// for `MX_TIME_INFINITE`). Always `Ok`.
#[doc(alias = "mx_nanosleep")]
pub fn nanosleep(deadline: Time) -> Result<(), Status> {
    crate::object::wait::sleep_until(deadline);
    Ok(())
}

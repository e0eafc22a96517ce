//! Time system calls.

use core::time::Duration;

use mx_core::abi::CLOCK_MONOTONIC;
use mx_core::{Status, Time};

use crate::time::now;

/// `mx_time_get`—Reads a clock: nanoseconds on `CLOCK_MONOTONIC`.
///
/// An unknown `clock_id` reads as 0, as Magenta.
#[doc(alias = "mx_time_get")]
pub fn time_get(clock_id: u32) -> Time {
    if clock_id == CLOCK_MONOTONIC {
        now()
    } else {
        Time(0)
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

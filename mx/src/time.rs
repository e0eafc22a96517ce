//! The monotonic clock behind `mx_time_t`.

use mx_core::Time;

/// Now, on `CLOCK_MONOTONIC`, in nanoseconds.
pub(crate) fn now() -> Time {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    // The monotonic clock starts at boot and is never negative.
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
    Time(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
}

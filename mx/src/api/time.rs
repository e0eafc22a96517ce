//! Clocks and deadlines: [`TimeExt`] (`Time::now()`, `Time::after(..)`,
//! ...), [`ClockId`] and [`Deadline`], which every blocking call takes.

use std::time::{Duration, Instant};

use mx_core::abi::{CLOCK_MONOTONIC, CLOCK_THREAD, CLOCK_UTC};
use mx_core::Time;

use crate::sys;

/// A clock to read with [`TimeExt::get`] (`mx_time_get`'s `clock_id`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum ClockId {
    /// `MX_CLOCK_MONOTONIC`: nanoseconds since boot, never going back. The
    /// clock of every deadline.
    Monotonic,
    /// `MX_CLOCK_UTC`: wall-clock nanoseconds since the Unix epoch (it
    /// moves when the system's time is set).
    Utc,
    /// `MX_CLOCK_THREAD`: nanoseconds of CPU time the calling thread has
    /// used.
    Thread,
}

impl ClockId {
    /// The raw `clock_id` of `mx_time_get`.
    pub const fn into_raw(self) -> u32 {
        match self {
            ClockId::Monotonic => CLOCK_MONOTONIC,
            ClockId::Utc => CLOCK_UTC,
            ClockId::Thread => CLOCK_THREAD,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for mx_core::Time {}
}

/// What [`Time`] can do with the operating system's clocks: the clock
/// readings of `fuchsia-zircon`'s `Time`. (`Time` is defined in `mx-core`,
/// which has no clock; this trait adds the rest. Import it, or the crate
/// root's re-export `mx::TimeExt`, to call `Time::now()`.)
///
/// | `fuchsia-zircon` | here |
/// |---|---|
/// | `Time::get(ClockId::Monotonic)` | [`Time::get(ClockId::Monotonic)`](TimeExt::get), or [`Time::now()`](TimeExt::now) |
/// | `Time::after(duration)`, `duration.after_now()` | [`Time::after(duration)`](TimeExt::after), with a `std::time::Duration` |
/// | `Time::INFINITE` | [`Time::INFINITE`] |
/// | `time.sleep()`, `duration.sleep()` | [`time.sleep()`](TimeExt::sleep), `std::thread::sleep(duration)` |
/// | `time.nanos()`, `Time::from_nanos(n)` | [`Time::into_nanos`], [`Time::from_nanos`] |
/// | `Duration`, `From<std::time::Duration>`, `5.millis()` | `std::time::Duration` itself: `Duration::from_millis(5)` |
/// | `time + duration`, `time - time` | the same, saturating ([`Time`]'s operators) |
///
/// ```
/// use std::time::Duration;
/// use mx::api::ClockId;
/// use mx::{Time, TimeExt};
///
/// let start = Time::now();
/// let deadline = Time::after(Duration::from_millis(5));
/// assert!(deadline >= start + Duration::from_millis(5));
/// deadline.sleep();
/// assert!(Time::now() >= deadline);
/// assert!(Time::get(ClockId::Utc) > Time::from_nanos(1_500_000_000 * 1_000_000_000));
/// ```
pub trait TimeExt: sealed::Sealed + Sized {
    /// Reads `clock` (`mx_time_get`).
    #[doc(alias = "mx_time_get")]
    fn get(clock: ClockId) -> Self;

    /// Now, on the monotonic clock of every deadline
    /// (`mx_time_get(MX_CLOCK_MONOTONIC)`).
    fn now() -> Self;

    /// The monotonic time `duration` from now, saturating at
    /// [`Time::INFINITE`] (`mx_deadline_after`).
    #[doc(alias = "mx_deadline_after")]
    fn after(duration: Duration) -> Self;

    /// Sleeps until this time (`mx_nanosleep`): at once if it has passed,
    /// forever for [`Time::INFINITE`].
    #[doc(alias = "mx_nanosleep")]
    fn sleep(self);
}

impl TimeExt for Time {
    fn get(clock: ClockId) -> Time {
        sys::time_get(clock.into_raw())
    }

    fn now() -> Time {
        sys::time_get(CLOCK_MONOTONIC)
    }

    fn after(duration: Duration) -> Time {
        Time::now().saturating_add(duration)
    }

    fn sleep(self) {
        // Always `Ok`.
        let _ = sys::nanosleep(self);
    }
}

/// When a blocking call gives up: a [`Time`] on the monotonic clock, or a
/// `Duration` counted from the start of the call.
///
/// Every call of [`mx::api`](crate::api) that can wait takes
/// `deadline: impl Into<Deadline>`, so it accepts a [`Time`] (such as
/// [`Time::INFINITE`], [`Time::ZERO`] or `Time::after(..)`), a
/// `std::time::Duration`, or a `std::time::Instant`. When the deadline
/// passes the call returns `TIMED_OUT`; a deadline that has passed already
/// (`Time::ZERO`, `Duration::ZERO`) makes the call check once without
/// blocking. A call that waits more than once (a `send` that waits for room
/// several times) computes its deadline once, when it starts.
///
/// ```
/// use std::time::Duration;
/// use mx::api::{AsHandleRef, Event};
/// use mx::{Signals, Status, Time, TimeExt};
///
/// let event = Event::create()?;
/// // Three ways to say "give up after 10 ms".
/// let timeout = Duration::from_millis(10);
/// assert_eq!(event.wait_handle(Signals::USER_0, timeout), Err(Status::TIMED_OUT));
/// assert_eq!(event.wait_handle(Signals::USER_0, Time::after(timeout)), Err(Status::TIMED_OUT));
/// let instant = std::time::Instant::now() + timeout;
/// assert_eq!(event.wait_handle(Signals::USER_0, instant), Err(Status::TIMED_OUT));
/// // Check without blocking.
/// assert_eq!(event.wait_handle(Signals::USER_0, Time::ZERO), Err(Status::TIMED_OUT));
/// # Ok::<(), Status>(())
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Deadline {
    /// At this time on the monotonic clock ([`Time::INFINITE`]: never).
    At(Time),
    /// This long after the call starts.
    After(Duration),
}

impl Deadline {
    /// Never: wait as long as it takes.
    pub const INFINITE: Deadline = Deadline::At(Time::INFINITE);

    /// The deadline as a monotonic [`Time`], reading the clock for
    /// [`Deadline::After`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use mx::api::Deadline;
    /// use mx::{Time, TimeExt};
    ///
    /// let before = Time::now();
    /// let at = Deadline::from(Duration::from_secs(1)).to_time();
    /// assert!(at >= before + Duration::from_secs(1));
    /// assert_eq!(Deadline::INFINITE.to_time(), Time::INFINITE);
    /// ```
    pub fn to_time(self) -> Time {
        match self {
            Deadline::At(time) => time,
            Deadline::After(duration) => Time::after(duration),
        }
    }
}

impl From<Time> for Deadline {
    fn from(time: Time) -> Deadline {
        Deadline::At(time)
    }
}

impl From<Duration> for Deadline {
    fn from(duration: Duration) -> Deadline {
        Deadline::After(duration)
    }
}

impl From<Instant> for Deadline {
    /// The time left until `instant` (zero if it has passed), counted from
    /// the conversion.
    fn from(instant: Instant) -> Deadline {
        Deadline::After(instant.saturating_duration_since(Instant::now()))
    }
}

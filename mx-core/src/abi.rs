//! The rest of Magenta's vocabulary: handle values, koids, object types,
//! options, info topics, time, and the `repr(C)` structs that cross the ABI.
//!
//! Every `repr(C)` type here has the layout of the C struct of the same name;
//! `mx-ffi` checks sizes, alignments and offsets against the C headers.

use core::fmt;
use core::time::Duration;

/// `mx_handle_t`: a handle value as programs see it (a positive `int32_t`).
pub type RawHandle = i32;

/// `MX_HANDLE_INVALID`.
pub const HANDLE_INVALID: RawHandle = 0;

/// `mx_koid_t`: a kernel object id, unique for the life of the process.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
#[repr(transparent)]
pub struct Koid(pub u64);

impl Koid {
    /// `MX_KOID_INVALID`.
    pub const INVALID: Koid = Koid(0);
    /// The first koid handed out (Magenta counts from 1024).
    pub const FIRST: Koid = Koid(1024);
}

/// `mx_obj_type_t`: the type of an object.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
#[repr(transparent)]
pub struct ObjectType(pub u32);

impl ObjectType {
    /// `MX_OBJ_TYPE_NONE`.
    pub const NONE: ObjectType = ObjectType(0);
    /// `MX_OBJ_TYPE_PROCESS` (a kind this implementation does not have).
    pub const PROCESS: ObjectType = ObjectType(1);
    /// `MX_OBJ_TYPE_THREAD` (a kind this implementation does not have).
    pub const THREAD: ObjectType = ObjectType(2);
    /// `MX_OBJ_TYPE_VMO` (a kind this implementation does not have).
    pub const VMO: ObjectType = ObjectType(3);
    /// `MX_OBJ_TYPE_CHANNEL`.
    pub const CHANNEL: ObjectType = ObjectType(4);
    /// `MX_OBJ_TYPE_EVENT`.
    pub const EVENT: ObjectType = ObjectType(5);
    /// `MX_OBJ_TYPE_PORT`.
    pub const PORT: ObjectType = ObjectType(6);
    /// `MX_OBJ_TYPE_INTERRUPT` (a kind this implementation does not have).
    pub const INTERRUPT: ObjectType = ObjectType(9);
    /// `MX_OBJ_TYPE_PCI_DEVICE` (a kind this implementation does not have).
    pub const PCI_DEVICE: ObjectType = ObjectType(11);
    /// `MX_OBJ_TYPE_LOG` (a kind this implementation does not have).
    pub const LOG: ObjectType = ObjectType(12);
    /// `MX_OBJ_TYPE_SOCKET`.
    pub const SOCKET: ObjectType = ObjectType(14);
    /// `MX_OBJ_TYPE_RESOURCE` (a kind this implementation does not have).
    pub const RESOURCE: ObjectType = ObjectType(15);
    /// `MX_OBJ_TYPE_EVENT_PAIR`.
    pub const EVENT_PAIR: ObjectType = ObjectType(16);
    /// `MX_OBJ_TYPE_JOB` (a kind this implementation does not have).
    pub const JOB: ObjectType = ObjectType(17);
    /// `MX_OBJ_TYPE_VMAR` (a kind this implementation does not have).
    pub const VMAR: ObjectType = ObjectType(18);
    /// `MX_OBJ_TYPE_FIFO` (a kind this implementation does not have).
    pub const FIFO: ObjectType = ObjectType(19);
    /// `MX_OBJ_TYPE_GUEST` (a kind this implementation does not have).
    pub const GUEST: ObjectType = ObjectType(20);
    /// `MX_OBJ_TYPE_VCPU` (a kind this implementation does not have).
    pub const VCPU: ObjectType = ObjectType(21);
    /// `MX_OBJ_TYPE_TIMER` (a kind this implementation does not have).
    pub const TIMER: ObjectType = ObjectType(22);
    /// `MX_OBJ_TYPE_IOMMU` (a kind this implementation does not have).
    pub const IOMMU: ObjectType = ObjectType(23);
    /// `MX_OBJ_TYPE_LAST`: one more than the largest type.
    pub const LAST: ObjectType = ObjectType(24);
}

/// `MX_SOCKET_STREAM`: a `mx_socket_create` option.
pub const SOCKET_STREAM: u32 = 0;
/// `MX_SOCKET_DATAGRAM`: a `mx_socket_create` option.
pub const SOCKET_DATAGRAM: u32 = 1;
/// `MX_SOCKET_HALF_CLOSE`: a `mx_socket_write` option.
pub const SOCKET_HALF_CLOSE: u32 = 1;

/// `MX_INFO_NONE`: not a topic (`mx_object_get_info` says `NOT_SUPPORTED`).
pub const INFO_NONE: u32 = 0;
/// `MX_INFO_HANDLE_VALID`: an `mx_object_get_info` topic.
pub const INFO_HANDLE_VALID: u32 = 1;
/// `MX_INFO_HANDLE_BASIC`: an `mx_object_get_info` topic.
pub const INFO_HANDLE_BASIC: u32 = 2;
/// `MX_INFO_PROCESS`: a topic of processes.
pub const INFO_PROCESS: u32 = 3;
/// `MX_INFO_PROCESS_THREADS`: a topic of processes.
pub const INFO_PROCESS_THREADS: u32 = 4;
/// `MX_INFO_VMAR`: a topic of address regions.
pub const INFO_VMAR: u32 = 7;
/// `MX_INFO_JOB_CHILDREN`: a topic of jobs.
pub const INFO_JOB_CHILDREN: u32 = 8;
/// `MX_INFO_JOB_PROCESSES`: a topic of jobs.
pub const INFO_JOB_PROCESSES: u32 = 9;
/// `MX_INFO_THREAD`: a topic of threads.
pub const INFO_THREAD: u32 = 10;
/// `MX_INFO_THREAD_EXCEPTION_REPORT`: a topic of threads.
pub const INFO_THREAD_EXCEPTION_REPORT: u32 = 11;
/// `MX_INFO_TASK_STATS`: a topic of processes.
pub const INFO_TASK_STATS: u32 = 12;
/// `MX_INFO_PROCESS_MAPS`: a topic of processes.
pub const INFO_PROCESS_MAPS: u32 = 13;
/// `MX_INFO_PROCESS_VMOS`: a topic of processes.
pub const INFO_PROCESS_VMOS: u32 = 14;
/// `MX_INFO_THREAD_STATS`: a topic of threads.
pub const INFO_THREAD_STATS: u32 = 15;
/// `MX_INFO_CPU_STATS`: a topic of the root resource.
pub const INFO_CPU_STATS: u32 = 16;
/// `MX_INFO_KMEM_STATS`: a topic of the root resource.
pub const INFO_KMEM_STATS: u32 = 17;
/// `MX_INFO_RESOURCE`: a topic of resources.
pub const INFO_RESOURCE: u32 = 18;
/// `MX_INFO_LAST`: one more than the largest topic.
pub const INFO_LAST: u32 = 19;

/// `MX_PROP_NUM_STATE_KINDS`: an `mx_object_get_property` property (threads).
pub const PROP_NUM_STATE_KINDS: u32 = 2;
/// `MX_PROP_NAME`: an object's name, `char[MX_MAX_NAME_LEN]`.
pub const PROP_NAME: u32 = 3;
/// `MX_PROP_REGISTER_FS`: a thread's `fs` base (x86-64 only).
pub const PROP_REGISTER_FS: u32 = 4;
/// `MX_PROP_PROCESS_DEBUG_ADDR`: a process's `_dl_debug_addr`.
pub const PROP_PROCESS_DEBUG_ADDR: u32 = 5;
/// `MX_PROP_PROCESS_VDSO_BASE_ADDRESS`: where a process's vDSO is mapped.
pub const PROP_PROCESS_VDSO_BASE_ADDRESS: u32 = 6;
/// `MX_PROP_JOB_IMPORTANCE`: a job's importance.
pub const PROP_JOB_IMPORTANCE: u32 = 7;
/// `MX_MAX_NAME_LEN`: the size of an object name, terminator included.
pub const MAX_NAME_LEN: usize = 32;

/// `MX_CPRNG_DRAW_MAX_LEN`: the most bytes one `mx_cprng_draw` returns.
pub const CPRNG_DRAW_MAX_LEN: usize = 256;
/// `MX_CPRNG_ADD_ENTROPY_MAX_LEN`: the most bytes one
/// `mx_cprng_add_entropy` takes.
pub const CPRNG_ADD_ENTROPY_MAX_LEN: usize = 256;
/// `MX_OBJ_PROP_WAITABLE`: the object can be waited on.
pub const OBJ_PROP_WAITABLE: u32 = 1;

/// `MX_CLOCK_MONOTONIC`: nanoseconds since boot, never going back.
pub const CLOCK_MONOTONIC: u32 = 0;
/// `MX_CLOCK_UTC`: wall-clock nanoseconds since the Unix epoch.
pub const CLOCK_UTC: u32 = 1;
/// `MX_CLOCK_THREAD`: nanoseconds of CPU time the calling thread has used.
pub const CLOCK_THREAD: u32 = 2;

/// `MX_WAIT_MANY_MAX_ITEMS`: the most items `mx_object_wait_many` takes.
pub const WAIT_MANY_MAX_ITEMS: usize = 1024;

/// `mx_time_t`: an absolute time in nanoseconds on the monotonic clock, or
/// [`Time::INFINITE`].
///
/// Durations are `core::time::Duration` (`std::time::Duration`): a `Time`
/// plus or minus a `Duration` is a `Time`, and the difference of two times
/// is a `Duration`. The arithmetic saturates instead of overflowing or
/// panicking, because its usual result is a deadline: past the end of the
/// clock is [`Time::INFINITE`] (never), before its start is [`Time::ZERO`]
/// (already passed), and `INFINITE` stays `INFINITE` whatever is added or
/// taken away.
///
/// Reading the clock needs the operating system, so it lives in `mx`
/// (`mx::TimeExt`: `Time::now()`, `Time::after(duration)`,
/// `Time::get(clock)`, `time.sleep()`); this crate has no clock.
///
/// ```
/// use core::time::Duration;
/// use mx_core::Time;
///
/// let start = Time::from_nanos(1_000);
/// let deadline = start + Duration::from_micros(2);
/// assert_eq!(deadline, Time::from_nanos(3_000));
/// assert_eq!(deadline - start, Duration::from_micros(2));
/// assert_eq!(start - deadline, Duration::ZERO); // saturates, like `Instant`
/// assert_eq!(Time::INFINITE + Duration::from_secs(1), Time::INFINITE);
/// assert_eq!(start - Duration::MAX, Time::ZERO);
/// assert_eq!(deadline.into_nanos(), 3_000);
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct Time(pub u64);

impl Time {
    /// `MX_TIME_INFINITE`: never.
    #[doc(alias = "MX_TIME_INFINITE")]
    pub const INFINITE: Time = Time(u64::MAX);
    /// The start of the clock; as a deadline, "do not block".
    pub const ZERO: Time = Time(0);

    /// The time `nanos` nanoseconds after the clock's start.
    pub const fn from_nanos(nanos: u64) -> Time {
        Time(nanos)
    }

    /// Nanoseconds since the clock's start.
    pub const fn into_nanos(self) -> u64 {
        self.0
    }

    /// Whether this is [`Time::INFINITE`].
    pub const fn is_infinite(self) -> bool {
        self.0 == u64::MAX
    }

    /// `self + d`, saturating at [`Time::INFINITE`] (also what `+` does).
    pub fn saturating_add(self, d: Duration) -> Time {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(ns))
    }

    /// `self - d`, saturating at [`Time::ZERO`]; [`Time::INFINITE`] stays
    /// `INFINITE` (also what `-` does).
    pub fn saturating_sub(self, d: Duration) -> Time {
        if self.is_infinite() {
            return self;
        }
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Time(self.0.saturating_sub(ns))
    }

    /// How long after `earlier` this time is; zero if `earlier` is later
    /// (also what `-` between two times does).
    pub fn saturating_duration_since(self, earlier: Time) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    /// How long from `now` until `self`; zero if `self` has passed, `None`
    /// for [`Time::INFINITE`].
    pub fn remaining_since(self, now: Time) -> Option<Duration> {
        if self == Time::INFINITE {
            None
        } else {
            Some(Duration::from_nanos(self.0.saturating_sub(now.0)))
        }
    }
}

impl core::ops::Add<Duration> for Time {
    type Output = Time;

    /// Saturates at [`Time::INFINITE`].
    fn add(self, d: Duration) -> Time {
        self.saturating_add(d)
    }
}

impl core::ops::AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl core::ops::Sub<Duration> for Time {
    type Output = Time;

    /// Saturates at [`Time::ZERO`]; `INFINITE` stays `INFINITE`.
    fn sub(self, d: Duration) -> Time {
        self.saturating_sub(d)
    }
}

impl core::ops::SubAssign<Duration> for Time {
    fn sub_assign(&mut self, d: Duration) {
        *self = self.saturating_sub(d);
    }
}

impl core::ops::Sub<Time> for Time {
    type Output = Duration;

    /// Zero if `earlier` is later, like `std::time::Instant`.
    fn sub(self, earlier: Time) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Time::INFINITE {
            f.write_str("Time::INFINITE")
        } else {
            write!(f, "Time({}ns)", self.0)
        }
    }
}

/// `mx_wait_item_t`: one entry of `mx_object_wait_many`.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct WaitItem {
    /// The handle to wait on.
    pub handle: RawHandle,
    /// The signals that end the wait.
    pub waitfor: crate::Signals,
    /// Out: the signals observed on this handle during the wait.
    pub pending: crate::Signals,
}

/// `mx_info_handle_basic_t`: the answer to `MX_INFO_HANDLE_BASIC`.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct HandleBasicInfo {
    /// The object's koid.
    pub koid: Koid,
    /// The handle's rights.
    pub rights: crate::Rights,
    /// The object's type (`mx_obj_type_t`).
    pub type_: u32,
    /// The peer's koid for peered objects, else 0.
    pub related_koid: Koid,
    /// `MX_OBJ_PROP_WAITABLE` or 0.
    pub props: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_arithmetic_saturates() {
        assert_eq!(Time(5).saturating_add(Duration::from_nanos(7)), Time(12));
        assert_eq!(Time(5).saturating_add(Duration::MAX), Time::INFINITE);
        assert_eq!(
            Time(10).remaining_since(Time(4)),
            Some(Duration::from_nanos(6))
        );
        assert_eq!(Time(4).remaining_since(Time(10)), Some(Duration::ZERO));
        assert_eq!(Time::INFINITE.remaining_since(Time(10)), None);
    }

    #[test]
    fn time_operators_saturate() {
        let second = Duration::from_secs(1);
        assert_eq!(Time(5) + Duration::from_nanos(7), Time(12));
        assert_eq!(Time(u64::MAX - 1) + second, Time::INFINITE);
        assert_eq!(Time::INFINITE - second, Time::INFINITE);
        assert_eq!(Time(5) - second, Time::ZERO);
        assert_eq!(Time(2_000_000_000) - second, Time(1_000_000_000));
        assert_eq!(Time(12) - Time(5), Duration::from_nanos(7));
        assert_eq!(Time(5) - Time(12), Duration::ZERO);
        let mut t = Time::ZERO;
        t += second;
        t -= Duration::from_millis(1);
        assert_eq!(t, Time::from_nanos(999_000_000));
        assert!(Time::INFINITE.is_infinite() && !t.is_infinite());
    }

    #[test]
    fn abi_layouts() {
        assert_eq!(core::mem::size_of::<WaitItem>(), 12);
        assert_eq!(core::mem::size_of::<HandleBasicInfo>(), 32);
        assert_eq!(core::mem::align_of::<HandleBasicInfo>(), 8);
    }
}

/// `MX_WAIT_ASYNC_ONCE`: one packet, then the wait ends.
pub const WAIT_ASYNC_ONCE: u32 = 0;
/// `MX_WAIT_ASYNC_REPEATING`: a packet on every change while triggered.
pub const WAIT_ASYNC_REPEATING: u32 = 1;

/// `MX_PKT_TYPE_USER`: a packet queued by `mx_port_queue`.
pub const PKT_TYPE_USER: u32 = 0;
/// `MX_PKT_TYPE_SIGNAL_ONE`: from a `MX_WAIT_ASYNC_ONCE` wait.
pub const PKT_TYPE_SIGNAL_ONE: u32 = 1;
/// `MX_PKT_TYPE_SIGNAL_REP`: from a `MX_WAIT_ASYNC_REPEATING` wait.
pub const PKT_TYPE_SIGNAL_REP: u32 = 2;

/// `mx_port_packet_t`: 48 bytes, a key, a type, a status and a 32-byte
/// union: `u64[4]` for user packets, `{ trigger, observed, count }` for
/// signal packets. The union is kept as its `u64[4]` form; the accessors
/// below read and write the signal form with C's layout.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
#[repr(C)]
pub struct PortPacket {
    /// The key given to `mx_object_wait_async` (or by the queuer).
    pub key: u64,
    /// `MX_PKT_TYPE_*`.
    pub type_: u32,
    /// A status (0 for signal packets).
    pub status: i32,
    /// The union's bytes.
    pub payload: [u64; 4],
}

impl PortPacket {
    /// A signal packet.
    pub fn signal(
        key: u64,
        type_: u32,
        trigger: crate::Signals,
        observed: crate::Signals,
        count: u64,
    ) -> PortPacket {
        let mut first = [0u8; 8];
        first[..4].copy_from_slice(&trigger.bits().to_ne_bytes());
        first[4..].copy_from_slice(&observed.bits().to_ne_bytes());
        PortPacket {
            key,
            type_,
            status: 0,
            payload: [u64::from_ne_bytes(first), count, 0, 0],
        }
    }

    /// The signal form of the union: `(trigger, observed, count)`.
    pub fn signal_fields(&self) -> (crate::Signals, crate::Signals, u64) {
        let first = self.payload[0].to_ne_bytes();
        let word = |bytes: &[u8]| u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        (
            crate::Signals::from_bits_retain(word(&first[..4])),
            crate::Signals::from_bits_retain(word(&first[4..])),
            self.payload[1],
        )
    }

    /// Replaces the `observed` field of the signal form.
    pub fn set_observed(&mut self, observed: crate::Signals) {
        let mut first = self.payload[0].to_ne_bytes();
        first[4..].copy_from_slice(&observed.bits().to_ne_bytes());
        self.payload[0] = u64::from_ne_bytes(first);
    }
}

#[cfg(test)]
mod packet_tests {
    use super::*;
    use crate::Signals;

    #[test]
    fn packets_are_48_bytes_and_round_trip() {
        assert_eq!(core::mem::size_of::<PortPacket>(), 48);
        assert_eq!(core::mem::align_of::<PortPacket>(), 8);
        let mut p = PortPacket::signal(
            7,
            PKT_TYPE_SIGNAL_REP,
            Signals::READABLE,
            Signals::WRITABLE,
            1,
        );
        assert_eq!(p.signal_fields(), (Signals::READABLE, Signals::WRITABLE, 1));
        p.set_observed(Signals::USER_7);
        assert_eq!(p.signal_fields(), (Signals::READABLE, Signals::USER_7, 1));
    }
}

//! `mx_status_t`: the result code of every call.
//!
//! [`Status`] is a newtype over `i32` rather than an enum, so that every value
//! a C caller hands back (including ones this crate does not know) is
//! representable and round-trips unchanged. Rust APIs return
//! `Result<T, Status>`; `Status::OK` never appears inside an `Err`.

use core::fmt;

/// A Magenta status code (`mx_status_t`).
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Status(i32);

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:expr, $cname:literal;)*) => {
        impl Status {
            $($(#[$doc])* #[doc(alias = $cname)]
            pub const $name: Status = Status($value);)*

            /// The Magenta name of a known code (`"MX_ERR_SHOULD_WAIT"`), or `None`.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    0 => Some("MX_OK"),
                    $($value => Some($cname),)*
                    _ => None,
                }
            }

            /// Every error code of Magenta's `errors.h`, for exhaustive tests.
            pub const ALL_ERRORS: &'static [Status] = &[$(Status::$name),*];
        }
    };
}

impl Status {
    /// Success (`MX_OK`).
    #[doc(alias = "MX_OK")]
    pub const OK: Status = Status(0);
}

statuses! {
    /// Something went wrong inside the implementation.
    INTERNAL = -1, "MX_ERR_INTERNAL";
    /// The operation is not supported on this object.
    NOT_SUPPORTED = -2, "MX_ERR_NOT_SUPPORTED";
    /// A resource other than memory (e.g. handle slots) ran out.
    NO_RESOURCES = -3, "MX_ERR_NO_RESOURCES";
    /// Memory could not be allocated; the call had no effect.
    NO_MEMORY = -4, "MX_ERR_NO_MEMORY";
    /// The second phase of `mx_channel_call` failed (the reason is in
    /// `*read_status`).
    CALL_FAILED = -5, "MX_ERR_CALL_FAILED";
    /// Magenta's vDSO retried calls interrupted with this code; it never
    /// reaches a program, here or there.
    INTERNAL_INTR_RETRY = -6, "MX_ERR_INTERNAL_INTR_RETRY";
    /// An argument is invalid.
    INVALID_ARGS = -10, "MX_ERR_INVALID_ARGS";
    /// The handle value does not name a live handle of this process.
    BAD_HANDLE = -11, "MX_ERR_BAD_HANDLE";
    /// The handle names an object of the wrong type for this call.
    WRONG_TYPE = -12, "MX_ERR_WRONG_TYPE";
    /// The system call number is invalid (Magenta's syscall entry).
    BAD_SYSCALL = -13, "MX_ERR_BAD_SYSCALL";
    /// An argument is outside the valid range.
    OUT_OF_RANGE = -14, "MX_ERR_OUT_OF_RANGE";
    /// The caller's buffer is too small.
    BUFFER_TOO_SMALL = -15, "MX_ERR_BUFFER_TOO_SMALL";
    /// The object is in a state that does not allow the operation.
    BAD_STATE = -20, "MX_ERR_BAD_STATE";
    /// The deadline passed before the condition was met.
    TIMED_OUT = -21, "MX_ERR_TIMED_OUT";
    /// The operation cannot proceed now; wait for a signal and retry.
    SHOULD_WAIT = -22, "MX_ERR_SHOULD_WAIT";
    /// The operation was cancelled (e.g. its handle was closed).
    CANCELED = -23, "MX_ERR_CANCELED";
    /// The other end of a peered object is closed.
    PEER_CLOSED = -24, "MX_ERR_PEER_CLOSED";
    /// The requested entity was not found.
    NOT_FOUND = -25, "MX_ERR_NOT_FOUND";
    /// The entity already exists.
    ALREADY_EXISTS = -26, "MX_ERR_ALREADY_EXISTS";
    /// The entity is already bound.
    ALREADY_BOUND = -27, "MX_ERR_ALREADY_BOUND";
    /// The resource is temporarily unavailable.
    UNAVAILABLE = -28, "MX_ERR_UNAVAILABLE";
    /// The handle lacks a right the call needs.
    ACCESS_DENIED = -30, "MX_ERR_ACCESS_DENIED";
    /// An input-output error without a more specific code.
    IO = -40, "MX_ERR_IO";
    /// The device refused the operation.
    IO_REFUSED = -41, "MX_ERR_IO_REFUSED";
    /// The data failed an integrity check.
    IO_DATA_INTEGRITY = -42, "MX_ERR_IO_DATA_INTEGRITY";
    /// The data is unavailable and may be lost.
    IO_DATA_LOSS = -43, "MX_ERR_IO_DATA_LOSS";
    /// The device is gone.
    IO_NOT_PRESENT = -44, "MX_ERR_IO_NOT_PRESENT";
    /// The device sent more data than expected.
    IO_OVERRUN = -45, "MX_ERR_IO_OVERRUN";
    /// An operation missed its deadline.
    IO_MISSED_DEADLINE = -46, "MX_ERR_IO_MISSED_DEADLINE";
    /// A path name is too long.
    BAD_PATH = -50, "MX_ERR_BAD_PATH";
    /// Not a directory.
    NOT_DIR = -51, "MX_ERR_NOT_DIR";
    /// Not a regular file.
    NOT_FILE = -52, "MX_ERR_NOT_FILE";
    /// A file would grow past its limit.
    FILE_BIG = -53, "MX_ERR_FILE_BIG";
    /// No space left.
    NO_SPACE = -54, "MX_ERR_NO_SPACE";
    /// A directory is not empty.
    NOT_EMPTY = -55, "MX_ERR_NOT_EMPTY";
    /// A callback's "do not call again" (never returned by a call).
    STOP = -60, "MX_ERR_STOP";
    /// A callback's "go on to the next item" (never returned by a call).
    NEXT = -61, "MX_ERR_NEXT";
    /// The protocol is not supported.
    PROTOCOL_NOT_SUPPORTED = -70, "MX_ERR_PROTOCOL_NOT_SUPPORTED";
    /// The host is unreachable.
    ADDRESS_UNREACHABLE = -71, "MX_ERR_ADDRESS_UNREACHABLE";
    /// The address is in use.
    ADDRESS_IN_USE = -72, "MX_ERR_ADDRESS_IN_USE";
    /// The socket is not connected.
    NOT_CONNECTED = -73, "MX_ERR_NOT_CONNECTED";
    /// The peer refused the connection.
    CONNECTION_REFUSED = -74, "MX_ERR_CONNECTION_REFUSED";
    /// The connection was reset.
    CONNECTION_RESET = -75, "MX_ERR_CONNECTION_RESET";
    /// The connection was aborted.
    CONNECTION_ABORTED = -76, "MX_ERR_CONNECTION_ABORTED";
}

impl Status {
    /// Wraps a raw `mx_status_t`.
    pub const fn from_raw(raw: i32) -> Status {
        Status(raw)
    }

    /// The raw `mx_status_t`.
    pub const fn into_raw(self) -> i32 {
        self.0
    }

    /// `Ok(())` for [`Status::OK`], `Err(self)` otherwise.
    pub const fn ok(self) -> Result<(), Status> {
        if self.0 == 0 {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Folds a `Result` into a single status, `OK` for success.
    pub fn from_result<T>(result: Result<T, Status>) -> Status {
        match result {
            Ok(_) => Status::OK,
            Err(status) => status,
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Status({})", self.0),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "unknown status {}", self.0),
        }
    }
}

impl core::error::Error for Status {}

impl From<Status> for i32 {
    fn from(status: Status) -> i32 {
        status.0
    }
}

impl From<i32> for Status {
    fn from(raw: i32) -> Status {
        Status(raw)
    }
}

impl From<alloc::collections::TryReserveError> for Status {
    fn from(_: alloc::collections::TryReserveError) -> Status {
        Status::NO_MEMORY
    }
}

#[cfg(feature = "std")]
impl Status {
    /// The `std::io::ErrorKind` of this status: the one mapping behind every
    /// `io::Error` these crates make (`From<Status> for io::Error`, `?` from a
    /// `Status` in a function returning `io::Result`, `std::io::Read` and
    /// `Write` for `mx::api::Socket`, tokio's `AsyncRead` and `AsyncWrite` in
    /// `mx-tokio`). The `io::Error` carries the status itself, so nothing is
    /// lost: `error.get_ref()` and `downcast_ref::<Status>()` give it back.
    ///
    /// | status | `io::ErrorKind` | why |
    /// |---|---|---|
    /// | `SHOULD_WAIT` | `WouldBlock` | `EAGAIN` |
    /// | `TIMED_OUT`, `IO_MISSED_DEADLINE` | `TimedOut` | `ETIMEDOUT` |
    /// | `PEER_CLOSED` | `BrokenPipe` | a write to a closed peer (`EPIPE`); readers see end of file before it comes to this |
    /// | `BAD_STATE` | `BrokenPipe` | on an I/O path, a write after this end's half-close: writing to a shut stream, as `EPIPE` after `shutdown(SHUT_WR)` |
    /// | `INVALID_ARGS`, `OUT_OF_RANGE`, `WRONG_TYPE`, `BUFFER_TOO_SMALL` | `InvalidInput` | `EINVAL`: an argument is wrong (a datagram longer than the socket's capacity is `OUT_OF_RANGE`) |
    /// | `NO_MEMORY` | `OutOfMemory` | `ENOMEM` |
    /// | `ACCESS_DENIED` | `PermissionDenied` | `EACCES` |
    /// | `NOT_FOUND` | `NotFound` | `ENOENT` |
    /// | `ALREADY_EXISTS` | `AlreadyExists` | `EEXIST` |
    /// | `NOT_SUPPORTED`, `PROTOCOL_NOT_SUPPORTED` | `Unsupported` | `ENOSYS`, `EPROTONOSUPPORT` |
    /// | `UNAVAILABLE` | `ResourceBusy` | `EBUSY` |
    /// | `CONNECTION_REFUSED`, `CONNECTION_RESET`, `CONNECTION_ABORTED`, `NOT_CONNECTED`, `ADDRESS_IN_USE` | the kind of the same name (`AddrInUse` for the last) | |
    /// | `ADDRESS_UNREACHABLE` | `HostUnreachable` | `EHOSTUNREACH` |
    /// | `NOT_DIR`, `NOT_EMPTY`, `NO_SPACE`, `FILE_BIG`, `BAD_PATH` | `NotADirectory`, `DirectoryNotEmpty`, `StorageFull`, `FileTooLarge`, `InvalidFilename` | the file-system errnos |
    /// | `IO_DATA_INTEGRITY` | `InvalidData` | |
    /// | every other code, known or not (`BAD_HANDLE`, `CANCELED`, `INTERNAL`, `NO_RESOURCES`, `CALL_FAILED`, ...) | `Other` | no errno says the same |
    ///
    /// `CANCELED` (the handle was closed during a wait) is deliberately not
    /// `Interrupted`: `read_exact` and `write_all` retry `Interrupted`, and
    /// the retry would only find the handle gone.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use mx_core::Status;
    ///
    /// assert_eq!(Status::SHOULD_WAIT.io_kind(), ErrorKind::WouldBlock);
    /// assert_eq!(Status::PEER_CLOSED.io_kind(), ErrorKind::BrokenPipe);
    /// assert_eq!(Status::BAD_STATE.io_kind(), ErrorKind::BrokenPipe);
    /// assert_eq!(Status::BAD_HANDLE.io_kind(), ErrorKind::Other);
    ///
    /// // `?` in an io::Result function uses the same mapping.
    /// fn half_closed_write() -> std::io::Result<()> {
    ///     Err(Status::BAD_STATE)?
    /// }
    /// assert_eq!(half_closed_write().unwrap_err().kind(), ErrorKind::BrokenPipe);
    /// ```
    pub fn io_kind(self) -> std::io::ErrorKind {
        use std::io::ErrorKind;
        match self {
            Status::SHOULD_WAIT => ErrorKind::WouldBlock,
            Status::TIMED_OUT | Status::IO_MISSED_DEADLINE => ErrorKind::TimedOut,
            Status::PEER_CLOSED | Status::BAD_STATE => ErrorKind::BrokenPipe,
            Status::INVALID_ARGS
            | Status::OUT_OF_RANGE
            | Status::WRONG_TYPE
            | Status::BUFFER_TOO_SMALL => ErrorKind::InvalidInput,
            Status::NO_MEMORY => ErrorKind::OutOfMemory,
            Status::ACCESS_DENIED => ErrorKind::PermissionDenied,
            Status::NOT_FOUND => ErrorKind::NotFound,
            Status::ALREADY_EXISTS => ErrorKind::AlreadyExists,
            Status::NOT_SUPPORTED | Status::PROTOCOL_NOT_SUPPORTED => ErrorKind::Unsupported,
            Status::UNAVAILABLE => ErrorKind::ResourceBusy,
            Status::CONNECTION_REFUSED => ErrorKind::ConnectionRefused,
            Status::CONNECTION_RESET => ErrorKind::ConnectionReset,
            Status::CONNECTION_ABORTED => ErrorKind::ConnectionAborted,
            Status::NOT_CONNECTED => ErrorKind::NotConnected,
            Status::ADDRESS_IN_USE => ErrorKind::AddrInUse,
            Status::ADDRESS_UNREACHABLE => ErrorKind::HostUnreachable,
            Status::NOT_DIR => ErrorKind::NotADirectory,
            Status::NOT_EMPTY => ErrorKind::DirectoryNotEmpty,
            Status::NO_SPACE => ErrorKind::StorageFull,
            Status::FILE_BIG => ErrorKind::FileTooLarge,
            Status::BAD_PATH => ErrorKind::InvalidFilename,
            Status::IO_DATA_INTEGRITY => ErrorKind::InvalidData,
            _ => ErrorKind::Other,
        }
    }
}

/// An `io::Error` of kind [`Status::io_kind`] that carries the `Status`
/// (recover it with `error.get_ref()` and `downcast_ref::<Status>()`).
///
/// ```
/// use mx_core::Status;
///
/// let error = std::io::Error::from(Status::TIMED_OUT);
/// assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
/// let status = error.get_ref().and_then(|e| e.downcast_ref::<Status>());
/// assert_eq!(status, Some(&Status::TIMED_OUT));
/// ```
#[cfg(feature = "std")]
impl From<Status> for std::io::Error {
    fn from(status: Status) -> std::io::Error {
        std::io::Error::new(status.io_kind(), status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_magenta() {
        assert_eq!(Status::OK.into_raw(), 0);
        assert_eq!(Status::SHOULD_WAIT.into_raw(), -22);
        assert_eq!(Status::ACCESS_DENIED.into_raw(), -30);
        assert_eq!(Status::NOT_CONNECTED.into_raw(), -73);
        assert_eq!(Status::ALL_ERRORS.len(), 44);
    }

    #[test]
    fn unknown_values_round_trip() {
        let s = Status::from_raw(-1234);
        assert_eq!(s.into_raw(), -1234);
        assert_eq!(s.name(), None);
        assert_eq!(alloc::format!("{s:?}"), "Status(-1234)");
        assert_eq!(
            alloc::format!("{:?}", Status::PEER_CLOSED),
            "MX_ERR_PEER_CLOSED"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn io_kinds_follow_one_table() {
        use std::io::ErrorKind;
        assert_eq!(Status::BAD_STATE.io_kind(), ErrorKind::BrokenPipe);
        assert_eq!(Status::PEER_CLOSED.io_kind(), ErrorKind::BrokenPipe);
        assert_eq!(Status::CANCELED.io_kind(), ErrorKind::Other);
        assert_eq!(Status::from_raw(-1234).io_kind(), ErrorKind::Other);
        for &status in Status::ALL_ERRORS {
            let error = std::io::Error::from(status);
            assert_eq!(error.kind(), status.io_kind(), "{status:?}");
            assert_ne!(error.kind(), ErrorKind::Interrupted, "{status:?}");
            let inner = error.get_ref().and_then(|e| e.downcast_ref::<Status>());
            assert_eq!(inner, Some(&status));
        }
    }

    #[test]
    fn ok_maps_to_unit() {
        assert_eq!(Status::OK.ok(), Ok(()));
        assert_eq!(Status::BAD_STATE.ok(), Err(Status::BAD_STATE));
    }
}

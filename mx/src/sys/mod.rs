//! One function per `mx_*` system call.
//!
//! Each function applies the specification's checks in the specification's
//! order and calls into one object. The safe API ([`crate::api`]), the C ABI
//! (`mx-ffi`) and the tokio adapter all call these functions, so every
//! semantic has exactly one implementation.
//!
//! Conventions:
//! - Functions take and return raw handle values ([`RawHandle`]); ownership
//!   is the caller's business.
//! - Results are `Result<T, Status>`. Where C writes out-parameters even on
//!   some errors (`*observed` after a timeout), the error is an [`ErrorWith`].
//! - Byte buffers are [`Source`](mx_core::storage::Source)s and
//!   [`Sink`](mx_core::storage::Sink)s: slices from Rust, user pointers from
//!   C. Checks that concern C pointers alone (a NULL buffer with a non-zero
//!   size, NULL out-parameters) belong to the C ABI and happen there first.
//!
//! The handle lookup of every call is `with_handle`: `BAD_HANDLE`, then the
//! rights (`ACCESS_DENIED`), then the caller checks the type (`WRONG_TYPE`).

mod event;
mod handle;
mod object;
mod port;
mod socket;
mod task;
mod time;

pub use event::{event_create, eventpair_create};
pub use handle::{handle_close, handle_duplicate, handle_replace};
pub use object::{
    object_get_info, object_get_info_handle_basic, object_signal, object_signal_peer,
    object_wait_many, object_wait_one, InfoCount,
};
pub use port::{object_wait_async, port_cancel, port_create, port_queue, port_wait};
pub use socket::{socket_create, socket_is_datagram, socket_read, socket_wait_room, socket_write};
pub use task::{object_wait_waker, WakerRegistration, WakerWait, Wanted};
pub use time::{deadline_after, nanosleep, time_get};

use mx_core::{RawHandle, Rights, Status};

use crate::object::{Kernel, Object};
use crate::sync::{try_arc, Arc};
use crate::table::{Entry, HandleTable};

/// An error that still reports an out-parameter, as C callers see it (for
/// example the signals observed by a wait that timed out).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ErrorWith<T> {
    /// The error.
    pub status: Status,
    /// What the call reports besides (`None`: the out-parameter is not written).
    pub value: Option<T>,
}

impl<T> ErrorWith<T> {
    fn bare(status: Status) -> ErrorWith<T> {
        ErrorWith {
            status,
            value: None,
        }
    }
}

impl<T> From<Status> for ErrorWith<T> {
    fn from(status: Status) -> ErrorWith<T> {
        ErrorWith::bare(status)
    }
}

impl<T> From<ErrorWith<T>> for Status {
    fn from(error: ErrorWith<T>) -> Status {
        error.status
    }
}

#[cfg(not(loom))]
static TABLE: HandleTable = HandleTable::new();

#[cfg(loom)]
loom::lazy_static! {
    static ref TABLE: HandleTable = HandleTable::new();
}

/// The process's handle table.
pub(crate) fn table() -> &'static HandleTable {
    &TABLE
}

/// Looks `handle` up, checks that it has `rights`, and runs `f` on its entry
/// under the table's read lock (see [`crate::table`]).
pub(crate) fn with_handle<R>(
    handle: RawHandle,
    rights: Rights,
    f: impl FnOnce(&Entry) -> Result<R, Status>,
) -> Result<R, Status> {
    table().with(handle, |entry| {
        if !entry.rights.contains(rights) {
            return Err(Status::ACCESS_DENIED);
        }
        f(entry)
    })?
}

/// Allocates a kernel object.
fn new_kernel(kernel: Kernel) -> Result<Arc<Kernel>, Status> {
    try_arc(kernel)
}

/// Adds handles for both ends of a new peered object.
fn add_pair(kernel: Kernel, rights: Rights) -> Result<(RawHandle, RawHandle), Status> {
    let kernel = new_kernel(kernel)?;
    let a = Object {
        kernel: kernel.clone(),
        side: mx_core::Side::A,
    };
    let b = Object {
        kernel,
        side: mx_core::Side::B,
    };
    let first = table().add(|| Ok((a, rights)))?;
    match table().add(|| Ok((b, rights))) {
        Ok(second) => Ok((first, second)),
        Err(status) => {
            // Nobody was told `first`; closing it frees the pair.
            let _ = handle_close(first);
            Err(status)
        }
    }
}

/// Live handles in the process (for leak tests).
pub fn handle_count() -> usize {
    table().len()
}

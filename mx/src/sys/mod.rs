//! One function per `mx_*` system call.
//!
//! Each function decodes its arguments, looks its handles up with the
//! typed lookup (`BAD_HANDLE`, then the rights, then the kind of object, in
//! the order the specification gives) and makes one call into the object
//! that does the work. Nothing else lives here: the rules are in `mx-core`,
//! the objects and their operations in the object layer, waiting in its
//! `wait` module. The safe API ([`crate::api`]), the C ABI (`mx-ffi`) and
//! the tokio adapter all call these functions, so every semantic has
//! exactly one implementation.
//!
//! Calls that are ours, not Magenta's, are in [`ext`].
//!
//! Conventions:
//! - Functions take and return raw handle values ([`RawHandle`]); ownership
//!   is the caller's business.
//! - Results are `Result<T, Status>`. Where C writes out-parameters even on
//!   some errors (`*observed` after a timeout), the error is an [`ErrorWith`].
//! - Byte buffers are [`Source`](mx_shm::storage::Source)s and
//!   [`Sink`](mx_shm::storage::Sink)s: slices from Rust, user pointers from
//!   C. Checks that concern C pointers alone (a NULL buffer with a non-zero
//!   size, NULL out-parameters) belong to the C ABI and happen there first.

mod channel;
mod event;
pub mod ext;
mod handle;
#[cfg(not(loom))]
pub mod linux;
mod object;
mod port;
mod property;
mod socket;
mod system;
mod time;

pub use channel::{channel_call, channel_create, channel_read, channel_write, CallError};
pub use event::{event_create, eventpair_create};
pub use handle::{handle_close, handle_duplicate, handle_replace};
pub use object::{
    object_get_info, object_get_info_handle_basic, object_signal, object_signal_peer,
    object_wait_many, object_wait_one, InfoCount,
};
pub use port::{object_wait_async, port_cancel, port_create, port_queue, port_wait};
pub use property::{
    object_get_child, object_get_cookie, object_get_property, object_set_cookie,
    object_set_property,
};
pub use socket::{socket_create, socket_read, socket_write};
pub use system::{
    cprng_add_entropy, cprng_draw, system_get_num_cpus, system_get_physmem, system_get_version,
    ticks_get, ticks_per_second, TICKS_PER_SECOND, VERSION,
};
pub use time::{deadline_after, nanosleep, time_get};

use mx_core::{RawHandle, Rights, Side, Status};

use crate::object::{End, Object};
use crate::sync::try_arc;
use crate::table::table;

/// An error that still reports an out-parameter, as C callers see it (for
/// example the signals observed by a wait that timed out).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ErrorWith<T> {
    /// The error.
    pub status: Status,
    /// What the call reports besides (`None`: the out-parameter is not written).
    pub value: Option<T>,
}

impl<T> From<Status> for ErrorWith<T> {
    fn from(status: Status) -> ErrorWith<T> {
        ErrorWith {
            status,
            value: None,
        }
    }
}

impl<T> From<ErrorWith<T>> for Status {
    fn from(error: ErrorWith<T>) -> Status {
        error.status
    }
}

/// Allocates `object` and gives its one end a handle with `rights`.
fn add_one(object: Object, rights: Rights) -> Result<RawHandle, Status> {
    #[cfg(not(loom))]
    crate::remote::fork::install();
    let object = try_arc(object)?;
    table().add(|| {
        Ok((
            End {
                object,
                side: Side::A,
            },
            rights,
        ))
    })
}

/// Allocates the peered `object` and gives each end a handle with `rights`.
fn add_pair(object: Object, rights: Rights) -> Result<(RawHandle, RawHandle), Status> {
    #[cfg(not(loom))]
    crate::remote::fork::install();
    let object = try_arc(object)?;
    let a = End {
        object: object.clone(),
        side: Side::A,
    };
    let b = End {
        object,
        side: Side::B,
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

//! Event and eventpair system calls.

use mx_core::{RawHandle, Rights, Side, Status};

use super::{add_pair, new_kernel, table};
use crate::object::{Event, EventPair, Kernel, Object};

/// `mx_event_create`—Creates an event, with only `LAST_HANDLE` asserted.
///
/// # Errors
/// - `INVALID_ARGS`: `options` is not 0.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_event_create")]
pub fn event_create(options: u32) -> Result<RawHandle, Status> {
    if options != 0 {
        return Err(Status::INVALID_ARGS);
    }
    let kernel = new_kernel(Kernel::Event(Event::new()))?;
    table().add(|| {
        Ok((
            Object {
                kernel,
                side: Side::A,
            },
            Rights::EVENT_DEFAULT,
        ))
    })
}

/// `mx_eventpair_create`—Creates a pair of peered events.
///
/// # Errors
/// - `NOT_SUPPORTED`: `options` is not 0 (as Magenta).
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_eventpair_create")]
pub fn eventpair_create(options: u32) -> Result<(RawHandle, RawHandle), Status> {
    if options != 0 {
        return Err(Status::NOT_SUPPORTED);
    }
    add_pair(
        Kernel::EventPair(EventPair::new()),
        Rights::EVENTPAIR_DEFAULT,
    )
}

//! Event and eventpair system calls.

use mx_core::{RawHandle, Rights, Status};

use super::{add_one, add_pair};
use crate::object::{Event, EventPair, Object};

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
    add_one(Object::Event(Event::new()), Rights::EVENT_DEFAULT)
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
        Object::EventPair(EventPair::new()),
        Rights::EVENTPAIR_DEFAULT,
    )
}

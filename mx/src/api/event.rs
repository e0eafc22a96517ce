//! [`Event`] and [`EventPair`].

use mx_core::Status;

use super::{handle_type, Handle, Peered};
use crate::sys;

/// An event: an object with user-settable signals (`MX_EVENT_SIGNALED` and
/// the user signals).
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Event(Handle);

handle_type!(Event);

impl Event {
    /// Creates an event ([`sys::event_create`]).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub fn create() -> Result<Event, Status> {
        sys::event_create(0).map(|raw| Event(Handle::from_raw(raw)))
    }
}

/// One end of an eventpair: an event whose peer can signal it and which
/// sees `MX_EPAIR_PEER_CLOSED` when the peer goes.
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct EventPair(Handle);

handle_type!(EventPair);

impl Peered for EventPair {}

impl EventPair {
    /// Creates a pair ([`sys::eventpair_create`]).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub fn create() -> Result<(EventPair, EventPair), Status> {
        let (a, b) = sys::eventpair_create(0)?;
        Ok((
            EventPair(Handle::from_raw(a)),
            EventPair(Handle::from_raw(b)),
        ))
    }
}

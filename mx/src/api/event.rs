//! [`Event`] and [`EventPair`].

use mx_core::Status;

use super::{handle_type, Handle, Peered};
use crate::sys;

/// An event: an object with user-settable signals (`MX_EVENT_SIGNALED` and
/// the user signals), for one thread to tell others that something
/// happened.
///
/// ```
/// use std::time::Duration;
/// use mx::api::{AsHandleRef, Event, HandleBased};
/// use mx::{Rights, Signals};
///
/// let done = Event::create()?;
/// let worker = {
///     let done = done.duplicate_handle(Rights::SAME_RIGHTS)?;
///     std::thread::spawn(move || done.signal_handle(Signals::NONE, Signals::EVENT_SIGNALED))
/// };
/// done.wait_handle(Signals::EVENT_SIGNALED, Duration::from_secs(10))?;
/// worker.join().unwrap()?;
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct Event(Handle);

handle_type!(Event);

impl Event {
    /// Creates an event ([`sys::event_create`]), with no signal asserted
    /// but `LAST_HANDLE`.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    #[doc(alias = "mx_event_create")]
    pub fn create() -> Result<Event, Status> {
        sys::event_create(0).map(|raw| Event(Handle::from_raw(raw)))
    }
}

/// One end of an eventpair: an event whose peer can signal it and which
/// sees `MX_EPAIR_PEER_CLOSED` when the peer goes.
///
/// ```
/// use std::time::Duration;
/// use mx::api::{AsHandleRef, EventPair};
/// use mx::Signals;
///
/// let (mine, theirs) = EventPair::create()?;
/// std::thread::spawn(move || drop(theirs)); // e.g. a worker that exits
/// let seen = mine.wait_handle(Signals::EPAIR_PEER_CLOSED, Duration::from_secs(10))?;
/// assert!(seen.contains(Signals::EPAIR_PEER_CLOSED));
/// # Ok::<(), mx::Status>(())
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct EventPair(Handle);

handle_type!(EventPair);

impl Peered for EventPair {}

impl EventPair {
    /// Creates a pair ([`sys::eventpair_create`]); each end starts with
    /// only `LAST_HANDLE` asserted.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    #[doc(alias = "mx_eventpair_create")]
    pub fn create() -> Result<(EventPair, EventPair), Status> {
        let (a, b) = sys::eventpair_create(0)?;
        Ok((
            EventPair(Handle::from_raw(a)),
            EventPair(Handle::from_raw(b)),
        ))
    }
}

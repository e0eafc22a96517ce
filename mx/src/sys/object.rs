//! Object system calls: signals, waiting, information.

use mx_core::abi::{
    HandleBasicInfo, WaitItem, INFO_HANDLE_BASIC, INFO_HANDLE_VALID, OBJ_PROP_WAITABLE,
    WAIT_MANY_MAX_ITEMS,
};
use mx_core::observer::Wanted;
use mx_core::storage::Sink;
use mx_core::{RawHandle, Rights, Signals, Status, Time};

use super::{table, with_handle, ErrorWith};
use crate::object::wait::{park_until, spin_until};
use crate::object::{Kernel, Object, ObserveRequest, Observed, Waiting};
use crate::sync::{try_arc, Parker};
use crate::time::now;

/// `mx_object_signal`—Clears, then sets, signals of an object.
///
/// Sockets accept user signals only; events and eventpairs also
/// `MX_EVENT_SIGNALED`.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `SIGNAL`).
/// - `INVALID_ARGS`: a bit the object does not let programs set.
#[doc(alias = "mx_object_signal")]
pub fn object_signal(handle: RawHandle, clear: Signals, set: Signals) -> Result<(), Status> {
    with_handle(handle, Rights::SIGNAL, |entry| {
        entry.kernel.signal(entry.side(), clear, set)
    })
}

/// `mx_object_signal_peer`—Clears, then sets, signals of an object's peer.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `SIGNAL_PEER`; events never hold it).
/// - `NOT_SUPPORTED`: the object has no peer.
/// - `INVALID_ARGS`: a bit the peer does not let programs set.
/// - `PEER_CLOSED`: the peer is closed.
#[doc(alias = "mx_object_signal_peer")]
pub fn object_signal_peer(handle: RawHandle, clear: Signals, set: Signals) -> Result<(), Status> {
    with_handle(handle, Rights::SIGNAL_PEER, |entry| match &*entry.kernel {
        Kernel::Event(_) => Err(Status::NOT_SUPPORTED),
        kernel => kernel.signal_peer(entry.side(), clear, set),
    })
}

/// Looks up a handle to wait on: `READ` right and a waitable object.
pub(crate) fn waitable(handle: RawHandle) -> Result<Object, Status> {
    with_handle(handle, Rights::READ, |entry| {
        if !entry.kernel.is_waitable() {
            return Err(Status::NOT_SUPPORTED);
        }
        Ok(entry.object())
    })
}

/// `mx_object_wait_one`—Waits for any of `signals` on one object.
///
/// Returns the observed signals: the OR of every state the object was seen
/// in while the wait was registered (so it may hold bits no longer set).
/// `signals` may be empty (the wait then lasts until the deadline). A
/// deadline of 0, or in the past, does not block. Only a change that asserts
/// a watched bit ends the wait. The observed signals are reported with
/// `TIMED_OUT` and `CANCELED` too.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`).
/// - `NOT_SUPPORTED`: the object cannot be waited on.
/// - `NO_MEMORY`.
/// - `TIMED_OUT`: the deadline passed (with the observed signals).
/// - `CANCELED`: the handle was closed during the wait (with the observed
///   signals and `MX_SIGNAL_HANDLE_CLOSED`).
#[doc(alias = "mx_object_wait_one")]
pub fn object_wait_one(
    handle: RawHandle,
    signals: Signals,
    deadline: Time,
) -> Result<Signals, ErrorWith<Signals>> {
    // Look (and spin) through the handle: no reference to the object is
    // taken, so a waiter does not touch cache lines its peer uses.
    let look = || {
        with_handle(handle, Rights::READ, |entry| {
            if !entry.kernel.is_waitable() {
                return Err(Status::NOT_SUPPORTED);
            }
            Ok(entry.kernel.signals(entry.side()))
        })
    };
    let mut current = look()?;
    if current.intersects(signals) {
        return Ok(current);
    }
    if deadline != Time::INFINITE && deadline <= now() {
        return Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(current),
        });
    }
    let seen = spin_until(deadline, || match look() {
        Ok(now) => {
            current = now;
            now.intersects(signals)
        }
        // Closed meanwhile: registering below reports it.
        Err(_) => true,
    });
    if seen && current.intersects(signals) {
        return Ok(current);
    }
    let object = match waitable(handle) {
        Ok(object) => object,
        // The handle was valid when the wait began: it was closed since.
        Err(Status::BAD_HANDLE) => {
            return Err(ErrorWith {
                status: Status::CANCELED,
                value: Some(current | Signals::HANDLE_CLOSED),
            });
        }
        Err(status) => return Err(status.into()),
    };
    wait_registered(
        handle,
        Rights::READ,
        &object,
        Wanted::Signals(signals),
        deadline,
    )
}

/// Registers a thread observer through `handle` (under the table lock, so a
/// concurrent close either sees it or comes first), parks, and reports.
/// [`Wanted::Room`] makes it a socket writer waiting for room.
pub(crate) fn wait_registered(
    handle: RawHandle,
    rights: Rights,
    object: &Object,
    wanted: Wanted,
    deadline: Time,
) -> Result<Signals, ErrorWith<Signals>> {
    let parker = try_arc(Parker::new())?;
    let request = ObserveRequest {
        handle,
        wanted,
        always: false,
        repeating: false,
        kind: Waiting::Thread(parker.clone()),
    };
    let registered = with_handle(handle, rights, |entry| {
        entry.kernel.observe(entry.side(), request)
    });
    let id = match registered {
        Ok(Observed::Now(current)) => return Ok(current),
        Ok(Observed::Registered { id, .. }) => id,
        // The handle was valid when the wait began: it was closed since.
        Err(Status::BAD_HANDLE) => {
            let seen = object.signals() | Signals::HANDLE_CLOSED;
            return Err(ErrorWith {
                status: Status::CANCELED,
                value: Some(seen),
            });
        }
        Err(status) => return Err(status.into()),
    };
    park_until(&parker, deadline);
    let Some(observer) = object.unobserve(id) else {
        // Thread observers are removed only by their own thread.
        return Err(Status::INTERNAL.into());
    };
    if observer.canceled {
        Err(ErrorWith {
            status: Status::CANCELED,
            value: Some(observer.observed | Signals::HANDLE_CLOSED),
        })
    } else if observer.fired {
        Ok(observer.observed)
    } else {
        Err(ErrorWith {
            status: Status::TIMED_OUT,
            value: Some(observer.observed),
        })
    }
}

/// `mx_object_wait_many`—Waits for any of several objects' signals.
///
/// Every item's `pending` is filled with the signals observed on it (as for
/// [`object_wait_one`]) when the call returns `Ok`, `TIMED_OUT` or
/// `CANCELED`. With no items, sleeps until the deadline and returns
/// `TIMED_OUT`.
///
/// # Errors
/// - `INVALID_ARGS`: more than 1,024 items.
/// - `BAD_HANDLE`, `ACCESS_DENIED`, `NOT_SUPPORTED`: an item could not be
///   registered (the others are undone; `pending` is not written).
/// - `NO_MEMORY`.
/// - `TIMED_OUT`, `CANCELED` (an item's handle was closed during the wait).
#[doc(alias = "mx_object_wait_many")]
pub fn object_wait_many(items: &mut [WaitItem], deadline: Time) -> Result<(), Status> {
    if items.len() > WAIT_MANY_MAX_ITEMS {
        return Err(Status::INVALID_ARGS);
    }
    if items.is_empty() {
        super::nanosleep(deadline)?;
        return Err(Status::TIMED_OUT);
    }
    let parker = try_arc(Parker::new())?;
    let mut registered: Vec<(Object, u64)> = Vec::new();
    registered.try_reserve_exact(items.len())?;
    let mut satisfied = false;
    for item in items.iter() {
        let request = ObserveRequest {
            handle: item.handle,
            wanted: Wanted::Signals(item.waitfor),
            always: true,
            repeating: false,
            kind: Waiting::Thread(parker.clone()),
        };
        let result = with_handle(item.handle, Rights::READ, |entry| {
            if !entry.kernel.is_waitable() {
                return Err(Status::NOT_SUPPORTED);
            }
            Ok((entry.object(), entry.kernel.observe(entry.side(), request)?))
        });
        match result {
            Ok((object, Observed::Registered { id, current })) => {
                satisfied |= current.intersects(item.waitfor);
                registered.push((object, id));
            }
            Ok((_, Observed::Now(_))) => unreachable!("`always` registers"),
            Err(status) => {
                for (object, id) in registered {
                    object.unobserve(id);
                }
                return Err(status);
            }
        }
    }
    if !satisfied && (deadline == Time::INFINITE || deadline > now()) {
        spin_until(deadline, || parker.is_unparked());
        park_until(&parker, deadline);
    }
    let mut canceled = false;
    for ((object, id), item) in registered.into_iter().zip(items.iter_mut()) {
        let Some(observer) = object.unobserve(id) else {
            return Err(Status::INTERNAL);
        };
        item.pending = observer.observed;
        if observer.canceled {
            item.pending |= Signals::HANDLE_CLOSED;
            canceled = true;
        }
        satisfied |= observer.observed.intersects(item.waitfor);
    }
    if canceled {
        Err(Status::CANCELED)
    } else if satisfied {
        Ok(())
    } else {
        Err(Status::TIMED_OUT)
    }
}

/// How many records `object_get_info` wrote, and how many there were.
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct InfoCount {
    /// Records written to the buffer.
    pub actual: usize,
    /// Records available.
    pub avail: usize,
}

/// `MX_INFO_HANDLE_BASIC` as a typed value (see [`object_get_info`]).
///
/// # Errors
/// - `BAD_HANDLE`.
pub fn object_get_info_handle_basic(handle: RawHandle) -> Result<HandleBasicInfo, Status> {
    table().with(handle, |entry| HandleBasicInfo {
        koid: entry.kernel.koid(entry.side()),
        rights: entry.rights,
        type_: entry.kernel.object_type().0,
        related_koid: entry.kernel.related_koid(entry.side()),
        props: if entry.kernel.is_waitable() {
            OBJ_PROP_WAITABLE
        } else {
            0
        },
    })
}

/// The bytes of a `mx_info_handle_basic_t`, laid out as in C.
fn basic_info_bytes(info: &HandleBasicInfo) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[0..8].copy_from_slice(&info.koid.0.to_ne_bytes());
    out[8..12].copy_from_slice(&info.rights.bits().to_ne_bytes());
    out[12..16].copy_from_slice(&info.type_.to_ne_bytes());
    out[16..24].copy_from_slice(&info.related_koid.0.to_ne_bytes());
    out[24..28].copy_from_slice(&info.props.to_ne_bytes());
    out
}

/// `mx_object_get_info`—Reads information about a handle or its object.
///
/// `MX_INFO_HANDLE_VALID` succeeds if the handle is live; it uses no buffer
/// and reports no counts (`Ok(None)`: as in Magenta, `*actual` and `*avail`
/// are not written). `MX_INFO_HANDLE_BASIC` writes one
/// `mx_info_handle_basic_t` into `buffer` and reports the counts, even when
/// the buffer is too small (`actual` 0, `avail` 1), as Magenta did.
///
/// # Errors
/// - `INVALID_ARGS`: unknown topic.
/// - `BAD_HANDLE`.
/// - `BUFFER_TOO_SMALL` (with counts).
#[doc(alias = "mx_object_get_info")]
pub fn object_get_info<D: Sink + ?Sized>(
    handle: RawHandle,
    topic: u32,
    buffer: &mut D,
) -> Result<Option<InfoCount>, ErrorWith<InfoCount>> {
    match topic {
        INFO_HANDLE_VALID => {
            table().with(handle, |_| ())?;
            Ok(None)
        }
        INFO_HANDLE_BASIC => {
            let info = object_get_info_handle_basic(handle)?;
            let bytes = basic_info_bytes(&info);
            if buffer.len() < bytes.len() {
                let count = InfoCount {
                    actual: 0,
                    avail: 1,
                };
                return Err(ErrorWith {
                    status: Status::BUFFER_TOO_SMALL,
                    value: Some(count),
                });
            }
            buffer.write_at(0, &bytes)?;
            Ok(Some(InfoCount {
                actual: 1,
                avail: 1,
            }))
        }
        _ => Err(Status::INVALID_ARGS.into()),
    }
}

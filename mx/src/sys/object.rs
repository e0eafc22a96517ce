//! Object system calls: signals, waiting, information.

use mx_core::abi::{
    HandleBasicInfo, WaitItem, INFO_CPU_STATS, INFO_HANDLE_BASIC, INFO_HANDLE_VALID,
    INFO_JOB_CHILDREN, INFO_JOB_PROCESSES, INFO_KMEM_STATS, INFO_PROCESS, INFO_PROCESS_MAPS,
    INFO_PROCESS_THREADS, INFO_PROCESS_VMOS, INFO_RESOURCE, INFO_TASK_STATS, INFO_THREAD,
    INFO_THREAD_EXCEPTION_REPORT, INFO_THREAD_STATS, INFO_VMAR,
};
use mx_core::{ObjectType, RawHandle, Rights, Signals, Status, Time};
use mx_shm::storage::Sink;

use super::ErrorWith;
use crate::object::{wait, Any};
use crate::table::table;

/// `mx_object_signal`—Clears, then sets, signals of an object.
///
/// Sockets accept user signals only; events and eventpairs also
/// `MX_EVENT_SIGNALED`.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `SIGNAL`).
/// - `INVALID_ARGS`: a bit the object does not let programs set.
/// - `NOT_SUPPORTED`: the object has no signals of its own (ports).
#[doc(alias = "mx_object_signal")]
pub fn object_signal(handle: RawHandle, clear: Signals, set: Signals) -> Result<(), Status> {
    table().find::<Any, _>(handle, Rights::SIGNAL, |found| {
        found.target.signal(found.side, clear, set)
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
    table().find::<Any, _>(handle, Rights::SIGNAL_PEER, |found| {
        found.target.signal_peer(found.side, clear, set)
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
    wait::wait_one(handle, signals, deadline)
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
    wait::wait_many(items, deadline)
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
    table().find::<Any, _>(handle, Rights::NONE, |found| {
        let object = found.target;
        Ok(HandleBasicInfo {
            koid: object.koid(found.side),
            rights: found.rights,
            type_: object.object_type().0,
            related_koid: object.related_koid(found.side),
            props: object.props(),
        })
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

/// The `mx_object_get_info` topics of kinds this implementation does not
/// have, with what Magenta's kernel looked the handle up with: the rights
/// the topic needs and the kind it answers for.
const OTHER_KINDS_TOPICS: &[(u32, Rights, ObjectType)] = &[
    (INFO_PROCESS, Rights::READ, ObjectType::PROCESS),
    (INFO_PROCESS_THREADS, Rights::ENUMERATE, ObjectType::PROCESS),
    (INFO_VMAR, Rights::NONE, ObjectType::VMAR),
    (INFO_JOB_CHILDREN, Rights::ENUMERATE, ObjectType::JOB),
    (INFO_JOB_PROCESSES, Rights::ENUMERATE, ObjectType::JOB),
    (INFO_THREAD, Rights::READ, ObjectType::THREAD),
    (
        INFO_THREAD_EXCEPTION_REPORT,
        Rights::READ,
        ObjectType::THREAD,
    ),
    (INFO_TASK_STATS, Rights::READ, ObjectType::PROCESS),
    (INFO_PROCESS_MAPS, Rights::READ, ObjectType::PROCESS),
    (INFO_PROCESS_VMOS, Rights::READ, ObjectType::PROCESS),
    (INFO_THREAD_STATS, Rights::READ, ObjectType::THREAD),
    (INFO_CPU_STATS, Rights::NONE, ObjectType::RESOURCE),
    (INFO_KMEM_STATS, Rights::NONE, ObjectType::RESOURCE),
    (INFO_RESOURCE, Rights::NONE, ObjectType::RESOURCE),
];

/// The rights and kind `topic` needs, if it is a topic of a kind this
/// implementation does not have.
pub(crate) fn other_kinds_topic(topic: u32) -> Option<(Rights, ObjectType)> {
    OTHER_KINDS_TOPICS
        .iter()
        .find(|(t, _, _)| *t == topic)
        .map(|&(_, rights, kind)| (rights, kind))
}

/// `mx_object_get_info`—Reads information about a handle or its object.
///
/// `MX_INFO_HANDLE_VALID` succeeds if the handle is live; it uses no buffer
/// and reports no counts (`Ok(None)`: as in Magenta, `*actual` and `*avail`
/// are not written). `MX_INFO_HANDLE_BASIC` writes one
/// `mx_info_handle_basic_t` into `buffer` and reports the counts, even when
/// the buffer is too small (`actual` 0, `avail` 1), as Magenta did.
///
/// The topics of kinds this implementation does not have
/// (`MX_INFO_PROCESS`, `MX_INFO_THREAD`, `MX_INFO_VMAR`, ...) look the
/// handle up as Magenta's kernel did, with the rights the topic needs and
/// the kind it is about, so on the handles here they fail with
/// `BAD_HANDLE`, `ACCESS_DENIED` or `WRONG_TYPE`.
///
/// # Errors
/// - `BAD_HANDLE`.
/// - `ACCESS_DENIED`: a topic of another kind, and the handle lacks the
///   right it needs (`READ` or `ENUMERATE`).
/// - `WRONG_TYPE`: a topic of another kind (processes, threads, jobs,
///   address regions, resources).
/// - `NOT_SUPPORTED`: a topic Magenta did not know (checked after the
///   handle, as SPEC 8 says; Magenta's kernel returned the same).
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
        _ => match other_kinds_topic(topic) {
            Some((rights, kind)) => {
                let found: Result<(), Status> = table().find::<Any, _>(handle, rights, |found| {
                    debug_assert_ne!(found.target.object_type(), kind, "a kind we have");
                    Err(Status::WRONG_TYPE)
                });
                // No object here is of `kind`: the lookup always fails.
                Err(found.err().unwrap_or(Status::WRONG_TYPE).into())
            }
            None => {
                table().with(handle, |_| ())?;
                Err(Status::NOT_SUPPORTED.into())
            }
        },
    }
}

//! Calls that are ours, not Magenta's: what the safe API and the async
//! adapters need beyond the system calls.
//!
//! - [`socket_wait_room`]: how every blocking socket writer sleeps.
//! - [`object_wait_waker`]: how an async runtime adapter (`mx-tokio`) waits.
//!   It registers the task's waker directly on the object, as one more
//!   observer: no thread, no file descriptor and no timer per wait. The
//!   registration is removed when it fires (the task is woken and polls
//!   again) or when its [`WakerWait`] is dropped, so a future re-registers
//!   on every `Pending` and leaves nothing behind when dropped.
//! - [`channel_call_start`] and [`PendingCall`]: `mx_channel_call` for an
//!   async task, in two steps that never block.
//! - [`socket_is_datagram`], [`handle_count`], [`live_objects`]: queries.

use core::task::Waker;

pub use mx_core::observer::Wanted;
use mx_core::{RawHandle, Rights, Signals, Status, Time};

use super::CallError;
use crate::object::channel::{CallEnd, CallWaker};
use crate::object::watch::{self, Observable, ObserveRequest, Observed, Waiting};
use crate::object::{wait, ChannelPair, End, Kind, SocketPair, Waitable};
use crate::sync::counters;
use crate::table::table;

/// Blocks until `need` payload bytes can be written to the socket `handle`
/// at once, or a write through it would fail whatever the room (the peer
/// closed, or this end half-closed, perhaps through another handle), or
/// `deadline` passes.
///
/// This is how every blocking writer sleeps. It watches no signal:
/// `WRITABLE` stays asserted while a datagram does not fit (SPEC 4), and
/// `PEER_CLOSED` stays asserted after the peer half-closed while the peer
/// can still read; a writer woken by either would find no room and spin.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`.
/// - `TIMED_OUT`, `CANCELED` (the handle was closed meanwhile), `NO_MEMORY`.
pub fn socket_wait_room(handle: RawHandle, need: usize, deadline: Time) -> Result<(), Status> {
    wait::wait_room(handle, need, deadline)
}

/// Whether the socket `handle` is in datagram mode.
///
/// # Errors
/// - `BAD_HANDLE`, `WRONG_TYPE`.
pub fn socket_is_datagram(handle: RawHandle) -> Result<bool, Status> {
    table().find::<SocketPair, _>(handle, Rights::NONE, |found| Ok(found.target.is_datagram()))
}

/// Live handles in the process (for leak tests).
pub fn handle_count() -> usize {
    table().len()
}

/// A copy of the descriptor of the shared-memory segment of the socket
/// `handle` names, once an end of it has been in another process; for
/// tests that play a hostile peer (they map it and write into it).
///
/// # Errors
/// `BAD_HANDLE`, `WRONG_TYPE`; `BAD_STATE` if the socket was never shared.
#[cfg(not(loom))]
pub fn socket_segment(handle: RawHandle) -> Result<std::os::fd::OwnedFd, Status> {
    table().find::<SocketPair, _>(handle, Rights::NONE, |found| {
        found.target.segment_fd().ok_or(Status::BAD_STATE)
    })
}

/// Objects alive in this process (a socket pair or an eventpair counts as
/// one), for leak tests. Objects whose last handle was closed are freed
/// after a grace period (a lookup may still have been using them); this
/// first frees every one whose handle was closed before the call.
pub fn live_objects() -> usize {
    table().flush();
    counters::live_objects()
}

/// A task's registration on an object; removed when dropped.
#[derive(Debug)]
pub struct WakerWait {
    end: End,
    id: u64,
}

impl Drop for WakerWait {
    fn drop(&mut self) {
        // Gone already if it fired.
        if let Some(observable) = self.end.object.observable() {
            let _ = watch::unobserve(observable, self.id);
        }
    }
}

/// What [`object_wait_waker`] did.
#[derive(Debug)]
pub enum WakerRegistration {
    /// The condition holds now (nothing was registered): the signals.
    Ready(Signals),
    /// The waker will be woken when it holds, or when the handle is closed.
    Waiting(WakerWait),
}

/// Registers `waker` to be woken once `wanted` holds on the object `handle`
/// names.
///
/// - [`Wanted::Signals`]: any of the signals is asserted, like
///   `mx_object_wait_one` (needs `READ`).
/// - [`Wanted::Room`]: the handle is a socket (needs `WRITE`) and that many
///   payload bytes can be written at once, or a write through it would fail
///   whatever the room (peer closed, this end half-closed). This is what
///   every async writer waits for; it never fires on signals, so a writer
///   whose peer half-closed sleeps until the peer reads.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED`, `NOT_SUPPORTED` (not waitable),
///   `WRONG_TYPE` (room waits on a non-socket).
/// - `NO_MEMORY`.
pub fn object_wait_waker(
    handle: RawHandle,
    wanted: Wanted,
    waker: &Waker,
) -> Result<WakerRegistration, Status> {
    let request = ObserveRequest {
        handle,
        wanted,
        always: false,
        repeating: false,
        kind: Waiting::Task(waker.clone()),
    };
    // Under the handle's lock, so that a concurrent close either comes
    // first or finds the registration and wakes it.
    match wanted {
        Wanted::Signals(_) => table().find_locked::<Waitable, _>(handle, Rights::READ, |found| {
            register(found.target, found.side, found.end(), request)
        }),
        Wanted::Room(_) => table().find_locked::<SocketPair, _>(handle, Rights::WRITE, |found| {
            register(found.target, found.side, found.end(), request)
        }),
    }
}

/// Registers a task observer on `target`; runs under the handle's lock.
fn register(
    target: &(impl Observable + ?Sized),
    side: mx_core::Side,
    end: End,
    request: ObserveRequest,
) -> Result<WakerRegistration, Status> {
    match watch::observe(target, side, request)? {
        Observed::Now(current) => Ok(WakerRegistration::Ready(current)),
        Observed::Registered { id, .. } => Ok(WakerRegistration::Waiting(WakerWait { end, id })),
    }
}

/// A `mx_channel_call` made by an async task: the message is sent, and the
/// task polls for the reply ([`channel_call_start`]). Dropping it gives the
/// call up; a reply that arrived, or arrives later, is queued at the end as
/// an ordinary message.
#[derive(Debug)]
pub struct PendingCall {
    handle: RawHandle,
    end: End,
    id: u64,
    done: bool,
}

/// Phase 1 of `mx_channel_call` for an async task: checks and writes the
/// message exactly as [`crate::sys::channel_call`] does, registering
/// `waker` to be woken when the reply arrives (or the call fails).
///
/// # Errors
/// The write's errors; the handles then stay with the caller.
pub fn channel_call_start<WB, WH>(
    handle: RawHandle,
    wr_bytes: &WB,
    wr_handles: &WH,
    waker: &Waker,
) -> Result<PendingCall, Status>
where
    WB: mx_shm::storage::Source + ?Sized,
    WH: mx_core::storage::HandleSource + ?Sized,
{
    let rights = Rights::READ | Rights::WRITE;
    let outgoing = super::channel::prepare(handle, rights, wr_bytes, wr_handles)?;
    let end = table().find::<ChannelPair, _>(handle, rights, |found| Ok(found.end()))?;
    let id = counters::observer_id();
    super::channel::send(handle, outgoing, Some((id, CallWaker::Task(waker.clone()))))?;
    Ok(PendingCall {
        handle,
        end,
        id,
        done: false,
    })
}

impl PendingCall {
    /// Phase 2: the reply, read into `rd_bytes` and `rd_handles` as
    /// [`crate::sys::channel_call`] does, or `Pending` (and `waker` will be
    /// woken).
    ///
    /// # Errors
    /// `CALL_FAILED` with the read status, as [`crate::sys::channel_call`].
    pub fn poll<RB, RH>(
        &mut self,
        waker: &Waker,
        rd_bytes: &mut RB,
        rd_handles: &mut RH,
    ) -> core::task::Poll<Result<(u32, u32), CallError>>
    where
        RB: mx_shm::storage::Sink + ?Sized,
        RH: mx_core::storage::HandleSink + ?Sized,
    {
        use core::task::Poll;
        if self.done {
            return Poll::Ready(Err(CallError {
                status: Status::BAD_STATE,
                read_status: None,
            }));
        }
        let Ok(pair) = ChannelPair::of(&self.end.object) else {
            return Poll::Ready(Err(Status::INTERNAL.into()));
        };
        let Some(end) = pair.poll_reply(self.end.side, self.id, Some(waker)) else {
            return Poll::Pending;
        };
        self.done = true;
        let failed = |read_status| CallError {
            status: Status::CALL_FAILED,
            read_status: Some(read_status),
        };
        Poll::Ready(match end {
            CallEnd::Reply(reply) => {
                super::channel::read_reply(self.handle, reply, rd_bytes, rd_handles)
            }
            CallEnd::PeerClosed => Err(failed(Status::PEER_CLOSED)),
            CallEnd::Canceled => Err(failed(Status::CANCELED)),
            CallEnd::TimedOut => Err(Status::TIMED_OUT.into()),
        })
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        if !self.done {
            if let Ok(pair) = ChannelPair::of(&self.end.object) {
                pair.cancel_call(self.end.side, self.id);
            }
        }
    }
}

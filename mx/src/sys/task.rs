//! Not Magenta calls: waiting from asynchronous tasks.
//!
//! An async runtime adapter (`mx-tokio`) registers the task's waker directly
//! on the object, as one more observer: no thread, no file descriptor and no
//! timer per wait. The registration is removed when it fires (the task is
//! woken and polls again) or when its [`WakerWait`] is dropped, so a future
//! re-registers on every `Pending` and leaves nothing behind when dropped.

use core::task::Waker;

pub use mx_core::observer::Wanted;
use mx_core::{RawHandle, Rights, Signals, Status};

use super::with_handle;
use crate::object::{Kernel, Object, ObserveRequest, Observed, Waiting};

/// A task's registration on an object; removed when dropped.
#[derive(Debug)]
pub struct WakerWait {
    object: Object,
    id: u64,
}

impl Drop for WakerWait {
    fn drop(&mut self) {
        // Gone already if it fired.
        let _ = self.object.unobserve(self.id);
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
    let room = matches!(wanted, Wanted::Room(_));
    let rights = if room { Rights::WRITE } else { Rights::READ };
    with_handle(handle, rights, |entry| {
        if room && !matches!(*entry.kernel, Kernel::Socket(_)) {
            return Err(Status::WRONG_TYPE);
        }
        let request = ObserveRequest {
            handle,
            wanted,
            always: false,
            repeating: false,
            kind: Waiting::Task(waker.clone()),
        };
        match entry.kernel.observe(entry.side(), request)? {
            Observed::Now(current) => Ok(WakerRegistration::Ready(current)),
            Observed::Registered { id, .. } => Ok(WakerRegistration::Waiting(WakerWait {
                object: entry.object(),
                id,
            })),
        }
    })
}

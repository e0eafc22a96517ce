//! Handle system calls.

use mx_core::abi::HANDLE_INVALID;
use mx_core::{RawHandle, Rights, Status};

use crate::object::Any;
use crate::table::table;

/// `mx_handle_close`—Closes a handle.
///
/// Closing `MX_HANDLE_INVALID` does nothing. Waits in progress through this
/// handle end with `CANCELED`; asynchronous waits made through it are
/// removed. Closing an object's last handle closes the object (for a socket
/// or eventpair end, the peer sees `PEER_CLOSED`).
///
/// # Errors
/// - `BAD_HANDLE`: not a live handle.
#[doc(alias = "mx_handle_close")]
pub fn handle_close(handle: RawHandle) -> Result<(), Status> {
    if handle == HANDLE_INVALID {
        return Ok(());
    }
    table().remove(handle, |entry| {
        entry.object().close_handle(entry.side(), handle)
    })
}

/// `mx_handle_duplicate`—Makes another handle to the same object.
///
/// `rights` is `MX_RIGHT_SAME_RIGHTS` or a subset of the handle's rights.
///
/// # Errors
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `DUPLICATE`).
/// - `INVALID_ARGS`: `rights` is not a subset.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_handle_duplicate")]
pub fn handle_duplicate(handle: RawHandle, rights: Rights) -> Result<RawHandle, Status> {
    let (end, rights) = table().find::<Any, _>(handle, Rights::DUPLICATE, |found| {
        Ok((found.end(), found.rights.derive(rights)?))
    })?;
    table().add(|| {
        end.object.add_handle(end.side)?;
        Ok((end, rights))
    })
}

/// `mx_handle_replace`—Replaces a handle by one with the same or fewer rights.
///
/// Needs no right. On success the old value is closed (its waits end with
/// `CANCELED`) and the object's handle count, hence `LAST_HANDLE`, does not
/// change. On failure the old handle stays valid.
///
/// # Errors
/// - `BAD_HANDLE`.
/// - `INVALID_ARGS`: `rights` is not a subset.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_handle_replace")]
pub fn handle_replace(handle: RawHandle, rights: Rights) -> Result<RawHandle, Status> {
    let (new, ()) = table().replace(
        handle,
        |entry| Ok((entry.end(), entry.rights().derive(rights)?)),
        |old| old.object().cancel_handle(handle),
    )?;
    Ok(new)
}

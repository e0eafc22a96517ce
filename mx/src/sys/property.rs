//! Properties, cookies and children: `mx_object_get_property`,
//! `mx_object_set_property`, `mx_object_set_cookie`,
//! `mx_object_get_cookie`, `mx_object_get_child`.
//!
//! Each call checks what Magenta's kernel checked, in its order. Two rights
//! gate most of this, `GET_PROPERTY`/`SET_PROPERTY` and `ENUMERATE`, and no
//! handle of the kinds here is ever created with them (their default rights
//! lack them, and duplicates only lose rights). So on a live handle the
//! property calls and `get_child` end with `ACCESS_DENIED`, as they did on
//! Magenta for these kinds; the checks after the rights follow the kernel
//! all the same, in `get_rule` and `set_rule`, so that a kind that
//! holds the rights one day behaves at once.
//!
//! Cookies are real: events and eventpair ends carry one (their kinds had a
//! cookie jar in Magenta); other kinds answer `NOT_SUPPORTED`.

use mx_core::abi::{
    HANDLE_INVALID, MAX_NAME_LEN, PROP_NAME, PROP_NUM_STATE_KINDS, PROP_PROCESS_DEBUG_ADDR,
    PROP_PROCESS_VDSO_BASE_ADDRESS, PROP_REGISTER_FS,
};
use mx_core::{Koid, RawHandle, Rights, Status};
use mx_shm::storage::{Sink, Source};

use crate::object::Any;
use crate::table::table;

/// What `mx_object_get_property` reads, once the handle and its right are
/// checked.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Got {
    /// The object's name: `MX_MAX_NAME_LEN` bytes (all zero: no kind here
    /// has a name, and Magenta's objects without one read as zeros).
    Name,
}

/// The checks of `mx_object_get_property` after the rights, for `property`
/// with a buffer of `size` bytes on an object that is neither a thread nor a
/// process (all kinds here), in the kernel's order.
///
/// # Errors
/// - `BUFFER_TOO_SMALL`: `size` is wrong for the property (for
///   `MX_PROP_NUM_STATE_KINDS`, anything but 4).
/// - `WRONG_TYPE`: a thread's or a process's property.
/// - `INVALID_ARGS`: a property that cannot be read.
pub(crate) fn get_rule(property: u32, size: usize) -> Result<Got, Status> {
    match property {
        PROP_NUM_STATE_KINDS if size != size_of::<u32>() => Err(Status::BUFFER_TOO_SMALL),
        PROP_NUM_STATE_KINDS => Err(Status::WRONG_TYPE),
        PROP_NAME if size < MAX_NAME_LEN => Err(Status::BUFFER_TOO_SMALL),
        PROP_NAME => Ok(Got::Name),
        PROP_PROCESS_DEBUG_ADDR | PROP_PROCESS_VDSO_BASE_ADDRESS if size < size_of::<usize>() => {
            Err(Status::BUFFER_TOO_SMALL)
        }
        PROP_PROCESS_DEBUG_ADDR | PROP_PROCESS_VDSO_BASE_ADDRESS => Err(Status::WRONG_TYPE),
        _ => Err(Status::INVALID_ARGS),
    }
}

/// The checks of `mx_object_set_property` after the rights, for `property`
/// with a value of `size` bytes, on an object that is neither a thread nor a
/// process and has no name (all kinds here), in the kernel's order. A name
/// longer than `MX_MAX_NAME_LEN - 1` bytes would be cut to that; `read`
/// copies in the bytes the kernel copied.
///
/// # Errors
/// - `INVALID_ARGS`: `read` failed (a fault), or a property that cannot be
///   written.
/// - `NOT_SUPPORTED`: setting the name of a kind that has none.
/// - `BUFFER_TOO_SMALL`: `size` is too small for the property.
/// - `WRONG_TYPE`: a thread's or a process's property.
pub(crate) fn set_rule(
    property: u32,
    size: usize,
    read: impl FnOnce(usize) -> Result<(), Status>,
) -> Result<(), Status> {
    let register_fs = cfg!(target_arch = "x86_64") && property == PROP_REGISTER_FS;
    match property {
        PROP_NAME => {
            read(size.min(MAX_NAME_LEN - 1))?;
            Err(Status::NOT_SUPPORTED)
        }
        _ if register_fs || property == PROP_PROCESS_DEBUG_ADDR => {
            if size < size_of::<usize>() {
                Err(Status::BUFFER_TOO_SMALL)
            } else {
                Err(Status::WRONG_TYPE)
            }
        }
        _ => Err(Status::INVALID_ARGS),
    }
}

/// `mx_object_get_property`—Reads a property of an object (`MX_PROP_*`)
/// into `value`, whose length is the C call's `size`.
///
/// Needs `MX_RIGHT_GET_PROPERTY`, which no handle of these kinds holds, so
/// on a live handle the result is `ACCESS_DENIED`. The checks that follow
/// are Magenta's (see `get_rule`); the name of an object without one
/// reads as `MX_MAX_NAME_LEN` zero bytes.
///
/// # Errors
/// In Magenta's order: `BAD_HANDLE`, `ACCESS_DENIED` (no `GET_PROPERTY`),
/// then `BUFFER_TOO_SMALL`, `WRONG_TYPE` or `INVALID_ARGS` as
/// `get_rule` says, and `INVALID_ARGS` if `value` cannot be written. (A
/// NULL `value` is the C ABI's `INVALID_ARGS`, checked first.)
#[doc(alias = "mx_object_get_property")]
pub fn object_get_property<D: Sink + ?Sized>(
    handle: RawHandle,
    property: u32,
    value: &mut D,
) -> Result<(), Status> {
    table().find::<Any, _>(handle, Rights::GET_PROPERTY, |_| Ok(()))?;
    match get_rule(property, value.len())? {
        Got::Name => value.write_at(0, &[0; MAX_NAME_LEN]),
    }
}

/// `mx_object_set_property`—Writes a property of an object from `value`,
/// whose length is the C call's `size`.
///
/// Needs `MX_RIGHT_SET_PROPERTY`, which no handle of these kinds holds, so
/// on a live handle the result is `ACCESS_DENIED`. The checks that follow
/// are Magenta's (see `set_rule`).
///
/// # Errors
/// In Magenta's order: `BAD_HANDLE`, `ACCESS_DENIED` (no `SET_PROPERTY`),
/// then as `set_rule`: `INVALID_ARGS` (a fault reading `value`, or a
/// property that cannot be written), `NOT_SUPPORTED` (a name, which these
/// kinds do not have), `BUFFER_TOO_SMALL`, `WRONG_TYPE`. (A NULL `value` is
/// the C ABI's `INVALID_ARGS`, checked first.)
#[doc(alias = "mx_object_set_property")]
pub fn object_set_property<S: Source + ?Sized>(
    handle: RawHandle,
    property: u32,
    value: &S,
) -> Result<(), Status> {
    table().find::<Any, _>(handle, Rights::SET_PROPERTY, |_| Ok(()))?;
    set_rule(property, value.len(), |n| {
        let mut name = [0u8; MAX_NAME_LEN];
        value.copy_to_slice(0, &mut name[..n])
    })
}

/// The koid that the live handle `scope` names, for cookies.
fn scope_koid(scope: RawHandle) -> Result<Koid, Status> {
    table().find::<Any, _>(scope, Rights::NONE, |found| {
        Ok(found.target.koid(found.side))
    })
}

/// `mx_object_set_cookie`—Attaches `cookie` to the object of `handle`, for
/// the scope named by the handle `scope`.
///
/// The scope is the koid of `scope`'s object: any live handle will do (no
/// right is needed, on either handle). The first scope to set a cookie owns
/// it: it may replace the cookie, any other scope gets `ACCESS_DENIED`.
/// Events and each end of an eventpair have a cookie; other kinds do not.
///
/// # Errors
/// In Magenta's order:
/// - `BAD_HANDLE`: `scope`, then `handle`, is not a live handle.
/// - `NOT_SUPPORTED`: the object has no cookie (sockets, ports).
/// - `NO_MEMORY`: the object's first cookie could not be stored.
/// - `ACCESS_DENIED`: another scope owns the cookie.
#[doc(alias = "mx_object_set_cookie")]
pub fn object_set_cookie(handle: RawHandle, scope: RawHandle, cookie: u64) -> Result<(), Status> {
    let scope = scope_koid(scope)?;
    table().find::<Any, _>(handle, Rights::NONE, |found| {
        found
            .target
            .with_cookie(found.side, |jar| jar.set(scope, cookie))
    })
}

/// `mx_object_get_cookie`—Reads the cookie of the object of `handle` set
/// for the scope named by `scope` (see [`object_set_cookie`]).
///
/// # Errors
/// In Magenta's order:
/// - `BAD_HANDLE`: `scope`, then `handle`, is not a live handle.
/// - `NOT_SUPPORTED`: the object has no cookie (sockets, ports).
/// - `ACCESS_DENIED`: no cookie was set, or another scope set it.
#[doc(alias = "mx_object_get_cookie")]
pub fn object_get_cookie(handle: RawHandle, scope: RawHandle) -> Result<u64, Status> {
    let scope = scope_koid(scope)?;
    table().find::<Any, _>(handle, Rights::NONE, |found| {
        found.target.with_cookie(found.side, |jar| jar.get(scope))
    })
}

/// The rights Magenta's kernel gave a process handle that
/// `mx_object_get_child(MX_HANDLE_INVALID, ...)` returned.
const DEBUG_RIGHTS: Rights = Rights::READ
    .union(Rights::WRITE)
    .union(Rights::DUPLICATE)
    .union(Rights::TRANSFER)
    .union(Rights::GET_PROPERTY)
    .union(Rights::SET_PROPERTY)
    .union(Rights::ENUMERATE);

/// `mx_object_get_child`—A handle, with `rights`, to the child with koid
/// `koid` of the object of `handle`: a thread of a process, or a job or
/// process of a job. With `MX_HANDLE_INVALID`, any process by koid.
///
/// There are no processes, threads or jobs here, so no child is ever found;
/// the errors are the kernel's for the handles given.
///
/// # Errors
/// In Magenta's order. With `MX_HANDLE_INVALID`: `ACCESS_DENIED` (`rights`
/// beyond those a debugger got), else `NOT_FOUND`. Otherwise:
/// `BAD_HANDLE`, `ACCESS_DENIED` (no `ENUMERATE`, which no handle here
/// holds, or `rights` beyond the handle's), `WRONG_TYPE` (not a process or
/// job).
#[doc(alias = "mx_object_get_child")]
pub fn object_get_child(handle: RawHandle, koid: u64, rights: Rights) -> Result<RawHandle, Status> {
    let _ = koid;
    let asked_beyond = |held: Rights| rights != Rights::SAME_RIGHTS && !held.contains(rights);
    if handle == HANDLE_INVALID {
        return Err(if asked_beyond(DEBUG_RIGHTS) {
            Status::ACCESS_DENIED
        } else {
            Status::NOT_FOUND
        });
    }
    table().find::<Any, _>(handle, Rights::ENUMERATE, |found| {
        if asked_beyond(found.rights) {
            Err(Status::ACCESS_DENIED)
        } else {
            // Only processes and jobs have children.
            Err(Status::WRONG_TYPE)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mx_core::abi::PROP_JOB_IMPORTANCE;

    #[test]
    fn get_rule_follows_the_kernel() {
        assert_eq!(get_rule(PROP_NAME, 32), Ok(Got::Name));
        assert_eq!(get_rule(PROP_NAME, 31), Err(Status::BUFFER_TOO_SMALL));
        assert_eq!(get_rule(PROP_NUM_STATE_KINDS, 4), Err(Status::WRONG_TYPE));
        assert_eq!(
            get_rule(PROP_NUM_STATE_KINDS, 8),
            Err(Status::BUFFER_TOO_SMALL)
        );
        for property in [PROP_PROCESS_DEBUG_ADDR, PROP_PROCESS_VDSO_BASE_ADDRESS] {
            assert_eq!(get_rule(property, 7), Err(Status::BUFFER_TOO_SMALL));
            assert_eq!(get_rule(property, 8), Err(Status::WRONG_TYPE));
        }
        for property in [0, 1, PROP_REGISTER_FS, PROP_JOB_IMPORTANCE, 99] {
            assert_eq!(get_rule(property, 64), Err(Status::INVALID_ARGS));
        }
    }

    #[test]
    fn set_rule_follows_the_kernel() {
        let mut copied = None;
        let result = set_rule(PROP_NAME, 100, |n| {
            copied = Some(n);
            Ok(())
        });
        assert_eq!(result, Err(Status::NOT_SUPPORTED));
        assert_eq!(copied, Some(MAX_NAME_LEN - 1));
        let fault = set_rule(PROP_NAME, 3, |_| Err(Status::INVALID_ARGS));
        assert_eq!(fault, Err(Status::INVALID_ARGS));
        let never = |_| panic!("nothing is copied");
        assert_eq!(
            set_rule(PROP_PROCESS_DEBUG_ADDR, 4, never),
            Err(Status::BUFFER_TOO_SMALL)
        );
        assert_eq!(
            set_rule(PROP_PROCESS_DEBUG_ADDR, 8, never),
            Err(Status::WRONG_TYPE)
        );
        let fs = set_rule(PROP_REGISTER_FS, 8, never);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(fs, Err(Status::WRONG_TYPE));
            assert_eq!(
                set_rule(PROP_REGISTER_FS, 2, never),
                Err(Status::BUFFER_TOO_SMALL)
            );
        } else {
            assert_eq!(fs, Err(Status::INVALID_ARGS));
        }
        for property in [
            0,
            PROP_NUM_STATE_KINDS,
            PROP_PROCESS_VDSO_BASE_ADDRESS,
            7,
            99,
        ] {
            assert_eq!(set_rule(property, 64, never), Err(Status::INVALID_ARGS));
        }
    }
}

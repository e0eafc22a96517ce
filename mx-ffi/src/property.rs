//! Properties, cookies and children: `mx_object_get_property`,
//! `mx_object_set_property`, `mx_object_set_cookie`,
//! `mx_object_get_cookie`, `mx_object_get_child`.

use core::ffi::c_void;

use mx_core::{Rights, Status};

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_rights_t, mx_status_t};
use crate::handle::deliver;
use crate::ptr::{probe_all, UserBytes, UserBytesMut, UserOut};

/// `mx_object_get_property`—Reads a property (see
/// [`mx::sys::object_get_property`]): `MX_ERR_ACCESS_DENIED` on every live
/// handle here, which lacks `MX_RIGHT_GET_PROPERTY`.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `value` (checked first, as in Magenta), then
/// as [`mx::sys::object_get_property`].
///
/// # Safety
///
/// 1. `value` is NULL or points to `size` writable bytes, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_get_property(
    handle: mx_handle_t,
    property: u32,
    value: *mut c_void,
    size: usize,
) -> mx_status_t {
    boundary::status("mx_object_get_property", || {
        if value.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 1 is `assume_writable`'s promises 1 and 2.
        let mut out = unsafe { UserBytesMut::assume_writable(value, size) };
        mx::sys::object_get_property(handle, property, &mut out)
    })
}

/// `mx_object_set_property`—Writes a property (see
/// [`mx::sys::object_set_property`]): `MX_ERR_ACCESS_DENIED` on every live
/// handle here, which lacks `MX_RIGHT_SET_PROPERTY`.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `value` (checked first, as in Magenta), then
/// as [`mx::sys::object_set_property`].
///
/// # Safety
///
/// 1. `value` is NULL or points to `size` readable bytes, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_set_property(
    handle: mx_handle_t,
    property: u32,
    value: *const c_void,
    size: usize,
) -> mx_status_t {
    boundary::status("mx_object_set_property", || {
        if value.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 1 is `assume_readable`'s promises 1 and 2.
        let src = unsafe { UserBytes::assume_readable(value, size) };
        mx::sys::object_set_property(handle, property, &src)
    })
}

/// `mx_object_set_cookie`—Attaches a cookie to an event or eventpair end
/// for a scope (see [`mx::sys::object_set_cookie`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_object_set_cookie(
    handle: mx_handle_t,
    scope: mx_handle_t,
    cookie: u64,
) -> mx_status_t {
    boundary::status("mx_object_set_cookie", || {
        mx::sys::object_set_cookie(handle, scope, cookie)
    })
}

/// `mx_object_get_cookie`—Reads the cookie set for a scope (see
/// [`mx::sys::object_get_cookie`]); `*cookie` is written only on success.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `cookie` (checked first, like every required
/// out-parameter here; Magenta looked the handles up first), then as
/// [`mx::sys::object_get_cookie`].
///
/// # Safety
///
/// 1. `cookie` is NULL or valid for writing a `uint64_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_get_cookie(
    handle: mx_handle_t,
    scope: mx_handle_t,
    cookie: *mut u64,
) -> mx_status_t {
    boundary::status("mx_object_get_cookie", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(cookie) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        out.write(mx::sys::object_get_cookie(handle, scope)?)
    })
}

/// `mx_object_get_child`—A handle to a child object by koid (see
/// [`mx::sys::object_get_child`]): there are none here.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `out` (checked first), then as
/// [`mx::sys::object_get_child`].
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_object_get_child(
    handle: mx_handle_t,
    koid: u64,
    rights: mx_rights_t,
    out: *mut mx_handle_t,
) -> mx_status_t {
    boundary::status("mx_object_get_child", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        let child = mx::sys::object_get_child(handle, koid, Rights::from_bits_retain(rights))?;
        deliver(&[(&out, child)])
    })
}

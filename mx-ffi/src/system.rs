//! System-wide calls: `mx_ticks_get`, `mx_ticks_per_second`,
//! `mx_system_get_num_cpus`, `mx_system_get_version`,
//! `mx_system_get_physmem`, `mx_cprng_draw`, `mx_cprng_add_entropy`; the
//! calls that end the thread or the process; and `<magenta/process.h>`
//! (startup handles, which `mx_linux_spawn` of [`crate::linux`] passes).

use core::ffi::{c_char, c_int, c_void};

use mx_core::abi::{CPRNG_ADD_ENTROPY_MAX_LEN, HANDLE_INVALID};
use mx_core::Status;

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_status_t};
use crate::ptr::{probe_all, UserBytes, UserBytesMut, UserOut};

/// `mx_ticks_get`—Nanoseconds of the monotonic clock (see
/// [`mx::sys::ticks_get`]). Returns 0 after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn mx_ticks_get() -> u64 {
    boundary::value("mx_ticks_get", 0, mx::sys::ticks_get)
}

/// `mx_ticks_per_second`—1,000,000,000 (see [`mx::sys::ticks_per_second`]).
#[unsafe(no_mangle)]
pub extern "C" fn mx_ticks_per_second() -> u64 {
    boundary::value(
        "mx_ticks_per_second",
        mx::sys::TICKS_PER_SECOND,
        mx::sys::ticks_per_second,
    )
}

/// `mx_system_get_num_cpus`—The CPUs this process may run on (see
/// [`mx::sys::system_get_num_cpus`]). Returns 1 after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn mx_system_get_num_cpus() -> u32 {
    boundary::value("mx_system_get_num_cpus", 1, mx::sys::system_get_num_cpus)
}

/// `mx_system_get_physmem`—Bytes of physical memory (see
/// [`mx::sys::system_get_physmem`]). Returns 0 after an internal error.
#[unsafe(no_mangle)]
pub extern "C" fn mx_system_get_physmem() -> u64 {
    boundary::value("mx_system_get_physmem", 0, mx::sys::system_get_physmem)
}

/// `mx_system_get_version`—Writes the version string and its NUL (see
/// [`mx::sys::system_get_version`]).
///
/// # Errors
/// As [`mx::sys::system_get_version`]; a NULL `version` with a non-zero
/// `version_len` that is large enough is `INVALID_ARGS`.
///
/// # Safety
///
/// 1. `version` is NULL or points to `version_len` writable bytes, unless
///    strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_system_get_version(
    version: *mut c_char,
    version_len: u32,
) -> mx_status_t {
    boundary::status("mx_system_get_version", || {
        // SAFETY: promise 1 is `assume_writable`'s promises 1 and 2.
        let mut out =
            unsafe { UserBytesMut::assume_writable(version.cast(), version_len as usize) };
        mx::sys::system_get_version(&mut out)
    })
}

/// `mx_cprng_draw`—Fills `buffer` with `len` random bytes (see
/// [`mx::sys::cprng_draw`]); `*actual` = `len` on success.
///
/// # Errors
/// `INVALID_ARGS` for a NULL `actual` (checked first, like every required
/// out-parameter here; Magenta wrote the buffer first), then as
/// [`mx::sys::cprng_draw`] (a NULL `buffer` with a non-zero `len` is
/// `INVALID_ARGS`).
///
/// # Safety
///
/// 1. `buffer` is NULL or points to `len` writable bytes, unless strict
///    pointer mode is on.
/// 2. `actual` is NULL or valid for writing a `size_t`, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_cprng_draw(
    buffer: *mut c_void,
    len: usize,
    actual: *mut usize,
) -> mx_status_t {
    boundary::status("mx_cprng_draw", || {
        // SAFETY: promise 2.
        let actual = unsafe { UserOut::assume_writable(actual) };
        probe_all(&[&actual])?;
        let actual = actual.ok_or(Status::INVALID_ARGS)?;
        // SAFETY: promise 1 is `assume_writable`'s promises 1 and 2.
        let mut out = unsafe { UserBytesMut::assume_writable(buffer, len) };
        let drawn = mx::sys::cprng_draw(&mut out)?;
        actual.write(drawn)
    })
}

/// `mx_cprng_add_entropy`—Mixes `len` bytes into the system's random pool
/// (see [`mx::sys::cprng_add_entropy`]).
///
/// # Errors
/// `INVALID_ARGS` for more than `MX_CPRNG_ADD_ENTROPY_MAX_LEN` bytes (before
/// the buffer is read, as in Magenta), or a buffer that cannot be read
/// (NULL with a non-zero `len`).
///
/// # Safety
///
/// 1. `buffer` is NULL or points to `len` readable bytes, unless strict
///    pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_cprng_add_entropy(buffer: *const c_void, len: usize) -> mx_status_t {
    boundary::status("mx_cprng_add_entropy", || {
        if len > CPRNG_ADD_ENTROPY_MAX_LEN {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 1 is `assume_readable`'s promises 1 and 2.
        let bytes = unsafe { UserBytes::assume_readable(buffer, len) }.to_vec()?;
        mx::sys::cprng_add_entropy(&bytes)
    })
}

/// `mx_process_exit`—Ends the process with `retcode`, as `exit(3)` does
/// (so `atexit` handlers run and standard streams are flushed).
#[unsafe(no_mangle)]
pub extern "C" fn mx_process_exit(retcode: c_int) -> ! {
    std::process::exit(retcode)
}

unsafe extern "C-unwind" {
    /// POSIX `pthread_exit`, which ends the calling thread by a forced
    /// unwind (hence `C-unwind`).
    fn pthread_exit(value: *mut c_void) -> !;
}

/// Ends the calling thread.
///
/// # Safety
///
/// 1. No frame of Rust code with destructors is between the caller and the
///    C program (the entry points calling this hold nothing).
unsafe fn end_thread() -> ! {
    // SAFETY: `pthread_exit` may be called by any thread; the forced unwind
    // it starts crosses only this function and the entry point that called
    // it, which own nothing that needs dropping (promise 1), and then the
    // C program's frames.
    unsafe { pthread_exit(core::ptr::null_mut()) }
}

/// `mx_thread_exit`—Ends the calling thread, as `pthread_exit(NULL)` does.
#[unsafe(no_mangle)]
pub extern "C-unwind" fn mx_thread_exit() -> ! {
    // SAFETY: this function holds nothing.
    unsafe { end_thread() }
}

/// `mx_futex_wake_handle_close_thread_exit`—Stores `new_value` in
/// `*value_ptr`, closes `handle` and ends the calling thread, as a thread
/// library does when a thread finishes.
///
/// Nobody can be waiting on the futex: `mx_futex_wait` is not supported
/// here, so `count` wakes no one. A `handle` that is not live is ignored
/// (Magenta crashed the thread; it ends here all the same).
///
/// # Safety
///
/// 1. `value_ptr` is NULL or valid for writing an `int`, which no other
///    thread accesses without atomics, unless strict pointer mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn mx_futex_wake_handle_close_thread_exit(
    value_ptr: *const i32,
    count: u32,
    new_value: c_int,
    handle: mx_handle_t,
) -> ! {
    let _ = count;
    let _ = boundary::status("mx_futex_wake_handle_close_thread_exit", || {
        // SAFETY: promise 1 (Magenta's prototype says `const`, and the call
        // writes it: the word is the caller's to give).
        if let Some(word) = unsafe { UserOut::assume_writable(value_ptr.cast_mut()) } {
            word.write(new_value)?;
        }
        mx::sys::handle_close(handle)
    });
    // SAFETY: the boundary call above has returned and dropped everything.
    unsafe { end_thread() }
}

/// `mx_get_startup_handle`—Takes the handle this process was started with
/// under `hnd_info` by `mx_linux_spawn` (see
/// [`mx::sys::linux::get_startup_handle`]).
///
/// Each handle is returned once; asking again, for an info that was not
/// passed, or in a process not started by `mx_linux_spawn` gives
/// `MX_HANDLE_INVALID` (so does an internal error). The first call may
/// wait for the parent to send the handles, for as long as it lives.
#[unsafe(no_mangle)]
pub extern "C" fn mx_get_startup_handle(hnd_info: u32) -> mx_handle_t {
    boundary::value("mx_get_startup_handle", HANDLE_INVALID, || {
        mx::sys::linux::get_startup_handle(hnd_info).unwrap_or(HANDLE_INVALID)
    })
}

/// `mx_process_self`—`MX_HANDLE_INVALID`: the process is an OS process,
/// with no process object.
#[unsafe(no_mangle)]
pub extern "C" fn mx_process_self() -> mx_handle_t {
    HANDLE_INVALID
}

/// `mx_vmar_root_self`—`MX_HANDLE_INVALID`: there are no address-region
/// objects.
#[unsafe(no_mangle)]
pub extern "C" fn mx_vmar_root_self() -> mx_handle_t {
    HANDLE_INVALID
}

/// `mx_job_default`—`MX_HANDLE_INVALID`: there are no jobs.
#[unsafe(no_mangle)]
pub extern "C" fn mx_job_default() -> mx_handle_t {
    HANDLE_INVALID
}

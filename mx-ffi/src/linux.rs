//! Our Linux extensions, `<magenta/linux.h>`: `mx_linux_channel_from_fd`
//! and `mx_linux_spawn` (see [`mx::sys::linux`]). `mx_get_startup_handle`,
//! the child's side, is Magenta's and lives in [`crate::system`].
//!
//! Besides pointers, these calls take what only C has: a raw file
//! descriptor, and C strings for the program, its arguments and its
//! environment. A descriptor becomes an `OwnedFd` only once it is known to
//! be open, and goes back to the caller, unclosed, on any error `mx::sys`
//! reports. Strings are copied in through `UserCStr` and `UserCStrArray`
//! of [`crate::ptr`], which bound them (1 MiB a string, 64 Ki strings and
//! 16 MiB an array) and turn faults into `INVALID_ARGS` in strict pointer
//! mode.
//!
//! This module does not wait for, reap or kill a child that started: the
//! process is the caller's, as after `fork` and `execve`.

use std::ffi::{OsStr, OsString};
use std::os::fd::{FromRawFd as _, IntoRawFd as _, OwnedFd};
use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
use std::os::unix::process::CommandExt as _;
use std::process::Command;

use core::ffi::{c_char, c_int};

use mx_core::channel::MAX_MSG_HANDLES;
use mx_core::storage::HandleSource as _;
use mx_core::Status;

use crate::boundary;
use crate::ctypes::{mx_handle_t, mx_status_t, pid_t};
use crate::handle::deliver;
use crate::ptr::{
    probe_all, write_optional, UserBytes, UserCStr, UserCStrArray, UserHandles, UserOut,
};

/// `mx_linux_channel_from_fd`—Takes `fd`, one end of a connected `AF_UNIX`
/// `SOCK_SEQPACKET` socket, and returns a channel end whose peer is whoever
/// does the same with the other end (see [`mx::sys::linux::channel_from_fd`]).
///
/// On success the library owns `fd` and has closed it (the channel works on
/// its own copy). On any error `fd` stays the caller's, open (after
/// `NO_MEMORY` or `NO_RESOURCES` the socket may have been made
/// non-blocking; after `INTERNAL`, a bug, nothing is promised about it).
///
/// # Errors
/// `INVALID_ARGS` for a NULL (or, in strict mode, unwritable) `out`, checked
/// first; then `INVALID_ARGS` if `fd` is not an open descriptor, or not a
/// connected `AF_UNIX` `SOCK_SEQPACKET` socket; `NO_MEMORY`, `NO_RESOURCES`.
///
/// # Safety
///
/// 1. `out` is NULL or valid for writing an `mx_handle_t`, unless strict
///    pointer mode is on.
/// 2. If `fd` is open, it is the caller's to give: nothing else in the
///    process uses or closes it from the call on, if the call succeeds.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_linux_channel_from_fd(fd: c_int, out: *mut mx_handle_t) -> mx_status_t {
    boundary::status("mx_linux_channel_from_fd", || {
        // SAFETY: promise 1.
        let out = unsafe { UserOut::assume_writable(out) };
        probe_all(&[&out])?;
        let out = out.ok_or(Status::INVALID_ARGS)?;
        // Load-bearing: an `OwnedFd` must be open (it closes on drop, and
        // std may check that it is open).
        // SAFETY: `F_GETFD` only reads the descriptor table, for any value.
        if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: `fd` is open (checked just above) and promise 2 makes it
        // ours; on error it is given back below, not closed.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        match mx::sys::linux::channel_from_fd(owned) {
            Ok(handle) => deliver(&[(&out, handle)]),
            Err((status, owned)) => {
                // Back to the caller, open.
                let _ = owned.into_raw_fd();
                Err(status)
            }
        }
    })
}

/// `mx_linux_spawn`—Starts the program at `path` with `argv` and `envp`,
/// and moves `handles` into it, each under its `infos` entry, for
/// `mx_get_startup_handle` (see [`mx::sys::linux::spawn`]).
///
/// - `path` is a path, as for `execve`: no `PATH` search (a name without a
///   `/` is in the current directory).
/// - `argv` is as for `execve`: `argv[0]` is the name the program sees. A
///   NULL `argv`, or an empty one, is `{path}`.
/// - `envp` NULL: the caller's environment. Otherwise `"NAME=value"`
///   entries; entries without a `=`, or with an empty name, are skipped,
///   and of a name given twice the last value counts.
/// - `handles` and `infos` may be NULL when `count` is 0.
/// - `*pid` (`pid` may be NULL) receives the child's process id.
///
/// The library does not wait for the child: the caller reaps it
/// (`waitpid`). Like `std::process::Command`, which starts it, the child
/// begins with an empty signal mask and `SIGPIPE` at its default action;
/// it inherits the working directory, standard streams and every
/// descriptor without `FD_CLOEXEC`.
///
/// # Errors
/// In this order, with every handle untouched and no process left running:
/// - `INVALID_ARGS`: `pid` not writable (strict mode); `path` NULL;
///   `count` > 0 with `handles` or `infos` NULL; `count` > 64; a string
///   longer than 1 MiB, an array of more than 64 Ki strings or 16 MiB, or
///   (strict mode) memory that cannot be read.
/// - `NO_MEMORY` copying the strings in.
/// - [`mx::sys::linux::spawn`]'s errors: `INVALID_ARGS` (a handle listed
///   twice), `BAD_HANDLE`, `ACCESS_DENIED` (a handle without
///   `MX_RIGHT_TRANSFER`), `NOT_SUPPORTED` (an event, eventpair or port),
///   `NO_MEMORY`, `NO_RESOURCES`, then the start's: `NOT_FOUND` (no such
///   program), `ACCESS_DENIED` (not executable), `IO`.
///
/// One exception: if `*pid` cannot be written after the child started
/// (strict mode, and the caller unmapped it meanwhile), the child is killed
/// and reaped, the call fails with `INVALID_ARGS`, and the handles, which
/// were in the child, are closed.
///
/// # Safety
///
/// 1. `path` is NULL or a NUL-terminated string, and `argv` and `envp` are
///    each NULL or a NULL-terminated array of NUL-terminated strings, all
///    readable and unwritten during the call, unless strict pointer mode
///    is on.
/// 2. `handles` and `infos` are each NULL or point to `count` readable
///    values, unwritten during the call, unless strict pointer mode is on.
/// 3. `pid` is NULL or valid for writing a `pid_t`, unless strict pointer
///    mode is on.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mx_linux_spawn(
    path: *const c_char,
    argv: *const *mut c_char,
    envp: *const *mut c_char,
    handles: *const mx_handle_t,
    infos: *const u32,
    count: u32,
    pid: *mut pid_t,
) -> mx_status_t {
    boundary::status("mx_linux_spawn", || {
        // SAFETY: promise 3.
        let pid = unsafe { UserOut::assume_writable(pid) };
        probe_all(&[&pid])?;
        // SAFETY: promise 1 is `assume_readable`'s promises, for each.
        let (path, argv, envp) = unsafe {
            (
                UserCStr::assume_readable(path).ok_or(Status::INVALID_ARGS)?,
                UserCStrArray::assume_readable(argv.cast()),
                UserCStrArray::assume_readable(envp.cast()),
            )
        };
        let count = count as usize;
        if count > 0 && (handles.is_null() || infos.is_null()) {
            return Err(Status::INVALID_ARGS);
        }
        // Before reading the arrays: `mx::sys` refuses as many, too.
        if count > MAX_MSG_HANDLES {
            return Err(Status::INVALID_ARGS);
        }
        // SAFETY: promise 2 is `assume_readable`'s promises, for both
        // (`count` values of 4 bytes each for `infos`).
        let (handles, infos) = unsafe {
            (
                UserHandles::assume_readable(handles, count),
                UserBytes::assume_readable(infos.cast(), 4 * count),
            )
        };
        let mut values = Vec::new();
        handles.read_into(&mut values)?;
        let infos = infos.to_vec()?;
        let mut pairs = Vec::new();
        pairs.try_reserve_exact(count)?;
        for (info, &value) in infos.chunks_exact(4).zip(&values) {
            pairs.push((
                u32::from_ne_bytes([info[0], info[1], info[2], info[3]]),
                value,
            ));
        }
        let mut command = command(&path.to_vec()?, argv, envp)?;
        let mut child = mx::sys::linux::spawn(&mut command, &pairs)?;
        // Linux process ids are below 2^22: the cast is exact.
        if let Err(status) = write_optional(&pid, child.id() as pid_t) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(status);
        }
        // Dropping a `Child` neither waits for nor kills it.
        drop(child);
        Ok(())
    })
}

/// The command that starts `path` with `argv` and `envp`, as
/// [`mx_linux_spawn`] describes.
///
/// # Errors
/// As [`UserCStrArray::to_vec`].
fn command(
    path: &[u8],
    argv: Option<UserCStrArray>,
    envp: Option<UserCStrArray>,
) -> Result<Command, Status> {
    // `Command` searches `PATH` for a name without a `/`; `execve` does
    // not, and takes it in the current directory.
    let mut program = Vec::new();
    program.try_reserve_exact(path.len() + 2)?;
    if !path.is_empty() && !path.contains(&b'/') {
        program.extend_from_slice(b"./");
    }
    program.extend_from_slice(path);
    let mut command = Command::new(OsString::from_vec(program));
    let argv = argv
        .map(|argv| argv.to_vec())
        .transpose()?
        .unwrap_or_default();
    match argv.split_first() {
        Some((arg0, rest)) => {
            command.arg0(OsStr::from_bytes(arg0));
            command.args(rest.iter().map(|arg| OsStr::from_bytes(arg)));
        }
        None => {
            command.arg0(OsStr::from_bytes(path));
        }
    }
    if let Some(envp) = envp {
        command.env_clear();
        for entry in envp.to_vec()? {
            match entry.iter().position(|&b| b == b'=') {
                Some(at) if at > 0 => {
                    command.env(
                        OsStr::from_bytes(&entry[..at]),
                        OsStr::from_bytes(&entry[at + 1..]),
                    );
                }
                _ => {}
            }
        }
    }
    Ok(command)
}

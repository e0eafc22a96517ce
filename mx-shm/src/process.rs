//! The process plumbing that needs `unsafe`: a hook run in the child of
//! `fork()`, a descriptor kept open across `exec`, and a descriptor taken
//! over from the parent.

use std::cell::Cell;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::sync::OnceLock;

/// The hook to run in a child after `fork()`.
static CHILD_HOOK: OnceLock<fn()> = OnceLock::new();

/// Runs in the child of every `fork()`, before the caller's hook (it was
/// registered first, when the program was loaded): the crate's own
/// per-thread state forgets the parent's other threads, and the fences
/// are registered for the child's address space.
extern "C" fn reset_crate_in_child() {
    crate::thread::reset_after_fork();
    crate::fence::reset_after_fork();
}

/// Runs when the program is loaded, before `main` and before any thread
/// can claim a per-thread record: registers [`reset_crate_in_child`].
extern "C" fn register_crate_hook() {
    // SAFETY: `reset_crate_in_child` is an `extern "C"` function that lives
    // for the whole program and never unwinds (it only stores to atomics
    // and tries one allocation, which may fail); no prepare or parent hook.
    let _ = unsafe { libc::pthread_atfork(None, None, Some(reset_crate_in_child)) };
}

#[used]
#[link_section = ".init_array"]
static REGISTER_CRATE_HOOK: extern "C" fn() = register_crate_hook;

/// Called where a thread claims its record: refers to the constructor
/// above, so that the linker keeps it (and its `.init_array` entry)
/// whenever records are used.
#[inline]
pub(crate) fn crate_hook_kept() {
    core::hint::black_box(&REGISTER_CRATE_HOOK);
}

extern "C" fn run_child_hook() {
    if let Some(hook) = CHILD_HOOK.get() {
        hook();
    }
}

/// Runs `hook` in the child of every later `fork()` (once registered, for
/// the rest of the process; only the first hook is kept). The hook runs in
/// the child's only thread before `fork()` returns there, after this
/// crate's own reset (its gates, read sections and fences are usable in
/// the hook); it may allocate
/// (glibc makes `malloc` usable there) but must not take locks that other
/// threads of the parent could have held.
pub fn at_fork_child(hook: fn()) {
    if CHILD_HOOK.set(hook).is_ok() {
        // SAFETY: `run_child_hook` is an `extern "C"` function that lives
        // for the whole program and unwinds never (the hook is a plain Rust
        // fn that the caller keeps panic-free); no prepare or parent hook.
        let _ = unsafe { libc::pthread_atfork(None, None, Some(run_child_hook)) };
    }
}

thread_local! {
    /// The descriptor that the [`spawn_keeping`] running on this thread
    /// keeps open in its child; -1 outside one. Read by the hook in the
    /// child of `fork()`, whose only thread is a copy of this one.
    static KEEP: Cell<RawFd> = const { Cell::new(-1) };
}

/// Spawns `command`, keeping `keep` open in the child under the same
/// number (it is close-on-exec in this process, so no other child gets it).
///
/// The command gets a `pre_exec` hook (`std` has no way to take one off)
/// that keeps whatever descriptor the `spawn_keeping` in progress on the
/// calling thread names, and does nothing otherwise: spawned again, the
/// same command keeps only the new call's descriptor, and a plain
/// `Command::spawn` of it keeps none. (Each call adds one such hook.)
///
/// # Errors
/// As [`Command::spawn`].
pub fn spawn_keeping(command: &mut Command, keep: BorrowedFd<'_>) -> std::io::Result<Child> {
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: it reads a thread-local
    // (const-initialised and without a destructor: a plain load from the
    // forking thread's copy) and calls `fcntl`, which is one.
    unsafe {
        command.pre_exec(|| {
            let fd = KEEP.with(Cell::get);
            if fd < 0 {
                return Ok(());
            }
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    KEEP.with(|kept| kept.set(std::os::fd::AsRawFd::as_raw_fd(&keep)));
    let child = command.spawn();
    KEEP.with(|kept| kept.set(-1));
    child
}

/// Takes over descriptor `fd`, which the parent left open for this process
/// (its number came in the environment), if it is open and `is_ours` says
/// it is the one meant (a process can inherit the number without the
/// descriptor: then `fd` is nobody's, or its own code's, and must be left
/// alone). Each number is taken at most once per process: the caller
/// guarantees it (a `OnceLock`). Marks it close-on-exec so that this
/// process's children do not get it.
pub fn take_inherited(fd: RawFd, is_ours: impl FnOnce(BorrowedFd<'_>) -> bool) -> Option<OwnedFd> {
    if fd < 3 {
        return None;
    }
    // SAFETY: `F_GETFD` only queries the descriptor table.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags < 0 {
        return None;
    }
    // SAFETY: `fd` is open (checked just now) and is only looked at, for
    // the length of the call. If it is another owner's, which closes it
    // meanwhile, the look fails or sees whatever took the number: `is_ours`
    // accepts only the one descriptor the parent made for this process.
    if !is_ours(unsafe { BorrowedFd::borrow_raw(fd) }) {
        return None;
    }
    // SAFETY: as above; sets close-on-exec on an open descriptor.
    unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) };
    // SAFETY: the descriptor is open (checked) and nothing else in this
    // process owns it: the parent passed it for the library alone, and the
    // caller takes it only once.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs when the program is loaded, before `main`: the startup descriptor
/// a parent passed (`MX_STARTUP_FD`) becomes close-on-exec at once, so a
/// program this one starts before it takes its startup handles does not
/// inherit them.
extern "C" fn close_startup_fd_on_exec() {
    // SAFETY: `getenv` with a NUL-terminated name, before any thread can
    // change the environment (constructors run before `main`).
    let value = unsafe { libc::getenv(c"MX_STARTUP_FD".as_ptr()) };
    if value.is_null() {
        return;
    }
    // SAFETY: `getenv` returned a NUL-terminated string that stays valid
    // while the environment is unchanged (it is, here).
    let text = unsafe { core::ffi::CStr::from_ptr(value) };
    let Some(fd) = text.to_str().ok().and_then(|t| t.parse::<RawFd>().ok()) else {
        return;
    };
    if fd < 3 {
        return;
    }
    // SAFETY: `fcntl` on a descriptor number only queries or sets its
    // flags; a number that is not open fails harmlessly.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
        }
    }
}

#[used]
#[link_section = ".init_array"]
static CLOSE_STARTUP_FD_ON_EXEC: extern "C" fn() = close_startup_fd_on_exec;

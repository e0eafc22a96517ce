//! Across Linux processes: how a program meets another one, and how it
//! starts a child with handles (SPEC 11, `magenta/linux.h`).
//!
//! Magenta's objects are kernel objects, so two programs can share them.
//! Here a process is a Linux process, each with its own handle table, and
//! a handle moves to another process the Magenta way: **inside a channel
//! message**. Writing the message takes the handle out of the writer's
//! table; reading it in the other process puts it in the reader's, with
//! the rights it was sent with. Once there, a socket or channel end
//! behaves exactly as it does locally: capacity and short writes,
//! datagrams, half-close, every signal, [`wait_handle`], [`object_wait_many`],
//! ports and [`wait_async_handle`], `std::io` and `mx-tokio`.
//! `LAST_HANDLE` counts the handles to an end in every process.
//!
//! # What crosses
//!
//! - **Socket ends** ([`Socket`](super::Socket)): the pair moves into memory shared by the
//!   processes that hold its ends; bytes are copied once each way, as
//!   locally.
//! - **Channel ends** ([`Channel`]), with the messages queued at them and
//!   the handles inside those messages, also when an end is sent on to a
//!   third process.
//! - **Events, eventpairs and ports do not**: a write of a message holding
//!   one fails with `NOT_SUPPORTED`, and, as for every failed write, nothing
//!   is sent and every handle stays with the writer.
//!
//! # How processes meet
//!
//! - A parent starts a child with handles: [`CommandExt::spawn_with_handles`]
//!   on a `std::process::Command` (`mx_linux_spawn`). The child takes each
//!   one, once, with [`startup_handle`], by the `info` word it was passed
//!   under, built with [`pa_hnd`] (user handles: [`user_handle_info`]).
//! - Two processes connected by an `AF_UNIX` `SOCK_SEQPACKET` socket pair
//!   each make a channel end of theirs with [`channel_from_fd`]; the two
//!   ends are peers.
//!
//! From the first channel on, anything that crosses can follow through it.
//!
//! # Death, exit and fork
//!
//! When a process exits or is killed (even by `SIGKILL`), every handle it
//! held is closed as if by `mx_handle_close`: the peers of its ends, in
//! other processes, see `PEER_CLOSED` within 100 ms and their waiters wake;
//! data and messages already queued to them stay readable. A child made by
//! `fork()` starts with an empty handle table (the parent's handle values
//! are `BAD_HANDLE` in it) and shares nothing of the parent's objects.
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::process::Command;
//! use mx::api::{Socket, SocketOpts};
//! use mx::linux::{self, CommandExt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! const SOCKET: u32 = linux::user_handle_info(0);
//! if std::env::args().nth(1).as_deref() == Some("child") {
//!     // The child: its end of the socket came with it.
//!     let mut socket = Socket::from(mx::startup_handle(SOCKET).ok_or("no socket")?);
//!     socket.write_all(b"hello from the child")?;
//!     return Ok(());
//! }
//! let (mut mine, theirs) = Socket::create(SocketOpts::Stream)?;
//! let mut child = Command::new(std::env::current_exe()?)
//!     .arg("child")
//!     .spawn_with_handles([(SOCKET, theirs)])?;
//! let mut text = String::new();
//! mine.read_to_string(&mut text)?; // end of file once the child is gone
//! assert_eq!(text, "hello from the child");
//! child.wait()?;
//! # Ok(())
//! # }
//! ```
//!
//! What this module does not do: it does not name processes or find them
//! (processes meet through a parent or a socket pair they already share),
//! and it does not carry objects other than sockets and channels.
//!
//! [`wait_handle`]: super::AsHandleRef::wait_handle
//! [`wait_async_handle`]: super::AsHandleRef::wait_async_handle
//! [`object_wait_many`]: super::object_wait_many

use core::fmt;
use std::os::fd::OwnedFd;
use std::process::{Child, Command};

use mx_core::{RawHandle, Status};

use super::{Channel, Handle, HandleBased};
use crate::sys;

/// `PA_USER0`: the handle type of a program's own startup handles
/// (`magenta/processargs.h`).
pub const PA_USER0: u32 = 0xF0;
/// `PA_USER1`: a second type for a program's own startup handles.
pub const PA_USER1: u32 = 0xF1;
/// `PA_USER2`: a third type for a program's own startup handles.
pub const PA_USER2: u32 = 0xF2;

/// `PA_HND(type, arg)`: the info word a startup handle is passed and taken
/// under: `type` in the low byte, `arg` in the upper 16 bits (the C
/// macro's masking, so `pa_hnd(t, a)` equals `PA_HND(t, a)` for all
/// inputs).
///
/// ```
/// use mx::linux::{pa_hnd, PA_USER0, PA_USER1};
///
/// assert_eq!(pa_hnd(PA_USER0, 0), 0xF0);
/// assert_eq!(pa_hnd(PA_USER1, 2), 0x0002_00F1);
/// ```
#[doc(alias = "PA_HND")]
pub const fn pa_hnd(kind: u32, arg: u32) -> u32 {
    (kind & 0xFF) | ((arg & 0xFFFF) << 16)
}

/// The info word of the program's own startup handle number `n`:
/// `PA_HND(PA_USER0, n)`.
///
/// ```
/// use mx::linux::{pa_hnd, user_handle_info, PA_USER0};
///
/// assert_eq!(user_handle_info(3), pa_hnd(PA_USER0, 3));
/// ```
pub const fn user_handle_info(n: u16) -> u32 {
    pa_hnd(PA_USER0, n as u32)
}

/// `mx_linux_channel_from_fd`: takes `fd`, one end of a connected
/// `AF_UNIX` `SOCK_SEQPACKET` socket, and returns a channel end whose peer
/// is the process that does the same with the other end
/// ([`sys::linux::channel_from_fd`]).
///
/// # Errors
/// A [`FromFdError`] that gives the descriptor back, unchanged:
/// `INVALID_ARGS` when `fd` is not such a socket, `NO_MEMORY`,
/// `NO_RESOURCES`.
///
/// ```
/// use mx::api::{Channel, MessageBuf};
/// use mx::linux::channel_from_fd;
/// use mx::Status;
/// use std::os::unix::net::UnixStream;
///
/// // Not a SOCK_SEQPACKET socket: the descriptor comes back.
/// let (stream, _other) = UnixStream::pair()?;
/// let error = channel_from_fd(stream.into()).unwrap_err();
/// assert_eq!(error.status, Status::INVALID_ARGS);
/// let stream = UnixStream::from(error.fd); // still ours
/// # drop(stream);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[doc(alias = "mx_linux_channel_from_fd")]
pub fn channel_from_fd(fd: OwnedFd) -> Result<Channel, FromFdError> {
    match sys::linux::channel_from_fd(fd) {
        Ok(raw) => Ok(Channel::from(Handle::from_raw(raw))),
        Err((status, fd)) => Err(FromFdError { status, fd }),
    }
}

/// A failed [`channel_from_fd`]: why, and the descriptor, which the call
/// did not take.
///
/// It converts into [`Status`] and `std::io::Error` (closing the
/// descriptor), so `?` works in functions returning either.
#[derive(Debug)]
pub struct FromFdError {
    /// Why it failed.
    pub status: Status,
    /// The descriptor, as it was passed.
    pub fd: OwnedFd,
}

impl fmt::Display for FromFdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "channel_from_fd: {}", self.status)
    }
}

impl std::error::Error for FromFdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.status)
    }
}

impl From<FromFdError> for Status {
    fn from(error: FromFdError) -> Status {
        error.status
    }
}

impl From<FromFdError> for std::io::Error {
    fn from(error: FromFdError) -> std::io::Error {
        error.status.into()
    }
}

/// `mx_get_startup_handle`: takes the handle this process was started with
/// under `info` ([`CommandExt::spawn_with_handles`]); `None` if it was not
/// started with one under `info`, or it was taken already (each is taken
/// once), or the process was not started that way at all. Also
/// `mx::startup_handle`.
///
/// The first call waits for the parent to send the handles, if it has not
/// yet (it sends them before `spawn_with_handles` returns; the wait ends
/// early if the parent dies first).
///
/// The handles come on a descriptor the child inherits, named by the
/// `MX_STARTUP_FD` variable. A program the child starts in turn (or execs
/// into) before taking them inherits both, and can take them instead,
/// as with any inherited descriptor; one that inherits only the variable
/// gets `None`, and no descriptor of its own is touched.
///
/// ```
/// use mx::linux::{startup_handle, user_handle_info};
///
/// // A test binary is not started with handles.
/// assert!(startup_handle(user_handle_info(7)).is_none());
/// ```
#[doc(alias = "mx_get_startup_handle")]
pub fn startup_handle(info: u32) -> Option<Handle> {
    sys::linux::get_startup_handle(info).map(Handle::from_raw)
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for std::process::Command {}
}

/// Starting a process with handles: `mx_linux_spawn` as a method of
/// `std::process::Command`.
///
/// A `Command` cannot hold handles (it is `std`'s), so they are passed to
/// the spawning call itself, by value: they leave this process when the
/// child starts. Everything else (arguments, environment, directory,
/// standard streams, `pre_exec`) is the `Command`'s, as for
/// `Command::spawn`.
pub trait CommandExt: sealed::Sealed {
    /// Spawns the command with `handles`, each under its `info` word
    /// ([`pa_hnd`], [`user_handle_info`]), which the child takes with
    /// [`startup_handle`] ([`sys::linux::spawn`]).
    ///
    /// On success the handles are the child's: they are no longer in this
    /// process's table (a child that never takes them, or that exits,
    /// closes them, and their peers here see `PEER_CLOSED`). On failure no
    /// process is left running and every handle comes back in the
    /// [`SpawnError`], with its info, unchanged.
    ///
    /// `handles` is an array or a `Vec` of `(info, handle)`. Handles of
    /// different kinds go in one call as plain [`Handle`]s
    /// (`socket.into_handle()`, `channel.into()`).
    ///
    /// # Errors
    /// A [`SpawnError`] holding the handles, with, in this order:
    /// `INVALID_ARGS` (more than 64 handles, or one listed twice),
    /// `BAD_HANDLE`, `ACCESS_DENIED` (a handle without `TRANSFER`),
    /// `NOT_SUPPORTED` (a handle that cannot cross: an event, eventpair or
    /// port), `NO_MEMORY`, `NO_RESOURCES`, or the failed start (`NOT_FOUND`
    /// for a missing program, `ACCESS_DENIED` for one that cannot be run,
    /// `IO` otherwise).
    ///
    /// ```no_run
    /// use std::process::Command;
    /// use mx::api::{Channel, HandleBased, Socket, SocketOpts};
    /// use mx::linux::{user_handle_info, CommandExt};
    ///
    /// let (_control, control_theirs) = Channel::create()?;
    /// let (_data, data_theirs) = Socket::create(SocketOpts::Datagram)?;
    /// let child = Command::new("/usr/local/bin/worker")
    ///     .arg("--serve")
    ///     .spawn_with_handles([
    ///         (user_handle_info(0), control_theirs.into_handle()),
    ///         (user_handle_info(1), data_theirs.into_handle()),
    ///     ])?;
    /// # drop(child);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A failed spawn gives the handles back:
    ///
    /// ```
    /// use std::process::Command;
    /// use mx::api::{Event, Socket, SocketOpts};
    /// use mx::linux::{user_handle_info, CommandExt};
    /// use mx::Status;
    ///
    /// let (_a, b) = Socket::create(SocketOpts::Stream)?;
    /// let error = Command::new("/nonexistent/program")
    ///     .spawn_with_handles(vec![(user_handle_info(0), b)])
    ///     .unwrap_err();
    /// assert_eq!(error.status, Status::NOT_FOUND);
    /// let (_, b) = error.handles.into_iter().next().unwrap();
    /// assert_eq!(b.try_write(b"still mine")?, 10);
    ///
    /// // An event cannot cross: nothing starts.
    /// let event = Event::create()?;
    /// let error = Command::new("true")
    ///     .spawn_with_handles([(user_handle_info(0), event)])
    ///     .unwrap_err();
    /// assert_eq!(error.status, Status::NOT_SUPPORTED);
    /// # Ok::<(), Status>(())
    /// ```
    #[doc(alias = "mx_linux_spawn")]
    fn spawn_with_handles<H: HandleBased>(
        &mut self,
        handles: impl Into<Vec<(u32, H)>>,
    ) -> Result<Child, SpawnError<H>>;
}

impl CommandExt for Command {
    fn spawn_with_handles<H: HandleBased>(
        &mut self,
        handles: impl Into<Vec<(u32, H)>>,
    ) -> Result<Child, SpawnError<H>> {
        let handles = handles.into();
        let mut raw: Vec<(u32, RawHandle)> = Vec::new();
        if let Err(error) = raw.try_reserve_exact(handles.len()) {
            return Err(SpawnError {
                status: error.into(),
                handles,
            });
        }
        raw.extend(handles.iter().map(|(info, h)| (*info, h.raw_handle())));
        match sys::linux::spawn(self, &raw) {
            Ok(child) => {
                // The values left this process's table: nothing to close.
                for (_, handle) in handles {
                    let _ = handle.into_handle().into_raw();
                }
                Ok(child)
            }
            Err(status) => Err(SpawnError { status, handles }),
        }
    }
}

/// A failed [`CommandExt::spawn_with_handles`]: why, and every handle,
/// with its info, unchanged (they stay with the caller when a spawn
/// fails).
///
/// It converts into [`Status`] and `std::io::Error` (closing the handles),
/// so `?` works in functions returning either, or a boxed error.
pub struct SpawnError<H = Handle> {
    /// Why it failed.
    pub status: Status,
    /// The handles, as they were passed.
    pub handles: Vec<(u32, H)>,
}

impl<H> fmt::Debug for SpawnError<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnError")
            .field("status", &self.status)
            .field("handles", &self.handles.len())
            .finish()
    }
}

impl<H> fmt::Display for SpawnError<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spawn with handles: {}", self.status)
    }
}

impl<H> std::error::Error for SpawnError<H> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.status)
    }
}

impl<H> From<SpawnError<H>> for Status {
    fn from(error: SpawnError<H>) -> Status {
        error.status
    }
}

impl<H> From<SpawnError<H>> for std::io::Error {
    fn from(error: SpawnError<H>) -> std::io::Error {
        error.status.into()
    }
}

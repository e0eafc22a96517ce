//! Our Linux extensions (`magenta/linux.h`): how processes meet, and how a
//! process starts another with handles.
//!
//! - [`channel_from_fd`]: a channel end whose peer is the process at the
//!   other end of a connected `AF_UNIX` `SOCK_SEQPACKET` socket.
//! - [`spawn`]: starts a program with handles, which it takes with
//!   [`get_startup_handle`].
//!
//! See `crate::remote` for what crosses and how.

use std::os::fd::OwnedFd;

use mx_core::{RawHandle, Rights, Side, Status};

use crate::object::{ChannelPair, End, Object};
use crate::remote::{node, transfer};
use crate::sync::try_arc;
use crate::table::table;

/// `mx_linux_channel_from_fd`—Takes ownership of `fd`, one end of a
/// connected `AF_UNIX` `SOCK_SEQPACKET` socket, and returns a channel
/// handle whose peer is the process that does the same with the other end.
///
/// # Errors
/// The descriptor is handed back with the error:
/// - `INVALID_ARGS`: `fd` is not a connected `AF_UNIX` `SOCK_SEQPACKET`
///   socket.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_linux_channel_from_fd")]
pub fn channel_from_fd(fd: OwnedFd) -> Result<RawHandle, (Status, OwnedFd)> {
    match from_fd(&fd) {
        // Success takes the descriptor: the channel has its own copy.
        Ok(handle) => Ok(handle),
        Err(status) => Err((status, fd)),
    }
}

fn from_fd(fd: &OwnedFd) -> Result<RawHandle, Status> {
    if !transfer::check_seqpacket(fd) {
        return Err(Status::INVALID_ARGS);
    }
    let node = node::node()?;
    // The channel works on a copy, so that on any failure the caller's
    // descriptor is as it was.
    let copy = rustix::io::fcntl_dupfd_cloexec(fd, 0).map_err(node::fd_status)?;
    let pair = ChannelPair::linked(node, copy, None, [0, 0])?;
    let object = try_arc(Object::Channel(pair))?;
    table().add(|| {
        Ok((
            End {
                object,
                side: Side::A,
            },
            Rights::CHANNEL_DEFAULT,
        ))
    })
}

/// The environment variable that names the descriptor of a spawned
/// process's startup channel, as `<fd>:<pid>`: the descriptor's number,
/// and the process that spawned it (the creator of the socket pair, which
/// the descriptor must name as its peer to be taken: a process that
/// inherited the variable but not the descriptor, from a child started
/// with handles, has no such socket under that number).
pub const STARTUP_FD_ENV: &str = "MX_STARTUP_FD";

/// `mx_linux_spawn`, for Rust: spawns `command` with `handles` (each with
/// its `PA_HND` info), which leave this process's table when it starts.
///
/// The child takes each handle once with [`get_startup_handle`]. On any
/// failure no process is left running and every handle stays with the
/// caller, unchanged. `command` may be spawned again, with handles or
/// without: what this call adds to it (the startup variable, a `pre_exec`
/// hook) passes nothing to a later child.
///
/// # Errors
/// In this order: `INVALID_ARGS` (more than 64 handles, or one listed
/// twice), `BAD_HANDLE`, `ACCESS_DENIED` (no `TRANSFER`), `NOT_SUPPORTED`
/// (a handle that cannot cross: events, eventpairs, ports), then
/// `NO_MEMORY`, `NO_RESOURCES`, or the status of the failed start
/// (`NOT_FOUND` for a missing program, `ACCESS_DENIED` for one that cannot
/// be run, `IO` otherwise).
pub fn spawn(
    command: &mut std::process::Command,
    handles: &[(u32, RawHandle)],
) -> Result<std::process::Child, Status> {
    if handles.len() > mx_core::channel::MAX_MSG_HANDLES {
        return Err(Status::INVALID_ARGS);
    }
    for (i, &(_, handle)) in handles.iter().enumerate() {
        if handles[..i].iter().any(|&(_, h)| h == handle) {
            return Err(Status::INVALID_ARGS);
        }
    }
    for &(_, handle) in handles {
        table().find::<crate::object::Any, _>(handle, Rights::TRANSFER, |found| {
            match found.target {
                Object::Socket(_) | Object::Channel(_) => Ok(()),
                _ => Err(Status::NOT_SUPPORTED),
            }
        })?;
    }
    let node = node::node()?;
    let (ours, theirs) = transfer::seqpacket_pair()?;
    let pair = ChannelPair::linked(node, ours, None, [0, 0])?;
    let bootstrap = table().add(|| {
        Ok((
            End {
                object: try_arc(Object::Channel(pair))?,
                side: Side::A,
            },
            Rights::CHANNEL_DEFAULT,
        ))
    })?;
    let result = start(command, &theirs, bootstrap, handles);
    drop(theirs);
    let _ = super::handle_close(bootstrap);
    result
}

fn start(
    command: &mut std::process::Command,
    theirs: &OwnedFd,
    bootstrap: RawHandle,
    handles: &[(u32, RawHandle)],
) -> Result<std::process::Child, Status> {
    let mut infos = Vec::new();
    infos.try_reserve_exact(4 * handles.len())?;
    let mut values = Vec::new();
    values.try_reserve_exact(handles.len())?;
    for &(info, handle) in handles {
        infos.extend_from_slice(&info.to_le_bytes());
        values.push(handle);
    }
    let me = rustix::process::getpid().as_raw_nonzero().get();
    command.env(
        STARTUP_FD_ENV,
        format!("{}:{me}", std::os::fd::AsRawFd::as_raw_fd(theirs)),
    );
    let spawned = mx_shm::process::spawn_keeping(command, std::os::fd::AsFd::as_fd(theirs));
    // The command is the caller's, perhaps spawned again: the number was
    // this child's alone, and this process's own variable (if it was
    // started with handles) is not for its children.
    command.env_remove(STARTUP_FD_ENV);
    let mut child = spawned.map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => Status::NOT_FOUND,
        std::io::ErrorKind::PermissionDenied => Status::ACCESS_DENIED,
        std::io::ErrorKind::OutOfMemory => Status::NO_MEMORY,
        _ => Status::IO,
    })?;
    if let Err(status) = super::channel_write(bootstrap, 0, &infos[..], &values[..]) {
        // The child must not run without its handles.
        let _ = child.kill();
        let _ = child.wait();
        return Err(status);
    }
    Ok(child)
}

/// The handles this process was started with, by info, until taken.
static STARTUP: crate::sync::Mutex<Option<Vec<(u32, RawHandle)>>> = crate::sync::Mutex::new(None);

/// Set in a child made by `fork()`: it was not started with handles (its
/// parent's are not its own).
static FORKED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// In a child after `fork()`.
pub(crate) fn reset_after_fork() {
    FORKED.store(true, core::sync::atomic::Ordering::Relaxed);
}

/// `mx_get_startup_handle`—Takes the handle this process was started with
/// under `info` ([`spawn`]); `None` if there is none, or it was taken.
///
/// The first call reads the startup message (waiting for it if the parent
/// has not sent it yet, for as long as the parent lives).
#[doc(alias = "mx_get_startup_handle")]
pub fn get_startup_handle(info: u32) -> Option<RawHandle> {
    if FORKED.load(core::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    let mut startup = STARTUP.lock();
    if startup.is_none() {
        *startup = Some(read_startup().unwrap_or_default());
    }
    let handles = startup.as_mut()?;
    let at = handles.iter().position(|&(i, _)| i == info)?;
    Some(handles.swap_remove(at).1)
}

/// Reads the startup message from the descriptor the parent named, if
/// this process has it: a descriptor of another kind, or a socket pair
/// that process did not make, is not the library's to take.
fn read_startup() -> Option<Vec<(u32, RawHandle)>> {
    let value = std::env::var(STARTUP_FD_ENV).ok()?;
    let (number, spawner) = value.split_once(':')?;
    let number: i32 = number.parse().ok()?;
    let spawner: i32 = spawner.parse().ok()?;
    let fd = mx_shm::process::take_inherited(number, |fd| {
        transfer::is_seqpacket(fd)
            && rustix::net::sockopt::socket_peercred(fd)
                .is_ok_and(|peer| peer.pid.as_raw_nonzero().get() == spawner)
    })?;
    let channel = channel_from_fd(fd).ok()?;
    let observed = super::object_wait_one(
        channel,
        mx_core::Signals::CHANNEL_READABLE | mx_core::Signals::CHANNEL_PEER_CLOSED,
        mx_core::Time::INFINITE,
    );
    let mut bytes = vec![0u8; 4 * mx_core::channel::MAX_MSG_HANDLES];
    let mut values = vec![0; mx_core::channel::MAX_MSG_HANDLES];
    let read = observed
        .ok()
        .and_then(|_| super::channel_read(channel, 0, &mut bytes[..], &mut values[..]).ok());
    let _ = super::handle_close(channel);
    let (n_bytes, n_handles) = read?;
    let infos = bytes[..n_bytes as usize]
        .chunks_exact(4)
        .map(|word| u32::from_le_bytes([word[0], word[1], word[2], word[3]]));
    Some(
        infos
            .zip(values[..n_handles as usize].iter().copied())
            .collect(),
    )
}

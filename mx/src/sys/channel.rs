//! Channel system calls.

use mx_core::channel::{self as rules, MAX_MSG_HANDLES, READ_MAY_DISCARD};
use mx_core::storage::{HandleSink, HandleSource};
use mx_core::{RawHandle, Rights, Status, Time};
use mx_shm::storage::{Sink, Source};

use super::{add_pair, handle_close, ErrorWith};
use crate::object::channel::{bury, Bytes, CallEnd, CallWaker, Message, ReadError, INLINE_BYTES};
use crate::object::{ChannelPair, End, Kind, Object};
use crate::sync::{counters, try_arc, Parker};
use crate::table::{table, Entry, Slots, Transits};

/// `mx_channel_create`—Creates a channel: a connected pair of endpoints
/// that carry messages of bytes and handles.
///
/// Both ends get the default channel rights (`TRANSFER | READ | WRITE |
/// SIGNAL | SIGNAL_PEER`; no `DUPLICATE`) and start `WRITABLE |
/// LAST_HANDLE`.
///
/// # Errors
/// - `INVALID_ARGS`: `options` is not 0.
/// - `NO_MEMORY`, `NO_RESOURCES`.
#[doc(alias = "mx_channel_create")]
pub fn channel_create(options: u32) -> Result<(RawHandle, RawHandle), Status> {
    if options != 0 {
        return Err(Status::INVALID_ARGS);
    }
    add_pair(
        Object::Channel(try_arc(ChannelPair::new())?),
        Rights::CHANNEL_DEFAULT,
    )
}

/// `mx_channel_write`—Writes a message of `bytes` and `handles` into a
/// channel end, for its peer to read.
///
/// On success the listed handles leave the caller's table (their values
/// become `BAD_HANDLE`; waits made through them end with `CANCELED`) in the
/// same step as the message joins the peer's queue; they keep their
/// objects and rights. On any failure nothing is sent and every listed
/// handle stays with the caller, unchanged. A write never waits: the queue
/// has no length limit.
///
/// # Errors
/// In the order they are checked:
/// - `INVALID_ARGS`: `options` is not 0.
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `WRITE`), `WRONG_TYPE`.
/// - `OUT_OF_RANGE`: more than 65,536 bytes or 64 handles.
/// - `NO_MEMORY`.
/// - `INVALID_ARGS`: the bytes, then the handle values, cannot be read (a
///   NULL buffer with a non-zero count, from C).
/// - For each listed handle, in order: `BAD_HANDLE` (not live),
///   `NOT_SUPPORTED` (a handle to the end being written to), `ACCESS_DENIED`
///   (no `TRANSFER`).
/// - `INVALID_ARGS`: a handle value listed twice.
/// - `PEER_CLOSED`.
#[doc(alias = "mx_channel_write")]
pub fn channel_write<B, H>(
    handle: RawHandle,
    options: u32,
    bytes: &B,
    handles: &H,
) -> Result<(), Status>
where
    B: Source + ?Sized,
    H: HandleSource + ?Sized,
{
    if options != 0 {
        return Err(Status::INVALID_ARGS);
    }
    if handles.is_empty() {
        // No handle moves: no lock either. A close of this end racing the
        // write is ordered by the send itself, which fails (`BAD_HANDLE`)
        // once the end has no handle left.
        return table().find::<ChannelPair, _>(handle, Rights::WRITE, |found| {
            rules::check_limits(bytes.len(), 0)?;
            let message = Message {
                bytes: copy_in(bytes)?,
                handles: Transits::new(),
            };
            found
                .target
                .send(found.side, message, None)
                .map_err(|(status, _)| status)
        });
    }
    let outgoing = prepare(handle, Rights::WRITE, bytes, handles)?;
    send(handle, outgoing, None)
}

/// A message's bytes, copied in from `bytes` (small ones without
/// allocating).
///
/// # Errors
/// `NO_MEMORY`, or the source's fault.
fn copy_in<B: Source + ?Sized>(bytes: &B) -> Result<Bytes, Status> {
    let n = bytes.len();
    if n <= INLINE_BYTES {
        let mut inline = [0u8; INLINE_BYTES];
        bytes.copy_to_slice(0, &mut inline[..n])?;
        return Ok(Bytes::from_buf_and_len(inline, n));
    }
    let mut heap = Vec::new();
    heap.try_reserve_exact(n)?;
    heap.resize(n, 0);
    bytes.copy_to_slice(0, &mut heap)?;
    Ok(Bytes::from_vec(heap))
}

/// A message read from user memory, not sent yet: its bytes, and the
/// handle values it lists.
pub(crate) struct Outgoing {
    bytes: Bytes,
    values: Vec<RawHandle>,
}

/// Steps 2-4 of a write: the channel lookup with `rights`, the limits, and
/// copying the bytes and values in.
pub(crate) fn prepare<B, H>(
    handle: RawHandle,
    rights: Rights,
    bytes: &B,
    handles: &H,
) -> Result<Outgoing, Status>
where
    B: Source + ?Sized,
    H: HandleSource + ?Sized,
{
    table().find::<ChannelPair, _>(handle, rights, |_| Ok(()))?;
    rules::check_limits(bytes.len(), handles.len())?;
    let mut values = Vec::new();
    values.try_reserve_exact(handles.len())?;
    let bytes = copy_in(bytes)?;
    handles.read_into(&mut values)?;
    Ok(Outgoing { bytes, values })
}

/// Steps 5-7 of a write: checks the listed handles and moves them, with the
/// bytes, to the peer of `handle`'s end (registering `caller` on that end
/// first, for a call).
pub(crate) fn send(
    handle: RawHandle,
    outgoing: Outgoing,
    caller: Option<(u64, CallWaker)>,
) -> Result<(), Status> {
    let Outgoing { bytes, values } = outgoing;
    table().transfer(
        handle,
        &values,
        |via: Entry<'_>, entry: Entry<'_>| {
            if core::ptr::eq(entry.object(), via.object()) && entry.side() == via.side() {
                Err(Status::NOT_SUPPORTED)
            } else if !entry.rights().contains(Rights::TRANSFER) {
                Err(Status::ACCESS_DENIED)
            } else {
                Ok(())
            }
        },
        |via: Entry<'_>, transits: Transits| {
            let Ok(pair) = ChannelPair::of(via.object()) else {
                return Err((Status::WRONG_TYPE, transits));
            };
            let message = Message {
                bytes,
                handles: transits,
            };
            pair.send(via.side(), message, caller)
                .map_err(|(status, message)| (status, message.handles))
        },
    )
}

/// `mx_channel_read`—Reads the first message queued at a channel end.
///
/// A message is read whole or not at all: its bytes go to `bytes`, its
/// handles into this process's table, with the rights they were sent
/// with, and their new values to `handles`, in the order they were
/// listed. Returns the message's byte and handle counts.
///
/// # Errors
/// In the order they are checked:
/// - `BAD_HANDLE`, `ACCESS_DENIED` (no `READ`), `WRONG_TYPE`.
/// - `NOT_SUPPORTED`: `options` is neither 0 nor
///   `MX_CHANNEL_READ_MAY_DISCARD`.
/// - `SHOULD_WAIT` (nothing queued, peer open) or `PEER_CLOSED` (nothing
///   queued, peer closed: queued messages always come first).
/// - `NO_MEMORY`, `NO_RESOURCES` (no room in the handle table): nothing
///   consumed.
/// - `BUFFER_TOO_SMALL`, with the message's counts: more bytes than `bytes`
///   holds or more handles than `handles` does. The message stays first;
///   with `MAY_DISCARD` it is destroyed (its handles closed).
/// - `INVALID_ARGS`, with the counts: `bytes` or `handles` cannot be
///   written (NULL, from C) while the message has such a part; the message
///   is consumed and its handles closed.
#[doc(alias = "mx_channel_read")]
pub fn channel_read<B, H>(
    handle: RawHandle,
    options: u32,
    bytes: &mut B,
    handles: &mut H,
) -> Result<(u32, u32), ErrorWith<(u32, u32)>>
where
    B: Sink + ?Sized,
    H: HandleSink + ?Sized,
{
    let room = (bytes.len(), handles.len());
    let may_discard = || match options {
        0 => Ok(false),
        READ_MAY_DISCARD => Ok(true),
        _ => Err(Status::NOT_SUPPORTED),
    };
    // A message without handles is taken inside the lookup; one with
    // handles needs room in the table, taken (locked) in the same step.
    let first = table().find::<ChannelPair, _>(handle, Rights::READ, |found| {
        let may_discard = may_discard()?;
        Ok(found.target.read(found.side, room, may_discard, None))
    })?;
    let taken = match first {
        Ok(message) => Ok((message.bytes, Vec::new())),
        Err(ReadError::HasHandles) => table().find_with_slots::<ChannelPair, _>(
            handle,
            Rights::READ,
            room.1.min(MAX_MSG_HANDLES),
            |pair, side, slots| {
                let may_discard = may_discard()?;
                let mut values = Vec::new();
                values.try_reserve_exact(room.1.min(MAX_MSG_HANDLES))?;
                Ok(
                    match pair.read(side, room, may_discard, Some(&mut *slots)) {
                        Ok(message) => Ok(receive(message, slots, values)),
                        Err(error) => Err(error),
                    },
                )
            },
        )?,
        Err(error) => Err(error),
    };
    match taken {
        Ok((message_bytes, values)) => {
            deliver(&message_bytes, &values, bytes, handles).map_err(|status| ErrorWith {
                status,
                value: Some(counts(message_bytes.len(), values.len())),
            })
        }
        Err(ReadError::Status(status)) => Err(status.into()),
        Err(ReadError::HasHandles) => Err(Status::INTERNAL.into()),
        Err(ReadError::TooSmall { size, discarded }) => {
            bury(discarded);
            Err(ErrorWith {
                status: Status::BUFFER_TOO_SMALL,
                value: Some(counts(size.0, size.1)),
            })
        }
    }
}

/// Puts a message's handles into the table (room reserved); returns its
/// bytes and the new values.
fn receive(
    message: Message,
    slots: &mut Slots<'_, '_>,
    mut values: Vec<RawHandle>,
) -> (Bytes, Vec<RawHandle>) {
    for transit in message.handles {
        if let Some((end, rights)) = transit.into_parts() {
            values.push(slots.insert(end, rights));
        }
    }
    (message.bytes, values)
}

/// Copies a received message to the caller: bytes, then handle values. If
/// either cannot be written, the new handles are closed.
///
/// # Errors
/// The sinks' fault (`INVALID_ARGS`); the counts.
fn deliver<B, H>(
    message_bytes: &[u8],
    values: &[RawHandle],
    bytes: &mut B,
    handles: &mut H,
) -> Result<(u32, u32), Status>
where
    B: Sink + ?Sized,
    H: HandleSink + ?Sized,
{
    let copied = if message_bytes.is_empty() {
        Ok(())
    } else {
        bytes.write_at(0, message_bytes)
    }
    .and_then(|()| {
        if values.is_empty() {
            Ok(())
        } else {
            handles.write_all(values)
        }
    });
    if let Err(status) = copied {
        for &value in values {
            let _ = handle_close(value);
        }
        return Err(status);
    }
    Ok(counts(message_bytes.len(), values.len()))
}

/// A message's counts as the C calls report them (both are bounded by the
/// message limits, so they fit).
fn counts(bytes: usize, handles: usize) -> (u32, u32) {
    (bytes as u32, handles as u32)
}

/// Why a [`channel_call`] failed.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct CallError {
    /// The status: an error of the write (the handles stay with the caller),
    /// `TIMED_OUT`, or `CALL_FAILED`.
    pub status: Status,
    /// With `CALL_FAILED`: why reading the reply failed (`BUFFER_TOO_SMALL`,
    /// `INVALID_ARGS`, `PEER_CLOSED`, `CANCELED`).
    pub read_status: Option<Status>,
}

impl From<Status> for CallError {
    fn from(status: Status) -> CallError {
        CallError {
            status,
            read_status: None,
        }
    }
}

impl CallError {
    fn call_failed(read_status: Status) -> CallError {
        CallError {
            status: Status::CALL_FAILED,
            read_status: Some(read_status),
        }
    }
}

/// `mx_channel_call`—Writes a message and waits for the reply whose
/// transaction id (its first four bytes) matches, in one call.
///
/// The caller waits on its own end for a message with the transaction id of
/// the one it writes, registered before the message reaches the peer; that
/// reply goes straight to the caller (it is never queued and asserts no
/// `READABLE`), and is read as `mx_channel_read` would into `rd_bytes` and
/// `rd_handles`. Returns the reply's byte and handle counts.
///
/// # Errors
/// - `INVALID_ARGS` (`options` not 0), then everything
///   [`channel_write`] checks, except that the handle needs `READ` and
///   `WRITE`: the message is not sent and the handles stay with the caller.
/// - `TIMED_OUT`: no reply before `deadline` (returned directly; a reply
///   that arrives later is queued as an ordinary message).
/// - `CALL_FAILED` with a read status: `BUFFER_TOO_SMALL` (the reply does
///   not fit; it is destroyed), `INVALID_ARGS` (`rd_bytes` or `rd_handles`
///   cannot be written), `PEER_CLOSED` (the peer closed while the caller
///   waited), `CANCELED` (the caller's end lost its last handle).
///
/// After `TIMED_OUT` or `CALL_FAILED` the written handles are gone from the
/// caller: they were delivered, or destroyed with the message.
#[doc(alias = "mx_channel_call")]
#[allow(clippy::too_many_arguments)]
pub fn channel_call<WB, WH, RB, RH>(
    handle: RawHandle,
    options: u32,
    deadline: Time,
    wr_bytes: &WB,
    wr_handles: &WH,
    rd_bytes: &mut RB,
    rd_handles: &mut RH,
) -> Result<(u32, u32), CallError>
where
    WB: Source + ?Sized,
    WH: HandleSource + ?Sized,
    RB: Sink + ?Sized,
    RH: HandleSink + ?Sized,
{
    if options != 0 {
        return Err(Status::INVALID_ARGS.into());
    }
    let outgoing = prepare(handle, Rights::READ | Rights::WRITE, wr_bytes, wr_handles)?;
    // The end the call waits on, held for the whole wait.
    let end = table().find::<ChannelPair, _>(handle, Rights::READ | Rights::WRITE, |found| {
        Ok(found.end())
    })?;
    let parker = try_arc(Parker::new())?;
    let id = counters::observer_id();
    send(
        handle,
        outgoing,
        Some((id, CallWaker::Thread(parker.clone()))),
    )?;
    let pair = channel_of(&end)?;
    match pair.await_reply(end.side, id, &parker, deadline) {
        CallEnd::Reply(reply) => read_reply(handle, reply, rd_bytes, rd_handles),
        CallEnd::TimedOut => Err(Status::TIMED_OUT.into()),
        CallEnd::PeerClosed => Err(CallError::call_failed(Status::PEER_CLOSED)),
        CallEnd::Canceled => Err(CallError::call_failed(Status::CANCELED)),
    }
}

/// The channel pair an end belongs to.
fn channel_of(end: &End) -> Result<&ChannelPair, Status> {
    ChannelPair::of(&end.object)
}

/// Reads a call's reply as `mx_channel_read` would, into `rd_bytes` and
/// `rd_handles`; a reply that does not fit, or that the handle it came
/// through no longer exists for, is destroyed.
pub(crate) fn read_reply<RB, RH>(
    handle: RawHandle,
    reply: Message,
    rd_bytes: &mut RB,
    rd_handles: &mut RH,
) -> Result<(u32, u32), CallError>
where
    RB: Sink + ?Sized,
    RH: HandleSink + ?Sized,
{
    if reply.bytes.len() > rd_bytes.len() || reply.handles.len() > rd_handles.len() {
        bury([reply]);
        return Err(CallError::call_failed(Status::BUFFER_TOO_SMALL));
    }
    let room = reply.handles.len();
    let mut reply = Some(reply);
    let received =
        table().find_with_slots::<ChannelPair, _>(handle, Rights::NONE, room, |_, _, slots| {
            let mut values = Vec::new();
            values.try_reserve_exact(room)?;
            slots.reserve(room)?;
            match reply.take() {
                Some(message) => Ok(receive(message, slots, values)),
                None => Err(Status::INTERNAL),
            }
        });
    let (message_bytes, values) = match received {
        Ok(received) => received,
        Err(status) => {
            // The handle went away (closed by another thread), or the table
            // is full: the reply cannot be delivered.
            bury(reply);
            let read_status = if status == Status::BAD_HANDLE {
                Status::CANCELED
            } else {
                status
            };
            return Err(CallError::call_failed(read_status));
        }
    };
    deliver(&message_bytes, &values, rd_bytes, rd_handles).map_err(CallError::call_failed)
}

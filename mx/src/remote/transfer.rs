//! Handles crossing a process boundary: a message's [`Transit`]s become
//! records and descriptors ([`export`]), and back ([`import`]).
//!
//! | kind | what crosses | what stays |
//! |---|---|---|
//! | channel end, peer here | a new socket pair's end: the peer gets the other end as its link, and the messages queued at the sent end follow on it | the peer, now linked |
//! | channel end, peer elsewhere | its link's socket (and a pending stream if messages are queued at it) | nothing |
//! | socket end | the pair's segment (made when an end first leaves), and a slot that holds the handle's count until the receiver takes it ([`Reservation`], released if the frame dies unread) | the pair, now in the segment |
//! | event, eventpair, port | not supported: the write fails with `NOT_SUPPORTED` and moves nothing | |
//!
//! An export is prepared first (every step that can fail: descriptors,
//! segments, slots) and committed only once its frame is on its way, so a
//! failed write leaves every handle as it was.

use std::os::fd::OwnedFd;

use mx_core::{Rights, Side, Status};
use rustix::net::{self, AddressFamily, SocketFlags, SocketType};

use super::link::OutFrame;
use super::node::{fd_status, Node};
use super::wire::{self, Record};
use crate::object::channel::{Bytes, Message};
use crate::object::{ChannelPair, End, Object, SocketPair};
use crate::sync::{try_arc, Arc};
use crate::table::{Transit, Transits};

/// A connected pair of `SOCK_SEQPACKET` sockets.
///
/// # Errors
/// `NO_RESOURCES` (out of descriptors), `NO_MEMORY`.
pub(crate) fn seqpacket_pair() -> Result<(OwnedFd, OwnedFd), Status> {
    net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(fd_status)
}

/// Whether `fd` is a connected `AF_UNIX` `SOCK_SEQPACKET` socket.
pub(crate) fn is_seqpacket(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    let is_seqpacket = net::sockopt::socket_type(fd).is_ok_and(|t| t == SocketType::SEQPACKET);
    let is_unix = net::getsockname(fd).is_ok_and(|a| a.address_family() == AddressFamily::UNIX);
    let is_connected = net::getpeername(fd).is_ok();
    is_seqpacket && is_unix && is_connected
}

/// Checks that `fd` is a connected `AF_UNIX` `SOCK_SEQPACKET` socket, and
/// makes it non-blocking.
pub(crate) fn check_seqpacket(fd: &OwnedFd) -> bool {
    use std::os::fd::AsFd;
    is_seqpacket(fd.as_fd()) && rustix::fs::fcntl_setfl(fd, rustix::fs::OFlags::NONBLOCK).is_ok()
}

/// What one handle's export will do once committed.
#[derive(Debug)]
enum Prepared {
    /// A channel end whose peer is here: the peer is linked to `keep`.
    LocalChannel {
        pair: Arc<ChannelPair>,
        side: Side,
        keep: OwnedFd,
    },
    /// A channel end linked to another process, sent on; `pending` is the
    /// writing end of its pending stream, if messages must follow.
    Onward {
        pair: Arc<ChannelPair>,
        pending: Option<OwnedFd>,
    },
    /// A socket end; its count is in `slot`, reserved under `generation`.
    Socket {
        object: Arc<Object>,
        side: Side,
        slot: usize,
        generation: u32,
    },
    /// A socket end whose count was handed over to its reservation
    /// ([`Exported::hand_over_sockets`]).
    HandedOver,
}

/// A socket handle in transit to another process: its count waits in a
/// reserved slot of the pair's segment until the receiver takes it over.
///
/// Once the frame that carries it is sent, whoever sent it keeps it while
/// it may still be received (see `link`): a frame destroyed unread (its
/// receiver closed its end, or died) closes the handle through
/// [`Reservation::release`]. The generation tells the reservation apart
/// from later ones in the same slot, so a late release is harmless.
#[derive(Debug)]
pub(crate) struct Reservation {
    object: Arc<Object>,
    slot: usize,
    generation: u32,
}

impl Reservation {
    /// Whether its receiver has not taken it yet.
    pub(crate) fn is_pending(&self) -> bool {
        match &*self.object {
            Object::Socket(pair) => pair.is_reserved(self.slot, self.generation),
            _ => false,
        }
    }

    /// The message carrying the handle was destroyed before it was
    /// received: the handle is closed (if the receiver took it after all,
    /// this does nothing).
    pub(crate) fn release(self) {
        if let Object::Socket(pair) = &*self.object {
            pair.release_reserved(self.slot, self.generation);
        }
    }
}

/// A prepared export: commit it once the frame is sent (or queued), undo it
/// if the frame is never sent.
#[derive(Debug)]
pub(crate) struct Exported {
    prepared: Vec<Prepared>,
    /// The transits, whose counts the commit takes over.
    transits: Transits,
}

/// Prepares `message` to cross to another process: its frame, with the
/// descriptors of its handles.
///
/// # Errors
/// `NOT_SUPPORTED` (a handle of a kind that cannot cross), `NO_RESOURCES`
/// (descriptors, or a segment's slots), `NO_MEMORY`; the message is handed
/// back unchanged.
#[allow(clippy::result_large_err)]
pub(crate) fn export(
    node: &Node,
    message: Message,
) -> Result<(OutFrame, Exported), (Status, Message)> {
    let Message { bytes, handles } = message;
    match prepare(node, &bytes, &handles) {
        Ok((frame, prepared)) => Ok((
            frame,
            Exported {
                prepared,
                transits: handles,
            },
        )),
        Err(status) => Err((status, Message { bytes, handles })),
    }
}

/// Descriptors kept free for everything else the process does.
const FD_MARGIN: usize = 64;

/// Whether `needed` more descriptors fit under the process's limit with
/// [`FD_MARGIN`] to spare. Descriptors are allocated lowest first, so the
/// lowest free number is a close estimate of how many are open; one probe
/// (a duplicate, closed at once) finds it.
///
/// # Errors
/// `NO_RESOURCES` if they do not fit.
pub(crate) fn fd_budget(node: &Node, needed: usize) -> Result<(), Status> {
    if needed == 0 {
        return Ok(());
    }
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let probe = rustix::io::fcntl_dupfd_cloexec(node.bell_fd(), 0).map_err(fd_status)?;
    let lowest_free = std::os::fd::AsRawFd::as_raw_fd(&probe) as usize;
    drop(probe);
    if lowest_free.saturating_add(needed).saturating_add(FD_MARGIN) > limit {
        return Err(Status::NO_RESOURCES);
    }
    Ok(())
}

fn prepare(
    node: &Node,
    bytes: &Bytes,
    handles: &Transits,
) -> Result<(OutFrame, Vec<Prepared>), Status> {
    // A channel end may need two new descriptors (its socket pair, or a
    // copy and a pending stream), and each goes into the frame too.
    fd_budget(node, 3 * handles.len())?;
    let mut frame = OutFrame::default();
    frame
        .bytes
        .try_reserve_exact(wire::frame_len(bytes.len(), handles.len()))?;
    frame.fds.try_reserve_exact(2 * handles.len())?;
    frame.reservations.try_reserve_exact(handles.len())?;
    let mut records = Vec::new();
    records.try_reserve_exact(handles.len())?;
    let mut prepared: Vec<Prepared> = Vec::new();
    prepared.try_reserve_exact(handles.len())?;
    for transit in handles.iter() {
        let step = prepare_one(node, transit, &mut frame.fds);
        match step {
            Ok((record, prep)) => {
                records.push(record);
                prepared.push(prep);
            }
            Err(status) => {
                undo(node, prepared);
                return Err(status);
            }
        }
    }
    wire::encode_message(&mut frame.bytes, bytes, &records);
    Ok((frame, prepared))
}

fn fd_index(fds: &[OwnedFd]) -> u32 {
    fds.len() as u32
}

fn prepare_one(
    node: &Node,
    transit: &Transit,
    fds: &mut Vec<OwnedFd>,
) -> Result<(Record, Prepared), Status> {
    let (end, rights) = transit.parts().ok_or(Status::INTERNAL)?;
    match &*end.object {
        Object::Channel(pair) => {
            let side = end.side;
            let koid = pair.koid(side).0;
            let related = pair.koid(side.peer()).0;
            match pair.link() {
                None => {
                    let (keep, send) = seqpacket_pair()?;
                    let record = Record::Channel {
                        rights,
                        fd: fd_index(fds),
                        pending: None,
                        koid,
                        related,
                    };
                    fds.push(send);
                    Ok((
                        record,
                        Prepared::LocalChannel {
                            pair: pair.clone(),
                            side,
                            keep,
                        },
                    ))
                }
                Some(link) if link.local == side => {
                    let socket = link.dup()?;
                    // Stop the poller from reading on: what is queued now
                    // is all that must follow.
                    link.pause();
                    let pending = if pair.has_queued(side) || link.has_backlog() {
                        match seqpacket_pair() {
                            Ok(pair) => Some(pair),
                            Err(status) => {
                                link.resume();
                                return Err(status);
                            }
                        }
                    } else {
                        None
                    };
                    let record = Record::Channel {
                        rights,
                        fd: fd_index(fds),
                        pending: pending.as_ref().map(|_| fd_index(fds) + 1),
                        koid,
                        related,
                    };
                    fds.push(socket);
                    let keep = pending.map(|(keep, send)| {
                        fds.push(send);
                        keep
                    });
                    Ok((
                        record,
                        Prepared::Onward {
                            pair: pair.clone(),
                            pending: keep,
                        },
                    ))
                }
                Some(_) => Err(Status::INTERNAL),
            }
        }
        Object::Socket(pair) => {
            let (fd, slot, generation) = pair.prepare_export(node, &end.object, end.side)?;
            let record = Record::Socket {
                rights,
                fd: fd_index(fds),
                side: end.side.index() as u32,
                slot: slot as u32,
                generation,
            };
            fds.push(fd);
            Ok((
                record,
                Prepared::Socket {
                    object: end.object.clone(),
                    side: end.side,
                    slot,
                    generation,
                },
            ))
        }
        Object::Event(_) | Object::EventPair(_) | Object::Port(_) => Err(Status::NOT_SUPPORTED),
    }
}

fn undo(node: &Node, prepared: Vec<Prepared>) {
    for prep in prepared {
        match prep {
            Prepared::Socket {
                object,
                slot,
                generation,
                ..
            } => {
                if let Object::Socket(pair) = &*object {
                    pair.undo_export(node, slot, generation);
                }
            }
            Prepared::Onward { pair, .. } => {
                if let Some(link) = pair.link() {
                    link.resume();
                }
            }
            // Made only descriptors, closed here; or handed over already.
            Prepared::LocalChannel { .. } | Prepared::HandedOver => {}
        }
    }
}

impl Exported {
    /// Moves every socket handle's count from this process's slot to its
    /// reservation, into `frame`: done before the frame is sent, so that
    /// the receiver, which may read it at once, counts no handle of this
    /// process (`LAST_HANDLE` is right when it reads the message). If the
    /// frame is never sent, dropping it releases them (the handles close,
    /// as in a destroyed message).
    pub(crate) fn hand_over_sockets(&mut self, node: &Node, frame: &mut OutFrame) {
        for (prep, transit) in self.prepared.iter_mut().zip(self.transits.iter_mut()) {
            if !matches!(prep, Prepared::Socket { .. }) {
                continue;
            }
            let Prepared::Socket {
                object,
                side,
                slot,
                generation,
            } = core::mem::replace(prep, Prepared::HandedOver)
            else {
                continue;
            };
            // The transit's count is this process's, given up here.
            if transit.take().is_none() {
                continue;
            }
            if let Object::Socket(pair) = &*object {
                pair.commit_export(node, side);
            }
            // Reserved for every handle in `prepare`: cannot allocate.
            frame.reservations.push(Reservation {
                object,
                slot,
                generation,
            });
        }
    }

    /// The frame was sent (or queued, or its receiver is gone): the
    /// handles now belong to the other process.
    pub(crate) fn commit(self, node: &Node) {
        let Exported { prepared, transits } = self;
        for (prep, transit) in prepared.into_iter().zip(transits) {
            // The transit's count is taken over below: it must not close.
            let Some((_end, _rights)) = transit.into_parts() else {
                continue;
            };
            match prep {
                Prepared::LocalChannel { pair, side, keep } => {
                    ChannelPair::link_to(&pair, node, side, keep);
                }
                Prepared::Onward { pair, pending } => {
                    pair.send_on(node, pending);
                }
                Prepared::Socket { object, side, .. } => {
                    if let Object::Socket(pair) = &*object {
                        pair.commit_export(node, side);
                    }
                }
                Prepared::HandedOver => {}
            }
        }
    }

    /// The frame will never be sent: everything as it was, the message's
    /// handles back.
    pub(crate) fn undo(self, node: &Node) -> Transits {
        undo(node, self.prepared);
        self.transits
    }
}

/// Turns a received message's records and descriptors into a message of
/// this process.
///
/// # Errors
/// What was wrong (the caller reports it and breaks the link); the
/// handles made so far are closed.
pub(crate) fn import(
    node: &Node,
    bytes: &[u8],
    records: &[Record],
    fds: Vec<OwnedFd>,
) -> Result<Message, &'static str> {
    let mut fds: Vec<Option<OwnedFd>> = fds.into_iter().map(Some).collect();
    let mut take = |index: u32| fds.get_mut(index as usize).and_then(Option::take);
    let mut handles = Transits::new();
    handles
        .try_reserve_exact(records.len())
        .map_err(|_| "out of memory for a message's handles")?;
    for record in records {
        let transit = match *record {
            Record::Channel {
                rights,
                fd,
                pending,
                koid,
                related,
            } => {
                let fd = take(fd).ok_or("a descriptor went missing")?;
                let pending = match pending {
                    Some(index) => Some(take(index).ok_or("a descriptor went missing")?),
                    None => None,
                };
                if !check_seqpacket(&fd) || pending.as_ref().is_some_and(|p| !check_seqpacket(p)) {
                    return Err("a channel record's descriptor is not a seqpacket socket");
                }
                let pair = ChannelPair::linked(node, fd, pending, [koid, related])
                    .map_err(|_| "out of resources for a received channel")?;
                let end = End {
                    object: try_arc(Object::Channel(pair)).map_err(|_| "out of memory")?,
                    side: Side::A,
                };
                // A handle never has more than its kind's default rights
                // (rights only shrink): the sender cannot add any.
                Transit::counted(end, rights & Rights::CHANNEL_DEFAULT)
            }
            Record::Socket {
                rights,
                fd,
                side,
                slot,
                generation,
            } => {
                let fd = take(fd).ok_or("a descriptor went missing")?;
                let side = if side == 0 { Side::A } else { Side::B };
                let object = SocketPair::import(node, fd, side, slot as usize, generation)?;
                Transit::counted(End { object, side }, rights & Rights::SOCKET_DEFAULT)
            }
        };
        handles.push(transit);
    }
    let mut message_bytes = Bytes::new();
    message_bytes
        .try_reserve_exact(bytes.len())
        .map_err(|_| "out of memory for a message")?;
    message_bytes.extend_from_slice(bytes);
    Ok(Message {
        bytes: message_bytes,
        handles,
    })
}

/// A queued message could not follow its end to another process.
pub(crate) fn lost() {
    static SAID: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !SAID.swap(true, core::sync::atomic::Ordering::Relaxed) {
        eprintln!(
            "libmagenta: a message queued at a channel end could not follow it to another \
             process (out of descriptors or memory, or a handle that cannot cross); it was \
             destroyed"
        );
    }
}

//! Channel links: a channel whose ends are in two processes, over an
//! `AF_UNIX` `SOCK_SEQPACKET` socket.
//!
//! Each process holds a [`ChannelPair`] of which one end (the link's
//! `local` side) has its handles, and the other stands for the end in the
//! other process. A message written at the local end becomes one frame
//! ([`super::wire`]) on the socket, its handles turned into records and
//! descriptors ([`super::transfer`]); the poller reads frames arriving on
//! the socket and queues them at the local end as if the other end had
//! written them here. When the socket hangs up (the other process closed
//! its end, or died), the other end is closed: `PEER_CLOSED`, with the
//! messages already queued still readable.
//!
//! # Sending
//!
//! A write sends its frame at once when the socket has room (no thread
//! hand-off, no copy but the kernel's). When it has none, the frame waits
//! in the link's outbox and the poller sends it when the socket drains
//! (`EPOLLOUT`): a write never blocks and never fails for lack of room,
//! as the specification asks; later frames queue behind it, so order holds.
//!
//! # Moving an end on
//!
//! An end whose peer is in another process may itself be sent to a third.
//! Its socket goes along. If messages are queued at it (read here but not
//! yet by the program) or wait in its outbox, they must come first: the
//! record then carries a second socket, the *pending stream*, on which
//! this process writes the queued messages (and, once its outbox is
//! flushed into the link, closes it). The receiver reads the pending stream
//! to its end before it reads the link, and sends nothing on the link
//! before then ([`Handover`]).
//!
//! # Socket handles in frames nobody reads
//!
//! A socket handle in a frame is counted in a reserved slot of its
//! segment ([`Reservation`]) until the receiver takes it over, which its
//! poller does as the frame arrives. A frame can also die unread, in the
//! receiving socket's queue, when the other end closes or its process dies
//! first (a child that exits before taking its startup handles; a stopped
//! process killed). The kernel then closes the frame's descriptors, but
//! nothing would uncount the handle, and its peer would never see
//! `PEER_CLOSED`. So the sender keeps the reservations of what it sent on
//! the link's socket: when the link hangs up, those not taken are
//! released (closed). When this end closes while some wait, a copy of the
//! socket, shut for writing, stays with the poller until the other end
//! closes too ([`Handover`]). A reservation carries its slot's generation,
//! so releasing one that was taken, and the slot since reserved again,
//! does nothing.
//!
//! Frames forwarded on pending streams, and frames sent on an end that
//! then moved on, are left to their receivers.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::collections::VecDeque;
use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use mx_core::Status;
use rustix::net::{
    self, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::node::{Node, Token};
use super::transfer::Reservation;
use super::wire::{self, Frame, MAX_FDS, MAX_FRAME};
use crate::object::channel::Message;
use crate::object::ChannelPair;
use crate::sync::{Arc, Mutex};

/// The link is up.
const OPEN: u32 = 0;
/// The other process closed its end (or died): nothing more arrives.
const HUNG_UP: u32 = 1;
/// The other process broke the protocol; the link was shut.
const BROKEN: u32 = 2;
/// This end was sent on to another process; its socket went with it.
const MOVED: u32 = 3;

/// A frame ready to go: its bytes and the descriptors it carries.
#[derive(Debug, Default)]
pub(crate) struct OutFrame {
    pub(crate) bytes: Vec<u8>,
    pub(crate) fds: Vec<OwnedFd>,
    /// The socket handles it carries, counted in their reservations: a
    /// frame dropped unsent releases them (they close, as the handles of a
    /// destroyed message do); a sent one lets them go to the receiver.
    pub(crate) reservations: Vec<super::transfer::Reservation>,
}

impl OutFrame {
    /// The frame went out: its receiver takes its handles over.
    fn sent(mut self) {
        self.reservations.clear();
    }
}

impl Drop for OutFrame {
    fn drop(&mut self) {
        for reservation in self.reservations.drain(..) {
            reservation.release();
        }
    }
}

/// What waits in an outbox: a frame, or a message not yet encoded (one
/// that was queued at an end before it left, encoded when it is its turn,
/// outside the locks of the end it came from).
#[derive(Debug)]
pub(crate) enum Outgoing {
    Frame(OutFrame),
    Message(Message),
}

/// One end's link to the other process.
#[derive(Debug)]
pub(crate) struct Link {
    /// The side of the pair whose handles are in this process.
    pub(crate) local: mx_core::Side,
    fd: OwnedFd,
    /// The poller's registration (set once registered).
    token: AtomicU64,
    state: AtomicU32,
    /// Frames waiting for room in the socket, oldest first.
    out: Mutex<VecDeque<Outgoing>>,
    /// Held while frames are read from the socket (by the poller) or while
    /// the end is being sent on (which stops the reading).
    rx: Mutex<Rx>,
    /// Whether a violation was reported already.
    reported: core::sync::atomic::AtomicBool,
    /// The socket handles of frames sent on the socket that the other
    /// process may not have taken yet: if it closes its end (or dies)
    /// first, the frames die unread, and these are released ([`Link::close`]
    /// keeps watching for that once this end is closed).
    reserved: Mutex<Vec<Reservation>>,
}

/// The reading side of a link.
#[derive(Debug, Default)]
pub(crate) struct Rx {
    /// A stream of messages to read before the link (see the module docs),
    /// and its registration.
    pending: Option<(OwnedFd, Token)>,
}

impl Link {
    /// A link over `fd` for the end `local`, with `first` to send before
    /// anything written later.
    pub(crate) fn new(local: mx_core::Side, fd: OwnedFd, first: VecDeque<Outgoing>) -> Link {
        Link {
            local,
            fd,
            token: AtomicU64::new(u64::MAX),
            state: AtomicU32::new(OPEN),
            out: Mutex::new(first),
            rx: Mutex::new(Rx::default()),
            reported: core::sync::atomic::AtomicBool::new(false),
            reserved: Mutex::new(Vec::new()),
        }
    }

    /// `frame` went out on the link's socket: its reservations are kept
    /// until the other process takes them or its end closes.
    fn track(&self, mut frame: OutFrame) {
        if !frame.reservations.is_empty() {
            let mut reserved = self.reserved.lock();
            keep_pending(&mut reserved, &mut frame.reservations);
        }
        frame.sent();
    }

    /// The other end closed (or died): what it did not take of the frames
    /// sent to it died with it, and their handles close.
    fn release_reserved(&self) {
        let reserved = core::mem::take(&mut *self.reserved.lock());
        for reservation in reserved {
            reservation.release();
        }
    }

    /// The socket.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Whether the other end is (as far as this process knows) still there.
    pub(crate) fn is_open(&self) -> bool {
        self.state.load(Ordering::Acquire) == OPEN
    }

    /// Whether this end was sent on.
    pub(crate) fn is_moved(&self) -> bool {
        self.state.load(Ordering::Acquire) == MOVED
    }

    /// Starts reading: registers with the poller, reading the pending
    /// stream first if there is one.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub(crate) fn start(
        &self,
        node: &Node,
        pair: &Arc<ChannelPair>,
        pending: Option<OwnedFd>,
    ) -> Result<(), Status> {
        let mut rx = self.rx.lock();
        if let Some(pending) = pending {
            let token = node.add_link(pending.as_fd(), pair)?;
            rx.pending = Some((pending, token));
            // The link is registered once the pending stream ends.
            return Ok(());
        }
        drop(rx);
        let token = node.add_link(self.fd.as_fd(), pair)?;
        self.token.store(token, Ordering::Release);
        Ok(())
    }

    /// Sends `frame`, or queues it behind the frames waiting already.
    /// Returns `false` if the other end is gone (the frame is dropped, as a
    /// message written just before its reader closed would be).
    pub(crate) fn send(&self, node: &Node, frame: OutFrame) -> bool {
        if !self.is_open() {
            return false;
        }
        let mut out = self.out.lock();
        if out.is_empty() && self.pending_done() {
            match send_frame(self.fd.as_fd(), &frame) {
                Sent::Done => {
                    self.track(frame);
                    return true;
                }
                Sent::Full => {}
                Sent::Gone => {
                    drop(out);
                    return false;
                }
            }
        }
        if out.try_reserve(1).is_err() {
            // Out of memory for the queue entry: the frame is lost, as if
            // the other end had closed; say so once.
            self.report("out of memory for a frame to send");
            return false;
        }
        out.push_back(Outgoing::Frame(frame));
        let token = self.token.load(Ordering::Acquire);
        if token != u64::MAX {
            node.want_out(self.fd.as_fd(), token, true);
        }
        true
    }

    /// Whether the pending stream (if this end arrived with one) is done,
    /// so that frames may go out on the link.
    fn pending_done(&self) -> bool {
        self.token.load(Ordering::Acquire) != u64::MAX
    }

    /// Sends what waits in the outbox while the socket takes it (once the
    /// link is watched: before, frames wait for the pending stream).
    pub(crate) fn flush(&self, node: &Node) {
        let token = self.token.load(Ordering::Acquire);
        if token == u64::MAX {
            return;
        }
        let mut out = self.out.lock();
        while let Some(next) = out.pop_front() {
            let frame = match next {
                Outgoing::Frame(frame) => frame,
                Outgoing::Message(message) => match super::transfer::export(node, message) {
                    Ok((mut frame, mut exported)) => {
                        exported.hand_over_sockets(node, &mut frame);
                        exported.commit(node);
                        frame
                    }
                    Err((_, message)) => {
                        crate::object::channel::bury(Some(message));
                        super::transfer::lost();
                        continue;
                    }
                },
            };
            match send_frame(self.fd.as_fd(), &frame) {
                Sent::Done => self.track(frame),
                Sent::Full => {
                    out.push_front(Outgoing::Frame(frame));
                    node.want_out(self.fd.as_fd(), token, true);
                    return;
                }
                Sent::Gone => {
                    out.clear();
                    break;
                }
            }
        }
        node.want_out(self.fd.as_fd(), token, false);
    }

    /// Reports a violation of the protocol (once per link) and shuts it.
    pub(crate) fn report(&self, what: &str) {
        if !self.reported.swap(true, Ordering::AcqRel) {
            eprintln!("libmagenta: a channel to another process was closed: {what}");
        }
        self.state.store(BROKEN, Ordering::Release);
        let _ = net::shutdown(&self.fd, net::Shutdown::Both);
    }

    /// The other end hung up.
    fn hung_up(&self) {
        let _ = self
            .state
            .compare_exchange(OPEN, HUNG_UP, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Closes the link for good: the local end's last handle is gone.
    pub(crate) fn close(&self, node: Option<&Node>) {
        let moved = self.is_moved();
        let token = self.token.swap(u64::MAX, Ordering::AcqRel);
        if let Some(node) = node {
            if token != u64::MAX {
                node.remove(Some(self.fd.as_fd()), token);
            }
            let mut rx = self.rx.lock();
            if let Some((fd, token)) = rx.pending.take() {
                node.remove(Some(fd.as_fd()), token);
            }
        }
        if moved {
            return;
        }
        let was_open = self.state.swap(HUNG_UP, Ordering::AcqRel) == OPEN;
        let outbox = core::mem::take(&mut *self.out.lock());
        let mut reserved = core::mem::take(&mut *self.reserved.lock());
        reserved.retain(Reservation::is_pending);
        if !was_open {
            // The other end is gone: so is what it did not take.
            for reservation in reserved.drain(..) {
                reservation.release();
            }
        }
        if was_open && !(outbox.is_empty() && reserved.is_empty()) {
            // Written before the close: the other end still gets it. A
            // copy of the socket stays with the poller until it is sent;
            // the other end sees the hang-up after the last frame. Then,
            // while socket handles sent on it wait in the other end's
            // queue, the copy stays until that end closes too, so that
            // they close if it never reads them (a child that exits
            // without taking its startup handles).
            if let (Some(node), Ok(socket)) = (node, self.dup()) {
                let mut job = Box::new(Handover::closing(socket, outbox, reserved));
                if !job.advance(node) {
                    let _ = node.add_handover(job);
                }
                return;
            }
        }
        let _ = net::shutdown(&self.fd, net::Shutdown::Both);
    }

    /// Holds the reading side.
    pub(crate) fn hold(&self) -> mx_shm::sync::MutexGuard<'_, Rx> {
        self.rx.lock()
    }

    /// Stops the poller from reading (this end is about to be sent on);
    /// [`Link::resume`] undoes it. Waits for a read in progress.
    pub(crate) fn pause(&self) {
        let _rx = self.rx.lock();
        let _ = self
            .state
            .compare_exchange(OPEN, MOVED, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Undoes [`Link::pause`].
    pub(crate) fn resume(&self) {
        let _ = self
            .state
            .compare_exchange(MOVED, OPEN, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Whether frames wait in the outbox, or a pending stream is unread.
    pub(crate) fn has_backlog(&self) -> bool {
        !self.out.lock().is_empty() || self.rx.lock().pending.is_some()
    }

    /// Marks the end sent on and stops watching its socket, with the
    /// reading held. Returns the frames of the outbox (to be flushed into
    /// the socket before the new holder writes) and the pending stream, if
    /// this end had one still (its unread part goes on too).
    pub(crate) fn moved(&self, node: &Node, rx: &mut Rx) -> (VecDeque<Outgoing>, Option<OwnedFd>) {
        self.state.store(MOVED, Ordering::Release);
        let token = self.token.swap(u64::MAX, Ordering::AcqRel);
        if token != u64::MAX {
            node.remove(Some(self.fd.as_fd()), token);
        }
        let pending = rx.pending.take().map(|(fd, token)| {
            node.remove(Some(fd.as_fd()), token);
            fd
        });
        let frames = core::mem::take(&mut *self.out.lock());
        // Frames sent are the new holder's to read: what they carry is no
        // longer this process's to release.
        drop(core::mem::take(&mut *self.reserved.lock()));
        (frames, pending)
    }

    /// A duplicate of the socket, to send on.
    ///
    /// # Errors
    /// `NO_RESOURCES`.
    pub(crate) fn dup(&self) -> Result<OwnedFd, Status> {
        rustix::io::fcntl_dupfd_cloexec(&self.fd, 0).map_err(super::node::fd_status)
    }
}

/// How a send went.
enum Sent {
    Done,
    /// No room now (or the kernel is short of memory): try again later.
    Full,
    /// The other end is gone.
    Gone,
}

/// Sends one frame, whole (a `SOCK_SEQPACKET` datagram is never split).
fn send_frame(fd: BorrowedFd<'_>, frame: &OutFrame) -> Sent {
    let fds: Vec<BorrowedFd<'_>> = frame.fds.iter().map(AsFd::as_fd).collect();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Sent::Gone;
    }
    loop {
        match net::sendmsg(
            fd,
            &[IoSlice::new(&frame.bytes)],
            &mut control,
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        ) {
            Ok(_) => return Sent::Done,
            Err(rustix::io::Errno::INTR) => {}
            Err(
                rustix::io::Errno::AGAIN | rustix::io::Errno::NOBUFS | rustix::io::Errno::NOMEM,
            ) => return Sent::Full,
            Err(_) => return Sent::Gone,
        }
    }
}

/// The poller's buffers for reading frames.
pub(crate) struct Scratch {
    bytes: Vec<u8>,
    control: Vec<MaybeUninit<u8>>,
}

impl core::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scratch").finish_non_exhaustive()
    }
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        Scratch {
            // One more byte than the largest frame, so that a longer one
            // shows as truncated.
            bytes: vec![0u8; MAX_FRAME + 1],
            control: vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))],
        }
    }
}

/// What reading one frame gave.
pub(crate) enum Received {
    /// A frame was handled.
    Frame,
    /// Nothing more for now.
    Empty,
    /// The other end closed it (end of file).
    Closed,
}

/// Reads and handles one frame from `fd` (the link's socket or its pending
/// stream), delivering it to `pair`.
pub(crate) fn receive_one(
    node: &Node,
    pair: &Arc<ChannelPair>,
    link: &Link,
    fd: BorrowedFd<'_>,
    scratch: &mut Scratch,
) -> Received {
    let mut control = RecvAncillaryBuffer::new(&mut scratch.control);
    let result = loop {
        match net::recvmsg(
            fd,
            &mut [IoSliceMut::new(&mut scratch.bytes)],
            &mut control,
            RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
        ) {
            Err(rustix::io::Errno::INTR) => continue,
            other => break other,
        }
    };
    let msg = match result {
        Ok(msg) => msg,
        Err(rustix::io::Errno::AGAIN) => return Received::Empty,
        Err(_) => return Received::Closed,
    };
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            for fd in received {
                if fds.try_reserve(1).is_ok() {
                    fds.push(fd);
                }
            }
        }
    }
    if msg.bytes == 0 && fds.is_empty() {
        return Received::Closed;
    }
    if msg.flags.intersects(ReturnFlags::CTRUNC) {
        link.report("descriptors were lost in transit (the receiver's limit?)");
        return Received::Closed;
    }
    if msg.flags.intersects(ReturnFlags::TRUNC) || msg.bytes > MAX_FRAME {
        link.report("a frame was longer than any frame can be");
        return Received::Closed;
    }
    match wire::decode(&scratch.bytes[..msg.bytes], fds.len()) {
        Err(violation) => {
            link.report(violation.0);
            Received::Closed
        }
        Ok(Frame::Signal { clear, set }) => {
            pair.remote_signal(clear, set);
            Received::Frame
        }
        Ok(Frame::Message { bytes, handles }) => {
            match super::transfer::import(node, bytes, &handles, fds) {
                Ok(message) => {
                    pair.deliver_remote(message);
                    Received::Frame
                }
                Err(problem) => {
                    link.report(problem);
                    Received::Closed
                }
            }
        }
    }
}

impl ChannelPair {
    /// The poller: frames arrived on this pair's link (or its pending
    /// stream), or it hung up.
    pub(crate) fn link_receive(
        pair: &Arc<ChannelPair>,
        node: &Node,
        scratch: &mut Scratch,
        hangup: bool,
    ) {
        let this = &**pair;
        let Some(link) = this.link() else { return };
        let mut rx = link.hold();
        if link.is_moved() {
            return;
        }
        // A handful per event, so one busy link does not starve the others
        // (epoll is level-triggered: the rest comes next round).
        for _ in 0..64 {
            let reading_pending = rx.pending.is_some();
            let outcome = match &rx.pending {
                Some((fd, _)) => receive_one(node, pair, link, fd.as_fd(), scratch),
                None => receive_one(node, pair, link, link.fd(), scratch),
            };
            match outcome {
                Received::Frame => continue,
                Received::Empty if !hangup => return,
                Received::Empty | Received::Closed if reading_pending => {
                    // The pending stream ended: the link proper from now on.
                    if let Some((fd, token)) = rx.pending.take() {
                        node.remove(Some(fd.as_fd()), token);
                    }
                    match node.add_link(link.fd(), pair) {
                        Ok(token) => link.token.store(token, Ordering::Release),
                        Err(_) => {
                            link.report("out of resources to watch a channel");
                            this.remote_hung_up();
                            return;
                        }
                    }
                    // Frames written meanwhile go out now.
                    link.flush(node);
                    return;
                }
                Received::Empty | Received::Closed => {
                    let token = link.token.swap(u64::MAX, Ordering::AcqRel);
                    if token != u64::MAX {
                        node.remove(Some(link.fd()), token);
                    }
                    link.hung_up();
                    drop(rx);
                    link.release_reserved();
                    this.remote_hung_up();
                    return;
                }
            }
        }
    }

    /// The poller: the link's socket has room again.
    pub(crate) fn link_flush(&self, node: &Node) {
        if let Some(link) = self.link() {
            link.flush(node);
        }
    }
}

/// Work the poller finishes for an end that left or closed.
///
/// - Sent on with messages still to forward (see the module docs)
///   ([`Handover::moving`]): write `inbox` frames into `pending`, flush
///   `outbox` frames into `link`, then close both.
/// - Closed with frames still in its outbox, or with socket handles sent
///   that the other end may not have taken ([`Handover::closing`]): flush
///   the outbox, then, while any such handle waits, keep the socket
///   (shut for writing, so the other end reads the hang-up after the last
///   frame) until the other end closes too, and release what it never took.
#[derive(Debug)]
pub(crate) struct Handover {
    /// The link's socket (a duplicate), for the outbox.
    link: OwnedFd,
    outbox: VecDeque<Outgoing>,
    /// The pending stream's writing end, for the messages queued here.
    pending: Option<OwnedFd>,
    inbox: VecDeque<Outgoing>,
    /// This end's own pending stream, if it had not been read to its end:
    /// what remains of it is relayed after `inbox`.
    relay: Option<OwnedFd>,
    /// For a closed end: the reservations of what it sent on `link`.
    reserved: Option<Vec<Reservation>>,
    /// Waiting for the other end to close (the outbox is flushed).
    lingering: bool,
}

impl Handover {
    /// The work for an end sent on to another process.
    pub(crate) fn moving(
        link: OwnedFd,
        outbox: VecDeque<Outgoing>,
        pending: OwnedFd,
        inbox: VecDeque<Outgoing>,
        relay: Option<OwnedFd>,
    ) -> Handover {
        Handover {
            link,
            outbox,
            pending: Some(pending),
            inbox,
            relay,
            reserved: None,
            lingering: false,
        }
    }

    /// The work for an end closed here.
    fn closing(link: OwnedFd, outbox: VecDeque<Outgoing>, reserved: Vec<Reservation>) -> Handover {
        Handover {
            link,
            outbox,
            pending: None,
            inbox: VecDeque::new(),
            relay: None,
            reserved: Some(reserved),
            lingering: false,
        }
    }

    /// Sends what the sockets take; whether everything is done.
    pub(crate) fn advance(&mut self, node: &Node) -> bool {
        if self.lingering {
            return self.linger();
        }
        if !drain(
            node,
            self.link.as_fd(),
            &mut self.outbox,
            self.reserved.as_mut(),
        ) {
            return false;
        }
        if let Some(reserved) = &mut self.reserved {
            reserved.retain(Reservation::is_pending);
            if reserved.is_empty() {
                return true;
            }
            let _ = net::shutdown(&self.link, net::Shutdown::Write);
            self.lingering = true;
            return self.linger();
        }
        let Some(pending) = &self.pending else {
            return true;
        };
        if !drain(node, pending.as_fd(), &mut self.inbox, None) {
            return false;
        }
        while let Some(relay) = &self.relay {
            match relay_one(relay.as_fd()) {
                Relayed::Frame(frame) => {
                    self.inbox.push_back(Outgoing::Frame(frame));
                    if !drain(node, pending.as_fd(), &mut self.inbox, None) {
                        return false;
                    }
                }
                Relayed::Wait => return false,
                Relayed::Done => self.relay = None,
            }
        }
        true
    }

    /// A closed end's socket, kept while handles sent on it wait: drops
    /// what the other end still sends (its end of the channel is closed
    /// here: a write meeting a close, as in a queue destroyed), and once
    /// that end closes or stops writing (its end is closed too: it reads
    /// nothing more), releases what it did not take. Whether done.
    fn linger(&mut self) -> bool {
        loop {
            // No room for descriptors: the kernel closes those a frame
            // carries.
            match net::recv(&self.link, &mut [0u8; 1], net::RecvFlags::DONTWAIT) {
                Ok((0, _)) => break,
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::AGAIN) => {
                    let reserved = self.reserved.get_or_insert_with(Vec::new);
                    reserved.retain(Reservation::is_pending);
                    return reserved.is_empty();
                }
                Err(_) => break,
            }
        }
        for reservation in self.reserved.take().unwrap_or_default() {
            reservation.release();
        }
        true
    }

    /// What the job waits for next: the socket it is stuck on, and whether
    /// for room (else for data).
    pub(crate) fn waits_on(&self) -> (BorrowedFd<'_>, bool) {
        if self.lingering {
            return (self.link.as_fd(), false);
        }
        match (&self.pending, &self.relay) {
            (Some(pending), _) if self.outbox.is_empty() && !self.inbox.is_empty() => {
                (pending.as_fd(), true)
            }
            (Some(_), Some(relay)) if self.outbox.is_empty() => (relay.as_fd(), false),
            _ => (self.link.as_fd(), true),
        }
    }
}

/// Adds the reservations of `sent` still pending to `kept`, dropping those
/// of `kept` that are not (their receiver took them). If there is no memory
/// for them, they are left to their receiver (not released).
fn keep_pending(kept: &mut Vec<Reservation>, sent: &mut Vec<Reservation>) {
    kept.retain(Reservation::is_pending);
    if kept.try_reserve(sent.len()).is_ok() {
        kept.append(sent);
    }
}

/// Sends the queue's frames on `fd` while it takes them; whether all went.
/// With `kept`, the reservations of the frames sent are kept there.
fn drain(
    node: &Node,
    fd: BorrowedFd<'_>,
    queue: &mut VecDeque<Outgoing>,
    mut kept: Option<&mut Vec<Reservation>>,
) -> bool {
    while let Some(next) = queue.pop_front() {
        let mut frame = match next {
            Outgoing::Frame(frame) => frame,
            Outgoing::Message(message) => match super::transfer::export(node, message) {
                Ok((mut frame, mut exported)) => {
                    exported.hand_over_sockets(node, &mut frame);
                    exported.commit(node);
                    frame
                }
                Err((_, message)) => {
                    crate::object::channel::bury(Some(message));
                    super::transfer::lost();
                    continue;
                }
            },
        };
        match send_frame(fd, &frame) {
            Sent::Done => {
                if let Some(kept) = kept.as_deref_mut() {
                    keep_pending(kept, &mut frame.reservations);
                }
                frame.sent();
            }
            Sent::Full => {
                queue.push_front(Outgoing::Frame(frame));
                return false;
            }
            Sent::Gone => queue.clear(),
        }
    }
    true
}

enum Relayed {
    Frame(OutFrame),
    Wait,
    Done,
}

/// Takes one frame, undecoded, from `from`.
fn relay_one(from: BorrowedFd<'_>) -> Relayed {
    let mut scratch = Scratch::new();
    let mut control = RecvAncillaryBuffer::new(&mut scratch.control);
    let msg = match net::recvmsg(
        from,
        &mut [IoSliceMut::new(&mut scratch.bytes)],
        &mut control,
        RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
    ) {
        Ok(msg) => msg,
        Err(rustix::io::Errno::AGAIN) => return Relayed::Wait,
        Err(_) => return Relayed::Done,
    };
    let mut frame = OutFrame::default();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            frame.fds.extend(received);
        }
    }
    if msg.bytes == 0 && frame.fds.is_empty() {
        return Relayed::Done;
    }
    frame
        .bytes
        .extend_from_slice(&scratch.bytes[..msg.bytes.min(MAX_FRAME)]);
    Relayed::Frame(frame)
}

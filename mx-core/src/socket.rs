//! The socket state machine: both ends of a pair, their buffers, their signals.
//!
//! [`SocketCore`] holds everything about a socket pair that must change
//! atomically, and nothing else: no lock, no waiters, no handles. The object
//! layer keeps one `SocketCore` under one lock per pair, so both ends' signals
//! always change together.
//!
//! Signals are *derived*: [`SocketCore::signals`] computes them from the
//! state, so a reader that sees `READABLE` finds data, and a writer that sees
//! `WRITABLE` cleared finds the buffer full, by construction. (The object
//! layer keeps the last computed value to tell what changed.)
//!
//! Each end owns an *inbox*: the bytes its peer wrote and it will read.
//! Capacity counts payload bytes only; datagram framing (a 1-3 byte length
//! before each datagram) is stored but not counted.
//!
//! Large copies happen outside the lock in two steps: a writer
//! [`stage`](SocketCore::stage)s room, fills a segment unlocked and
//! [`commit`](SocketCore::commit)s it; a reader [`lend`](SocketCore::lend)s
//! bytes out, drains them unlocked and [`give_back`](SocketCore::give_back)s.
//! Staged bytes count against capacity, so the signals stay exact meanwhile.

use crate::storage::{Sink, Source, Storage};
use crate::{Side, Signals, Status};

/// Payload bytes each direction holds: Magenta's 128 buffers of 2,008 bytes.
pub const SOCKET_CAPACITY: usize = 257_024;

/// The longest datagram length header, in bytes.
const MAX_HEADER: usize = 3;

/// The signals a socket end may set with `object_signal`.
pub const SOCKET_USER_SIGNALS: Signals = Signals::USER_ALL;
const USER_SHIFT: u32 = 24;

#[derive(Debug, Default)]
struct Inbox<S> {
    /// Queued bytes: payload and datagram headers.
    bytes: S,
    /// Payload bytes queued (what reads return and capacity counts).
    payload: u32,
    /// Payload bytes reserved by writes copying outside the lock.
    staged: u32,
}

#[derive(Debug)]
struct End<S> {
    /// Handles naming this end; 0 once the end is closed.
    handles: u32,
    /// This end half-closed its writing.
    write_shut: bool,
    /// User signals set on this end (`MX_USER_SIGNAL_*`, shifted down by 24
    /// to fit a byte: the pair must stay small).
    user: u8,
    /// Bytes the peer wrote, read at this end.
    inbox: Inbox<S>,
}

/// What one read will do, decided under the lock by [`SocketCore::read_plan`].
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ReadPlan {
    /// Framing bytes before the payload.
    pub skip: usize,
    /// Bytes copied to the caller (the return value of the read).
    pub copy: usize,
    /// Queued bytes consumed: framing, copied bytes, and discarded rest.
    pub consume: usize,
    /// Payload bytes consumed.
    pub payload: usize,
}

/// A datagram's length header followed by its payload, as one [`Source`].
#[derive(Debug)]
pub struct Framed<'a, T: ?Sized> {
    header: [u8; MAX_HEADER],
    header_len: usize,
    payload: &'a T,
    payload_len: usize,
}

impl<'a, T: Source + ?Sized> Framed<'a, T> {
    /// The first `len` bytes of `payload`, with a length header when
    /// `datagram`.
    pub fn new(datagram: bool, payload: &'a T, len: usize) -> Framed<'a, T> {
        let mut header = [0; MAX_HEADER];
        let header_len = if datagram {
            encode_len(len, &mut header)
        } else {
            0
        };
        Framed {
            header,
            header_len,
            payload,
            payload_len: len,
        }
    }
}

impl<T: Source + ?Sized> Source for Framed<'_, T> {
    fn len(&self) -> usize {
        self.header_len + self.payload_len
    }

    fn append_to(
        &self,
        offset: usize,
        len: usize,
        dst: &mut alloc::vec::Vec<u8>,
    ) -> Result<(), Status> {
        let mut offset = offset;
        let mut len = len;
        if offset < self.header_len {
            let n = (self.header_len - offset).min(len);
            self.header[offset..offset + n].append_to(0, n, dst)?;
            offset += n;
            len -= n;
        }
        if len > 0 {
            self.payload.append_to(offset - self.header_len, len, dst)?;
        }
        Ok(())
    }
}

/// Writes `len` as little-endian base-128 into `out`; returns the byte count.
fn encode_len(mut len: usize, out: &mut [u8; MAX_HEADER]) -> usize {
    debug_assert!(len <= SOCKET_CAPACITY);
    let mut i = 0;
    loop {
        let byte = (len & 0x7f) as u8;
        len >>= 7;
        if len == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

/// Reads a header written by [`encode_len`]: `(header bytes, length)`.
fn decode_len(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0;
    for (i, &byte) in bytes.iter().enumerate().take(MAX_HEADER) {
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((i + 1, len));
        }
    }
    None
}

/// Both ends of a socket pair.
#[derive(Debug)]
pub struct SocketCore<S> {
    datagram: bool,
    ends: [End<S>; 2],
}

impl<S: Storage> SocketCore<S> {
    /// A new pair: one handle per end, both `WRITABLE | LAST_HANDLE`; an
    /// unused pair allocates nothing.
    pub fn new(datagram: bool) -> SocketCore<S> {
        let end = || End {
            handles: 1,
            write_shut: false,
            user: 0,
            inbox: Inbox::default(),
        };
        SocketCore {
            datagram,
            ends: [end(), end()],
        }
    }

    fn end(&self, side: Side) -> &End<S> {
        &self.ends[side.index()]
    }

    fn end_mut(&mut self, side: Side) -> &mut End<S> {
        &mut self.ends[side.index()]
    }

    /// Whether this is a datagram socket.
    pub fn is_datagram(&self) -> bool {
        self.datagram
    }

    /// Whether `side` still has handles.
    pub fn is_open(&self, side: Side) -> bool {
        self.end(side).handles > 0
    }

    /// Handles naming `side`.
    pub fn handles(&self, side: Side) -> u32 {
        self.end(side).handles
    }

    /// Payload bytes `side` may still write before its peer's inbox is full.
    pub fn room(&self, side: Side) -> usize {
        let inbox = &self.end(side.peer()).inbox;
        SOCKET_CAPACITY - (inbox.payload + inbox.staged) as usize
    }

    /// Physical bytes (payload and framing) queued for `side` to read.
    pub fn queued_bytes(&self, side: Side) -> usize {
        self.end(side).inbox.bytes.len()
    }

    /// The signals of `side`, computed from the state.
    pub fn signals(&self, side: Side) -> Signals {
        let this = self.end(side);
        let peer = self.end(side.peer());
        let mut signals = Signals::from_bits_retain(u32::from(this.user) << USER_SHIFT);
        if this.inbox.payload > 0 {
            signals |= Signals::READABLE;
        }
        if self.peer_done_writing(side) {
            signals |= Signals::PEER_CLOSED;
        }
        if !this.write_shut && peer.handles > 0 && self.room(side) > 0 {
            signals |= Signals::WRITABLE;
        }
        if this.handles == 1 {
            signals |= Signals::LAST_HANDLE;
        }
        signals
    }

    /// The peer of `side` is closed, or half-closed with nothing in flight.
    fn peer_done_writing(&self, side: Side) -> bool {
        let peer = self.end(side.peer());
        peer.handles == 0 || (peer.write_shut && self.end(side).inbox.staged == 0)
    }

    /// A handle to `side` was created.
    pub fn add_handle(&mut self, side: Side) {
        debug_assert!(self.is_open(side), "new handle to a closed end");
        self.end_mut(side).handles += 1;
    }

    /// A handle to `side` was closed. Closing the last one drops the end's
    /// inbox; returns whether it was the last.
    pub fn remove_handle(&mut self, side: Side) -> bool {
        let end = self.end_mut(side);
        debug_assert!(end.handles > 0);
        end.handles -= 1;
        if end.handles > 0 {
            return false;
        }
        end.inbox.bytes.clear();
        end.inbox.payload = 0;
        true
    }

    /// `mx_socket_write` checks after the handle lookup, in the specified
    /// order. Returns how many payload bytes a write of `len` moves: 0 for
    /// `len == 0`, possibly fewer than `len` on a stream.
    ///
    /// # Errors
    /// `PEER_CLOSED`, `BAD_STATE`, `INVALID_ARGS` (`len` over 32 bits),
    /// `SHOULD_WAIT` (full, or a datagram that does not fit).
    pub fn write_amount(&self, side: Side, len: usize) -> Result<usize, Status> {
        if !self.is_open(side.peer()) {
            return Err(Status::PEER_CLOSED);
        }
        if self.end(side).write_shut {
            return Err(Status::BAD_STATE);
        }
        if len == 0 {
            return Ok(0);
        }
        if u32::try_from(len).is_err() {
            return Err(Status::INVALID_ARGS);
        }
        let room = self.room(side);
        if room == 0 || (self.datagram && len > room) {
            return Err(Status::SHOULD_WAIT);
        }
        Ok(len.min(room))
    }

    /// Writes `len` bytes of `src` under the lock, `len` from
    /// [`SocketCore::write_amount`].
    ///
    /// # Errors
    /// `NO_MEMORY` or the source's fault; nothing is written then.
    pub fn write(
        &mut self,
        side: Side,
        src: &(impl Source + ?Sized),
        len: usize,
    ) -> Result<(), Status> {
        debug_assert!(len > 0 && len <= self.room(side));
        let framed = Framed::new(self.datagram, src, len);
        let inbox = &mut self.end_mut(side.peer()).inbox;
        inbox.bytes.push(&framed, 0, framed.len())?;
        inbox.payload += len as u32;
        Ok(())
    }

    /// Reserves room for `len` payload bytes that will be copied outside the
    /// lock and [`commit`](SocketCore::commit)ted.
    pub fn stage(&mut self, side: Side, len: usize) {
        debug_assert!(len > 0 && len <= self.room(side));
        self.end_mut(side.peer()).inbox.staged += len as u32;
    }

    /// Releases a reservation from [`SocketCore::stage`] whose copy failed.
    pub fn unstage(&mut self, side: Side, len: usize) {
        let inbox = &mut self.end_mut(side.peer()).inbox;
        debug_assert!(inbox.staged as usize >= len);
        inbox.staged -= len as u32;
    }

    /// Queues a segment holding `len` staged payload bytes (framed). If the
    /// reader is gone the bytes are dropped: the write happened before.
    ///
    /// # Errors
    /// `NO_MEMORY`; the reservation is released and nothing is written.
    pub fn commit(&mut self, side: Side, len: usize, segment: S::Segment) -> Result<(), Status> {
        self.unstage(side, len);
        let reader = self.end_mut(side.peer());
        if reader.handles == 0 {
            return Ok(());
        }
        reader.inbox.bytes.append(segment)?;
        reader.inbox.payload += len as u32;
        Ok(())
    }

    /// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE`.
    ///
    /// # Errors
    /// `PEER_CLOSED` if the peer is closed and `side` had not half-closed.
    pub fn half_close(&mut self, side: Side) -> Result<(), Status> {
        if self.end(side).write_shut {
            return Ok(());
        }
        if !self.is_open(side.peer()) {
            return Err(Status::PEER_CLOSED);
        }
        self.end_mut(side).write_shut = true;
        Ok(())
    }

    /// Payload bytes waiting at `side` (for datagrams, the sum of lengths).
    pub fn outstanding(&self, side: Side) -> usize {
        self.end(side).inbox.payload as usize
    }

    /// `mx_socket_read` checks after the handle lookup and the outstanding
    /// query: what a read of up to `size` bytes will do.
    ///
    /// # Errors
    /// `INVALID_ARGS` (`size` over 32 bits), `PEER_CLOSED` (empty and the peer
    /// is done writing), `SHOULD_WAIT` (empty).
    pub fn read_plan(&self, side: Side, size: usize) -> Result<ReadPlan, Status> {
        if u32::try_from(size).is_err() {
            return Err(Status::INVALID_ARGS);
        }
        let inbox = &self.end(side).inbox;
        if inbox.payload == 0 {
            return Err(if self.peer_done_writing(side) {
                Status::PEER_CLOSED
            } else {
                Status::SHOULD_WAIT
            });
        }
        if size == 0 {
            return Ok(ReadPlan {
                skip: 0,
                copy: 0,
                consume: 0,
                payload: 0,
            });
        }
        if !self.datagram {
            let n = size.min(inbox.payload as usize);
            return Ok(ReadPlan {
                skip: 0,
                copy: n,
                consume: n,
                payload: n,
            });
        }
        let mut header = [0u8; MAX_HEADER];
        let peek = inbox.bytes.peek(&mut header);
        let Some((skip, len)) = decode_len(&header[..peek]) else {
            debug_assert!(false, "corrupt datagram header");
            return Err(Status::INTERNAL);
        };
        Ok(ReadPlan {
            skip,
            copy: size.min(len),
            consume: skip + len,
            payload: len,
        })
    }

    /// Performs a read planned by [`SocketCore::read_plan`] under the lock.
    ///
    /// # Errors
    /// The sink's fault; nothing is consumed then.
    pub fn read(
        &mut self,
        side: Side,
        plan: ReadPlan,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<(), Status> {
        let inbox = &mut self.end_mut(side).inbox;
        inbox.bytes.copy_out(plan.skip, plan.copy, dst, 0)?;
        inbox.bytes.discard(plan.consume);
        inbox.payload -= plan.payload as u32;
        Ok(())
    }

    /// Lends the bytes of a planned read out for an unlocked copy. The caller
    /// serialises readers of `side` until [`SocketCore::give_back`].
    ///
    /// # Errors
    /// `NO_MEMORY`; nothing is lent.
    pub fn lend(&mut self, side: Side, plan: ReadPlan) -> Result<S::Segment, Status> {
        self.end_mut(side).inbox.bytes.split_front(plan.consume)
    }

    /// Copies a planned read out of a lent segment (no lock needed).
    ///
    /// # Errors
    /// The sink's fault.
    pub fn drain(
        plan: ReadPlan,
        segment: &S::Segment,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<(), Status> {
        S::drain_segment(segment, plan.skip, plan.copy, dst, 0)
    }

    /// Takes back a lent segment; the read is consumed if `done`, else
    /// (after a fault) nothing is.
    pub fn give_back(&mut self, side: Side, plan: ReadPlan, segment: S::Segment, done: bool) {
        let inbox = &mut self.end_mut(side).inbox;
        if done {
            inbox.bytes.put_front(segment, plan.consume);
            inbox.payload -= plan.payload as u32;
        } else {
            inbox.bytes.put_front(segment, 0);
        }
    }

    /// `mx_object_signal` on `side`: clears then sets user signals.
    ///
    /// # Errors
    /// `INVALID_ARGS` for bits other than user signals.
    pub fn signal(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        if !SOCKET_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        let end = self.end_mut(side);
        let user = Signals::from_bits_retain(u32::from(end.user) << USER_SHIFT);
        end.user = (((user - clear) | set).bits() >> USER_SHIFT) as u8;
        Ok(())
    }

    /// `mx_object_signal_peer` from `side`.
    ///
    /// # Errors
    /// `INVALID_ARGS` for bits other than user signals; `PEER_CLOSED`.
    pub fn signal_peer(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        if !SOCKET_USER_SIGNALS.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        if !self.is_open(side.peer()) {
            return Err(Status::PEER_CLOSED);
        }
        self.signal(side.peer(), clear, set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::ChunkQueue;
    use alloc::vec;
    use alloc::vec::Vec;

    type Core = SocketCore<ChunkQueue>;

    const W: Signals = Signals::WRITABLE;
    const R: Signals = Signals::READABLE;
    const P: Signals = Signals::PEER_CLOSED;
    const L: Signals = Signals::LAST_HANDLE;

    fn write(core: &mut Core, side: Side, data: &[u8]) -> Result<usize, Status> {
        let n = core.write_amount(side, data.len())?;
        if n > 0 {
            core.write(side, data, n)?;
        }
        Ok(n)
    }

    fn read(core: &mut Core, side: Side, size: usize) -> Result<Vec<u8>, Status> {
        let plan = core.read_plan(side, size)?;
        let mut out = vec![0; plan.copy];
        core.read(side, plan, &mut out[..])?;
        Ok(out)
    }

    #[test]
    fn header_round_trips() {
        for len in [0, 1, 127, 128, 16_383, 16_384, SOCKET_CAPACITY] {
            let mut h = [0; MAX_HEADER];
            let n = encode_len(len, &mut h);
            assert_eq!(decode_len(&h[..n]), Some((n, len)));
        }
    }

    #[test]
    fn new_pair_is_writable() {
        let core = Core::new(false);
        assert_eq!(core.signals(Side::A), W | L);
        assert_eq!(core.signals(Side::B), W | L);
    }

    #[test]
    fn stream_fill_and_drain() {
        let mut core = Core::new(false);
        let data = vec![7u8; SOCKET_CAPACITY + 10];
        assert_eq!(write(&mut core, Side::A, &data), Ok(SOCKET_CAPACITY));
        assert_eq!(core.signals(Side::A), L);
        assert_eq!(core.signals(Side::B), W | R | L);
        assert_eq!(write(&mut core, Side::A, &data), Err(Status::SHOULD_WAIT));
        assert_eq!(write(&mut core, Side::A, &[]), Ok(0));
        assert_eq!(read(&mut core, Side::B, 1).unwrap(), vec![7]);
        assert_eq!(core.signals(Side::A), W | L);
        assert_eq!(
            read(&mut core, Side::B, SOCKET_CAPACITY).unwrap().len(),
            SOCKET_CAPACITY - 1
        );
        assert_eq!(core.signals(Side::B), W | L);
        assert_eq!(read(&mut core, Side::B, 5), Err(Status::SHOULD_WAIT));
    }

    #[test]
    fn datagrams_keep_boundaries_and_truncate() {
        let mut core = Core::new(true);
        assert_eq!(write(&mut core, Side::A, b"hello"), Ok(5));
        assert_eq!(write(&mut core, Side::A, &[1u8; 300]), Ok(300));
        assert_eq!(core.outstanding(Side::B), 305);
        assert_eq!(read(&mut core, Side::B, 3).unwrap(), b"hel");
        assert_eq!(read(&mut core, Side::B, 1000).unwrap(), vec![1u8; 300]);
        assert_eq!(core.outstanding(Side::B), 0);
    }

    #[test]
    fn datagram_that_does_not_fit_writes_nothing() {
        let mut core = Core::new(true);
        let big = vec![0u8; SOCKET_CAPACITY - 10];
        assert_eq!(write(&mut core, Side::A, &big), Ok(big.len()));
        assert_eq!(
            write(&mut core, Side::A, &[0u8; 11]),
            Err(Status::SHOULD_WAIT)
        );
        assert_eq!(core.signals(Side::A), W | L, "still writable: not full");
        assert_eq!(write(&mut core, Side::A, &[0u8; 10]), Ok(10));
        assert_eq!(core.signals(Side::A), L);
    }

    #[test]
    fn half_close_then_peer_reads_rest() {
        let mut core = Core::new(false);
        write(&mut core, Side::A, b"abc").unwrap();
        core.half_close(Side::A).unwrap();
        assert_eq!(core.signals(Side::A), L);
        assert_eq!(core.signals(Side::B), W | R | P | L);
        assert_eq!(write(&mut core, Side::A, b"x"), Err(Status::BAD_STATE));
        assert_eq!(write(&mut core, Side::B, b"back"), Ok(4));
        assert_eq!(read(&mut core, Side::B, 10).unwrap(), b"abc");
        assert_eq!(read(&mut core, Side::B, 10), Err(Status::PEER_CLOSED));
        assert_eq!(read(&mut core, Side::A, 10).unwrap(), b"back");
    }

    #[test]
    fn staged_write_counts_against_capacity() {
        let mut core = Core::new(false);
        let n = core.write_amount(Side::A, SOCKET_CAPACITY).unwrap();
        core.stage(Side::A, n);
        assert_eq!(core.signals(Side::A), L, "full while staged");
        assert_eq!(core.write_amount(Side::A, 1), Err(Status::SHOULD_WAIT));
        assert_eq!(core.read_plan(Side::B, 1), Err(Status::SHOULD_WAIT));
        // Half-close while the copy is in flight: the reader must not see
        // PEER_CLOSED before the bytes.
        core.half_close(Side::A).unwrap();
        assert_eq!(core.read_plan(Side::B, 1), Err(Status::SHOULD_WAIT));
        assert!(!core.signals(Side::B).contains(P));
        let data = vec![3u8; n];
        let mut seg = ChunkQueue::new_segment(n).unwrap();
        ChunkQueue::fill_segment(&mut seg, &Framed::new(false, &data[..], n), 0, n).unwrap();
        core.commit(Side::A, n, seg).unwrap();
        assert_eq!(core.signals(Side::B), W | R | P | L);
        let plan = core.read_plan(Side::B, n).unwrap();
        let seg = core.lend(Side::B, plan).unwrap();
        let mut out = vec![0u8; n];
        Core::drain(plan, &seg, &mut out[..]).unwrap();
        core.give_back(Side::B, plan, seg, true);
        assert_eq!(out, data);
        assert_eq!(core.read_plan(Side::B, 1), Err(Status::PEER_CLOSED));
    }

    #[test]
    fn closing_an_end_drops_its_inbox_and_tells_the_peer() {
        let mut core = Core::new(false);
        write(&mut core, Side::A, b"abc").unwrap();
        core.add_handle(Side::B);
        assert_eq!(core.signals(Side::B), W | R);
        assert!(!core.remove_handle(Side::B));
        assert_eq!(core.signals(Side::B), W | R | L);
        assert!(core.remove_handle(Side::B));
        assert_eq!(core.signals(Side::A), P | L);
        assert_eq!(core.queued_bytes(Side::B), 0);
        assert_eq!(write(&mut core, Side::A, b"x"), Err(Status::PEER_CLOSED));
        assert_eq!(core.half_close(Side::A), Err(Status::PEER_CLOSED));
    }

    #[test]
    fn user_signals_only() {
        let mut core = Core::new(false);
        assert_eq!(
            core.signal(Side::A, Signals::NONE, R),
            Err(Status::INVALID_ARGS)
        );
        core.signal_peer(Side::A, Signals::NONE, Signals::USER_0)
            .unwrap();
        assert_eq!(core.signals(Side::B), W | L | Signals::USER_0);
        core.signal(Side::B, Signals::USER_0, Signals::USER_1)
            .unwrap();
        assert_eq!(core.signals(Side::B), W | L | Signals::USER_1);
    }
}

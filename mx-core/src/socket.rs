//! The socket rules: what a write or a read may do, and the signals of each
//! end, as pure functions of a pair's state.
//!
//! A socket pair's state is two [`End`]s (handles, half-close, user
//! signals: what changes under the pair's lock) and two queues, each
//! summarised by a [`Tally`] of what it holds. Where the queued bytes sit is
//! a pipe's business (`mx_shm::pipe`); everything that decides *whether* and *how
//! many* bytes move, and what the signals are, is here, deterministic and
//! tested on its own.
//!
//! Signals are *derived*: [`signals`] computes them from the state, so a
//! reader that sees `READABLE` finds data, and a writer that sees `WRITABLE`
//! cleared finds the buffer full, by construction.
//!
//! Capacity counts payload only. Datagrams are framed by a 1-3 byte length
//! ([`encode_len`]) that is queued but not counted, so small datagrams cost a
//! byte or two each.

use crate::storage::Tally;
use crate::{Signals, Status};

/// Payload bytes each direction holds: Magenta's 128 buffers of 2,008 bytes.
/// (Under `--cfg loom`, 16, so that models can fill a socket.)
pub const SOCKET_CAPACITY: usize = if cfg!(loom) { 16 } else { 257_024 };

/// The longest datagram length header, in bytes.
pub const MAX_HEADER: usize = 3;

/// The signals a socket end may set with `object_signal`.
pub const SOCKET_USER_SIGNALS: Signals = Signals::USER_ALL;
const USER_SHIFT: u32 = 24;

/// The state of one end that changes under its pair's lock. It packs into a
/// word ([`End::pack`]) so the data paths can read it with one atomic load.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct End {
    /// Handles naming this end; 0 once it is closed.
    pub handles: u32,
    /// This end half-closed its writing.
    pub write_shut: bool,
    /// User signals (`MX_USER_SIGNAL_*` shifted down by 24).
    pub user: u8,
}

impl End {
    /// A new end: one handle, open both ways, no user signals.
    pub const NEW: End = End {
        handles: 1,
        write_shut: false,
        user: 0,
    };

    /// Whether the end still has handles.
    pub const fn is_open(self) -> bool {
        self.handles > 0
    }

    /// The user signals as [`Signals`].
    pub const fn user_signals(self) -> Signals {
        Signals::from_bits_retain((self.user as u32) << USER_SHIFT)
    }

    /// Whether this end, as a writer, is done: closed, or half-closed.
    pub const fn done_writing(self) -> bool {
        !self.is_open() || self.write_shut
    }

    /// One word holding the whole end.
    pub const fn pack(self) -> u64 {
        (self.handles as u64) | ((self.user as u64) << 32) | ((self.write_shut as u64) << 40)
    }

    /// Unpacks a word from [`End::pack`].
    pub const fn unpack(word: u64) -> End {
        End {
            handles: word as u32,
            user: (word >> 32) as u8,
            write_shut: (word >> 40) & 1 == 1,
        }
    }
}

/// The signals of an end (`this`) whose peer is `peer`, holding `inbox` to
/// read while its peer holds `outbox`.
pub fn signals(this: End, peer: End, inbox: Tally, outbox: Tally) -> Signals {
    let mut signals = this.user_signals();
    if inbox.payload > 0 {
        signals |= Signals::READABLE;
    }
    if peer.done_writing() {
        signals |= Signals::PEER_CLOSED;
    }
    if !this.write_shut && peer.is_open() && (outbox.payload as usize) < SOCKET_CAPACITY {
        signals |= Signals::WRITABLE;
    }
    if this.handles == 1 {
        signals |= Signals::LAST_HANDLE;
    }
    signals
}

/// `mx_socket_write`'s checks after the handle lookup, in the specified
/// order: how many payload bytes a write of `len` moves from `this` into a
/// peer inbox that holds `queued`. 0 for `len == 0`; possibly fewer than
/// `len` on a stream; all or an error for a datagram.
///
/// # Errors
/// `PEER_CLOSED`, `BAD_STATE` (half-closed), `INVALID_ARGS` (`len` over 32
/// bits), `SHOULD_WAIT` (full, or a datagram that does not fit).
pub fn write_amount(
    this: End,
    peer: End,
    datagram: bool,
    queued: Tally,
    len: usize,
) -> Result<usize, Status> {
    if !peer.is_open() {
        return Err(Status::PEER_CLOSED);
    }
    if this.write_shut {
        return Err(Status::BAD_STATE);
    }
    if len == 0 {
        return Ok(0);
    }
    if u32::try_from(len).is_err() {
        return Err(Status::INVALID_ARGS);
    }
    let room = SOCKET_CAPACITY.saturating_sub(queued.payload as usize);
    if room == 0 || (datagram && len > room) {
        return Err(Status::SHOULD_WAIT);
    }
    Ok(len.min(room))
}

/// The status of a read that found nothing queued, given the writing peer.
pub fn read_empty(peer: End) -> Status {
    if peer.done_writing() {
        Status::PEER_CLOSED
    } else {
        Status::SHOULD_WAIT
    }
}

/// What one read does, in queued bytes.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct ReadPlan {
    /// Framing bytes before the payload.
    pub skip: usize,
    /// Bytes copied to the caller (the read's result).
    pub copy: usize,
    /// Payload and framing bytes consumed.
    pub consume: usize,
    /// Payload bytes consumed.
    pub payload: usize,
}

/// Plans a read of up to `size` bytes from a non-empty inbox holding
/// `queued`. For datagrams, `front` is the start of the queued bytes (at
/// least [`MAX_HEADER`] of them, or all there are).
///
/// # Errors
/// `INTERNAL` if a datagram header is corrupt (a bug).
pub fn read_plan(
    datagram: bool,
    queued: Tally,
    size: usize,
    front: &[u8],
) -> Result<ReadPlan, Status> {
    debug_assert!(queued.payload > 0);
    if size == 0 {
        return Ok(ReadPlan {
            skip: 0,
            copy: 0,
            consume: 0,
            payload: 0,
        });
    }
    if !datagram {
        let n = size.min(queued.payload as usize);
        return Ok(ReadPlan {
            skip: 0,
            copy: n,
            consume: n,
            payload: n,
        });
    }
    let (skip, len) = decode_len(front).ok_or(Status::INTERNAL)?;
    Ok(ReadPlan {
        skip,
        copy: size.min(len),
        consume: skip + len,
        payload: len,
    })
}

/// `mx_socket_write` with `MX_SOCKET_HALF_CLOSE` on `this`.
///
/// # Errors
/// `PEER_CLOSED` if the peer is closed and `this` had not half-closed.
pub fn half_close(this: &mut End, peer: End) -> Result<(), Status> {
    if this.write_shut {
        return Ok(());
    }
    if !peer.is_open() {
        return Err(Status::PEER_CLOSED);
    }
    this.write_shut = true;
    Ok(())
}

/// `mx_object_signal` on an end: clears, then sets, user signals.
///
/// # Errors
/// `INVALID_ARGS` for bits other than user signals.
pub fn signal(end: &mut End, clear: Signals, set: Signals) -> Result<(), Status> {
    if !SOCKET_USER_SIGNALS.contains(clear | set) {
        return Err(Status::INVALID_ARGS);
    }
    let user = (end.user_signals() - clear) | set;
    end.user = (user.bits() >> USER_SHIFT) as u8;
    Ok(())
}

/// `mx_object_signal_peer`: [`signal`] on `peer`.
///
/// # Errors
/// `INVALID_ARGS` for bits other than user signals; `PEER_CLOSED`.
pub fn signal_peer(peer: &mut End, clear: Signals, set: Signals) -> Result<(), Status> {
    if !SOCKET_USER_SIGNALS.contains(clear | set) {
        return Err(Status::INVALID_ARGS);
    }
    if !peer.is_open() {
        return Err(Status::PEER_CLOSED);
    }
    signal(peer, clear, set)
}

/// Writes `len` as little-endian base-128 into `out`; returns the byte count.
pub fn encode_len(len: usize, out: &mut [u8; MAX_HEADER]) -> usize {
    let (word, n) = len_header(len);
    out.copy_from_slice(&word.to_le_bytes()[..MAX_HEADER]);
    n
}

/// [`encode_len`]'s bytes as the low bytes of one little-endian word, and
/// their count. Built in a register, the header is stored with one write:
/// a header stored byte by byte and then copied whole stalls the copy
/// (the wider load cannot take its bytes from the narrower stores in
/// flight), which cost 64-byte datagram writes about a tenth of their time.
pub fn len_header(mut len: usize) -> (u32, usize) {
    debug_assert!(len <= SOCKET_CAPACITY);
    let mut word = 0u32;
    let mut i = 0;
    loop {
        let byte = (len & 0x7f) as u32;
        len >>= 7;
        if len == 0 || i == MAX_HEADER - 1 {
            return (word | byte << (8 * i), i + 1);
        }
        word |= (byte | 0x80) << (8 * i);
        i += 1;
    }
}

/// Reads a header written by [`encode_len`]: `(header bytes, length)`.
pub fn decode_len(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut len = 0;
    for (i, &byte) in bytes.iter().enumerate().take(MAX_HEADER) {
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((i + 1, len));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Signals = Signals::WRITABLE;
    const R: Signals = Signals::READABLE;
    const P: Signals = Signals::PEER_CLOSED;
    const L: Signals = Signals::LAST_HANDLE;

    fn held(payload: usize) -> Tally {
        Tally {
            payload: payload as u32,
            bytes: payload as u32,
        }
    }

    #[test]
    fn header_round_trips() {
        for len in [0, 1, 127, 128, 16_383, 16_384, SOCKET_CAPACITY] {
            let mut h = [0; MAX_HEADER];
            let n = encode_len(len, &mut h);
            assert_eq!(decode_len(&h[..n]), Some((n, len)));
        }
        assert_eq!(decode_len(&[0x80, 0x80]), None, "truncated header");
    }

    #[test]
    fn ends_pack_into_a_word() {
        let end = End {
            handles: 77,
            write_shut: true,
            user: 0xa5,
        };
        assert_eq!(End::unpack(end.pack()), end);
        assert_eq!(End::unpack(End::NEW.pack()), End::NEW);
    }

    #[test]
    fn signals_follow_the_state() {
        let e = End::NEW;
        assert_eq!(signals(e, e, Tally::ZERO, Tally::ZERO), W | L);
        assert_eq!(signals(e, e, held(3), Tally::ZERO), W | R | L);
        assert_eq!(
            signals(e, e, Tally::ZERO, held(SOCKET_CAPACITY)),
            L,
            "full: not writable"
        );
        let shut = End {
            write_shut: true,
            ..e
        };
        assert_eq!(
            signals(shut, e, Tally::ZERO, Tally::ZERO),
            L,
            "half-closed: not writable"
        );
        assert_eq!(
            signals(e, shut, held(1), Tally::ZERO),
            W | R | P | L,
            "peer half-closed"
        );
        let closed = End { handles: 0, ..e };
        assert_eq!(
            signals(e, closed, Tally::ZERO, Tally::ZERO),
            P | L,
            "peer closed"
        );
        let two = End { handles: 2, ..e };
        assert_eq!(signals(two, e, Tally::ZERO, Tally::ZERO), W);
        let user = End { user: 1, ..e };
        assert_eq!(
            signals(user, e, Tally::ZERO, Tally::ZERO),
            W | L | Signals::USER_0
        );
    }

    #[test]
    fn write_checks_in_order() {
        let e = End::NEW;
        let closed = End { handles: 0, ..e };
        let shut = End {
            write_shut: true,
            ..e
        };
        assert_eq!(
            write_amount(shut, closed, false, Tally::ZERO, 5),
            Err(Status::PEER_CLOSED)
        );
        assert_eq!(
            write_amount(shut, e, false, Tally::ZERO, 5),
            Err(Status::BAD_STATE)
        );
        assert_eq!(
            write_amount(e, e, false, held(SOCKET_CAPACITY), 0),
            Ok(0),
            "empty write when full"
        );
        assert_eq!(
            write_amount(e, e, false, held(SOCKET_CAPACITY), 1 << 32),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(
            write_amount(e, e, false, held(SOCKET_CAPACITY), 1),
            Err(Status::SHOULD_WAIT)
        );
        assert_eq!(
            write_amount(e, e, false, held(SOCKET_CAPACITY - 3), 10),
            Ok(3),
            "short stream write"
        );
        assert_eq!(
            write_amount(e, e, true, held(SOCKET_CAPACITY - 3), 10),
            Err(Status::SHOULD_WAIT)
        );
        assert_eq!(
            write_amount(e, e, true, Tally::ZERO, SOCKET_CAPACITY + 1),
            Err(Status::SHOULD_WAIT)
        );
        assert_eq!(
            write_amount(e, e, true, Tally::ZERO, SOCKET_CAPACITY),
            Ok(SOCKET_CAPACITY)
        );
    }

    #[test]
    fn reads_plan_streams_and_datagrams() {
        assert_eq!(
            read_plan(false, held(10), 4, &[]),
            Ok(ReadPlan {
                skip: 0,
                copy: 4,
                consume: 4,
                payload: 4
            })
        );
        assert_eq!(
            read_plan(false, held(10), 0, &[]),
            Ok(ReadPlan {
                skip: 0,
                copy: 0,
                consume: 0,
                payload: 0
            })
        );
        let mut h = [0; MAX_HEADER];
        let n = encode_len(300, &mut h);
        assert_eq!(
            read_plan(true, held(300), 5, &h[..n]),
            Ok(ReadPlan {
                skip: 2,
                copy: 5,
                consume: 302,
                payload: 300
            }),
            "truncation discards the rest"
        );
        let shut = End {
            write_shut: true,
            ..End::NEW
        };
        assert_eq!(read_empty(shut), Status::PEER_CLOSED);
        assert_eq!(read_empty(End::NEW), Status::SHOULD_WAIT);
    }

    #[test]
    fn half_close_rules() {
        let mut e = End::NEW;
        let closed = End {
            handles: 0,
            ..End::NEW
        };
        assert_eq!(half_close(&mut e, closed), Err(Status::PEER_CLOSED));
        assert_eq!(half_close(&mut e, End::NEW), Ok(()));
        assert!(e.write_shut);
        assert_eq!(
            half_close(&mut e, closed),
            Ok(()),
            "idempotent even after the peer left"
        );
    }

    #[test]
    fn user_signals_only() {
        let mut e = End::NEW;
        assert_eq!(signal(&mut e, Signals::NONE, R), Err(Status::INVALID_ARGS));
        signal(&mut e, Signals::NONE, Signals::USER_0 | Signals::USER_7).unwrap();
        signal(&mut e, Signals::USER_0, Signals::USER_1).unwrap();
        assert_eq!(e.user_signals(), Signals::USER_1 | Signals::USER_7);
        let mut closed = End {
            handles: 0,
            ..End::NEW
        };
        assert_eq!(
            signal_peer(&mut closed, Signals::NONE, Signals::USER_0),
            Err(Status::PEER_CLOSED)
        );
    }
}

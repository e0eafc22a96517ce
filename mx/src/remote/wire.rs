//! The frames a channel link carries between processes: one `SOCK_SEQPACKET`
//! datagram per frame, with the descriptors of its handles alongside
//! (`SCM_RIGHTS`).
//!
//! ```text
//!  frame     magic u32 "MXF1" | kind u32 | ...
//!  MESSAGE   bytes u32 | handles u32 | handle record * handles | bytes
//!  SIGNAL    clear u32 | set u32          (mx_object_signal_peer)
//!  record    kind u32 | rights u32 | fd u32 | a u32 | b u32 | c u32
//!            | koid u64 | related u64     (40 bytes)
//!            channel: a = has pending, b = pending fd
//!            socket:  a = side, b = slot, c = the slot's generation
//! ```
//!
//! All integers are little-endian. A frame from another process is
//! untrusted: [`decode`] checks every count, index and length against the
//! datagram and the descriptors that came with it, and reports anything
//! else as a [`Violation`]; the link is then broken.

use mx_core::channel::{MAX_MSG_BYTES, MAX_MSG_HANDLES};
use mx_core::{Rights, Signals};
use mx_shm::shared::Violation;

const MAGIC: u32 = u32::from_le_bytes(*b"MXF1");
const KIND_MESSAGE: u32 = 1;
const KIND_SIGNAL: u32 = 2;

/// Bytes of a handle record.
const RECORD_BYTES: usize = 40;

/// The largest frame: a message of the largest size with the most handles.
pub(crate) const MAX_FRAME: usize = 16 + MAX_MSG_HANDLES * RECORD_BYTES + MAX_MSG_BYTES;

/// The most descriptors a frame carries: two per handle (a channel end
/// with a stream of messages still to forward).
pub(crate) const MAX_FDS: usize = 2 * MAX_MSG_HANDLES;

/// What a handle in a message is, on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// A channel end: its link's socket is descriptor `fd`; with
    /// `pending`, descriptor `pending` carries messages queued to it before
    /// the link, to be read first.
    Channel {
        rights: Rights,
        fd: u32,
        pending: Option<u32>,
        koid: u64,
        related: u64,
    },
    /// A socket end: the pair's segment is descriptor `fd`, the handle's
    /// count is in `slot` (reserved under `generation`), which the receiver
    /// takes over.
    Socket {
        rights: Rights,
        fd: u32,
        side: u32,
        slot: u32,
        generation: u32,
    },
}

/// A frame, decoded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A channel message.
    Message {
        bytes: &'a [u8],
        handles: Vec<Record>,
    },
    /// `mx_object_signal_peer` from the other end.
    Signal { clear: Signals, set: Signals },
}

const REC_CHANNEL: u32 = 1;
const REC_SOCKET: u32 = 2;

fn put(out: &mut Vec<u8>, word: u32) {
    out.extend_from_slice(&word.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, word: u64) {
    out.extend_from_slice(&word.to_le_bytes());
}

/// Encodes a message frame into `out` (cleared first). `out` must have room
/// (the caller reserves [`frame_len`] bytes, so encoding never allocates).
pub(crate) fn encode_message(out: &mut Vec<u8>, bytes: &[u8], handles: &[Record]) {
    out.clear();
    debug_assert!(out.capacity() >= frame_len(bytes.len(), handles.len()));
    put(out, MAGIC);
    put(out, KIND_MESSAGE);
    put(out, bytes.len() as u32);
    put(out, handles.len() as u32);
    for record in handles {
        match *record {
            Record::Channel {
                rights,
                fd,
                pending,
                koid,
                related,
            } => {
                put(out, REC_CHANNEL);
                put(out, rights.bits());
                put(out, fd);
                put(out, u32::from(pending.is_some()));
                put(out, pending.unwrap_or(0));
                put(out, 0);
                put64(out, koid);
                put64(out, related);
            }
            Record::Socket {
                rights,
                fd,
                side,
                slot,
                generation,
            } => {
                put(out, REC_SOCKET);
                put(out, rights.bits());
                put(out, fd);
                put(out, side);
                put(out, slot);
                put(out, generation);
                put64(out, 0);
                put64(out, 0);
            }
        }
    }
    out.extend_from_slice(bytes);
}

/// The length of a message frame.
pub(crate) fn frame_len(bytes: usize, handles: usize) -> usize {
    16 + handles * RECORD_BYTES + bytes
}

/// Encodes a signal frame.
pub(crate) fn encode_signal(clear: Signals, set: Signals) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    out[4..8].copy_from_slice(&KIND_SIGNAL.to_le_bytes());
    out[8..12].copy_from_slice(&clear.bits().to_le_bytes());
    out[12..16].copy_from_slice(&set.bits().to_le_bytes());
    out
}

/// Reads little-endian words from a datagram, failing past its end.
struct Cursor<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn u32(&mut self) -> Result<u32, Violation> {
        let bytes = self
            .buf
            .get(self.at..self.at + 4)
            .ok_or(Violation("a frame ends early"))?;
        self.at += 4;
        Ok(u32::from_le_bytes(bytes.try_into().unwrap_or([0; 4])))
    }

    fn u64(&mut self) -> Result<u64, Violation> {
        let low = u64::from(self.u32()?);
        let high = u64::from(self.u32()?);
        Ok(low | (high << 32))
    }

    fn rest(&self) -> &'a [u8] {
        &self.buf[self.at.min(self.buf.len())..]
    }
}

/// Decodes a frame that came with `fds` descriptors, checking everything.
///
/// # Errors
/// A violation if the frame is malformed, its counts exceed the channel's
/// limits, or its records name descriptors that did not come (or name one
/// twice).
pub(crate) fn decode(buf: &[u8], fds: usize) -> Result<Frame<'_>, Violation> {
    let mut c = Cursor { buf, at: 0 };
    if c.u32()? != MAGIC {
        return Err(Violation("a frame has a bad magic number"));
    }
    match c.u32()? {
        KIND_MESSAGE => {}
        KIND_SIGNAL => {
            let clear = Signals::from_bits_retain(c.u32()?);
            let set = Signals::from_bits_retain(c.u32()?);
            if !c.rest().is_empty() || fds != 0 {
                return Err(Violation("a signal frame has extra contents"));
            }
            return Ok(Frame::Signal { clear, set });
        }
        _ => return Err(Violation("a frame has an unknown kind")),
    }
    let n_bytes = c.u32()? as usize;
    let n_handles = c.u32()? as usize;
    if n_bytes > MAX_MSG_BYTES || n_handles > MAX_MSG_HANDLES {
        return Err(Violation("a message exceeds the channel limits"));
    }
    if buf.len() != frame_len(n_bytes, n_handles) {
        return Err(Violation("a message's length disagrees with its counts"));
    }
    let mut used = [false; MAX_FDS];
    let mut claim = |index: u32| -> Result<u32, Violation> {
        let i = index as usize;
        if i >= fds || used[i] {
            return Err(Violation("a record names a missing or reused descriptor"));
        }
        used[i] = true;
        Ok(index)
    };
    let mut handles = Vec::new();
    handles
        .try_reserve_exact(n_handles)
        .map_err(|_| Violation("out of memory for a message's handles"))?;
    for _ in 0..n_handles {
        let kind = c.u32()?;
        let rights = Rights::from_bits_retain(c.u32()?);
        let fd = c.u32()?;
        let (a, b, word_c) = (c.u32()?, c.u32()?, c.u32()?);
        let (koid, related) = (c.u64()?, c.u64()?);
        let record = match kind {
            REC_CHANNEL => Record::Channel {
                rights,
                fd: claim(fd)?,
                pending: match a {
                    0 => None,
                    1 => Some(claim(b)?),
                    _ => return Err(Violation("a channel record has bad flags")),
                },
                koid,
                related,
            },
            REC_SOCKET => {
                if a > 1 || b as usize >= mx_shm::shared::SLOTS {
                    return Err(Violation("a socket record names no end or slot"));
                }
                Record::Socket {
                    rights,
                    fd: claim(fd)?,
                    side: a,
                    slot: b,
                    generation: word_c,
                }
            }
            _ => return Err(Violation("a record has an unknown kind")),
        };
        handles.push(record);
    }
    if used.iter().filter(|&&u| u).count() != fds {
        return Err(Violation("a frame carries descriptors no record names"));
    }
    Ok(Frame::Message {
        bytes: c.rest(),
        handles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: &[u8], handles: &[Record]) -> Vec<u8> {
        let mut out = Vec::with_capacity(frame_len(bytes.len(), handles.len()));
        encode_message(&mut out, bytes, handles);
        out
    }

    #[test]
    fn messages_round_trip() {
        let records = [
            Record::Channel {
                rights: Rights::READ | Rights::WRITE,
                fd: 1,
                pending: Some(0),
                koid: 7,
                related: 8,
            },
            Record::Socket {
                rights: Rights::TRANSFER,
                fd: 2,
                side: 1,
                slot: 3,
                generation: 0x00ab_cdef,
            },
        ];
        let buf = message(b"hello", &records);
        assert_eq!(
            decode(&buf, 3).unwrap(),
            Frame::Message {
                bytes: b"hello",
                handles: records.to_vec()
            }
        );
        let signal = encode_signal(Signals::USER_0, Signals::USER_1);
        assert_eq!(
            decode(&signal, 0).unwrap(),
            Frame::Signal {
                clear: Signals::USER_0,
                set: Signals::USER_1
            }
        );
    }

    #[test]
    fn malformed_frames_are_violations() {
        let record = Record::Socket {
            rights: Rights::NONE,
            fd: 0,
            side: 0,
            slot: 0,
            generation: 0,
        };
        let buf = message(b"abc", &[record]);
        assert!(decode(&buf, 0).is_err(), "descriptor missing");
        assert!(decode(&buf, 2).is_err(), "descriptor unnamed");
        assert!(decode(&buf[..buf.len() - 1], 1).is_err(), "short");
        let mut bad = buf.clone();
        bad[0] ^= 1;
        assert!(decode(&bad, 1).is_err(), "magic");
        let mut bad = buf.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&bad, 1).is_err(), "byte count");
        let twice = message(b"", &[record, record]);
        assert!(decode(&twice, 1).is_err(), "descriptor reused");
        let mut bad_slot = buf.clone();
        bad_slot[16 + 16..16 + 20].copy_from_slice(&99u32.to_le_bytes());
        assert!(decode(&bad_slot, 1).is_err(), "slot");
        for len in 0..buf.len() {
            let _ = decode(&buf[..len], 1);
        }
    }
}

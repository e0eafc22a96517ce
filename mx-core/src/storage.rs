//! How queues are counted ([`Tally`]), and how handle values get into and
//! out of a call ([`HandleSource`], [`HandleSink`]).
//!
//! Bytes are copied through `mx_shm::storage`'s `Source` and `Sink`, which
//! work on raw memory (that crate holds the unsafe code); where they sit in
//! between is a pipe's business (`mx_shm::pipe`), and how much may move and
//! what the signals are is [`crate::socket`]'s.

use crate::Status;

/// Handle values to be sent: a slice, or a C caller's array.
pub trait HandleSource {
    /// How many values the caller listed.
    fn len(&self) -> usize;

    /// Whether the list is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends every value to `out` (whose capacity the caller reserved).
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be read (a NULL array with a
    /// non-zero count, in C).
    fn read_into(&self, out: &mut alloc::vec::Vec<crate::RawHandle>) -> Result<(), Status>;
}

/// Where received handle values go: a slice, or a C caller's array.
pub trait HandleSink {
    /// How many values it can take.
    fn len(&self) -> usize;

    /// Whether it has no room.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `values` at the start.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be written.
    fn write_all(&mut self, values: &[crate::RawHandle]) -> Result<(), Status>;
}

impl HandleSource for [crate::RawHandle] {
    fn len(&self) -> usize {
        <[crate::RawHandle]>::len(self)
    }

    fn read_into(&self, out: &mut alloc::vec::Vec<crate::RawHandle>) -> Result<(), Status> {
        out.try_reserve(self.len())?;
        out.extend_from_slice(self);
        Ok(())
    }
}

impl HandleSink for [crate::RawHandle] {
    fn len(&self) -> usize {
        <[crate::RawHandle]>::len(self)
    }

    fn write_all(&mut self, values: &[crate::RawHandle]) -> Result<(), Status> {
        self[..values.len()].copy_from_slice(values);
        Ok(())
    }
}

/// Bytes counted two ways, as a pipe's counters hold them: `payload` (what
/// reads return and capacity counts) and `bytes` (payload plus datagram
/// framing, where the bytes sit). Both wrap modulo 2^32; differences of two
/// tallies are exact because a socket never holds 2^32 bytes.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Tally {
    /// Payload bytes.
    pub payload: u32,
    /// Payload and framing bytes.
    pub bytes: u32,
}

impl Tally {
    /// Zero.
    pub const ZERO: Tally = Tally {
        payload: 0,
        bytes: 0,
    };

    /// Packs into one word, so a single atomic store publishes both counts.
    pub const fn pack(self) -> u64 {
        ((self.payload as u64) << 32) | self.bytes as u64
    }

    /// Unpacks a word from [`Tally::pack`].
    pub const fn unpack(word: u64) -> Tally {
        Tally {
            payload: (word >> 32) as u32,
            bytes: word as u32,
        }
    }

    /// `self + (payload, bytes)`, wrapping.
    pub const fn plus(self, payload: u32, bytes: u32) -> Tally {
        Tally {
            payload: self.payload.wrapping_add(payload),
            bytes: self.bytes.wrapping_add(bytes),
        }
    }

    /// `self - earlier`, wrapping: what was added since `earlier`.
    pub const fn since(self, earlier: Tally) -> Tally {
        Tally {
            payload: self.payload.wrapping_sub(earlier.payload),
            bytes: self.bytes.wrapping_sub(earlier.bytes),
        }
    }

    /// Whether both counts are zero.
    pub const fn is_zero(self) -> bool {
        self.payload == 0 && self.bytes == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_pack_and_wrap() {
        let t = Tally {
            payload: u32::MAX - 1,
            bytes: 7,
        };
        assert_eq!(Tally::unpack(t.pack()), t);
        let later = t.plus(5, 9);
        assert_eq!(
            later.since(t),
            Tally {
                payload: 5,
                bytes: 9
            }
        );
        assert!(later.since(later).is_zero());
    }
}

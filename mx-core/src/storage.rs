//! How bytes get into and out of a socket: [`Source`] and [`Sink`].
//!
//! Every copy goes through one of these traits so that callers choose how
//! user memory is touched: a Rust slice copies directly, a C pointer may be
//! validated first and report a fault as a [`Status`]. Where the bytes sit
//! in between is the business of a pipe (`mx-pipe`); how much may move and
//! what the signals are is [`crate::socket`]'s.

use core::mem::MaybeUninit;

use crate::Status;

/// Bytes to be written: a slice, or user memory reached some other way.
pub trait Source {
    /// How many bytes the source holds (may exceed what a caller can address
    /// when a C caller passes a huge size; callers check before copying).
    fn len(&self) -> usize;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies bytes `offset..offset + dst.len()` of the source into `dst`,
    /// initialising all of it. (The destination may be fresh memory, which
    /// is why it is `MaybeUninit`: pipes need not zero what they allocate.)
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be read; `dst` may then be partly
    /// written, and the caller discards it.
    fn copy_to(&self, offset: usize, dst: &mut [MaybeUninit<u8>]) -> Result<(), Status>;

    /// [`Source::copy_to`] into initialised memory (a channel message's
    /// buffer).
    ///
    /// # Errors
    /// As [`Source::copy_to`].
    fn copy_to_slice(&self, offset: usize, dst: &mut [u8]) -> Result<(), Status>;
}

/// Where read bytes go: a slice, or user memory reached some other way.
pub trait Sink {
    /// How many bytes the sink can take.
    fn len(&self) -> usize;

    /// Whether the sink has no room at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `src` into the sink at `offset`.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be written.
    fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<(), Status>;
}

impl Source for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn copy_to(&self, offset: usize, dst: &mut [MaybeUninit<u8>]) -> Result<(), Status> {
        dst.write_copy_of_slice(&self[offset..offset + dst.len()]);
        Ok(())
    }

    fn copy_to_slice(&self, offset: usize, dst: &mut [u8]) -> Result<(), Status> {
        dst.copy_from_slice(&self[offset..offset + dst.len()]);
        Ok(())
    }
}

impl Sink for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<(), Status> {
        self[offset..offset + src.len()].copy_from_slice(src);
        Ok(())
    }
}

/// A sink that fills a `Vec<u8>` from its start, within the capacity it
/// already has: it never allocates, so a copy into it cannot fail after
/// the data was taken from where it was.
#[derive(Debug)]
pub struct VecSink<'a>(pub &'a mut alloc::vec::Vec<u8>);

impl Sink for VecSink<'_> {
    fn len(&self) -> usize {
        self.0.capacity()
    }

    fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<(), Status> {
        let end = offset + src.len();
        if end > self.0.capacity() {
            return Err(Status::BUFFER_TOO_SMALL);
        }
        self.0.truncate(offset);
        self.0.resize(offset, 0);
        self.0.extend_from_slice(src);
        Ok(())
    }
}

/// A sink of handle values that fills a `Vec` within its capacity (see
/// [`VecSink`]).
#[derive(Debug)]
pub struct HandleVecSink<'a>(pub &'a mut alloc::vec::Vec<crate::RawHandle>);

impl HandleSink for HandleVecSink<'_> {
    fn len(&self) -> usize {
        self.0.capacity()
    }

    fn write_all(&mut self, values: &[crate::RawHandle]) -> Result<(), Status> {
        if values.len() > self.0.capacity() {
            return Err(Status::BUFFER_TOO_SMALL);
        }
        self.0.clear();
        self.0.extend_from_slice(values);
        Ok(())
    }
}

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

//! Where a socket direction's bytes live, and how bytes get in and out.
//!
//! The socket state machine ([`crate::socket`]) decides *how many* bytes move
//! and when; a [`Storage`] decides *where* they sit. The heap implementation is
//! [`crate::chunks::ChunkQueue`]; a shared-memory ring can implement the same
//! trait later without touching the state machine.
//!
//! Every copy goes through a [`Source`] or a [`Sink`] so that callers choose
//! how user memory is touched: a Rust slice copies directly, a C pointer may
//! be validated first and report a fault as a [`Status`]. Storage operations
//! are all-or-nothing: a failed copy or allocation leaves the storage as it was.
//!
//! Large transfers copy outside the socket's lock. For that, a writer fills a
//! detached [`Storage::Segment`] and then [`Storage::append`]s it; a reader
//! [`Storage::split_front`]s the bytes it needs, drains them unlocked, and
//! [`Storage::put_front`]s what is left.

use alloc::vec::Vec;

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

    /// Appends bytes `offset..offset + len` of the source to `dst`, whose spare
    /// capacity is at least `len`.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be read; `dst` is then unchanged.
    fn append_to(&self, offset: usize, len: usize, dst: &mut Vec<u8>) -> Result<(), Status>;
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

    fn append_to(&self, offset: usize, len: usize, dst: &mut Vec<u8>) -> Result<(), Status> {
        debug_assert!(dst.capacity() - dst.len() >= len, "caller reserves room");
        dst.extend_from_slice(&self[offset..offset + len]);
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

/// A queue of bytes: the buffer of one socket direction.
///
/// Lengths are physical bytes (payload and any framing); capacity accounting
/// is the state machine's business, not the storage's.
pub trait Storage: Default {
    /// A detached run of bytes, filled or drained outside the socket's lock.
    type Segment;

    /// Physical bytes queued (may take time proportional to the queue's
    /// length: for tests and diagnostics).
    fn len(&self) -> usize;

    /// Whether nothing is queued.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `len` bytes of `src` starting at `offset`.
    ///
    /// # Errors
    /// `NO_MEMORY`, or the source's fault; nothing is appended then.
    fn push(
        &mut self,
        src: &(impl Source + ?Sized),
        offset: usize,
        len: usize,
    ) -> Result<(), Status>;

    /// Copies up to `dst.len()` bytes from the front into `dst`, consuming
    /// nothing; returns how many were copied.
    fn peek(&self, dst: &mut [u8]) -> usize;

    /// Copies queued bytes `skip..skip + len` into `dst` at `dst_offset`,
    /// consuming nothing.
    ///
    /// # Errors
    /// The sink's fault.
    fn copy_out(
        &self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        dst_offset: usize,
    ) -> Result<(), Status>;

    /// Drops the first `len` queued bytes.
    fn discard(&mut self, len: usize);

    /// Drops everything and releases memory.
    fn clear(&mut self);

    /// A new, empty segment sized for `len` bytes (allocated by the caller's
    /// thread, outside any lock).
    ///
    /// # Errors
    /// `NO_MEMORY`.
    fn new_segment(len: usize) -> Result<Self::Segment, Status>;

    /// Appends `src` bytes to a segment made by [`Storage::new_segment`].
    ///
    /// # Errors
    /// `NO_MEMORY` or the source's fault; the segment is unchanged then.
    fn fill_segment(
        segment: &mut Self::Segment,
        src: &(impl Source + ?Sized),
        offset: usize,
        len: usize,
    ) -> Result<(), Status>;

    /// Copies bytes `skip..skip + len` of a segment into `dst` at `dst_offset`.
    ///
    /// # Errors
    /// The sink's fault.
    fn drain_segment(
        segment: &Self::Segment,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        dst_offset: usize,
    ) -> Result<(), Status>;

    /// Appends a whole segment at the back.
    ///
    /// # Errors
    /// `NO_MEMORY`; the segment is dropped and nothing is appended.
    fn append(&mut self, segment: Self::Segment) -> Result<(), Status>;

    /// Lends out at least the first `len` queued bytes (possibly more, up to a
    /// storage-defined granule) as a segment, to be drained without the lock.
    ///
    /// Until the segment comes back through [`Storage::put_front`] the
    /// storage must see no other reader: the caller serialises readers.
    /// Writers may go on appending meanwhile.
    ///
    /// # Errors
    /// `NO_MEMORY`; nothing is lent then.
    fn split_front(&mut self, len: usize) -> Result<Self::Segment, Status>;

    /// Takes back a segment from [`Storage::split_front`] and drops its first
    /// `consumed` bytes (0 after a failed copy: nothing is lost). Never fails.
    fn put_front(&mut self, segment: Self::Segment, consumed: usize);
}

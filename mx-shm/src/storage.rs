//! How bytes get into and out of an object: [`Source`] and [`Sink`].
//!
//! Every copy goes through one of these traits so that callers choose how
//! their memory is touched: a Rust slice copies directly, a C pointer may be
//! checked first and report a fault as a [`Status`]. The other side of each
//! copy is raw memory ([`Source::copy_to_raw`], [`Sink::write_from_raw`]),
//! because it may be memory shared with another process, which no Rust
//! reference may cover: that process may write it at any moment.
//!
//! [`Framed`] puts a datagram's length header in front of its payload;
//! [`VecSink`] fills a `Vec` within its capacity.

use core::ptr;

use mx_core::socket::len_header;
use mx_core::Status;

/// Bytes to be written: a slice, or a caller's memory reached another way.
pub trait Source {
    /// How many bytes the source holds (may exceed what a caller can address
    /// when a C caller passes a huge size; callers check before copying).
    fn len(&self) -> usize;

    /// Whether the source is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies bytes `offset..offset + len` of the source to `dst`.
    ///
    /// # Safety
    ///
    /// 1. `dst` is valid for writes of `len` bytes, which nothing else in
    ///    this process reads or writes meanwhile.
    /// 2. `offset + len <= self.len()`.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the source's memory cannot be read; `dst` may then
    /// be partly written, and the caller discards it.
    unsafe fn copy_to_raw(&self, offset: usize, dst: *mut u8, len: usize) -> Result<(), Status>;

    /// Copies bytes `offset..offset + dst.len()` of the source into `dst`.
    ///
    /// # Panics
    /// If that range is beyond the source (a bug of the caller).
    ///
    /// # Errors
    /// As [`Source::copy_to_raw`].
    fn copy_to_slice(&self, offset: usize, dst: &mut [u8]) -> Result<(), Status> {
        assert!(
            offset
                .checked_add(dst.len())
                .is_some_and(|end| end <= self.len()),
            "copy beyond the source"
        );
        // SAFETY: `dst` is an exclusive slice of that length; the range was
        // checked above.
        unsafe { self.copy_to_raw(offset, dst.as_mut_ptr(), dst.len()) }
    }
}

/// Where read bytes go: a slice, or a caller's memory reached another way.
pub trait Sink {
    /// How many bytes the sink can take.
    fn len(&self) -> usize;

    /// Whether the sink has no room at all.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies `len` bytes from `src` into the sink at `offset`.
    ///
    /// # Safety
    ///
    /// 1. `src` is valid for reads of `len` bytes. It may be memory another
    ///    process writes (a hostile peer's), so the copy must treat it as
    ///    raw bytes and form no reference to it.
    /// 2. `offset + len <= self.len()`.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the sink's memory cannot be written.
    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), Status>;

    /// Copies `src` into the sink at `offset`.
    ///
    /// # Panics
    /// If that range is beyond the sink (a bug of the caller).
    ///
    /// # Errors
    /// As [`Sink::write_from_raw`].
    fn write_at(&mut self, offset: usize, src: &[u8]) -> Result<(), Status> {
        assert!(
            offset
                .checked_add(src.len())
                .is_some_and(|end| end <= self.len()),
            "copy beyond the sink"
        );
        // SAFETY: `src` is a live slice of that length; the range was
        // checked above.
        unsafe { self.write_from_raw(offset, src.as_ptr(), src.len()) }
    }
}

impl Source for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    unsafe fn copy_to_raw(&self, offset: usize, dst: *mut u8, len: usize) -> Result<(), Status> {
        let src = &self[offset..offset + len];
        // SAFETY: promise 1: `dst` is valid for `len` writes and unused
        // meanwhile, so it cannot overlap this live slice.
        unsafe { ptr::copy_nonoverlapping(src.as_ptr(), dst, len) };
        Ok(())
    }
}

impl Sink for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        let dst = &mut self[offset..offset + len];
        // SAFETY: promise 1: `src` is valid for `len` reads; `dst` is our
        // exclusive slice, so the two do not overlap.
        unsafe { ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), len) };
        Ok(())
    }
}

/// A sink that fills a `Vec<u8>` from its start, within the capacity it
/// already has: it never allocates, so a copy into it cannot fail after
/// the data was taken from where it was.
#[derive(Debug)]
pub struct VecSink<'a>(pub &'a mut Vec<u8>);

impl Sink for VecSink<'_> {
    fn len(&self) -> usize {
        self.0.capacity()
    }

    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        src: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        let end = offset + len;
        if end > self.0.capacity() {
            return Err(Status::BUFFER_TOO_SMALL);
        }
        self.0.resize(offset, 0);
        let spare = self.0.spare_capacity_mut();
        // SAFETY: promise 1 for `src`; the spare capacity holds at least
        // `len` bytes (checked above) and is ours alone.
        unsafe { ptr::copy_nonoverlapping(src, spare.as_mut_ptr().cast::<u8>(), len) };
        // SAFETY: the copy initialised `len` bytes after `offset`.
        unsafe { self.0.set_len(end) };
        Ok(())
    }
}

/// A datagram's length header followed by its payload, as one [`Source`]
/// (for a stream, just the payload).
#[derive(Debug)]
pub struct Framed<'a, T: ?Sized> {
    /// The header in its first `header_len` bytes ([`len_header`]).
    header: [u8; 4],
    header_len: usize,
    payload: &'a T,
    payload_len: usize,
}

impl<'a, T: Source + ?Sized> Framed<'a, T> {
    /// The first `len` bytes of `payload`, with a length header when
    /// `datagram`.
    pub fn new(datagram: bool, payload: &'a T, len: usize) -> Framed<'a, T> {
        let (word, header_len) = if datagram { len_header(len) } else { (0, 0) };
        Framed {
            header: word.to_le_bytes(),
            header_len,
            payload,
            payload_len: len,
        }
    }

    /// Payload bytes.
    pub fn payload_len(&self) -> usize {
        self.payload_len
    }
}

impl<T: Source + ?Sized> Source for Framed<'_, T> {
    fn len(&self) -> usize {
        self.header_len + self.payload_len
    }

    unsafe fn copy_to_raw(&self, offset: usize, dst: *mut u8, len: usize) -> Result<(), Status> {
        let (mut offset, mut dst, mut len) = (offset, dst, len);
        if offset < self.header_len {
            let n = (self.header_len - offset).min(len);
            // SAFETY: promise 1 covers these `n <= len` bytes of `dst`.
            unsafe { ptr::copy_nonoverlapping(self.header[offset..].as_ptr(), dst, n) };
            offset += n;
            // SAFETY: still within the `len` bytes of promise 1.
            dst = unsafe { dst.add(n) };
            len -= n;
        }
        if len > 0 {
            // SAFETY: the rest of `dst` (promise 1), and a range within the
            // payload: `offset - header_len + len <= payload_len` follows
            // from promise 2.
            unsafe {
                self.payload
                    .copy_to_raw(offset - self.header_len, dst, len)?
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_copy_both_ways() {
        let src = [1u8, 2, 3, 4, 5];
        let mut out = [0u8; 3];
        src[..].copy_to_slice(1, &mut out).unwrap();
        assert_eq!(out, [2, 3, 4]);
        let mut sink = [0u8; 6];
        sink[..].write_at(2, &src[..3]).unwrap();
        assert_eq!(sink, [0, 0, 1, 2, 3, 0]);
    }

    #[test]
    fn framing_puts_the_header_first() {
        let payload = [9u8; 200];
        let framed = Framed::new(true, &payload[..], 200);
        assert_eq!(framed.len(), 202);
        let mut out = [0u8; 202];
        framed.copy_to_slice(0, &mut out).unwrap();
        assert_eq!(mx_core::socket::decode_len(&out[..3]), Some((2, 200)));
        assert_eq!(out[2..], payload);
        let mut tail = [0u8; 5];
        framed.copy_to_slice(1, &mut tail).unwrap();
        assert_eq!(tail, [out[1], 9, 9, 9, 9]);
    }

    #[test]
    fn a_vec_sink_fills_within_its_capacity() {
        let mut vec = Vec::with_capacity(4);
        let mut sink = VecSink(&mut vec);
        sink.write_at(0, b"ab").unwrap();
        sink.write_at(2, b"cd").unwrap();
        assert_eq!(vec, b"abcd");
    }
}

//! [`Pipe`]: one direction of a socket, a ring of bytes that one writer and
//! one reader use at the same time, with no lock and no atomic
//! read-modify-write on the way.
//!
//! # The protocol
//!
//! ```text
//!     writer's line            reader's line          the ring (RING_BYTES)
//!   [tx gate: written,       [rx gate: read,       |....read.....written....|
//!    read_seen]               written_seen]              ^ bytes at position
//!   [written (published)]    [read (published)]            counter % RING_BYTES
//! ```
//!
//! - Two counters say what moved: `written` (published by the writer) and
//!   `read` (published by the reader), each a [`Tally`] of payload and bytes
//!   in one atomic word. Byte `n` of the stream sits at `n % RING_BYTES`.
//! - Writers are serialised by the writer's [`Gate`], readers by the
//!   reader's; each gate keeps its side's private view: its own counter and
//!   a *cached* copy of the other side's, reloaded only when the cache says
//!   the ring is full (writer) or empty (reader). So a writer that keeps
//!   ahead of its reader touches the reader's line once per ring's worth,
//!   not once per message (the cached indices of Lee, Bu and
//!   Chandranmenon's MCRingBuffer, 2009).
//! - The writer copies into bytes past `written` (which only it touches),
//!   then publishes with a release store of `written`. The reader copies
//!   only bytes below the `written` it loaded with acquire ordering, then
//!   publishes `read` with a release store. Published bytes are never
//!   written again until the reader has released them.
//! - Capacity is the socket's rule (payload, see `mx_core::socket`); the
//!   ring holds at least twice the capacity, which covers the framing of
//!   the smallest datagrams (one header byte per payload byte at most).
//! - The ring is mapped by the first write (an idle pipe holds no memory),
//!   and given back to the kernel when the reading end closes
//!   ([`Pipe::clear`], in the reader's gate).
//!
//! Every `unsafe` block here copies to or from the ring under the protocol
//! above, or maps and unmaps it; each says which rule makes it sound. The
//! ring's bytes are reached only through raw pointers, never through a Rust
//! reference, so the same code can run over memory shared with another
//! process. The protocol is model-checked with loom (`tests/loom.rs`).

use core::fmt;
use core::ptr;

use mx_core::storage::Tally;
use mx_core::Status;

use crate::gate::{Gate, Pass};
use crate::storage::{Sink, Source};
use crate::sync::{AtomicU64, Ordering};

/// Bytes of a pipe's ring: twice the socket's capacity, rounded up to a
/// power of two. (Under `--cfg loom`, 32, for a capacity of 16.)
pub const RING_BYTES: usize = if cfg!(loom) { 32 } else { 1 << 19 };

const _: () = assert!(RING_BYTES >= 2 * mx_core::socket::SOCKET_CAPACITY);
const _: () = assert!(RING_BYTES.is_power_of_two());

/// A value alone on its cache line(s).
#[derive(Debug, Default)]
#[repr(align(64))]
struct Padded<T>(T);

/// What only the writer knows.
#[derive(Debug, Default)]
struct Producer {
    /// Everything written (the value of `Pipe::written`).
    written: Tally,
    /// The reader's counter when the writer last looked (it only grows).
    read_seen: Tally,
}

/// What only the reader knows.
#[derive(Debug, Default)]
struct Consumer {
    /// Everything read (the value of `Pipe::read`).
    read: Tally,
    /// The writer's counter when the reader last looked.
    written_seen: Tally,
}

/// One direction of a socket.
pub struct Pipe {
    tx: Padded<Gate<Producer>>,
    /// Everything published by writers ([`Tally::pack`]).
    written: Padded<AtomicU64>,
    rx: Padded<Gate<Consumer>>,
    /// Everything consumed by readers ([`Tally::pack`]).
    read: Padded<AtomicU64>,
    /// The ring's bytes.
    ring: Ring,
}

impl fmt::Debug for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipe")
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

impl Default for Pipe {
    fn default() -> Self {
        Pipe::new()
    }
}

impl Pipe {
    /// An empty pipe; it maps no memory until the first write.
    pub fn new() -> Pipe {
        Pipe {
            tx: Padded(Gate::default()),
            written: Padded(AtomicU64::new(0)),
            rx: Padded(Gate::default()),
            read: Padded(AtomicU64::new(0)),
            ring: Ring::new(),
        }
    }

    /// What the pipe holds now, without entering a gate (read first, so the
    /// result never goes negative).
    pub fn queued(&self) -> Tally {
        let read = Tally::unpack(self.read.0.load(Ordering::Acquire));
        let written = Tally::unpack(self.written.0.load(Ordering::Acquire));
        written.since(read)
    }

    /// Everything ever published into the pipe (its writer's counter).
    pub fn published(&self) -> Tally {
        Tally::unpack(self.written.0.load(Ordering::Relaxed))
    }

    /// Enters the writer side.
    #[inline]
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            pipe: self,
            state: self.tx.0.enter(),
        }
    }

    /// Enters the reader side.
    #[inline]
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            pipe: self,
            state: self.rx.0.enter(),
        }
    }

    /// Enters the writer side while inside another gate (see
    /// [`Gate::enter_nested`]).
    pub fn writer_nested(&self) -> Writer<'_> {
        Writer {
            pipe: self,
            state: self.tx.0.enter_nested(),
        }
    }

    /// Enters the reader side while inside another gate.
    pub fn reader_nested(&self) -> Reader<'_> {
        Reader {
            pipe: self,
            state: self.rx.0.enter_nested(),
        }
    }

    /// Drops everything queued and gives the ring's memory back (the
    /// reading end was closed). Waits for a reader in progress.
    ///
    /// The caller closed the end first, so writers that come later find it
    /// closed and write nothing. A writer already past that check may still
    /// publish: its bytes stay queued, unread, until the pipe is dropped.
    /// So the ring may be written while its pages are given back; that is
    /// sound (the pages stay mapped, and a write only faults a zeroed page
    /// in again), and the bytes concerned have no reader. Not entering the
    /// writer's gate here keeps every pass unnested (see [`crate::gate`]).
    pub fn clear(&self) {
        let mut consumer = self.rx.0.enter();
        let written = Tally::unpack(self.written.0.load(Ordering::Acquire));
        consumer.read = written;
        consumer.written_seen = written;
        self.read.0.store(written.pack(), Ordering::Release);
        self.ring.release();
        drop(consumer);
    }

    /// Bytes of memory the pipe has mapped for its ring.
    pub fn footprint(&self) -> usize {
        if self.ring.is_mapped() {
            RING_BYTES
        } else {
            0
        }
    }
}

/// The writer side of a [`Pipe`], entered.
#[derive(Debug)]
pub struct Writer<'a> {
    pipe: &'a Pipe,
    state: Pass<'a, Producer>,
}

impl Writer<'_> {
    /// What the pipe holds, from this writer's view: `fresh` reloads the
    /// reader's counter; otherwise the result may overstate (the reader may
    /// have consumed more since).
    #[inline]
    pub fn queued(&mut self, fresh: bool) -> Tally {
        if fresh {
            self.state.read_seen = Tally::unpack(self.pipe.read.0.load(Ordering::Acquire));
        }
        self.state.written.since(self.state.read_seen)
    }

    /// Appends all of `src`, of which `payload` bytes count as payload, and
    /// publishes it. The caller checked the capacity (`mx_core::socket`),
    /// which leaves the ring room for the bytes (see [`RING_BYTES`]).
    ///
    /// # Errors
    /// `NO_MEMORY` (the ring could not be mapped), `SHOULD_WAIT` (no room in
    /// the ring for the bytes, which the capacity rule rules out), or the
    /// source's fault; nothing is published then.
    pub fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status> {
        let len = src.len();
        if len == 0 {
            return Ok(());
        }
        self.pipe.ring.map()?;
        if self.queued(false).bytes as usize + len > RING_BYTES
            && self.queued(true).bytes as usize + len > RING_BYTES
        {
            return Err(Status::SHOULD_WAIT);
        }
        let at = self.state.written.bytes as usize % RING_BYTES;
        let first = len.min(RING_BYTES - at);
        // SAFETY: bytes `at..at + first` and `0..len - first` of the ring
        // are beyond `written` and within `RING_BYTES` of `read`: no reader
        // touches them until published, and we are the only writer (the
        // gate). Both ranges are within the ring.
        unsafe {
            self.pipe.ring.fill(at, src, 0, first)?;
            if first < len {
                self.pipe.ring.fill(0, src, first, len - first)?;
            }
        }
        let written = self.state.written.plus(payload, len as u32);
        self.state.written = written;
        self.pipe.written.0.store(written.pack(), Ordering::Release);
        Ok(())
    }
}

/// The reader side of a [`Pipe`], entered.
#[derive(Debug)]
pub struct Reader<'a> {
    pipe: &'a Pipe,
    state: Pass<'a, Consumer>,
}

impl Reader<'_> {
    /// What the pipe holds, from this reader's view: `fresh` reloads the
    /// writer's counter; otherwise the result may understate.
    #[inline]
    pub fn queued(&mut self, fresh: bool) -> Tally {
        if fresh {
            self.state.written_seen = Tally::unpack(self.pipe.written.0.load(Ordering::Acquire));
        }
        self.state.written_seen.since(self.state.read)
    }

    /// Copies bytes `skip..skip + len` of what is queued to `put`, in at
    /// most two pieces (the ring wraps): `put(offset, ring pointer, n)`.
    fn pieces(
        &mut self,
        skip: usize,
        len: usize,
        mut put: impl FnMut(usize, *const u8, usize) -> Result<(), Status>,
    ) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        debug_assert!(skip + len <= self.queued(false).bytes as usize);
        let at = (self.state.read.bytes as usize + skip) % RING_BYTES;
        let first = len.min(RING_BYTES - at);
        // SAFETY: these bytes are below the `written` we loaded (acquire),
        // so the writer initialised them (the ring is mapped) and will not
        // write them again until we publish `read` past them. Both ranges
        // are within the ring.
        unsafe {
            self.pipe.ring.drain(at, first, |src| put(0, src, first))?;
            if first < len {
                self.pipe
                    .ring
                    .drain(0, len - first, |src| put(first, src, len - first))?;
            }
        }
        Ok(())
    }

    /// Copies up to `dst.len()` queued bytes from the front into `dst`
    /// without consuming them; returns how many.
    pub fn peek(&mut self, dst: &mut [u8]) -> usize {
        let len = dst.len().min(self.queued(false).bytes as usize);
        let out = dst.as_mut_ptr();
        let copied = self.pieces(0, len, |offset, src, n| {
            // SAFETY: `src` holds `n` published bytes (see `pieces`), and
            // `offset + n <= len <= dst.len()`: they fit in `dst`, ours.
            unsafe { ptr::copy_nonoverlapping(src, out.add(offset), n) };
            Ok(())
        });
        if copied.is_ok() {
            len
        } else {
            0
        }
    }

    /// Copies queued bytes `skip..skip + len` into `dst` at offset 0, then
    /// consumes `consume` (payload and bytes) from the front. If the sink
    /// faults, nothing is consumed.
    ///
    /// # Errors
    /// The sink's fault.
    pub fn take(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        consume: Tally,
    ) -> Result<(), Status> {
        debug_assert!(skip + len <= consume.bytes as usize);
        debug_assert!(consume.bytes <= self.queued(false).bytes);
        assert!(len <= dst.len(), "more bytes than the sink holds");
        self.pieces(skip, len, |offset, src, n| {
            // SAFETY: `src` holds `n` published bytes (see `pieces`), and
            // `offset + n <= len <= dst.len()` (asserted above).
            unsafe { dst.write_from_raw(offset, src, n) }
        })?;
        let read = self.state.read.plus(consume.payload, consume.bytes);
        self.state.read = read;
        self.pipe.read.0.store(read.pack(), Ordering::Release);
        Ok(())
    }
}

/// The ring's bytes: mapped on first use, unmapped with the pipe.
#[cfg(not(loom))]
struct Ring {
    /// The mapping's address (null until the first write maps it).
    base: crate::sync::AtomicPtr<u8>,
}

#[cfg(not(loom))]
impl Ring {
    fn new() -> Ring {
        Ring {
            base: crate::sync::AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The bytes, if mapped (acquire: the writer mapped them before
    /// publishing anything in them).
    fn base(&self) -> Option<*mut u8> {
        let base = self.base.load(Ordering::Acquire);
        (!base.is_null()).then_some(base)
    }

    /// Whether the ring is mapped.
    fn is_mapped(&self) -> bool {
        self.base().is_some()
    }

    /// Maps the bytes if they are not yet. Only writers (inside the writer
    /// gate) call this, so there is one mapper at a time.
    #[inline]
    fn map(&self) -> Result<(), Status> {
        if self.is_mapped() {
            return Ok(());
        }
        self.map_now()
    }

    /// [`Ring::map`] the first time.
    #[cold]
    #[inline(never)]
    fn map_now(&self) -> Result<(), Status> {
        use rustix::mm::{mmap_anonymous, MapFlags, ProtFlags};
        // SAFETY: a fresh private anonymous mapping at an address the
        // kernel picks: it aliases nothing.
        let mapped = unsafe {
            mmap_anonymous(
                ptr::null_mut(),
                RING_BYTES,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )
        }
        .map_err(|_| Status::NO_MEMORY)?;
        self.base.store(mapped.cast::<u8>(), Ordering::Release);
        Ok(())
    }

    /// Copies `n` bytes of `src`, from `offset`, into the ring at `at`.
    ///
    /// # Safety
    /// 1. The ring is mapped, and `at + n <= RING_BYTES`.
    /// 2. Nobody else touches those bytes meanwhile.
    unsafe fn fill(
        &self,
        at: usize,
        src: &(impl Source + ?Sized),
        offset: usize,
        n: usize,
    ) -> Result<(), Status> {
        let base = self.base().ok_or(Status::INTERNAL)?;
        // SAFETY: promise 1 keeps the range inside the mapping; promise 2
        // gives the copy those bytes alone.
        unsafe { src.copy_to_raw(offset, base.add(at), n) }
    }

    /// Hands the `n` bytes at `at` to `put`, as a raw pointer.
    ///
    /// # Safety
    /// 1. The ring is mapped, and `at + n <= RING_BYTES`.
    /// 2. Nobody writes those bytes meanwhile.
    unsafe fn drain(
        &self,
        at: usize,
        _n: usize,
        put: impl FnOnce(*const u8) -> Result<(), Status>,
    ) -> Result<(), Status> {
        let base = self.base().ok_or(Status::INTERNAL)?;
        // SAFETY: promise 1 keeps the range inside the mapping.
        put(unsafe { base.add(at) })
    }

    /// Gives the pages back to the kernel (they read as zeros after). The
    /// caller holds the reader's gate and no longer needs any byte.
    fn release(&self) {
        if let Some(base) = self.base() {
            use rustix::mm::{madvise, Advice};
            // SAFETY: `base` maps `RING_BYTES` bytes of a private anonymous
            // mapping of ours that stays mapped; discarding the pages only
            // zeroes them. No reader is copying out (the caller holds the
            // reader's gate); a late writer's bytes have no reader (see
            // `Pipe::clear`), and its raw copy stays within the mapping.
            let _ = unsafe { madvise(base.cast(), RING_BYTES, Advice::LinuxDontNeed) };
        }
    }
}

#[cfg(not(loom))]
impl Drop for Ring {
    fn drop(&mut self) {
        if let Some(base) = self.base() {
            // SAFETY: the mapping is ours, `RING_BYTES` long, and with
            // `&mut self` nothing uses it any more.
            let _ = unsafe { rustix::mm::munmap(base.cast(), RING_BYTES) };
        }
    }
}

/// Under loom the ring is ordinary memory that loom tracks byte by byte;
/// copies go through a buffer of the test's own.
#[cfg(loom)]
struct Ring {
    bytes: Box<[crate::sync::UnsafeCell<u8>]>,
}

#[cfg(loom)]
impl Ring {
    fn new() -> Ring {
        Ring {
            bytes: (0..RING_BYTES)
                .map(|_| crate::sync::UnsafeCell::new(0))
                .collect(),
        }
    }

    fn is_mapped(&self) -> bool {
        true
    }

    fn map(&self) -> Result<(), Status> {
        Ok(())
    }

    unsafe fn fill(
        &self,
        at: usize,
        src: &(impl Source + ?Sized),
        offset: usize,
        n: usize,
    ) -> Result<(), Status> {
        let mut buf = vec![0u8; n];
        src.copy_to_slice(offset, &mut buf)?;
        for (cell, byte) in self.bytes[at..at + n].iter().zip(buf) {
            // SAFETY: loom checks the exclusive access the caller promises.
            cell.with_mut(|p| unsafe { *p = byte });
        }
        Ok(())
    }

    unsafe fn drain(
        &self,
        at: usize,
        n: usize,
        put: impl FnOnce(*const u8) -> Result<(), Status>,
    ) -> Result<(), Status> {
        let buf: Vec<u8> = self.bytes[at..at + n]
            .iter()
            // SAFETY: loom checks the caller's promise that nobody writes.
            .map(|cell| cell.with(|p| unsafe { *p }))
            .collect();
        put(buf.as_ptr())
    }

    fn release(&self) {}
}

// SAFETY: the ring's bytes are reached only under the protocol in the module
// docs (the gates and the published counters order every access).
unsafe impl Send for Ring {}
// SAFETY: as for `Send`.
unsafe impl Sync for Ring {}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn write(pipe: &Pipe, data: &[u8]) {
        pipe.writer().push(data, data.len() as u32).unwrap();
    }

    fn read(pipe: &Pipe, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        let mut reader = pipe.reader();
        assert!(reader.queued(true).bytes as usize >= n);
        reader
            .take(
                0,
                n,
                &mut out[..],
                Tally {
                    payload: n as u32,
                    bytes: n as u32,
                },
            )
            .unwrap();
        out
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn a_new_pipe_maps_nothing() {
        let pipe = Pipe::new();
        assert_eq!(pipe.footprint(), 0);
        assert_eq!(pipe.queued(), Tally::ZERO);
        write(&pipe, b"x");
        assert_eq!(pipe.footprint(), RING_BYTES);
    }

    #[test]
    fn bytes_come_out_in_order_across_the_wrap() {
        let pipe = Pipe::new();
        let mut expect = std::collections::VecDeque::new();
        for i in 0..2000u32 {
            let data = pattern((i as usize * 37) % 3000 + 1, i as u8);
            if expect.len() + data.len() > 250_000 {
                let n = expect.len();
                let got = read(&pipe, n);
                assert!(got.iter().eq(expect.drain(..n).collect::<Vec<_>>().iter()));
            }
            write(&pipe, &data);
            expect.extend(data);
            if i % 7 == 0 {
                let n = expect.len() / 3;
                let got = read(&pipe, n);
                assert!(got.iter().eq(expect.drain(..n).collect::<Vec<_>>().iter()));
            }
        }
        let n = expect.len();
        assert_eq!(read(&pipe, n), expect.into_iter().collect::<Vec<_>>());
        assert!(pipe.queued().is_zero());
    }

    #[test]
    fn peek_and_skip() {
        let pipe = Pipe::new();
        write(&pipe, b"hello world");
        let mut reader = pipe.reader();
        reader.queued(true);
        let mut front = [0u8; 3];
        assert_eq!(reader.peek(&mut front), 3);
        assert_eq!(&front, b"hel");
        let mut out = [0u8; 5];
        reader
            .take(
                6,
                5,
                &mut out[..],
                Tally {
                    payload: 11,
                    bytes: 11,
                },
            )
            .unwrap();
        assert_eq!(&out, b"world");
        assert!(reader.queued(true).is_zero());
    }

    struct Faulty;
    impl Source for Faulty {
        fn len(&self) -> usize {
            5000
        }
        unsafe fn copy_to_raw(
            &self,
            offset: usize,
            dst: *mut u8,
            len: usize,
        ) -> Result<(), Status> {
            if offset + len > 1000 {
                return Err(Status::INVALID_ARGS);
            }
            // SAFETY: the caller's promise 1.
            unsafe { dst.write_bytes(7, len) };
            Ok(())
        }
    }

    #[test]
    fn a_faulting_source_publishes_nothing() {
        let pipe = Pipe::new();
        write(&pipe, b"abc");
        assert_eq!(pipe.writer().push(&Faulty, 5000), Err(Status::INVALID_ARGS));
        assert_eq!(pipe.queued().bytes, 3);
        assert_eq!(read(&pipe, 3), b"abc");
    }

    #[test]
    fn clear_drops_everything_and_keeps_working() {
        let pipe = Pipe::new();
        write(&pipe, &pattern(100_000, 2));
        pipe.clear();
        assert!(pipe.queued().is_zero());
        write(&pipe, b"again");
        assert_eq!(read(&pipe, 5), b"again");
    }

    #[test]
    fn concurrent_writer_and_reader() {
        let pipe = std::sync::Arc::new(Pipe::new());
        let total = 8_000_000usize;
        let writer = {
            let pipe = pipe.clone();
            std::thread::spawn(move || {
                let mut sent = 0;
                let mut seed = 0u8;
                while sent < total {
                    let n = ((seed as usize * 977) % 70_000 + 1).min(total - sent);
                    let data: Vec<u8> = (sent..sent + n).map(|i| (i % 251) as u8).collect();
                    loop {
                        let mut w = pipe.writer();
                        if w.queued(true).bytes as usize + n <= 257_024 {
                            w.push(&data[..], n as u32).unwrap();
                            break;
                        }
                        drop(w);
                        std::thread::yield_now();
                    }
                    sent += n;
                    seed = seed.wrapping_add(1);
                }
            })
        };
        let mut got = 0;
        let mut buf = vec![0u8; 100_000];
        while got < total {
            let mut r = pipe.reader();
            let q = r.queued(true).bytes as usize;
            if q == 0 {
                drop(r);
                std::thread::yield_now();
                continue;
            }
            let n = q.min(buf.len()).min(got % 65_537 + 1);
            r.take(
                0,
                n,
                &mut buf[..n],
                Tally {
                    payload: n as u32,
                    bytes: n as u32,
                },
            )
            .unwrap();
            for (i, b) in buf[..n].iter().enumerate() {
                assert_eq!(*b, ((got + i) % 251) as u8, "byte {}", got + i);
            }
            got += n;
        }
        writer.join().unwrap();
    }
}

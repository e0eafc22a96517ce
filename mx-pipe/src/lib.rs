//! One direction of a socket: a queue of bytes that one writer and one reader
//! use at the same time without sharing a lock.
//!
//! # The protocol
//!
//! A [`Pipe`] is a chain of chunks ([`MIN_CHUNK`] to [`MAX_CHUNK`] bytes)
//! and two counters, `written` and `read`, each a [`Tally`] of payload and
//! bytes packed into one atomic word:
//!
//! ```text
//!   reader: head, pos                         writer: tail, filled
//!        v                                              v
//!   [chunk]--next-->[chunk]--next-->[chunk (filled...capacity free)]
//!        |<------ published (read..written) ------>|
//! ```
//!
//! - Writers are serialised by the writer mutex ([`Pipe::writer`]), readers
//!   by the reader mutex ([`Pipe::reader`]); a writer and a reader never wait
//!   for each other, and each side's mutex and counter sit on their own
//!   cache line.
//! - The writer copies into bytes beyond `written` (which only it touches),
//!   allocates and links new chunks *before* publishing, then publishes by
//!   storing `written` with release ordering. Published bytes are never
//!   written again.
//! - The reader copies only bytes below the `written` it loaded with acquire
//!   ordering, then stores `read` with release ordering. It frees a chunk
//!   only once the chunk is consumed *and* its `next` is set, because the
//!   writer never touches a chunk again after linking the next one.
//! - A consumed chunk goes to a one-chunk `spare` slot for the writer's next
//!   allocation, so steady traffic does not call the allocator.
//! - Memory follows content: new chunks are sized by what is queued, and a
//!   reader that leaves a large chunk (nearly) empty compacts the queue when
//!   it can take the writer mutex without waiting (both mutexes held: nobody
//!   else touches the chain).
//!
//! The `unsafe` code is the byte copies into and out of chunks and the
//! chunks' allocation (the `chunk` module); every block states which rule above makes
//! it sound. The protocol is model-checked with loom (`tests/loom.rs`).

#![warn(clippy::undocumented_unsafe_blocks)]

mod chunk;
pub mod sync;

use core::ptr::{self, NonNull};

use mx_core::storage::{Sink, Source, Tally};
use mx_core::Status;

use crate::chunk::Chunk;
use crate::sync::{AtomicPtr, AtomicU64, Mutex, MutexGuard, Ordering};

/// The smallest chunk allocated.
pub const MIN_CHUNK: usize = if cfg!(loom) { 4 } else { 256 };
/// The largest chunk allocated.
pub const MAX_CHUNK: usize = if cfg!(loom) { 8 } else { 64 * 1024 };
/// A reader compacts the queue when it leaves a chunk larger than this
/// holding at most [`COMPACT_BELOW`] bytes.
pub const KEEP_CHUNK: usize = if cfg!(loom) { 4 } else { 4096 };
/// See [`KEEP_CHUNK`].
pub const COMPACT_BELOW: usize = if cfg!(loom) { 2 } else { 1024 };

/// The capacity of a new chunk when `queued` bytes wait and `needed` more
/// are coming: a queue the reader keeps short uses small chunks; a long one
/// uses large chunks.
fn chunk_size(queued: usize, needed: usize) -> usize {
    needed
        .max(queued)
        .clamp(MIN_CHUNK, MAX_CHUNK)
        .next_power_of_two()
}

/// A value alone on its cache line(s).
#[derive(Debug)]
#[repr(align(64))]
struct Padded<T>(T);

/// One direction of a socket.
#[derive(Debug)]
pub struct Pipe {
    tx: Padded<Tx>,
    rx: Padded<Rx>,
}

/// The writer's side: the mutex and what it protects on one cache line,
/// the counter the reader polls on another (so polling it does not steal
/// the line the writer locks).
#[derive(Debug)]
struct Tx {
    /// Serialises writers; holds the tail of the chain.
    producer: Padded<Mutex<Producer>>,
    /// Everything published so far ([`Tally::pack`]).
    written: AtomicU64,
    /// The first chunk of a chain started when the reader had none.
    start: AtomicPtr<Chunk>,
}

/// The reader's side, laid out as [`Tx`].
#[derive(Debug)]
struct Rx {
    /// Serialises readers; holds the head of the chain.
    consumer: Padded<Mutex<Consumer>>,
    /// Everything consumed so far ([`Tally::pack`]).
    read: AtomicU64,
    /// A consumed chunk kept for the writer's next allocation (or null).
    spare: AtomicPtr<Chunk>,
}

#[derive(Debug)]
struct Producer {
    /// The chunk being filled (`None`: no chain yet).
    tail: Option<NonNull<Chunk>>,
    /// Bytes of `tail` in use.
    filled: usize,
    /// The writer's copy of `Tx::written`.
    written: Tally,
    /// The last `Rx::read` the writer loaded (`read` only grows).
    read_seen: Tally,
}

#[derive(Debug)]
struct Consumer {
    /// The chunk being read (`None`: adopt `Tx::start` when bytes arrive).
    head: Option<NonNull<Chunk>>,
    /// Bytes of `head` consumed.
    pos: usize,
    /// The reader's copy of `Rx::read`.
    read: Tally,
    /// The last `Tx::written` the reader loaded.
    written_seen: Tally,
    /// Capacity of the last chunk put in `spare` (a hint for compaction).
    spare_hint: usize,
    /// The head chunk when compaction was last tried: it is tried once per
    /// head chunk (or on [`Reader::compact_now`]), since trying takes the
    /// writer's cache line.
    tried: Option<NonNull<Chunk>>,
}

// SAFETY: the chunk pointers are owned by the pipe; they are dereferenced
// only by the thread holding the mutex around them, under the protocol
// described in the crate docs.
unsafe impl Send for Producer {}
// SAFETY: as for `Producer`.
unsafe impl Send for Consumer {}

impl Default for Pipe {
    fn default() -> Self {
        Pipe::new()
    }
}

impl Pipe {
    /// An empty pipe; it allocates no chunk until the first write.
    pub fn new() -> Pipe {
        Pipe {
            tx: Padded(Tx {
                producer: Padded(Mutex::new(Producer {
                    tail: None,
                    filled: 0,
                    written: Tally::ZERO,
                    read_seen: Tally::ZERO,
                })),
                written: AtomicU64::new(0),
                start: AtomicPtr::new(ptr::null_mut()),
            }),
            rx: Padded(Rx {
                consumer: Padded(Mutex::new(Consumer {
                    head: None,
                    pos: 0,
                    read: Tally::ZERO,
                    written_seen: Tally::ZERO,
                    spare_hint: 0,
                    tried: None,
                })),
                read: AtomicU64::new(0),
                spare: AtomicPtr::new(ptr::null_mut()),
            }),
        }
    }

    /// What the pipe holds now, without locking (read first, so the result
    /// never goes negative).
    pub fn queued(&self) -> Tally {
        let read = Tally::unpack(self.rx.0.read.load(Ordering::Acquire));
        let written = Tally::unpack(self.tx.0.written.load(Ordering::Acquire));
        written.since(read)
    }

    /// Locks the writer side.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            pipe: self,
            producer: self.tx.0.producer.0.lock(),
        }
    }

    /// Locks the reader side.
    pub fn reader(&self) -> Reader<'_> {
        Reader {
            pipe: self,
            consumer: self.rx.0.consumer.0.lock(),
        }
    }

    /// Drops everything queued and frees every chunk (the reading end was
    /// closed). Waits for a writer or reader in progress.
    pub fn clear(&self) {
        let mut consumer = self.rx.0.consumer.0.lock();
        let mut producer = self.tx.0.producer.0.lock();
        let written = Tally::unpack(self.tx.0.written.load(Ordering::Acquire));
        // SAFETY: both mutexes are held, so no other thread touches the
        // chain, and the chain from the head (or start) holds every chunk.
        unsafe { self.release_all(&mut consumer, &mut producer) };
        consumer.read = written;
        consumer.written_seen = written;
        self.rx.0.read.store(written.pack(), Ordering::Release);
    }

    /// Frees the chain and the spare chunk and forgets them.
    ///
    /// # Safety
    /// The caller holds both mutexes (`consumer`, `producer` are theirs).
    unsafe fn release_all(&self, consumer: &mut Consumer, producer: &mut Producer) {
        let first = consumer
            .head
            .or_else(|| NonNull::new(self.tx.0.start.load(Ordering::Acquire)));
        // SAFETY: the caller holds both mutexes: nobody else touches these;
        // the spare chunk is unlinked (a chain of one).
        unsafe {
            Chunk::free_chain(first);
            Chunk::free_chain(NonNull::new(
                self.rx.0.spare.swap(ptr::null_mut(), Ordering::AcqRel),
            ));
        }
        self.tx.0.start.store(ptr::null_mut(), Ordering::Release);
        consumer.head = None;
        consumer.pos = 0;
        consumer.spare_hint = 0;
        producer.tail = None;
        producer.filled = 0;
    }

    /// A chunk of `capacity` bytes: the spare one if it fits, else a new one.
    fn chunk(&self, capacity: usize) -> Result<NonNull<Chunk>, Status> {
        if let Some(spare) = NonNull::new(self.rx.0.spare.swap(ptr::null_mut(), Ordering::AcqRel)) {
            // SAFETY: the reader put it there after its last use, with release
            // ordering; the swap made it ours.
            let spare_ref = unsafe { spare.as_ref() };
            if spare_ref.capacity() >= capacity {
                spare_ref.next.store(ptr::null_mut(), Ordering::Relaxed);
                return Ok(spare);
            }
            // SAFETY: it is ours (see above) and not linked anywhere.
            unsafe { Chunk::free(spare) };
        }
        Chunk::alloc(capacity)
    }

    /// Heap bytes the pipe owns in chunks (takes both mutexes).
    pub fn footprint(&self) -> usize {
        let consumer = self.rx.0.consumer.0.lock();
        let _producer = self.tx.0.producer.0.lock();
        let mut total = 0;
        let mut next = consumer
            .head
            .or_else(|| NonNull::new(self.tx.0.start.load(Ordering::Acquire)));
        while let Some(chunk) = next {
            // SAFETY: both mutexes are held: the chain is stable.
            let chunk = unsafe { chunk.as_ref() };
            total += chunk.capacity();
            next = NonNull::new(chunk.next.load(Ordering::Acquire));
        }
        if let Some(spare) = NonNull::new(self.rx.0.spare.load(Ordering::Acquire)) {
            // SAFETY: only holders of both mutexes or the writer take the
            // spare; we hold the writer's.
            total += unsafe { spare.as_ref() }.capacity();
        }
        total
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let first = self
            .rx
            .0
            .consumer
            .0
            .get_mut()
            .head
            .or_else(|| NonNull::new(self.tx.0.start.load(Ordering::Acquire)));
        // SAFETY: `&mut self`: no other thread can touch the pipe; the spare
        // chunk is unlinked (a chain of one).
        unsafe {
            Chunk::free_chain(first);
            Chunk::free_chain(NonNull::new(self.rx.0.spare.load(Ordering::Acquire)));
        }
    }
}

/// The writer side of a [`Pipe`], locked.
#[derive(Debug)]
pub struct Writer<'a> {
    pipe: &'a Pipe,
    producer: MutexGuard<'a, Producer>,
}

impl Writer<'_> {
    /// What the pipe holds, from this writer's view: `fresh` re-reads the
    /// reader's counter; otherwise the result may overstate (the reader may
    /// have consumed more since).
    pub fn queued(&mut self, fresh: bool) -> Tally {
        if fresh {
            self.producer.read_seen = Tally::unpack(self.pipe.rx.0.read.load(Ordering::Acquire));
        }
        self.producer.written.since(self.producer.read_seen)
    }

    /// Appends all of `src`, of which `payload` bytes count as payload, and
    /// publishes it.
    ///
    /// # Errors
    /// `NO_MEMORY`, or the source's fault; nothing is published then.
    pub fn push(&mut self, src: &(impl Source + ?Sized), payload: u32) -> Result<(), Status> {
        let len = src.len();
        if len == 0 {
            return Ok(());
        }
        let tail_room = self.producer.tail.map_or(0, |tail| {
            // SAFETY: the tail belongs to the chain, which the reader frees
            // only after we link past it; we hold the writer mutex.
            unsafe { tail.as_ref() }.capacity() - self.producer.filled
        });
        // New chunks are sized by what is queued now, so look at the reader's
        // counter afresh (once per new chunk, not once per write).
        let queued = self.queued(tail_room < len).bytes as usize;
        let producer = &mut *self.producer;

        // Allocate every chunk first (a private chain), so that the copy
        // cannot fail for memory and a failure leaves the pipe unchanged.
        let mut first: Option<NonNull<Chunk>> = None;
        let mut last: Option<NonNull<Chunk>> = None;
        let mut needed = len.saturating_sub(tail_room);
        while needed > 0 {
            let capacity = chunk_size(queued + len - needed, needed);
            let chunk = match self.pipe.chunk(capacity) {
                Ok(chunk) => chunk,
                Err(status) => {
                    // SAFETY: the private chain is ours alone.
                    unsafe { Chunk::free_chain(first) };
                    return Err(status);
                }
            };
            match last {
                // SAFETY: `last` is in our private chain.
                Some(last) => unsafe { last.as_ref() }
                    .next
                    .store(chunk.as_ptr(), Ordering::Relaxed),
                None => first = Some(chunk),
            }
            last = Some(chunk);
            needed -= capacity.min(needed);
        }

        // Copy: the rest of the tail, then the new chunks.
        let mut done = 0;
        let mut last_filled = producer.filled;
        let mut copied = Ok(());
        if let Some(tail) = producer.tail {
            let n = tail_room.min(len);
            if n > 0 {
                // SAFETY: bytes `filled..` of the tail are beyond `written`:
                // only the writer touches them, and we are the writer.
                copied = unsafe { tail.as_ref().fill(producer.filled, n, src, 0) };
                done = n;
                last_filled += n;
            }
        }
        let mut next = first;
        while let (Ok(()), Some(chunk)) = (&copied, next) {
            // SAFETY: the private chain is ours alone.
            let chunk_ref = unsafe { chunk.as_ref() };
            let n = chunk_ref.capacity().min(len - done);
            // SAFETY: as above.
            copied = unsafe { chunk_ref.fill(0, n, src, done) };
            done += n;
            last_filled = n;
            next = NonNull::new(chunk_ref.next.load(Ordering::Relaxed));
        }
        if let Err(status) = copied {
            // SAFETY: the private chain is ours alone; bytes written into
            // the tail beyond `filled` are not published and will be
            // overwritten.
            unsafe { Chunk::free_chain(first) };
            return Err(status);
        }
        debug_assert_eq!(done, len);

        // Link, then publish.
        if let Some(first) = first {
            match producer.tail {
                // SAFETY: the tail is ours until linked past; this store is
                // the last time the writer touches it.
                Some(tail) => unsafe { tail.as_ref() }
                    .next
                    .store(first.as_ptr(), Ordering::Release),
                None => self
                    .pipe
                    .tx
                    .0
                    .start
                    .store(first.as_ptr(), Ordering::Release),
            }
            producer.tail = last;
        }
        producer.filled = last_filled;
        producer.written = producer.written.plus(payload, len as u32);
        self.pipe
            .tx
            .0
            .written
            .store(producer.written.pack(), Ordering::Release);
        Ok(())
    }
}

/// The reader side of a [`Pipe`], locked.
#[derive(Debug)]
pub struct Reader<'a> {
    pipe: &'a Pipe,
    consumer: MutexGuard<'a, Consumer>,
}

impl Reader<'_> {
    /// What the pipe holds, from this reader's view: `fresh` re-reads the
    /// writer's counter; otherwise the result may understate (the writer may
    /// have published more since).
    pub fn queued(&mut self, fresh: bool) -> Tally {
        if fresh {
            self.consumer.written_seen =
                Tally::unpack(self.pipe.tx.0.written.load(Ordering::Acquire));
        }
        self.consumer.written_seen.since(self.consumer.read)
    }

    /// The chunk and offset of queued byte `skip`, or `None` past what was
    /// seen published.
    fn locate(&mut self, skip: usize) -> Option<(NonNull<Chunk>, usize)> {
        let queued = self.queued(false).bytes as usize;
        if skip >= queued {
            return None;
        }
        let consumer = &mut *self.consumer;
        if consumer.head.is_none() {
            // Bytes are published, so the writer stored `start` before them.
            consumer.head = NonNull::new(self.pipe.tx.0.start.load(Ordering::Acquire));
            consumer.pos = 0;
        }
        let mut chunk = consumer.head?;
        let mut offset = consumer.pos + skip;
        loop {
            // SAFETY: chunks from the head on are alive: only this reader
            // frees them.
            let chunk_ref = unsafe { chunk.as_ref() };
            if offset < chunk_ref.capacity() {
                return Some((chunk, offset));
            }
            offset -= chunk_ref.capacity();
            // Byte `skip` is published, so the writer linked past this chunk.
            chunk = NonNull::new(chunk_ref.next.load(Ordering::Acquire))?;
        }
    }

    /// Copies up to `dst.len()` queued bytes from the front into `dst`
    /// without consuming them; returns how many.
    pub fn peek(&mut self, dst: &mut [u8]) -> usize {
        let len = dst.len().min(self.queued(false).bytes as usize);
        match self.copy(0, len, dst) {
            Ok(()) => len,
            Err(_) => 0,
        }
    }

    /// Copies queued bytes `skip..skip + len` into `dst` at offset 0.
    fn copy(
        &mut self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
    ) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        let Some((mut chunk, mut offset)) = self.locate(skip) else {
            return Err(Status::INTERNAL);
        };
        let mut done = 0;
        loop {
            // SAFETY: see `locate`.
            let chunk_ref = unsafe { chunk.as_ref() };
            let n = (chunk_ref.capacity() - offset).min(len - done);
            // SAFETY: these bytes are below the `written` we loaded: published
            // bytes are never written again.
            unsafe { chunk_ref.drain(offset, n, dst, done)? };
            done += n;
            if done == len {
                return Ok(());
            }
            chunk = NonNull::new(chunk_ref.next.load(Ordering::Acquire)).ok_or(Status::INTERNAL)?;
            offset = 0;
        }
    }

    /// Copies queued bytes `skip..skip + len` into `dst`, then consumes
    /// `consume` (payload and bytes) from the front. If the sink faults,
    /// nothing is consumed.
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
        self.copy(skip, len, dst)?;
        self.consume(consume);
        Ok(())
    }

    /// Drops `consume` from the front and publishes the new `read`.
    fn consume(&mut self, consume: Tally) {
        if consume.bytes == 0 {
            return;
        }
        if self.locate(0).is_none() {
            debug_assert!(false, "consume from an empty pipe");
            return;
        }
        let pipe = self.pipe;
        let consumer = &mut *self.consumer;
        let mut remaining = consume.bytes as usize;
        while let Some(head) = consumer.head {
            // SAFETY: see `locate`.
            let head_ref = unsafe { head.as_ref() };
            let here = head_ref.capacity() - consumer.pos;
            if remaining < here {
                consumer.pos += remaining;
                break;
            }
            remaining -= here;
            match NonNull::new(head_ref.next.load(Ordering::Acquire)) {
                Some(next) => {
                    // The writer linked past it: it is ours to recycle.
                    consumer.spare_hint = head_ref.capacity();
                    head_ref.next.store(ptr::null_mut(), Ordering::Relaxed);
                    let old = pipe.rx.0.spare.swap(head.as_ptr(), Ordering::AcqRel);
                    if let Some(old) = NonNull::new(old) {
                        // SAFETY: the old spare was consumed and unlinked; the
                        // swap took it back from the slot.
                        unsafe { Chunk::free(old) };
                    }
                    consumer.head = Some(next);
                    consumer.pos = 0;
                }
                None => {
                    // The writer's tail, full: keep it until the writer moves on.
                    debug_assert_eq!(remaining, 0);
                    consumer.pos = head_ref.capacity();
                    break;
                }
            }
        }
        consumer.read = consumer.read.plus(consume.payload, consume.bytes);
        pipe.rx
            .0
            .read
            .store(consumer.read.pack(), Ordering::Release);
        self.compact();
    }

    /// Gives memory back when a large chunk holds little: frees everything
    /// when the pipe is empty, or moves a short remainder into a small chunk.
    /// Only if the writer mutex is free right now.
    fn compact(&mut self) {
        if self.consumer.head != self.consumer.tried {
            self.compact_now();
        }
    }

    /// Gives memory back now if a large chunk holds little and the writer
    /// mutex is free: frees everything when the pipe is empty, or moves a
    /// short remainder into a small chunk. Call it when the pipe goes idle
    /// (a reader about to sleep), since compaction after reads is tried only
    /// once per chunk.
    pub fn compact_now(&mut self) {
        let queued = self.queued(false).bytes as usize;
        let Some(head) = self.consumer.head else {
            return;
        };
        self.consumer.tried = Some(head);
        // SAFETY: see `locate`.
        let big = unsafe { head.as_ref() }.capacity() > KEEP_CHUNK
            || self.consumer.spare_hint > KEEP_CHUNK;
        if !big || queued > COMPACT_BELOW {
            return;
        }
        let Some(mut producer) = self.pipe.tx.0.producer.0.try_lock() else {
            return;
        };
        let queued = self.queued(true).bytes as usize;
        let consumer = &mut *self.consumer;
        if queued == 0 {
            // SAFETY: both mutexes are held.
            unsafe { self.pipe.release_all(consumer, &mut producer) };
            return;
        }
        if queued > COMPACT_BELOW || consumer.head != producer.tail {
            return;
        }
        let Ok(small) = Chunk::alloc(chunk_size(0, queued)) else {
            return;
        };
        // SAFETY: both mutexes are held: nobody else touches the chain, and
        // `small` is ours until linked below.
        unsafe {
            let head_ref = head.as_ref();
            let mut bytes = [0u8; COMPACT_BELOW];
            let _ = head_ref.drain(consumer.pos, queued, &mut bytes[..queued], 0);
            let _ = small.as_ref().fill(0, queued, &bytes[..queued], 0);
            Chunk::free(head);
            // The spare chunk is unlinked (a chain of one).
            Chunk::free_chain(NonNull::new(
                self.pipe.rx.0.spare.swap(ptr::null_mut(), Ordering::AcqRel),
            ));
        }
        self.pipe
            .tx
            .0
            .start
            .store(small.as_ptr(), Ordering::Release);
        consumer.head = Some(small);
        consumer.pos = 0;
        consumer.spare_hint = 0;
        producer.tail = Some(small);
        producer.filled = queued;
    }
}

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
    fn a_new_pipe_owns_nothing() {
        let pipe = Pipe::new();
        assert_eq!(pipe.footprint(), 0);
        assert_eq!(pipe.queued(), Tally::ZERO);
    }

    #[test]
    fn bytes_come_out_in_order_across_chunks() {
        let pipe = Pipe::new();
        let mut expect = Vec::new();
        for i in 0..300u32 {
            let data = pattern((i as usize * 37) % 3000 + 1, i as u8);
            write(&pipe, &data);
            expect.extend_from_slice(&data);
            if i % 7 == 0 {
                let n = expect.len() / 3;
                assert_eq!(read(&pipe, n), expect.drain(..n).collect::<Vec<_>>());
            }
        }
        assert_eq!(pipe.queued().bytes as usize, expect.len());
        assert_eq!(read(&pipe, expect.len()), expect);
        assert!(pipe.queued().is_zero());
    }

    #[test]
    fn memory_follows_content() {
        let pipe = Pipe::new();
        let big = pattern(200_000, 1);
        write(&pipe, &big);
        assert!(pipe.footprint() >= 200_000);
        read(&pipe, big.len() - 10);
        assert!(
            pipe.footprint() <= 2 * COMPACT_BELOW,
            "{} bytes for 10",
            pipe.footprint()
        );
        read(&pipe, 10);
        assert!(
            pipe.footprint() <= MIN_CHUNK,
            "{} bytes when empty",
            pipe.footprint()
        );
        // A pipe kept short by its reader uses small chunks.
        for _ in 0..10_000 {
            write(&pipe, b"x");
            read(&pipe, 1);
        }
        assert!(pipe.footprint() <= 2 * MIN_CHUNK, "{}", pipe.footprint());
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
        fn copy_to(
            &self,
            offset: usize,
            dst: &mut [core::mem::MaybeUninit<u8>],
        ) -> Result<(), Status> {
            if offset + dst.len() > 1000 {
                return Err(Status::INVALID_ARGS);
            }
            dst.fill(core::mem::MaybeUninit::new(7));
            Ok(())
        }
        fn copy_to_slice(&self, offset: usize, dst: &mut [u8]) -> Result<(), Status> {
            if offset + dst.len() > 1000 {
                return Err(Status::INVALID_ARGS);
            }
            dst.fill(7);
            Ok(())
        }
    }

    #[test]
    fn datagram_framing_round_trips() {
        let pipe = Pipe::new();
        let payload = [9u8; 200];
        let framed = mx_core::socket::Framed::new(true, &payload[..], 200);
        pipe.writer().push(&framed, 200).unwrap();
        assert_eq!(
            pipe.queued(),
            Tally {
                payload: 200,
                bytes: 202
            }
        );
        let mut reader = pipe.reader();
        reader.queued(true);
        let mut front = [0u8; mx_core::socket::MAX_HEADER];
        let n = reader.peek(&mut front);
        assert_eq!(mx_core::socket::decode_len(&front[..n]), Some((2, 200)));
        let mut out = [0u8; 200];
        reader
            .take(
                2,
                200,
                &mut out[..],
                Tally {
                    payload: 200,
                    bytes: 202,
                },
            )
            .unwrap();
        assert_eq!(out, payload);
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
    fn clear_frees_everything() {
        let pipe = Pipe::new();
        write(&pipe, &pattern(100_000, 2));
        pipe.clear();
        assert!(pipe.queued().is_zero());
        assert_eq!(pipe.footprint(), 0);
        write(&pipe, b"again");
        assert_eq!(read(&pipe, 5), b"again");
    }

    #[test]
    fn concurrent_writer_and_reader() {
        let pipe = std::sync::Arc::new(Pipe::new());
        let total = 4_000_000usize;
        let writer = {
            let pipe = pipe.clone();
            std::thread::spawn(move || {
                let mut sent = 0;
                let mut seed = 0u8;
                while sent < total {
                    let n = (seed as usize * 977) % 70_000 + 1;
                    let n = n.min(total - sent);
                    let data: Vec<u8> = (sent..sent + n).map(|i| (i % 251) as u8).collect();
                    loop {
                        let mut w = pipe.writer();
                        if w.queued(true).bytes < 1_000_000 {
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

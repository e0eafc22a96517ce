//! [`ChunkQueue`]: socket bytes on the heap, in chunks sized to what is held.
//!
//! A queue is a deque of chunks. Each chunk is a `Vec<u8>` whose capacity never
//! changes: bytes are appended into its spare capacity and read from `head`.
//! Chunks start at [`MIN_CHUNK`] bytes and double as a queue grows, up to
//! [`MAX_CHUNK`], so memory stays proportional to what the queue holds. Copies
//! are whole-slice `memcpy`s.
//!
//! The deque itself is allocated on first use, so an unused queue is one
//! pointer wide. A drained queue keeps one small chunk (at most
//! [`KEEP_CHUNK`]) for the next write and frees everything larger; a large
//! last chunk that holds little is compacted into a small one.
//!
//! Lending (for copies outside the socket lock) moves chunk buffers out of
//! their deque slots and leaves empty placeholders (capacity 0) behind;
//! [`Storage::put_front`] moves them back. Writers never touch a placeholder,
//! so they can append while a reader copies. Because the placeholders keep
//! their slots, taking the bytes back never allocates and cannot fail.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::{fmt, mem};

use triomphe::UniqueArc;

use crate::storage::{Sink, Source, Storage};
use crate::Status;

/// The smallest chunk allocated.
pub const MIN_CHUNK: usize = 256;
/// The largest chunk allocated.
pub const MAX_CHUNK: usize = 64 * 1024;
/// An emptied last chunk no larger than this is kept for the next write.
pub const KEEP_CHUNK: usize = 4096;
/// A large last chunk holding no more than this is compacted into a small one.
pub const COMPACT_BELOW: usize = 1024;

/// The capacity of a new chunk when the last chunk has capacity `last` (0 if
/// none) and `needed` more bytes are coming: chunks double as a queue grows.
fn chunk_size(last: usize, needed: usize) -> usize {
    needed
        .max(last.saturating_mul(2))
        .clamp(MIN_CHUNK, MAX_CHUNK)
        .next_power_of_two()
}

#[derive(Debug, Default)]
struct Chunk {
    /// Bytes `head..len` are queued; `len..capacity` is room for more.
    /// Capacity 0 marks a placeholder whose buffer is lent out.
    buf: Vec<u8>,
    /// Index of the first unread byte.
    head: usize,
}

impl Chunk {
    fn with_capacity(capacity: usize) -> Result<Chunk, Status> {
        let mut buf = Vec::new();
        buf.try_reserve_exact(capacity)?;
        Ok(Chunk { buf, head: 0 })
    }

    fn readable(&self) -> &[u8] {
        &self.buf[self.head..]
    }

    fn spare(&self) -> usize {
        self.buf.capacity() - self.buf.len()
    }

    fn is_placeholder(&self) -> bool {
        self.buf.capacity() == 0
    }
}

/// Bytes detached from a [`ChunkQueue`]: freshly filled by a writer, or lent
/// to a reader.
#[derive(Debug, Default)]
pub struct ChunkSegment {
    chunks: Vec<Chunk>,
    len: usize,
}

impl ChunkSegment {
    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the segment holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The heap [`Storage`]: a deque of chunks, allocated on first use.
#[derive(Default)]
pub struct ChunkQueue {
    deque: Option<UniqueArc<VecDeque<Chunk>>>,
}

impl fmt::Debug for ChunkQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkQueue")
            .field("len", &self.len())
            .field("chunks", &self.chunk_count())
            .finish()
    }
}

/// The chunks of a queue that has no deque.
static NO_CHUNKS: VecDeque<Chunk> = VecDeque::new();

impl ChunkQueue {
    /// An empty queue; allocates nothing.
    pub const fn new() -> ChunkQueue {
        ChunkQueue { deque: None }
    }

    fn chunks(&self) -> &VecDeque<Chunk> {
        self.deque.as_deref().unwrap_or(&NO_CHUNKS)
    }

    /// The deque, allocated if need be.
    fn chunks_mut(&mut self) -> Result<&mut VecDeque<Chunk>, Status> {
        if self.deque.is_none() {
            let deque = UniqueArc::try_new(VecDeque::new()).map_err(|_| Status::NO_MEMORY)?;
            self.deque = Some(deque);
        }
        self.deque.as_deref_mut().ok_or(Status::INTERNAL)
    }

    /// Heap bytes owned by the queue (the deque and the chunks).
    pub fn footprint(&self) -> usize {
        let Some(deque) = self.deque.as_deref() else {
            return 0;
        };
        mem::size_of::<VecDeque<Chunk>>()
            + deque.capacity() * mem::size_of::<Chunk>()
            + deque.iter().map(|c| c.buf.capacity()).sum::<usize>()
    }

    /// Number of chunks, placeholders included.
    pub fn chunk_count(&self) -> usize {
        self.chunks().len()
    }

    /// Spare room in the last chunk, if it can take bytes.
    fn back_spare(&self) -> usize {
        self.chunks().back().map_or(0, Chunk::spare)
    }

    /// Capacity of the last chunk (0 if none): new chunks double it.
    fn back_capacity(&self) -> usize {
        self.chunks().back().map_or(0, |c| c.buf.capacity())
    }

    /// Undoes a partial [`Storage::push`]: back to `chunks` chunks, the last
    /// one holding `back_len` bytes.
    fn truncate(&mut self, chunks: usize, back_len: usize) {
        let Some(deque) = self.deque.as_deref_mut() else {
            return;
        };
        deque.truncate(chunks);
        if let Some(back) = deque.back_mut() {
            back.buf.truncate(back_len);
        }
    }

    /// Replaces a large, nearly empty last chunk by a small one, so that a
    /// queue holding little also owns little. Best effort: skipped when the
    /// allocation fails.
    fn compact(&mut self) {
        let Some(deque) = self.deque.as_deref_mut() else {
            return;
        };
        if deque.len() != 1 {
            return;
        }
        let front = &deque[0];
        let held = front.readable().len();
        if front.buf.capacity() <= KEEP_CHUNK || held > COMPACT_BELOW || held == 0 {
            return;
        }
        if let Ok(mut small) = Chunk::with_capacity(chunk_size(0, held)) {
            small.buf.extend_from_slice(front.readable());
            deque[0] = small;
        }
    }
}

impl Storage for ChunkQueue {
    type Segment = ChunkSegment;

    fn len(&self) -> usize {
        self.chunks().iter().map(|c| c.readable().len()).sum()
    }

    fn push(
        &mut self,
        src: &(impl Source + ?Sized),
        offset: usize,
        len: usize,
    ) -> Result<(), Status> {
        if len == 0 {
            return Ok(());
        }
        let back_spare = self.back_spare();
        let mut last = self.back_capacity();
        let chunks = self.chunks_mut()?;
        let mark_chunks = chunks.len();
        let mark_back = chunks.back().map_or(0, |c| c.buf.len());

        // Allocate every chunk first, so the copy below cannot fail for memory.
        let mut needed = len.saturating_sub(back_spare);
        let mut failed = None;
        while needed > 0 {
            let capacity = chunk_size(last, needed);
            let added = Chunk::with_capacity(capacity).and_then(|chunk| {
                chunks.try_reserve(1)?;
                chunks.push_back(chunk);
                Ok(())
            });
            if let Err(status) = added {
                failed = Some(status);
                break;
            }
            needed -= capacity.min(needed);
            last = capacity;
        }

        if failed.is_none() {
            let first = if back_spare > 0 {
                mark_chunks - 1
            } else {
                mark_chunks
            };
            let mut done = 0;
            for chunk in chunks.range_mut(first..) {
                let n = chunk.spare().min(len - done);
                if n == 0 {
                    continue;
                }
                if let Err(status) = src.append_to(offset + done, n, &mut chunk.buf) {
                    failed = Some(status);
                    break;
                }
                done += n;
            }
            debug_assert!(failed.is_some() || done == len);
        }
        match failed {
            None => Ok(()),
            Some(status) => {
                self.truncate(mark_chunks, mark_back);
                Err(status)
            }
        }
    }

    fn peek(&self, dst: &mut [u8]) -> usize {
        let mut done = 0;
        for chunk in self.chunks() {
            if done == dst.len() {
                break;
            }
            let bytes = chunk.readable();
            let n = bytes.len().min(dst.len() - done);
            dst[done..done + n].copy_from_slice(&bytes[..n]);
            done += n;
        }
        done
    }

    fn copy_out(
        &self,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        dst_offset: usize,
    ) -> Result<(), Status> {
        copy_chunks(self.chunks().iter(), skip, len, dst, dst_offset)
    }

    fn discard(&mut self, mut len: usize) {
        let Some(chunks) = self.deque.as_deref_mut() else {
            debug_assert_eq!(len, 0, "discard from an empty queue");
            return;
        };
        while len > 0 {
            let Some(front) = chunks.front_mut() else {
                debug_assert!(false, "discard past the end");
                return;
            };
            debug_assert!(!front.is_placeholder(), "discard while lent");
            let held = front.readable().len();
            if held > len {
                front.head += len;
                break;
            }
            len -= held;
            chunks.pop_front();
        }
        // Drop chunks that hold nothing, keeping one small last chunk for the
        // next write.
        loop {
            let only = chunks.len() == 1;
            let Some(front) = chunks.front_mut() else {
                break;
            };
            if !front.readable().is_empty() || front.is_placeholder() {
                break;
            }
            if only && front.buf.capacity() <= KEEP_CHUNK {
                front.buf.clear();
                front.head = 0;
                break;
            }
            chunks.pop_front();
        }
        if chunks.is_empty() && chunks.capacity() > 8 {
            self.deque = None;
        }
        self.compact();
    }

    fn clear(&mut self) {
        self.deque = None;
    }

    fn new_segment(len: usize) -> Result<ChunkSegment, Status> {
        let mut count = 0;
        let (mut needed, mut last) = (len, 0);
        while needed > 0 {
            last = chunk_size(last, needed);
            needed -= last.min(needed);
            count += 1;
        }
        let mut segment = ChunkSegment::default();
        segment.chunks.try_reserve_exact(count)?;
        let (mut needed, mut last) = (len, 0);
        while needed > 0 {
            last = chunk_size(last, needed);
            segment.chunks.push(Chunk::with_capacity(last)?);
            needed -= last.min(needed);
        }
        Ok(segment)
    }

    fn fill_segment(
        segment: &mut ChunkSegment,
        src: &(impl Source + ?Sized),
        offset: usize,
        len: usize,
    ) -> Result<(), Status> {
        let mark = segment
            .chunks
            .iter()
            .position(|c| c.spare() > 0)
            .map(|i| (i, segment.chunks[i].buf.len()));
        let mut done = 0;
        let mut fault = None;
        for chunk in &mut segment.chunks {
            let n = chunk.spare().min(len - done);
            if n == 0 {
                continue;
            }
            if let Err(status) = src.append_to(offset + done, n, &mut chunk.buf) {
                fault = Some(status);
                break;
            }
            done += n;
        }
        if fault.is_some() || done < len {
            if let Some((first, first_len)) = mark {
                segment.chunks[first].buf.truncate(first_len);
                for chunk in &mut segment.chunks[first + 1..] {
                    chunk.buf.clear();
                }
            }
            // Too few chunks means the segment was made for fewer bytes.
            return Err(fault.unwrap_or(Status::INTERNAL));
        }
        segment.len += len;
        Ok(())
    }

    fn drain_segment(
        segment: &ChunkSegment,
        skip: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        dst_offset: usize,
    ) -> Result<(), Status> {
        copy_chunks(segment.chunks.iter(), skip, len, dst, dst_offset)
    }

    fn append(&mut self, segment: ChunkSegment) -> Result<(), Status> {
        if segment.len == 0 {
            return Ok(());
        }
        let chunks = self.chunks_mut()?;
        if chunks
            .back()
            .is_some_and(|c| c.readable().is_empty() && !c.is_placeholder())
        {
            chunks.pop_back();
        }
        chunks.try_reserve(segment.chunks.len())?;
        chunks.extend(
            segment
                .chunks
                .into_iter()
                .filter(|c| !c.readable().is_empty()),
        );
        Ok(())
    }

    fn split_front(&mut self, len: usize) -> Result<ChunkSegment, Status> {
        let mut segment = ChunkSegment::default();
        let Some(chunks) = self.deque.as_deref_mut() else {
            debug_assert_eq!(len, 0);
            return Ok(segment);
        };
        let mut count = 0;
        let mut covered = 0;
        for chunk in chunks.iter() {
            if covered >= len {
                break;
            }
            debug_assert!(!chunk.is_placeholder(), "already lent");
            covered += chunk.readable().len();
            count += 1;
        }
        debug_assert!(covered >= len);
        segment.chunks.try_reserve_exact(count)?;
        for slot in chunks.range_mut(..count) {
            segment.chunks.push(mem::take(slot));
        }
        segment.len = covered;
        Ok(segment)
    }

    fn put_front(&mut self, segment: ChunkSegment, consumed: usize) {
        if let Some(chunks) = self.deque.as_deref_mut() {
            for (slot, chunk) in chunks.range_mut(..).zip(segment.chunks) {
                debug_assert!(slot.is_placeholder());
                *slot = chunk;
            }
        }
        self.discard(consumed);
    }
}

/// Copies bytes `skip..skip + len` of a run of chunks into `dst`.
fn copy_chunks<'a>(
    chunks: impl Iterator<Item = &'a Chunk>,
    mut skip: usize,
    len: usize,
    dst: &mut (impl Sink + ?Sized),
    dst_offset: usize,
) -> Result<(), Status> {
    let mut done = 0;
    for chunk in chunks {
        if done == len {
            break;
        }
        debug_assert!(!chunk.is_placeholder(), "copy from a lent chunk");
        let bytes = chunk.readable();
        if skip >= bytes.len() {
            skip -= bytes.len();
            continue;
        }
        let n = (bytes.len() - skip).min(len - done);
        dst.write_at(dst_offset + done, &bytes[skip..skip + n])?;
        skip = 0;
        done += n;
    }
    debug_assert_eq!(done, len, "copy past the end");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn drain(q: &mut ChunkQueue, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        q.copy_out(0, n, &mut out[..], 0).unwrap();
        q.discard(n);
        out
    }

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn unused_queue_owns_nothing() {
        let q = ChunkQueue::new();
        assert_eq!(q.footprint(), 0);
    }

    #[test]
    fn bytes_come_out_in_order_across_chunks() {
        let mut q = ChunkQueue::new();
        let mut expect = Vec::new();
        for i in 0..200u8 {
            let data = pattern(usize::from(i) * 37 % 3000 + 1, i);
            q.push(&data[..], 0, data.len()).unwrap();
            expect.extend_from_slice(&data);
        }
        assert_eq!(q.len(), expect.len());
        assert!(q.chunk_count() > 1);
        let got = drain(&mut q, expect.len());
        assert_eq!(got, expect);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn small_contents_cost_little() {
        let mut q = ChunkQueue::new();
        let big = pattern(200_000, 1);
        q.push(&big[..], 0, big.len()).unwrap();
        drain(&mut q, big.len() - 10);
        assert_eq!(q.len(), 10);
        assert!(q.footprint() <= 2048, "footprint {}", q.footprint());
        drain(&mut q, 10);
        assert!(
            q.footprint() <= KEEP_CHUNK + 512,
            "footprint {}",
            q.footprint()
        );
    }

    #[test]
    fn segments_append_after_queued_bytes() {
        let mut q = ChunkQueue::new();
        let a = pattern(100, 1);
        let b = pattern(150_000, 2);
        q.push(&a[..], 0, a.len()).unwrap();
        let mut seg = ChunkQueue::new_segment(b.len()).unwrap();
        ChunkQueue::fill_segment(&mut seg, &b[..], 0, b.len()).unwrap();
        q.append(seg).unwrap();
        let got = drain(&mut q, 100 + b.len());
        assert_eq!(&got[..100], &a[..]);
        assert_eq!(&got[100..], &b[..]);
    }

    #[test]
    fn lending_lets_writers_append_and_loses_nothing() {
        let mut q = ChunkQueue::new();
        let a = pattern(70_000, 3);
        q.push(&a[..], 0, a.len()).unwrap();
        let seg = q.split_front(50_000).unwrap();
        assert!(seg.len() >= 50_000);
        // A writer appends while the bytes are lent.
        let b = pattern(5_000, 4);
        q.push(&b[..], 0, b.len()).unwrap();
        let mut out = vec![0u8; 50_000];
        ChunkQueue::drain_segment(&seg, 0, 50_000, &mut out[..], 0).unwrap();
        assert_eq!(&out[..], &a[..50_000]);
        q.put_front(seg, 50_000);
        assert_eq!(q.len(), 75_000 - 50_000);
        let n = q.len();
        let rest = drain(&mut q, n);
        assert_eq!(&rest[..20_000], &a[50_000..]);
        assert_eq!(&rest[20_000..], &b[..]);
    }

    #[test]
    fn lent_bytes_come_back_on_failure() {
        let mut q = ChunkQueue::new();
        let a = pattern(9_000, 5);
        q.push(&a[..], 0, a.len()).unwrap();
        let seg = q.split_front(4_000).unwrap();
        q.put_front(seg, 0);
        assert_eq!(drain(&mut q, a.len()), a);
    }

    struct Faulty(usize);
    impl Source for Faulty {
        fn len(&self) -> usize {
            self.0
        }
        fn append_to(&self, offset: usize, len: usize, dst: &mut Vec<u8>) -> Result<(), Status> {
            if offset + len > 1000 {
                return Err(Status::INVALID_ARGS);
            }
            dst.extend(core::iter::repeat_n(7, len));
            Ok(())
        }
    }

    #[test]
    fn a_faulting_source_leaves_the_queue_unchanged() {
        let mut q = ChunkQueue::new();
        let a = pattern(300, 6);
        q.push(&a[..], 0, a.len()).unwrap();
        assert_eq!(q.push(&Faulty(5000), 0, 5000), Err(Status::INVALID_ARGS));
        assert_eq!(q.len(), 300);
        assert_eq!(drain(&mut q, 300), a);
        let mut seg = ChunkQueue::new_segment(5000).unwrap();
        assert_eq!(
            ChunkQueue::fill_segment(&mut seg, &Faulty(5000), 0, 5000),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(seg.len(), 0);
    }
}

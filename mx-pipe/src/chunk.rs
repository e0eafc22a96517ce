//! Chunks: fixed-size blocks of bytes, linked into a chain.
//!
//! A chunk's bytes start uninitialised (`MaybeUninit`): the writer fills
//! them before publishing, and the reader reads only published bytes. Who
//! may touch which bytes when is the pipe's protocol (see the crate docs);
//! the functions that touch bytes are `unsafe` and state the part of the
//! protocol they rely on.

use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};
#[cfg(not(loom))]
use std::alloc::{self, Layout};

use mx_core::storage::{Sink, Source};
use mx_core::Status;

use crate::sync::{AtomicPtr, Ordering, UnsafeCell};

/// A block of bytes in a pipe's chain.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// The next chunk: null until the writer moves past this one, then set
    /// once (before the bytes that live there are published).
    pub(crate) next: AtomicPtr<Chunk>,
    /// The bytes; those below what the writer published are initialised.
    data: Box<[UnsafeCell<MaybeUninit<u8>>]>,
}

impl Chunk {
    /// Allocates a chunk of `capacity` bytes. The caller owns it until it
    /// links it into a chain or frees it with [`Chunk::free`].
    pub(crate) fn alloc(capacity: usize) -> Result<NonNull<Chunk>, Status> {
        let data = uninit_bytes(capacity)?;
        let chunk = Chunk {
            next: AtomicPtr::new(ptr::null_mut()),
            data,
        };
        #[cfg(not(loom))]
        {
            let layout = Layout::new::<Chunk>();
            // SAFETY: `Chunk` is not zero-sized.
            let raw = unsafe { alloc::alloc(layout) }.cast::<Chunk>();
            let Some(raw) = NonNull::new(raw) else {
                return Err(Status::NO_MEMORY);
            };
            // SAFETY: `raw` is a fresh allocation with `Chunk`'s layout.
            unsafe { raw.as_ptr().write(chunk) };
            Ok(raw)
        }
        #[cfg(loom)]
        {
            Ok(NonNull::from(Box::leak(Box::new(chunk))))
        }
    }

    /// Frees a chunk.
    ///
    /// # Safety
    /// 1. `chunk` came from [`Chunk::alloc`] and was not freed.
    /// 2. No other thread will touch it again.
    pub(crate) unsafe fn free(chunk: NonNull<Chunk>) {
        // SAFETY: (1) it was allocated by the global allocator with `Chunk`'s
        // layout, as a `Box<Chunk>` is; (2) nobody else holds it.
        drop(unsafe { Box::from_raw(chunk.as_ptr()) });
    }

    /// Frees `first` and every chunk after it.
    ///
    /// # Safety
    /// As [`Chunk::free`], for every chunk of the chain.
    pub(crate) unsafe fn free_chain(first: Option<NonNull<Chunk>>) {
        let mut next = first;
        while let Some(chunk) = next {
            // SAFETY: the caller owns the chain.
            next = NonNull::new(unsafe { chunk.as_ref() }.next.load(Ordering::Acquire));
            // SAFETY: as above; `next` was read first.
            unsafe { Chunk::free(chunk) };
        }
    }

    /// Bytes the chunk holds.
    pub(crate) fn capacity(&self) -> usize {
        self.data.len()
    }

    /// Copies `len` bytes of `src`, from `src_offset`, into the chunk at `at`
    /// (initialising them, unless the source faults).
    ///
    /// # Safety
    /// No other thread reads or writes bytes `at..at + len` meanwhile (they
    /// are beyond what the writer has published, and the caller is the
    /// writer).
    pub(crate) unsafe fn fill(
        &self,
        at: usize,
        len: usize,
        src: &(impl Source + ?Sized),
        src_offset: usize,
    ) -> Result<(), Status> {
        let cells = &self.data[at..at + len];
        #[cfg(not(loom))]
        {
            // SAFETY: `UnsafeCell<T>` has `T`'s layout, and the caller
            // guarantees exclusive access to these bytes.
            let bytes = unsafe {
                core::slice::from_raw_parts_mut(UnsafeCell::raw_get(cells.as_ptr()), len)
            };
            src.copy_to(src_offset, bytes)
        }
        #[cfg(loom)]
        {
            let mut bytes = vec![MaybeUninit::new(0u8); len];
            src.copy_to(src_offset, &mut bytes)?;
            for (cell, byte) in cells.iter().zip(bytes) {
                // SAFETY: loom checks the exclusive access the caller promises.
                cell.with_mut(|p| unsafe { *p = byte });
            }
            Ok(())
        }
    }

    /// Copies bytes `at..at + len` of the chunk into `dst` at `dst_offset`.
    ///
    /// # Safety
    /// Bytes `at..at + len` were published: initialised by the writer
    /// (whose release store the caller acquired), and never written again.
    pub(crate) unsafe fn drain(
        &self,
        at: usize,
        len: usize,
        dst: &mut (impl Sink + ?Sized),
        dst_offset: usize,
    ) -> Result<(), Status> {
        let cells = &self.data[at..at + len];
        #[cfg(not(loom))]
        {
            // SAFETY: same layout as `u8`; the caller guarantees the bytes are
            // initialised and that nobody writes them meanwhile.
            let bytes = unsafe {
                core::slice::from_raw_parts(UnsafeCell::raw_get(cells.as_ptr()).cast::<u8>(), len)
            };
            dst.write_at(dst_offset, bytes)
        }
        #[cfg(loom)]
        {
            // SAFETY: loom checks the caller's promise; published bytes are
            // initialised.
            let bytes: Vec<u8> = cells
                .iter()
                .map(|cell| cell.with(|p| unsafe { (*p).assume_init() }))
                .collect();
            dst.write_at(dst_offset, &bytes)
        }
    }
}

/// `capacity` uninitialised bytes, or `NO_MEMORY`.
fn uninit_bytes(capacity: usize) -> Result<Box<[UnsafeCell<MaybeUninit<u8>>]>, Status> {
    debug_assert!(capacity > 0);
    #[cfg(not(loom))]
    {
        let layout = Layout::array::<u8>(capacity).map_err(|_| Status::NO_MEMORY)?;
        // SAFETY: `capacity > 0`, so the layout is not zero-sized.
        let raw = unsafe { alloc::alloc(layout) }.cast::<UnsafeCell<MaybeUninit<u8>>>();
        if raw.is_null() {
            return Err(Status::NO_MEMORY);
        }
        // SAFETY: `raw` holds `capacity` bytes allocated with the layout of
        // `[UnsafeCell<MaybeUninit<u8>>; capacity]` (that of `[u8; capacity]`),
        // and uninitialised bytes are valid `MaybeUninit`s.
        Ok(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(raw, capacity)) })
    }
    #[cfg(loom)]
    {
        Ok((0..capacity)
            .map(|_| UnsafeCell::new(MaybeUninit::new(0)))
            .collect())
    }
}

//! [`Segment`]: memory shared with other processes, as a sealed memfd
//! mapped into each of them.
//!
//! One segment backs one socket pair once an end of it is in another
//! process. The creator makes an anonymous memory file (`memfd_create`),
//! sizes it and seals its size (`F_SEAL_SHRINK`, `F_SEAL_GROW`, then
//! `F_SEAL_SEAL`), so no process can shrink it under the others' mappings
//! (a shrunk file turns accesses beyond its end into `SIGBUS`). A process
//! that receives the file checks it before mapping it: a regular file, of
//! the size the layout says, with those seals. No file is ever named in a
//! file system, so nothing is left behind when processes die.
//!
//! # What may be formed into the mapping
//!
//! Another process may write any byte of the mapping at any moment, so no
//! Rust reference to bytes or to a structure in it is ever formed. Two
//! kinds of access exist:
//!
//! - Single aligned words, through a transient `&AtomicU32`/`&AtomicU64`
//!   ([`Segment::u32_at`], [`Segment::u64_at`]). Every access this process
//!   makes to such a word is atomic, and another process's store to an
//!   aligned word is atomic in hardware whatever it used, so the reference
//!   never sees a torn or a non-atomic change. (This is how futex words are
//!   shared between processes in any language.)
//! - Byte ranges, as raw pointers ([`Segment::bytes`]), copied with
//!   `ptr::copy_nonoverlapping` into or out of private memory and validated
//!   there.
//!
//! Offsets, never pointers, are kept in the mapping, and every offset used
//! here is checked against the mapping's length.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicU64};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use mx_core::Status;
use rustix::fs::{self, MemfdFlags, SealFlags};
use rustix::mm::{self, MapFlags, ProtFlags};

/// The seals a segment must carry before it is mapped.
const REQUIRED_SEALS: SealFlags = SealFlags::SHRINK
    .union(SealFlags::GROW)
    .union(SealFlags::SEAL);

/// A mapped, sealed memory file shared with other processes.
#[derive(Debug)]
pub struct Segment {
    /// The memory file: kept so the segment can be sent on to another
    /// process.
    fd: OwnedFd,
    /// Where it is mapped, for `len` bytes.
    base: NonNull<u8>,
    len: usize,
    /// The file's identity (device, inode): the same in every process that
    /// holds it, so a process receiving a segment it has mapped already can
    /// tell.
    id: (u64, u64),
}

// SAFETY: the mapping is process-wide memory reached only through atomics
// and raw copies (module docs); the fd is an ordinary owned descriptor.
unsafe impl Send for Segment {}
// SAFETY: as for `Send`: shared access is what the segment is for.
unsafe impl Sync for Segment {}

impl Segment {
    /// Creates a segment of `len` bytes (zeroed), sealed and mapped.
    ///
    /// # Errors
    /// `NO_RESOURCES` if the process is out of descriptors, `NO_MEMORY`
    /// otherwise.
    pub fn create(name: &str, len: usize) -> Result<Segment, Status> {
        let fd = fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(errno_status)?;
        fs::ftruncate(&fd, len as u64).map_err(errno_status)?;
        fs::fcntl_add_seals(&fd, REQUIRED_SEALS).map_err(|_| Status::INTERNAL)?;
        Segment::map(fd, len)
    }

    /// Maps a segment another process made, after checking it: a regular
    /// file of exactly `len` bytes whose size is sealed.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the file is not such a segment (the fd is closed),
    /// `NO_MEMORY` if it cannot be mapped.
    pub fn attach(fd: OwnedFd, len: usize) -> Result<Segment, Status> {
        let stat = fs::fstat(&fd).map_err(|_| Status::INVALID_ARGS)?;
        let regular = fs::FileType::from_raw_mode(stat.st_mode) == fs::FileType::RegularFile;
        if !regular || u64::try_from(stat.st_size).ok() != Some(len as u64) {
            return Err(Status::INVALID_ARGS);
        }
        let seals = fs::fcntl_get_seals(&fd).map_err(|_| Status::INVALID_ARGS)?;
        if !seals.contains(REQUIRED_SEALS) || seals.intersects(SealFlags::WRITE) {
            return Err(Status::INVALID_ARGS);
        }
        Segment::map(fd, len)
    }

    fn map(fd: OwnedFd, len: usize) -> Result<Segment, Status> {
        let stat = fs::fstat(&fd).map_err(|_| Status::INVALID_ARGS)?;
        // SAFETY: a new shared mapping of a file whose size is sealed at
        // `len` (checked by `attach`, or set by `create` before sealing), at
        // an address the kernel picks: it aliases no memory of ours.
        let base = unsafe {
            mm::mmap(
                core::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                &fd,
                0,
            )
        }
        .map_err(|_| Status::NO_MEMORY)?;
        let base = NonNull::new(base.cast::<u8>()).ok_or(Status::NO_MEMORY)?;
        Ok(Segment {
            fd,
            base,
            len,
            id: (stat.st_dev, stat.st_ino),
        })
    }

    /// The memory file, to send to another process.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The file's identity, the same in every process.
    pub fn id(&self) -> (u64, u64) {
        self.id
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the segment is empty (never, for a valid layout).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The 32-bit word at `offset`.
    ///
    /// # Panics
    /// If `offset` is unaligned or beyond the mapping (a bug of the layout,
    /// never a consequence of what another process wrote).
    pub fn u32_at(&self, offset: usize) -> &AtomicU32 {
        assert!(
            offset.is_multiple_of(4) && offset + 4 <= self.len,
            "bad word offset"
        );
        // SAFETY: the word is aligned and inside the mapping (asserted),
        // which lives as long as `self`; see the module docs for why an
        // atomic reference to a word other processes write is sound.
        unsafe { AtomicU32::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    /// The 64-bit word at `offset`.
    ///
    /// # Panics
    /// As [`Segment::u32_at`].
    pub fn u64_at(&self, offset: usize) -> &AtomicU64 {
        assert!(
            offset.is_multiple_of(8) && offset + 8 <= self.len,
            "bad word offset"
        );
        // SAFETY: as in `u32_at`.
        unsafe { AtomicU64::from_ptr(self.base.as_ptr().add(offset).cast()) }
    }

    /// The `len` bytes at `offset`, as a raw pointer for copies.
    ///
    /// # Panics
    /// If the range is beyond the mapping.
    pub fn bytes(&self, offset: usize, len: usize) -> *mut u8 {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "bad byte range"
        );
        // SAFETY: within the mapping (asserted).
        unsafe { self.base.as_ptr().add(offset) }
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: our mapping of `len` bytes; with `&mut self` nothing of
        // this process uses it any more (every access borrows the segment).
        let _ = unsafe { mm::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

/// The status for a failed descriptor or memory call.
fn errno_status(errno: rustix::io::Errno) -> Status {
    match errno {
        rustix::io::Errno::MFILE | rustix::io::Errno::NFILE => Status::NO_RESOURCES,
        _ => Status::NO_MEMORY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_is_shared_between_two_mappings() {
        let a = Segment::create("mx-test", 8192).unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(a.fd(), 0).unwrap();
        let b = Segment::attach(fd, 8192).unwrap();
        assert_eq!(a.id(), b.id());
        a.u64_at(64)
            .store(42, core::sync::atomic::Ordering::Release);
        assert_eq!(b.u64_at(64).load(core::sync::atomic::Ordering::Acquire), 42);
    }

    #[test]
    fn attach_checks_size_and_seals() {
        let a = Segment::create("mx-test", 8192).unwrap();
        let fd = rustix::io::fcntl_dupfd_cloexec(a.fd(), 0).unwrap();
        assert_eq!(Segment::attach(fd, 4096).unwrap_err(), Status::INVALID_ARGS);
        // An unsealed memory file is refused: it could shrink under us.
        let loose = fs::memfd_create("mx-test", MemfdFlags::CLOEXEC).unwrap();
        fs::ftruncate(&loose, 8192).unwrap();
        assert_eq!(
            Segment::attach(loose, 8192).unwrap_err(),
            Status::INVALID_ARGS
        );
        // Not a regular file at all.
        let (pipe, _w) = rustix::pipe::pipe().unwrap();
        assert_eq!(
            Segment::attach(pipe, 8192).unwrap_err(),
            Status::INVALID_ARGS
        );
    }

    #[test]
    #[should_panic(expected = "bad word offset")]
    fn words_beyond_the_mapping_are_a_bug() {
        let a = Segment::create("mx-test", 4096).unwrap();
        let _ = a.u32_at(4096);
    }
}

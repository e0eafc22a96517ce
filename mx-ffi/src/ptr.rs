//! User pointers: every raw pointer a C caller passes becomes a typed value
//! here, and nowhere else.
//!
//! An entry point wraps each pointer argument as soon as it has checked the
//! NULL cases its call defines, and hands on only these types:
//!
//! | C arguments                        | type              | used as                     |
//! |------------------------------------|-------------------|-----------------------------|
//! | `const void* buffer, size_t size`  | `UserBytes`     | a `Source` for `mx::sys`  |
//! | `void* buffer, size_t size`        | `UserBytesMut`  | a `Sink` for `mx::sys`    |
//! | `const T* in`                      | `UserIn<T>`     | an in-parameter, copied in  |
//! | `T* out`                           | `UserOut<T>`    | an out-parameter            |
//! | `T* items, uint32_t count`         | `UserArray<T>`  | an array copied in and out  |
//! | `const char* s`                    | `UserCStr`      | a string copied in          |
//! | `char* const argv[]`               | `UserCStrArray` | strings copied in           |
//!
//! # How user memory is reached
//!
//! `Access::Direct`, the default, trusts the caller as any C library does:
//! copies are plain memory copies, and a non-NULL pointer that does not point
//! where the call says crashes the process (usually with `SIGSEGV`) or
//! corrupts it. In-process code cannot check a pointer cheaply; the kernel
//! could, because it copies through page tables that it owns.
//!
//! `Access::Checked`, chosen by `MX_STRICT_POINTERS=1` in the environment
//! (read once, at the first call that needs it), copies through
//! `process_vm_readv(2)`/`process_vm_writev(2)` on the own process. The Linux
//! kernel walks the page tables and reports `EFAULT` for memory that is not
//! mapped or not writable; that becomes `MX_ERR_INVALID_ARGS`, as a fault in
//! Magenta's user copies does. It costs a system call per copy. Out
//! parameters are probed (read, then written back unchanged) before the call
//! acts, so a bad out pointer fails the call before it has any effect.
//! Checked access does not detect a pointer into the wrong *valid* memory,
//! and does not make data races with other threads of the program defined.
//!
//! NULL is recognised in both modes: a NULL buffer or array of non-zero
//! length behaves as a faulting pointer (`INVALID_ARGS`) when something
//! copies through it. Whether NULL is an error before that (for example
//! `mx_socket_write`'s `size > 0` with a NULL buffer, checked before the
//! handle lookup) is the entry point's business.
//!
//! # What this module does not do
//!
//! - It never makes a Rust slice or reference over user memory. Copies use
//!   raw pointers, so a length larger than the real buffer (a C caller
//!   passing a size beyond 32 bits, which `mx::sys` rejects before copying,
//!   as Magenta's own tests do) is harmless: nothing copies it.
//! - It does not keep pointers beyond the call: every type borrows nothing
//!   and is dropped before the entry point returns.

use core::ffi::{c_char, c_void};
use core::fmt;
use core::mem::{size_of, size_of_val, MaybeUninit};
use core::ptr::{self, NonNull};
use std::io::Write as _;
use std::sync::OnceLock;

use mx_core::abi::{PortPacket, WaitItem};
use mx_core::storage::{HandleSink, HandleSource};
use mx_core::{RawHandle, Status};
use mx_shm::storage::{Sink, Source};

/// The environment variable that turns on checked access.
pub(crate) const STRICT_POINTERS_ENV: &str = "MX_STRICT_POINTERS";

/// How user memory is read and written.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Access {
    /// Plain copies: invalid pointers are undefined behaviour, as in C.
    Direct,
    /// Copies through the Linux kernel: faults become `INVALID_ARGS`.
    Checked,
}

impl Access {
    /// The process's mode: [`Access::Checked`] if `MX_STRICT_POINTERS` was
    /// `1` when first asked (and the kernel lets this process copy from
    /// itself), else [`Access::Direct`]. Decided once.
    pub(crate) fn current() -> Access {
        static MODE: OnceLock<Access> = OnceLock::new();
        *MODE.get_or_init(|| {
            let wanted = std::env::var_os(STRICT_POINTERS_ENV).is_some_and(|value| value == "1");
            if !wanted {
                return Access::Direct;
            }
            match vm_self_test() {
                Ok(()) => Access::Checked,
                Err(error) => {
                    // Strict mode is a debugging aid; say why it is off.
                    let _ = writeln!(
                        std::io::stderr(),
                        "libmagenta: {STRICT_POINTERS_ENV}=1 ignored: \
                         process_vm_readv on this process fails ({error})"
                    );
                    Access::Direct
                }
            }
        })
    }
}

/// Values that can be copied to and from user memory as plain bytes.
///
/// # Safety
///
/// Implementors promise:
/// 1. every pattern of `size_of::<Self>()` bytes is a valid `Self`;
/// 2. `Self` has no padding, so all its bytes are initialised;
/// 3. `Self` holds no pointers or references.
pub(crate) unsafe trait Plain: Copy {}

// SAFETY: integers: any bits are valid, no padding, no pointers.
unsafe impl Plain for i32 {}
// SAFETY: as `i32`.
unsafe impl Plain for u32 {}
// SAFETY: as `i32`.
unsafe impl Plain for u64 {}
// SAFETY: as `i32`.
unsafe impl Plain for usize {}
// SAFETY: `PortPacket` is `repr(C)` { u64, u32, i32, [u64; 4] }: 48 bytes
// (asserted below), no padding, any bits valid, no pointers.
unsafe impl Plain for PortPacket {}
const _: () = assert!(size_of::<PortPacket>() == 48);
// SAFETY: `mx_channel_call_args_t` is `repr(C)`, four address-sized words
// then four `u32`s: 48 bytes (asserted in `ctypes`), no padding, any bits
// valid; the addresses are plain integers here, turned into user-pointer
// types only by the entry point.
unsafe impl Plain for crate::ctypes::mx_channel_call_args_t {}
// SAFETY: `WaitItem` is `repr(C)` { i32, Signals, Signals }, and `Signals` is
// a `repr(transparent)` u32 that keeps unknown bits: 12 bytes (asserted
// below), no padding, any bits valid, no pointers.
unsafe impl Plain for WaitItem {}
const _: () = assert!(size_of::<WaitItem>() == 12);

/// `const void* buffer, size_t size`: bytes a call reads from the caller.
pub(crate) struct UserBytes {
    ptr: *const u8,
    len: usize,
    access: Access,
}

impl UserBytes {
    /// Wraps a C buffer that the call will read, in the process's mode.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    the `len` bytes at `ptr` are readable until the value is dropped
    ///    (`len` may exceed the buffer only if it exceeds `u32::MAX`: those
    ///    are rejected by `mx::sys` before any copy).
    /// 2. Nobody writes those bytes meanwhile.
    pub(crate) unsafe fn assume_readable(ptr: *const c_void, len: usize) -> UserBytes {
        UserBytes {
            ptr: ptr.cast(),
            len,
            access: Access::current(),
        }
    }

    /// Copies the whole buffer in.
    ///
    /// # Errors
    /// `NO_MEMORY`; `INVALID_ARGS` if the memory cannot be read.
    pub(crate) fn to_vec(&self) -> Result<Vec<u8>, Status> {
        let mut bytes: Vec<u8> = Vec::new();
        bytes.try_reserve_exact(self.len)?;
        // SAFETY: `try_reserve_exact` made room for `len` bytes of spare
        // capacity, which nothing else touches; the range is the whole source.
        unsafe { self.copy_to_raw(0, bytes.spare_capacity_mut().as_mut_ptr().cast(), self.len)? };
        // SAFETY: `copy_to_raw` returned Ok, so it initialised those bytes.
        unsafe { bytes.set_len(self.len) };
        Ok(bytes)
    }

    /// Wraps a C buffer read through the kernel only (any pointer is fine).
    #[cfg(test)]
    pub(crate) fn checked(ptr: *const c_void, len: usize) -> UserBytes {
        UserBytes {
            ptr: ptr.cast(),
            len,
            access: Access::Checked,
        }
    }
}

impl fmt::Debug for UserBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserBytes")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("access", &self.access)
            .finish()
    }
}

impl Source for UserBytes {
    fn len(&self) -> usize {
        self.len
    }

    unsafe fn copy_to_raw(&self, offset: usize, to: *mut u8, len: usize) -> Result<(), Status> {
        // Load-bearing: the bounds of the caller's buffer are all that stands
        // between a bug in a lower layer and reading foreign memory.
        within(offset, len, self.len);
        if len == 0 {
            return Ok(());
        }
        if self.ptr.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_readable` (the only way to get
                // `Direct`) makes `ptr..ptr + self.len` readable, and
                // `offset + len <= self.len` was asserted; `to` is valid for
                // `len` writes and used by nobody else (promise 1 of
                // `copy_to_raw`), so the two do not overlap; promise 2 rules
                // out a concurrent writer of the caller's bytes.
                unsafe { ptr::copy_nonoverlapping(self.ptr.add(offset), to, len) };
                Ok(())
            }
            Access::Checked => vm_read(to, self.ptr.wrapping_add(offset), len),
        }
    }
}

/// `void* buffer, size_t size`: bytes a call writes for the caller.
pub(crate) struct UserBytesMut {
    ptr: *mut u8,
    len: usize,
    access: Access,
}

impl UserBytesMut {
    /// Wraps a C buffer that the call will write, in the process's mode.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    the `len` bytes at `ptr` are writable until the value is dropped
    ///    (`len` may exceed the buffer only if it exceeds `u32::MAX`, as for
    ///    [`UserBytes::assume_readable`]).
    /// 2. Nobody else reads or writes those bytes meanwhile.
    pub(crate) unsafe fn assume_writable(ptr: *mut c_void, len: usize) -> UserBytesMut {
        UserBytesMut {
            ptr: ptr.cast(),
            len,
            access: Access::current(),
        }
    }

    /// Wraps a C buffer written through the kernel only (any pointer is fine).
    #[cfg(test)]
    pub(crate) fn checked(ptr: *mut c_void, len: usize) -> UserBytesMut {
        UserBytesMut {
            ptr: ptr.cast(),
            len,
            access: Access::Checked,
        }
    }
}

impl fmt::Debug for UserBytesMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserBytesMut")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("access", &self.access)
            .finish()
    }
}

impl Sink for UserBytesMut {
    fn len(&self) -> usize {
        self.len
    }

    unsafe fn write_from_raw(
        &mut self,
        offset: usize,
        from: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        // Load-bearing, as in `UserBytes::copy_to_raw`.
        within(offset, len, self.len);
        if len == 0 {
            return Ok(());
        }
        if self.ptr.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_writable` makes
                // `ptr..ptr + self.len` writable and `offset + len <=
                // self.len` was asserted; `from` is valid for `len` reads
                // (promise 1 of `write_from_raw`) and is not the caller's
                // buffer, which promise 2 reserves for this call.
                unsafe { ptr::copy_nonoverlapping(from, self.ptr.add(offset), len) };
                Ok(())
            }
            Access::Checked => vm_write(self.ptr.wrapping_add(offset), from, len),
        }
    }
}

/// `const T* in`: one value a call reads from the caller. Never NULL: the
/// constructor returns `None` for NULL.
pub(crate) struct UserIn<T> {
    ptr: NonNull<T>,
    access: Access,
}

impl<T: Plain> UserIn<T> {
    /// Wraps a C in-parameter in the process's mode; `None` if NULL.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    `ptr` is valid for reads of one `T` until the value is dropped. It
    ///    need not be aligned.
    /// 2. Nobody writes that `T` meanwhile.
    pub(crate) unsafe fn assume_readable(ptr: *const T) -> Option<UserIn<T>> {
        Some(UserIn {
            ptr: NonNull::new(ptr.cast_mut())?,
            access: Access::current(),
        })
    }

    /// Wraps a C in-parameter read through the kernel only; `None` if NULL.
    #[cfg(test)]
    pub(crate) fn checked(ptr: *const T) -> Option<UserIn<T>> {
        Some(UserIn {
            ptr: NonNull::new(ptr.cast_mut())?,
            access: Access::Checked,
        })
    }

    /// Copies the value in.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be read (checked access).
    pub(crate) fn read(&self) -> Result<T, Status> {
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_readable` (the only way to get
                // `Direct`): valid for a read of one `T`, alignment not
                // required (hence `read_unaligned`); promise 2: no writer;
                // any bits are a valid `T` (`T: Plain`).
                Ok(unsafe { self.ptr.as_ptr().read_unaligned() })
            }
            Access::Checked => {
                let mut value = MaybeUninit::<T>::uninit();
                vm_read(
                    value.as_mut_ptr().cast(),
                    self.ptr.as_ptr().cast(),
                    size_of::<T>(),
                )?;
                // SAFETY: `vm_read` returned Ok, so it wrote all
                // `size_of::<T>()` bytes, and any bytes are a valid `T`.
                Ok(unsafe { value.assume_init() })
            }
        }
    }
}

impl<T> fmt::Debug for UserIn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserIn")
            .field("ptr", &self.ptr)
            .field("access", &self.access)
            .finish()
    }
}

/// `T* out`: one value a call writes for the caller. Never NULL: the
/// constructors return `None` for NULL, and the entry point decides whether
/// that is an error or "not wanted".
pub(crate) struct UserOut<T> {
    ptr: NonNull<T>,
    access: Access,
}

impl<T: Plain> UserOut<T> {
    /// Wraps a C out-parameter in the process's mode; `None` if NULL.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    `ptr` is valid for writes (and reads) of one `T` until the value is
    ///    dropped. It need not be aligned.
    /// 2. Nobody else accesses that `T` meanwhile.
    pub(crate) unsafe fn assume_writable(ptr: *mut T) -> Option<UserOut<T>> {
        Some(UserOut {
            ptr: NonNull::new(ptr)?,
            access: Access::current(),
        })
    }

    /// Wraps a C out-parameter written through the kernel only; `None` if NULL.
    #[cfg(test)]
    pub(crate) fn checked(ptr: *mut T) -> Option<UserOut<T>> {
        Some(UserOut {
            ptr: NonNull::new(ptr)?,
            access: Access::Checked,
        })
    }

    /// With checked access, makes sure the out-parameter can be written, by
    /// reading it and writing the same bytes back, so that a bad pointer
    /// fails a call before the call acts. Does nothing with direct access.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be read or written.
    pub(crate) fn probe(&self) -> Result<(), Status> {
        match self.access {
            Access::Direct => Ok(()),
            Access::Checked => probe_bytes(self.ptr.as_ptr().cast(), size_of::<T>()),
        }
    }

    /// Writes `value`.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be written (checked access).
    pub(crate) fn write(&self, value: T) -> Result<(), Status> {
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_writable` (the only way to get
                // `Direct`): valid for a write of one `T`, alignment not
                // required (hence `write_unaligned`); promise 2: no other
                // access.
                unsafe { self.ptr.as_ptr().write_unaligned(value) };
                Ok(())
            }
            Access::Checked => vm_write(
                self.ptr.as_ptr().cast(),
                // `T: Plain`: all its bytes are initialised.
                ptr::from_ref(&value).cast(),
                size_of::<T>(),
            ),
        }
    }
}

impl<T> fmt::Debug for UserOut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserOut")
            .field("ptr", &self.ptr)
            .field("access", &self.access)
            .finish()
    }
}

/// Writes `value` through `out` if the caller wanted it (a NULL
/// out-parameter that the call may ignore).
///
/// # Errors
/// As [`UserOut::write`].
pub(crate) fn write_optional<T: Plain>(out: &Option<UserOut<T>>, value: T) -> Result<(), Status> {
    match out {
        Some(out) => out.write(value),
        None => Ok(()),
    }
}

/// Probes every out-parameter given (see [`UserOut::probe`]).
///
/// # Errors
/// `INVALID_ARGS` for the first that cannot be written.
pub(crate) fn probe_all<T: Plain>(outs: &[&Option<UserOut<T>>]) -> Result<(), Status> {
    outs.iter()
        .filter_map(|out| out.as_ref())
        .try_for_each(UserOut::probe)
}

/// `const mx_handle_t* handles, count`: handle values a call only reads.
/// The pointer may be NULL: reading a NULL array of non-zero length fails
/// with `INVALID_ARGS` (when the call gets to it, which is its business).
pub(crate) struct UserHandles {
    ptr: *const RawHandle,
    len: usize,
    access: Access,
}

impl UserHandles {
    /// Wraps a C array of `len` handle values, in the process's mode.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    `ptr` is valid for reads of `len` consecutive values while the
    ///    value lives. It need not be aligned.
    /// 2. Nobody writes them meanwhile.
    pub(crate) unsafe fn assume_readable(ptr: *const RawHandle, len: usize) -> UserHandles {
        UserHandles {
            ptr,
            len,
            access: Access::current(),
        }
    }
}

impl fmt::Debug for UserHandles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserHandles")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

impl HandleSource for UserHandles {
    fn len(&self) -> usize {
        self.len
    }

    fn read_into(&self, out: &mut Vec<RawHandle>) -> Result<(), Status> {
        if self.len == 0 {
            return Ok(());
        }
        if self.ptr.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        let bytes = self
            .len
            .checked_mul(size_of::<RawHandle>())
            .ok_or(Status::INVALID_ARGS)?;
        let start = out.len();
        out.try_reserve_exact(self.len)?;
        let to = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_readable`: `len` readable
                // values at `ptr`; `out` has room for `len` more and is ours,
                // so they do not overlap; promise 2: no writer.
                unsafe { ptr::copy_nonoverlapping(self.ptr.cast::<u8>(), to, bytes) };
            }
            Access::Checked => vm_read(to, self.ptr.cast(), bytes)?,
        }
        // SAFETY: the copy initialised the `len` values after `start` (an
        // error returned before this), and any bits are a valid `i32`.
        unsafe { out.set_len(start + self.len) };
        Ok(())
    }
}

/// `mx_handle_t* handles, count`: handle values a call only writes. The
/// pointer may be NULL: writing to a NULL array fails with `INVALID_ARGS`.
pub(crate) struct UserHandlesMut {
    ptr: *mut RawHandle,
    len: usize,
    access: Access,
}

impl UserHandlesMut {
    /// Wraps a C array with room for `len` handle values, in the process's
    /// mode.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    `ptr` is valid for writes of `len` consecutive values while the
    ///    value lives. It need not be aligned.
    /// 2. Nobody else accesses them meanwhile.
    pub(crate) unsafe fn assume_writable(ptr: *mut RawHandle, len: usize) -> UserHandlesMut {
        UserHandlesMut {
            ptr,
            len,
            access: Access::current(),
        }
    }
}

impl fmt::Debug for UserHandlesMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserHandlesMut")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .finish()
    }
}

impl HandleSink for UserHandlesMut {
    fn len(&self) -> usize {
        self.len
    }

    fn write_all(&mut self, values: &[RawHandle]) -> Result<(), Status> {
        // Load-bearing: the caller's room bounds what is written.
        assert!(values.len() <= self.len, "more handle values than room");
        if values.is_empty() {
            return Ok(());
        }
        if self.ptr.is_null() {
            return Err(Status::INVALID_ARGS);
        }
        let bytes = size_of_val(values);
        let from = values.as_ptr().cast::<u8>();
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_writable`: room for `len`
                // values at `ptr`, and `values.len() <= len` was asserted;
                // `values` is ours, so no overlap; promise 2: no other access.
                unsafe { ptr::copy_nonoverlapping(from, self.ptr.cast::<u8>(), bytes) };
                Ok(())
            }
            Access::Checked => vm_write(self.ptr.cast(), from, bytes),
        }
    }
}

/// `T* items, count`: an array a call reads in full, then writes back.
pub(crate) struct UserArray<T> {
    ptr: NonNull<T>,
    len: usize,
    access: Access,
}

impl<T: Plain> UserArray<T> {
    /// Wraps a C array of `len` elements in the process's mode; `None` if
    /// `ptr` is NULL.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    `ptr` is valid for reads and writes of `len` consecutive `T`s until
    ///    the value is dropped. It need not be aligned.
    /// 2. Nobody else writes them meanwhile.
    pub(crate) unsafe fn assume_valid(ptr: *mut T, len: usize) -> Option<UserArray<T>> {
        Some(UserArray {
            ptr: NonNull::new(ptr)?,
            len,
            access: Access::current(),
        })
    }

    /// Wraps a C array reached through the kernel only; `None` if NULL.
    #[cfg(test)]
    pub(crate) fn checked(ptr: *mut T, len: usize) -> Option<UserArray<T>> {
        Some(UserArray {
            ptr: NonNull::new(ptr)?,
            len,
            access: Access::Checked,
        })
    }

    fn byte_len(&self) -> Result<usize, Status> {
        self.len
            .checked_mul(size_of::<T>())
            .filter(|&bytes| isize::try_from(bytes).is_ok())
            .ok_or(Status::INVALID_ARGS)
    }

    /// Copies the array in. With checked access it is also probed for
    /// writing (the copy is written back unchanged), so that the write-back
    /// after the call cannot fault.
    ///
    /// # Errors
    /// `NO_MEMORY`; `INVALID_ARGS` if the memory cannot be read (or, checked,
    /// written), or its size in bytes overflows.
    pub(crate) fn read(&self) -> Result<Vec<T>, Status> {
        let bytes = self.byte_len()?;
        let mut items: Vec<T> = Vec::new();
        items.try_reserve_exact(self.len)?;
        let to = items.as_mut_ptr().cast::<u8>();
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_valid`: `len` readable `T`s
                // (`bytes` bytes) at `ptr`; `items` has room for `len` `T`s
                // and is ours, so they do not overlap; promise 2: no writer.
                unsafe { ptr::copy_nonoverlapping(self.ptr.as_ptr().cast::<u8>(), to, bytes) };
            }
            Access::Checked => {
                vm_read(to, self.ptr.as_ptr().cast(), bytes)?;
                vm_write(self.ptr.as_ptr().cast(), to, bytes)?;
            }
        }
        // SAFETY: the copy above initialised all `len` elements (an error
        // returned before this), and any bytes are a valid `T` (`T: Plain`).
        unsafe { items.set_len(self.len) };
        Ok(items)
    }

    /// Copies `items` (as many as the array holds) back out.
    ///
    /// # Errors
    /// `INVALID_ARGS` if the memory cannot be written (checked access).
    pub(crate) fn write(&self, items: &[T]) -> Result<(), Status> {
        assert_eq!(items.len(), self.len, "write-back of a different length");
        let bytes = self.byte_len()?;
        let from = items.as_ptr().cast::<u8>();
        match self.access {
            Access::Direct => {
                // SAFETY: promise 1 of `assume_valid`: `len` writable `T`s at
                // `ptr`; `items` holds `len` `T`s of ours, no overlap;
                // promise 2: no other writer.
                unsafe { ptr::copy_nonoverlapping(from, self.ptr.as_ptr().cast::<u8>(), bytes) };
                Ok(())
            }
            Access::Checked => vm_write(self.ptr.as_ptr().cast(), from, bytes),
        }
    }
}

impl<T> fmt::Debug for UserArray<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserArray")
            .field("ptr", &self.ptr)
            .field("len", &self.len)
            .field("access", &self.access)
            .finish()
    }
}

/// The longest string [`UserCStr::to_vec`] copies: 1 MiB, without the NUL.
pub(crate) const MAX_CSTR_LEN: usize = 1 << 20;

/// The most strings [`UserCStrArray::to_vec`] copies: 64 Ki, before the
/// NULL entry.
pub(crate) const MAX_CSTR_ARRAY_LEN: usize = 1 << 16;

/// The most bytes [`UserCStrArray::to_vec`] copies in all, NULs included:
/// 16 MiB (Linux's `execve` takes far less), so that one long string
/// listed 64 Ki times cannot make a call copy 64 GiB.
pub(crate) const MAX_CSTR_ARRAY_BYTES: usize = 16 << 20;

/// How much of a string one checked copy reads at most: the smallest page
/// size of Linux. A copy that stays inside one aligned block of this size
/// stays inside one page, so it fails or succeeds as a whole, and nothing
/// beyond the page that holds the NUL is read.
const CSTR_CHUNK: usize = 4096;

/// `const char* s`: a NUL-terminated string a call reads. Never NULL: the
/// constructor returns `None` for NULL.
pub(crate) struct UserCStr {
    ptr: NonNull<u8>,
    access: Access,
}

impl UserCStr {
    /// Wraps a C string in the process's mode; `None` if NULL.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    the bytes at `ptr` up to and including the first NUL (or the first
    ///    [`MAX_CSTR_LEN`]` + 1` bytes, if none of them is NUL) are readable
    ///    until the value is dropped.
    /// 2. Nobody writes them meanwhile.
    pub(crate) unsafe fn assume_readable(ptr: *const c_char) -> Option<UserCStr> {
        // SAFETY: the promises are this function's own, for the process's
        // mode.
        unsafe { UserCStr::with_access(ptr, Access::current()) }
    }

    /// Wraps a C string reached with `access`; `None` if NULL.
    ///
    /// # Safety
    ///
    /// 1. If `access` is [`Access::Direct`], the promises of
    ///    [`UserCStr::assume_readable`] hold for `ptr`.
    unsafe fn with_access(ptr: *const c_char, access: Access) -> Option<UserCStr> {
        Some(UserCStr {
            ptr: NonNull::new(ptr.cast::<u8>().cast_mut())?,
            access,
        })
    }

    /// Wraps a C string read through the kernel only; `None` if NULL.
    #[cfg(test)]
    pub(crate) fn checked(ptr: *const c_char) -> Option<UserCStr> {
        // SAFETY: checked access needs no promise.
        unsafe { UserCStr::with_access(ptr, Access::Checked) }
    }

    /// Copies the string in, without its NUL.
    ///
    /// # Errors
    /// `INVALID_ARGS` if no NUL is among the first [`MAX_CSTR_LEN`]` + 1`
    /// bytes, or (checked access) the memory up to the NUL cannot be read;
    /// `NO_MEMORY`.
    pub(crate) fn to_vec(&self) -> Result<Vec<u8>, Status> {
        match self.access {
            Access::Direct => {
                let start = self.ptr.as_ptr();
                let len = (0..=MAX_CSTR_LEN)
                    // SAFETY: promise 1 of `assume_readable` (the only way
                    // to get `Direct`): every byte up to the first NUL,
                    // within the first `MAX_CSTR_LEN + 1`, is readable, and
                    // the search reads no further than the first NUL;
                    // promise 2: no writer.
                    .find(|&i| unsafe { start.add(i).read() } == 0)
                    .ok_or(Status::INVALID_ARGS)?;
                let mut bytes: Vec<u8> = Vec::new();
                bytes.try_reserve_exact(len)?;
                // SAFETY: as above for the `len` bytes before the NUL; the
                // vector's spare room holds `len` bytes and is ours.
                unsafe {
                    ptr::copy_nonoverlapping(
                        start,
                        bytes.spare_capacity_mut().as_mut_ptr().cast(),
                        len,
                    );
                    bytes.set_len(len);
                }
                Ok(bytes)
            }
            Access::Checked => {
                let mut bytes: Vec<u8> = Vec::new();
                let mut chunk = [0u8; CSTR_CHUNK];
                loop {
                    let at = self.ptr.as_ptr().wrapping_add(bytes.len());
                    let room = CSTR_CHUNK - at.addr() % CSTR_CHUNK;
                    let n = room.min(MAX_CSTR_LEN + 1 - bytes.len());
                    vm_read(chunk.as_mut_ptr(), at, n)?;
                    let nul = chunk[..n].iter().position(|&b| b == 0);
                    let part = &chunk[..nul.unwrap_or(n)];
                    bytes.try_reserve(part.len())?;
                    bytes.extend_from_slice(part);
                    if nul.is_some() {
                        return Ok(bytes);
                    }
                    if bytes.len() > MAX_CSTR_LEN {
                        return Err(Status::INVALID_ARGS);
                    }
                }
            }
        }
    }
}

impl fmt::Debug for UserCStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCStr")
            .field("ptr", &self.ptr)
            .field("access", &self.access)
            .finish()
    }
}

/// `char* const argv[]`: a NULL-terminated array of C strings a call reads
/// (`argv`, `envp`). Never NULL: the constructor returns `None` for NULL.
pub(crate) struct UserCStrArray {
    ptr: NonNull<*const c_char>,
    access: Access,
}

impl UserCStrArray {
    /// Wraps a C array of strings in the process's mode; `None` if NULL.
    ///
    /// # Safety
    ///
    /// 1. If [`Access::current`] is [`Access::Direct`] and `ptr` is not NULL,
    ///    the entries at `ptr` up to and including the first NULL one (or
    ///    the first [`MAX_CSTR_ARRAY_LEN`]` + 1`, if none of them is NULL) are
    ///    readable until the value is dropped (they need not be aligned),
    ///    and each entry before the first NULL one meets promise 1 of
    ///    [`UserCStr::assume_readable`].
    /// 2. Nobody writes the entries or the strings meanwhile.
    pub(crate) unsafe fn assume_readable(ptr: *const *const c_char) -> Option<UserCStrArray> {
        Some(UserCStrArray {
            ptr: NonNull::new(ptr.cast_mut())?,
            access: Access::current(),
        })
    }

    /// Wraps a C array of strings read through the kernel only; `None` if
    /// NULL.
    #[cfg(test)]
    pub(crate) fn checked(ptr: *const *const c_char) -> Option<UserCStrArray> {
        Some(UserCStrArray {
            ptr: NonNull::new(ptr.cast_mut())?,
            access: Access::Checked,
        })
    }

    /// Entry `i`, which the caller reads only while no entry before it was
    /// NULL.
    fn entry(&self, i: usize) -> Result<*const c_char, Status> {
        let at = self.ptr.as_ptr().wrapping_add(i);
        match self.access {
            // SAFETY: promise 1 of `assume_readable` (the only way to get
            // `Direct`): the entries up to the first NULL one, within the
            // first `MAX_CSTR_ARRAY_LEN + 1`, are readable, unaligned reads
            // are used, and `to_vec` reads no further; promise 2: no writer.
            Access::Direct => Ok(unsafe { at.read_unaligned() }),
            Access::Checked => {
                let mut word = [0u8; size_of::<usize>()];
                vm_read(word.as_mut_ptr(), at.cast(), word.len())?;
                // An address only: checked access hands it to the kernel,
                // never dereferences it.
                Ok(ptr::without_provenance(usize::from_ne_bytes(word)))
            }
        }
    }

    /// Copies every string in, each without its NUL.
    ///
    /// # Errors
    /// `INVALID_ARGS` for more than [`MAX_CSTR_ARRAY_LEN`] strings before the
    /// NULL entry, more than [`MAX_CSTR_ARRAY_BYTES`] in all, a string
    /// [`UserCStr::to_vec`] refuses, or (checked access) memory that cannot
    /// be read; `NO_MEMORY`.
    pub(crate) fn to_vec(&self) -> Result<Vec<Vec<u8>>, Status> {
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let mut total = 0usize;
        for i in 0..=MAX_CSTR_ARRAY_LEN {
            let entry = self.entry(i)?;
            // SAFETY: for `Direct`, promise 1 of `assume_readable` covers
            // each entry before the first NULL one, and every entry before
            // this one was not NULL.
            let Some(string) = (unsafe { UserCStr::with_access(entry, self.access) }) else {
                return Ok(strings);
            };
            if i == MAX_CSTR_ARRAY_LEN {
                break;
            }
            let string = string.to_vec()?;
            total += string.len() + 1;
            if total > MAX_CSTR_ARRAY_BYTES {
                return Err(Status::INVALID_ARGS);
            }
            strings.try_reserve(1)?;
            strings.push(string);
        }
        Err(Status::INVALID_ARGS)
    }
}

impl fmt::Debug for UserCStrArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCStrArray")
            .field("ptr", &self.ptr)
            .field("access", &self.access)
            .finish()
    }
}

/// Panics (a bug in a lower layer, caught at the boundary as `INTERNAL`)
/// unless `offset..offset + n` lies within `0..len`.
fn within(offset: usize, n: usize, len: usize) {
    assert!(
        offset.checked_add(n).is_some_and(|end| end <= len),
        "copy of {n} bytes at {offset} outside a user buffer of {len}"
    );
}

/// Which way a checked copy goes.
#[derive(Copy, Clone, Debug)]
enum Direction {
    /// From user memory into ours (`process_vm_readv`).
    In,
    /// From ours into user memory (`process_vm_writev`).
    Out,
}

/// Copies `len` bytes between `ours` (valid memory of this crate) and the
/// user address `user` through the kernel, which checks `user`.
///
/// `ours` must be valid for `len` bytes: for reads if `Out`, for writes if
/// `In` (every caller passes a buffer it owns).
fn vm_copy(direction: Direction, ours: *mut u8, user: *mut u8, len: usize) -> Result<(), Status> {
    let mut done = 0;
    while done < len {
        let local = libc::iovec {
            iov_base: ours.wrapping_add(done).cast(),
            iov_len: len - done,
        };
        let remote = libc::iovec {
            iov_base: user.wrapping_add(done).cast(),
            iov_len: len - done,
        };
        // SAFETY: the local iovec covers memory the caller owns and lets us
        // access in this direction (see above), so the kernel's copy into or
        // out of it is an ordinary write or read of it; the remote iovec is
        // checked by the kernel, which reports EFAULT instead of touching
        // memory that is not mapped with the needed access. The pid is our
        // own (read afresh, so a forked child copies within itself).
        let n = unsafe {
            let pid = libc::getpid();
            match direction {
                Direction::In => libc::process_vm_readv(pid, &local, 1, &remote, 1, 0),
                Direction::Out => libc::process_vm_writev(pid, &local, 1, &remote, 1, 0),
            }
        };
        match usize::try_from(n) {
            Ok(0) => return Err(Status::INVALID_ARGS),
            Ok(n) => done += n,
            Err(_) => match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EFAULT) => return Err(Status::INVALID_ARGS),
                Some(libc::ENOMEM) => return Err(Status::NO_MEMORY),
                _ => return Err(Status::INTERNAL),
            },
        }
    }
    Ok(())
}

/// Reads `len` bytes at the user address `from` into our buffer `to`.
fn vm_read(to: *mut u8, from: *const u8, len: usize) -> Result<(), Status> {
    vm_copy(Direction::In, to, from.cast_mut(), len)
}

/// Writes our `len` bytes at `from` to the user address `to`.
fn vm_write(to: *mut u8, from: *const u8, len: usize) -> Result<(), Status> {
    // The kernel only reads `from` for a write-out.
    vm_copy(Direction::Out, from.cast_mut(), to, len)
}

/// Reads the `len` (at most 64) bytes at `user` and writes them back.
fn probe_bytes(user: *mut u8, len: usize) -> Result<(), Status> {
    let mut scratch = [0u8; 64];
    let scratch = &mut scratch[..len];
    vm_read(scratch.as_mut_ptr(), user, len)?;
    vm_write(user, scratch.as_ptr(), len)
}

/// Whether checked copies work in this process (seccomp filters, for
/// example in some containers, forbid them).
fn vm_self_test() -> Result<(), std::io::Error> {
    let source = [0x5au8; 4];
    let mut copy = [0u8; 4];
    vm_read(copy.as_mut_ptr(), source.as_ptr(), source.len())
        .map_err(|_| std::io::Error::last_os_error())?;
    if copy == source {
        Ok(())
    } else {
        Err(std::io::Error::other("copied bytes differ"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mx_core::Signals;

    /// An address in no mapping.
    const WILD: usize = 16;

    fn source_bytes(src: &dyn Source) -> Result<Vec<u8>, Status> {
        let mut out = vec![0u8; src.len()];
        src.copy_to_slice(0, &mut out)?;
        Ok(out)
    }

    #[test]
    fn direct_and_checked_sources_copy_the_same_bytes() {
        let data = *b"hello, magenta";
        // SAFETY: `data` is readable for its length and not written.
        let direct = unsafe { UserBytes::assume_readable(data.as_ptr().cast(), data.len()) };
        let checked = UserBytes::checked(data.as_ptr().cast(), data.len());
        assert_eq!(source_bytes(&direct).unwrap(), data);
        assert_eq!(source_bytes(&checked).unwrap(), data);
        let mut part = [0u8; 4];
        checked.copy_to_slice(7, &mut part).unwrap();
        assert_eq!(part, *b"mage");
    }

    #[test]
    fn checked_source_reports_faults() {
        let wild = UserBytes::checked(WILD as *const c_void, 8);
        assert_eq!(source_bytes(&wild), Err(Status::INVALID_ARGS));
        let null = UserBytes::checked(ptr::null(), 8);
        assert_eq!(source_bytes(&null), Err(Status::INVALID_ARGS));
        // Nothing copied, nothing touched: fine even for a wild pointer.
        assert_eq!(wild.copy_to_slice(8, &mut []), Ok(()));
    }

    #[test]
    fn null_with_direct_access_faults_instead_of_crashing() {
        // SAFETY: NULL needs no promise.
        let null = unsafe { UserBytes::assume_readable(ptr::null(), 3) };
        assert_eq!(source_bytes(&null), Err(Status::INVALID_ARGS));
        // SAFETY: as above.
        let mut null = unsafe { UserBytesMut::assume_writable(ptr::null_mut(), 3) };
        assert_eq!(null.write_at(0, b"abc"), Err(Status::INVALID_ARGS));
        assert_eq!(null.write_at(0, b""), Ok(()));
    }

    #[test]
    fn huge_lengths_are_carried_but_never_copied() {
        let data = [1u8; 4];
        let huge = 1usize << 40;
        // SAFETY: only the first 4 bytes are copied below.
        let src = unsafe { UserBytes::assume_readable(data.as_ptr().cast(), huge) };
        assert_eq!(src.len(), huge);
        let mut first = [0u8; 4];
        src.copy_to_slice(0, &mut first).unwrap();
        assert_eq!(first, data);
    }

    #[test]
    #[should_panic(expected = "copy beyond the source")]
    fn copies_beyond_the_buffer_panic() {
        let data = [0u8; 4];
        let src = UserBytes::checked(data.as_ptr().cast(), data.len());
        let mut dst = [0u8; 2];
        let _ = src.copy_to_slice(3, &mut dst);
    }

    #[test]
    #[should_panic(expected = "copy beyond the sink")]
    fn sink_writes_beyond_the_buffer_panic() {
        let mut data = [0u8; 4];
        let mut sink = UserBytesMut::checked(data.as_mut_ptr().cast(), data.len());
        let _ = sink.write_at(usize::MAX, b"x");
    }

    #[test]
    fn sinks_write_in_both_modes_and_checked_reports_faults() {
        let mut data = [0u8; 8];
        // SAFETY: `data` is writable for its length and nobody else uses it.
        let mut direct = unsafe { UserBytesMut::assume_writable(data.as_mut_ptr().cast(), 8) };
        direct.write_at(0, b"abcd").unwrap();
        let mut checked = UserBytesMut::checked(data.as_mut_ptr().cast(), 8);
        checked.write_at(4, b"efgh").unwrap();
        assert_eq!(&data, b"abcdefgh");
        let mut wild = UserBytesMut::checked(WILD as *mut c_void, 8);
        assert_eq!(wild.write_at(0, b"x"), Err(Status::INVALID_ARGS));
        // Read-only memory: readable, not writable.
        static READ_ONLY: [u8; 8] = [0; 8];
        let mut ro = UserBytesMut::checked(READ_ONLY.as_ptr().cast_mut().cast(), 8);
        assert_eq!(ro.write_at(0, b"x"), Err(Status::INVALID_ARGS));
        assert_eq!(READ_ONLY, [0; 8]);
    }

    #[test]
    fn out_parameters_write_unaligned_and_probe() {
        let mut raw = [0u8; 9];
        // An unaligned `size_t`.
        let at = raw.as_mut_ptr().wrapping_add(1).cast::<usize>();
        // SAFETY: 8 writable bytes at `at` inside `raw`, used by nobody else.
        let out = unsafe { UserOut::assume_writable(at) }.unwrap();
        out.probe().unwrap();
        out.write(0x0102_0304_0506_0708).unwrap();
        assert_eq!(raw[1..], 0x0102_0304_0506_0708usize.to_ne_bytes());
        let checked = UserOut::checked(at).unwrap();
        checked.probe().unwrap();
        checked.write(7).unwrap();
        assert_eq!(raw[1..], 7usize.to_ne_bytes());
        // SAFETY: NULL needs no promise.
        assert!(unsafe { UserOut::<u32>::assume_writable(ptr::null_mut()) }.is_none());
    }

    #[test]
    fn checked_out_parameters_fault_on_bad_memory() {
        let wild = UserOut::<u32>::checked(WILD as *mut u32).unwrap();
        assert_eq!(wild.probe(), Err(Status::INVALID_ARGS));
        assert_eq!(wild.write(1), Err(Status::INVALID_ARGS));
        static READ_ONLY: u64 = 42;
        let ro = UserOut::checked(ptr::from_ref(&READ_ONLY).cast_mut()).unwrap();
        assert_eq!(ro.probe(), Err(Status::INVALID_ARGS));
        assert_eq!(READ_ONLY, 42);
        assert_eq!(probe_all(&[&None, &Some(ro)]), Err(Status::INVALID_ARGS));
        assert_eq!(probe_all::<u32>(&[&None]), Ok(()));
    }

    #[test]
    fn in_parameters_read_in_both_modes() {
        let packet = PortPacket {
            key: 7,
            ..PortPacket::default()
        };
        // SAFETY: `packet` is readable and not written meanwhile.
        let direct = unsafe { UserIn::assume_readable(&packet) }.unwrap();
        assert_eq!(direct.read().unwrap().key, 7);
        assert_eq!(UserIn::checked(&packet).unwrap().read().unwrap().key, 7);
        let wild = UserIn::<PortPacket>::checked(WILD as *const PortPacket).unwrap();
        assert_eq!(wild.read(), Err(Status::INVALID_ARGS));
        // SAFETY: NULL needs no promise.
        assert!(unsafe { UserIn::<u32>::assume_readable(ptr::null()) }.is_none());
    }

    #[test]
    fn optional_out_parameters() {
        let mut value = 0u32;
        let out = UserOut::checked(&mut value);
        write_optional(&out, 5).unwrap();
        write_optional(&None, 6u32).unwrap();
        assert_eq!(value, 5);
    }

    #[test]
    fn arrays_copy_in_and_out() {
        let mut items = [
            WaitItem {
                handle: 1,
                waitfor: Signals::READABLE,
                pending: Signals::NONE,
            },
            WaitItem {
                handle: 2,
                waitfor: Signals::USER_ALL,
                pending: Signals::NONE,
            },
        ];
        for access in [Access::Direct, Access::Checked] {
            let array = match access {
                // SAFETY: `items` is valid for reads and writes of 2 items
                // and unused by anything else meanwhile.
                Access::Direct => unsafe { UserArray::assume_valid(items.as_mut_ptr(), 2) },
                Access::Checked => UserArray::checked(items.as_mut_ptr(), 2),
            }
            .unwrap();
            let mut copy = array.read().unwrap();
            assert_eq!(copy[1].handle, 2);
            copy[0].pending = Signals::LAST_HANDLE;
            array.write(&copy).unwrap();
        }
        assert_eq!(items[0].pending, Signals::LAST_HANDLE);
    }

    #[test]
    fn checked_arrays_fault_on_bad_or_read_only_memory() {
        let wild = UserArray::<WaitItem>::checked(WILD as *mut WaitItem, 1).unwrap();
        assert_eq!(wild.read().err(), Some(Status::INVALID_ARGS));
        static READ_ONLY: [u32; 3] = [1, 2, 3];
        let ro = UserArray::checked(READ_ONLY.as_ptr().cast_mut(), 3).unwrap();
        assert_eq!(ro.read().err(), Some(Status::INVALID_ARGS));
        let overflowing = UserArray::<WaitItem>::checked(WILD as *mut WaitItem, usize::MAX);
        assert_eq!(
            overflowing.unwrap().read().err(),
            Some(Status::INVALID_ARGS)
        );
        let huge = isize::MAX as usize / size_of::<WaitItem>();
        let huge = UserArray::<WaitItem>::checked(WILD as *mut WaitItem, huge).unwrap();
        assert_eq!(huge.read().err(), Some(Status::NO_MEMORY));
    }

    #[test]
    fn checked_copies_stop_at_the_end_of_a_mapping() {
        // Two pages, the second unmapped: a buffer straddling the boundary
        // faults as a whole.
        // SAFETY: an anonymous private mapping, no pointers involved.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let second = base.cast::<u8>().wrapping_add(4096);
        // SAFETY: unmaps the second page of our own mapping, which nothing
        // references.
        let unmapped = unsafe { libc::munmap(second.cast(), 4096) };
        assert_eq!(unmapped, 0);
        let start = base.cast::<u8>().wrapping_add(4090);
        let src = UserBytes::checked(start.cast(), 12);
        assert_eq!(source_bytes(&src), Err(Status::INVALID_ARGS));
        let inside = UserBytes::checked(start.cast(), 6);
        assert_eq!(source_bytes(&inside).unwrap(), [0; 6]);
        // SAFETY: unmaps the first page, ours.
        assert_eq!(unsafe { libc::munmap(base, 4096) }, 0);
    }

    #[test]
    fn strings_copy_in_both_modes_without_their_nul() {
        let text = c"hello, spawn";
        // SAFETY: a NUL-terminated string, not written.
        let direct = unsafe { UserCStr::assume_readable(text.as_ptr()) }.unwrap();
        assert_eq!(direct.to_vec().unwrap(), b"hello, spawn");
        let checked = UserCStr::checked(text.as_ptr()).unwrap();
        assert_eq!(checked.to_vec().unwrap(), b"hello, spawn");
        assert_eq!(
            UserCStr::checked(c"".as_ptr()).unwrap().to_vec().unwrap(),
            b""
        );
        // SAFETY: NULL needs no promise.
        assert!(unsafe { UserCStr::assume_readable(ptr::null()) }.is_none());
        let wild = UserCStr::checked(WILD as *const c_char).unwrap();
        assert_eq!(wild.to_vec(), Err(Status::INVALID_ARGS));
    }

    #[test]
    fn strings_longer_than_the_limit_are_refused() {
        let mut long = vec![b'a'; MAX_CSTR_LEN + 1];
        long.push(0);
        for access in [Access::Direct, Access::Checked] {
            // SAFETY: NUL-terminated, readable, not written.
            let s = unsafe { UserCStr::with_access(long.as_ptr().cast(), access) }.unwrap();
            assert_eq!(s.to_vec(), Err(Status::INVALID_ARGS), "{access:?}");
            // SAFETY: as above, one byte shorter.
            let s = unsafe { UserCStr::with_access(long[1..].as_ptr().cast(), access) }.unwrap();
            assert_eq!(s.to_vec().unwrap().len(), MAX_CSTR_LEN, "{access:?}");
        }
    }

    #[test]
    fn checked_strings_stop_at_their_nul_before_an_unmapped_page() {
        // A string whose NUL is the last byte of a mapping: found without
        // touching the unmapped page after it; without a NUL, a fault.
        // SAFETY: an anonymous private mapping, no pointers involved.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        let base = base.cast::<u8>();
        // SAFETY: unmaps the second page of our own mapping, which nothing
        // references.
        let unmapped = unsafe { libc::munmap(base.wrapping_add(4096).cast(), 4096) };
        assert_eq!(unmapped, 0);
        let start = base.wrapping_add(4090);
        // SAFETY: the 6 bytes at `start` are the end of our first page.
        unsafe { ptr::copy_nonoverlapping(c"abcde".as_ptr().cast(), start, 6) };
        let s = UserCStr::checked(start.cast()).unwrap();
        assert_eq!(s.to_vec().unwrap(), b"abcde");
        // SAFETY: as above.
        unsafe { start.add(5).write(b'f') };
        assert_eq!(s.to_vec(), Err(Status::INVALID_ARGS));
        // SAFETY: unmaps the first page, ours.
        assert_eq!(unsafe { libc::munmap(base.cast(), 4096) }, 0);
    }

    #[test]
    fn string_arrays_copy_in_both_modes() {
        let strings = [
            c"PATH=/bin".as_ptr(),
            c"".as_ptr(),
            c"x".as_ptr(),
            ptr::null(),
        ];
        // SAFETY: a NULL-terminated array of NUL-terminated strings, none
        // written.
        let direct = unsafe { UserCStrArray::assume_readable(strings.as_ptr()) }.unwrap();
        let want: Vec<Vec<u8>> = vec![b"PATH=/bin".to_vec(), vec![], b"x".to_vec()];
        assert_eq!(direct.to_vec().unwrap(), want);
        let checked = UserCStrArray::checked(strings.as_ptr()).unwrap();
        assert_eq!(checked.to_vec().unwrap(), want);
        let empty = [ptr::null::<c_char>()];
        assert!(UserCStrArray::checked(empty.as_ptr())
            .unwrap()
            .to_vec()
            .unwrap()
            .is_empty());
        // A wild array, or a wild entry.
        let wild = UserCStrArray::checked(WILD as *const *const c_char).unwrap();
        assert_eq!(wild.to_vec(), Err(Status::INVALID_ARGS));
        let bad = [c"ok".as_ptr(), WILD as *const c_char, ptr::null()];
        let bad = UserCStrArray::checked(bad.as_ptr()).unwrap();
        assert_eq!(bad.to_vec(), Err(Status::INVALID_ARGS));
    }

    #[test]
    fn string_arrays_beyond_the_limits_are_refused() {
        let one = c"x".as_ptr();
        let mut many = vec![one; MAX_CSTR_ARRAY_LEN];
        many.push(ptr::null());
        // SAFETY: NULL-terminated, every entry a NUL-terminated string.
        let most = unsafe { UserCStrArray::assume_readable(many.as_ptr()) }.unwrap();
        assert_eq!(most.to_vec().unwrap().len(), MAX_CSTR_ARRAY_LEN);
        many.insert(0, one);
        // SAFETY: as above.
        let too_many = unsafe { UserCStrArray::assume_readable(many.as_ptr()) }.unwrap();
        assert_eq!(too_many.to_vec(), Err(Status::INVALID_ARGS));
        // 17 strings of 1 MiB: more than 16 MiB in all.
        let mut long = vec![b'a'; MAX_CSTR_LEN];
        long.push(0);
        let mut big = vec![long.as_ptr().cast::<c_char>(); 17];
        big.push(ptr::null());
        let big = UserCStrArray::checked(big.as_ptr()).unwrap();
        assert_eq!(big.to_vec(), Err(Status::INVALID_ARGS));
    }

    #[test]
    fn the_kernel_lets_this_process_copy_from_itself() {
        vm_self_test().unwrap();
    }
}

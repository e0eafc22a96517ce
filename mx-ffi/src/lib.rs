//! `libmagenta`: Magenta's system calls as C functions.
//!
//! This crate builds `libmagenta.so` and `libmagenta.a`, which export the
//! `mx_*` calls of the repository's `SPEC.md` with Magenta's prototypes, so
//! that a program written against Magenta's `<magenta/syscalls.h>` compiles
//! against the headers in `include/` and runs unchanged on Linux:
//!
//! ```c
//! #include <magenta/syscalls.h>
//!
//! mx_handle_t a, b;
//! mx_socket_create(MX_SOCKET_DATAGRAM, &a, &b);
//! size_t n;
//! mx_socket_write(a, 0, "hi", 2, &n);
//! ```
//!
//! # Layers
//!
//! ```text
//!   C program ── #include <magenta/syscalls.h>, -lmagenta
//!       │
//!   mx-ffi (this crate): one extern "C" fn per call
//!       │   boundary: panics caught, Status → mx_status_t
//!       │   ptr:      raw pointers → UserBytes / UserOut / ... (only here)
//!       │
//!   mx::sys: one fn per call, every check of SPEC.md in its order
//!       │
//!   mx (objects, handle table) ── mx-core (state machines) ── mx-shm
//! ```
//!
//! # Principles
//!
//! - **Thin.** Each entry point checks the NULL and size combinations that
//!   only C has (for example `mx_socket_write` with `size > 0` and a NULL
//!   buffer, which is `MX_ERR_INVALID_ARGS` before the handle is looked
//!   up), wraps its pointers, calls exactly one `mx::sys` function and
//!   writes its out-parameters. No semantic is implemented twice: rights,
//!   types, options, sizes beyond 32 bits and every state rule are `sys`'s.
//! - **Pointers are typed at once.** [`ptr`] is the only module that
//!   touches raw pointers (and, with the entry points' `unsafe` wrapping
//!   calls, the only `unsafe` code). Nothing makes a Rust slice over the
//!   caller's memory, so a `size` larger than the buffer is harmless until
//!   something copies it, and `mx::sys` rejects such sizes before copying.
//! - **Out-parameters are written only on success**, except where Magenta
//!   writes them on an error too, which `mx::sys` says with
//!   [`ErrorWith`](mx::sys::ErrorWith): `*observed` after
//!   `MX_ERR_TIMED_OUT` or `MX_ERR_CANCELED`, the counts of `mx_object_get_info`
//!   with `MX_ERR_BUFFER_TOO_SMALL`. On any other error `*actual` and the
//!   handle outputs are left untouched.
//! - **No panic crosses into C.** See [`boundary`]: a panic
//!   (always our bug) becomes `MX_ERR_INTERNAL`, and the first one is
//!   reported on standard error.
//!
//! # Strict pointer mode
//!
//! `MX_STRICT_POINTERS=1` in the environment (read once) makes the library
//! copy all user memory through `process_vm_readv`/`process_vm_writev` on its
//! own process: an invalid non-NULL pointer then gives `MX_ERR_INVALID_ARGS`
//! instead of a crash, as in the kernel. It costs a system call per copy and
//! is off by default. The `libc` dependency exists for these two calls,
//! which `rustix` does not wrap. Details in [`ptr`].
//!
//! # Differences from the Magenta kernel
//!
//! - Without strict mode, an invalid non-NULL pointer is undefined behaviour
//!   (usually `SIGSEGV`), not `MX_ERR_INVALID_ARGS`.
//! - Pointer errors come first: a NULL required out-parameter (and, in strict
//!   mode, an unwritable one) is `MX_ERR_INVALID_ARGS` before anything else
//!   is checked, and the call has no effect. Magenta found a bad out pointer
//!   only when copying out, after acting (closing a replaced handle, creating
//!   objects). One visible consequence: `mx_eventpair_create` with bad options
//!   *and* a NULL output returns `INVALID_ARGS`, not `NOT_SUPPORTED`.
//! - `mx_object_wait_many` rejects a `count` above 1,024 before reading
//!   `items` (the same `INVALID_ARGS` that Magenta and `mx::sys` give).
//! - `mx_object_get_info(MX_INFO_HANDLE_VALID)` writes counts of 0 to
//!   `*actual` and `*avail`; Magenta left them alone.
//! - Handles are per OS process and die with it. They reach another
//!   process in a channel message, or at its start through
//!   `mx_linux_spawn`, our extension (`<magenta/linux.h>`, see [`linux`]).
//!
//! # Modules
//!
//! One per call family: [`socket`], [`channel`], [`handle`], [`object`],
//! [`event`], [`time`], [`port`], [`property`] (properties, cookies,
//! children), [`system`] (ticks, CPUs, random numbers, thread and process
//! exit, `<magenta/process.h>`) and [`linux`] (our `<magenta/linux.h>`:
//! channels from descriptors, spawning with handles). [`unsupported`] has
//! every call of Magenta's
//! list whose objects this library does not have: each returns
//! `MX_ERR_NOT_SUPPORTED`. [`ctypes`] has the C type names.

pub mod boundary;
pub mod channel;
pub mod ctypes;
pub mod event;
pub mod handle;
pub mod linux;
pub mod object;
pub mod port;
pub mod property;
pub mod ptr;
pub mod socket;
pub mod system;
pub mod time;
pub mod unsupported;

pub use channel::{mx_channel_call, mx_channel_create, mx_channel_read, mx_channel_write};
pub use event::{mx_event_create, mx_eventpair_create};
pub use handle::{mx_handle_close, mx_handle_duplicate, mx_handle_replace};
pub use linux::{mx_linux_channel_from_fd, mx_linux_spawn};
pub use object::{
    mx_object_get_info, mx_object_signal, mx_object_signal_peer, mx_object_wait_many,
    mx_object_wait_one,
};
pub use port::{mx_object_wait_async, mx_port_cancel, mx_port_create, mx_port_queue, mx_port_wait};
pub use property::{
    mx_object_get_child, mx_object_get_cookie, mx_object_get_property, mx_object_set_cookie,
    mx_object_set_property,
};
pub use socket::{mx_socket_create, mx_socket_read, mx_socket_write};
pub use system::{
    mx_cprng_add_entropy, mx_cprng_draw, mx_futex_wake_handle_close_thread_exit,
    mx_get_startup_handle, mx_job_default, mx_process_exit, mx_process_self,
    mx_system_get_num_cpus, mx_system_get_physmem, mx_system_get_version, mx_thread_exit,
    mx_ticks_get, mx_ticks_per_second, mx_vmar_root_self,
};
pub use time::{mx_deadline_after, mx_nanosleep, mx_time_get};

/// Hooks for tests of the boundary itself; not part of the C ABI.
#[doc(hidden)]
pub mod testing {
    /// Makes the next `mx_*` function called on this thread panic inside its
    /// panic boundary, as a bug would, so that tests can see it return
    /// `MX_ERR_INTERNAL` (or its documented fallback value) and report once.
    pub fn panic_in_next_call() {
        crate::boundary::panic_next();
    }

    /// How many panics the boundary has caught in this process.
    pub fn caught_panics() -> usize {
        crate::boundary::caught()
    }
}

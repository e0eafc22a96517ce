//! Magenta sockets in Linux user space.
//!
//! This crate implements the socket object of Magenta (the 2017 kernel that
//! became Fuchsia's Zircon) and the small object model around it: a
//! process-wide handle table with rights, signals, waiting, events,
//! eventpairs and ports. The behaviour is specified in
//! `docs/SPEC.md` in the repository.
//!
//! # Where to start
//!
//! - [`api`]: the safe API. Owned, typed handles ([`api::Socket`],
//!   [`api::Channel`], [`api::Event`], [`api::EventPair`], [`api::Port`]),
//!   `std::io::Read`/`Write` for sockets, waiting with a deadline that can
//!   be a `std::time::Duration`. Its module docs say which calls block,
//!   which signals each object has, and how to wait with a timeout.
//! - [`Time`] and [`TimeExt`]: `Time::now()`, `Time::after(duration)`,
//!   deadlines and their arithmetic.
//! - [`Status`]: the result code of every call, and its one mapping to
//!   `std::io::ErrorKind` ([`Status::io_kind`]).
//! - [`sys`]: one function per `mx_*` system call, as C programs see them.
//! - [`mx::core`](crate::core): the rest of Magenta's vocabulary (the
//!   `mx-core` crate), such as [`mx::core::abi`](crate::core::abi) for the C
//!   constants and structs.
//! - [`linux`]: across Linux processes. Start a child with handles
//!   ([`linux::CommandExt::spawn_with_handles`], taken in the child with
//!   [`startup_handle`]), or make a channel of a `SOCK_SEQPACKET` socket
//!   ([`linux::channel_from_fd`]); socket and channel ends then cross in
//!   channel messages and behave as locally.
//! - In async code, the `mx-tokio` crate.
//!
//! # Layers
//!
//! ```text
//!   mx::api (safe Rust)      mx-ffi (C ABI)      mx-tokio (async)
//!            \                    |                    /
//!             +--------- mx::sys: one fn per mx_* call ---------+
//!                                 |
//!   handle table (2,048 buckets, RCU)  +  objects (watch lock, observers)
//!                                 |
//!        mx-core: the rules, pure       mx-shm: the bytes, lock-free
//! ```
//!
//! - The `mx-core` crate, re-exported and documented here as
//!   [`mx::core`](crate::core): the vocabulary ([`Status`], [`Signals`],
//!   [`Rights`], ...) and every rule as pure functions and state machines:
//!   what a write or read may do, signals, observer firing, handle buckets,
//!   port queues. No locks, no `unsafe`, no `std`.
//! - [`mx_shm`]: the lock-free parts, written for memory that may be shared
//!   with another process: a socket direction's byte ring with cached
//!   indices ([`mx_shm::Pipe`]), the biased gate that serialises each of its
//!   sides, the fences, the read-side sections and grace periods of
//!   [`mx_shm::rcu`], the handle buckets that lookups read without locking
//!   ([`mx_shm::handles`]), and [`storage`] (how bytes are copied in and
//!   out). With the C ABI, the main place with `unsafe` code (loom-checked).
//! - [`sys`]: one function per system call, applying the specification's
//!   checks in its order. The safe API, the C ABI and the tokio adapter all
//!   call these: every semantic has one implementation.
//! - [`api`]: owned handles and typed objects, `std::io` integration.
//! - Inside: the handle table (2,048 buckets, each with its own writers'
//!   mutex, so no process-wide lock on any path; lookups take none at all:
//!   no lock, no atomic read-modify-write, no full fence) and the objects
//!   (module `object`).
//!
//! # Principles
//!
//! - Signals are computed from state (atomic words and pipe counters), so a
//!   reader that sees `READABLE` finds data and a writer that sees
//!   `WRITABLE` cleared finds the buffer full.
//! - Socket data moves without the object's lock: a writer and a reader of
//!   one direction copy at the same time, each holding only its side of the
//!   pipe. Slow changes (handles, half-close, user signals) and the
//!   observers live under one watch lock per object.
//! - Waking is precise and happens after unlocking; with nobody waiting it
//!   costs a fence and a load. Waiters spin briefly (bounded by about one
//!   wake-up's cost), then park on a futex; nothing polls.
//! - Memory follows content: an unused socket pair is one 96-byte
//!   allocation plus two 16-byte handle entries, pipes and observer lists
//!   appear on first use. A pipe's ring (512 KiB of address space, pages
//!   committed as bytes first reach them) is mapped by the first write
//!   and given back when the reading end closes. Every
//!   allocation that input sizes, or that creates an object, reports
//!   `NO_MEMORY` instead of aborting; locks never allocate.
//! - `PEER_CLOSED` follows handle counts, not Rust's `Drop`. Closing a
//!   handle does everything a close does at once; only the memory of what
//!   it named is freed later, after a grace period, since a lookup on
//!   another thread may still be using it. An operation whose lookup raced
//!   the close of its end's last handle fails with `BAD_HANDLE` or comes
//!   before the close.
//!
//! # Lock order
//!
//! handle-table bucket (several at once only in index order: `replace`,
//! channel writes and reads that move handles) → one pipe side (never two:
//! see `mx_shm::gate`) → object watch lock → port lock.
//!
//! Nothing is acquired in the other direction. A handle lookup holds no
//! lock, only a read section; writers, and waits registering through a
//! handle, hold its bucket's mutex. Nothing blocks while a bucket lock is
//! held or inside a read section (waits register, then park after
//! leaving), nothing waits for a grace period while holding a lock or
//! inside a section, and wake-ups are delivered with no lock held.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use mx::api::{AsHandleRef, Socket, SocketOpts};
//! use mx::{Signals, Status, Time, TimeExt};
//!
//! let (a, b) = Socket::create(SocketOpts::Datagram)?;
//! assert_eq!(a.try_write(b"hello")?, 5);        // never blocks
//! let deadline = Time::after(Duration::from_secs(1));
//! assert!(b.wait_handle(Signals::READABLE, deadline)?.contains(Signals::READABLE));
//! let mut buf = [0u8; 16];
//! let n = b.try_read(&mut buf)?;
//! assert_eq!(&buf[..n], b"hello");
//! drop(a);
//! assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
//! assert_eq!(b.recv(&mut buf), Err(Status::PEER_CLOSED)); // blocks only while the peer is open
//! # Ok::<(), Status>(())
//! ```

#![forbid(unsafe_code)]

pub mod api;
mod object;
#[cfg(not(loom))]
mod remote;
mod sync;
pub mod sys;
mod table;
mod time;

#[cfg(not(loom))]
pub use api::linux;
#[cfg(not(loom))]
pub use api::linux::startup_handle;
pub use api::TimeExt;
// Inlined, so that `cargo doc -p mx --no-deps` documents `mx::core` too.
#[doc(inline)]
pub use mx_core as core;
pub use mx_core::abi::{HandleBasicInfo, WaitItem, HANDLE_INVALID};
pub use mx_core::{Koid, ObjectType, RawHandle, Rights, Signals, Status, Time};
pub use mx_shm::storage;
pub use object::wait::{spin_budget, DEFAULT_SPIN_NS};

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

//! Magenta sockets in Linux user space.
//!
//! This crate implements the socket object of Magenta (the 2017 kernel that
//! became Fuchsia's Zircon) and the small object model around it: a
//! process-wide handle table with rights, signals, waiting and events. The
//! behaviour is specified in the repository's `SPEC.md`.
//!
//! # Layers
//!
//! ```text
//!   mx::api (safe Rust)     mx-ffi (C ABI)     mx-tokio (async)
//!            \                  |                  /
//!             +-------- mx::sys: one fn per mx_* call --------+
//!                               |
//!          mx::table (handles)  +  mx::object (locks, waiters)
//!                               |
//!         mx-core: pure state machines (no locks, no unsafe)
//! ```
//!
//! - [`mx_core`] (re-exported as [`core`]): the vocabulary
//!   ([`Status`], [`Signals`], [`Rights`], ...) and the pure state machines.
//! - [`sys`]: one function per system call, applying the specification's
//!   checks in its order. Everything else calls these.
//! - [`api`]: owned handles and typed objects, `std::io` integration.
//! - Internally, the handle table (2,048 independently locked buckets; no
//!   process-wide lock on any data path) and the objects, each a
//!   `mx-core` state machine under one lock with its observers.
//!
//! # Principles
//!
//! - Signals are derived from state under the object's lock, so they change
//!   atomically with it; both ends of a pair share one lock.
//! - Waking is precise and happens after unlocking; it costs one comparison
//!   when nobody waits. Waiters spin briefly (bounded) and then park on a
//!   futex; nothing polls.
//! - Large socket transfers copy outside the lock, so a writer and a reader
//!   copy at the same time.
//! - Memory follows content: an idle socket pair owns no buffers; every
//!   allocation that input sizes, or that creates an object, reports
//!   `NO_MEMORY` instead of aborting.
//! - `PEER_CLOSED` follows handle counts, not Rust's `Drop`.
//!
//! # Lock order
//!
//! Handle-table bucket (two at once only in index order, by `replace`) →
//! socket reader mutex → object lock. Nothing is acquired in the other
//! direction, nothing blocks while a bucket lock is held, and wake-ups are
//! delivered with no lock held.
//!
//! # Example
//!
//! ```
//! use mx::api::{AsHandleRef, Socket, SocketOpts};
//! use mx::{Signals, Status, Time};
//!
//! let (a, b) = Socket::create(SocketOpts::Datagram)?;
//! assert_eq!(a.write(b"hello")?, 5);
//! assert!(b.wait_handle(Signals::READABLE, Time::INFINITE)?.contains(Signals::READABLE));
//! let mut buf = [0u8; 16];
//! let n = b.read(&mut buf)?;
//! assert_eq!(&buf[..n], b"hello");
//! drop(a);
//! assert_eq!(b.read(&mut buf), Err(Status::PEER_CLOSED));
//! # Ok::<(), Status>(())
//! ```

#![forbid(unsafe_code)]

pub mod api;
mod object;
mod sync;
pub mod sys;
mod table;
mod time;

pub use mx_core as core;
pub use mx_core::abi::{HandleBasicInfo, WaitItem, HANDLE_INVALID};
pub use mx_core::{Koid, ObjectType, RawHandle, Rights, Signals, Status, Time};
pub use object::live_objects;
pub use object::wait::{spin_budget, DEFAULT_SPIN_NS};

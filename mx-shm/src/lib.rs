//! Memory shared without locks, and the unsafe code that reaches it.
//!
//! Everything in this crate exists so that the hot paths of Magenta objects
//! run with no lock and no atomic read-modify-write instruction, and so that
//! the same code can run over memory shared with another process. It is one
//! of the two crates of the workspace with `unsafe` code (the other is the C
//! ABI, `mx-ffi`); every block says which rule makes it sound.
//!
//! - [`pipe`]: one direction of a socket, a ring of bytes with one writer
//!   and one reader at a time, cached indices, and published counters.
//! - [`gate`]: a lock biased towards the one thread that uses it, entered
//!   with plain stores; used by each side of a pipe.
//! - [`fence`]: asymmetric fences (`membarrier(2)`): a compiler fence on the
//!   hot side, a heavy fence on the rare side.
//! - [`rcu`]: read-side sections (a plain store and a compiler fence) and
//!   grace periods (a heavy fence and a scan of the threads' records).
//! - [`handles`]: a bucket of the handle table, looked up inside a read
//!   section with atomic loads only, changed under a mutex; what it removes
//!   it reclaims after a grace period.
//! - `thread`: each thread's index into the per-thread records of the gates
//!   and of the read sections (separate records, one index).
//! - `segment` and `shared`: a socket pair in a sealed memory file shared
//!   with other processes, every word of which a hostile peer may change
//!   at any time (not under loom: the protocol is the pipe's, with a lock
//!   word per side).
//! - `process`: a hook for the child of `fork()`, and descriptors kept
//!   across `exec` or taken over from a parent.
//! - [`storage`]: [`Source`](storage::Source) and [`Sink`](storage::Sink),
//!   how bytes get into and out of an object, as raw copies (no Rust
//!   reference may cover memory another process writes).
//! - `sync`: the locks and atomics of this crate and of `mx`, swapped for
//!   loom's under `--cfg loom`.
//!
//! Every protocol here is model-checked with loom (`tests/loom.rs`).

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod fence;
pub mod gate;
pub mod handles;
pub mod pipe;
#[cfg(not(loom))]
pub mod process;
pub mod rcu;
#[cfg(not(loom))]
pub mod segment;
#[cfg(not(loom))]
pub mod shared;
pub mod storage;
pub mod sync;
mod thread;

pub use pipe::{Pipe, Reader, Writer, RING_BYTES};

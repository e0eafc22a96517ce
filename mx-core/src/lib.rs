//! The pure core of Magenta sockets: state machines without locks, threads,
//! handles tables or C types.
//!
//! Everything here is deterministic, `no_std` (with `alloc`), free of `unsafe`,
//! and tested on its own. The object layer (`mx`) wraps these types in locks
//! and adds waiting; an OS kernel could do the same.
//!
//! - [`Status`], [`Signals`], [`Rights`] and [`abi`]: Magenta's vocabulary.
//! - [`socket`]: the socket rules (checks, amounts, framing, signals) as pure
//!   functions of a pair's state; [`storage`]: how queues are counted
//!   ([`storage::Tally`]) and how handle values enter and leave a call. The
//!   bytes themselves, and how they are copied, are `mx-shm`'s.
//! - [`channel`]: the channel rules (limits, read checks, transaction ids,
//!   signals) and an end's inbox with its waiting callers.
//! - [`event`]: events and eventpairs.
//! - [`observer::ObserverList`]: who waits on an object and when they fire.
//! - [`port::PortQueue`]: a port's packets and the threads waiting for them.
//! - [`handle`]: handle values and the buckets of slots behind them.
//!
//! Every allocation here is fallible and reported as [`Status::NO_MEMORY`].
//!
//! The `std` feature adds `From<Status> for std::io::Error`.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod abi;
pub mod channel;
pub mod event;
pub mod handle;
pub mod observer;
mod peer;
pub mod port;
mod rights;
mod signals;
pub mod socket;
mod status;
pub mod storage;

pub use abi::{Koid, ObjectType, RawHandle, Time};
pub use peer::Side;
pub use rights::Rights;
pub use signals::Signals;
pub use status::Status;

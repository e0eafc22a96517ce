//! Objects shared with other processes: channel links, sockets in shared
//! memory, and the process's poller that watches them.
//!
//! - [`node`]: the poller thread, the process's bell, and the table of
//!   what it watches.
//! - [`wire`]: the frames a channel link carries.
//! - [`link`]: channels whose ends are in two processes.
//! - [`transfer`]: handles crossing in messages.
//! - [`fork`]: what a child of `fork()` starts with.
//!
//! Nothing here runs for a program that keeps its objects to itself: the
//! poller starts the first time an object crosses.

pub(crate) mod fork;
pub(crate) mod link;
pub(crate) mod node;
pub(crate) mod transfer;
pub(crate) mod wire;

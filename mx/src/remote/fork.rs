//! `fork()`: the child starts with an empty handle table and a working
//! library, whatever the parent did (SPEC 11).
//!
//! Only the forking thread exists in the child, so every process-wide
//! structure another thread of the parent might have been changing, or
//! holding a lock of, is replaced rather than reset: the handle table, the
//! node (its poller thread did not come along), the lock that serialises
//! moving sockets into segments, the startup handles. The parent's objects
//! stay in the child's memory, unreachable; nothing of them is shared with
//! the child or closed by it (its copies of the parent's descriptors are
//! left as they are, as for any forked process).

/// Installs the child hook, once per process.
pub(crate) fn install() {
    mx_shm::process::at_fork_child(after_fork_in_child);
}

/// Runs in the child of `fork()`, before `fork()` returns there.
fn after_fork_in_child() {
    super::node::forget_after_fork();
    crate::sync::counters::reset_after_fork();
    crate::table::reset_after_fork();
    crate::object::socket::reset_after_fork();
    crate::sys::linux::reset_after_fork();
    crate::object::wait::reset_after_fork();
    // mx_shm reset its own per-thread records and its fences before this
    // hook ran (see `mx_shm::process::at_fork_child`).
}

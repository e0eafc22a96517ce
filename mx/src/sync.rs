//! Every synchronisation primitive of the crate, in one place.
//!
//! Production code locks, counts and parks only through this module, so that
//! building with `RUSTFLAGS="--cfg loom"` swaps all of it for loom's
//! model-checked versions (clippy's `disallowed-methods` keeps direct uses of
//! `std::sync` and `std::thread::park` out of the rest of the crate).
//!
//! - [`Mutex`], [`RwLock`]: std's futex locks (they never allocate), or
//!   loom's; shared with `mx-shm` ([`mx_shm::sync`]).
//! - [`Arc`]: `triomphe::Arc`, whose `try_new` reports allocation failure
//!   (std's `Arc::new` aborts on stable Rust); loom's `Arc` under loom.
//! - [`Parker`]: a one-shot wake-up cell on a futex word (no allocation, no
//!   `std::thread` handle), or a loom mutex and condition variable.

use mx_core::Status;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use triomphe::Arc;

#[cfg(loom)]
pub(crate) use loom::sync::Arc;

/// Allocates an `Arc`, reporting failure instead of aborting.
pub(crate) fn try_arc<T>(value: T) -> Result<Arc<T>, Status> {
    #[cfg(not(loom))]
    {
        Arc::try_new(value).map_err(|_| Status::NO_MEMORY)
    }
    #[cfg(loom)]
    {
        Ok(Arc::new(value))
    }
}

pub(crate) use mx_shm::sync::Mutex;

/// A value alone on its cache line, so that threads writing neighbouring
/// values do not take the line from each other.
#[derive(Debug, Default)]
#[repr(align(64))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> core::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Gives the CPU to another thread.
pub(crate) fn yield_now() {
    #[cfg(not(loom))]
    std::thread::yield_now();
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// One thread's wake-up cell: `park` sleeps until `unpark` (once) or a
/// timeout. Reusable only by making a new one.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub(crate) struct Parker {
    /// `IDLE`, `SLEEPING` (a thread is in, or about to enter, `futex_wait`) or
    /// `WOKEN`.
    state: AtomicU32,
}

#[cfg(not(loom))]
impl Parker {
    const IDLE: u32 = 0;
    const WOKEN: u32 = 1;
    const SLEEPING: u32 = 2;

    pub(crate) const fn new() -> Parker {
        Parker {
            state: AtomicU32::new(Self::IDLE),
        }
    }

    /// Wakes the parked thread (now or when it next parks). A system call
    /// is made only if it is asleep.
    pub(crate) fn unpark(&self) {
        if self.state.swap(Self::WOKEN, Ordering::Release) == Self::SLEEPING {
            // Errors: EFAULT cannot happen for a live reference; nothing else
            // is reported for FUTEX_WAKE.
            let _ =
                rustix::thread::futex::wake(&self.state, rustix::thread::futex::Flags::PRIVATE, 1);
        }
    }

    /// Whether `unpark` was called.
    pub(crate) fn is_unparked(&self) -> bool {
        self.state.load(Ordering::Acquire) == Self::WOKEN
    }

    /// Sleeps until unparked or `timeout` (`None`: forever) passes; returns
    /// whether it was unparked. May return `false` early (spuriously); callers
    /// loop on their own deadline.
    pub(crate) fn park(&self, timeout: Option<std::time::Duration>) -> bool {
        use rustix::thread::futex;
        if self
            .state
            .compare_exchange(
                Self::IDLE,
                Self::SLEEPING,
                Ordering::Acquire,
                Ordering::Acquire,
            )
            .is_err()
        {
            return self.is_unparked();
        }
        let ts = timeout.map(|d| rustix::time::Timespec {
            tv_sec: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        // EAGAIN (already woken), EINTR and ETIMEDOUT all lead to the re-check.
        let _ = futex::wait(
            &self.state,
            futex::Flags::PRIVATE,
            Self::SLEEPING,
            ts.as_ref(),
        );
        // Back to IDLE unless woken meanwhile (then the state is WOKEN).
        self.state
            .compare_exchange(
                Self::SLEEPING,
                Self::IDLE,
                Ordering::Acquire,
                Ordering::Acquire,
            )
            .is_err()
    }
}

#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Parker {
    woken: loom::sync::Mutex<bool>,
    cond: loom::sync::Condvar,
}

#[cfg(loom)]
impl Parker {
    pub(crate) fn new() -> Parker {
        Parker::default()
    }

    pub(crate) fn unpark(&self) {
        *self.woken.lock().unwrap() = true;
        self.cond.notify_one();
    }

    pub(crate) fn is_unparked(&self) -> bool {
        *self.woken.lock().unwrap()
    }

    /// loom has no time: a finite timeout returns at once (the caller's
    /// deadline logic then sees it as expired), an infinite one waits.
    pub(crate) fn park(&self, timeout: Option<std::time::Duration>) -> bool {
        let mut woken = self.woken.lock().unwrap();
        if timeout.is_none() {
            while !*woken {
                woken = self.cond.wait(woken).unwrap();
            }
        }
        *woken
    }
}

/// Process-wide counters that order nothing (ids, statistics). They use std
/// atomics even under loom: they synchronise no data, and loom cannot hold
/// statics across its executions.
pub(crate) mod counters {
    #[allow(clippy::disallowed_types)]
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    static NEXT_KOID: AtomicU64 = AtomicU64::new(mx_core::Koid::FIRST.0);
    static NEXT_OBSERVER: AtomicU64 = AtomicU64::new(1);
    static LIVE_OBJECTS: AtomicUsize = AtomicUsize::new(0);

    /// Reserves `n` consecutive koids and returns the first.
    ///
    /// Koids start at this process's pid times 2^32, so that objects
    /// shared between processes (which keep their creator's koids) do not
    /// share koids with other objects. A child made by `fork()` starts
    /// again from its own pid ([`reset_after_fork`]).
    pub(crate) fn koids(n: u64) -> mx_core::Koid {
        let next = NEXT_KOID.fetch_add(n, Ordering::Relaxed);
        let base = match BASE.load(Ordering::Relaxed) {
            0 => {
                let pid = rustix::process::getpid().as_raw_nonzero().get() as u64;
                let base = pid << 32;
                match BASE.compare_exchange(0, base, Ordering::Relaxed, Ordering::Relaxed) {
                    Ok(_) => base,
                    Err(first) => first,
                }
            }
            base => base,
        };
        mx_core::Koid(base + next)
    }

    /// This process's koid base (0 until the first koid).
    static BASE: AtomicU64 = AtomicU64::new(0);

    /// In a child after `fork()`: koids from the child's pid on.
    #[cfg(not(loom))]
    pub(crate) fn reset_after_fork() {
        BASE.store(0, Ordering::Relaxed);
        NEXT_KOID.store(mx_core::Koid::FIRST.0, Ordering::Relaxed);
    }

    /// A fresh observer id.
    pub(crate) fn observer_id() -> u64 {
        NEXT_OBSERVER.fetch_add(1, Ordering::Relaxed)
    }

    /// An object was created.
    pub(crate) fn object_born() {
        LIVE_OBJECTS.fetch_add(1, Ordering::Relaxed);
    }

    /// An object was freed.
    pub(crate) fn object_died() {
        LIVE_OBJECTS.fetch_sub(1, Ordering::Relaxed);
    }

    /// Objects alive now.
    pub(crate) fn live_objects() -> usize {
        LIVE_OBJECTS.load(Ordering::Relaxed)
    }
}

//! The locks and atomics of this crate and of `mx`, swapped for loom's
//! under `--cfg loom`.
//!
//! [`Mutex`] and [`RwLock`] wrap std's futex-based locks: they never
//! allocate, not even under contention (a lock that parked threads in a
//! lazily allocated global table could abort the process when memory runs
//! out), and they are as small as the platform allows. Poisoning is ignored:
//! no lock here guards an invariant that a panic could break halfway (state
//! changes are computed first and stored last).

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};

#[cfg(loom)]
pub use loom::sync::Arc;
/// The reference-counted pointer of this crate and of `mx`: `triomphe`'s
/// (no weak count; `try_new` reports allocation failure), or loom's.
#[cfg(not(loom))]
pub use triomphe::Arc;

/// A cell for data that a gate or a protocol, not the type system,
/// guards: std's, or loom's (which checks the accesses) under loom.
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T>(
    #[cfg(not(loom))] core::cell::UnsafeCell<T>,
    #[cfg(loom)] loom::cell::UnsafeCell<T>,
);

impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> UnsafeCell<T> {
        #[cfg(not(loom))]
        {
            UnsafeCell(core::cell::UnsafeCell::new(value))
        }
        #[cfg(loom)]
        {
            UnsafeCell(loom::cell::UnsafeCell::new(value))
        }
    }

    /// Runs `f` with a pointer for exclusive access (see the callers'
    /// `SAFETY` comments for why it is exclusive).
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
        #[cfg(loom)]
        {
            self.0.with_mut(f)
        }
    }

    /// Runs `f` with a pointer for shared access.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        #[cfg(not(loom))]
        {
            f(self.0.get())
        }
        #[cfg(loom)]
        {
            self.0.with(f)
        }
    }
}

#[cfg(not(loom))]
use std::sync as imp;

#[cfg(loom)]
use loom::sync as imp;

pub use imp::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A mutual-exclusion lock (std's, or loom's under `--cfg loom`).
#[derive(Debug, Default)]
pub struct Mutex<T>(#[allow(clippy::disallowed_types)] imp::Mutex<T>);

impl<T> Mutex<T> {
    /// A new, unlocked mutex.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Mutex<T> {
        #[allow(clippy::disallowed_types)]
        Mutex(imp::Mutex::new(value))
    }

    /// A new, unlocked mutex.
    #[cfg(loom)]
    pub fn new(value: T) -> Mutex<T> {
        Mutex(imp::Mutex::new(value))
    }

    /// Locks, waiting as long as it takes.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks if nobody holds the lock now.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        match self.0.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The value, through exclusive access.
    pub fn get_mut(&mut self) -> &mut T {
        self.0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A reader-writer lock (std's, or loom's under `--cfg loom`).
#[derive(Debug, Default)]
pub struct RwLock<T>(#[allow(clippy::disallowed_types)] imp::RwLock<T>);

impl<T> RwLock<T> {
    /// A new, unlocked lock.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> RwLock<T> {
        #[allow(clippy::disallowed_types)]
        RwLock(imp::RwLock::new(value))
    }

    /// A new, unlocked lock.
    #[cfg(loom)]
    pub fn new(value: T) -> RwLock<T> {
        RwLock(imp::RwLock::new(value))
    }

    /// Locks for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks for writing.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One round of waiting for another thread that will be done soon: a pause
/// instruction, or under loom a yield (so the model lets the other thread
/// run).
pub(crate) fn spin_or_yield() {
    #[cfg(not(loom))]
    {
        core::hint::spin_loop();
        std::thread::yield_now();
    }
    #[cfg(loom)]
    loom::thread::yield_now();
}

/// A value made once per process and never freed, published without a
/// lock, that a child process made by `fork()` can forget (its copy of the
/// value may describe threads and descriptors it does not have).
#[cfg(not(loom))]
#[derive(Debug)]
pub struct Leaked<T> {
    ptr: std::sync::atomic::AtomicPtr<T>,
}

#[cfg(not(loom))]
impl<T> Default for Leaked<T> {
    fn default() -> Self {
        Leaked::new()
    }
}

#[cfg(not(loom))]
impl<T> Leaked<T> {
    /// Empty.
    pub const fn new() -> Leaked<T> {
        Leaked {
            ptr: std::sync::atomic::AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// The value, if one was published.
    #[inline]
    pub fn get(&self) -> Option<&'static T> {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer here came from `Box::leak` in `publish`
        // (release, paired with the acquire load above) and is never freed,
        // so it is valid for `'static`.
        unsafe { ptr.as_ref() }
    }

    /// Publishes `value` unless one is published already; returns the
    /// published one, and `value` back if it lost.
    pub fn publish(&self, value: Box<T>) -> (&'static T, Option<Box<T>>) {
        let ptr = Box::into_raw(value);
        match self.ptr.compare_exchange(
            core::ptr::null_mut(),
            ptr,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `ptr` is from `Box::into_raw` just above, now
            // published and never freed.
            Ok(_) => (unsafe { &*ptr }, None),
            Err(first) => {
                // SAFETY: `ptr` was never published: ours to take back.
                let value = unsafe { Box::from_raw(ptr) };
                // SAFETY: `first` was published (by `Box::into_raw`) and is
                // never freed.
                (unsafe { &*first }, Some(value))
            }
        }
    }

    /// Forgets the published value (it stays allocated: references to it
    /// may still exist).
    pub fn forget(&self) {
        self.ptr.store(core::ptr::null_mut(), Ordering::Release);
    }
}

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
pub(crate) use core::cell::UnsafeCell;
#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

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

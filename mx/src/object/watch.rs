//! Who waits on an object, and waking them: one mechanism for every kind.
//!
//! A kind that can be waited on implements [`Observable`]: it has a
//! [`Watch`] (its observers, under the object's one lock) and computes its
//! signals from its state at any time without locking. Everything else is
//! here, generic over the kinds:
//!
//! - [`update`] runs a slow change (handles, half-close, user signals)
//!   under the watch lock, then recomputes the signals, fires the observers
//!   whose condition became true and wakes them after unlocking.
//! - [`data_changed`] is how a data path that changed state without the lock
//!   (socket bytes) tells the observers, if there are any.
//! - [`register`] adds an observer: a thread ([`Waiting::Thread`]), an async
//!   task ([`Waiting::Task`]) or an asynchronous wait queueing into a port
//!   ([`Waiting::Port`], see [`super::port`]).
//!
//! # Not missing a wake-up without the lock
//!
//! After publishing, a data path issues a sequentially consistent fence and
//! reads the number of observers; a thread registering an observer stores
//! that number, issues the same fence, and only then reads the state. So
//! either the data path sees the observer (and notifies it), or the
//! registering thread sees the data (and does not sleep). When nobody waits,
//! waking costs one fence and one load.
//!
//! Observers see the states computed at each notification, so two data
//! operations that race one notification may be seen as one change.
//!
//! Lock order: watch lock → port lock. Nothing here blocks or allocates
//! under the watch lock except the observer list's own growth, which
//! reports `NO_MEMORY`.

use core::task::Waker;

use mx_core::observer::{Observer, ObserverList, Verdict, Wanted};
use mx_core::{RawHandle, Side, Signals, Status};

use super::port;
use crate::sync::{counters, fence, Arc, AtomicU32, Mutex, Ordering, Parker};

/// A kind that can be waited on.
pub(crate) trait Observable: Sync + core::fmt::Debug {
    /// Its observers.
    fn watch(&self) -> &Watch;

    /// The ends it has signals for.
    fn sides(&self) -> &'static [Side];

    /// The current signals of `side`, computed without locking.
    fn signals(&self, side: Side) -> Signals;

    /// Payload bytes `side` may write now, for room waiters (sockets only;
    /// unlimited once a write from `side` would fail whatever the room).
    fn room(&self, _side: Side) -> Option<usize> {
        None
    }

    /// Messages queued at `side` (channels only): the `count` of the first
    /// port packet of an asynchronous wait armed while `READABLE` is
    /// asserted.
    fn messages(&self, _side: Side) -> Option<usize> {
        None
    }
}

/// An object's observers, under one lock, and how many there are.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// Observers registered (a copy of `state.observers.len()`), read by the
    /// data paths without the lock.
    watchers: AtomicU32,
    /// The observers and the signals they last saw; also serialises every
    /// slow change to the object's state.
    state: Mutex<WatchState>,
}

/// What a [`Watch`]'s lock protects. Functions that must run under it take
/// `&WatchState` or `&mut WatchState`.
#[derive(Debug, Default)]
pub(crate) struct WatchState {
    /// Everyone waiting on any end.
    observers: ObserverList<Waiting>,
    /// The signals of each end at the last notification (edges are
    /// computed against these).
    seen: [Signals; 2],
}

impl WatchState {
    /// Marks the waits made through `handle` as cancelled; they fire when
    /// the enclosing [`update`] publishes.
    pub(crate) fn cancel(&mut self, handle: RawHandle) {
        self.observers.retain(|o| {
            if o.handle == handle {
                o.canceled = true;
            }
            Verdict::Keep
        });
    }

    /// Removes the observers for which `remove` says so (port
    /// cancellation).
    pub(crate) fn remove_observers(
        &mut self,
        mut remove: impl FnMut(&Observer<Waiting>) -> bool,
    ) -> bool {
        let mut removed = false;
        self.observers.retain(|o| {
            if remove(o) {
                removed = true;
                Verdict::Remove
            } else {
                Verdict::Keep
            }
        });
        removed
    }
}

/// What an observer does when it fires.
#[derive(Debug)]
pub(crate) enum Waiting {
    /// Unpark a thread blocked in a wait (it unregisters itself).
    Thread(Arc<Parker>),
    /// Wake an async task (the observer is removed; the task re-registers).
    Task(Waker),
    /// Queue a packet into a port (`mx_object_wait_async`).
    Port(port::PortLink),
}

/// Someone to wake once the lock is released.
#[derive(Debug)]
enum Wake {
    Thread(Arc<Parker>),
    Task(Waker),
}

impl Wake {
    fn wake(self) {
        match self {
            Wake::Thread(parker) => parker.unpark(),
            Wake::Task(waker) => waker.wake(),
        }
    }
}

/// Wake-ups collected under a lock, delivered after it is released.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    first: Option<Wake>,
    rest: Vec<Wake>,
}

impl WakeList {
    fn push(&mut self, wake: Wake) {
        if self.first.is_none() {
            self.first = Some(wake);
        } else if self.rest.try_reserve(1).is_ok() {
            self.rest.push(wake);
        } else {
            // Out of memory: wake under the lock rather than lose a wake-up.
            wake.wake();
        }
    }

    /// Queues the wake-up of a parked thread.
    pub(crate) fn push_thread(&mut self, parker: Arc<Parker>) {
        self.push(Wake::Thread(parker));
    }

    /// Delivers every queued wake-up; call with no lock held.
    pub(crate) fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for wake in self.rest {
            wake.wake();
        }
    }
}

/// A registration request for [`register`].
#[derive(Debug)]
pub(crate) struct ObserveRequest {
    /// The handle the wait is made through (closing it cancels the wait).
    pub(crate) handle: RawHandle,
    /// What fires the observer: signals, or (socket writers) room.
    pub(crate) wanted: Wanted,
    /// Register even if already satisfied (`wait_many` reports every item).
    pub(crate) always: bool,
    /// Fire on every change while triggered (repeating async waits).
    pub(crate) repeating: bool,
    /// What firing does.
    pub(crate) kind: Waiting,
}

/// The result of [`register`].
#[derive(Debug)]
pub(crate) enum Observed {
    /// Already satisfied, not registered: the current signals.
    Now(Signals),
    /// Registered as `id`; `current` is the state at registration.
    Registered { id: u64, current: Signals },
}

/// Runs `f` under `o`'s watch lock, then recomputes the signals, fires the
/// observers whose condition became true, unlocks, and wakes them. Every
/// slow change to an object's state goes through here.
pub(crate) fn update<R>(o: &(impl Observable + ?Sized), f: impl FnOnce(&mut WatchState) -> R) -> R {
    let watch = o.watch();
    let mut wakes = WakeList::default();
    let result = {
        let mut state = watch.state.lock();
        let result = f(&mut state);
        publish(o, &mut state, &mut wakes);
        watch
            .watchers
            .store(state.observers.len() as u32, Ordering::Relaxed);
        result
    };
    wakes.wake_all();
    result
}

/// Runs `f` under `o`'s watch lock, publishing nothing (for a check that
/// must not race a slow change, such as a socket's first write allocating
/// its pipes while its end is being closed).
pub(crate) fn locked<R>(o: &(impl Observable + ?Sized), f: impl FnOnce(&WatchState) -> R) -> R {
    f(&o.watch().state.lock())
}

/// After a data path published a change (no lock held): notifies the
/// observers, if any (see the module docs for why this cannot miss one).
pub(crate) fn data_changed(o: &(impl Observable + ?Sized)) {
    fence(Ordering::SeqCst);
    if o.watch().watchers.load(Ordering::Relaxed) > 0 {
        update(o, |_| ());
    }
}

/// Whether any observer is registered on `o` now.
pub(crate) fn is_watched(o: &(impl Observable + ?Sized)) -> bool {
    o.watch().watchers.load(Ordering::Acquire) > 0
}

/// After a handle to `o` was uncounted without the lock: cancels the waits
/// made through it and publishes the change, taking the lock only if
/// anybody waits (the module docs say why that cannot miss an observer; a
/// wait through `handle` registered before the handle left the table, so
/// it shows in `watchers`).
pub(crate) fn handle_closed(o: &(impl Observable + ?Sized), handle: RawHandle) {
    fence(Ordering::SeqCst);
    if o.watch().watchers.load(Ordering::Relaxed) > 0 {
        update(o, |locked| locked.cancel(handle));
    }
}

/// Cancels the waits made through `handle`, whose value stopped naming `o`
/// (it was replaced, or sent in a message).
///
/// The value left the handle table before this is called, under the
/// bucket's lock; a wait registers under that same lock
/// (`HandleTable::find_locked`), and announces itself in `watchers` before
/// releasing it. So a wait through
/// the value that could need cancelling shows in `watchers` here, and with
/// none the lock is not taken.
pub(crate) fn cancel(o: &(impl Observable + ?Sized), handle: RawHandle) {
    if o.watch().watchers.load(Ordering::Acquire) == 0 {
        return;
    }
    update(o, |locked| locked.cancel(handle));
}

/// Fires observers for the change since the signals they last saw. Runs
/// under the watch lock.
fn publish(o: &(impl Observable + ?Sized), state: &mut WatchState, wakes: &mut WakeList) {
    if state.observers.is_empty() {
        return;
    }
    for &side in o.sides() {
        let new = o.signals(side);
        let old = core::mem::replace(&mut state.seen[side.index()], new);
        state
            .observers
            .notify(side, old, new, o.room(side), |observer| {
                fire(observer, new, wakes)
            });
    }
    // Cancelled observers fire whatever the signals did.
    let seen = state.seen;
    state.observers.retain(|observer| {
        if observer.canceled && !observer.fired {
            fire(observer, seen[observer.side.index()], wakes)
        } else {
            Verdict::Keep
        }
    });
}

/// Registers an observer of `side` of `o`, unless the request is already
/// satisfied and not `always`. `finish` runs under the lock on the new
/// observer (with `fired` set if it is satisfied already) and says whether
/// to keep it.
///
/// # Errors
/// `NO_MEMORY`, or `finish`'s error.
pub(crate) fn register(
    o: &(impl Observable + ?Sized),
    side: Side,
    request: ObserveRequest,
    finish: impl FnOnce(&mut Observer<Waiting>, &mut WakeList) -> Result<bool, Status>,
) -> Result<Observed, Status> {
    let watch = o.watch();
    let mut wakes = WakeList::default();
    let registered = {
        let mut state = watch.state.lock();
        // Announce the observer before reading the state (module docs).
        watch
            .watchers
            .store(state.observers.len() as u32 + 1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let registered = register_locked(o, &mut state, side, request, finish, &mut wakes);
        watch
            .watchers
            .store(state.observers.len() as u32, Ordering::Relaxed);
        registered
    };
    wakes.wake_all();
    registered
}

/// [`register`] under the watch lock.
fn register_locked(
    o: &(impl Observable + ?Sized),
    state: &mut WatchState,
    side: Side,
    request: ObserveRequest,
    finish: impl FnOnce(&mut Observer<Waiting>, &mut WakeList) -> Result<bool, Status>,
    wakes: &mut WakeList,
) -> Result<Observed, Status> {
    if state.observers.is_empty() {
        // Nobody kept `seen` up to date.
        for &s in o.sides() {
            state.seen[s.index()] = o.signals(s);
        }
    } else {
        // Deliver any change the others have not seen yet first, so that
        // `seen` is current for everyone.
        publish(o, state, wakes);
    }
    let current = state.seen[side.index()];
    let satisfied = request.wanted.satisfied_by(current, o.room(side));
    if satisfied && !request.always {
        return Ok(Observed::Now(current));
    }
    state.observers.reserve()?;
    let id = counters::observer_id();
    let mut observer = Observer::new(
        id,
        side,
        request.handle,
        request.wanted,
        current,
        request.kind,
    );
    observer.fired = satisfied;
    observer.repeating = request.repeating;
    if !finish(&mut observer, wakes)? {
        return Ok(Observed::Now(current));
    }
    state.observers.push(observer);
    Ok(Observed::Registered { id, current })
}

/// Registers an observer of `side` unless the request is already satisfied
/// (and not `always`).
///
/// # Errors
/// `NO_MEMORY`.
pub(crate) fn observe(
    o: &(impl Observable + ?Sized),
    side: Side,
    request: ObserveRequest,
) -> Result<Observed, Status> {
    register(o, side, request, |_, _| Ok(true))
}

/// Removes an observer registered by [`observe`].
pub(crate) fn unobserve(o: &(impl Observable + ?Sized), id: u64) -> Option<Observer<Waiting>> {
    update(o, |state| state.observers.remove(id))
}

/// Fires one observer of an end now showing `current`: queues its wake-up
/// (or its packet) and says whether it stays registered.
fn fire(observer: &mut Observer<Waiting>, current: Signals, wakes: &mut WakeList) -> Verdict {
    if matches!(observer.kind, Waiting::Port(_)) {
        return port::fire_link(observer, current, wakes);
    }
    observer.fired = true;
    match &mut observer.kind {
        Waiting::Thread(parker) => {
            wakes.push(Wake::Thread(parker.clone()));
            Verdict::Keep
        }
        Waiting::Task(waker) => {
            wakes.push(Wake::Task(core::mem::replace(waker, Waker::noop().clone())));
            Verdict::Remove
        }
        Waiting::Port(_) => Verdict::Keep,
    }
}

//! Kernel objects: their locks, their waiters, and how they wake.
//!
//! Every object kind is a variant of [`Kernel`], so a `match` shows what a new
//! kind must handle. A handle names a `Kernel` and, for peered objects, an end
//! ([`Object`] is that pair, owned). Each kind holds its pure state from
//! `mx-core` inside a [`Guarded`]: one mutex over the state *and* its
//! observers (for peered objects, over both ends), plus a lock-free snapshot
//! of each end's signals for spinning waiters.
//!
//! State changes go through [`Guarded::update`]: the closure changes the core
//! under the lock, the signals are recomputed and stored, observers fire, and
//! the threads and tasks they name are woken after the lock is released.
//! When nobody waits, that costs a comparison per end.

pub(crate) mod event;
pub(crate) mod socket;
pub(crate) mod wait;

use core::task::Waker;

use mx_core::observer::{Changes, Observer, ObserverList, Verdict};
use mx_core::socket::SocketCore;
use mx_core::storage::Storage;
use mx_core::{Koid, ObjectType, RawHandle, Side, Signals, Status};

use crate::sync::{counters, Arc, AtomicU32, Mutex, MutexGuard, Ordering, Parker};

pub(crate) use event::{Event, EventPair};
pub(crate) use socket::SocketPair;

/// A kernel object of any kind (both ends, for peered kinds).
#[derive(Debug)]
pub(crate) enum Kernel {
    /// A socket pair.
    Socket(SocketPair),
    /// An event.
    Event(Event),
    /// An eventpair.
    EventPair(EventPair),
}

/// One end of a kernel object, owned: what a handle names.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub(crate) kernel: Arc<Kernel>,
    pub(crate) side: Side,
}

/// Runs `$body` with `$g` bound to the kernel object's [`Guarded`] state.
macro_rules! with_guarded {
    ($kernel:expr, |$g:ident| $body:expr) => {
        match $kernel {
            Kernel::Socket(o) => {
                let $g = &o.guarded;
                $body
            }
            Kernel::Event(o) => {
                let $g = &o.guarded;
                $body
            }
            Kernel::EventPair(o) => {
                let $g = &o.guarded;
                $body
            }
        }
    };
}

impl Kernel {
    /// `mx_obj_type_t` of the object.
    pub(crate) fn object_type(&self) -> ObjectType {
        match self {
            Kernel::Socket(_) => ObjectType::SOCKET,
            Kernel::Event(_) => ObjectType::EVENT,
            Kernel::EventPair(_) => ObjectType::EVENT_PAIR,
        }
    }

    /// The koid of `side`.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        match self {
            Kernel::Socket(o) => o.koid(side),
            Kernel::Event(o) => o.koid(),
            Kernel::EventPair(o) => o.koid(side),
        }
    }

    /// The koid of `side`'s peer for peered objects, else `Koid::INVALID`.
    pub(crate) fn related_koid(&self, side: Side) -> Koid {
        match self {
            Kernel::Socket(o) => o.koid(side.peer()),
            Kernel::Event(_) => Koid::INVALID,
            Kernel::EventPair(o) => o.koid(side.peer()),
        }
    }

    /// Whether `object_wait_*` may wait on it.
    pub(crate) fn is_waitable(&self) -> bool {
        match self {
            Kernel::Socket(_) | Kernel::Event(_) | Kernel::EventPair(_) => true,
        }
    }

    /// The current signals of `side`, without locking.
    pub(crate) fn signals(&self, side: Side) -> Signals {
        with_guarded!(self, |g| g.signals(side))
    }

    /// Counts a new handle to `side`.
    ///
    /// # Errors
    /// `BAD_HANDLE` if the end's last handle was closed meanwhile (the handle
    /// being duplicated is gone).
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        with_guarded!(self, |g| g.update(|l| Core::add_handle(&mut l.core, side)))
    }

    /// The handle `handle` to `side` was closed: cancels the waits made
    /// through it and uncounts it (which may close the end).
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        with_guarded!(self, |g| g.update(|l| {
            l.cancel(handle);
            Core::remove_handle(&mut l.core, side);
        }))
    }

    /// The handle `handle` was replaced by another: cancels the waits made
    /// through it; the handle count does not change.
    pub(crate) fn cancel_handle(&self, handle: RawHandle) {
        with_guarded!(self, |g| g.update(|l| l.cancel(handle)))
    }

    /// `mx_object_signal` on `side`.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        with_guarded!(self, |g| g.update(|l| l.core.user_signal(side, clear, set)))
    }

    /// `mx_object_signal_peer` from `side`.
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        with_guarded!(self, |g| g
            .update(|l| l.core.user_signal_peer(side, clear, set)))
    }

    /// Registers an observer of `side` (see [`Guarded::observe`]).
    pub(crate) fn observe(&self, side: Side, request: ObserveRequest) -> Result<Observed, Status> {
        with_guarded!(self, |g| g.observe(side, request))
    }

    /// Removes an observer registered by [`Kernel::observe`].
    pub(crate) fn unobserve(&self, id: u64) -> Option<Observer<Waiting>> {
        with_guarded!(self, |g| g.update(|l| l.observers.remove(id)))
    }
}

impl Object {
    /// The current signals, without locking.
    pub(crate) fn signals(&self) -> Signals {
        self.kernel.signals(self.side)
    }

    /// Removes an observer registered through this object.
    pub(crate) fn unobserve(&self, id: u64) -> Option<Observer<Waiting>> {
        self.kernel.unobserve(id)
    }
}

/// Counts live objects for leak tests: one lives inside every object.
#[derive(Debug)]
pub(crate) struct Live(());

impl Live {
    pub(crate) fn new() -> Live {
        counters::object_born();
        Live(())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        counters::object_died();
    }
}

/// Objects alive in this process (a socket pair or an eventpair counts as
/// one), for leak tests.
pub fn live_objects() -> usize {
    counters::live_objects()
}

/// What an observer does when it fires.
#[derive(Debug)]
pub(crate) enum Waiting {
    /// Unpark a thread blocked in a wait (it unregisters itself).
    Thread(Arc<Parker>),
    /// Wake an async task (the observer is removed; the task re-registers).
    #[allow(dead_code)]
    Task(Waker),
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

    fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for wake in self.rest {
            wake.wake();
        }
    }
}

/// The pure state of an object kind, as the object layer drives it.
pub(crate) trait Core {
    /// The ends this kind has.
    const SIDES: &'static [Side];
    /// The current signals of `side`.
    fn signals(&self, side: Side) -> Signals;
    /// Payload bytes `side` may write (sockets), for room waiters.
    fn room(&self, _side: Side) -> Option<usize> {
        None
    }
    /// Counts a new handle to `side`; `BAD_HANDLE` if the end is closed.
    fn add_handle(&mut self, side: Side) -> Result<(), Status>;
    /// Uncounts a handle to `side`; returns whether it was the last.
    fn remove_handle(&mut self, side: Side) -> bool;
    /// `object_signal`.
    fn user_signal(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status>;
    /// `object_signal_peer`.
    fn user_signal_peer(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status>;
}

impl<S: Storage> Core for SocketCore<S> {
    const SIDES: &'static [Side] = &Side::BOTH;
    fn signals(&self, side: Side) -> Signals {
        SocketCore::signals(self, side)
    }
    fn room(&self, side: Side) -> Option<usize> {
        Some(SocketCore::room(self, side))
    }
    fn add_handle(&mut self, side: Side) -> Result<(), Status> {
        if !self.is_open(side) {
            return Err(Status::BAD_HANDLE);
        }
        SocketCore::add_handle(self, side);
        Ok(())
    }
    fn remove_handle(&mut self, side: Side) -> bool {
        SocketCore::remove_handle(self, side)
    }
    fn user_signal(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        self.signal(side, clear, set)
    }
    fn user_signal_peer(&mut self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        self.signal_peer(side, clear, set)
    }
}

/// A registration request for [`Guarded::observe`].
#[derive(Debug)]
pub(crate) struct ObserveRequest {
    /// The handle the wait is made through (closing it cancels the wait).
    pub(crate) handle: RawHandle,
    /// Signals that fire the observer.
    pub(crate) watched: Signals,
    /// For socket writers: fire when this many bytes fit (0: no).
    pub(crate) need_room: usize,
    /// Register even if already satisfied (`wait_many` reports every item).
    pub(crate) always: bool,
    /// What firing does.
    pub(crate) kind: Waiting,
}

/// The result of [`Guarded::observe`].
#[derive(Debug)]
pub(crate) enum Observed {
    /// Already satisfied, not registered: the current signals.
    Now(Signals),
    /// Registered as `id`; `current` is the state at registration.
    Registered { id: u64, current: Signals },
}

/// An object's state and observers under one lock, plus a lock-free copy of
/// each end's signals.
#[derive(Debug)]
pub(crate) struct Guarded<C> {
    /// Each end's signals as last computed, stored under `state` when they
    /// change; read without the lock by spinning waiters and `get_info`.
    snapshot: [AtomicU32; 2],
    /// The object's state (both ends of a peered object) and its observers.
    state: Mutex<Locked<C>>,
}

/// What [`Guarded`]'s lock protects.
#[derive(Debug)]
pub(crate) struct Locked<C> {
    /// The pure state machine.
    pub(crate) core: C,
    /// Everyone waiting on any end.
    pub(crate) observers: ObserverList<Waiting>,
}

impl<C: Core> Locked<C> {
    /// Marks the waits made through `handle` as cancelled; they fire when the
    /// enclosing [`Guarded::update`] publishes.
    fn cancel(&mut self, handle: RawHandle) {
        self.observers.retain(|o| {
            if o.handle == handle {
                o.canceled = true;
            }
            Verdict::Keep
        });
    }
}

impl<C: Core> Guarded<C> {
    /// Wraps a new core.
    pub(crate) fn new(core: C) -> Guarded<C> {
        let snapshot = [
            AtomicU32::new(core.signals(Side::A).bits()),
            AtomicU32::new(if C::SIDES.len() > 1 {
                core.signals(Side::B).bits()
            } else {
                0
            }),
        ];
        Guarded {
            snapshot,
            state: Mutex::new(Locked {
                core,
                observers: ObserverList::new(),
            }),
        }
    }

    /// The signals of `side`, without locking.
    pub(crate) fn signals(&self, side: Side) -> Signals {
        Signals::from_bits_retain(self.snapshot[side.index()].load(Ordering::Acquire))
    }

    /// Locks the state for reading it. Changes go through [`Guarded::update`].
    pub(crate) fn lock(&self) -> MutexGuard<'_, Locked<C>> {
        self.state.lock()
    }

    /// Runs `f` on the locked state, publishes the signal changes it made,
    /// fires observers, unlocks, then wakes whoever they name.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Locked<C>) -> R) -> R {
        let mut wakes = WakeList::default();
        let result = {
            let mut locked = self.state.lock();
            let result = f(&mut locked);
            self.publish(&mut locked, &mut wakes);
            result
        };
        wakes.wake_all();
        result
    }

    /// Stores changed signals and fires observers. Runs under the lock.
    fn publish(&self, locked: &mut Locked<C>, wakes: &mut WakeList) {
        let mut changes = Changes::default();
        for &side in C::SIDES {
            let i = side.index();
            let new = locked.core.signals(side);
            // Only this lock's holder stores, so a relaxed load is current.
            let old = Signals::from_bits_retain(self.snapshot[i].load(Ordering::Relaxed));
            if new != old {
                self.snapshot[i].store(new.bits(), Ordering::Release);
            }
            changes.old[i] = old;
            changes.new[i] = new;
        }
        if locked.observers.is_empty() {
            return;
        }
        for &side in C::SIDES {
            let (old, new) = (changes.old[side.index()], changes.new[side.index()]);
            let room = locked.core.room(side);
            locked
                .observers
                .notify(side, old, new, room, |o| fire(o, wakes));
        }
        // Cancelled observers fire whatever the signals did.
        locked.observers.retain(|o| {
            if o.canceled && !o.fired {
                fire(o, wakes)
            } else {
                Verdict::Keep
            }
        });
    }

    /// Registers an observer of `side` unless the request is already
    /// satisfied (and not `always`).
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub(crate) fn observe(&self, side: Side, request: ObserveRequest) -> Result<Observed, Status> {
        let mut locked = self.state.lock();
        let current = locked.core.signals(side);
        let room_ok = request.need_room > 0
            && locked
                .core
                .room(side)
                .is_some_and(|r| r >= request.need_room);
        let satisfied = current.intersects(request.watched) || room_ok;
        if satisfied && !request.always {
            return Ok(Observed::Now(current));
        }
        let id = counters::observer_id();
        let mut observer = Observer::new(
            id,
            side,
            request.handle,
            request.watched,
            current,
            request.kind,
        );
        observer.need_room = request.need_room;
        observer.fired = satisfied;
        locked.observers.add(observer)?;
        Ok(Observed::Registered { id, current })
    }
}

/// Fires one observer: queues its wake-up and says whether it stays.
fn fire(observer: &mut Observer<Waiting>, wakes: &mut WakeList) -> Verdict {
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
    }
}

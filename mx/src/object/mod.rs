//! Kernel objects: their state, their waiters, and how they wake.
//!
//! Every object kind is a variant of [`Kernel`], so a `match` shows what a new
//! kind must handle. A handle names a `Kernel` and, for peered objects, an end
//! ([`Object`] is that pair, owned).
//!
//! # State and signals
//!
//! Each kind keeps its state in atomic words (an [`mx_core::socket::End`] or
//! [`mx_core::event::EventState`] per end, and for sockets the pipes'
//! counters), so its signals can be computed at any time without a lock
//! ([`Kernel::signals`]). Slow changes (handles, half-close, user signals)
//! are made under the object's [`Watch`] lock; socket data moves without it.
//!
//! # Waking
//!
//! The [`Watch`] holds the observers and the signals they last saw. After
//! every change, [`Kernel::update`] recomputes the signals, fires observers
//! whose watched bits became asserted, and wakes them after unlocking.
//! Observers are threads ([`Waiting::Thread`]), async tasks
//! ([`Waiting::Task`]) or asynchronous waits queueing into a port
//! ([`Waiting::Port`], see [`port`]).
//!
//! The socket data paths do not take the watch lock. After publishing, a
//! data path issues a sequentially consistent fence and reads the number of
//! observers; a thread registering an observer stores that number, issues
//! the same fence, and only then reads the state. So either the data path
//! sees the observer (and notifies it), or the registering thread sees the
//! data (and does not sleep). When nobody waits, waking costs one fence and
//! one load.
//!
//! Observers see the states computed at each notification, so two data
//! operations that race one notification may be seen as one change.
//!
//! Lock order: watch lock → port lock.

pub(crate) mod event;
pub(crate) mod port;
pub(crate) mod socket;
mod state;
pub(crate) mod wait;

use core::task::Waker;

use mx_core::observer::{Observer, ObserverList, Verdict, Wanted};
use mx_core::{Koid, ObjectType, RawHandle, Side, Signals, Status};

use crate::sync::{counters, fence, Arc, AtomicU32, Mutex, Ordering, Parker};

pub(crate) use event::{Event, EventPair};
pub(crate) use port::Port;
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
    /// A port (boxed: its queue would make every object as large).
    Port(Arc<Port>),
}

/// One end of a kernel object, owned: what a handle names.
#[derive(Clone, Debug)]
pub(crate) struct Object {
    pub(crate) kernel: Arc<Kernel>,
    pub(crate) side: Side,
}

impl Kernel {
    /// `mx_obj_type_t` of the object.
    pub(crate) fn object_type(&self) -> ObjectType {
        match self {
            Kernel::Socket(_) => ObjectType::SOCKET,
            Kernel::Event(_) => ObjectType::EVENT,
            Kernel::EventPair(_) => ObjectType::EVENT_PAIR,
            Kernel::Port(_) => ObjectType::PORT,
        }
    }

    /// The ends the object has signals for.
    fn sides(&self) -> &'static [Side] {
        match self {
            Kernel::Event(_) => &[Side::A],
            Kernel::Socket(_) | Kernel::EventPair(_) => &Side::BOTH,
            Kernel::Port(_) => &[],
        }
    }

    /// The koid of `side`.
    pub(crate) fn koid(&self, side: Side) -> Koid {
        match self {
            Kernel::Socket(o) => o.koid(side),
            Kernel::Event(o) => o.koid(),
            Kernel::EventPair(o) => o.koid(side),
            Kernel::Port(o) => o.koid(),
        }
    }

    /// The koid of `side`'s peer for peered objects, else `Koid::INVALID`.
    pub(crate) fn related_koid(&self, side: Side) -> Koid {
        match self {
            Kernel::Socket(o) => o.koid(side.peer()),
            Kernel::EventPair(o) => o.koid(side.peer()),
            Kernel::Event(_) | Kernel::Port(_) => Koid::INVALID,
        }
    }

    /// Whether `object_wait_*` may wait on it.
    pub(crate) fn is_waitable(&self) -> bool {
        match self {
            Kernel::Socket(_) | Kernel::Event(_) | Kernel::EventPair(_) => true,
            Kernel::Port(_) => false,
        }
    }

    fn watch(&self) -> &Watch {
        match self {
            Kernel::Socket(o) => &o.watch,
            Kernel::Event(o) => &o.watch,
            Kernel::EventPair(o) => &o.watch,
            Kernel::Port(o) => &o.watch,
        }
    }

    /// The current signals of `side`, computed without locking.
    pub(crate) fn signals(&self, side: Side) -> Signals {
        match self {
            Kernel::Socket(o) => o.signals(side),
            Kernel::Event(o) => o.signals(),
            Kernel::EventPair(o) => o.signals(side),
            Kernel::Port(_) => Signals::NONE,
        }
    }

    /// Payload bytes `side` may write now (sockets), for room waiters:
    /// unlimited once a write from `side` would fail whatever the room.
    fn room(&self, side: Side) -> Option<usize> {
        match self {
            Kernel::Socket(o) => Some(o.room_for_waiters(side)),
            Kernel::Event(_) | Kernel::EventPair(_) | Kernel::Port(_) => None,
        }
    }

    /// Counts a new handle to `side`.
    ///
    /// # Errors
    /// `BAD_HANDLE` if the end's last handle was closed meanwhile (the handle
    /// being duplicated is gone).
    pub(crate) fn add_handle(&self, side: Side) -> Result<(), Status> {
        match self {
            Kernel::Socket(o) => self.update(|locked| o.add_handle(locked, side)),
            Kernel::Event(o) => self.update(|locked| o.add_handle(locked)),
            Kernel::EventPair(o) => self.update(|locked| o.add_handle(locked, side)),
            Kernel::Port(o) => o.add_handle(),
        }
    }

    /// The handle `handle` to `side` was closed: cancels the waits made
    /// through it and uncounts it (which may close the end).
    pub(crate) fn close_handle(&self, side: Side, handle: RawHandle) {
        let last = match self {
            Kernel::Socket(o) => self.update(|locked| {
                locked.cancel(handle);
                o.remove_handle(locked, side)
            }),
            Kernel::Event(o) => self.update(|locked| {
                locked.cancel(handle);
                o.remove_handle(locked)
            }),
            Kernel::EventPair(o) => self.update(|locked| {
                locked.cancel(handle);
                o.remove_handle(locked, side)
            }),
            Kernel::Port(o) => {
                o.close_handle(handle);
                false
            }
        };
        if let (true, Kernel::Socket(o)) = (last, self) {
            o.closed(side);
        }
    }

    /// The handle `handle` was replaced by another: cancels the waits made
    /// through it; the handle count does not change.
    pub(crate) fn cancel_handle(&self, handle: RawHandle) {
        match self {
            Kernel::Port(o) => o.cancel_handle(handle),
            _ => self.update(|locked| locked.cancel(handle)),
        }
    }

    /// `mx_object_signal` on `side`.
    pub(crate) fn signal(&self, side: Side, clear: Signals, set: Signals) -> Result<(), Status> {
        match self {
            Kernel::Socket(o) => self.update(|locked| o.state(side).signal(locked, clear, set)),
            Kernel::Event(o) => self.update(|locked| o.state().signal(locked, clear, set)),
            Kernel::EventPair(o) => self.update(|locked| o.end(side).signal(locked, clear, set)),
            Kernel::Port(_) => Err(Status::NOT_SUPPORTED),
        }
    }

    /// `mx_object_signal_peer` from `side`.
    pub(crate) fn signal_peer(
        &self,
        side: Side,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        match self {
            Kernel::Socket(o) => {
                self.update(|locked| o.state(side.peer()).signal_as_peer(locked, clear, set))
            }
            Kernel::EventPair(o) => {
                self.update(|locked| o.end(side.peer()).signal_as_peer(locked, clear, set))
            }
            Kernel::Event(_) | Kernel::Port(_) => Err(Status::NOT_SUPPORTED),
        }
    }

    /// Runs `f` under the watch lock, then recomputes the signals, fires the
    /// observers whose watched bits became asserted, unlocks, and wakes them.
    /// Every slow change to an object's state goes through here.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut WatchState) -> R) -> R {
        let watch = self.watch();
        let mut wakes = WakeList::default();
        let result = {
            let mut state = watch.state.lock();
            let result = f(&mut state);
            self.publish(&mut state, &mut wakes);
            watch
                .watchers
                .store(state.observers.len() as u32, Ordering::Relaxed);
            result
        };
        wakes.wake_all();
        result
    }

    /// After a data path published a change (no lock held): notifies the
    /// observers, if any (see the module docs for why this cannot miss one).
    pub(crate) fn data_changed(&self) {
        fence(Ordering::SeqCst);
        if self.watch().watchers.load(Ordering::Relaxed) > 0 {
            self.update(|_| ());
        }
    }

    /// Fires observers for the change since the signals they last saw. Runs
    /// under the watch lock.
    fn publish(&self, state: &mut WatchState, wakes: &mut WakeList) {
        if state.observers.is_empty() {
            return;
        }
        for &side in self.sides() {
            let new = self.signals(side);
            let old = core::mem::replace(&mut state.seen[side.index()], new);
            state
                .observers
                .notify(side, old, new, self.room(side), |o| fire(o, new, wakes));
        }
        // Cancelled observers fire whatever the signals did.
        let seen = state.seen;
        state.observers.retain(|o| {
            if o.canceled && !o.fired {
                fire(o, seen[o.side.index()], wakes)
            } else {
                Verdict::Keep
            }
        });
    }

    /// Registers an observer of `side`, unless the request is already
    /// satisfied and not `always`. `finish` runs under the lock on the new
    /// observer (with `fired` set if it is satisfied already) and says
    /// whether to keep it.
    ///
    /// # Errors
    /// `NOT_SUPPORTED` (not waitable), `NO_MEMORY`, or `finish`'s error.
    fn register(
        &self,
        side: Side,
        request: ObserveRequest,
        finish: impl FnOnce(&mut Observer<Waiting>, &mut WakeList) -> Result<bool, Status>,
    ) -> Result<Observed, Status> {
        if !self.is_waitable() {
            return Err(Status::NOT_SUPPORTED);
        }
        let watch = self.watch();
        let mut wakes = WakeList::default();
        let registered = {
            let mut state = watch.state.lock();
            // Announce the observer before reading the state (module docs).
            watch
                .watchers
                .store(state.observers.len() as u32 + 1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            let registered = self.register_locked(&mut state, side, request, finish, &mut wakes);
            watch
                .watchers
                .store(state.observers.len() as u32, Ordering::Relaxed);
            registered
        };
        wakes.wake_all();
        registered
    }

    /// [`Kernel::register`] under the watch lock.
    fn register_locked(
        &self,
        state: &mut WatchState,
        side: Side,
        request: ObserveRequest,
        finish: impl FnOnce(&mut Observer<Waiting>, &mut WakeList) -> Result<bool, Status>,
        wakes: &mut WakeList,
    ) -> Result<Observed, Status> {
        if state.observers.is_empty() {
            // Nobody kept `seen` up to date.
            for &s in self.sides() {
                state.seen[s.index()] = self.signals(s);
            }
        } else {
            // Deliver any change the others have not seen yet first, so that
            // `seen` is current for everyone.
            self.publish(state, wakes);
        }
        let current = state.seen[side.index()];
        let satisfied = request.wanted.satisfied_by(current, self.room(side));
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

    /// Registers an observer of `side` unless the request is already
    /// satisfied (and not `always`).
    ///
    /// # Errors
    /// `NOT_SUPPORTED`, `NO_MEMORY`.
    pub(crate) fn observe(&self, side: Side, request: ObserveRequest) -> Result<Observed, Status> {
        self.register(side, request, |_, _| Ok(true))
    }

    /// Removes an observer registered by [`Kernel::observe`].
    pub(crate) fn unobserve(&self, id: u64) -> Option<Observer<Waiting>> {
        self.update(|state| state.observers.remove(id))
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

/// What a [`Watch`]'s lock protects.
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
    /// the enclosing [`Kernel::update`] publishes.
    fn cancel(&mut self, handle: RawHandle) {
        self.observers.retain(|o| {
            if o.handle == handle {
                o.canceled = true;
            }
            Verdict::Keep
        });
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

/// A registration request for [`Kernel::observe`].
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

/// The result of [`Kernel::observe`].
#[derive(Debug)]
pub(crate) enum Observed {
    /// Already satisfied, not registered: the current signals.
    Now(Signals),
    /// Registered as `id`; `current` is the state at registration.
    Registered { id: u64, current: Signals },
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

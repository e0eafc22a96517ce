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
//! A data path publishes its change, then reads the number of observers; a
//! thread registering an observer stores that number, then reads the state.
//! Each side needs a store-load fence between the two, or both may miss the
//! other's store and a wake-up is lost. Registering is rare and data paths
//! are hot, so the fences are asymmetric ([`mx_shm::fence`]):
//!
//! - A data path issues [`mx_shm::fence::light`] (a compiler fence) and
//!   loads the watch word; with nobody waiting, that is all it costs.
//! - The registration that makes an object *eager* issues
//!   [`mx_shm::fence::heavy`] (`membarrier`): every data path in flight
//!   either published before it (the registrant sees the change) or loads
//!   the word after it (the data path sees the observer).
//! - Once eager, an object's registrations issue an ordinary `SeqCst`
//!   fence, and its data paths, seeing the eager bit, issue one too before
//!   reloading the word: the classic handshake, with no system call per
//!   wait. So an object that is waited on often pays a fence per data
//!   operation, as a lock would, and one that is waited on rarely pays
//!   nothing.
//! - An eager object becomes lazy again when a thread has made [`CALM`]
//!   data operations on eager objects in a row with nobody waiting: it
//!   clears the bit under the watch lock, and the next registration pays
//!   the heavy fence again.
//!
//! The eager bit and the count are one word, changed only under the watch
//! lock, so a data path that loads any word stored after a registration
//! sees the registration's observer too.
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

/// Bit of [`Watch::word`]: data paths fence fully (see the module docs).
const EAGER: u32 = 1 << 31;
/// Bits of [`Watch::word`]: how many observers are registered or announced.
const COUNT: u32 = EAGER - 1;

/// Data operations on eager objects in a row, with nobody waiting, after
/// which a thread makes the object it is on lazy again.
///
/// A rent-or-buy choice: an eager object's data path pays a full fence
/// (20 to 100 ns, more while its stores miss), and the next registration
/// on a lazy object pays a `membarrier` (about 20 µs here with another
/// thread of the process running). 512 fences cost about one `membarrier`.
/// With 4,096, a 1-byte round trip that parked once every few thousand
/// rounds spent most of its time eager.
const CALM: u32 = if cfg!(loom) { 2 } else { 512 };

/// A kind that can be waited on.
pub(crate) trait Observable: Sync + core::fmt::Debug {
    /// Its observers.
    fn watch(&self) -> &Watch;

    /// The ends it has signals for.
    fn sides(&self) -> &'static [Side];

    /// The current signals of `side`, computed without locking.
    fn signals(&self, side: Side) -> Signals;

    /// Those of `side`'s current signals that are among `wanted`, for a
    /// waiter polling for them: a kind may leave out state that only other
    /// signals depend on, and the cache lines that hold it.
    fn signals_among(&self, side: Side, wanted: Signals) -> Signals {
        self.signals(side) & wanted
    }

    /// Whether a thread about to wait on `side` is in a conversation on
    /// it: it sent something since its previous wait on `side`, so its
    /// peer is most likely answering now, and a waiter should poll at
    /// once. A waiter that is not (it only consumes) polls gently instead,
    /// leaving a busy writer its cache lines.
    fn conversing(&self, _side: Side) -> bool {
        true
    }

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

    /// An observer of `side` is being registered, under the watch lock,
    /// before the state is read: a kind whose state other processes change
    /// asks them to say so (sockets in shared memory).
    fn observing(&self, _side: Side) {}
}

/// For [`Observable::conversing`]: whether the end `end` (an address that
/// names it) has sent more than `sent` (its count of what it ever sent)
/// since this thread's previous wait on it. The first wait on an end
/// counts as a conversation. Only the last end waited on is remembered.
#[cfg(not(loom))]
pub(crate) fn sent_since_last_wait(end: usize, sent: u64) -> bool {
    use core::cell::Cell;
    std::thread_local! {
        /// The end of this thread's previous wait, and what it had sent.
        static LAST: Cell<(usize, u64)> = const { Cell::new((0, 0)) };
    }
    LAST.try_with(|last| last.replace((end, sent)) != (end, sent))
        .unwrap_or(true)
}

/// An object's observers, under one lock, and how many there are.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// Observers registered (a copy of `state.observers.len()`, or one more
    /// while one registers) and the [`EAGER`] bit; stored under the lock,
    /// read by the data paths without it.
    word: AtomicU32,
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

impl Watch {
    /// Whether the object is eager. Only under the lock (which every store
    /// of the word holds): the word is then exactly what the lock's holders
    /// last stored.
    fn is_eager(&self, _locked: &WatchState) -> bool {
        self.word.load(Ordering::Relaxed) & EAGER != 0
    }

    /// Stores the word for `observers` observers under the lock, keeping
    /// or setting the eager bit.
    fn store_eager(&self, _locked: &WatchState, eager: bool, observers: usize) {
        let eager = if eager { EAGER } else { 0 };
        // At most a few million observers: a count never reaches EAGER.
        let count = (observers as u32).min(COUNT);
        self.word.store(count | eager, Ordering::Relaxed);
    }

    /// Stores the word for `observers` observers under the lock.
    fn store(&self, locked: &WatchState, observers: usize) {
        self.store_eager(locked, self.is_eager(locked), observers);
    }

    /// Whether anyone observes, for a data path that just published a
    /// change (see the module docs).
    #[inline]
    fn watched_after_publish(&self) -> bool {
        mx_shm::fence::light();
        let word = self.word.load(Ordering::Relaxed);
        if word & EAGER == 0 {
            return word & COUNT != 0;
        }
        self.watched_eager()
    }

    /// [`Watch::watched_after_publish`] on an eager object: the full fence,
    /// then the word again.
    #[cold]
    #[inline(never)]
    fn watched_eager(&self) -> bool {
        fence(Ordering::SeqCst);
        let word = self.word.load(Ordering::Relaxed);
        if word & COUNT != 0 {
            calm::reset();
            return true;
        }
        if calm::tick() {
            self.make_lazy();
        }
        false
    }

    /// Clears the eager bit if nobody observes.
    #[cold]
    fn make_lazy(&self) {
        let state = self.state.lock();
        if self.is_eager(&state) && state.observers.is_empty() {
            self.store_eager(&state, false, 0);
        }
    }

    /// Announces one more observer under the lock, with the fence that
    /// orders it before the registrant reads the state.
    fn announce(&self, state: &WatchState) {
        let announced = state.observers.len() + 1;
        if self.is_eager(state) {
            self.store(state, announced);
            fence(Ordering::SeqCst);
        } else {
            self.store_eager(state, true, announced);
            mx_shm::fence::heavy();
        }
    }
}

/// This thread's run of data operations on eager objects with nobody
/// waiting.
mod calm {
    use core::cell::Cell;

    #[cfg(not(loom))]
    std::thread_local! {
        static RUN: Cell<u32> = const { Cell::new(0) };
    }
    #[cfg(loom)]
    loom::thread_local! {
        static RUN: Cell<u32> = Cell::new(0);
    }

    /// Someone was waiting: the run ends.
    pub(super) fn reset() {
        let _ = RUN.try_with(|run| run.set(0));
    }

    /// One more operation with nobody waiting; whether the run reached
    /// [`super::CALM`] (and starts again).
    pub(super) fn tick() -> bool {
        RUN.try_with(|run| {
            let n = run.get() + 1;
            run.set(if n >= super::CALM { 0 } else { n });
            n >= super::CALM
        })
        .unwrap_or(false)
    }
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
        watch.store(&state, state.observers.len());
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
#[inline(never)]
pub(crate) fn data_changed(o: &(impl Observable + ?Sized)) {
    if o.watch().watched_after_publish() {
        notify(o);
    }
}

/// [`data_changed`] with observers: kept out of line, so that the data
/// paths with nobody waiting pay only the check.
#[cold]
#[inline(never)]
fn notify(o: &(impl Observable + ?Sized)) {
    update(o, |_| ());
}

/// Whether any observer is registered on `o` now.
pub(crate) fn is_watched(o: &(impl Observable + ?Sized)) -> bool {
    o.watch().word.load(Ordering::Acquire) & COUNT > 0
}

/// After a handle to `o` was uncounted without the lock: cancels the waits
/// made through it and publishes the change, taking the lock only if
/// anybody waits (the module docs say why that cannot miss an observer; a
/// wait through `handle` registered before the handle left the table, so
/// it shows in the watch word).
pub(crate) fn handle_closed(o: &(impl Observable + ?Sized), handle: RawHandle) {
    if o.watch().watched_after_publish() {
        update(o, |locked| locked.cancel(handle));
    }
}

/// Cancels the waits made through `handle`, whose value stopped naming `o`
/// (it was replaced, or sent in a message).
///
/// The value left the handle table before this is called, under the
/// bucket's lock; a wait registers under that same lock
/// (`HandleTable::find_locked`), and announces itself in the watch word
/// before releasing it. So a wait through the value that could need
/// cancelling shows in the word here, and with none the lock is not taken.
pub(crate) fn cancel(o: &(impl Observable + ?Sized), handle: RawHandle) {
    if !is_watched(o) {
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
        watch.announce(&state);
        o.observing(side);
        let registered = register_locked(o, &mut state, side, request, finish, &mut wakes);
        watch.store(&state, state.observers.len());
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

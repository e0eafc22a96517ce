//! Ports: queues of packets, filled by `port_queue` and by asynchronous
//! waits on other objects.
//!
//! ```text
//!   watched object (Watch lock)            port (port lock)
//!   observers: [.. Port(link) ..] ----->   queue: packets, waiting threads
//!                 link: port, key,         registrations: (object, id)
//!                 repeat slot   <-------   (to remove them when the port closes)
//! ```
//!
//! An asynchronous wait is an observer on the watched object whose firing
//! queues a packet into the port ([`fire_port`]). Lock order: object → port;
//! the port lock is never held while taking an object's lock. The port keeps
//! a list of the registrations pointing at it, so that closing its last
//! handle removes them (after releasing its lock); removing a registration
//! from the object side (fired once, cancelled, handle closed) removes it
//! from that list under the port lock.
//!
//! A repeating registration owns a [`RepeatSlot`]: while its packet is queued
//! (or handed to a thread not yet returned) the slot is marked queued and
//! further changes only update its `observed`; taking the packet clears the
//! mark, which re-arms the registration.
//!
//! Threads in `port_wait` get one packet each, oldest packet to the longest
//! waiter ([`mx_core::port::PortQueue`]); a packet never wakes two threads.

use mx_core::abi::{PortPacket, PKT_TYPE_SIGNAL_ONE, PKT_TYPE_SIGNAL_REP};
use mx_core::observer::{Observer, Verdict, Wanted};
use mx_core::port::{Collected, PortQueue};
use mx_core::{Koid, RawHandle, Signals, Status, Time};

use super::wait::park_until;
use super::watch::{self, ObserveRequest, Waiting, WakeList};
use super::{End, Live, Object};
use crate::sync::{counters, try_arc, Arc, AtomicU32, AtomicU64, Mutex, Ordering, Parker};

/// A port.
#[derive(Debug)]
pub(crate) struct Port {
    koid: Koid,
    /// The queue, its waiting threads, its registrations and handle count.
    state: Mutex<PortState>,
    pub(super) _live: Live,
}

#[derive(Debug)]
struct PortState {
    /// Packets and threads in `port_wait`.
    queue: PortQueue<Queued, Arc<Parker>>,
    /// Handles naming the port; 0 once closed.
    handles: u32,
    /// The asynchronous waits that queue here: watched object and observer id.
    registrations: Vec<(Arc<Object>, u64)>,
}

/// A queued packet.
#[derive(Debug)]
pub(crate) enum Queued {
    /// A user packet, or the packet of a one-shot wait (with the source
    /// handle and key it came from, for `port_cancel`).
    Packet(PortPacket, Option<(RawHandle, u64)>),
    /// The packet of a repeating wait, read when taken.
    Repeating(Arc<RepeatSlot>),
}

/// The shared state of a repeating registration.
#[derive(Debug)]
pub(crate) struct RepeatSlot {
    key: u64,
    trigger: Signals,
    /// The source handle (for `port_cancel`).
    handle: RawHandle,
    /// The latest state seen while queued.
    observed: AtomicU32,
    /// A packet is queued or handed out and not yet taken; changed under the
    /// port lock.
    queued: AtomicU32,
    /// The `count` of the next packet: 1, except for the first packet of a
    /// wait armed on a channel with messages queued.
    count: AtomicU64,
}

/// What an asynchronous-wait observer holds.
#[derive(Debug)]
pub(crate) struct PortLink {
    /// The port.
    port: Arc<Port>,
    key: u64,
    /// For repeating waits.
    repeat: Option<Arc<RepeatSlot>>,
}

impl Queued {
    fn matches(&self, handle: RawHandle, key: u64) -> bool {
        match self {
            Queued::Packet(_, origin) => *origin == Some((handle, key)),
            Queued::Repeating(slot) => slot.handle == handle && slot.key == key,
        }
    }

    /// The packet to hand to a caller; re-arms a repeating registration.
    fn take(self) -> PortPacket {
        match self {
            Queued::Packet(packet, _) => packet,
            Queued::Repeating(slot) => {
                slot.queued.store(0, Ordering::Relaxed);
                let observed = Signals::from_bits_retain(slot.observed.load(Ordering::Relaxed));
                // The first packet may count several messages; later ones 1.
                let count = slot.count.swap(1, Ordering::Relaxed);
                PortPacket::signal(slot.key, PKT_TYPE_SIGNAL_REP, slot.trigger, observed, count)
            }
        }
    }
}

impl Port {
    /// A new port with one handle.
    pub(crate) fn new() -> Port {
        Port {
            koid: counters::koids(1),
            state: Mutex::new(PortState {
                queue: PortQueue::new(),
                handles: 1,
                registrations: Vec::new(),
            }),
            _live: Live::new(),
        }
    }

    pub(crate) fn koid(&self) -> Koid {
        self.koid
    }

    pub(crate) fn add_handle(&self) -> Result<(), Status> {
        let mut state = self.state.lock();
        if state.handles == 0 {
            return Err(Status::BAD_HANDLE);
        }
        state.handles += 1;
        Ok(())
    }

    /// The handle `handle` was closed: its waiters end with `CANCELED`; the
    /// last one drops the queue and removes the waits that pointed here.
    pub(crate) fn close_handle(&self, handle: RawHandle) {
        let mut wakes = WakeList::default();
        let registrations = {
            let mut state = self.state.lock();
            state
                .queue
                .cancel_waiters(handle, |parker| wakes.push_thread(parker.clone()));
            state.handles -= 1;
            if state.handles > 0 {
                Vec::new()
            } else {
                state.queue.clear();
                core::mem::take(&mut state.registrations)
            }
        };
        wakes.wake_all();
        for (object, id) in registrations {
            if let Some(observable) = object.observable() {
                watch::unobserve(observable, id);
            }
        }
    }

    /// The handle `handle` was replaced: its waiters end with `CANCELED`.
    pub(crate) fn cancel_handle(&self, handle: RawHandle) {
        let mut wakes = WakeList::default();
        self.state
            .lock()
            .queue
            .cancel_waiters(handle, |parker| wakes.push_thread(parker.clone()));
        wakes.wake_all();
    }

    /// Queues a packet (or hands it to a waiting thread, woken via `wakes`).
    fn push(state: &mut PortState, packet: Queued, wakes: &mut WakeList) -> Result<(), Status> {
        if let Some(parker) = state.queue.push(packet)? {
            wakes.push_thread(parker.clone());
        }
        Ok(())
    }

    /// Forgets registration `id` (it was removed from its object).
    fn forget(&self, id: u64) {
        self.state.lock().registrations.retain(|(_, r)| *r != id);
    }
}

impl Port {
    /// `mx_port_queue` after the handle checks: queues a user packet.
    ///
    /// # Errors
    /// `NO_MEMORY`; `BAD_HANDLE` if the port's last handle was closed after
    /// the lookup (its queue is gone).
    pub(crate) fn queue(&self, packet: PortPacket) -> Result<(), Status> {
        let mut wakes = WakeList::default();
        let queued = {
            let mut state = self.state.lock();
            if state.handles == 0 {
                return Err(Status::BAD_HANDLE);
            }
            Port::push(&mut state, Queued::Packet(packet, None), &mut wakes)
        };
        wakes.wake_all();
        queued
    }

    /// `mx_port_wait`, first step: takes a queued packet; or, if `waiter`
    /// is given, registers it (through `handle`) to be handed the next one.
    /// Callers run this under the handle's bucket lock, so that closing the
    /// handle either comes first or sees the waiter.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub(crate) fn take(
        &self,
        handle: RawHandle,
        waiter: Option<(u64, &Arc<Parker>)>,
    ) -> Result<Option<PortPacket>, Status> {
        let mut state = self.state.lock();
        if let Some(queued) = state.queue.pop() {
            return Ok(Some(queued.take()));
        }
        if let Some((id, parker)) = waiter {
            state.queue.add_waiter(id, handle, parker.clone())?;
        }
        Ok(None)
    }

    /// `mx_port_wait`, second step: parks until waiter `id` is handed a
    /// packet, its handle is closed, or `deadline` passes.
    ///
    /// # Errors
    /// `TIMED_OUT`, `CANCELED`.
    pub(crate) fn park(
        &self,
        id: u64,
        parker: &Parker,
        deadline: Time,
    ) -> Result<PortPacket, Status> {
        loop {
            let woken = park_until(parker, deadline);
            match self.state.lock().queue.collect(id, woken) {
                Collected::Packet(queued) => return Ok(queued.take()),
                Collected::Canceled => return Err(Status::CANCELED),
                Collected::Nothing if !woken => return Err(Status::TIMED_OUT),
                Collected::Nothing => {}
            }
        }
    }

    /// `mx_port_cancel` after the handle checks: ends the waits made
    /// through `source_handle` (naming `source`) with `key` towards this
    /// port, and drops their queued packets.
    ///
    /// # Errors
    /// `NOT_FOUND` if nothing matched.
    pub(crate) fn cancel(
        this: &Arc<Port>,
        source: &Object,
        source_handle: RawHandle,
        key: u64,
    ) -> Result<(), Status> {
        let mut found = false;
        if let Some(observable) = source.observable() {
            // Under the object's lock, then the port's (the lock order).
            found |= watch::update(observable, |locked| {
                locked.remove_observers(|o| match &o.kind {
                    Waiting::Port(link)
                        if o.handle == source_handle
                            && link.key == key
                            && Arc::ptr_eq(&link.port, this) =>
                    {
                        this.forget(o.id);
                        true
                    }
                    _ => false,
                })
            });
        }
        found |= this
            .state
            .lock()
            .queue
            .remove_packets(|queued| queued.matches(source_handle, key))
            > 0;
        if found {
            Ok(())
        } else {
            Err(Status::NOT_FOUND)
        }
    }
}

/// `mx_object_wait_async` after the handle checks: registers, through
/// `handle` on `watched`, a wait that queues into `port`.
///
/// # Errors
/// `NOT_SUPPORTED` (not waitable), `NO_MEMORY`.
pub(crate) fn wait_async(
    watched: &End,
    handle: RawHandle,
    port: &Arc<Port>,
    key: u64,
    signals: Signals,
    repeating: bool,
) -> Result<(), Status> {
    let observable = watched.object.observable().ok_or(Status::NOT_SUPPORTED)?;
    let repeat = if repeating {
        Some(try_arc(RepeatSlot {
            key,
            trigger: signals,
            handle,
            observed: AtomicU32::new(0),
            queued: AtomicU32::new(0),
            count: AtomicU64::new(1),
        })?)
    } else {
        None
    };
    let link = PortLink {
        port: port.clone(),
        key,
        repeat,
    };
    let request = ObserveRequest {
        handle,
        wanted: Wanted::Signals(signals),
        always: true,
        repeating,
        kind: Waiting::Port(link),
    };
    watch::register(observable, watched.side, request, |observer, wakes| {
        // Under the object's lock, then the port's: queue at once if
        // already triggered, and record the registration unless the port
        // is closed (then the wait ends quietly).
        let mut state = port.state.lock();
        if state.handles == 0 {
            return Ok(false);
        }
        state.registrations.try_reserve(1)?;
        if observer.fired {
            observer.fired = false;
            let current = observer.observed;
            // Armed on a channel while READABLE (and watching it): the first
            // packet counts the messages queued now (SPEC 10).
            let count = match observable.messages(watched.side) {
                Some(n)
                    if current.contains(Signals::READABLE)
                        && signals.contains(Signals::READABLE) =>
                {
                    n.max(1) as u64
                }
                _ => 1,
            };
            if fire_port(observer, current, count, &mut state, wakes) == Verdict::Remove {
                return Ok(false);
            }
        }
        state
            .registrations
            .push((watched.object.clone(), observer.id));
        Ok(true)
    })?;
    Ok(())
}

/// Fires an asynchronous-wait observer whose object now shows `current`:
/// queues its packet (or updates the queued one). Runs under the object's
/// lock and the port's.
fn fire_port(
    observer: &mut Observer<Waiting>,
    current: Signals,
    count: u64,
    port: &mut PortState,
    wakes: &mut WakeList,
) -> Verdict {
    let Waiting::Port(link) = &observer.kind else {
        return Verdict::Keep;
    };
    if port.handles == 0 || observer.canceled {
        // The port is closed, or the source handle: end quietly.
        return Verdict::Remove;
    }
    match &link.repeat {
        None => {
            let packet = PortPacket::signal(
                link.key,
                PKT_TYPE_SIGNAL_ONE,
                observer.wanted.signals(),
                current,
                count,
            );
            match Port::push(
                port,
                Queued::Packet(packet, Some((observer.handle, link.key))),
                wakes,
            ) {
                Ok(()) => Verdict::Remove,
                // Out of memory: stay armed and try again on the next change.
                Err(_) => {
                    observer.fired = false;
                    Verdict::Keep
                }
            }
        }
        Some(slot) => {
            if count > 1 {
                slot.count.store(count, Ordering::Relaxed);
            }
            slot.observed.store(current.bits(), Ordering::Relaxed);
            if slot.queued.load(Ordering::Relaxed) == 0
                && Port::push(port, Queued::Repeating(slot.clone()), wakes).is_ok()
            {
                slot.queued.store(1, Ordering::Relaxed);
            }
            Verdict::Keep
        }
    }
}

/// [`fire_port`] for the object layer's `fire`: takes the port lock, and
/// forgets the registration on the port side if it ends.
pub(super) fn fire_link(
    observer: &mut Observer<Waiting>,
    current: Signals,
    wakes: &mut WakeList,
) -> Verdict {
    let Waiting::Port(link) = &observer.kind else {
        return Verdict::Keep;
    };
    let port = link.port.clone();
    let mut state = port.state.lock();
    let verdict = fire_port(observer, current, 1, &mut state, wakes);
    if verdict == Verdict::Remove {
        let id = observer.id;
        state.registrations.retain(|(_, r)| *r != id);
    }
    verdict
}

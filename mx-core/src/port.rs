//! The queue of a port: packets in FIFO order, and threads waiting for them.
//!
//! [`PortQueue`] is the pure part of a port. Packets are handed to waiting
//! threads one each, in arrival order: queueing a packet when a thread waits
//! gives the packet to the longest waiter and names that one waiter to wake
//! (never all of them). Otherwise the packet joins the queue for the next
//! `port_wait`.
//!
//! The queue is generic over the packet `P` (the object layer queues both
//! plain packets and references to repeating registrations) and the waker
//! `W` (a thread's parker).

use alloc::collections::VecDeque;

use crate::Status;

/// A thread waiting in `port_wait`.
#[derive(Debug)]
struct Waiter<P, W> {
    /// Identifies the wait.
    id: u64,
    /// The handle value it waits through (closing it cancels the wait).
    handle: crate::RawHandle,
    /// How to wake it.
    waker: W,
    /// The packet handed to it, once one is.
    packet: Option<P>,
    /// Its handle was closed.
    canceled: bool,
}

/// What a waiter found when it came back for its packet.
#[derive(Debug, PartialEq, Eq)]
pub enum Collected<P> {
    /// A packet was handed to it.
    Packet(P),
    /// Its handle was closed.
    Canceled,
    /// Nothing yet (it may wait again, or time out).
    Nothing,
}

/// Packets and the threads waiting for them.
#[derive(Debug)]
pub struct PortQueue<P, W> {
    packets: VecDeque<P>,
    waiters: VecDeque<Waiter<P, W>>,
}

impl<P, W> Default for PortQueue<P, W> {
    fn default() -> Self {
        PortQueue::new()
    }
}

impl<P, W> PortQueue<P, W> {
    /// An empty queue; allocates nothing.
    pub const fn new() -> PortQueue<P, W> {
        PortQueue {
            packets: VecDeque::new(),
            waiters: VecDeque::new(),
        }
    }

    /// Packets queued (not yet handed to anyone).
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether no packet is queued.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Queues `packet`, or hands it to the longest-waiting thread and
    /// returns that thread's waker (the caller wakes it after unlocking).
    ///
    /// # Errors
    /// `NO_MEMORY` (the packet is dropped and nothing changes).
    pub fn push(&mut self, packet: P) -> Result<Option<&W>, Status> {
        if let Some(waiter) = self
            .waiters
            .iter_mut()
            .find(|w| w.packet.is_none() && !w.canceled)
        {
            waiter.packet = Some(packet);
            return Ok(Some(&waiter.waker));
        }
        self.packets.try_reserve(1)?;
        self.packets.push_back(packet);
        Ok(None)
    }

    /// Takes the oldest queued packet.
    pub fn pop(&mut self) -> Option<P> {
        let packet = self.packets.pop_front();
        if self.packets.is_empty() && self.packets.capacity() > 16 {
            self.packets = VecDeque::new();
        }
        packet
    }

    /// Registers a thread that found no packet.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn add_waiter(
        &mut self,
        id: u64,
        handle: crate::RawHandle,
        waker: W,
    ) -> Result<(), Status> {
        self.waiters.try_reserve(1)?;
        self.waiters.push_back(Waiter {
            id,
            handle,
            waker,
            packet: None,
            canceled: false,
        });
        Ok(())
    }

    /// What waiter `id` got; it stays registered only if it got
    /// [`Collected::Nothing`] and `keep` says so.
    pub fn collect(&mut self, id: u64, keep: bool) -> Collected<P> {
        let Some(i) = self.waiters.iter().position(|w| w.id == id) else {
            return Collected::Nothing;
        };
        let waiter = &mut self.waiters[i];
        let found = match waiter.packet.take() {
            Some(packet) => Collected::Packet(packet),
            None if waiter.canceled => Collected::Canceled,
            None => Collected::Nothing,
        };
        if !keep || !matches!(found, Collected::Nothing) {
            self.waiters.remove(i);
        }
        found
    }

    /// Cancels the waits made through `handle`; returns their wakers.
    pub fn cancel_waiters(&mut self, handle: crate::RawHandle, mut wake: impl FnMut(&W)) {
        for waiter in self.waiters.iter_mut().filter(|w| w.handle == handle) {
            waiter.canceled = true;
            wake(&waiter.waker);
        }
    }

    /// Drops the queued packets for which `matches` is true; returns how
    /// many.
    pub fn remove_packets(&mut self, mut matches: impl FnMut(&P) -> bool) -> usize {
        let before = self.packets.len();
        self.packets.retain(|p| !matches(p));
        before - self.packets.len()
    }

    /// Visits the queued packets.
    pub fn packets_mut(&mut self) -> impl Iterator<Item = &mut P> {
        self.packets.iter_mut()
    }

    /// Drops every queued packet (the port's last handle closed).
    pub fn clear(&mut self) {
        self.packets = VecDeque::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_fifo() {
        let mut q: PortQueue<u32, ()> = PortQueue::new();
        for i in 0..5 {
            assert_eq!(q.push(i), Ok(None));
        }
        assert_eq!(
            (0..5)
                .map(|_| q.pop().unwrap())
                .collect::<alloc::vec::Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn one_waiter_per_packet_in_arrival_order() {
        let mut q: PortQueue<u32, &str> = PortQueue::new();
        q.add_waiter(1, 10, "first").unwrap();
        q.add_waiter(2, 10, "second").unwrap();
        assert_eq!(q.push(100), Ok(Some(&"first")));
        assert_eq!(q.push(200), Ok(Some(&"second")));
        assert_eq!(q.push(300), Ok(None), "nobody left waiting: queued");
        assert_eq!(q.collect(2, true), Collected::Packet(200));
        assert_eq!(q.collect(1, true), Collected::Packet(100));
        assert_eq!(q.pop(), Some(300));
    }

    #[test]
    fn cancelled_waiters_get_no_packets() {
        let mut q: PortQueue<u32, &str> = PortQueue::new();
        q.add_waiter(1, 10, "a").unwrap();
        let mut woken = alloc::vec::Vec::new();
        q.cancel_waiters(10, |w| woken.push(*w));
        assert_eq!(woken, ["a"]);
        assert_eq!(q.push(5), Ok(None));
        assert_eq!(q.collect(1, true), Collected::Canceled);
        assert_eq!(q.pop(), Some(5));
    }

    #[test]
    fn a_waiter_that_times_out_leaves() {
        let mut q: PortQueue<u32, &str> = PortQueue::new();
        q.add_waiter(1, 10, "a").unwrap();
        assert_eq!(q.collect(1, false), Collected::Nothing);
        assert_eq!(q.push(5), Ok(None));
        assert_eq!(q.remove_packets(|p| *p == 5), 1);
        assert!(q.is_empty());
    }
}

//! The channel rules: message limits, the checks of a read, transaction
//! ids, the signals of an end, and an end's inbox with its waiting callers,
//! as pure code.
//!
//! A channel end's state that changes under its pair's lock is an
//! [`EndState`] (handles and user signals; it packs into a word so signals
//! can be read without the lock). What an end holds to read is an [`Inbox`]:
//! the queued messages, oldest first, and the callers of `mx_channel_call`
//! waiting on that end for their replies. The object layer decides what a
//! message and a caller are (`M` and `W`); which message goes where is
//! decided here.

use alloc::collections::VecDeque;

use crate::{Signals, Status};

/// `MX_CHANNEL_MAX_MSG_BYTES`: the most bytes a message holds (inclusive).
pub const MAX_MSG_BYTES: usize = 65_536;
/// `MX_CHANNEL_MAX_MSG_HANDLES`: the most handles a message holds
/// (inclusive).
pub const MAX_MSG_HANDLES: usize = 64;
/// `MX_CHANNEL_READ_MAY_DISCARD`: a `mx_channel_read` option.
pub const READ_MAY_DISCARD: u32 = 1;

/// `mx_txid_t`: a message's transaction id.
pub type Txid = u32;

/// The transaction id of a message: its first four bytes in native order,
/// or 0 for a message shorter than that.
pub fn txid(bytes: &[u8]) -> Txid {
    match bytes.first_chunk::<4>() {
        Some(first) => Txid::from_ne_bytes(*first),
        None => 0,
    }
}

/// `mx_channel_write`'s size check: `OUT_OF_RANGE` beyond the limits.
///
/// # Errors
/// `OUT_OF_RANGE`.
pub fn check_limits(num_bytes: usize, num_handles: usize) -> Result<(), Status> {
    if num_bytes > MAX_MSG_BYTES || num_handles > MAX_MSG_HANDLES {
        Err(Status::OUT_OF_RANGE)
    } else {
        Ok(())
    }
}

/// The state of one channel end that changes under its pair's lock.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct EndState {
    /// Handles naming this end, in tables and in messages; 0 once closed.
    pub handles: u32,
    /// User signals (`MX_USER_SIGNAL_*` shifted down by 24).
    pub user: u8,
}

const USER_SHIFT: u32 = 24;

impl EndState {
    /// A new end: one handle, no user signals.
    pub const NEW: EndState = EndState {
        handles: 1,
        user: 0,
    };

    /// Whether the end still has handles.
    pub const fn is_open(self) -> bool {
        self.handles > 0
    }

    /// The user signals as [`Signals`].
    pub const fn user_signals(self) -> Signals {
        Signals::from_bits_retain((self.user as u32) << USER_SHIFT)
    }

    /// `mx_object_signal` on this end: user signals only.
    ///
    /// # Errors
    /// `INVALID_ARGS` for other bits.
    pub fn signal(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        if !Signals::USER_ALL.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        let user = (self.user_signals() - clear) | set;
        self.user = (user.bits() >> USER_SHIFT) as u8;
        Ok(())
    }

    /// `mx_object_signal_peer` arriving at this end.
    ///
    /// # Errors
    /// `INVALID_ARGS` for other bits, then `PEER_CLOSED`.
    pub fn signal_as_peer(&mut self, clear: Signals, set: Signals) -> Result<(), Status> {
        if !Signals::USER_ALL.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        if !self.is_open() {
            return Err(Status::PEER_CLOSED);
        }
        self.signal(clear, set)
    }

    /// One word holding the whole state.
    pub const fn pack(self) -> u64 {
        (self.handles as u64) | ((self.user as u64) << 32)
    }

    /// Unpacks a word from [`EndState::pack`].
    pub const fn unpack(word: u64) -> EndState {
        EndState {
            handles: word as u32,
            user: (word >> 32) as u8,
        }
    }
}

/// The signals of an end (`this`) whose peer is `peer`, with `queued`
/// messages waiting at `this`.
pub fn signals(this: EndState, peer: EndState, queued: usize) -> Signals {
    let mut signals = this.user_signals();
    if queued > 0 {
        signals |= Signals::CHANNEL_READABLE;
    }
    if peer.is_open() {
        signals |= Signals::CHANNEL_WRITABLE;
    } else {
        signals |= Signals::CHANNEL_PEER_CLOSED;
    }
    if this.handles == 1 {
        signals |= Signals::LAST_HANDLE;
    }
    signals
}

/// What a read does with the first message, given its size and the room
/// the reader offers.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum ReadCheck {
    /// It fits: take it.
    Take,
    /// It does not fit and stays first (`BUFFER_TOO_SMALL`).
    TooSmall,
    /// It does not fit and is destroyed (`BUFFER_TOO_SMALL` with
    /// `MX_CHANNEL_READ_MAY_DISCARD`).
    Discard,
}

/// Step 4 of `mx_channel_read`: the first message holds `(bytes, handles)`,
/// the reader offers room for `(num_bytes, num_handles)`.
pub fn read_check(message: (usize, usize), room: (usize, usize), may_discard: bool) -> ReadCheck {
    if message.0 <= room.0 && message.1 <= room.1 {
        ReadCheck::Take
    } else if may_discard {
        ReadCheck::Discard
    } else {
        ReadCheck::TooSmall
    }
}

/// A caller of `mx_channel_call` waiting on an end for its reply.
#[derive(Debug)]
pub struct Caller<M, W> {
    /// Identifies the call.
    pub id: u64,
    /// The transaction id its reply carries.
    pub txid: Txid,
    /// How to wake it.
    pub waker: W,
    /// The reply, once delivered.
    pub reply: Option<M>,
}

/// Where [`Inbox::deliver`] put a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered<'a, W> {
    /// Straight to a waiting caller (wake it); nothing was queued.
    Caller(&'a W),
    /// Into the queue; `first` says it made the queue non-empty.
    Queued {
        /// The queue was empty before.
        first: bool,
    },
}

/// What one end holds to read: queued messages, oldest first, and the
/// callers waiting on it.
#[derive(Debug)]
pub struct Inbox<M, W> {
    messages: VecDeque<M>,
    callers: VecDeque<Caller<M, W>>,
}

impl<M, W> Default for Inbox<M, W> {
    fn default() -> Self {
        Inbox::new()
    }
}

impl<M, W> Inbox<M, W> {
    /// An empty inbox; allocates nothing.
    pub const fn new() -> Inbox<M, W> {
        Inbox {
            messages: VecDeque::new(),
            callers: VecDeque::new(),
        }
    }

    /// Messages queued.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Makes room so that the next [`Inbox::deliver`] cannot fail.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn reserve(&mut self) -> Result<(), Status> {
        Ok(self.messages.try_reserve(1)?)
    }

    /// Delivers a message with transaction id `txid`: to the earliest
    /// caller waiting for that id that has no reply yet, or else to the back
    /// of the queue (after [`Inbox::reserve`]).
    pub fn deliver(&mut self, message: M, txid: Txid) -> Delivered<'_, W> {
        if let Some(caller) = self
            .callers
            .iter_mut()
            .find(|c| c.txid == txid && c.reply.is_none())
        {
            caller.reply = Some(message);
            return Delivered::Caller(&caller.waker);
        }
        let first = self.messages.is_empty();
        debug_assert!(
            self.messages.len() < self.messages.capacity(),
            "reserve first"
        );
        self.messages.push_back(message);
        Delivered::Queued { first }
    }

    /// The first queued message.
    pub fn front(&self) -> Option<&M> {
        self.messages.front()
    }

    /// Takes the first queued message.
    pub fn pop(&mut self) -> Option<M> {
        let message = self.messages.pop_front();
        if self.messages.is_empty() && self.messages.capacity() > 16 {
            self.messages = VecDeque::new();
        }
        message
    }

    /// Takes every queued message (the end closed).
    pub fn take_all(&mut self) -> VecDeque<M> {
        core::mem::take(&mut self.messages)
    }

    /// Registers a caller waiting for `txid`.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub fn add_caller(&mut self, id: u64, txid: Txid, waker: W) -> Result<(), Status> {
        self.callers.try_reserve(1)?;
        self.callers.push_back(Caller {
            id,
            txid,
            waker,
            reply: None,
        });
        Ok(())
    }

    /// Removes the caller `id` and returns it (with its reply, if any).
    pub fn remove_caller(&mut self, id: u64) -> Option<Caller<M, W>> {
        let i = self.callers.iter().position(|c| c.id == id)?;
        self.callers.remove(i)
    }

    /// The callers still waiting (to wake them all).
    pub fn callers(&self) -> impl Iterator<Item = &Caller<M, W>> {
        self.callers.iter()
    }

    /// The caller `id`, if it is still registered.
    pub fn caller(&self, id: u64) -> Option<&Caller<M, W>> {
        self.callers.iter().find(|c| c.id == id)
    }

    /// Replaces how the caller `id` is woken.
    pub fn set_caller_waker(&mut self, id: u64, waker: W) {
        if let Some(caller) = self.callers.iter_mut().find(|c| c.id == id) {
            caller.waker = waker;
        }
    }

    /// Exchanges the queued messages with `other`'s (a reader takes them all
    /// at once, leaving its empty queue, capacity and all, for writers).
    pub fn swap_messages(&mut self, other: &mut VecDeque<M>) {
        core::mem::swap(&mut self.messages, other);
    }

    /// Queues `message` at the back without offering it to any caller (a
    /// reply whose caller gave up; after [`Inbox::reserve`]).
    pub fn push_back(&mut self, message: M) {
        debug_assert!(
            self.messages.len() < self.messages.capacity(),
            "reserve first"
        );
        self.messages.push_back(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txids_are_the_first_four_bytes() {
        assert_eq!(txid(&[]), 0);
        assert_eq!(txid(&[1, 2, 3]), 0);
        assert_eq!(txid(&7u32.to_ne_bytes()), 7);
        let mut long = 0xdead_beefu32.to_ne_bytes().to_vec();
        long.extend_from_slice(b"rest");
        assert_eq!(txid(&long), 0xdead_beef);
    }

    #[test]
    fn limits_are_inclusive() {
        assert_eq!(check_limits(MAX_MSG_BYTES, MAX_MSG_HANDLES), Ok(()));
        assert_eq!(
            check_limits(MAX_MSG_BYTES + 1, 0),
            Err(Status::OUT_OF_RANGE)
        );
        assert_eq!(
            check_limits(0, MAX_MSG_HANDLES + 1),
            Err(Status::OUT_OF_RANGE)
        );
    }

    #[test]
    fn signals_follow_the_state() {
        let e = EndState::NEW;
        let closed = EndState { handles: 0, ..e };
        let w = Signals::CHANNEL_WRITABLE;
        let l = Signals::LAST_HANDLE;
        assert_eq!(signals(e, e, 0), w | l);
        assert_eq!(signals(e, e, 3), w | l | Signals::CHANNEL_READABLE);
        assert_eq!(
            signals(e, closed, 1),
            Signals::CHANNEL_PEER_CLOSED | Signals::CHANNEL_READABLE | l
        );
        let user = EndState { user: 0x81, ..e };
        assert_eq!(
            signals(user, e, 0),
            w | l | Signals::USER_0 | Signals::USER_7
        );
    }

    #[test]
    fn user_signals_only() {
        let mut e = EndState::NEW;
        assert_eq!(
            e.signal(Signals::NONE, Signals::CHANNEL_READABLE),
            Err(Status::INVALID_ARGS)
        );
        e.signal(Signals::NONE, Signals::USER_2).unwrap();
        assert_eq!(e.user_signals(), Signals::USER_2);
        let mut closed = EndState { handles: 0, ..e };
        assert_eq!(
            closed.signal_as_peer(Signals::NONE, Signals::USER_0),
            Err(Status::PEER_CLOSED)
        );
        assert_eq!(EndState::unpack(e.pack()), e);
    }

    #[test]
    fn read_checks() {
        assert_eq!(read_check((10, 1), (10, 1), false), ReadCheck::Take);
        assert_eq!(read_check((11, 1), (10, 1), false), ReadCheck::TooSmall);
        assert_eq!(read_check((10, 2), (10, 1), true), ReadCheck::Discard);
    }

    #[test]
    fn replies_go_to_the_earliest_caller_of_their_txid() {
        let mut inbox: Inbox<&str, u32> = Inbox::new();
        inbox.add_caller(1, 5, 100).unwrap();
        inbox.add_caller(2, 5, 200).unwrap();
        inbox.add_caller(3, 6, 300).unwrap();
        inbox.reserve().unwrap();
        assert_eq!(inbox.deliver("a", 5), Delivered::Caller(&100));
        assert_eq!(inbox.deliver("b", 5), Delivered::Caller(&200));
        inbox.reserve().unwrap();
        assert_eq!(inbox.deliver("c", 5), Delivered::Queued { first: true });
        inbox.reserve().unwrap();
        assert_eq!(inbox.deliver("d", 7), Delivered::Queued { first: false });
        assert_eq!(inbox.remove_caller(2).unwrap().reply, Some("b"));
        assert_eq!(inbox.deliver("e", 6), Delivered::Caller(&300));
        assert_eq!(inbox.pop(), Some("c"));
        assert_eq!(inbox.pop(), Some("d"));
        assert_eq!(inbox.pop(), None);
    }
}

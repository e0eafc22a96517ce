//! The reference model of `docs/SPEC.md`: handles with rights, socket pairs
//! (section 4), channels (section 10), events, eventpairs and ports, as a
//! plain state machine.
//!
//! The model is the one oracle of the model-based property test
//! (`mx/tests/model.rs`) and of the [`syscalls`](crate::syscalls) fuzz
//! harness. A harness makes a real call through `mx::sys`, then the same
//! call on the [`Model`], which predicts its result (status, counts, bytes)
//! and updates its state; the harness compares the two. The model only
//! restates the rules: it shares no code with the implementation and reads
//! none of its state.
//!
//! Handle values are the implementation's to choose, so a call that makes a
//! handle (create, duplicate, replace, a channel read) gives back [`Held`]
//! handles: handles that exist but are in no table yet. The harness puts
//! each in the table under the value the real call returned, with
//! [`Model::place`]. A handle inside a queued message is a `Held` too, and
//! counts as a handle of its object (it keeps `LAST_HANDLE` off, and keeps
//! a socket or channel end open). Destroying one ([`Model::drop_held`], or
//! closing the channel end whose queue holds it) closes it, and closing an
//! object's last handle destroys what was queued at it, recursively.

use std::collections::{BTreeMap, VecDeque};

use mx::sys::ErrorWith;
use mx::{RawHandle, Rights, Signals, Status};

/// Payload bytes each direction of a socket holds (128 buffers of 2,008).
pub const SOCKET_CAPACITY: usize = 257_024;
/// The most bytes a channel message holds.
pub const MAX_MSG_BYTES: usize = 65_536;
/// The most handles a channel message holds.
pub const MAX_MSG_HANDLES: usize = 64;

/// `MX_SOCKET_STREAM`.
const STREAM: u32 = 0;
/// `MX_SOCKET_DATAGRAM`.
const DATAGRAM: u32 = 1;
/// `MX_SOCKET_HALF_CLOSE`.
const HALF_CLOSE: u32 = 1;
/// `MX_CHANNEL_READ_MAY_DISCARD`.
const MAY_DISCARD: u32 = 1;
/// `MX_EVENT_SIGNALED` / `MX_EPAIR_SIGNALED`.
const SIGNALED: Signals = Signals::from_bits_retain(1 << 3);

/// The kinds of object the model knows.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A socket end.
    Socket,
    /// A channel end.
    Channel,
    /// An event.
    Event,
    /// An eventpair end.
    EventPair,
    /// A port.
    Port,
}

/// An object of the model, by creation order (from 0).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub usize);

/// A handle that exists but is in no table: just made by a call (to be
/// [placed](Model::place)), or carried by a message.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a held handle is placed in the table or dropped"]
pub struct Held {
    object: ObjectId,
    rights: Rights,
}

impl Held {
    /// The object it names.
    pub fn object(&self) -> ObjectId {
        self.object
    }

    /// Its rights.
    pub fn rights(&self) -> Rights {
        self.rights
    }
}

/// A channel message: bytes and handles.
#[derive(Debug)]
pub struct Message {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its handles, in the order they were listed.
    pub handles: Vec<Held>,
}

/// One object's state.
#[derive(Debug)]
struct Object {
    kind: Kind,
    /// The other end, for sockets, channels and eventpairs.
    peer: Option<ObjectId>,
    /// The pair or single object this belongs to (one live object of the
    /// implementation).
    group: usize,
    /// Handles naming it: in the table, held, or inside messages.
    count: usize,
    /// Its handles in the table, in the order they got there.
    table: Vec<(RawHandle, Rights)>,
    /// Values that named it and left the table (closed, replaced, sent),
    /// oldest first.
    dead: Vec<RawHandle>,
    /// Signals set with `object_signal` (user signals, `SIGNALED`).
    user: Signals,
    /// A socket end that half-closed its writing.
    write_shut: bool,
    /// A datagram socket end.
    datagram: bool,
    /// Stream bytes waiting to be read here.
    stream: VecDeque<u8>,
    /// Datagrams waiting to be read here.
    datagrams: VecDeque<Vec<u8>>,
    /// Channel messages waiting to be read here.
    messages: VecDeque<Message>,
}

impl Object {
    fn open(&self) -> bool {
        self.count > 0
    }

    /// Socket payload bytes waiting here.
    fn queued(&self) -> usize {
        self.stream.len() + self.datagrams.iter().map(Vec::len).sum::<usize>()
    }
}

/// The reference model: every object made so far, and the handle table.
#[derive(Debug, Default)]
pub struct Model {
    objects: Vec<Object>,
    /// Live handle values: their object and rights.
    table: BTreeMap<RawHandle, (ObjectId, Rights)>,
    groups: usize,
}

impl Model {
    /// A model with no objects.
    pub fn new() -> Model {
        Model::default()
    }

    fn obj(&self, id: ObjectId) -> &Object {
        &self.objects[id.0]
    }

    fn obj_mut(&mut self, id: ObjectId) -> &mut Object {
        &mut self.objects[id.0]
    }

    fn make(&mut self, kind: Kind, datagram: bool, two: bool) -> Vec<Held> {
        let group = self.groups;
        self.groups += 1;
        let first = self.objects.len();
        let n = if two { 2 } else { 1 };
        for i in 0..n {
            self.objects.push(Object {
                kind,
                peer: two.then_some(ObjectId(first + 1 - i)),
                group,
                count: 1,
                table: Vec::new(),
                dead: Vec::new(),
                user: Signals::NONE,
                write_shut: false,
                datagram,
                stream: VecDeque::new(),
                datagrams: VecDeque::new(),
                messages: VecDeque::new(),
            });
        }
        let rights = match kind {
            Kind::Socket => Rights::SOCKET_DEFAULT,
            Kind::Channel => Rights::CHANNEL_DEFAULT,
            Kind::Event => Rights::EVENT_DEFAULT,
            Kind::EventPair => Rights::EVENTPAIR_DEFAULT,
            Kind::Port => Rights::PORT_DEFAULT,
        };
        (first..first + n)
            .map(|i| Held {
                object: ObjectId(i),
                rights,
            })
            .collect()
    }

    fn two(held: Vec<Held>) -> [Held; 2] {
        let mut it = held.into_iter();
        [it.next().expect("two"), it.next().expect("two")]
    }

    /// `mx_socket_create`: the two ends, to place.
    pub fn socket_create(&mut self, options: u32) -> Result<[Held; 2], Status> {
        match options {
            STREAM | DATAGRAM => Ok(Self::two(self.make(
                Kind::Socket,
                options == DATAGRAM,
                true,
            ))),
            _ => Err(Status::INVALID_ARGS),
        }
    }

    /// `mx_channel_create`: the two ends, to place.
    pub fn channel_create(&mut self, options: u32) -> Result<[Held; 2], Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        Ok(Self::two(self.make(Kind::Channel, false, true)))
    }

    /// `mx_event_create`.
    pub fn event_create(&mut self, options: u32) -> Result<Held, Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        Ok(self.make(Kind::Event, false, false).remove(0))
    }

    /// `mx_eventpair_create` (bad options: `NOT_SUPPORTED`).
    pub fn eventpair_create(&mut self, options: u32) -> Result<[Held; 2], Status> {
        if options != 0 {
            return Err(Status::NOT_SUPPORTED);
        }
        Ok(Self::two(self.make(Kind::EventPair, false, true)))
    }

    /// `mx_port_create`.
    pub fn port_create(&mut self, options: u32) -> Result<Held, Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        Ok(self.make(Kind::Port, false, false).remove(0))
    }

    /// Puts `held` in the table under `value` (the value the real call
    /// returned).
    ///
    /// # Panics
    /// If `value` is 0 or already live.
    pub fn place(&mut self, held: Held, value: RawHandle) {
        assert!(value > 0, "handle value {value}");
        let old = self.table.insert(value, (held.object, held.rights));
        assert!(old.is_none(), "handle value {value:#x} handed out twice");
        self.obj_mut(held.object).table.push((value, held.rights));
    }

    /// Closes a handle that is in no table.
    pub fn drop_held(&mut self, held: Held) {
        self.release(held.object);
    }

    /// One handle of `id` is gone; the last one closes the object.
    fn release(&mut self, id: ObjectId) {
        let o = self.obj_mut(id);
        o.count -= 1;
        if o.count > 0 {
            return;
        }
        // What was waiting to be read here is gone with the end, and the
        // handles inside queued messages are closed.
        o.stream.clear();
        o.datagrams.clear();
        let messages = std::mem::take(&mut o.messages);
        for message in messages {
            for held in message.handles {
                self.drop_held(held);
            }
        }
    }

    /// Takes `value` out of the table (it becomes a dead value of its
    /// object); returns the handle.
    fn take(&mut self, value: RawHandle) -> Held {
        let (object, rights) = self.table.remove(&value).expect("a live handle");
        let o = self.obj_mut(object);
        let i = o
            .table
            .iter()
            .position(|&(h, _)| h == value)
            .expect("in table");
        o.table.remove(i);
        o.dead.push(value);
        Held { object, rights }
    }

    /// Section 1: the value, then the rights, then the kind.
    fn lookup(&self, value: RawHandle, need: Rights, kind: Kind) -> Result<ObjectId, Status> {
        let &(id, rights) = self.table.get(&value).ok_or(Status::BAD_HANDLE)?;
        if !rights.contains(need) {
            return Err(Status::ACCESS_DENIED);
        }
        if self.obj(id).kind != kind {
            return Err(Status::WRONG_TYPE);
        }
        Ok(id)
    }

    /// The live handle `value`: its object and rights.
    pub fn live(&self, value: RawHandle) -> Option<(ObjectId, Rights)> {
        self.table.get(&value).copied()
    }

    /// How many objects were made so far.
    pub fn objects(&self) -> usize {
        self.objects.len()
    }

    /// The kind of `id`.
    pub fn kind(&self, id: ObjectId) -> Kind {
        self.obj(id).kind
    }

    /// `id`'s peer, for the paired kinds.
    pub fn peer(&self, id: ObjectId) -> Option<ObjectId> {
        self.obj(id).peer
    }

    /// Whether `id` has a handle anywhere (table, held, in a message).
    pub fn is_open(&self, id: ObjectId) -> bool {
        self.obj(id).open()
    }

    /// `id`'s handles in the table, in the order they got there.
    pub fn handles(&self, id: ObjectId) -> &[(RawHandle, Rights)] {
        &self.obj(id).table
    }

    /// The values that named `id` and left the table, oldest first (one may
    /// have become live again, naming anything: the model looks values up
    /// as it is told to).
    pub fn dead(&self, id: ObjectId) -> &[RawHandle] {
        &self.obj(id).dead
    }

    /// Every value that named something and is not live now.
    pub fn dead_values(&self) -> impl Iterator<Item = RawHandle> + '_ {
        self.objects
            .iter()
            .flat_map(|o| o.dead.iter().copied())
            .filter(|h| !self.table.contains_key(h))
    }

    /// Objects of the implementation that are alive: pairs and single
    /// objects with a handle anywhere.
    pub fn live_objects(&self) -> usize {
        let mut groups: Vec<usize> = self
            .objects
            .iter()
            .filter(|o| o.open())
            .map(|o| o.group)
            .collect();
        groups.dedup();
        groups.len()
    }

    /// The signals asserted on `id` (open), as a wait would observe them.
    pub fn signals(&self, id: ObjectId) -> Signals {
        let this = self.obj(id);
        let peer = this.peer.map(|p| self.obj(p));
        let peer_open = peer.is_some_and(Object::open);
        let mut s = this.user;
        if this.count == 1 {
            s |= Signals::LAST_HANDLE;
        }
        match this.kind {
            Kind::Socket => {
                let peer = peer.expect("a socket has a peer");
                if this.queued() > 0 {
                    s |= Signals::READABLE;
                }
                if !peer_open || peer.write_shut {
                    s |= Signals::PEER_CLOSED;
                }
                if !this.write_shut && peer_open && peer.queued() < SOCKET_CAPACITY {
                    s |= Signals::WRITABLE;
                }
            }
            Kind::Channel => {
                if !this.messages.is_empty() {
                    s |= Signals::READABLE;
                }
                if peer_open {
                    s |= Signals::WRITABLE;
                } else {
                    s |= Signals::PEER_CLOSED;
                }
            }
            Kind::EventPair => {
                if !peer_open {
                    s |= Signals::EPAIR_PEER_CLOSED;
                }
            }
            Kind::Event | Kind::Port => {}
        }
        s
    }

    /// Socket payload bytes waiting to be read at `id`.
    pub fn outstanding(&self, id: ObjectId) -> usize {
        self.obj(id).queued()
    }

    /// Channel messages waiting to be read at `id`.
    pub fn messages(&self, id: ObjectId) -> usize {
        self.obj(id).messages.len()
    }

    /// `mx_handle_close`.
    pub fn handle_close(&mut self, value: RawHandle) -> Result<(), Status> {
        if value == 0 {
            return Ok(());
        }
        if !self.table.contains_key(&value) {
            return Err(Status::BAD_HANDLE);
        }
        let held = self.take(value);
        self.drop_held(held);
        Ok(())
    }

    /// The rights a duplicate or replacement asking for `rights` gets.
    fn derive(held: Rights, rights: Rights) -> Result<Rights, Status> {
        if rights == Rights::SAME_RIGHTS {
            Ok(held)
        } else if held.contains(rights) {
            Ok(rights)
        } else {
            Err(Status::INVALID_ARGS)
        }
    }

    /// `mx_handle_duplicate`: the new handle, to place.
    pub fn handle_duplicate(&mut self, value: RawHandle, rights: Rights) -> Result<Held, Status> {
        let &(object, held) = self.table.get(&value).ok_or(Status::BAD_HANDLE)?;
        if !held.contains(Rights::DUPLICATE) {
            return Err(Status::ACCESS_DENIED);
        }
        let rights = Self::derive(held, rights)?;
        self.obj_mut(object).count += 1;
        Ok(Held { object, rights })
    }

    /// `mx_handle_replace`: `value` leaves the table; the new handle, to
    /// place.
    pub fn handle_replace(&mut self, value: RawHandle, rights: Rights) -> Result<Held, Status> {
        let &(_, held) = self.table.get(&value).ok_or(Status::BAD_HANDLE)?;
        let rights = Self::derive(held, rights)?;
        let old = self.take(value);
        Ok(Held {
            object: old.object,
            rights,
        })
    }

    /// `mx_object_signal` (`peer` false) or `mx_object_signal_peer`.
    pub fn object_signal(
        &mut self,
        value: RawHandle,
        peer: bool,
        clear: Signals,
        set: Signals,
    ) -> Result<(), Status> {
        let &(id, rights) = self.table.get(&value).ok_or(Status::BAD_HANDLE)?;
        let need = if peer {
            Rights::SIGNAL_PEER
        } else {
            Rights::SIGNAL
        };
        if !rights.contains(need) {
            return Err(Status::ACCESS_DENIED);
        }
        let kind = self.obj(id).kind;
        let allowed = match kind {
            Kind::Socket | Kind::Channel => Signals::USER_ALL,
            Kind::Event | Kind::EventPair => Signals::USER_ALL | SIGNALED,
            Kind::Port => return Err(Status::NOT_SUPPORTED),
        };
        let target = if peer {
            match self.obj(id).peer {
                Some(p) => p,
                None => return Err(Status::NOT_SUPPORTED),
            }
        } else {
            id
        };
        if !allowed.contains(clear | set) {
            return Err(Status::INVALID_ARGS);
        }
        if !self.obj(target).open() {
            return Err(Status::PEER_CLOSED);
        }
        let t = self.obj_mut(target);
        t.user = (t.user - clear) | set;
        Ok(())
    }

    /// `mx_object_wait_one` with a deadline already past: the signals now.
    pub fn object_wait_one(
        &self,
        value: RawHandle,
        signals: Signals,
    ) -> Result<Signals, ErrorWith<Signals>> {
        let &(id, rights) = self.table.get(&value).ok_or(Status::BAD_HANDLE)?;
        if !rights.contains(Rights::READ) {
            return Err(Status::ACCESS_DENIED.into());
        }
        if self.obj(id).kind == Kind::Port {
            return Err(Status::NOT_SUPPORTED.into());
        }
        let now = self.signals(id);
        if now.intersects(signals) {
            Ok(now)
        } else {
            Err(ErrorWith {
                status: Status::TIMED_OUT,
                value: Some(now),
            })
        }
    }

    /// `mx_socket_write` of `data`: the count written.
    pub fn socket_write(
        &mut self,
        value: RawHandle,
        options: u32,
        data: &[u8],
    ) -> Result<usize, Status> {
        self.socket_write_inner(value, options, data.len(), Some(data))
    }

    /// `mx_socket_write` of `size` bytes, a size beyond 32 bits (no byte
    /// is ever read).
    pub fn socket_write_huge(
        &mut self,
        value: RawHandle,
        options: u32,
        size: usize,
    ) -> Result<usize, Status> {
        self.socket_write_inner(value, options, size, None)
    }

    fn socket_write_inner(
        &mut self,
        value: RawHandle,
        options: u32,
        size: usize,
        data: Option<&[u8]>,
    ) -> Result<usize, Status> {
        let id = self.lookup(value, Rights::WRITE, Kind::Socket)?;
        let peer_id = self.obj(id).peer.expect("a socket has a peer");
        let (this, peer) = (self.obj(id), self.obj(peer_id));
        match (options, size) {
            (0, _) => {}
            (HALF_CLOSE, 0) => {
                if this.write_shut {
                    return Ok(0);
                }
                if !peer.open() {
                    return Err(Status::PEER_CLOSED);
                }
                self.obj_mut(id).write_shut = true;
                return Ok(0);
            }
            _ => return Err(Status::INVALID_ARGS),
        }
        if !peer.open() {
            return Err(Status::PEER_CLOSED);
        }
        if this.write_shut {
            return Err(Status::BAD_STATE);
        }
        if size == 0 {
            // Nothing is queued, not even an empty datagram.
            return Ok(0);
        }
        if size > u32::MAX as usize {
            return Err(Status::INVALID_ARGS);
        }
        let data = data.expect("bytes under 4 GiB");
        let room = SOCKET_CAPACITY - peer.queued();
        if room == 0 || (this.datagram && size > room) {
            return Err(Status::SHOULD_WAIT);
        }
        let n = size.min(room);
        let datagram = this.datagram;
        let peer = self.obj_mut(peer_id);
        if datagram {
            peer.datagrams.push_back(data.to_vec());
        } else {
            peer.stream.extend(&data[..n]);
        }
        Ok(n)
    }

    /// `mx_socket_read(h, options, NULL, 0)`: the outstanding byte count.
    pub fn socket_outstanding(&self, value: RawHandle, options: u32) -> Result<usize, Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        let id = self.lookup(value, Rights::READ, Kind::Socket)?;
        Ok(self.obj(id).queued())
    }

    /// `mx_socket_read` into a buffer of `size` bytes: the bytes read.
    pub fn socket_read(
        &mut self,
        value: RawHandle,
        options: u32,
        size: usize,
    ) -> Result<Vec<u8>, Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        let id = self.lookup(value, Rights::READ, Kind::Socket)?;
        if size > u32::MAX as usize {
            return Err(Status::INVALID_ARGS);
        }
        let peer = self.obj(self.obj(id).peer.expect("a socket has a peer"));
        let peer_done = !peer.open() || peer.write_shut;
        let this = self.obj_mut(id);
        if this.queued() == 0 {
            return Err(if peer_done {
                Status::PEER_CLOSED
            } else {
                Status::SHOULD_WAIT
            });
        }
        if size == 0 {
            return Ok(Vec::new());
        }
        if this.datagram {
            let mut d = this.datagrams.pop_front().expect("a datagram");
            // The rest of the datagram is discarded.
            d.truncate(size);
            Ok(d)
        } else {
            let n = size.min(this.stream.len());
            Ok(this.stream.drain(..n).collect())
        }
    }

    /// `mx_channel_write` of `bytes` and the handles `handles`.
    pub fn channel_write(
        &mut self,
        value: RawHandle,
        options: u32,
        bytes: &[u8],
        handles: &[RawHandle],
    ) -> Result<(), Status> {
        if options != 0 {
            return Err(Status::INVALID_ARGS);
        }
        let id = self.lookup(value, Rights::WRITE, Kind::Channel)?;
        if bytes.len() > MAX_MSG_BYTES || handles.len() > MAX_MSG_HANDLES {
            return Err(Status::OUT_OF_RANGE);
        }
        for h in handles {
            let &(object, rights) = self.table.get(h).ok_or(Status::BAD_HANDLE)?;
            if object == id {
                return Err(Status::NOT_SUPPORTED);
            }
            if !rights.contains(Rights::TRANSFER) {
                return Err(Status::ACCESS_DENIED);
            }
        }
        for (i, h) in handles.iter().enumerate() {
            if handles[..i].contains(h) {
                return Err(Status::INVALID_ARGS);
            }
        }
        let peer = self.obj(id).peer.expect("a channel has a peer");
        if !self.obj(peer).open() {
            return Err(Status::PEER_CLOSED);
        }
        let handles = handles.iter().map(|&h| self.take(h)).collect();
        self.obj_mut(peer).messages.push_back(Message {
            bytes: bytes.to_vec(),
            handles,
        });
        Ok(())
    }

    /// `mx_channel_read` with room for `num_bytes` and `num_handles`: the
    /// message read (its handles to place, in order). Errors carry the
    /// counts the call reports.
    pub fn channel_read(
        &mut self,
        value: RawHandle,
        options: u32,
        num_bytes: usize,
        num_handles: usize,
    ) -> Result<Message, ErrorWith<(u32, u32)>> {
        let id = self.lookup(value, Rights::READ, Kind::Channel)?;
        if options != 0 && options != MAY_DISCARD {
            return Err(Status::NOT_SUPPORTED.into());
        }
        let peer = self.obj(id).peer.expect("a channel has a peer");
        let peer_open = self.obj(peer).open();
        let Some(first) = self.obj(id).messages.front() else {
            return Err(if peer_open {
                Status::SHOULD_WAIT
            } else {
                Status::PEER_CLOSED
            }
            .into());
        };
        let counts = (first.bytes.len() as u32, first.handles.len() as u32);
        let fits = first.bytes.len() <= num_bytes && first.handles.len() <= num_handles;
        if !fits && options != MAY_DISCARD {
            // The message stays first, untouched.
            return Err(ErrorWith {
                status: Status::BUFFER_TOO_SMALL,
                value: Some(counts),
            });
        }
        let message = self.obj_mut(id).messages.pop_front().expect("first");
        if fits {
            return Ok(message);
        }
        // Discarded: destroyed, its handles closed.
        for held in message.handles {
            self.drop_held(held);
        }
        Err(ErrorWith {
            status: Status::BUFFER_TOO_SMALL,
            value: Some(counts),
        })
    }
}

//! The process's side of everything shared with other processes: one
//! thread that waits for them (the *poller*), and what it needs to know.
//!
//! The poller starts the first time an object crosses a process boundary
//! (a channel made from a socket, a handle received or sent). It waits in
//! `epoll` for:
//!
//! - the sockets of channel links (a frame arrived, room to send again, the
//!   other process closed its end or died);
//! - this process's *bell*, an abstract-namespace datagram socket that
//!   other processes ring when they change a shared socket this process
//!   watches (its name is in the segment's slot: no descriptor has to be
//!   exchanged with every process that might ring);
//! - a `pidfd` for every process this one shares a socket with, so that a
//!   death (even by `SIGKILL`) closes its handles within milliseconds.
//!
//! Registrations are tokens in a table: an epoll event carries the token,
//! the table gives a weak reference to the object, and a stale token (its
//! object gone) is ignored. The poller takes no object lock while it holds
//! the table's lock.
//!
//! After `fork()` the child has no poller (threads do not survive fork):
//! [`forget_after_fork`] drops the parent's node from the child's view, and
//! the child starts its own when it first needs one.

use core::sync::atomic::Ordering;
use std::collections::HashMap;
use std::os::fd::{BorrowedFd, OwnedFd};

use mx_core::Status;
use rustix::event::epoll;
use rustix::net::{self, AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use crate::object::{ChannelPair, Object};
use crate::sync::{Arc, Mutex};

/// Who this process is, as recorded in shared slots: a pid alone could be
/// reused after a death, its start time tells the processes apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) pid: u32,
    pub(crate) start: u64,
}

impl Identity {
    /// This process.
    fn current() -> Identity {
        let pid = rustix::process::getpid().as_raw_nonzero().get() as u32;
        Identity {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }
}

/// The start time of process `pid` (clock ticks after boot, field 22 of
/// `/proc/<pid>/stat`), if it can be read.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold anything,
    // spaces and parentheses included: count fields after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_ascii_whitespace().nth(19)?.parse().ok()
}

/// What a token names.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A channel link's socket.
    Link(Arc<ChannelPair>),
    /// A shared socket pair that rings this process's bell with this token.
    Socket(Arc<Object>),
    /// A process being watched for its death.
    Process(Identity),
    /// Work the poller finishes on its own (see `link::Handover`).
    Handover(Box<super::link::Handover>),
}

/// The most processes watched at once.
const MAX_WATCHED: usize = 1024;

/// Token of the bell in epoll.
const BELL: u64 = u64::MAX;

/// The table of registrations.
#[derive(Debug, Default)]
struct Registry {
    /// Token `i` is `entries[i]` (with the generation in the token's upper
    /// half, so a reused index does not answer an old token).
    entries: Vec<(u32, Option<Entry>)>,
    free: Vec<u32>,
    /// Segments this process has mapped, by file identity, to find the
    /// object when a handle to it arrives again.
    segments: HashMap<(u64, u64), Arc<Object>>,
    /// Processes watched, by pid: their identity, pidfd and whether they
    /// are known to be dead.
    processes: HashMap<u32, Watched>,
}

#[derive(Debug)]
struct Watched {
    identity: Identity,
    dead: bool,
    _pidfd: Option<OwnedFd>,
}

/// A token: index and generation.
pub(crate) type Token = u64;

fn token(index: u32, generation: u32) -> Token {
    (u64::from(generation) << 32) | u64::from(index)
}

impl Registry {
    fn insert(&mut self, entry: Entry) -> Result<Token, Status> {
        if let Some(index) = self.free.pop() {
            let slot = &mut self.entries[index as usize];
            slot.0 = slot.0.wrapping_add(1);
            slot.1 = Some(entry);
            return Ok(token(index, slot.0));
        }
        self.entries.try_reserve(1)?;
        self.free.try_reserve(self.entries.len() + 1)?;
        let index = u32::try_from(self.entries.len()).map_err(|_| Status::NO_RESOURCES)?;
        self.entries.push((0, Some(entry)));
        Ok(token(index, 0))
    }

    fn get(&self, token: Token) -> Option<&Entry> {
        let (index, generation) = (token as u32, (token >> 32) as u32);
        match self.entries.get(index as usize) {
            Some((g, Some(entry))) if *g == generation => Some(entry),
            _ => None,
        }
    }

    fn remove(&mut self, token: Token) -> Option<Entry> {
        let (index, generation) = (token as u32, (token >> 32) as u32);
        match self.entries.get_mut(index as usize) {
            Some((g, entry @ Some(_))) if *g == generation => {
                let entry = entry.take();
                // `free` was reserved for every index.
                self.free.push(index);
                entry
            }
            _ => None,
        }
    }
}

/// The process's node.
#[derive(Debug)]
pub(crate) struct Node {
    epoll: OwnedFd,
    bell: OwnedFd,
    /// The bell's abstract name, zero-padded (the first byte is the
    /// abstract namespace's NUL, left out of the address).
    bell_name: [u8; mx_shm::shared::BELL_NAME_BYTES],
    me: Identity,
    registry: Mutex<Registry>,
    /// An unbound datagram socket to ring other processes' bells with.
    ringer: OwnedFd,
    /// The poller could not be started.
    broken: core::sync::atomic::AtomicBool,
}

/// The node, once made (none before, and in a child after fork).
static NODE: mx_shm::sync::Leaked<Node> = mx_shm::sync::Leaked::new();

/// The process's node, made (and its poller started) on first use.
///
/// # Errors
/// `NO_RESOURCES` (descriptors or threads), `NO_MEMORY`.
pub(crate) fn node() -> Result<&'static Node, Status> {
    match NODE.get() {
        Some(node) if node.broken.load(Ordering::Acquire) => Err(Status::NO_RESOURCES),
        Some(node) => Ok(node),
        None => make(),
    }
}

#[cold]
fn make() -> Result<&'static Node, Status> {
    // Register for cross-process fences before any shared memory exists.
    let _ = mx_shm::fence::asymmetric();
    super::fork::install();
    let me = Identity::current();
    let epoll = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(fd_status)?;
    let bell = net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(fd_status)?;
    let mut random = [0u8; 8];
    let _ = rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty());
    let text = format!("mx-bell-{}-{:016x}", me.pid, u64::from_le_bytes(random));
    let mut bell_name = [0u8; mx_shm::shared::BELL_NAME_BYTES];
    let n = text.len().min(bell_name.len());
    bell_name[..n].copy_from_slice(&text.as_bytes()[..n]);
    let address =
        SocketAddrUnix::new_abstract_name(&bell_name[..n]).map_err(|_| Status::INTERNAL)?;
    net::bind(&bell, &address).map_err(fd_status)?;
    epoll::add(
        &epoll,
        &bell,
        epoll::EventData::new_u64(BELL),
        epoll::EventFlags::IN,
    )
    .map_err(fd_status)?;
    let ringer = net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(fd_status)?;
    let node = Box::new(Node {
        epoll,
        bell,
        bell_name,
        me,
        registry: Mutex::new(Registry::default()),
        ringer,
        broken: core::sync::atomic::AtomicBool::new(false),
    });
    let (node, lost) = NODE.publish(node);
    if lost.is_some() {
        // Another thread made one first: ours goes (it has no poller).
        return Ok(node);
    }
    if std::thread::Builder::new()
        .name("mx-poller".into())
        .spawn(move || node.poll())
        .is_err()
    {
        // Without a poller nothing arrives from other processes; calls
        // that need it report it.
        node.broken.store(true, Ordering::Release);
        return Err(Status::NO_RESOURCES);
    }
    Ok(node)
}

/// In a child after `fork()`: forgets the parent's node (its poller did not
/// come along). The node's memory is leaked in the child.
pub(crate) fn forget_after_fork() {
    NODE.forget();
}

/// The status for a failed descriptor call.
pub(crate) fn fd_status(errno: rustix::io::Errno) -> Status {
    match errno {
        rustix::io::Errno::MFILE | rustix::io::Errno::NFILE => Status::NO_RESOURCES,
        rustix::io::Errno::NOMEM | rustix::io::Errno::NOBUFS => Status::NO_MEMORY,
        _ => Status::INTERNAL,
    }
}

impl Node {
    /// This process.
    pub(crate) fn me(&self) -> Identity {
        self.me
    }

    /// The bell's descriptor (any descriptor of ours will do for probes).
    pub(crate) fn bell_fd(&self) -> BorrowedFd<'_> {
        use std::os::fd::AsFd;
        self.bell.as_fd()
    }

    /// This process's bell name, for its slots.
    pub(crate) fn bell_name(&self) -> &[u8] {
        &self.bell_name
    }

    /// Registers a channel link's socket: the poller reads it from now on.
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub(crate) fn add_link(
        &self,
        fd: BorrowedFd<'_>,
        pair: &Arc<ChannelPair>,
    ) -> Result<Token, Status> {
        let token = self.registry.lock().insert(Entry::Link(pair.clone()))?;
        let flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        if let Err(errno) = epoll::add(&self.epoll, fd, epoll::EventData::new_u64(token), flags) {
            self.registry.lock().remove(token);
            return Err(fd_status(errno));
        }
        Ok(token)
    }

    /// Asks the poller to say when `fd` (registered as `token`) can take
    /// more (`out`), or stops asking.
    pub(crate) fn want_out(&self, fd: BorrowedFd<'_>, token: Token, out: bool) {
        let mut flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP;
        if out {
            flags |= epoll::EventFlags::OUT;
        }
        let _ = epoll::modify(&self.epoll, fd, epoll::EventData::new_u64(token), flags);
    }

    /// Stops watching `fd` (registered as `token`).
    pub(crate) fn remove(&self, fd: Option<BorrowedFd<'_>>, token: Token) -> Option<Entry> {
        if let Some(fd) = fd {
            let _ = epoll::delete(&self.epoll, fd);
        }
        self.registry.lock().remove(token)
    }

    /// Registers work for the poller to finish, waiting on `fd` (readable
    /// or writable as `out` says).
    ///
    /// # Errors
    /// `NO_MEMORY`, `NO_RESOURCES`.
    pub(crate) fn add_handover(&self, job: Box<super::link::Handover>) -> Result<Token, Status> {
        let mut registry = self.registry.lock();
        let token = registry.insert(Entry::Handover(job))?;
        let added = match registry.get(token) {
            Some(Entry::Handover(job)) => {
                let (fd, out) = job.waits_on();
                let flags = if out {
                    epoll::EventFlags::OUT
                } else {
                    epoll::EventFlags::IN
                };
                epoll::add(&self.epoll, fd, epoll::EventData::new_u64(token), flags)
            }
            _ => Err(rustix::io::Errno::INVAL),
        };
        if let Err(errno) = added {
            let job = registry.remove(token);
            drop(registry);
            drop(job);
            return Err(fd_status(errno));
        }
        Ok(token)
    }

    /// Registers a shared socket pair; its token goes into the pair's slot
    /// so that other processes ring this process's bell with it.
    ///
    /// # Errors
    /// `NO_MEMORY`.
    pub(crate) fn add_socket(&self, id: (u64, u64), object: &Arc<Object>) -> Result<u32, Status> {
        let mut registry = self.registry.lock();
        registry.segments.try_reserve(1)?;
        let token = registry.insert(Entry::Socket(object.clone()))?;
        registry.segments.insert(id, object.clone());
        Ok(token as u32)
    }

    /// Forgets a shared socket pair (its object is being destroyed).
    pub(crate) fn remove_socket(&self, id: (u64, u64), token: u32) {
        let mut registry = self.registry.lock();
        // The full token: the bell carries only the index half, generations
        // are checked against the entry.
        let index = u64::from(token);
        if let Some(generation) = registry.entries.get(token as usize).map(|e| e.0) {
            registry.remove(index | (u64::from(generation) << 32));
        }
        registry.segments.remove(&id);
    }

    /// Runs `f` on the object of segment `id`, if this process has it
    /// mapped, under the table's lock (so it cannot be detached meanwhile).
    pub(crate) fn with_segment<R>(
        &self,
        id: (u64, u64),
        f: impl FnOnce(Option<&Arc<Object>>) -> R,
    ) -> R {
        let registry = self.registry.lock();
        f(registry.segments.get(&id))
    }

    /// Forgets a shared socket pair this process holds no handle to any
    /// more, if `unused` still says so under the table's lock (a handle
    /// arriving meanwhile keeps it); `release` then gives up its slot.
    pub(crate) fn detach_socket(
        &self,
        id: (u64, u64),
        token: u32,
        unused: impl FnOnce() -> bool,
        release: impl FnOnce(),
    ) {
        let removed = {
            let mut registry = self.registry.lock();
            if !unused() {
                return;
            }
            release();
            let generation = registry.entries.get(token as usize).map(|e| e.0);
            let entry =
                generation.and_then(|g| registry.remove(u64::from(token) | (u64::from(g) << 32)));
            (entry, registry.segments.remove(&id))
        };
        // The object may be freed here, outside the lock.
        drop(removed);
    }

    /// Whether the process `who` lives, watching it from now on (so its
    /// death is noticed). A process that cannot be watched counts as alive
    /// until it can be seen dead.
    pub(crate) fn alive(&self, who: Identity) -> bool {
        if who == self.me {
            return true;
        }
        {
            let registry = self.registry.lock();
            if let Some(watched) = registry.processes.get(&who.pid) {
                if watched.identity == who {
                    return !watched.dead;
                }
            }
        }
        self.watch(who)
    }

    /// Starts watching `who`; whether it lives.
    fn watch(&self, who: Identity) -> bool {
        let Ok(pid) = i32::try_from(who.pid) else {
            return false;
        };
        let Some(pid) = rustix::process::Pid::from_raw(pid) else {
            return false;
        };
        let pidfd = match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::SRCH) => return false,
            Err(_) => return true,
        };
        // The pidfd names whatever process has that pid now: it is `who`
        // only if the start time matches (checked after opening, so the
        // pid cannot be reused in between unnoticed).
        if start_time(who.pid).is_some_and(|start| start != who.start) {
            return false;
        }
        let mut registry = self.registry.lock();
        if registry.processes.len() >= MAX_WATCHED || registry.processes.try_reserve(1).is_err() {
            // A peer can name any pid in its slot: the watches (a
            // descriptor each) are bounded. Beyond, a process counts as
            // alive, as one that cannot be watched does.
            return true;
        }
        let Ok(token) = registry.insert(Entry::Process(who)) else {
            return true;
        };
        let flags = epoll::EventFlags::IN;
        let watched = epoll::add(&self.epoll, &pidfd, epoll::EventData::new_u64(token), flags);
        registry.processes.insert(
            who.pid,
            Watched {
                identity: who,
                dead: false,
                _pidfd: watched.is_ok().then_some(pidfd),
            },
        );
        true
    }

    /// Rings the bell named `name` (another process's) with `token`.
    pub(crate) fn ring(&self, name: &[u8], token: u32) {
        let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        let Ok(address) = SocketAddrUnix::new_abstract_name(&name[..len]) else {
            return;
        };
        // A full queue means the bell has rung and not been answered: the
        // owner will look (see `SharedSocket::ring`'s rung flag).
        let _ = net::sendto(
            &self.ringer,
            &token.to_le_bytes(),
            net::SendFlags::DONTWAIT,
            &address,
        );
    }

    /// The poller's loop.
    fn poll(&'static self) {
        let mut events: Vec<epoll::Event> = Vec::with_capacity(64);
        let mut scratch = super::link::Scratch::new();
        loop {
            events.clear();
            match epoll::wait(
                &self.epoll,
                rustix::buffer::spare_capacity(&mut events),
                None,
            ) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(_) => return,
            }
            for event in events.iter() {
                let token = event.data.u64();
                let flags = event.flags;
                if token == BELL {
                    self.answer_bell();
                    continue;
                }
                self.dispatch(token, flags, &mut scratch);
            }
        }
    }

    fn dispatch(&self, token: Token, flags: epoll::EventFlags, scratch: &mut super::link::Scratch) {
        enum Work {
            Link(Arc<ChannelPair>),
            Died(Identity),
            Handover,
        }
        let work = {
            let registry = self.registry.lock();
            match registry.get(token) {
                Some(Entry::Link(pair)) => Work::Link(pair.clone()),
                Some(Entry::Process(who)) => Work::Died(*who),
                Some(Entry::Handover(_)) => Work::Handover,
                Some(Entry::Socket(_)) | None => return,
            }
        };
        match work {
            Work::Link(pair) => {
                let hangup = flags.intersects(
                    epoll::EventFlags::HUP | epoll::EventFlags::RDHUP | epoll::EventFlags::ERR,
                );
                if flags.contains(epoll::EventFlags::OUT) {
                    pair.link_flush(self);
                }
                if flags.contains(epoll::EventFlags::IN) || hangup {
                    ChannelPair::link_receive(&pair, self, scratch, hangup);
                }
            }
            Work::Died(who) => self.died(token, who),
            Work::Handover => {
                let job = self.registry.lock().remove(token);
                if let Some(Entry::Handover(mut job)) = job {
                    let (fd, _) = job.waits_on();
                    let _ = epoll::delete(&self.epoll, fd);
                    if !job.advance(self) {
                        // Not done: wait again (on whatever it waits for
                        // now).
                        let _ = self.add_handover(job);
                    }
                }
            }
        }
    }

    /// A watched process died: every shared socket with a slot of it
    /// closes that slot's handles.
    fn died(&self, token: Token, who: Identity) {
        let objects: Vec<Arc<Object>> = {
            let mut registry = self.registry.lock();
            registry.remove(token);
            if let Some(watched) = registry.processes.get_mut(&who.pid) {
                if watched.identity == who {
                    watched.dead = true;
                    watched._pidfd = None;
                }
            }
            registry.segments.values().cloned().collect()
        };
        for object in objects {
            if let Object::Socket(pair) = &*object {
                pair.peer_died(self, who);
            }
        }
    }

    /// Other processes rang: look at the shared sockets they named.
    fn answer_bell(&self) {
        let mut buf = [0u8; 4];
        loop {
            match net::recv(&self.bell, &mut buf[..], net::RecvFlags::DONTWAIT) {
                Ok((4, _)) => {
                    let token = u32::from_le_bytes(buf);
                    let object = {
                        let registry = self.registry.lock();
                        let generation = registry.entries.get(token as usize).map(|e| e.0);
                        generation.and_then(|g| {
                            match registry.get(u64::from(token) | (u64::from(g) << 32)) {
                                Some(Entry::Socket(object)) => Some(object.clone()),
                                _ => None,
                            }
                        })
                    };
                    if let Some(object) = object {
                        if let Object::Socket(pair) = &*object {
                            pair.rung(self);
                        }
                    }
                }
                // Anyone may send to an abstract name: ignore what is not a
                // token.
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }
}

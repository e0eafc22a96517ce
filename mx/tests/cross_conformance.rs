//! Cross-process conformance (SPEC 11): "a socket or channel end in another
//! process behaves exactly as it does locally". Each test states one rule
//! of the SPEC with one end (or more) held by a child process.
//!
//! # The harness
//!
//! This test binary starts itself as a child *agent*
//! (`--exact child_role`, with `MX_XC_ROLE` naming the role) with a
//! control channel, and, for most tests, the end under test. The agent
//! keeps the handles it holds in numbered *slots* and executes scripted
//! operations ([`Op`]) sent over the control channel with
//! `mx_channel_call`, replying with a status, values, bytes, and new slot
//! numbers or handles. So a test reads as the SPEC statement it checks,
//! with the child's half spelled out: `kid.write(B, b"x")`,
//! `kid.signals(B)`.
//!
//! Nothing hangs: every call has a deadline (control calls: 20 s), an agent
//! exits when its control channel's peer closes and after 120 s at most,
//! and the parent's [`Agent`] kills and reaps its child when dropped
//! (including when a test panics).

use std::collections::HashMap;
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mx::api::{
    object_wait_many, AsHandleRef, Channel, Event, EventPair, Handle, HandleBased, MessageBuf,
    PacketContents, Peered, Port, Socket, SocketOpts, WaitAsyncOpts, WaitItem,
};
use mx::core::abi::SOCKET_HALF_CLOSE;
use mx::linux::{pa_hnd, user_handle_info, CommandExt, PA_USER1};
use mx::{sys, Koid, ObjectType, RawHandle, Rights, Signals, Status, Time, TimeExt};

// ---------------------------------------------------------------------
// The protocol.

/// The info word of the agent's control channel.
const CONTROL: u32 = user_handle_info(0);
/// The info word of the agent's first subject handle (slot 1).
const SUBJECT: u32 = user_handle_info(1);
/// The environment variable naming the child's role.
const ROLE: &str = "MX_XC_ROLE";
/// How long a control call may take.
const CONTROL_DEADLINE: Duration = Duration::from_secs(20);
/// An agent exits after this long, whatever happens.
const AGENT_LIFETIME: Duration = Duration::from_secs(120);
/// A generous deadline for waits that must succeed.
const LONG: Duration = Duration::from_secs(10);

/// Operations an agent executes. Arguments are `u64` words, slot lists and
/// bytes ([`Msg`]); each op documents its own.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[repr(u32)]
enum Op {
    /// Nothing (handles attached to the request are stored).
    Ping = 1,
    /// `[slot]`: closes the handle.
    Close,
    /// `[slot, rights]`: duplicates; reply slot: the new handle.
    Dup,
    /// `[slot]`: reply `[koid, related, rights, type]`.
    Info,
    /// `[slot]`: the signals asserted now; reply `[observed]`.
    Signals,
    /// `[slot, signals, timeout_ms]`: wait_one; reply `[observed]`.
    Wait,
    /// `[slot, clear, set]`.
    Signal,
    /// `[slot, clear, set]`.
    SignalPeer,
    /// `[slot]`, bytes: one socket write; reply `[written]`.
    Write,
    /// `[slot, offset, len]`: one write of the pattern; reply `[written]`.
    WritePattern,
    /// `[slot, size]`: datagrams of `size` pattern bytes until a write
    /// fails; reply status: the failure, `[count]`.
    FillDatagrams,
    /// `[slot, max]`: one socket read; reply bytes.
    Read,
    /// `[slot, offset, timeout_ms]`: reads until `PEER_CLOSED` (or the
    /// timeout), checking the pattern from `offset`; reply `[count,
    /// first_bad + 1 or 0]`.
    Drain,
    /// `[slot]`: half-close.
    HalfClose,
    /// `[slot]`: bytes waiting; reply `[count]`.
    Outstanding,
    /// `[slot]`, slots, bytes: a channel write with those handles.
    ChanWrite,
    /// `[slot, timeout_ms]`: waits for and reads a message; reply bytes,
    /// slots of its handles.
    ChanRecv,
    /// `[slot, timeout_ms]`, slots, bytes: a channel call; reply `[read
    /// status]`, bytes, slots.
    ChanCall,
    /// slots: sends those handles back with the reply.
    Give,
    /// `[delay_ms]`, bytes: an encoded request, run on a thread of its own
    /// after the delay (its outcome is only reported if it fails).
    Later,
    /// `[slot, n, reverse]`: reads `n` messages, then replies to each with
    /// its txid and `"re:"` + its bytes (in reverse order if `reverse`).
    Serve,
    /// `[slot]`: writes the pattern into the socket until a write fails.
    WriteForever,
    /// `[from, to]`: forwards every message of channel `from` (bytes and
    /// handles) to channel `to`, until either closes.
    Relay,
    /// `[code]`: exits after replying, without closing any handle.
    Exit,
    /// `[datagram]`: creates a socket; reply slots: both ends.
    CreateSocket,
    /// Creates a channel; reply slots: both ends.
    CreateChannel,
    /// Creates an event; reply slots: it.
    CreateEvent,
    /// `[info]`: `mx_get_startup_handle`; reply slots: it, if any.
    Startup,
    /// `[slot, rights]`: replaces the handle; reply slots: the new one.
    Replace,
    /// `[slot, n]`: `n` times, creates a socket and sends one end in a
    /// message on channel `slot` (closing the other).
    SendFresh,
    /// `[slot, n]`: receives `n` messages with one socket end each on
    /// channel `slot`; reply `[how many lacked LAST_HANDLE on arrival]`.
    CheckArrivals,
}

impl Op {
    const ALL: [Op; 31] = [
        Op::Ping,
        Op::Close,
        Op::Dup,
        Op::Info,
        Op::Signals,
        Op::Wait,
        Op::Signal,
        Op::SignalPeer,
        Op::Write,
        Op::WritePattern,
        Op::FillDatagrams,
        Op::Read,
        Op::Drain,
        Op::HalfClose,
        Op::Outstanding,
        Op::ChanWrite,
        Op::ChanRecv,
        Op::ChanCall,
        Op::Give,
        Op::Later,
        Op::Serve,
        Op::WriteForever,
        Op::Relay,
        Op::Exit,
        Op::CreateSocket,
        Op::CreateChannel,
        Op::CreateEvent,
        Op::Startup,
        Op::Replace,
        Op::SendFresh,
        Op::CheckArrivals,
    ];

    fn from_code(code: u32) -> Option<Op> {
        Op::ALL.into_iter().find(|&op| op as u32 == code)
    }
}

/// A request or a reply: `code` (an [`Op`], or a reply's status), words,
/// slot numbers and bytes. Encoded after the 4-byte txid as
/// `code | n_args | args | n_slots | slots | bytes`, little-endian.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Msg {
    code: u32,
    args: Vec<u64>,
    slots: Vec<u32>,
    bytes: Vec<u8>,
}

impl Msg {
    fn encode(&self, txid: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&txid.to_le_bytes());
        out.extend_from_slice(&self.code.to_le_bytes());
        out.extend_from_slice(&(self.args.len() as u32).to_le_bytes());
        for arg in &self.args {
            out.extend_from_slice(&arg.to_le_bytes());
        }
        out.extend_from_slice(&(self.slots.len() as u32).to_le_bytes());
        for slot in &self.slots {
            out.extend_from_slice(&slot.to_le_bytes());
        }
        out.extend_from_slice(&self.bytes);
        out
    }

    /// The txid and the message.
    fn decode(buf: &[u8]) -> Option<(u32, Msg)> {
        let mut at = 0usize;
        let mut word = |n: usize| -> Option<u64> {
            let bytes = buf.get(at..at + n)?;
            at += n;
            let mut le = [0u8; 8];
            le[..n].copy_from_slice(bytes);
            Some(u64::from_le_bytes(le))
        };
        let txid = word(4)? as u32;
        let code = word(4)? as u32;
        let n_args = word(4)? as usize;
        let args = (0..n_args).map(|_| word(8)).collect::<Option<Vec<_>>>()?;
        let n_slots = word(4)? as usize;
        let slots = (0..n_slots)
            .map(|_| word(4).map(|w| w as u32))
            .collect::<Option<Vec<_>>>()?;
        let bytes = buf.get(at..)?.to_vec();
        Some((
            txid,
            Msg {
                code,
                args,
                slots,
                bytes,
            },
        ))
    }
}

/// The byte at `offset` of every test stream: a hash of the position, so
/// that a lost, repeated or reordered byte shows.
fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

fn pattern_bytes(offset: u64, len: usize) -> Vec<u8> {
    (0..len as u64).map(|i| pattern(offset + i)).collect()
}

/// The offset of the first byte of `bytes` that is not the pattern from
/// `offset`.
fn first_bad(offset: u64, bytes: &[u8]) -> Option<u64> {
    bytes
        .iter()
        .enumerate()
        .find(|&(i, &b)| b != pattern(offset + i as u64))
        .map(|(i, _)| offset + i as u64)
}

fn millis(ms: u64) -> Time {
    Time::after(Duration::from_millis(ms))
}

// ---------------------------------------------------------------------
// The child.

/// Not a test of its own: the entry point of the child processes.
#[test]
fn child_role() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    match role.as_str() {
        "agent" => agent(),
        // Exits at once, without taking its startup handles.
        "exit_at_once" => std::process::exit(0),
        // Exits with a code that says what it got: 1 if it inherited a
        // descriptor of the test binary (the markers the parent opens), 2
        // if it had a startup handle, 4 if it had none but the startup
        // variable.
        "report_startup" => {
            let exe = std::env::current_exe().unwrap();
            let markers: Vec<String> = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|entry| {
                    let entry = entry.ok()?;
                    let target = std::fs::read_link(entry.path()).ok()?;
                    (target == exe).then(|| entry.file_name().to_string_lossy().into_owned())
                })
                .collect();
            let env = std::env::var(sys::linux::STARTUP_FD_ENV).ok();
            let handle = mx::startup_handle(CONTROL).is_some();
            eprintln!(
                "report_startup: markers {markers:?}, {}={env:?}, a startup handle: {handle}",
                sys::linux::STARTUP_FD_ENV
            );
            let code = i32::from(!markers.is_empty())
                | if handle { 2 } else { 0 }
                | if !handle && env.is_some() { 4 } else { 0 };
            std::process::exit(code);
        }
        // Takes its startup handles, then starts a grandchild the plain
        // way (which inherits the environment); exits with its code.
        "spawn_plain_grandchild" => {
            let _control = mx::startup_handle(CONTROL);
            let status = Reaper(Some(
                Command::new(std::env::current_exe().unwrap())
                    .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
                    .env(ROLE, "open_at_startup_fd")
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            ))
            .wait();
            std::process::exit(status.code().unwrap_or(9));
        }
        // Opens a file under the descriptor number the startup variable it
        // inherited names, then asks for a startup handle: there is none,
        // and the file must still be its own.
        "open_at_startup_fd" => {
            let value = std::env::var(sys::linux::STARTUP_FD_ENV).unwrap_or_default();
            let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
            let Ok(wanted) = digits.parse::<i32>() else {
                std::process::exit(3);
            };
            let mut files = Vec::new();
            let file = loop {
                let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
                let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
                if fd == wanted {
                    break file;
                }
                if fd > wanted || files.len() > 4096 {
                    std::process::exit(3);
                }
                files.push(file);
            };
            if mx::startup_handle(CONTROL).is_some() {
                std::process::exit(4);
            }
            if file.metadata().is_err() {
                std::process::exit(5);
            }
            std::process::exit(0);
        }
        // Makes a channel of the SOCK_SEQPACKET socket it has as standard
        // input, takes a socket end from it, writes the message's bytes
        // into that, says so, and exits when the channel's peer closes.
        "channel_from_stdin" => {
            use std::os::fd::AsFd;
            let fd = std::io::stdin().as_fd().try_clone_to_owned().unwrap();
            let c = mx::linux::channel_from_fd(fd).expect("a seqpacket socket");
            let mut msg = MessageBuf::new();
            c.recv_deadline(&mut msg, LONG).unwrap();
            let socket = Socket::from(msg.take_handle(0).unwrap());
            socket.try_write(msg.bytes()).unwrap();
            c.write(b"done", &mut Vec::new()).unwrap();
            c.wait_handle(Signals::PEER_CLOSED, LONG).unwrap();
            std::process::exit(0);
        }
        other => panic!("unknown role {other}"),
    }
}

/// The handles an agent holds, by slot.
#[derive(Clone, Default)]
struct Slots {
    handles: HashMap<u32, RawHandle>,
    next: u32,
}

impl Slots {
    fn put(&mut self, handle: RawHandle) -> u32 {
        self.next += 1;
        self.handles.insert(self.next, handle);
        self.next
    }

    fn get(&self, slot: u64) -> Result<RawHandle, Status> {
        self.handles
            .get(&(slot as u32))
            .copied()
            .ok_or(Status::NOT_FOUND)
    }
}

/// What executing a request gave: the reply, handles to send with it, and
/// whether to exit afterwards.
#[derive(Default)]
struct Outcome {
    reply: Msg,
    give: Vec<RawHandle>,
    exit: Option<i32>,
}

fn agent() {
    std::thread::spawn(|| {
        std::thread::sleep(AGENT_LIFETIME);
        eprintln!("agent {}: lifetime over", std::process::id());
        std::process::exit(3);
    });
    let control = sys::linux::get_startup_handle(CONTROL).expect("a control channel");
    let mut slots = Slots::default();
    if let Some(subject) = sys::linux::get_startup_handle(SUBJECT) {
        assert_eq!(slots.put(subject), 1);
    }
    let mut bytes = vec![0u8; 65536];
    let mut handles = vec![0 as RawHandle; 64];
    loop {
        let read = match sys::channel_read(control, 0, &mut bytes[..], &mut handles[..]) {
            Ok(read) => read,
            Err(e) if e.status == Status::SHOULD_WAIT => {
                let _ = sys::object_wait_one(
                    control,
                    Signals::READABLE | Signals::PEER_CLOSED,
                    Time::INFINITE,
                );
                continue;
            }
            // The parent is gone.
            Err(_) => std::process::exit(0),
        };
        let (n_bytes, n_handles) = (read.0 as usize, read.1 as usize);
        let (txid, request) = Msg::decode(&bytes[..n_bytes]).expect("a well-formed request");
        let taken: Vec<u32> = handles[..n_handles].iter().map(|&h| slots.put(h)).collect();
        let mut outcome = execute(&request, &mut slots);
        outcome.reply.slots.splice(0..0, taken);
        for handle in &outcome.give {
            slots.handles.retain(|_, h| h != handle);
        }
        let encoded = outcome.reply.encode(txid);
        if let Err(status) = sys::channel_write(control, 0, &encoded[..], &outcome.give[..]) {
            eprintln!("agent: reply: {status}");
            std::process::exit(2);
        }
        if let Some(code) = outcome.exit {
            std::process::exit(code);
        }
    }
}

fn status_of<T>(result: &Result<T, Status>) -> u32 {
    match result {
        Ok(_) => 0,
        Err(status) => status.into_raw() as u32,
    }
}

fn execute(request: &Msg, slots: &mut Slots) -> Outcome {
    let mut outcome = Outcome::default();
    let arg = |i: usize| request.args.get(i).copied().unwrap_or(0);
    let result = run(request, slots, &mut outcome, &arg);
    outcome.reply.code = status_of(&result);
    outcome
}

fn run(
    request: &Msg,
    slots: &mut Slots,
    out: &mut Outcome,
    arg: &dyn Fn(usize) -> u64,
) -> Result<(), Status> {
    let op = Op::from_code(request.code).ok_or(Status::NOT_SUPPORTED)?;
    let reply = &mut out.reply;
    match op {
        Op::Ping => {}
        Op::Close => {
            let h = slots.get(arg(0))?;
            slots.handles.remove(&(arg(0) as u32));
            sys::handle_close(h)?;
        }
        Op::Dup => {
            let h =
                sys::handle_duplicate(slots.get(arg(0))?, Rights::from_bits_retain(arg(1) as u32))?;
            reply.slots.push(slots.put(h));
        }
        Op::Replace => {
            let h =
                sys::handle_replace(slots.get(arg(0))?, Rights::from_bits_retain(arg(1) as u32))?;
            slots.handles.remove(&(arg(0) as u32));
            reply.slots.push(slots.put(h));
        }
        Op::Info => {
            let info = sys::object_get_info_handle_basic(slots.get(arg(0))?)?;
            reply.args = vec![
                info.koid.0,
                info.related_koid.0,
                u64::from(info.rights.bits()),
                u64::from(info.type_),
            ];
        }
        Op::Signals => {
            let observed = match sys::object_wait_one(slots.get(arg(0))?, Signals::NONE, Time::ZERO)
            {
                Ok(observed) => observed,
                Err(e) => e.value.ok_or(e.status)?,
            };
            reply.args = vec![u64::from(observed.bits())];
        }
        Op::Wait => {
            let signals = Signals::from_bits_retain(arg(1) as u32);
            match sys::object_wait_one(slots.get(arg(0))?, signals, millis(arg(2))) {
                Ok(observed) => reply.args = vec![u64::from(observed.bits())],
                Err(e) => {
                    reply.args = vec![u64::from(e.value.unwrap_or(Signals::NONE).bits())];
                    return Err(e.status);
                }
            }
        }
        Op::Signal | Op::SignalPeer => {
            let (clear, set) = (
                Signals::from_bits_retain(arg(1) as u32),
                Signals::from_bits_retain(arg(2) as u32),
            );
            let h = slots.get(arg(0))?;
            if op == Op::Signal {
                sys::object_signal(h, clear, set)?;
            } else {
                sys::object_signal_peer(h, clear, set)?;
            }
        }
        Op::Write => {
            let n = sys::socket_write(slots.get(arg(0))?, 0, &request.bytes[..])?;
            reply.args = vec![n as u64];
        }
        Op::WritePattern => {
            let bytes = pattern_bytes(arg(1), arg(2) as usize);
            let n = sys::socket_write(slots.get(arg(0))?, 0, &bytes[..])?;
            reply.args = vec![n as u64];
        }
        Op::FillDatagrams => {
            let h = slots.get(arg(0))?;
            let mut count = 0u64;
            loop {
                let bytes = pattern_bytes(count, arg(1) as usize);
                match sys::socket_write(h, 0, &bytes[..]) {
                    Ok(_) => count += 1,
                    Err(status) => {
                        reply.args = vec![count];
                        return Err(status);
                    }
                }
            }
        }
        Op::Read => {
            let mut buf = vec![0u8; arg(1) as usize];
            let n = sys::socket_read(slots.get(arg(0))?, 0, Some(&mut buf[..]))?;
            buf.truncate(n);
            reply.bytes = buf;
        }
        Op::Drain => {
            let h = slots.get(arg(0))?;
            let deadline = millis(arg(2));
            let mut offset = arg(1);
            let mut bad = 0u64;
            let mut buf = vec![0u8; 65536];
            let status = loop {
                match sys::socket_read(h, 0, Some(&mut buf[..])) {
                    Ok(n) => {
                        if bad == 0 {
                            bad = first_bad(offset, &buf[..n]).map_or(0, |at| at + 1);
                        }
                        offset += n as u64;
                    }
                    Err(Status::SHOULD_WAIT) => {
                        if let Err(e) = sys::object_wait_one(
                            h,
                            Signals::READABLE | Signals::PEER_CLOSED,
                            deadline,
                        ) {
                            break Err(e.status);
                        }
                    }
                    Err(Status::PEER_CLOSED) => break Ok(()),
                    Err(status) => break Err(status),
                }
            };
            reply.args = vec![offset - arg(1), bad];
            return status;
        }
        Op::HalfClose => {
            sys::socket_write(slots.get(arg(0))?, SOCKET_HALF_CLOSE, &[][..])?;
        }
        Op::Outstanding => {
            let n = sys::socket_read::<[u8]>(slots.get(arg(0))?, 0, None)?;
            reply.args = vec![n as u64];
        }
        Op::ChanWrite => {
            let handles = request
                .slots
                .iter()
                .map(|&s| slots.get(u64::from(s)))
                .collect::<Result<Vec<_>, _>>()?;
            sys::channel_write(slots.get(arg(0))?, 0, &request.bytes[..], &handles[..])?;
            for handle in handles {
                slots.handles.retain(|_, h| *h != handle);
            }
        }
        Op::ChanRecv => {
            let h = slots.get(arg(0))?;
            let deadline = millis(arg(1));
            let mut bytes = vec![0u8; 65536];
            let mut handles = vec![0 as RawHandle; 64];
            let (nb, nh) = loop {
                match sys::channel_read(h, 0, &mut bytes[..], &mut handles[..]) {
                    Ok(read) => break read,
                    Err(e) if e.status == Status::SHOULD_WAIT => {
                        sys::object_wait_one(h, Signals::READABLE | Signals::PEER_CLOSED, deadline)
                            .map_err(|e| e.status)?;
                    }
                    Err(e) => return Err(e.status),
                }
            };
            bytes.truncate(nb as usize);
            reply.bytes = bytes;
            reply.slots = handles[..nh as usize]
                .iter()
                .map(|&h| slots.put(h))
                .collect();
        }
        Op::ChanCall => {
            let handles = request
                .slots
                .iter()
                .map(|&s| slots.get(u64::from(s)))
                .collect::<Result<Vec<_>, _>>()?;
            let mut bytes = vec![0u8; 65536];
            let mut received = vec![0 as RawHandle; 64];
            let called = sys::channel_call(
                slots.get(arg(0))?,
                0,
                millis(arg(1)),
                &request.bytes[..],
                &handles[..],
                &mut bytes[..],
                &mut received[..],
            );
            match called {
                Ok((nb, nh)) => {
                    bytes.truncate(nb as usize);
                    reply.bytes = bytes;
                    reply.slots = received[..nh as usize]
                        .iter()
                        .map(|&h| slots.put(h))
                        .collect();
                }
                Err(e) => {
                    reply.args = vec![e.read_status.map_or(0, |s| s.into_raw() as u32 as u64)];
                    return Err(e.status);
                }
            }
        }
        Op::Give => {
            for &slot in &request.slots {
                out.give.push(slots.get(u64::from(slot))?);
            }
        }
        Op::Later => {
            let (_, inner) = Msg::decode(&request.bytes).ok_or(Status::INVALID_ARGS)?;
            let mut theirs = slots.clone();
            let delay = Duration::from_millis(arg(0));
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let outcome = execute(&inner, &mut theirs);
                if outcome.reply.code != 0 {
                    eprintln!(
                        "agent {}: later {:?}: {}",
                        std::process::id(),
                        Op::from_code(inner.code),
                        Status::from(outcome.reply.code as i32)
                    );
                }
            });
        }
        Op::Serve => {
            let h = slots.get(arg(0))?;
            let mut requests = Vec::new();
            let mut bytes = vec![0u8; 65536];
            while requests.len() < arg(1) as usize {
                match sys::channel_read(h, 0, &mut bytes[..], &mut [0 as RawHandle; 0][..]) {
                    Ok((nb, _)) => requests.push(bytes[..nb as usize].to_vec()),
                    Err(e) if e.status == Status::SHOULD_WAIT => {
                        sys::object_wait_one(
                            h,
                            Signals::READABLE | Signals::PEER_CLOSED,
                            millis(20_000),
                        )
                        .map_err(|e| e.status)?;
                    }
                    Err(e) => return Err(e.status),
                }
            }
            if arg(2) != 0 {
                requests.reverse();
            }
            for request in requests {
                let mut answer = request[..4].to_vec();
                answer.extend_from_slice(b"re:");
                answer.extend_from_slice(&request[4..]);
                sys::channel_write(h, 0, &answer[..], &[0 as RawHandle; 0][..])?;
            }
        }
        Op::WriteForever => {
            let h = slots.get(arg(0))?;
            let mut offset = 0u64;
            loop {
                let bytes = pattern_bytes(offset, 4096 + (offset % 1000) as usize);
                match sys::socket_write(h, 0, &bytes[..]) {
                    Ok(n) => offset += n as u64,
                    Err(Status::SHOULD_WAIT) => {
                        let _ = sys::ext::socket_wait_room(h, 1, Time::INFINITE);
                    }
                    Err(status) => return Err(status),
                }
            }
        }
        Op::Relay => {
            let (from, to) = (slots.get(arg(0))?, slots.get(arg(1))?);
            let mut bytes = vec![0u8; 65536];
            let mut handles = vec![0 as RawHandle; 64];
            loop {
                match sys::channel_read(from, 0, &mut bytes[..], &mut handles[..]) {
                    Ok((nb, nh)) => {
                        sys::channel_write(to, 0, &bytes[..nb as usize], &handles[..nh as usize])?;
                    }
                    Err(e) if e.status == Status::SHOULD_WAIT => {
                        let _ = sys::object_wait_one(
                            from,
                            Signals::READABLE | Signals::PEER_CLOSED,
                            Time::INFINITE,
                        );
                    }
                    Err(e) => return Err(e.status),
                }
            }
        }
        Op::Exit => out.exit = Some(arg(0) as i32),
        Op::CreateSocket => {
            let (a, b) = sys::socket_create(arg(0) as u32)?;
            reply.slots = vec![slots.put(a), slots.put(b)];
        }
        Op::CreateChannel => {
            let (a, b) = sys::channel_create(0)?;
            reply.slots = vec![slots.put(a), slots.put(b)];
        }
        Op::CreateEvent => {
            let e = sys::event_create(0)?;
            reply.slots = vec![slots.put(e)];
        }
        Op::SendFresh => {
            let c = slots.get(arg(0))?;
            for _ in 0..arg(1) {
                let (a, b) = sys::socket_create(0)?;
                sys::channel_write(c, 0, &b"fresh"[..], &[b][..])?;
                sys::handle_close(a)?;
            }
        }
        Op::CheckArrivals => {
            let c = slots.get(arg(0))?;
            let mut lacking = 0u64;
            let mut handles = [0 as RawHandle; 1];
            for _ in 0..arg(1) {
                loop {
                    match sys::channel_read(c, 0, &mut [0u8; 64][..], &mut handles[..]) {
                        Ok(_) => break,
                        Err(e) if e.status == Status::SHOULD_WAIT => {
                            sys::object_wait_one(c, Signals::READABLE, millis(10_000))
                                .map_err(|e| e.status)?;
                        }
                        Err(e) => return Err(e.status),
                    }
                }
                let seen = match sys::object_wait_one(handles[0], Signals::NONE, Time::ZERO) {
                    Ok(seen) => seen,
                    Err(e) => e.value.unwrap_or(Signals::NONE),
                };
                if !seen.contains(Signals::LAST_HANDLE) {
                    lacking += 1;
                }
                sys::handle_close(handles[0])?;
            }
            reply.args = vec![lacking];
        }
        Op::Startup => {
            if let Some(h) = sys::linux::get_startup_handle(arg(0) as u32) {
                reply.slots = vec![slots.put(h)];
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------
// The parent's side.

/// A reply from an agent.
#[derive(Debug)]
struct Reply {
    status: Status,
    args: Vec<u64>,
    slots: Vec<u32>,
    bytes: Vec<u8>,
    handles: Vec<Handle>,
}

impl Reply {
    /// Asserts success.
    #[track_caller]
    fn ok(self) -> Reply {
        assert_eq!(self.status, Status::OK, "agent op failed: {self:?}");
        self
    }

    fn result(&self) -> Result<(), Status> {
        if self.status == Status::OK {
            Ok(())
        } else {
            Err(self.status)
        }
    }

    fn arg(&self, i: usize) -> u64 {
        self.args[i]
    }
}

/// A child agent; killed and reaped when dropped.
#[derive(Debug)]
struct Agent {
    child: Option<Child>,
    control: Channel,
    txid: AtomicU32,
}

/// Slot 1: the subject handle an agent was started with.
const S1: u32 = 1;

impl Agent {
    /// Starts an agent, with `subject` (slot 1) if given.
    fn spawn(subject: Option<Handle>) -> Agent {
        Agent::spawn_role("agent", subject)
    }

    fn spawn_role(role: &str, subject: Option<Handle>) -> Agent {
        Agent::spawn_handles(role, subject.map(|h| (SUBJECT, h)).into_iter().collect())
    }

    /// Starts a child playing `role` with its control channel and
    /// `handles`.
    fn spawn_handles(role: &str, mut handles: Vec<(u32, Handle)>) -> Agent {
        let (control, theirs) = Channel::create().unwrap();
        handles.insert(0, (CONTROL, theirs.into_handle()));
        let child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
            .env(ROLE, role)
            // The child's libtest chatter; its stderr tells what went wrong.
            .stdout(std::process::Stdio::null())
            .spawn_with_handles(handles)
            .expect("spawn an agent");
        Agent {
            child: Some(child),
            control,
            txid: AtomicU32::new(1),
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a request with `handles` attached; the reply.
    #[track_caller]
    fn request(
        &self,
        op: Op,
        args: &[u64],
        slots: &[u32],
        bytes: &[u8],
        handles: Vec<Handle>,
    ) -> Reply {
        let txid = self.txid.fetch_add(1, Ordering::Relaxed);
        let request = Msg {
            code: op as u32,
            args: args.to_vec(),
            slots: slots.to_vec(),
            bytes: bytes.to_vec(),
        };
        let mut handles = handles;
        let mut buf = MessageBuf::with_max_capacity().unwrap();
        if let Err(e) = self.control.call(
            CONTROL_DEADLINE,
            &request.encode(txid),
            &mut handles,
            &mut buf,
        ) {
            panic!(
                "agent {}: {op:?} {args:?}: the control call failed: {e:?}",
                self.pid()
            );
        }
        let (got, reply) = Msg::decode(buf.bytes()).expect("a well-formed reply");
        assert_eq!(got, txid);
        let handles = (0..buf.n_handles())
            .map(|i| buf.take_handle(i).unwrap())
            .collect();
        Reply {
            status: Status::from(reply.code as i32),
            args: reply.args,
            slots: reply.slots,
            bytes: reply.bytes,
            handles,
        }
    }

    #[track_caller]
    fn op(&self, op: Op, args: &[u64]) -> Reply {
        self.request(op, args, &[], &[], Vec::new())
    }

    /// Gives the agent `handle`; its slot there.
    #[track_caller]
    fn give(&self, handle: impl Into<Handle>) -> u32 {
        self.request(Op::Ping, &[], &[], &[], vec![handle.into()])
            .ok()
            .slots[0]
    }

    /// Takes the handle in `slot` back from the agent.
    #[track_caller]
    fn take(&self, slot: u32) -> Handle {
        let mut reply = self.request(Op::Give, &[], &[slot], &[], Vec::new()).ok();
        assert_eq!(reply.handles.len(), 1);
        reply.handles.pop().unwrap()
    }

    #[track_caller]
    fn signals(&self, slot: u32) -> Signals {
        Signals::from_bits_retain(self.op(Op::Signals, &[u64::from(slot)]).ok().arg(0) as u32)
    }

    #[track_caller]
    fn wait(&self, slot: u32, signals: Signals, timeout: Duration) -> Result<Signals, Status> {
        let reply = self.op(
            Op::Wait,
            &[
                u64::from(slot),
                u64::from(signals.bits()),
                timeout.as_millis() as u64,
            ],
        );
        reply
            .result()
            .map(|()| Signals::from_bits_retain(reply.arg(0) as u32))
    }

    #[track_caller]
    fn write(&self, slot: u32, bytes: &[u8]) -> Result<usize, Status> {
        let reply = self.request(Op::Write, &[u64::from(slot)], &[], bytes, Vec::new());
        reply.result().map(|()| reply.arg(0) as usize)
    }

    #[track_caller]
    fn write_pattern(&self, slot: u32, offset: u64, len: usize) -> Result<usize, Status> {
        let reply = self.op(Op::WritePattern, &[u64::from(slot), offset, len as u64]);
        reply.result().map(|()| reply.arg(0) as usize)
    }

    #[track_caller]
    fn read(&self, slot: u32, max: usize) -> Result<Vec<u8>, Status> {
        let reply = self.op(Op::Read, &[u64::from(slot), max as u64]);
        reply.result().map(|()| reply.bytes)
    }

    #[track_caller]
    fn outstanding(&self, slot: u32) -> usize {
        self.op(Op::Outstanding, &[u64::from(slot)]).ok().arg(0) as usize
    }

    #[track_caller]
    fn half_close(&self, slot: u32) -> Result<(), Status> {
        self.op(Op::HalfClose, &[u64::from(slot)]).result()
    }

    #[track_caller]
    fn close(&self, slot: u32) {
        self.op(Op::Close, &[u64::from(slot)]).ok();
    }

    #[track_caller]
    fn info(&self, slot: u32) -> (Koid, Koid, Rights, ObjectType) {
        let reply = self.op(Op::Info, &[u64::from(slot)]).ok();
        (
            Koid(reply.arg(0)),
            Koid(reply.arg(1)),
            Rights::from_bits_retain(reply.arg(2) as u32),
            ObjectType(reply.arg(3) as u32),
        )
    }

    /// Writes a message with the handles of `slots` on the channel in
    /// `slot`.
    #[track_caller]
    fn chan_write(&self, slot: u32, bytes: &[u8], slots: &[u32]) -> Result<(), Status> {
        self.request(Op::ChanWrite, &[u64::from(slot)], slots, bytes, Vec::new())
            .result()
    }

    /// Waits for a message on the channel in `slot`: its bytes and the
    /// slots of its handles.
    #[track_caller]
    fn chan_recv(&self, slot: u32) -> Result<(Vec<u8>, Vec<u32>), Status> {
        let reply = self.op(Op::ChanRecv, &[u64::from(slot), 10_000]);
        reply.result().map(|()| (reply.bytes, reply.slots))
    }

    /// Runs `op` on a thread of the agent after `delay`.
    #[track_caller]
    fn later(&self, delay: Duration, op: Op, args: &[u64], bytes: &[u8]) {
        let inner = Msg {
            code: op as u32,
            args: args.to_vec(),
            slots: Vec::new(),
            bytes: bytes.to_vec(),
        };
        self.request(
            Op::Later,
            &[delay.as_millis() as u64],
            &[],
            &inner.encode(0),
            Vec::new(),
        )
        .ok();
    }

    /// Kills the child with `SIGKILL`; when.
    fn kill(&mut self) -> Instant {
        let child = self.child.as_mut().unwrap();
        child.kill().unwrap();
        Instant::now()
    }

    /// Waits (up to `LONG`) for the child to end.
    fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(start.elapsed() < LONG, "the child did not exit");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A child that is not an agent; killed and reaped when dropped.
struct Reaper(Option<Child>);

impl Reaper {
    /// Waits (up to `LONG`) for the child to end.
    #[track_caller]
    fn wait(&mut self) -> ExitStatus {
        let child = self.0.as_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.0 = None;
                return status;
            }
            assert!(start.elapsed() < LONG, "the child did not exit");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The signals asserted on `h` now.
fn now(h: &impl AsHandleRef) -> Signals {
    match sys::object_wait_one(h.raw_handle(), Signals::NONE, Time::ZERO) {
        Ok(observed) => observed,
        Err(e) => e.value.unwrap(),
    }
}

/// Waits (up to `LONG`) for any of `signals` on `h`.
#[track_caller]
fn wait_for(h: &impl AsHandleRef, signals: Signals) -> Signals {
    match h.wait_handle(signals, LONG) {
        Ok(observed) => observed,
        Err(status) => panic!("waiting for {signals:?}: {status}, now {:?}", now(h)),
    }
}

/// A socket pair whose end `b` is in a new agent (slot 1).
fn socket_with_agent(opts: SocketOpts) -> (Socket, Agent) {
    let (a, b) = Socket::create(opts).unwrap();
    (a, Agent::spawn(Some(b.into_handle())))
}

/// A channel pair whose end `b` is in a new agent (slot 1).
fn channel_with_agent() -> (Channel, Agent) {
    let (a, b) = Channel::create().unwrap();
    (a, Agent::spawn(Some(b.into_handle())))
}

/// Reads one message on `c` (waiting up to `LONG`).
#[track_caller]
fn recv(c: &Channel) -> MessageBuf {
    let mut buf = MessageBuf::new();
    c.recv_deadline(&mut buf, LONG).expect("a message");
    buf
}

/// A small xorshift for random delays; the seed is printed so that a
/// failure can be replayed (`MX_XC_SEED`).
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("MX_XC_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("random seed: MX_XC_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

const CAPACITY: usize = 257_024;

// ---------------------------------------------------------------------
// SPEC 4: capacity and short writes.

#[test]
fn socket_write_stream_capacity_holds_when_the_reader_is_another_process() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    let big = pattern_bytes(0, 300_000);
    assert_eq!(
        a.try_write(&big),
        Ok(CAPACITY),
        "a short write: exactly the capacity"
    );
    assert_eq!(a.try_write(b"x"), Err(Status::SHOULD_WAIT));
    assert!(
        !now(&a).contains(Signals::WRITABLE),
        "full: WRITABLE cleared"
    );
    assert_eq!(kid.outstanding(S1), CAPACITY);
    assert!(kid.signals(S1).contains(Signals::READABLE));
    // One byte read over there: room again here.
    assert_eq!(kid.read(S1, 1), Ok(vec![pattern(0)]));
    assert!(wait_for(&a, Signals::WRITABLE).contains(Signals::WRITABLE));
    assert_eq!(a.try_write(&big[CAPACITY..]), Ok(1));
    assert_eq!(kid.outstanding(S1), CAPACITY);
}

#[test]
fn socket_write_stream_from_the_child_is_short_then_should_wait() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    assert_eq!(kid.write_pattern(S1, 0, 300_000), Ok(CAPACITY));
    assert_eq!(
        kid.write_pattern(S1, CAPACITY as u64, 10),
        Err(Status::SHOULD_WAIT)
    );
    assert!(!kid.signals(S1).contains(Signals::WRITABLE));
    assert_eq!(a.outstanding_read_bytes(), Ok(CAPACITY));
    let mut got = vec![0u8; CAPACITY + 10];
    assert_eq!(a.try_read(&mut got), Ok(CAPACITY));
    assert_eq!(first_bad(0, &got[..CAPACITY]), None);
    assert!(
        !now(&a).contains(Signals::READABLE),
        "empty: READABLE cleared"
    );
    // The child's end regains WRITABLE once this process read.
    assert!(kid
        .wait(S1, Signals::WRITABLE, LONG)
        .unwrap()
        .contains(Signals::WRITABLE));
}

#[test]
fn socket_write_datagram_framing_does_not_count_against_capacity() {
    let (a, kid) = socket_with_agent(SocketOpts::Datagram);
    let reply = kid.op(Op::FillDatagrams, &[u64::from(S1), 1]);
    assert_eq!(reply.status, Status::SHOULD_WAIT);
    assert_eq!(
        reply.arg(0),
        CAPACITY as u64,
        "one-byte datagrams up to the capacity"
    );
    assert_eq!(a.outstanding_read_bytes(), Ok(CAPACITY));
    let mut buf = [0u8; 16];
    assert_eq!(a.try_read(&mut buf), Ok(1));
    assert!(kid.wait(S1, Signals::WRITABLE, LONG).is_ok());
    assert_eq!(kid.write(S1, b"z"), Ok(1));
    assert_eq!(kid.write(S1, b"z"), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_write_datagram_that_does_not_fit_writes_nothing_and_keeps_writable() {
    let (a, kid) = socket_with_agent(SocketOpts::Datagram);
    let reply = kid.op(Op::FillDatagrams, &[u64::from(S1), 1000]);
    assert_eq!(reply.status, Status::SHOULD_WAIT);
    assert_eq!(reply.arg(0), (CAPACITY / 1000) as u64);
    assert_eq!(a.outstanding_read_bytes(), Ok(CAPACITY / 1000 * 1000));
    // 24 bytes of room: WRITABLE stays, a 25-byte datagram does not fit.
    assert!(kid.signals(S1).contains(Signals::WRITABLE));
    assert_eq!(kid.write(S1, &[7; 25]), Err(Status::SHOULD_WAIT));
    assert_eq!(kid.write(S1, &[7; 24]), Ok(24));
    assert!(!kid.signals(S1).contains(Signals::WRITABLE), "full now");
    assert_eq!(a.outstanding_read_bytes(), Ok(CAPACITY));
    // Larger than the capacity outright: SHOULD_WAIT, also when empty.
    let mut buf = vec![0u8; 1000];
    while a.try_read(&mut buf).is_ok() {}
    assert!(kid.wait(S1, Signals::WRITABLE, LONG).is_ok());
    assert_eq!(
        kid.write_pattern(S1, 0, CAPACITY + 1),
        Err(Status::SHOULD_WAIT)
    );
    assert_eq!(a.outstanding_read_bytes(), Ok(0));
}

// ---------------------------------------------------------------------
// SPEC 4: datagram boundaries and truncation.

#[test]
fn socket_read_datagrams_keep_their_boundaries_across_processes() {
    let (a, kid) = socket_with_agent(SocketOpts::Datagram);
    for text in [&b"one"[..], b"two two", b"", b"three three three"] {
        assert_eq!(kid.write(S1, text), Ok(text.len()));
    }
    let mut buf = [0u8; 64];
    assert_eq!(a.try_read(&mut buf), Ok(3));
    assert_eq!(&buf[..3], b"one");
    assert_eq!(a.try_read(&mut buf), Ok(7), "an empty write queued nothing");
    assert_eq!(&buf[..7], b"two two");
    // A short buffer takes the front of the datagram, the rest is gone.
    let mut short = [0u8; 5];
    assert_eq!(a.try_read(&mut short), Ok(5));
    assert_eq!(&short, b"three");
    assert_eq!(a.try_read(&mut buf), Err(Status::SHOULD_WAIT));

    // The other way: the child reads with a short buffer.
    a.try_write(b"abcdefgh").unwrap();
    a.try_write(b"ijkl").unwrap();
    assert_eq!(kid.outstanding(S1), 12);
    assert_eq!(kid.read(S1, 3), Ok(b"abc".to_vec()));
    assert_eq!(kid.read(S1, 64), Ok(b"ijkl".to_vec()));
    assert_eq!(kid.read(S1, 64), Err(Status::SHOULD_WAIT));
}

// ---------------------------------------------------------------------
// SPEC 4: half-close.

#[test]
fn socket_half_close_in_the_child_gives_peer_closed_after_the_data() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    assert_eq!(kid.write(S1, b"last words"), Ok(10));
    kid.half_close(S1).unwrap();
    let seen = wait_for(&a, Signals::PEER_CLOSED);
    assert!(seen.contains(Signals::READABLE | Signals::WRITABLE | Signals::PEER_CLOSED));
    // The half-closed end lost WRITABLE and did not gain PEER_CLOSED.
    let theirs = kid.signals(S1);
    assert!(!theirs.contains(Signals::WRITABLE), "{theirs:?}");
    assert!(!theirs.contains(Signals::PEER_CLOSED), "{theirs:?}");
    // Data first, then PEER_CLOSED.
    let mut buf = [0u8; 64];
    assert_eq!(a.try_read(&mut buf), Ok(10));
    assert_eq!(&buf[..10], b"last words");
    assert_eq!(a.try_read(&mut buf), Err(Status::PEER_CLOSED));
    // The child cannot write any more; this end still can, and it reads.
    assert_eq!(kid.write(S1, b"more"), Err(Status::BAD_STATE));
    assert_eq!(kid.half_close(S1), Ok(()), "half-close is idempotent");
    assert_eq!(a.try_write(b"reply"), Ok(5));
    assert!(kid.wait(S1, Signals::READABLE, LONG).is_ok());
    assert_eq!(kid.read(S1, 64), Ok(b"reply".to_vec()));
}

#[test]
fn socket_half_close_in_the_parent_reaches_the_child_after_the_data() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    let data = pattern_bytes(0, 100_000);
    assert_eq!(a.try_write(&data), Ok(100_000));
    a.half_close().unwrap();
    assert_eq!(a.try_write(b"x"), Err(Status::BAD_STATE));
    let reply = kid.op(Op::Drain, &[u64::from(S1), 0, 10_000]).ok();
    assert_eq!(
        reply.args,
        vec![100_000, 0],
        "every byte, in order, then PEER_CLOSED"
    );
    let theirs = kid.signals(S1);
    assert!(
        theirs.contains(Signals::PEER_CLOSED | Signals::WRITABLE),
        "{theirs:?}"
    );
    assert_eq!(kid.write(S1, b"still open"), Ok(10));
    assert!(wait_for(&a, Signals::READABLE).contains(Signals::READABLE));
}

// ---------------------------------------------------------------------
// SPEC 3 and 4: every socket signal.

#[test]
fn socket_signals_readable_and_writable_follow_the_child() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    assert_eq!(now(&a), Signals::WRITABLE | Signals::LAST_HANDLE);
    assert_eq!(kid.signals(S1), Signals::WRITABLE | Signals::LAST_HANDLE);
    kid.write(S1, b"abc").unwrap();
    assert!(wait_for(&a, Signals::READABLE).contains(Signals::READABLE));
    assert_eq!(
        now(&a),
        Signals::READABLE | Signals::WRITABLE | Signals::LAST_HANDLE
    );
    a.try_read(&mut [0u8; 3]).unwrap();
    assert_eq!(now(&a), Signals::WRITABLE | Signals::LAST_HANDLE);
    a.try_write(b"de").unwrap();
    assert_eq!(
        kid.signals(S1),
        Signals::READABLE | Signals::WRITABLE | Signals::LAST_HANDLE
    );
}

#[test]
fn socket_signals_peer_closed_when_the_child_closes_its_end() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    kid.write(S1, b"queued").unwrap();
    kid.close(S1);
    let seen = wait_for(&a, Signals::PEER_CLOSED);
    assert!(seen.contains(Signals::PEER_CLOSED));
    assert_eq!(
        now(&a),
        Signals::READABLE | Signals::PEER_CLOSED | Signals::LAST_HANDLE,
        "WRITABLE is gone"
    );
    assert_eq!(a.try_write(b"x"), Err(Status::PEER_CLOSED));
    let mut buf = [0u8; 16];
    assert_eq!(
        a.try_read(&mut buf),
        Ok(6),
        "what was queued stays readable"
    );
    assert_eq!(a.try_read(&mut buf), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_last_handle_counts_the_handles_of_every_process() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let b2 = b.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
    assert!(!now(&b).contains(Signals::LAST_HANDLE));
    let kid = Agent::spawn(Some(b2.into_handle()));
    // One handle here, one there: neither sees LAST_HANDLE.
    assert!(!now(&b).contains(Signals::LAST_HANDLE));
    assert!(!kid.signals(S1).contains(Signals::LAST_HANDLE));
    // The other end's own count is one: LAST_HANDLE.
    assert!(now(&a).contains(Signals::LAST_HANDLE));
    // The child duplicates its handle and closes the original: still two.
    let dup = kid
        .op(Op::Dup, &[u64::from(S1), Rights::SAME_RIGHTS.bits().into()])
        .ok()
        .slots[0];
    kid.close(S1);
    assert!(!kid.signals(dup).contains(Signals::LAST_HANDLE));
    assert!(!now(&b).contains(Signals::LAST_HANDLE));
    // The child's last one goes: this process's handle is the last.
    kid.close(dup);
    assert!(wait_for(&b, Signals::LAST_HANDLE).contains(Signals::LAST_HANDLE));
    // And the other way: this process's handle goes, the child's is last.
    let b_back = kid.give(b.duplicate_handle(Rights::SAME_RIGHTS).unwrap());
    assert!(!kid.signals(b_back).contains(Signals::LAST_HANDLE));
    drop(b);
    assert!(kid
        .wait(b_back, Signals::LAST_HANDLE, LONG)
        .unwrap()
        .contains(Signals::LAST_HANDLE));
    assert!(now(&a).contains(Signals::LAST_HANDLE));
    assert!(
        !now(&a).contains(Signals::PEER_CLOSED),
        "the end lives in the child"
    );
    // Taken back in a reply: the only handle again, here.
    let b = Socket::from(kid.take(b_back));
    assert!(now(&b).contains(Signals::LAST_HANDLE));
    a.try_write(b"home").unwrap();
    assert_eq!(b.try_read(&mut [0u8; 8]), Ok(4));
}

#[test]
fn socket_user_signals_cross_with_signal_peer() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    a.signal_peer(Signals::NONE, Signals::USER_1 | Signals::USER_2)
        .unwrap();
    let seen = kid.wait(S1, Signals::USER_1, LONG).unwrap();
    assert!(seen.contains(Signals::USER_1 | Signals::USER_2));
    a.signal_peer(Signals::USER_1, Signals::USER_4).unwrap();
    assert!(kid.wait(S1, Signals::USER_4, LONG).is_ok());
    let theirs = kid.signals(S1);
    assert!(
        !theirs.contains(Signals::USER_1) && theirs.contains(Signals::USER_2 | Signals::USER_4)
    );
    // From the child to this end.
    kid.op(
        Op::SignalPeer,
        &[u64::from(S1), 0, Signals::USER_7.bits().into()],
    )
    .ok();
    assert!(wait_for(&a, Signals::USER_7).contains(Signals::USER_7));
    // object_signal on its own end does not reach the peer.
    kid.op(
        Op::Signal,
        &[u64::from(S1), 0, Signals::USER_0.bits().into()],
    )
    .ok();
    assert!(kid.signals(S1).contains(Signals::USER_0));
    assert!(!now(&a).contains(Signals::USER_0));
    // Only user signals.
    let reply = kid.op(
        Op::SignalPeer,
        &[u64::from(S1), 0, Signals::READABLE.bits().into()],
    );
    assert_eq!(reply.status, Status::INVALID_ARGS);
}

#[test]
fn channel_user_signals_cross_with_signal_peer() {
    let (a, kid) = channel_with_agent();
    a.signal_peer(Signals::NONE, Signals::USER_3).unwrap();
    assert!(kid.wait(S1, Signals::USER_3, LONG).is_ok());
    kid.op(
        Op::SignalPeer,
        &[u64::from(S1), 0, Signals::USER_5.bits().into()],
    )
    .ok();
    assert!(wait_for(&a, Signals::USER_5).contains(Signals::USER_5));
    kid.op(
        Op::SignalPeer,
        &[
            u64::from(S1),
            Signals::USER_5.bits().into(),
            Signals::USER_6.bits().into(),
        ],
    )
    .ok();
    wait_for(&a, Signals::USER_6);
    assert!(!now(&a).contains(Signals::USER_5), "clear, then set");
}

#[test]
fn signal_peer_after_the_child_exits_is_peer_closed() {
    let (s, kid) = socket_with_agent(SocketOpts::Stream);
    let (c, c_theirs) = Channel::create().unwrap();
    kid.give(c_theirs);
    let mut kid = kid;
    kid.op(Op::Exit, &[0]).ok();
    assert!(kid.wait_exit().success());
    wait_for(&s, Signals::PEER_CLOSED);
    wait_for(&c, Signals::PEER_CLOSED);
    assert_eq!(
        s.signal_peer(Signals::NONE, Signals::USER_0),
        Err(Status::PEER_CLOSED)
    );
    assert_eq!(
        c.signal_peer(Signals::NONE, Signals::USER_0),
        Err(Status::PEER_CLOSED)
    );
}

// ---------------------------------------------------------------------
// SPEC 6 and 7: waiting wakes on the child's writes.

#[test]
fn object_wait_one_wakes_on_a_write_by_the_child() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    kid.later(
        Duration::from_millis(50),
        Op::Write,
        &[u64::from(S1)],
        b"wake",
    );
    assert!(!now(&a).contains(Signals::READABLE));
    let seen = a.wait_handle(Signals::READABLE, LONG).unwrap();
    assert!(seen.contains(Signals::READABLE));
    assert_eq!(a.outstanding_read_bytes(), Ok(4));
    // And a channel message.
    let (c, kid) = channel_with_agent();
    let begin = Instant::now();
    let hello = [1u8, 2, 3];
    let inner = Msg {
        code: Op::ChanWrite as u32,
        args: vec![u64::from(S1)],
        slots: vec![],
        bytes: hello.to_vec(),
    };
    kid.request(Op::Later, &[50], &[], &inner.encode(0), Vec::new())
        .ok();
    assert!(c
        .wait_handle(Signals::READABLE, LONG)
        .unwrap()
        .contains(Signals::READABLE));
    assert!(
        begin.elapsed() >= Duration::from_millis(40),
        "it waited for the write"
    );
    assert_eq!(recv(&c).bytes(), hello);
}

#[test]
fn object_wait_many_wakes_on_a_write_by_the_child() {
    let (s, kid) = socket_with_agent(SocketOpts::Stream);
    let (c, c_theirs) = Channel::create().unwrap();
    let c_slot = kid.give(c_theirs);
    let event = Event::create().unwrap();
    let inner = Msg {
        code: Op::ChanWrite as u32,
        args: vec![u64::from(c_slot)],
        slots: vec![],
        bytes: b"ding".to_vec(),
    };
    kid.request(Op::Later, &[50], &[], &inner.encode(0), Vec::new())
        .ok();
    let mut items = [
        WaitItem {
            handle: s.as_handle_ref(),
            waitfor: Signals::READABLE,
            pending: Signals::NONE,
        },
        WaitItem {
            handle: event.as_handle_ref(),
            waitfor: Signals::EVENT_SIGNALED,
            pending: Signals::NONE,
        },
        WaitItem {
            handle: c.as_handle_ref(),
            waitfor: Signals::READABLE,
            pending: Signals::NONE,
        },
    ];
    object_wait_many(&mut items, LONG).unwrap();
    assert!(items[2].pending.contains(Signals::READABLE));
    assert!(!items[0].pending.contains(Signals::READABLE));
    assert!(!items[1].pending.contains(Signals::EVENT_SIGNALED));
    // Now the socket.
    kid.later(
        Duration::from_millis(30),
        Op::Write,
        &[u64::from(S1)],
        b"dong",
    );
    items[2].waitfor = Signals::PEER_CLOSED;
    object_wait_many(&mut items, LONG).unwrap();
    assert!(items[0].pending.contains(Signals::READABLE));
}

#[test]
fn port_wait_async_once_fires_for_a_write_by_the_child() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    let port = Port::create().unwrap();
    a.wait_async_handle(&port, 7, Signals::READABLE, WaitAsyncOpts::Once)
        .unwrap();
    assert_eq!(port.wait(Time::ZERO).map(|_| ()), Err(Status::TIMED_OUT));
    kid.later(
        Duration::from_millis(20),
        Op::Write,
        &[u64::from(S1)],
        b"hi",
    );
    let packet = port.wait(LONG).unwrap();
    assert_eq!(packet.key(), 7);
    let PacketContents::SignalOne(signal) = packet.contents() else {
        panic!("{packet:?}")
    };
    assert_eq!(signal.trigger, Signals::READABLE);
    assert!(signal.observed.contains(Signals::READABLE));
    assert_eq!(signal.count, 1);
    // Once: no second packet.
    kid.write(S1, b"again").unwrap();
    assert_eq!(
        port.wait(Duration::from_millis(50)).map(|_| ()),
        Err(Status::TIMED_OUT)
    );
}

#[test]
fn port_wait_async_repeating_fires_again_for_each_write_by_the_child() {
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    let port = Port::create().unwrap();
    a.wait_async_handle(&port, 9, Signals::READABLE, WaitAsyncOpts::Repeating)
        .unwrap();
    let mut buf = [0u8; 64];
    for round in 0..5u8 {
        kid.later(
            Duration::from_millis(10),
            Op::Write,
            &[u64::from(S1)],
            &[round],
        );
        let packet = port.wait(LONG).unwrap();
        assert_eq!(packet.key(), 9);
        let PacketContents::SignalRep(signal) = packet.contents() else {
            panic!("{packet:?}")
        };
        assert!(signal.observed.contains(Signals::READABLE), "round {round}");
        assert_eq!(signal.count, 1);
        assert_eq!(a.try_read(&mut buf), Ok(1));
        assert_eq!(buf[0], round);
    }
    // The peer's death is a change too: one more packet, PEER_CLOSED seen.
    let mut kid = kid;
    kid.write(S1, b"x").unwrap();
    kid.kill();
    let deadline = Instant::now() + LONG;
    loop {
        let packet = port.wait(deadline).expect("a packet for PEER_CLOSED");
        let PacketContents::SignalRep(signal) = packet.contents() else {
            panic!("{packet:?}")
        };
        if signal.observed.contains(Signals::PEER_CLOSED) {
            break;
        }
    }
}

#[test]
fn port_wait_async_on_a_channel_counts_the_messages_the_child_queued() {
    let (a, kid) = channel_with_agent();
    for i in 0..5u8 {
        kid.chan_write(S1, &[i], &[]).unwrap();
    }
    kid.close(S1);
    wait_for(&a, Signals::PEER_CLOSED);
    let port = Port::create().unwrap();
    a.wait_async_handle(
        &port,
        1,
        Signals::READABLE | Signals::PEER_CLOSED,
        WaitAsyncOpts::Once,
    )
    .unwrap();
    let packet = port.wait(LONG).unwrap();
    let PacketContents::SignalOne(signal) = packet.contents() else {
        panic!("{packet:?}")
    };
    assert_eq!(signal.trigger, Signals::READABLE | Signals::PEER_CLOSED);
    assert_eq!(
        signal.observed,
        Signals::READABLE | Signals::PEER_CLOSED | Signals::LAST_HANDLE
    );
    assert_eq!(signal.count, 5);
}

fn tokio_wakes_on_writes_by_the_child(runtime: tokio::runtime::Runtime) {
    use tokio::io::AsyncReadExt;
    let (a, kid) = socket_with_agent(SocketOpts::Stream);
    let (c, c_theirs) = Channel::create().unwrap();
    let c_slot = kid.give(c_theirs);
    runtime.block_on(async {
        let mut a = mx_tokio::AsyncSocket::new(a);
        kid.later(
            Duration::from_millis(30),
            Op::Write,
            &[u64::from(S1)],
            b"async",
        );
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(LONG, a.read(&mut buf))
            .await
            .expect("woken in time")
            .unwrap();
        assert_eq!(&buf[..n], b"async");

        let c = mx_tokio::AsyncChannel::new(c);
        let inner = Msg {
            code: Op::ChanWrite as u32,
            args: vec![u64::from(c_slot)],
            slots: vec![],
            bytes: b"message".to_vec(),
        };
        kid.request(Op::Later, &[30], &[], &inner.encode(0), Vec::new())
            .ok();
        let mut msg = MessageBuf::new();
        tokio::time::timeout(LONG, c.recv_msg(&mut msg))
            .await
            .expect("woken in time")
            .unwrap();
        assert_eq!(msg.bytes(), b"message");

        // End of file when the child closes its end.
        kid.later(Duration::from_millis(30), Op::Close, &[u64::from(S1)], b"");
        let n = tokio::time::timeout(LONG, a.read(&mut buf))
            .await
            .expect("woken in time")
            .unwrap();
        assert_eq!(n, 0);
    });
}

#[test]
fn tokio_current_thread_wakes_on_writes_by_the_child() {
    tokio_wakes_on_writes_by_the_child(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    );
}

#[test]
fn tokio_multi_thread_wakes_on_writes_by_the_child() {
    tokio_wakes_on_writes_by_the_child(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    );
}

// ---------------------------------------------------------------------
// SPEC 10 across processes: messages, handles, calls.

#[test]
fn channel_messages_carry_handles_both_ways() {
    let (c, kid) = channel_with_agent();
    // To the child: a socket end and a channel end, with their peers here.
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    let (k0, k1) = Channel::create().unwrap();
    let (s1_koid, k1_koid) = (s1.koid().unwrap(), k1.koid().unwrap());
    s0.try_write(b"before").unwrap();
    k0.write(b"queued", &mut Vec::new()).unwrap();
    let mut handles = vec![s1.into_handle(), k1.into_handle()];
    c.write(b"take these", &mut handles).unwrap();
    assert!(handles.is_empty());
    let (bytes, got) = kid.chan_recv(S1).unwrap();
    assert_eq!(bytes, b"take these");
    let [s1, k1] = got[..] else { panic!("{got:?}") };
    // They are the same objects, with the same rights.
    let (koid, related, rights, kind) = kid.info(s1);
    assert_eq!(
        (koid, related, rights, kind),
        (
            s1_koid,
            s0.koid().unwrap(),
            Rights::SOCKET_DEFAULT,
            ObjectType::SOCKET
        )
    );
    let (koid, related, rights, kind) = kid.info(k1);
    assert_eq!(
        (koid, related, rights, kind),
        (
            k1_koid,
            k0.koid().unwrap(),
            Rights::CHANNEL_DEFAULT,
            ObjectType::CHANNEL
        )
    );
    assert_eq!(kid.read(s1, 64), Ok(b"before".to_vec()));
    assert_eq!(kid.chan_recv(k1).unwrap().0, b"queued");
    kid.write(s1, b"from the child").unwrap();
    kid.chan_write(k1, b"from the child", &[]).unwrap();
    wait_for(&s0, Signals::READABLE);
    let mut buf = [0u8; 64];
    assert_eq!(s0.try_read(&mut buf), Ok(14));
    assert_eq!(recv(&k0).bytes(), b"from the child");

    // Back: the child sends them, and objects it made itself.
    let made = kid.op(Op::CreateSocket, &[0]).ok().slots;
    let made_chan = kid.op(Op::CreateChannel, &[]).ok().slots;
    kid.write(made[0], b"made there").unwrap();
    kid.chan_write(S1, b"back", &[s1, k1, made[1], made_chan[1]])
        .unwrap();
    let mut msg = recv(&c);
    assert_eq!(msg.bytes(), b"back");
    assert_eq!(msg.n_handles(), 4);
    let s1 = Socket::from(msg.take_handle(0).unwrap());
    let k1 = Channel::from(msg.take_handle(1).unwrap());
    let m1 = Socket::from(msg.take_handle(2).unwrap());
    let mk1 = Channel::from(msg.take_handle(3).unwrap());
    assert_eq!(s1.koid(), Ok(s1_koid));
    assert_eq!(k1.koid(), Ok(k1_koid));
    // Both ends of the first pair are here again.
    s0.try_write(b"home").unwrap();
    assert_eq!(s1.try_read(&mut buf), Ok(4));
    k0.write(b"home", &mut Vec::new()).unwrap();
    assert_eq!(recv(&k1).bytes(), b"home");
    // The child's objects work with their peers over there.
    assert_eq!(m1.try_read(&mut buf), Ok(10));
    assert_eq!(&buf[..10], b"made there");
    mk1.write(b"to the child", &mut Vec::new()).unwrap();
    assert_eq!(kid.chan_recv(made_chan[0]).unwrap().0, b"to the child");
    assert_eq!(m1.try_write(b"to the child"), Ok(12));
    assert!(kid.wait(made[0], Signals::READABLE, LONG).is_ok());
}

#[test]
fn channel_messages_keep_their_order_and_rights_across_processes() {
    let (c, kid) = channel_with_agent();
    let (s0, s1) = Socket::create(SocketOpts::Datagram).unwrap();
    let s1 = s1
        .replace_handle(Rights::READ | Rights::WRITE | Rights::TRANSFER)
        .unwrap();
    let mut handles = vec![s1.into_handle()];
    c.write(b"", &mut handles).unwrap();
    for i in 0..100u32 {
        c.write(&i.to_le_bytes(), &mut Vec::new()).unwrap();
    }
    let (bytes, got) = kid.chan_recv(S1).unwrap();
    assert!(bytes.is_empty(), "an empty message with a handle");
    let (_, _, rights, _) = kid.info(got[0]);
    assert_eq!(rights, Rights::READ | Rights::WRITE | Rights::TRANSFER);
    let dup = kid.op(
        Op::Dup,
        &[u64::from(got[0]), Rights::SAME_RIGHTS.bits().into()],
    );
    assert_eq!(dup.status, Status::ACCESS_DENIED, "no DUPLICATE right");
    assert_eq!(kid.write(got[0], b"dgram"), Ok(5));
    assert_eq!(s0.try_read(&mut [0u8; 8]), Ok(5));
    for i in 0..100u32 {
        let (bytes, _) = kid.chan_recv(S1).unwrap();
        assert_eq!(bytes, i.to_le_bytes());
    }
    // An empty message (no bytes, no handles) is a message.
    c.write(b"", &mut Vec::new()).unwrap();
    assert_eq!(kid.chan_recv(S1), Ok((vec![], vec![])));
}

#[test]
fn channel_call_across_processes_matches_replies_by_txid() {
    let (c, kid) = channel_with_agent();
    // The child reads four calls, then answers them in reverse order.
    kid.later(Duration::ZERO, Op::Serve, &[u64::from(S1), 4, 1], b"");
    let c = &c;
    std::thread::scope(|scope| {
        let callers: Vec<_> = (0..4u32)
            .map(|i| {
                scope.spawn(move || {
                    let mut request = (0x100 + i).to_le_bytes().to_vec();
                    request.extend_from_slice(format!("call {i}").as_bytes());
                    let mut reply = MessageBuf::with_max_capacity().unwrap();
                    c.call(LONG, &request, &mut Vec::new(), &mut reply).unwrap();
                    assert_eq!(&reply.bytes()[..4], &(0x100 + i).to_le_bytes());
                    assert_eq!(&reply.bytes()[4..], format!("re:call {i}").as_bytes());
                })
            })
            .collect();
        for caller in callers {
            caller.join().unwrap();
        }
    });
    assert!(
        !now(c).contains(Signals::READABLE),
        "replies went to their callers"
    );

    // The child calls this process.
    let server = std::thread::spawn({
        let c = c.duplicate_handle(Rights::SAME_RIGHTS);
        assert_eq!(
            c.map(|_| ()),
            Err(Status::ACCESS_DENIED),
            "channels do not duplicate"
        );
        move || ()
    });
    server.join().unwrap();
    let mut request = 77u32.to_le_bytes().to_vec();
    request.extend_from_slice(b"ping");
    let txid_reply = {
        let mut r = 77u32.to_le_bytes().to_vec();
        r.extend_from_slice(b"pong");
        r
    };
    // A message with another txid first: it is queued, not taken as the reply.
    let mut other = 78u32.to_le_bytes().to_vec();
    other.extend_from_slice(b"not yours");
    std::thread::scope(|scope| {
        let call = scope.spawn(|| {
            kid.request(
                Op::ChanCall,
                &[u64::from(S1), 10_000],
                &[],
                &request,
                Vec::new(),
            )
        });
        let msg = recv(c);
        assert_eq!(msg.bytes(), &request[..]);
        c.write(&other, &mut Vec::new()).unwrap();
        c.write(&txid_reply, &mut Vec::new()).unwrap();
        let reply = call.join().unwrap().ok();
        assert_eq!(reply.bytes, txid_reply);
    });
    assert_eq!(kid.chan_recv(S1).unwrap().0, other);
}

#[test]
fn channel_call_fails_when_the_child_dies_while_waiting() {
    let (c, mut kid) = channel_with_agent();
    std::thread::scope(|scope| {
        let call = scope.spawn(|| {
            let mut reply = MessageBuf::with_max_capacity().unwrap();
            c.call(LONG, &[1, 0, 0, 0], &mut Vec::new(), &mut reply)
        });
        // Wait for the request to be in the child's queue, then kill it.
        assert!(kid.wait(S1, Signals::READABLE, LONG).is_ok());
        kid.kill();
        let error = call.join().unwrap().unwrap_err();
        assert_eq!(error.status, Status::CALL_FAILED);
        assert_eq!(error.read_status, Some(Status::PEER_CLOSED));
    });
}

#[test]
fn channel_end_sent_on_to_a_second_child_keeps_the_messages_queued_before_and_during_the_move() {
    // c0 stays here; c1 goes to child A, then from A to child B.
    let (c0, c1) = Channel::create().unwrap();
    let (ab0, ab1) = Channel::create().unwrap();
    let a = Agent::spawn(Some(ab0.into_handle()));
    let b = Agent::spawn(Some(ab1.into_handle()));
    let mut sent = 0u32;
    let mut send = |n: u32| {
        for _ in 0..n {
            c0.write(&sent.to_le_bytes(), &mut Vec::new()).unwrap();
            sent += 1;
        }
    };
    send(10); // queued at c1 before it moves
    let c1_koid = c1.koid().unwrap();
    let in_a = a.give(c1);
    send(10); // queued while it is in A
    std::thread::scope(|scope| {
        let during = scope.spawn(|| {
            let mut n = 0u32;
            for i in 20..2020u32 {
                c0.write(&i.to_le_bytes(), &mut Vec::new()).unwrap();
                n += 1;
            }
            n
        });
        a.chan_write(S1, b"here is c1", &[in_a]).unwrap();
        let (bytes, got) = b.chan_recv(S1).unwrap();
        assert_eq!(bytes, b"here is c1");
        assert_eq!(during.join().unwrap(), 2000);
        let in_b = got[0];
        assert_eq!(b.info(in_b).0, c1_koid);
        for i in 0..2020u32 {
            let (bytes, handles) = b.chan_recv(in_b).unwrap();
            assert_eq!(bytes, i.to_le_bytes(), "message {i}");
            assert!(handles.is_empty());
        }
        // And it still talks to c0.
        b.chan_write(in_b, b"hello from B", &[]).unwrap();
    });
    assert_eq!(recv(&c0).bytes(), b"hello from B");
    drop(b);
    wait_for(&c0, Signals::PEER_CLOSED);
}

#[test]
fn channel_write_of_handles_that_cannot_cross_is_not_supported_and_moves_nothing() {
    let (c, kid) = channel_with_agent();
    let event = Event::create().unwrap();
    let (ep0, _ep1) = EventPair::create().unwrap();
    let port = Port::create().unwrap();
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    let (event_info, s1_info) = (event.basic_info().unwrap(), s1.basic_info().unwrap());
    for (name, handle) in [
        ("event", event.into_handle()),
        ("eventpair", ep0.into_handle()),
        ("port", port.into_handle()),
    ] {
        let raw = handle.raw_handle();
        let info = handle.basic_info().unwrap();
        let mut handles = vec![handle];
        assert_eq!(
            c.write(name.as_bytes(), &mut handles),
            Err(Status::NOT_SUPPORTED),
            "{name}"
        );
        assert_eq!(handles.len(), 1);
        assert_eq!(handles[0].raw_handle(), raw, "{name}: the same value");
        assert_eq!(
            handles[0].basic_info(),
            Ok(info),
            "{name}: the same object and rights"
        );
        // A socket end with it does not go either, and stays usable.
        let mut handles = vec![
            s1.duplicate_handle(Rights::SAME_RIGHTS)
                .unwrap()
                .into_handle(),
            handles.pop().unwrap(),
        ];
        assert_eq!(
            c.write(b"mixed", &mut handles),
            Err(Status::NOT_SUPPORTED),
            "{name}"
        );
        assert_eq!(handles.len(), 2);
    }
    assert!(!kid.signals(S1).contains(Signals::READABLE));
    let (bytes, _) = {
        c.write(b"marker", &mut Vec::new()).unwrap();
        kid.chan_recv(S1).unwrap()
    };
    assert_eq!(bytes, b"marker", "nothing of the failed writes arrived");
    // The socket is whole: it works here, and then it can cross.
    assert_eq!(s1.basic_info(), Ok(s1_info));
    s0.try_write(b"local").unwrap();
    assert_eq!(s1.try_read(&mut [0u8; 8]), Ok(5));
    let mut handles = vec![s1.into_handle()];
    c.write(b"now alone", &mut handles).unwrap();
    let (_, got) = kid.chan_recv(S1).unwrap();
    s0.try_write(b"there").unwrap();
    assert!(kid.wait(got[0], Signals::READABLE, LONG).is_ok());
    assert_eq!(kid.read(got[0], 8), Ok(b"there".to_vec()));
    let _ = event_info;

    // From the child: its event stays with it.
    let e = kid.op(Op::CreateEvent, &[]).ok().slots[0];
    assert_eq!(
        kid.chan_write(S1, b"event", &[e]),
        Err(Status::NOT_SUPPORTED)
    );
    assert_eq!(kid.info(e).3, ObjectType::EVENT);

    // Nor as startup handles.
    let error = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_role"])
        .spawn_with_handles(vec![(SUBJECT, Event::create().unwrap())])
        .unwrap_err();
    assert_eq!(error.status, Status::NOT_SUPPORTED);
    assert!(error.handles[0].1.basic_info().is_ok());
}

// ---------------------------------------------------------------------
// SPEC 11: exit and death.

#[test]
fn peer_closed_when_the_child_exits_normally_with_its_data_readable() {
    let (s, mut kid) = socket_with_agent(SocketOpts::Stream);
    let (c, c_theirs) = Channel::create().unwrap();
    let c_slot = kid.give(c_theirs);
    kid.write(S1, b"written before exit").unwrap();
    kid.chan_write(c_slot, b"sent before exit", &[]).unwrap();
    kid.op(Op::Exit, &[0]).ok();
    let exit = kid.wait_exit();
    assert!(exit.success(), "{exit:?}");
    let at = Instant::now();
    wait_for(&s, Signals::PEER_CLOSED);
    wait_for(&c, Signals::PEER_CLOSED);
    assert!(
        at.elapsed() < Duration::from_millis(100),
        "{:?} after the exit was seen",
        at.elapsed()
    );
    let mut buf = [0u8; 64];
    assert_eq!(s.try_read(&mut buf), Ok(19));
    assert_eq!(s.try_read(&mut buf), Err(Status::PEER_CLOSED));
    assert_eq!(recv(&c).bytes(), b"sent before exit");
    let mut msg = MessageBuf::new();
    assert_eq!(c.try_read(&mut msg), Err(Status::PEER_CLOSED));
}

#[test]
fn peer_closed_when_the_child_exits_without_taking_its_startup_handles() {
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    let mut kid = Agent::spawn_role("exit_at_once", Some(s1.into_handle()));
    assert!(kid.wait_exit().success());
    // The handles died with the process that was to take them.
    wait_for(&kid.control, Signals::PEER_CLOSED);
    wait_for(&s0, Signals::PEER_CLOSED);
}

#[test]
fn peer_closed_when_a_stopped_child_is_killed_before_it_read_a_socket_end() {
    // The child never reads the message: the handle dies with the child,
    // so the end it names closes (SPEC 10: a destroyed message closes its
    // handles; SPEC 11: a process's death closes its handles).
    let (c, mut kid) = channel_with_agent();
    let pid = rustix::process::Pid::from_raw(kid.pid() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    let mut handles = vec![s1.into_handle()];
    c.write(b"never read", &mut handles).unwrap();
    drop(c);
    kid.kill();
    kid.wait_exit();
    let seen = wait_for(&s0, Signals::PEER_CLOSED);
    assert!(seen.contains(Signals::PEER_CLOSED));
}

#[test]
fn peer_closed_in_a_third_process_when_a_socket_end_dies_unread() {
    // Child Q holds end A; this process sends end B, its last handle to
    // the pair, to child R, which dies before reading it. Q's A closes.
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let q = Agent::spawn(Some(a.into_handle()));
    let (c, mut r) = channel_with_agent();
    let pid = rustix::process::Pid::from_raw(r.pid() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    c.write(b"never read", &mut vec![b.into_handle()]).unwrap();
    drop(c);
    r.kill();
    r.wait_exit();
    let seen = q.wait(S1, Signals::PEER_CLOSED, LONG);
    assert!(
        seen.is_ok_and(|s| s.contains(Signals::PEER_CLOSED)),
        "{seen:?}"
    );
}

#[test]
fn a_message_written_before_the_close_reaches_a_slow_child_with_its_socket_end() {
    // SPEC 10: closing an end leaves what it wrote readable at the peer.
    // The child is stopped while the message is written and the end closed,
    // so the message (and its socket end) waits unread in its queue.
    let (c, kid) = channel_with_agent();
    let pid = rustix::process::Pid::from_raw(kid.pid() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::STOP).unwrap();
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    c.write(b"late", &mut vec![s1.into_handle()]).unwrap();
    drop(c);
    rustix::process::kill_process(pid, rustix::process::Signal::CONT).unwrap();
    let (bytes, got) = kid.chan_recv(S1).unwrap();
    assert_eq!(bytes, b"late");
    assert_eq!(kid.chan_recv(S1), Err(Status::PEER_CLOSED));
    // The end arrived whole: it works, and closing the channel over there
    // does not close it.
    kid.write(got[0], b"alive").unwrap();
    kid.close(S1);
    wait_for(&s0, Signals::READABLE);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!now(&s0).contains(Signals::PEER_CLOSED), "{:?}", now(&s0));
    assert_eq!(s0.try_read(&mut [0u8; 8]), Ok(5));
    kid.close(got[0]);
    wait_for(&s0, Signals::PEER_CLOSED);
}

#[test]
fn socket_last_handle_is_asserted_as_soon_as_a_sent_end_arrives() {
    // SPEC 10: a write moves its handles in the same step as the enqueue;
    // so a received end that is the only handle to its object shows
    // LAST_HANDLE when it is read, in either direction.
    let (c, kid) = channel_with_agent();
    const N: u64 = 300;
    kid.later(Duration::ZERO, Op::SendFresh, &[u64::from(S1), N], b"");
    let mut lacking = 0;
    for _ in 0..N {
        let mut msg = recv(&c);
        let end = msg.take_handle(0).unwrap();
        if !now(&end).contains(Signals::LAST_HANDLE) {
            lacking += 1;
        }
    }
    assert_eq!(
        lacking, 0,
        "ends from the child that arrived without LAST_HANDLE, of {N}"
    );
    std::thread::scope(|scope| {
        let check = scope.spawn(|| kid.op(Op::CheckArrivals, &[u64::from(S1), N]));
        for _ in 0..N {
            let (_a, b) = Socket::create(SocketOpts::Stream).unwrap();
            c.write(b"fresh", &mut vec![b.into_handle()]).unwrap();
        }
        let lacking = check.join().unwrap().ok().arg(0);
        assert_eq!(
            lacking, 0,
            "ends from the parent that arrived without LAST_HANDLE, of {N}"
        );
    });
}

#[test]
fn peer_closed_within_100ms_when_the_child_is_killed_mid_stream() {
    let mut rng = Rng::new();
    let mut latencies = Vec::new();
    for round in 0..20 {
        let (a, mut kid) = socket_with_agent(SocketOpts::Stream);
        let (c, c_theirs) = Channel::create().unwrap();
        kid.give(c_theirs);
        kid.later(Duration::ZERO, Op::WriteForever, &[u64::from(S1)], b"");
        let reader = {
            let a = a.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 65536];
                let mut offset = 0u64;
                loop {
                    match a.try_read(&mut buf) {
                        Ok(n) => {
                            if let Some(at) = first_bad(offset, &buf[..n]) {
                                return Err(format!("byte {at} is corrupt"));
                            }
                            offset += n as u64;
                        }
                        Err(Status::SHOULD_WAIT) => {
                            if let Err(status) =
                                a.wait_handle(Signals::READABLE | Signals::PEER_CLOSED, LONG)
                            {
                                return Err(format!("reader: {status} after {offset} bytes"));
                            }
                        }
                        Err(Status::PEER_CLOSED) => return Ok(offset),
                        Err(status) => return Err(format!("read: {status}")),
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_micros(rng.below(30_000)));
        // The waiter is registered before the kill, so its wake-up is what
        // is measured.
        let (socket_woke, channel_woke, killed) = std::thread::scope(|scope| {
            let socket = scope.spawn(|| {
                a.wait_handle(Signals::PEER_CLOSED, LONG)
                    .map(|_| Instant::now())
            });
            let channel = scope.spawn(|| {
                c.wait_handle(Signals::PEER_CLOSED, LONG)
                    .map(|_| Instant::now())
            });
            std::thread::sleep(Duration::from_millis(2));
            let killed = kid.kill();
            (socket.join().unwrap(), channel.join().unwrap(), killed)
        });
        let socket = socket_woke.expect("PEER_CLOSED on the socket") - killed;
        let channel = channel_woke.expect("PEER_CLOSED on the channel") - killed;
        let total = reader
            .join()
            .unwrap()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        latencies.push((socket, channel, total));
        assert!(
            socket < Duration::from_millis(100) && channel < Duration::from_millis(100),
            "round {round}: PEER_CLOSED {socket:?} (socket), {channel:?} (channel) after the kill"
        );
    }
    eprintln!("kill to PEER_CLOSED (socket, channel, bytes read): {latencies:?}");
}

// ---------------------------------------------------------------------
// A chain of four processes.

#[test]
fn socket_and_channel_ends_travel_a_chain_of_four_processes_and_back() {
    // This process -> k1 -> k2 -> k3 -> this process, each child relaying
    // every message (bytes and handles) from its inbound channel to its
    // outbound one.
    let (out0, in1) = Channel::create().unwrap();
    let (out1, in2) = Channel::create().unwrap();
    let (out2, in3) = Channel::create().unwrap();
    let (out3, back) = Channel::create().unwrap();
    let kids = [(in1, out1), (in2, out2), (in3, out3)].map(|(inbound, outbound)| {
        let kid = Agent::spawn(Some(inbound.into_handle()));
        let to = kid.give(outbound);
        kid.later(
            Duration::ZERO,
            Op::Relay,
            &[u64::from(S1), u64::from(to)],
            b"",
        );
        kid
    });
    for round in 0..300u32 {
        let (s0, s1) = Socket::create(if round % 2 == 0 {
            SocketOpts::Stream
        } else {
            SocketOpts::Datagram
        })
        .unwrap();
        let (k0, k1) = Channel::create().unwrap();
        let (s1_koid, k1_koid) = (s1.koid().unwrap(), k1.koid().unwrap());
        s0.try_write(&round.to_le_bytes()).unwrap();
        k0.write(b"before", &mut Vec::new()).unwrap();
        let mut handles = vec![s1.into_handle(), k1.into_handle()];
        out0.write(&round.to_le_bytes(), &mut handles).unwrap();
        // Written while they travel.
        s0.try_write(b"during").unwrap();
        k0.write(b"during", &mut Vec::new()).unwrap();
        let mut msg = recv(&back);
        assert_eq!(msg.bytes(), round.to_le_bytes());
        let s1 = Socket::from(msg.take_handle(0).unwrap());
        let k1 = Channel::from(msg.take_handle(1).unwrap());
        assert_eq!(
            (s1.koid(), k1.koid()),
            (Ok(s1_koid), Ok(k1_koid)),
            "round {round}"
        );
        assert_eq!(
            now(&s1),
            Signals::READABLE | Signals::WRITABLE | Signals::LAST_HANDLE,
            "round {round}: the only handle to s1, as soon as it arrived"
        );
        assert!(now(&s0).contains(Signals::LAST_HANDLE));
        let mut buf = [0u8; 64];
        if round % 2 == 0 {
            assert_eq!(s1.try_read(&mut buf), Ok(10));
            assert_eq!(&buf[4..10], b"during");
            assert_eq!(&buf[..4], round.to_le_bytes());
        } else {
            assert_eq!(s1.try_read(&mut buf), Ok(4));
            assert_eq!(&buf[..4], round.to_le_bytes());
            assert_eq!(s1.try_read(&mut buf), Ok(6));
            assert_eq!(&buf[..6], b"during");
        }
        assert_eq!(recv(&k1).bytes(), b"before");
        assert_eq!(recv(&k1).bytes(), b"during");
        s1.try_write(b"back").unwrap();
        assert_eq!(s0.try_read(&mut buf), Ok(4));
        k1.write(b"back", &mut Vec::new()).unwrap();
        assert_eq!(recv(&k0).bytes(), b"back");
        drop((s1, k1));
        wait_for(&s0, Signals::PEER_CLOSED);
        wait_for(&k0, Signals::PEER_CLOSED);
    }
    drop(kids);
}

// ---------------------------------------------------------------------
// Starting processes with handles (mx::linux).

#[test]
fn channel_from_fd_connects_two_processes_that_share_a_seqpacket_socket() {
    // SPEC 11: each process makes a channel end of its end of the socket
    // pair; the two are peers. Here the child's end is its standard input.
    let (ours, theirs) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    let c = mx::linux::channel_from_fd(ours).unwrap();
    let mut child = Reaper(Some(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
            .env(ROLE, "channel_from_stdin")
            .stdin(std::process::Stdio::from(theirs))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    c.write(b"over the pair", &mut vec![s1.into_handle()])
        .unwrap();
    assert_eq!(recv(&c).bytes(), b"done");
    let mut buf = [0u8; 32];
    assert_eq!(s0.try_read(&mut buf), Ok(13));
    assert_eq!(&buf[..13], b"over the pair");
    drop(c);
    assert_eq!(child.wait().code(), Some(0));
    wait_for(&s0, Signals::PEER_CLOSED);
}

#[test]
fn startup_handles_are_taken_once_and_only_by_their_info() {
    let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
    let (k0, k1) = Channel::create().unwrap();
    let (d0, d1) = Socket::create(SocketOpts::Datagram).unwrap();
    let kid = Agent::spawn_handles(
        "agent",
        vec![
            (SUBJECT, s1.into_handle()),
            (user_handle_info(5), k1.into_handle()),
            (pa_hnd(PA_USER1, 0), d1.into_handle()),
        ],
    );
    let startup = |info: u32| kid.op(Op::Startup, &[u64::from(info)]).ok().slots;
    // The agent took SUBJECT as it started: asking again gives nothing.
    assert_eq!(startup(SUBJECT), vec![]);
    let k1 = startup(user_handle_info(5));
    assert_eq!(k1.len(), 1, "the channel end, under its own info");
    assert_eq!(kid.info(k1[0]).3, ObjectType::CHANNEL);
    assert_eq!(startup(user_handle_info(5)), vec![], "taken once");
    let d1 = startup(pa_hnd(PA_USER1, 0));
    assert_eq!(kid.info(d1[0]).3, ObjectType::SOCKET);
    assert_eq!(startup(user_handle_info(9)), vec![], "never passed");
    // Each is the end it was passed as.
    kid.write(S1, b"s").unwrap();
    assert_eq!(
        wait_for(&s0, Signals::READABLE) & Signals::READABLE,
        Signals::READABLE
    );
    kid.chan_write(k1[0], b"k", &[]).unwrap();
    assert_eq!(recv(&k0).bytes(), b"k");
    kid.write(d1[0], b"dgram").unwrap();
    wait_for(&d0, Signals::READABLE);
    assert_eq!(d0.try_read(&mut [0u8; 2]), Ok(2), "a datagram socket");
}

#[test]
fn spawn_with_handles_twice_from_one_command() {
    // A worker pool: one Command, spawned again and again.
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
        .env(ROLE, "agent")
        .stdout(std::process::Stdio::null());
    let mut kids = Vec::new();
    // Descriptors opened in between (markers: the test binary, read-only)
    // take the numbers earlier spawns used.
    let mut files = Vec::new();
    for i in 0..3u8 {
        let (control, theirs) = Channel::create().unwrap();
        let (s0, s1) = Socket::create(SocketOpts::Stream).unwrap();
        let child = command
            .spawn_with_handles(vec![
                (CONTROL, theirs.into_handle()),
                (SUBJECT, s1.into_handle()),
            ])
            .unwrap_or_else(|e| panic!("spawn {i}: {e}"));
        let kid = Agent {
            child: Some(child),
            control,
            txid: AtomicU32::new(1),
        };
        kid.write(S1, &[i]).unwrap();
        wait_for(&s0, Signals::READABLE);
        kids.push((kid, s0));
        files.push(std::fs::File::open(std::env::current_exe().unwrap()).unwrap());
    }
    // Another child with handles, from the same Command: it inherits
    // nothing of this process but its startup channel.
    let (_control, theirs) = Channel::create().unwrap();
    let mut child = Reaper(Some(
        command
            .env(ROLE, "report_startup")
            .spawn_with_handles(vec![(CONTROL, theirs.into_handle())])
            .unwrap(),
    ));
    assert_eq!(child.wait().code(), Some(2), "markers inherited?");
    // A plain spawn of the same Command: no handles, no descriptors, no
    // startup variable.
    let mut child = Reaper(Some(command.spawn().unwrap()));
    assert_eq!(child.wait().code(), Some(0), "see its report above");
    drop(files);
}

#[test]
fn a_grandchild_started_the_plain_way_takes_no_startup_handle_and_closes_nothing() {
    // The child inherits the startup variable; its own plain children
    // inherit it from it, without the descriptor it names. A descriptor
    // of theirs with that number is not the library's to take.
    let (_control, theirs) = Channel::create().unwrap();
    let mut child = Reaper(Some(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
            .env(ROLE, "spawn_plain_grandchild")
            .stdout(std::process::Stdio::null())
            .spawn_with_handles(vec![(CONTROL, theirs.into_handle())])
            .unwrap(),
    ));
    let status = child.wait();
    assert_eq!(
        status.code(),
        Some(0),
        "the grandchild's file was taken or closed"
    );
}

#[test]
fn socket_end_goes_to_one_short_lived_child_after_another() {
    // A supervisor hands a duplicate of one socket end to each worker it
    // starts; workers exit (or die) with it.
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let mut buf = [0u8; 8];
    for i in 0..24u8 {
        let mut kid = Agent::spawn(Some(
            b.duplicate_handle(Rights::SAME_RIGHTS)
                .unwrap()
                .into_handle(),
        ));
        kid.write(S1, &[i]).unwrap();
        wait_for(&a, Signals::READABLE);
        assert_eq!(a.try_read(&mut buf), Ok(1));
        assert_eq!(buf[0], i);
        if i % 2 == 0 {
            kid.op(Op::Exit, &[0]).ok();
            assert!(kid.wait_exit().success());
        } else {
            kid.kill();
            kid.wait_exit();
        }
        // Its handle is gone: b's own is the last again.
        wait_for(&b, Signals::LAST_HANDLE);
    }
}

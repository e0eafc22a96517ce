//! SPEC 10: channels. `mx_channel_create`, `mx_channel_write`,
//! `mx_channel_read`, `mx_channel_call`, closing an end, handles inside
//! messages, and waiting on channel ends (wait_one, wait_many, ports).
//!
//! A NULL buffer is a C notion. Here a buffer that cannot be touched is a
//! [`Faulting`] source or sink (it fails with `INVALID_ARGS`, as a NULL or
//! unmapped pointer does), and one that must not even be looked at, because
//! an earlier check decides, is [`Untouchable`] (it panics).
//!
//! Every failing write or call checks that each listed handle is still in
//! the table with its object and rights ([`assert_kept`]) and that nothing
//! reached the peer. Where another thread must act while a call or a wait
//! is registered, it first sees the effect of the registration (the request
//! at the peer) or sleeps [`SETTLE_MS`]; every blocking step has a deadline
//! of seconds, so a bug fails a test instead of hanging the suite.

use std::collections::HashSet;
use std::thread;
use std::time::Duration;

use mx::core::abi::{
    PortPacket, PKT_TYPE_SIGNAL_ONE, PKT_TYPE_SIGNAL_REP, WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING,
};
use mx::core::channel::{MAX_MSG_BYTES, MAX_MSG_HANDLES, READ_MAY_DISCARD};
use mx::core::storage::{HandleSink, HandleSource};
use mx::storage::{Sink, Source};
use mx::sys::{self, CallError, ErrorWith};
use mx::{Koid, ObjectType, RawHandle, Rights, Signals, Status, Time, WaitItem, HANDLE_INVALID};

use crate::{
    after_ms, close, dup, elapsed_ms, event, expect, expect_both, failing_nth, info, pattern,
    signals, Owned, Pair, L, NONE, P, R, W,
};

const U0: Signals = Signals::USER_0;
const U1: Signals = Signals::USER_1;
const U7: Signals = Signals::USER_7;
const CLOSED: Signals = Signals::HANDLE_CLOSED;

/// How long a helper thread waits before acting when it cannot see that
/// the wait it is meant to interrupt is registered.
const SETTLE_MS: u64 = 200;

/// A deadline no correct test reaches.
fn far() -> Time {
    after_ms(10_000)
}

/// Runs `f` on another thread after [`SETTLE_MS`].
fn later<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(SETTLE_MS));
        f()
    })
}

// ---------------------------------------------------------------------------
// Helpers

/// `mx_channel_write` with options 0.
fn send(h: RawHandle, bytes: &[u8], handles: &[RawHandle]) -> Result<(), Status> {
    sys::channel_write(h, 0, bytes, handles)
}

/// A message as read: its bytes and its handles' new values.
#[derive(Debug, PartialEq, Eq)]
struct Msg {
    bytes: Vec<u8>,
    handles: Vec<RawHandle>,
}

impl Msg {
    /// Closes the handles that came with it.
    fn close_handles(&self) {
        for &h in &self.handles {
            close(h);
        }
    }
}

type ReadError = ErrorWith<(u32, u32)>;

/// `mx_channel_read` with `options` and room for `num_bytes` and
/// `num_handles`.
fn read_with(
    h: RawHandle,
    options: u32,
    num_bytes: usize,
    num_handles: usize,
) -> Result<Msg, ReadError> {
    let mut bytes = vec![0u8; num_bytes];
    let mut handles = vec![HANDLE_INVALID; num_handles];
    let (b, n) = sys::channel_read(h, options, &mut bytes[..], &mut handles[..])?;
    bytes.truncate(b as usize);
    handles.truncate(n as usize);
    Ok(Msg { bytes, handles })
}

/// `mx_channel_read` with room for the largest message.
fn recv(h: RawHandle) -> Result<Msg, ReadError> {
    read_with(h, 0, MAX_MSG_BYTES, MAX_MSG_HANDLES)
}

/// A read error that writes no counts (steps 1-3 of the read).
fn bare(status: Status) -> ReadError {
    ErrorWith {
        status,
        value: None,
    }
}

/// A read error reporting the message's counts.
fn sized(status: Status, bytes: u32, handles: u32) -> ReadError {
    ErrorWith {
        status,
        value: Some((bytes, handles)),
    }
}

/// Asserts that nothing is queued at `h` (and its peer is open).
#[track_caller]
fn assert_nothing_queued(h: RawHandle) {
    assert_eq!(recv(h), Err(bare(Status::SHOULD_WAIT)), "nothing queued");
}

/// Waits (seconds, at most) until `h` shows any of `signals`.
#[track_caller]
fn wait_for(h: RawHandle, signals: Signals) -> Signals {
    match sys::object_wait_one(h, signals, far()) {
        Ok(observed) => observed,
        Err(e) => panic!("waiting for {signals:?} on {h}: {e:?}"),
    }
}

/// A handle's value, object and rights, and whether its object shows
/// `LAST_HANDLE` (if the handle may wait), to check that it is unchanged:
/// a failed write or call must not even change a handle count.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Held {
    value: RawHandle,
    koid: Koid,
    rights: Rights,
    last_handle: Option<bool>,
}

fn held(h: RawHandle) -> Held {
    let i = info(h);
    Held {
        value: h,
        koid: i.koid,
        rights: i.rights,
        last_handle: i
            .rights
            .contains(Rights::READ)
            .then(|| signals(h).contains(L)),
    }
}

/// Asserts that every handle is still in the caller's table, naming the
/// same object with the same rights, and that its object's handle count
/// is what it was.
#[track_caller]
fn assert_kept(handles: &[Held]) {
    for h in handles {
        let i = sys::object_get_info_handle_basic(h.value)
            .unwrap_or_else(|s| panic!("handle {} left the table: {s}", h.value));
        assert_eq!((i.koid, i.rights), (h.koid, h.rights), "handle {}", h.value);
        if let Some(last) = h.last_handle {
            assert_eq!(
                signals(h.value).contains(L),
                last,
                "LAST_HANDLE of {}",
                h.value
            );
        }
    }
}

/// Asserts that `h` is no longer a handle of this process.
#[track_caller]
fn assert_gone(h: RawHandle) {
    assert_eq!(
        sys::object_get_info_handle_basic(h),
        Err(Status::BAD_HANDLE),
        "handle {h} is still in the table"
    );
}

/// A handle value that names nothing: closed a moment ago.
fn stale() -> RawHandle {
    let e = event();
    close(e.0);
    e.0
}

/// An event and a duplicate of it with `rights`; the event shows
/// `LAST_HANDLE` again once the duplicate is closed, wherever it is.
fn event_and_dup(rights: Rights) -> (Owned, RawHandle) {
    let e = event();
    let d = dup(e.0, rights);
    (e, d)
}

fn koid(h: RawHandle) -> Koid {
    info(h).koid
}

/// `n` events, closed when dropped.
fn events(n: usize) -> Vec<Owned> {
    (0..n).map(|_| event()).collect()
}

fn raw(owned: &[Owned]) -> Vec<RawHandle> {
    owned.iter().map(|o| o.0).collect()
}

/// A message's first four bytes set to `txid`, then `rest`.
fn with_txid(txid: u32, rest: &[u8]) -> Vec<u8> {
    let mut bytes = txid.to_ne_bytes().to_vec();
    bytes.extend_from_slice(rest);
    bytes
}

/// `mx_channel_call` with room for `rd_bytes` and `rd_handles`.
fn call(
    h: RawHandle,
    deadline: Time,
    wr_bytes: &[u8],
    wr_handles: &[RawHandle],
    rd_bytes: usize,
    rd_handles: usize,
) -> Result<Msg, CallError> {
    let mut bytes = vec![0u8; rd_bytes];
    let mut handles = vec![HANDLE_INVALID; rd_handles];
    let (b, n) = sys::channel_call(
        h,
        0,
        deadline,
        wr_bytes,
        wr_handles,
        &mut bytes[..],
        &mut handles[..],
    )?;
    bytes.truncate(b as usize);
    handles.truncate(n as usize);
    Ok(Msg { bytes, handles })
}

/// A call error returned directly (phase 1, or `TIMED_OUT`).
fn direct(status: Status) -> CallError {
    status.into()
}

/// `CALL_FAILED` with `read_status`.
fn failed(read_status: Status) -> CallError {
    CallError {
        status: Status::CALL_FAILED,
        read_status: Some(read_status),
    }
}

/// Answers `n` requests arriving at `h`, on another thread: each reply is
/// `answer(request)`, written back through `h`. The thread returns the
/// requests' bytes.
fn serve(
    h: RawHandle,
    n: usize,
    answer: impl Fn(&Msg) -> (Vec<u8>, Vec<RawHandle>) + Send + 'static,
) -> thread::JoinHandle<Vec<Vec<u8>>> {
    thread::spawn(move || {
        let mut requests = Vec::new();
        for _ in 0..n {
            wait_for(h, R);
            let request = recv(h).expect("reading a request");
            let (bytes, handles) = answer(&request);
            send(h, &bytes, &handles).expect("writing a reply");
            requests.push(request.bytes);
        }
        requests
    })
}

/// A buffer said to hold `len` bytes (or handle values) that cannot be
/// read or written: a NULL pointer with a count, in C. Like NULL, it fails
/// every copy of at least one byte or value, and an empty copy succeeds.
struct Faulting(usize);

/// `INVALID_ARGS` for a copy of `n` items, as through NULL.
fn fault_unless_empty(n: usize) -> Result<(), Status> {
    if n == 0 {
        Ok(())
    } else {
        Err(Status::INVALID_ARGS)
    }
}

impl Source for Faulting {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn copy_to_raw(&self, _offset: usize, _dst: *mut u8, len: usize) -> Result<(), Status> {
        fault_unless_empty(len)
    }
}

impl Sink for Faulting {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn write_from_raw(
        &mut self,
        _offset: usize,
        _src: *const u8,
        len: usize,
    ) -> Result<(), Status> {
        fault_unless_empty(len)
    }
}

impl HandleSource for Faulting {
    fn len(&self) -> usize {
        self.0
    }

    fn read_into(&self, _out: &mut Vec<RawHandle>) -> Result<(), Status> {
        fault_unless_empty(self.0)
    }
}

impl HandleSink for Faulting {
    fn len(&self) -> usize {
        self.0
    }

    fn write_all(&mut self, values: &[RawHandle]) -> Result<(), Status> {
        fault_unless_empty(values.len())
    }
}

/// A buffer said to hold `len` bytes (or handle values) that no correct
/// implementation looks at, because an earlier check decides the call.
struct Untouchable(usize);

impl Source for Untouchable {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn copy_to_raw(&self, _offset: usize, _dst: *mut u8, _len: usize) -> Result<(), Status> {
        panic!("an earlier check decides: the bytes must not be read");
    }
}

impl HandleSource for Untouchable {
    fn len(&self) -> usize {
        self.0
    }

    fn read_into(&self, _out: &mut Vec<RawHandle>) -> Result<(), Status> {
        panic!("an earlier check decides: the handle values must not be read");
    }
}

/// A port, closed when dropped.
fn port() -> Owned {
    Owned(sys::port_create(0).expect("port_create"))
}

/// The next packet of `port`, within seconds.
#[track_caller]
fn packet(port: RawHandle) -> PortPacket {
    sys::port_wait(port, far(), 0).expect("a packet")
}

/// Asserts that no packet arrives at `port` within a short while.
#[track_caller]
fn assert_no_packet(port: RawHandle) {
    assert_eq!(
        sys::port_wait(port, after_ms(50), 0),
        Err(Status::TIMED_OUT),
        "no packet expected"
    );
}

// ---------------------------------------------------------------------------
// The object: type, koids, rights

#[test]
fn channel_create_type_is_channel_and_waitable() {
    let c = Pair::channel();
    for h in [c.a, c.b] {
        let i = info(h);
        assert_eq!(i.type_, ObjectType::CHANNEL.0);
        assert_eq!(i.type_, 4);
        assert_eq!(i.props, 1, "channel ends are waitable");
    }
}

#[test]
fn channel_create_ends_have_consecutive_koids_out0_first() {
    let c = Pair::channel();
    let (a, b) = (info(c.a), info(c.b));
    assert!(a.koid >= Koid::FIRST, "koids count from 1024: {:?}", a.koid);
    assert_eq!(
        b.koid.0,
        a.koid.0 + 1,
        "out1's end comes right after out0's"
    );
    let d = Pair::channel();
    let koids: HashSet<Koid> = [c.a, c.b, d.a, d.b].into_iter().map(koid).collect();
    assert_eq!(koids.len(), 4, "every end has its own koid");
}

#[test]
fn channel_create_related_koid_is_the_peers_and_survives_it() {
    let c = Pair::channel();
    let (a, b) = (info(c.a), info(c.b));
    assert_eq!(a.related_koid, b.koid);
    assert_eq!(b.related_koid, a.koid);
    close(c.b);
    assert_eq!(info(c.a).related_koid, b.koid);
}

#[test]
fn channel_create_default_rights_have_no_duplicate() {
    let c = Pair::channel();
    for h in [c.a, c.b] {
        let rights = info(h).rights;
        assert_eq!(rights, Rights::CHANNEL_DEFAULT);
        assert_eq!(
            rights,
            Rights::TRANSFER | Rights::READ | Rights::WRITE | Rights::SIGNAL | Rights::SIGNAL_PEER
        );
        assert!(!rights.contains(Rights::DUPLICATE));
    }
}

#[test]
fn channel_create_ends_start_writable_and_last_handle_and_empty() {
    let c = Pair::channel();
    expect_both(&c, W | L, W | L);
    assert_nothing_queued(c.a);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_create_invalid_options() {
    for options in [1, 2, 0x100, 1 << 31, u32::MAX] {
        assert_eq!(
            sys::channel_create(options),
            Err(Status::INVALID_ARGS),
            "options {options:#x}"
        );
    }
}

#[test]
fn channel_create_no_memory() {
    let mut failures = 0;
    for n in 0.. {
        assert!(n < 1000, "channel_create allocates without end");
        let (result, hit) = failing_nth(n, || sys::channel_create(0));
        match result {
            Err(status) => {
                assert!(hit, "failed without an allocation failure");
                assert_eq!(status, Status::NO_MEMORY, "allocation {n} failed");
                failures += 1;
            }
            Ok((a, b)) => {
                close(a);
                close(b);
                if !hit {
                    break;
                }
            }
        }
    }
    assert!(failures > 0, "channel_create allocates");
}

#[test]
fn handle_duplicate_of_a_channel_end_access_denied() {
    let c = Pair::channel();
    let before = held(c.a);
    for rights in [Rights::SAME_RIGHTS, Rights::READ, Rights::NONE] {
        assert_eq!(
            sys::handle_duplicate(c.a, rights),
            Err(Status::ACCESS_DENIED),
            "rights {rights:?}"
        );
    }
    assert_kept(&[before]);
    expect_both(&c, W | L, W | L);
}

#[test]
fn handle_replace_of_a_channel_end_gives_fewer_rights() {
    let c = Pair::channel();
    let k = koid(c.a);
    let a = sys::handle_replace(c.a, Rights::READ | Rights::WRITE).expect("handle_replace");
    assert_gone(c.a);
    let i = info(a);
    assert_eq!((i.koid, i.rights), (k, Rights::READ | Rights::WRITE));
    // Replace does not change LAST_HANDLE, and the end works as before.
    expect(a, W | L);
    assert_eq!(send(a, b"still works", &[]), Ok(()));
    assert_eq!(recv(c.b).unwrap().bytes, b"still works");
    close(a);
    expect(c.b, P | L);
}

// ---------------------------------------------------------------------------
// Signals

#[test]
fn channel_signal_bits_are_magentas() {
    assert_eq!(Signals::CHANNEL_READABLE.bits(), 1 << 0);
    assert_eq!(Signals::CHANNEL_WRITABLE.bits(), 1 << 1);
    assert_eq!(Signals::CHANNEL_PEER_CLOSED.bits(), 1 << 2);
    assert_eq!(Signals::LAST_HANDLE.bits(), 1 << 22);
    assert_eq!(
        (R, W, P),
        (
            Signals::CHANNEL_READABLE,
            Signals::CHANNEL_WRITABLE,
            Signals::CHANNEL_PEER_CLOSED
        )
    );
}

#[test]
fn channel_readable_while_a_message_is_queued() {
    let c = Pair::channel();
    send(c.a, b"one", &[]).unwrap();
    expect_both(&c, W | L, R | W | L);
    send(c.a, b"two", &[]).unwrap();
    expect_both(&c, W | L, R | W | L);
    assert_eq!(recv(c.b).unwrap().bytes, b"one");
    expect_both(&c, W | L, R | W | L);
    assert_eq!(recv(c.b).unwrap().bytes, b"two");
    expect_both(&c, W | L, W | L);
}

#[test]
fn channel_end_in_a_table_keeps_last_handle() {
    let c = Pair::channel();
    let e = event();
    for _ in 0..3 {
        send(c.a, b"x", &[]).unwrap();
        let d = dup(e.0, Rights::SAME_RIGHTS);
        send(c.b, b"y", &[d]).unwrap();
        recv(c.b).unwrap();
        recv(c.a).unwrap().close_handles();
        expect_both(&c, W | L, W | L);
    }
}

#[test]
fn channel_event_duplicate_in_transit_still_counts_as_a_handle() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    expect(e.0, NONE);
    send(c.a, b"", &[d]).unwrap();
    // One handle in the table, one in the message: no LAST_HANDLE.
    expect(e.0, NONE);
    // Dropping the message closes the duplicate.
    assert_eq!(
        read_with(c.b, READ_MAY_DISCARD, 0, 0),
        Err(sized(Status::BUFFER_TOO_SMALL, 0, 1))
    );
    expect(e.0, L);
}

#[test]
fn channel_event_duplicate_in_transit_closed_with_its_reader_end() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    send(c.a, b"", &[d]).unwrap();
    expect(e.0, NONE);
    close(c.b);
    assert_eq!(wait_for(e.0, L), L);
}

#[test]
fn channel_socket_end_in_transit_keeps_its_peer_open() {
    let c = Pair::channel();
    let s = Pair::stream();
    send(c.a, b"", &[s.b]).unwrap();
    assert_gone(s.b);
    expect(s.a, W | L);
    let m = recv(c.b).unwrap();
    assert_eq!(m.handles.len(), 1);
    expect(s.a, W | L);
    close(m.handles[0]);
    expect(s.a, P | L);
}

#[test]
fn channel_channel_end_in_transit_keeps_its_peer_open() {
    let c = Pair::channel();
    let x = Pair::channel();
    send(c.a, b"", &[x.b]).unwrap();
    expect(x.a, W | L);
    assert_eq!(send(x.a, b"written while in transit", &[]), Ok(()));
    close(c.b);
    assert_eq!(wait_for(x.a, P), P | L);
}

#[test]
fn object_signal_channel_user_signals_only() {
    let c = Pair::channel();
    assert_eq!(sys::object_signal(c.a, NONE, U0 | U7), Ok(()));
    expect_both(&c, W | L | U0 | U7, W | L);
    assert_eq!(sys::object_signal_peer(c.a, NONE, U1), Ok(()));
    expect_both(&c, W | L | U0 | U7, W | L | U1);
    assert_eq!(sys::object_signal(c.a, U0, NONE), Ok(()));
    assert_eq!(sys::object_signal_peer(c.a, U1, NONE), Ok(()));
    expect_both(&c, W | L | U7, W | L);
    let others = [
        R,
        W,
        P,
        Signals::EVENT_SIGNALED,
        L,
        CLOSED,
        Signals::from_bits_retain(1 << 4),
        Signals::from_bits_retain(1 << 21),
    ];
    for bit in others {
        for (clear, set) in [(NONE, bit), (bit, NONE), (bit, U0), (U0, bit | U1)] {
            assert_eq!(
                sys::object_signal(c.a, clear, set),
                Err(Status::INVALID_ARGS),
                "signal clear {clear:?} set {set:?}"
            );
            assert_eq!(
                sys::object_signal_peer(c.a, clear, set),
                Err(Status::INVALID_ARGS),
                "signal_peer clear {clear:?} set {set:?}"
            );
        }
    }
    expect_both(&c, W | L | U7, W | L);
}

#[test]
fn object_signal_peer_channel_peer_gone_peer_closed_after_bits() {
    let c = Pair::channel();
    close(c.b);
    assert_eq!(
        sys::object_signal_peer(c.a, NONE, U0),
        Err(Status::PEER_CLOSED)
    );
    assert_eq!(
        sys::object_signal_peer(c.a, NONE, R),
        Err(Status::INVALID_ARGS)
    );
    // The own end still takes user signals.
    assert_eq!(sys::object_signal(c.a, NONE, U0), Ok(()));
    expect(c.a, P | L | U0);
}

#[test]
fn object_signal_channel_needs_signal_and_signal_peer_rights() {
    let c = Pair::channel();
    let a = sys::handle_replace(c.a, Rights::READ | Rights::WRITE | Rights::SIGNAL_PEER).unwrap();
    assert_eq!(sys::object_signal(a, NONE, U0), Err(Status::ACCESS_DENIED));
    assert_eq!(sys::object_signal_peer(a, NONE, U0), Ok(()));
    let b = sys::handle_replace(c.b, Rights::READ | Rights::SIGNAL).unwrap();
    assert_eq!(
        sys::object_signal_peer(b, NONE, U0),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(sys::object_signal(b, NONE, U1), Ok(()));
    expect(b, W | L | U0 | U1);
    close(a);
    close(b);
}

// ---------------------------------------------------------------------------
// Queues and limits

#[test]
fn channel_write_max_bytes_is_inclusive() {
    let c = Pair::channel();
    let big = pattern(3, MAX_MSG_BYTES);
    assert_eq!(MAX_MSG_BYTES, 65_536);
    assert_eq!(send(c.a, &big, &[]), Ok(()));
    assert_eq!(recv(c.b).unwrap().bytes, big);
    let e = event();
    let kept = held(e.0);
    let over = pattern(4, MAX_MSG_BYTES + 1);
    assert_eq!(send(c.a, &over, &[e.0]), Err(Status::OUT_OF_RANGE));
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_max_handles_is_inclusive() {
    let c = Pair::channel();
    assert_eq!(MAX_MSG_HANDLES, 64);
    let evs = events(MAX_MSG_HANDLES + 1);
    let kept: Vec<Held> = evs.iter().map(|e| held(e.0)).collect();
    assert_eq!(send(c.a, b"", &raw(&evs)), Err(Status::OUT_OF_RANGE));
    assert_kept(&kept);
    assert_nothing_queued(c.b);
    assert_eq!(send(c.a, b"", &raw(&evs[..MAX_MSG_HANDLES])), Ok(()));
    let m = recv(c.b).unwrap();
    assert_eq!(m.handles.len(), MAX_MSG_HANDLES);
    m.close_handles();
}

#[test]
fn channel_write_never_should_wait_and_never_clears_writable() {
    let c = Pair::channel();
    // Far more than a socket holds.
    let n = 10_000;
    for i in 0..n {
        assert_eq!(
            send(c.a, &pattern(i as u8, 300), &[]),
            Ok(()),
            "message {i}"
        );
    }
    expect_both(&c, W | L, R | W | L);
    for i in 0..n {
        assert_eq!(
            recv(c.b).unwrap().bytes,
            pattern(i as u8, 300),
            "message {i}"
        );
    }
    expect_both(&c, W | L, W | L);
}

#[test]
fn channel_write_empty_message_is_a_message() {
    let c = Pair::channel();
    assert_eq!(send(c.a, b"", &[]), Ok(()));
    expect(c.b, R | W | L);
    assert_eq!(send(c.a, b"", &[]), Ok(()));
    let empty = Msg {
        bytes: vec![],
        handles: vec![],
    };
    assert_eq!(recv(c.b), Ok(empty));
    expect(c.b, R | W | L);
    assert_eq!(read_with(c.b, 0, 0, 0).map(|m| m.bytes.len()), Ok(0));
    expect(c.b, W | L);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_messages_arrive_whole_and_in_order() {
    let c = Pair::channel();
    let sizes = [0, 1, 3, 4, 5, 100, 4096, 65_535, 65_536, 7];
    for (i, &n) in sizes.iter().enumerate() {
        send(c.a, &pattern(i as u8, n), &[]).unwrap();
    }
    for (i, &n) in sizes.iter().enumerate() {
        assert_eq!(recv(c.b).unwrap().bytes, pattern(i as u8, n), "message {i}");
    }
    assert_nothing_queued(c.b);
}

#[test]
fn channel_each_end_has_its_own_queue() {
    let c = Pair::channel();
    send(c.a, b"to b", &[]).unwrap();
    send(c.b, b"to a", &[]).unwrap();
    assert_eq!(recv(c.a).unwrap().bytes, b"to a");
    assert_eq!(recv(c.b).unwrap().bytes, b"to b");
}

// ---------------------------------------------------------------------------
// mx_channel_write: the checks, in order

#[test]
fn channel_write_options_invalid_args_before_the_handle() {
    let c = Pair::channel();
    let e = event();
    let kept = held(e.0);
    for options in [1, 2, u32::MAX] {
        for h in [HANDLE_INVALID, stale(), e.0, c.a] {
            assert_eq!(
                sys::channel_write(h, options, &b"x"[..], &[e.0][..]),
                Err(Status::INVALID_ARGS),
                "handle {h}, options {options:#x}"
            );
        }
        // Even before the sizes and the buffers.
        assert_eq!(
            sys::channel_write(c.a, options, &Untouchable(1 << 20), &Untouchable(1000)),
            Err(Status::INVALID_ARGS)
        );
    }
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_bad_handle() {
    let e = event();
    let kept = held(e.0);
    for h in [HANDLE_INVALID, -1, i32::MIN, i32::MAX, stale()] {
        assert_eq!(
            send(h, b"x", &[e.0]),
            Err(Status::BAD_HANDLE),
            "handle {h:#x}"
        );
        // Before the size limits.
        assert_eq!(
            sys::channel_write(h, 0, &Untouchable(MAX_MSG_BYTES + 1), &[][..]),
            Err(Status::BAD_HANDLE)
        );
    }
    assert_kept(&[kept]);
}

#[test]
fn channel_write_without_write_right_access_denied() {
    let c = Pair::channel();
    let a = sys::handle_replace(c.a, Rights::READ | Rights::TRANSFER).unwrap();
    let e = event();
    let kept = held(e.0);
    assert_eq!(send(a, b"x", &[e.0]), Err(Status::ACCESS_DENIED));
    assert_eq!(send(a, b"", &[]), Err(Status::ACCESS_DENIED));
    // Before the size limits.
    assert_eq!(
        sys::channel_write(a, 0, &Untouchable(MAX_MSG_BYTES + 1), &[][..]),
        Err(Status::ACCESS_DENIED)
    );
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
    close(a);
}

#[test]
fn channel_write_to_another_kind_wrong_type() {
    let e = event();
    let s = Pair::stream();
    let ep = Pair::eventpair();
    let p = port();
    let other = event();
    let kept = held(other.0);
    for h in [e.0, s.a, ep.a, p.0] {
        assert_eq!(send(h, b"x", &[other.0]), Err(Status::WRONG_TYPE), "{h}");
        assert_eq!(
            sys::channel_write(h, 0, &Untouchable(MAX_MSG_BYTES + 1), &[][..]),
            Err(Status::WRONG_TYPE)
        );
    }
    assert_kept(&[kept]);
}

#[test]
fn channel_write_event_without_write_access_denied_before_wrong_type() {
    let e = event();
    let no_write = dup(e.0, Rights::READ | Rights::TRANSFER);
    assert_eq!(send(no_write, b"x", &[]), Err(Status::ACCESS_DENIED));
    close(no_write);
}

#[test]
fn channel_write_out_of_range_before_any_buffer_is_read() {
    let c = Pair::channel();
    assert_eq!(
        sys::channel_write(c.a, 0, &Untouchable(MAX_MSG_BYTES + 1), &Untouchable(1)),
        Err(Status::OUT_OF_RANGE)
    );
    assert_eq!(
        sys::channel_write(c.a, 0, &Untouchable(1), &Untouchable(MAX_MSG_HANDLES + 1)),
        Err(Status::OUT_OF_RANGE)
    );
    assert_eq!(
        sys::channel_write(c.a, 0, &Faulting(usize::MAX), &Faulting(usize::MAX)),
        Err(Status::OUT_OF_RANGE)
    );
    // Before the handles are looked at: 65 bad values are still OUT_OF_RANGE.
    let bad = vec![stale(); MAX_MSG_HANDLES + 1];
    assert_eq!(send(c.a, b"", &bad), Err(Status::OUT_OF_RANGE));
    assert_nothing_queued(c.b);
}

/// A handle list that faults, and records whether it was asked.
struct Asked {
    len: usize,
    asked: std::cell::Cell<bool>,
}

impl HandleSource for Asked {
    fn len(&self) -> usize {
        self.len
    }

    fn read_into(&self, _out: &mut Vec<RawHandle>) -> Result<(), Status> {
        self.asked.set(true);
        Err(Status::INVALID_ARGS)
    }
}

#[test]
fn channel_write_unreadable_bytes_invalid_args_before_handles() {
    let c = Pair::channel();
    let handles = Asked {
        len: 1,
        asked: std::cell::Cell::new(false),
    };
    assert_eq!(
        sys::channel_write(c.a, 0, &Faulting(5), &handles),
        Err(Status::INVALID_ARGS)
    );
    assert!(!handles.asked.get(), "the bytes are checked first");
    let e = event();
    let kept = held(e.0);
    assert_eq!(
        sys::channel_write(c.a, 0, &Faulting(5), &[e.0][..]),
        Err(Status::INVALID_ARGS)
    );
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_unreadable_handles_invalid_args() {
    let c = Pair::channel();
    assert_eq!(
        sys::channel_write(c.a, 0, &b"bytes"[..], &Faulting(3)),
        Err(Status::INVALID_ARGS)
    );
    assert_nothing_queued(c.b);
    expect_both(&c, W | L, W | L);
}

#[test]
fn channel_write_no_buffers_needed_for_zero_counts() {
    let c = Pair::channel();
    assert_eq!(
        sys::channel_write(c.a, 0, &Faulting(0), &Faulting(0)),
        Ok(())
    );
    assert_eq!(read_with(c.b, 0, 0, 0).map(|m| m.bytes), Ok(vec![]));
}

#[test]
fn channel_write_handle_entry_bad_handle() {
    let c = Pair::channel();
    let e = event();
    let kept = held(e.0);
    for bad in [HANDLE_INVALID, -1, stale()] {
        assert_eq!(send(c.a, b"x", &[e.0, bad]), Err(Status::BAD_HANDLE));
        assert_eq!(send(c.a, b"x", &[bad, e.0]), Err(Status::BAD_HANDLE));
    }
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_handle_to_the_written_end_not_supported() {
    let c = Pair::channel();
    let e = event();
    let kept = [held(e.0), held(c.a)];
    assert_eq!(send(c.a, b"x", &[c.a]), Err(Status::NOT_SUPPORTED));
    assert_eq!(send(c.a, b"x", &[e.0, c.a]), Err(Status::NOT_SUPPORTED));
    assert_kept(&kept);
    assert_nothing_queued(c.b);
    expect_both(&c, W | L, W | L);
}

#[test]
fn channel_write_handle_to_the_written_end_without_transfer_not_supported() {
    // NOT_SUPPORTED comes before the TRANSFER check of the same entry.
    let c = Pair::channel();
    let a = sys::handle_replace(c.a, Rights::READ | Rights::WRITE).unwrap();
    let kept = held(a);
    assert_eq!(kept.rights, Rights::READ | Rights::WRITE);
    assert_eq!(send(a, b"x", &[a]), Err(Status::NOT_SUPPORTED));
    assert_kept(&[kept]);
    close(a);
}

#[test]
fn channel_write_handle_without_transfer_access_denied() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::READ | Rights::SIGNAL);
    let kept = [held(e.0), held(d)];
    assert_eq!(send(c.a, b"x", &[d]), Err(Status::ACCESS_DENIED));
    assert_eq!(send(c.a, b"x", &[e.0, d]), Err(Status::ACCESS_DENIED));
    assert_kept(&kept);
    assert_nothing_queued(c.b);
    close(d);
}

#[test]
fn channel_write_channel_handle_without_transfer_access_denied() {
    let c = Pair::channel();
    let x = Pair::channel();
    let y = sys::handle_replace(x.b, Rights::READ | Rights::WRITE).unwrap();
    let kept = held(y);
    assert_eq!(send(c.a, b"", &[y]), Err(Status::ACCESS_DENIED));
    assert_kept(&[kept]);
    // It still works as a channel end.
    send(y, b"still mine", &[]).unwrap();
    assert_eq!(recv(x.a).unwrap().bytes, b"still mine");
    close(y);
}

#[test]
fn channel_write_first_failing_entry_decides() {
    let c = Pair::channel();
    let (e, no_transfer) = event_and_dup(Rights::READ);
    let bad = stale();
    let cases = [
        (vec![no_transfer, bad], Status::ACCESS_DENIED),
        (vec![bad, no_transfer], Status::BAD_HANDLE),
        (vec![c.a, bad], Status::NOT_SUPPORTED),
        (vec![bad, c.a], Status::BAD_HANDLE),
        (vec![no_transfer, c.a], Status::ACCESS_DENIED),
        (vec![c.a, no_transfer], Status::NOT_SUPPORTED),
        (vec![e.0, e.0, no_transfer], Status::ACCESS_DENIED),
    ];
    let kept = [held(e.0), held(no_transfer), held(c.a)];
    for (list, status) in cases {
        assert_eq!(send(c.a, b"x", &list), Err(status), "{list:?}");
    }
    assert_kept(&kept);
    assert_nothing_queued(c.b);
    close(no_transfer);
}

#[test]
fn channel_write_handle_listed_twice_is_invalid_args() {
    let c = Pair::channel();
    let e = event();
    let f = event();
    let kept = [held(e.0), held(f.0)];
    assert_eq!(send(c.a, b"x", &[e.0, e.0]), Err(Status::INVALID_ARGS));
    assert_eq!(send(c.a, b"x", &[e.0, f.0, e.0]), Err(Status::INVALID_ARGS));
    assert_kept(&kept);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_handle_listed_twice_then_bad_is_bad_handle() {
    // The duplicate is found only once every entry passed its own checks.
    let c = Pair::channel();
    let e = event();
    let kept = [held(e.0), held(c.a)];
    assert_eq!(
        send(c.a, b"x", &[e.0, e.0, stale()]),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        send(c.a, b"x", &[e.0, e.0, c.a]),
        Err(Status::NOT_SUPPORTED)
    );
    assert_kept(&kept);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_peer_closed_is_the_last_check() {
    let c = Pair::channel();
    close(c.b);
    let e = event();
    let kept = [held(e.0), held(c.a)];
    assert_eq!(send(c.a, b"x", &[e.0]), Err(Status::PEER_CLOSED));
    assert_eq!(send(c.a, b"", &[]), Err(Status::PEER_CLOSED));
    // Every earlier check comes first.
    assert_eq!(
        sys::channel_write(c.a, 1, &b"x"[..], &[e.0][..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(
        send(c.a, &pattern(0, MAX_MSG_BYTES + 1), &[e.0]),
        Err(Status::OUT_OF_RANGE)
    );
    assert_eq!(
        sys::channel_write(c.a, 0, &Faulting(1), &[e.0][..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(send(c.a, b"x", &[e.0, stale()]), Err(Status::BAD_HANDLE));
    assert_eq!(send(c.a, b"x", &[c.a]), Err(Status::NOT_SUPPORTED));
    assert_eq!(send(c.a, b"x", &[e.0, e.0]), Err(Status::INVALID_ARGS));
    assert_kept(&kept);
    expect(e.0, L);
}

#[test]
fn channel_write_moves_handles_out_of_the_table_at_once() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::TRANSFER | Rights::READ | Rights::SIGNAL);
    let before = held(d);
    assert_eq!(send(c.a, b"x", &[d]), Ok(()));
    assert_gone(d);
    assert_eq!(sys::handle_close(d), Err(Status::BAD_HANDLE));
    assert_eq!(
        sys::object_signal(d, NONE, U0),
        Err(Status::BAD_HANDLE),
        "the value is dead"
    );
    let m = recv(c.b).unwrap();
    let received = held(m.handles[0]);
    assert_eq!(
        (received.koid, received.rights),
        (before.koid, before.rights),
        "same object, same rights"
    );
    // It names the same event.
    sys::object_signal(received.value, NONE, Signals::EVENT_SIGNALED).unwrap();
    expect(e.0, Signals::EVENT_SIGNALED);
    m.close_handles();
}

#[test]
fn channel_write_failure_leaves_handles_usable() {
    let c = Pair::channel();
    let e = event();
    let s = Pair::stream();
    let x = Pair::channel();
    let list = [e.0, s.b, x.b, stale()];
    let kept = [held(e.0), held(s.b), held(x.b)];
    assert_eq!(send(c.a, b"x", &list), Err(Status::BAD_HANDLE));
    assert_kept(&kept);
    // Each still does what it did.
    sys::object_signal(e.0, NONE, Signals::EVENT_SIGNALED).unwrap();
    assert_eq!(sys::socket_write(s.b, 0, &b"hi"[..]), Ok(2));
    send(x.b, b"hi", &[]).unwrap();
    assert_eq!(recv(x.a).unwrap().bytes, b"hi");
    expect(e.0, Signals::EVENT_SIGNALED | L);
    expect(s.a, R | W | L);
}

#[test]
fn channel_write_no_memory_moves_nothing() {
    let c = Pair::channel();
    let e = event();
    let mut d = dup(e.0, Rights::SAME_RIGHTS);
    let bytes = pattern(9, 100);
    let mut failures = 0;
    for n in 0.. {
        assert!(n < 1000, "channel_write allocates without end");
        let list = [d];
        let kept = held(d);
        let (result, hit) = failing_nth(n, || sys::channel_write(c.a, 0, &bytes[..], &list[..]));
        match result {
            Err(status) => {
                assert_eq!(status, Status::NO_MEMORY, "allocation {n} failed");
                failures += 1;
                assert_kept(&[kept]);
                assert_nothing_queued(c.b);
                expect(c.b, W | L);
            }
            Ok(()) => {
                let m = recv(c.b).unwrap();
                assert_eq!(m.bytes, bytes);
                assert_eq!(koid(m.handles[0]), kept.koid);
                d = m.handles[0];
                if !hit {
                    break;
                }
            }
        }
    }
    assert!(failures > 0, "channel_write allocates");
    close(d);
    expect(e.0, L);
}

#[test]
fn channel_write_no_memory_comes_before_unreadable_buffers() {
    // The message is allocated before its bytes and handle values are
    // copied in: with its first allocation failing, a write from buffers
    // that cannot be read is NO_MEMORY, not INVALID_ARGS.
    let c = Pair::channel();
    let (result, hit) = failing_nth(0, || sys::channel_write(c.a, 0, &Faulting(5), &Faulting(1)));
    assert!(hit);
    assert_eq!(result, Err(Status::NO_MEMORY));
    let (result, hit) = failing_nth(0, || {
        sys::channel_call(
            c.a,
            0,
            Time::ZERO,
            &Faulting(5),
            &Faulting(1),
            &mut [0u8; 8][..],
            &mut [HANDLE_INVALID; 1][..],
        )
    });
    assert!(hit);
    assert_eq!(result, Err(direct(Status::NO_MEMORY)));
    assert_nothing_queued(c.b);
}

#[test]
fn channel_write_other_end_of_the_same_channel_succeeds() {
    let c = Pair::channel();
    assert_eq!(send(c.a, b"", &[c.b]), Ok(()));
    assert_gone(c.b);
    // The end sits in its own queue: alive, so no PEER_CLOSED.
    expect(c.a, W | L);
    assert_eq!(send(c.a, b"more", &[]), Ok(()));
}

#[test]
fn channel_write_end_with_queued_messages_keeps_them_in_transit() {
    let c = Pair::channel();
    let x = Pair::channel();
    send(x.a, b"1", &[]).unwrap();
    send(x.a, b"2", &[]).unwrap();
    assert_eq!(send(c.a, b"here is x.b", &[x.b]), Ok(()));
    // Written while the end is in transit: kept too.
    assert_eq!(send(x.a, b"3", &[]), Ok(()));
    expect(x.a, W | L);
    let m = recv(c.b).unwrap();
    let y = m.handles[0];
    assert_eq!(koid(y).0, koid(x.a).0 + 1);
    expect(y, R | W | L);
    for want in [b"1", b"2", b"3"] {
        assert_eq!(recv(y).unwrap().bytes, want);
    }
    assert_nothing_queued(y);
    close(y);
    expect(x.a, P | L);
}

// ---------------------------------------------------------------------------
// mx_channel_read

#[test]
fn channel_read_bad_handle() {
    for h in [HANDLE_INVALID, -1, i32::MAX, stale()] {
        assert_eq!(recv(h), Err(bare(Status::BAD_HANDLE)), "handle {h:#x}");
        assert_eq!(
            read_with(h, 7, 0, 0),
            Err(bare(Status::BAD_HANDLE)),
            "before the options"
        );
    }
}

#[test]
fn channel_read_without_read_right_access_denied() {
    let c = Pair::channel();
    send(c.a, b"x", &[]).unwrap();
    let b = sys::handle_replace(c.b, Rights::WRITE | Rights::TRANSFER).unwrap();
    assert_eq!(recv(b), Err(bare(Status::ACCESS_DENIED)));
    assert_eq!(read_with(b, 7, 0, 0), Err(bare(Status::ACCESS_DENIED)));
    // The end still writes.
    send(b, b"y", &[]).unwrap();
    assert_eq!(recv(c.a).unwrap().bytes, b"y");
    close(b);
    expect(c.a, P | L);
}

#[test]
fn channel_read_from_another_kind_wrong_type() {
    let e = event();
    let s = Pair::stream();
    let ep = Pair::eventpair();
    for h in [e.0, s.a, ep.a] {
        assert_eq!(recv(h), Err(bare(Status::WRONG_TYPE)), "{h}");
        assert_eq!(read_with(h, 7, 0, 0), Err(bare(Status::WRONG_TYPE)));
    }
    let no_read = dup(e.0, Rights::WRITE);
    assert_eq!(recv(no_read), Err(bare(Status::ACCESS_DENIED)));
    close(no_read);
}

#[test]
fn channel_read_unknown_options_not_supported_after_handle_checks() {
    let c = Pair::channel();
    for options in [2, 3, 0x100, u32::MAX] {
        // Empty: NOT_SUPPORTED, not SHOULD_WAIT.
        assert_eq!(
            read_with(c.b, options, 100, 4),
            Err(bare(Status::NOT_SUPPORTED)),
            "options {options:#x}"
        );
    }
    send(c.a, b"stays", &[]).unwrap();
    for options in [2, 3, u32::MAX] {
        assert_eq!(
            read_with(c.b, options, 100, 4),
            Err(bare(Status::NOT_SUPPORTED))
        );
    }
    expect(c.b, R | W | L);
    assert_eq!(recv(c.b).unwrap().bytes, b"stays");
    close(c.a);
    assert_eq!(read_with(c.b, 2, 0, 0), Err(bare(Status::NOT_SUPPORTED)));
}

#[test]
fn channel_read_empty_should_wait_while_peer_open() {
    let c = Pair::channel();
    assert_eq!(recv(c.b), Err(bare(Status::SHOULD_WAIT)));
    assert_eq!(
        read_with(c.b, READ_MAY_DISCARD, 0, 0),
        Err(bare(Status::SHOULD_WAIT))
    );
    assert_eq!(read_with(c.b, 0, 0, 0), Err(bare(Status::SHOULD_WAIT)));
}

#[test]
fn channel_read_empty_peer_closed_once_peer_is_gone() {
    let c = Pair::channel();
    close(c.a);
    for _ in 0..2 {
        assert_eq!(recv(c.b), Err(bare(Status::PEER_CLOSED)));
        assert_eq!(
            read_with(c.b, READ_MAY_DISCARD, 0, 0),
            Err(bare(Status::PEER_CLOSED))
        );
    }
}

#[test]
fn channel_read_queued_messages_come_before_peer_closed() {
    let c = Pair::channel();
    for i in 0..3u8 {
        send(c.a, &[i], &[]).unwrap();
    }
    close(c.a);
    expect(c.b, R | P | L);
    for i in 0..3u8 {
        assert_eq!(recv(c.b).unwrap().bytes, [i]);
    }
    expect(c.b, P | L);
    assert_eq!(recv(c.b), Err(bare(Status::PEER_CLOSED)));
}

#[test]
fn channel_read_buffer_too_small_for_bytes_reports_sizes_and_keeps_message() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    send(c.a, b"twelve bytes", &[d]).unwrap();
    for room in [0, 1, 11] {
        assert_eq!(
            read_with(c.b, 0, room, 1),
            Err(sized(Status::BUFFER_TOO_SMALL, 12, 1)),
            "room {room}"
        );
        expect(c.b, R | W | L);
    }
    expect(e.0, NONE);
    // Untouched: read whole with room enough.
    let m = read_with(c.b, 0, 12, 1).unwrap();
    assert_eq!(m.bytes, b"twelve bytes");
    assert_eq!(koid(m.handles[0]), koid(e.0));
    m.close_handles();
    expect(e.0, L);
}

#[test]
fn channel_read_buffer_too_small_for_handles_reports_sizes_and_keeps_message() {
    let c = Pair::channel();
    let evs = events(3);
    let koids: Vec<Koid> = evs.iter().map(|e| koid(e.0)).collect();
    let dups: Vec<RawHandle> = evs.iter().map(|e| dup(e.0, Rights::SAME_RIGHTS)).collect();
    send(c.a, b"abc", &dups).unwrap();
    for room in [0, 2] {
        assert_eq!(
            read_with(c.b, 0, 100, room),
            Err(sized(Status::BUFFER_TOO_SMALL, 3, 3))
        );
    }
    // The handles are still in the message.
    for e in &evs {
        expect(e.0, NONE);
    }
    let m = read_with(c.b, 0, 3, 3).unwrap();
    assert_eq!(
        m.handles.iter().map(|&h| koid(h)).collect::<Vec<_>>(),
        koids
    );
    m.close_handles();
}

#[test]
fn channel_read_may_discard_reads_a_message_that_fits() {
    let c = Pair::channel();
    let e = event();
    send(c.a, b"fits", &[e.0]).unwrap();
    let m = read_with(c.b, READ_MAY_DISCARD, 4, 1).unwrap();
    assert_eq!(m.bytes, b"fits");
    expect(m.handles[0], L);
    m.close_handles();
}

#[test]
fn channel_read_may_discard_destroys_a_message_that_does_not_fit() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    let s = Pair::stream();
    send(c.a, b"too big", &[d, s.b]).unwrap();
    send(c.a, b"next", &[]).unwrap();
    assert_eq!(
        read_with(c.b, READ_MAY_DISCARD, 3, 2),
        Err(sized(Status::BUFFER_TOO_SMALL, 7, 2))
    );
    // Its handles were closed, as mx_handle_close would.
    expect(e.0, L);
    expect(s.a, P | L);
    // The queue is not empty yet: READABLE stays.
    expect(c.b, R | W | L);
    assert_eq!(
        read_with(c.b, READ_MAY_DISCARD, 0, 0),
        Err(sized(Status::BUFFER_TOO_SMALL, 4, 0))
    );
    expect(c.b, W | L);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_read_unwritable_bytes_consume_message_and_close_its_handles() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    send(c.a, b"lost", &[d]).unwrap();
    let mut handles = [HANDLE_INVALID; 4];
    assert_eq!(
        sys::channel_read(c.b, 0, &mut Faulting(100), &mut handles[..]),
        Err(sized(Status::INVALID_ARGS, 4, 1)),
        "the counts are written"
    );
    expect(e.0, L);
    expect(c.b, W | L);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_read_unwritable_handles_consume_message_and_close_them() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    let s = Pair::stream();
    send(c.a, b"lost", &[d, s.b]).unwrap();
    send(c.a, b"next", &[]).unwrap();
    let mut bytes = [0u8; 100];
    assert_eq!(
        sys::channel_read(c.b, 0, &mut bytes[..], &mut Faulting(2)),
        Err(sized(Status::INVALID_ARGS, 4, 2))
    );
    expect(e.0, L);
    expect(s.a, P | L);
    expect(c.b, R | W | L);
    assert_eq!(recv(c.b).unwrap().bytes, b"next");
}

#[test]
fn channel_read_unwritable_buffer_for_a_part_the_message_lacks_is_fine() {
    let c = Pair::channel();
    send(c.a, b"", &[]).unwrap();
    assert_eq!(
        sys::channel_read(c.b, 0, &mut Faulting(0), &mut Faulting(0)),
        Ok((0, 0))
    );
    send(c.a, b"", &[]).unwrap();
    assert_eq!(
        sys::channel_read(c.b, 0, &mut Faulting(10), &mut Faulting(10)),
        Ok((0, 0))
    );
    send(c.a, b"bytes only", &[]).unwrap();
    let mut bytes = [0u8; 10];
    assert_eq!(
        sys::channel_read(c.b, 0, &mut bytes[..], &mut Faulting(0)),
        Ok((10, 0))
    );
    assert_eq!(&bytes, b"bytes only");
    let e = event();
    let k = koid(e.0);
    send(c.a, b"", &[e.0]).unwrap();
    let mut handles = [HANDLE_INVALID; 1];
    assert_eq!(
        sys::channel_read(c.b, 0, &mut Faulting(0), &mut handles[..]),
        Ok((0, 1))
    );
    assert_eq!(koid(handles[0]), k);
    close(handles[0]);
}

#[test]
fn channel_read_keeps_the_rights_each_handle_was_sent_with() {
    let c = Pair::channel();
    let e = event();
    let s = Pair::stream();
    let x = Pair::channel();
    let sent = [
        dup(e.0, Rights::TRANSFER),
        dup(e.0, Rights::TRANSFER | Rights::READ | Rights::SIGNAL),
        dup(e.0, Rights::SAME_RIGHTS),
        sys::handle_replace(s.b, Rights::TRANSFER | Rights::READ).unwrap(),
        sys::handle_replace(x.b, Rights::TRANSFER | Rights::WRITE | Rights::SIGNAL).unwrap(),
    ];
    let before: Vec<Held> = sent.iter().map(|&h| held(h)).collect();
    send(c.a, b"", &sent).unwrap();
    let m = recv(c.b).unwrap();
    let after: Vec<(Koid, Rights)> = m
        .handles
        .iter()
        .map(|&h| (held(h).koid, held(h).rights))
        .collect();
    let want: Vec<(Koid, Rights)> = before.iter().map(|h| (h.koid, h.rights)).collect();
    assert_eq!(after, want);
    m.close_handles();
}

#[test]
fn channel_read_handles_come_out_in_the_order_listed() {
    let c = Pair::channel();
    let evs = events(MAX_MSG_HANDLES);
    // Listed in an order that differs from creation order.
    let mut list = raw(&evs);
    list.reverse();
    list.swap(3, 40);
    let koids: Vec<Koid> = list.iter().map(|&h| koid(h)).collect();
    send(c.a, b"", &list).unwrap();
    let m = recv(c.b).unwrap();
    assert_eq!(
        m.handles.iter().map(|&h| koid(h)).collect::<Vec<_>>(),
        koids
    );
    let values: HashSet<RawHandle> = m.handles.iter().copied().collect();
    assert_eq!(values.len(), MAX_MSG_HANDLES, "distinct values");
    m.close_handles();
}

#[test]
fn channel_read_concurrent_readers_get_distinct_whole_messages_once() {
    const MESSAGES: u32 = 2000;
    const READERS: usize = 4;
    let c = Pair::channel();
    let b = c.b;
    // Message `seq`: `seq`, then (every fourth) the koid of the event it
    // carries, then a body whose length and bytes depend on `seq`.
    let body = |seq: u32| pattern(seq as u8, (seq % 97) as usize);
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match recv(b) {
                        Ok(m) => {
                            let seq = u32::from_ne_bytes(m.bytes[..4].try_into().unwrap());
                            let mut rest = &m.bytes[4..];
                            if seq % 4 == 0 {
                                assert_eq!(m.handles.len(), 1, "message {seq}");
                                let k = u64::from_ne_bytes(rest[..8].try_into().unwrap());
                                assert_eq!(koid(m.handles[0]).0, k, "message {seq}");
                                rest = &rest[8..];
                            } else {
                                assert!(m.handles.is_empty(), "message {seq}");
                            }
                            assert_eq!(rest, &body(seq)[..], "message {seq} is whole");
                            m.close_handles();
                            got.push(seq);
                        }
                        Err(e) if e.status == Status::SHOULD_WAIT => {
                            wait_for(b, R | P);
                        }
                        Err(e) if e.status == Status::PEER_CLOSED => break,
                        Err(e) => panic!("read: {e:?}"),
                    }
                }
                got
            })
        })
        .collect();
    for seq in 0..MESSAGES {
        let mut bytes = seq.to_ne_bytes().to_vec();
        let mut handles = Vec::new();
        if seq % 4 == 0 {
            let e = sys::event_create(0).unwrap();
            bytes.extend_from_slice(&koid(e).0.to_ne_bytes());
            handles.push(e);
        }
        bytes.extend_from_slice(&body(seq));
        send(c.a, &bytes, &handles).unwrap();
    }
    close(c.a);
    let mut all = Vec::new();
    for reader in readers {
        let got = reader.join().unwrap();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "each reader sees the messages in queue order"
        );
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (0..MESSAGES).collect::<Vec<_>>(),
        "every message is delivered exactly once"
    );
}

// ---------------------------------------------------------------------------
// mx_channel_call: phase 1, the write

#[test]
fn channel_call_options_invalid_args_before_the_handle() {
    let c = Pair::channel();
    let e = event();
    let kept = held(e.0);
    for options in [1, 2, u32::MAX] {
        for h in [HANDLE_INVALID, stale(), e.0, c.a] {
            let mut rd = [0u8; 8];
            assert_eq!(
                sys::channel_call(
                    h,
                    options,
                    Time::ZERO,
                    &b"abcd"[..],
                    &[e.0][..],
                    &mut rd[..],
                    &mut [HANDLE_INVALID; 1][..]
                ),
                Err(direct(Status::INVALID_ARGS)),
                "handle {h}, options {options:#x}"
            );
        }
    }
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_call_bad_handle() {
    let e = event();
    let kept = held(e.0);
    for h in [HANDLE_INVALID, -1, stale()] {
        assert_eq!(
            call(h, Time::ZERO, b"abcd", &[e.0], 8, 1),
            Err(direct(Status::BAD_HANDLE))
        );
    }
    assert_kept(&[kept]);
}

#[test]
fn channel_call_needs_read_and_write_access_denied() {
    let c = Pair::channel();
    let e = event();
    let kept = held(e.0);
    let a = sys::handle_replace(c.a, Rights::WRITE | Rights::TRANSFER).unwrap();
    assert_eq!(
        call(a, Time::ZERO, b"abcd", &[e.0], 8, 1),
        Err(direct(Status::ACCESS_DENIED))
    );
    let a = sys::handle_replace(a, Rights::NONE).unwrap();
    assert_eq!(
        call(a, Time::ZERO, b"abcd", &[e.0], 8, 1),
        Err(direct(Status::ACCESS_DENIED))
    );
    close(a);
    let b = sys::handle_replace(c.b, Rights::READ | Rights::TRANSFER).unwrap();
    // (The peer is gone now: ACCESS_DENIED still comes first.)
    assert_eq!(
        call(b, Time::ZERO, b"abcd", &[e.0], 8, 1),
        Err(direct(Status::ACCESS_DENIED))
    );
    close(b);
    assert_kept(&[kept]);
}

#[test]
fn channel_call_on_another_kind_wrong_type() {
    let e = event();
    let s = Pair::stream();
    let other = event();
    let kept = held(other.0);
    for h in [e.0, s.a] {
        assert_eq!(
            call(h, Time::ZERO, b"abcd", &[other.0], 8, 1),
            Err(direct(Status::WRONG_TYPE))
        );
    }
    let read_only = dup(e.0, Rights::READ);
    assert_eq!(
        call(read_only, Time::ZERO, b"abcd", &[], 8, 1),
        Err(direct(Status::ACCESS_DENIED)),
        "the rights come before the type"
    );
    close(read_only);
    assert_kept(&[kept]);
}

#[test]
fn channel_call_out_of_range_before_any_buffer_is_read() {
    let c = Pair::channel();
    for (bytes, handles) in [(MAX_MSG_BYTES + 1, 0), (4, MAX_MSG_HANDLES + 1)] {
        assert_eq!(
            sys::channel_call(
                c.a,
                0,
                Time::ZERO,
                &Untouchable(bytes),
                &Untouchable(handles),
                &mut [0u8; 8][..],
                &mut [HANDLE_INVALID; 1][..]
            ),
            Err(direct(Status::OUT_OF_RANGE))
        );
    }
    let evs = events(MAX_MSG_HANDLES + 1);
    let kept: Vec<Held> = evs.iter().map(|e| held(e.0)).collect();
    assert_eq!(
        call(c.a, Time::ZERO, b"abcd", &raw(&evs), 8, 1),
        Err(direct(Status::OUT_OF_RANGE))
    );
    assert_kept(&kept);
    assert_eq!(
        call(c.a, Time::ZERO, &pattern(1, MAX_MSG_BYTES + 1), &[], 8, 1),
        Err(direct(Status::OUT_OF_RANGE))
    );
    assert_nothing_queued(c.b);
}

#[test]
fn channel_call_unreadable_write_buffers_invalid_args() {
    let c = Pair::channel();
    let e = event();
    let kept = held(e.0);
    let mut rd = [0u8; 8];
    assert_eq!(
        sys::channel_call(
            c.a,
            0,
            Time::ZERO,
            &Faulting(4),
            &[e.0][..],
            &mut rd[..],
            &mut [HANDLE_INVALID; 1][..]
        ),
        Err(direct(Status::INVALID_ARGS))
    );
    assert_eq!(
        sys::channel_call(
            c.a,
            0,
            Time::ZERO,
            &b"abcd"[..],
            &Faulting(1),
            &mut rd[..],
            &mut [HANDLE_INVALID; 1][..]
        ),
        Err(direct(Status::INVALID_ARGS))
    );
    assert_kept(&[kept]);
    assert_nothing_queued(c.b);
}

#[test]
fn channel_call_checks_each_handle_as_write_does() {
    let c = Pair::channel();
    let e = event();
    let (f, no_transfer) = event_and_dup(Rights::READ);
    let kept = [held(e.0), held(f.0), held(no_transfer), held(c.a)];
    let cases = [
        (vec![e.0, stale()], Status::BAD_HANDLE),
        (vec![e.0, c.a], Status::NOT_SUPPORTED),
        (vec![e.0, no_transfer], Status::ACCESS_DENIED),
        (vec![e.0, e.0], Status::INVALID_ARGS),
        (vec![e.0, e.0, stale()], Status::BAD_HANDLE),
        (vec![no_transfer, stale()], Status::ACCESS_DENIED),
    ];
    for (list, status) in cases {
        assert_eq!(
            call(c.a, far(), b"abcd", &list, 8, 1),
            Err(direct(status)),
            "{list:?}"
        );
    }
    assert_kept(&kept);
    assert_nothing_queued(c.b);
    close(no_transfer);
}

#[test]
fn channel_call_peer_closed_is_returned_directly_with_handles_kept() {
    let c = Pair::channel();
    close(c.b);
    let e = event();
    let kept = held(e.0);
    assert_eq!(
        call(c.a, far(), b"abcd", &[e.0], 8, 1),
        Err(direct(Status::PEER_CLOSED))
    );
    assert_eq!(
        call(c.a, far(), b"abcd", &[e.0, e.0], 8, 1),
        Err(direct(Status::INVALID_ARGS)),
        "the duplicate check comes first"
    );
    assert_kept(&[kept]);
    expect(e.0, L);
}

#[test]
fn channel_call_no_memory_moves_nothing() {
    let c = Pair::channel();
    let e = event();
    let mut d = dup(e.0, Rights::SAME_RIGHTS);
    let bytes = with_txid(77, b"request");
    let mut rd = [0u8; 64];
    let mut rh = [HANDLE_INVALID; 4];
    let mut failures = 0;
    for n in 0.. {
        assert!(n < 1000, "channel_call allocates without end");
        let list = [d];
        let kept = held(d);
        let (result, hit) = failing_nth(n, || {
            sys::channel_call(
                c.a,
                0,
                Time::ZERO,
                &bytes[..],
                &list[..],
                &mut rd[..],
                &mut rh[..],
            )
        });
        match result {
            Err(CallError {
                status: Status::NO_MEMORY,
                read_status: None,
            }) => {
                failures += 1;
                assert_kept(&[kept]);
                assert_nothing_queued(c.b);
            }
            Err(CallError {
                status: Status::TIMED_OUT,
                read_status: None,
            }) => {
                // Sent (deadline 0): take the handle back.
                assert_gone(d);
                let m = recv(c.b).unwrap();
                assert_eq!(m.bytes, bytes);
                d = m.handles[0];
                if !hit {
                    break;
                }
            }
            other => panic!("allocation {n} failed: {other:?}"),
        }
    }
    assert!(failures > 0, "channel_call allocates");
    close(d);
    expect(e.0, L);
}

// ---------------------------------------------------------------------------
// mx_channel_call: phase 2, the reply

#[test]
fn channel_call_returns_the_reply_with_its_handles_and_rights() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::TRANSFER | Rights::READ);
    let server = serve(c.b, 1, move |request| {
        let mut reply = request.bytes[..4].to_vec();
        reply.extend_from_slice(b" answered");
        (reply, vec![d])
    });
    let request = with_txid(0x1234_5678, b"question");
    let reply = call(c.a, far(), &request, &[], 100, 2).unwrap();
    assert_eq!(reply.bytes, with_txid(0x1234_5678, b" answered"));
    assert_eq!(reply.handles.len(), 1);
    let got = info(reply.handles[0]);
    assert_eq!(
        (got.koid, got.rights),
        (koid(e.0), Rights::TRANSFER | Rights::READ)
    );
    // The kernel does not choose or rewrite txids.
    assert_eq!(server.join().unwrap(), vec![request]);
    reply.close_handles();
    expect(e.0, L);
}

#[test]
fn channel_call_sends_its_handles_with_the_request() {
    let c = Pair::channel();
    let e = event();
    let k = koid(e.0);
    let server = thread::spawn({
        let b = c.b;
        move || {
            wait_for(b, R);
            let request = recv(b).unwrap();
            let got = koid(request.handles[0]);
            request.close_handles();
            send(b, &request.bytes, &[]).unwrap();
            got
        }
    });
    let reply = call(c.a, far(), &with_txid(5, b""), &[e.0], 4, 0).unwrap();
    assert_eq!(reply.bytes, with_txid(5, b""));
    assert_gone(e.0);
    assert_eq!(server.join().unwrap(), k);
}

#[test]
fn channel_call_reply_bypasses_the_queue_and_asserts_no_readable() {
    let c = Pair::channel();
    let p = port();
    // Any READABLE on the caller's end, however brief, would queue a packet.
    sys::object_wait_async(c.a, p.0, 1, R, WAIT_ASYNC_REPEATING).unwrap();
    let server = serve(c.b, 1, |request| (request.bytes.clone(), vec![]));
    let reply = call(c.a, far(), &with_txid(9, b"ping"), &[], 100, 0).unwrap();
    assert_eq!(reply.bytes, with_txid(9, b"ping"));
    server.join().unwrap();
    expect(c.a, W | L);
    assert_nothing_queued(c.a);
    assert_no_packet(p.0);
}

#[test]
fn channel_call_earliest_caller_of_a_txid_gets_the_first_reply() {
    let c = Pair::channel();
    let a = c.a;
    let first = thread::spawn(move || call(a, far(), &with_txid(7, b"first"), &[], 100, 0));
    wait_for(c.b, R);
    assert_eq!(recv(c.b).unwrap().bytes, with_txid(7, b"first"));
    // The first caller is registered (its request arrived); now the second.
    let second = thread::spawn(move || call(a, far(), &with_txid(7, b"second"), &[], 100, 0));
    wait_for(c.b, R);
    assert_eq!(recv(c.b).unwrap().bytes, with_txid(7, b"second"));
    send(c.b, &with_txid(7, b"reply one"), &[]).unwrap();
    assert_eq!(
        first.join().unwrap().unwrap().bytes,
        with_txid(7, b"reply one")
    );
    send(c.b, &with_txid(7, b"reply two"), &[]).unwrap();
    assert_eq!(
        second.join().unwrap().unwrap().bytes,
        with_txid(7, b"reply two")
    );
    assert_nothing_queued(c.a);
}

#[test]
fn channel_call_never_takes_an_already_queued_message_as_its_reply() {
    let c = Pair::channel();
    send(c.b, &with_txid(3, b"queued before"), &[]).unwrap();
    let server = serve(c.b, 1, |_| (with_txid(3, b"the reply"), vec![]));
    let reply = call(c.a, far(), &with_txid(3, b"request"), &[], 100, 0).unwrap();
    assert_eq!(reply.bytes, with_txid(3, b"the reply"));
    server.join().unwrap();
    // The queued message is still there, first and alone.
    expect(c.a, R | W | L);
    assert_eq!(recv(c.a).unwrap().bytes, with_txid(3, b"queued before"));
    assert_nothing_queued(c.a);
}

#[test]
fn channel_call_with_only_an_already_queued_match_times_out() {
    let c = Pair::channel();
    send(c.b, &with_txid(3, b"queued before"), &[]).unwrap();
    assert_eq!(
        call(c.a, after_ms(100), &with_txid(3, b"request"), &[], 100, 0),
        Err(direct(Status::TIMED_OUT))
    );
    assert_eq!(recv(c.a).unwrap().bytes, with_txid(3, b"queued before"));
}

#[test]
fn channel_call_other_txids_are_queued_as_ordinary_messages() {
    let c = Pair::channel();
    let server = serve(c.b, 1, |request| {
        // Not the reply: the first four bytes differ (in one byte).
        let mut other = request.bytes.clone();
        other[3] ^= 1;
        (other, vec![])
    });
    let b = c.b;
    let replier = thread::spawn(move || {
        // Once the wrong one is queued, the right one.
        server.join().unwrap();
        send(b, &with_txid(0x0102_0304, b"right"), &[]).unwrap();
    });
    let reply = call(c.a, far(), &with_txid(0x0102_0304, b"request"), &[], 100, 0).unwrap();
    replier.join().unwrap();
    assert_eq!(reply.bytes, with_txid(0x0102_0304, b"right"));
    let mut wrong = with_txid(0x0102_0304, b"request");
    wrong[3] ^= 1;
    assert_eq!(recv(c.a).unwrap().bytes, wrong);
}

#[test]
fn channel_call_txid_is_the_first_four_bytes_only() {
    let c = Pair::channel();
    let server = serve(c.b, 1, |_| (with_txid(11, b"a different tail"), vec![]));
    let reply = call(c.a, far(), &with_txid(11, b"tail"), &[], 100, 0).unwrap();
    assert_eq!(reply.bytes, with_txid(11, b"a different tail"));
    server.join().unwrap();
}

#[test]
fn channel_call_short_messages_have_txid_zero() {
    let c = Pair::channel();
    // A request of fewer than four bytes waits for txid 0, which a reply of
    // fewer than four bytes has, and one starting with four zero bytes.
    let short: [&'static [u8]; 3] = [&[], &[1], &[1, 2, 3]];
    let zero: [&'static [u8]; 4] = [&[], &[9], &[9, 9, 9], &[0, 0, 0, 0, 42]];
    for request in short {
        for reply in zero {
            let server = serve(c.b, 1, move |_| (reply.to_vec(), vec![]));
            let got = call(c.a, far(), request, &[], 100, 0).unwrap();
            assert_eq!(got.bytes, reply, "request {request:?}");
            server.join().unwrap();
        }
    }
    let server = serve(c.b, 1, |_| (vec![1], vec![]));
    assert_eq!(
        call(c.a, far(), &[0, 0, 0, 0], &[], 100, 0).unwrap().bytes,
        [1]
    );
    server.join().unwrap();
    assert_nothing_queued(c.a);
}

#[test]
fn channel_call_deadline_zero_still_sends_then_times_out() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    let start = sys::time_get(0);
    for deadline in [Time::ZERO, Time(1)] {
        let d = dup(e.0, Rights::SAME_RIGHTS);
        assert_eq!(
            call(c.a, deadline, &with_txid(1, b"sent"), &[d], 100, 1),
            Err(direct(Status::TIMED_OUT)),
            "returned directly, not as CALL_FAILED"
        );
        assert_gone(d);
        let m = recv(c.b).unwrap();
        assert_eq!(m.bytes, with_txid(1, b"sent"));
        assert_eq!(koid(m.handles[0]), koid(e.0));
        m.close_handles();
    }
    assert!(elapsed_ms(start) < 1000, "a past deadline does not block");
    close(d);
}

#[test]
fn channel_call_times_out_at_its_deadline() {
    let c = Pair::channel();
    let deadline = after_ms(150);
    assert_eq!(
        call(c.a, deadline, &with_txid(1, b""), &[], 100, 0),
        Err(direct(Status::TIMED_OUT))
    );
    assert!(sys::time_get(0) >= deadline, "returned before the deadline");
}

#[test]
fn channel_call_late_reply_is_queued_as_an_ordinary_message() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    assert_eq!(
        call(c.a, Time::ZERO, &with_txid(21, b"request"), &[], 100, 1),
        Err(direct(Status::TIMED_OUT))
    );
    expect(c.a, W | L);
    assert_eq!(recv(c.b).unwrap().bytes, with_txid(21, b"request"));
    send(c.b, &with_txid(21, b"late"), &[d]).unwrap();
    expect(c.a, R | W | L);
    let m = recv(c.a).unwrap();
    assert_eq!(m.bytes, with_txid(21, b"late"));
    assert_eq!(koid(m.handles[0]), koid(e.0));
    m.close_handles();
}

#[test]
fn channel_call_peer_closed_while_waiting_call_failed() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    let b = c.b;
    let closer = thread::spawn(move || {
        wait_for(b, R);
        // The request (and the duplicate in it) dies with the end.
        close(b);
    });
    let start = sys::time_get(0);
    assert_eq!(
        call(c.a, far(), &with_txid(2, b"request"), &[d], 100, 1),
        Err(failed(Status::PEER_CLOSED))
    );
    assert!(elapsed_ms(start) < 5000);
    closer.join().unwrap();
    assert_gone(d);
    assert_eq!(wait_for(e.0, L), L);
    expect(c.a, P | L);
}

#[test]
fn channel_call_own_end_closed_while_waiting_call_failed_canceled() {
    let c = Pair::channel();
    let e = event();
    let k = koid(e.0);
    let a = c.a;
    let caller = thread::spawn(move || call(a, far(), &with_txid(4, b"request"), &[e.0], 100, 1));
    // Once the request arrived the call waits; close its end under it.
    wait_for(c.b, R);
    close(c.a);
    assert_eq!(caller.join().unwrap(), Err(failed(Status::CANCELED)));
    assert_gone(e.0);
    // The request was delivered, handle included.
    let m = recv(c.b).unwrap();
    assert_eq!(koid(m.handles[0]), k);
    m.close_handles();
    expect(c.b, P | L);
}

#[test]
fn channel_call_reply_too_big_call_failed_and_its_handles_closed() {
    let c = Pair::channel();
    // Too many bytes, then too many handles.
    for (reply_bytes, reply_handles, rd_bytes, rd_handles) in [(101, 1, 100, 1), (8, 2, 100, 1)] {
        let evs = events(reply_handles);
        let dups: Vec<RawHandle> = evs.iter().map(|e| dup(e.0, Rights::SAME_RIGHTS)).collect();
        let server = serve(c.b, 1, move |request| {
            let mut reply = request.bytes[..4].to_vec();
            reply.resize(reply_bytes, 0xee);
            (reply, dups.clone())
        });
        // The request carries a handle: it is gone from the caller after.
        let sent = event();
        assert_eq!(
            call(
                c.a,
                far(),
                &with_txid(6, b"r"),
                &[sent.0],
                rd_bytes,
                rd_handles
            ),
            Err(failed(Status::BUFFER_TOO_SMALL))
        );
        assert_gone(sent.0);
        server.join().unwrap();
        for e in &evs {
            assert_eq!(wait_for(e.0, L), L, "the reply's handles are closed");
        }
        // Destroyed, not queued.
        assert_nothing_queued(c.a);
        expect(c.a, W | L);
    }
}

#[test]
fn channel_call_reply_too_big_closes_a_socket_end_it_carries() {
    let c = Pair::channel();
    let s = Pair::stream();
    let t = s.b;
    let server = serve(c.b, 1, move |request| (request.bytes.clone(), vec![t]));
    assert_eq!(
        call(c.a, far(), &with_txid(8, b"r"), &[], 100, 0),
        Err(failed(Status::BUFFER_TOO_SMALL))
    );
    server.join().unwrap();
    assert_eq!(wait_for(s.a, P), P | L);
}

#[test]
fn channel_call_unwritable_read_buffers_call_failed_invalid_args() {
    let c = Pair::channel();
    // The reply's bytes cannot be written, then its handles.
    for bytes_fault in [true, false] {
        let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
        let server = serve(c.b, 1, move |request| (request.bytes.clone(), vec![d]));
        let request = with_txid(12, b"r");
        let mut bytes = [0u8; 100];
        let mut handles = [HANDLE_INVALID; 4];
        let result = if bytes_fault {
            sys::channel_call(
                c.a,
                0,
                far(),
                &request[..],
                &[][..],
                &mut Faulting(100),
                &mut handles[..],
            )
        } else {
            sys::channel_call(
                c.a,
                0,
                far(),
                &request[..],
                &[][..],
                &mut bytes[..],
                &mut Faulting(4),
            )
        };
        assert_eq!(result, Err(failed(Status::INVALID_ARGS)));
        server.join().unwrap();
        expect(e.0, L);
        assert_nothing_queued(c.a);
    }
}

#[test]
fn channel_call_unwritable_buffer_for_a_part_the_reply_lacks_is_fine() {
    let c = Pair::channel();
    let server = serve(c.b, 1, |request| (request.bytes.clone(), vec![]));
    let request = with_txid(13, b"r");
    assert_eq!(
        sys::channel_call(
            c.a,
            0,
            far(),
            &request[..],
            &[][..],
            &mut [0u8; 5][..],
            &mut Faulting(4)
        ),
        Ok((5, 0))
    );
    server.join().unwrap();
}

#[test]
fn channel_call_many_threads_on_one_end_each_get_their_own_reply() {
    const CALLERS: u32 = 8;
    let c = Pair::channel();
    let a = c.a;
    let callers: Vec<_> = (0..CALLERS)
        .map(|i| {
            thread::spawn(move || {
                let e = sys::event_create(0).unwrap();
                let k = koid(e);
                let reply =
                    call(a, far(), &with_txid(100 + i, b"request"), &[e], 100, 1).expect("call");
                assert_eq!(reply.bytes, with_txid(100 + i, b"reply"));
                // The server sends each caller's event back to it.
                assert_eq!(koid(reply.handles[0]), k);
                reply.close_handles();
            })
        })
        .collect();
    let mut requests = Vec::new();
    while requests.len() < CALLERS as usize {
        wait_for(c.b, R);
        requests.push(recv(c.b).unwrap());
    }
    // Replies in the reverse order of the requests.
    for request in requests.iter().rev() {
        let txid = u32::from_ne_bytes(request.bytes[..4].try_into().unwrap());
        send(c.b, &with_txid(txid, b"reply"), &request.handles).unwrap();
    }
    for caller in callers {
        caller.join().unwrap();
    }
    assert_nothing_queued(c.a);
}

#[test]
fn channel_call_message_written_by_a_call_can_be_a_reply() {
    // Any message written into an end is offered to its callers first,
    // whether it was written by write or by call.
    let c = Pair::channel();
    let a = c.a;
    let client = thread::spawn(move || {
        let reply = call(a, far(), &with_txid(31, b"hello"), &[], 100, 0).unwrap();
        send(a, &with_txid(31, b"final"), &[]).unwrap();
        reply.bytes
    });
    wait_for(c.b, R);
    assert_eq!(recv(c.b).unwrap().bytes, with_txid(31, b"hello"));
    let reply = call(
        c.b,
        far(),
        &with_txid(31, b"reply and request"),
        &[],
        100,
        0,
    )
    .unwrap();
    assert_eq!(reply.bytes, with_txid(31, b"final"));
    assert_eq!(client.join().unwrap(), with_txid(31, b"reply and request"));
    assert_nothing_queued(c.a);
    assert_nothing_queued(c.b);
}

// ---------------------------------------------------------------------------
// Closing, and handles inside messages

#[test]
fn channel_close_peer_sees_peer_closed_and_loses_only_writable() {
    let c = Pair::channel();
    send(c.a, b"queued", &[]).unwrap();
    sys::object_signal(c.b, NONE, U0).unwrap();
    sys::object_signal_peer(c.a, NONE, U7).unwrap();
    expect(c.b, R | W | L | U0 | U7);
    close(c.a);
    expect(c.b, R | P | L | U0 | U7);
}

#[test]
fn channel_close_peer_reads_every_queued_message_then_peer_closed() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    send(c.a, b"one", &[d]).unwrap();
    send(c.a, b"two", &[]).unwrap();
    send(c.a, b"", &[]).unwrap();
    close(c.a);
    let m = recv(c.b).unwrap();
    assert_eq!(m.bytes, b"one");
    assert_eq!(koid(m.handles[0]), koid(e.0), "handles included");
    m.close_handles();
    assert_eq!(recv(c.b).unwrap().bytes, b"two");
    assert_eq!(recv(c.b).unwrap().bytes, b"");
    assert_eq!(recv(c.b), Err(bare(Status::PEER_CLOSED)));
    expect(c.b, P | L);
}

#[test]
fn channel_close_peer_writes_and_calls_peer_closed_with_handles_kept() {
    let c = Pair::channel();
    close(c.a);
    let e = event();
    let kept = [held(e.0), held(c.b)];
    assert_eq!(send(c.b, b"x", &[e.0]), Err(Status::PEER_CLOSED));
    assert_eq!(
        call(c.b, far(), &with_txid(1, b"x"), &[e.0], 100, 1),
        Err(direct(Status::PEER_CLOSED))
    );
    assert_kept(&kept);
    expect(e.0, L);
}

#[test]
fn channel_close_destroys_the_closed_ends_queue_and_closes_its_handles() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    let s = Pair::stream();
    let x = Pair::channel();
    let ep = Pair::eventpair();
    send(c.a, b"first", &[d, s.b]).unwrap();
    send(c.a, b"second", &[x.b, ep.b]).unwrap();
    expect(e.0, NONE);
    expect(s.a, W | L);
    close(c.b);
    // As if mx_handle_close had been called on each: wait for it.
    assert_eq!(wait_for(e.0, L), L);
    assert_eq!(wait_for(s.a, P), P | L);
    assert_eq!(wait_for(x.a, P), P | L);
    assert_eq!(wait_for(ep.a, P), Signals::EPAIR_PEER_CLOSED | L);
    // The writer sees its peer gone.
    expect(c.a, P | L);
}

#[test]
fn channel_close_nested_chain_of_ends_all_close() {
    // pair i = (w[i], r[i]); r[i + 1] sits in a message queued at r[i]. The
    // last writer stays in the table to watch; closing r[0] must unravel the
    // whole chain, each end's queue destroyed as the end before it closes.
    const DEPTH: usize = 1000;
    let pairs: Vec<Pair> = (0..=DEPTH).map(|_| Pair::channel()).collect();
    let (watch, keep) = event_and_dup(Rights::SAME_RIGHTS);
    // The innermost message also holds an event duplicate.
    send(pairs[DEPTH].a, b"innermost", &[keep]).unwrap();
    for i in (0..DEPTH).rev() {
        send(pairs[i].a, b"nested", &[pairs[i + 1].b]).unwrap();
    }
    for pair in &pairs[..DEPTH] {
        close(pair.a);
    }
    expect(pairs[DEPTH].a, W | L);
    close(pairs[0].b);
    assert_eq!(wait_for(pairs[DEPTH].a, P), P | L);
    // r[DEPTH] held the innermost message: its handle was closed too.
    close(pairs[DEPTH].a);
    assert_eq!(wait_for(watch.0, L), L);
}

#[test]
fn channel_close_leaves_messages_the_closed_end_wrote_to_its_peer() {
    let c = Pair::channel();
    let (e, d) = event_and_dup(Rights::SAME_RIGHTS);
    // a writes to b, b writes to a; then a closes.
    send(c.a, b"from a", &[d]).unwrap();
    let (f, g) = event_and_dup(Rights::SAME_RIGHTS);
    send(c.b, b"from b", &[g]).unwrap();
    close(c.a);
    // What b wrote to a died with a; what a wrote to b is intact.
    assert_eq!(wait_for(f.0, L), L);
    let m = recv(c.b).unwrap();
    assert_eq!(m.bytes, b"from a");
    assert_eq!(koid(m.handles[0]), koid(e.0));
    expect(e.0, NONE);
    m.close_handles();
    expect(e.0, L);
}

#[test]
fn channel_close_calls_waiting_on_the_peer_end_fail_peer_closed() {
    // Several calls waiting on b when a closes: each ends as CALL_FAILED.
    let c = Pair::channel();
    let b = c.b;
    let callers: Vec<_> = (0..3u32)
        .map(|i| thread::spawn(move || call(b, far(), &with_txid(i, b"r"), &[], 100, 0)))
        .collect();
    for _ in 0..3 {
        wait_for(c.a, R);
        recv(c.a).unwrap();
    }
    close(c.a);
    for caller in callers {
        assert_eq!(caller.join().unwrap(), Err(failed(Status::PEER_CLOSED)));
    }
}

// ---------------------------------------------------------------------------
// Waiting and ports

#[test]
fn object_wait_one_channel_woken_by_a_write() {
    let c = Pair::channel();
    let a = c.a;
    let t = later(move || send(a, b"x", &[]).unwrap());
    assert_eq!(sys::object_wait_one(c.b, R, far()), Ok(R | W | L));
    t.join().unwrap();
}

#[test]
fn object_wait_one_channel_woken_by_peer_close() {
    let c = Pair::channel();
    let a = c.a;
    let t = later(move || close(a));
    let result = sys::object_wait_one(c.b, P, far());
    t.join().unwrap();
    // WRITABLE was seen while the wait was registered.
    assert_eq!(result, Ok(W | P | L));
}

#[test]
fn object_wait_one_channel_needs_read() {
    let c = Pair::channel();
    let b = sys::handle_replace(c.b, Rights::WRITE | Rights::TRANSFER).unwrap();
    assert_eq!(
        sys::object_wait_one(b, R, Time::ZERO),
        Err(ErrorWith {
            status: Status::ACCESS_DENIED,
            value: None
        })
    );
    let p = port();
    assert_eq!(
        sys::object_wait_async(b, p.0, 1, R, WAIT_ASYNC_ONCE),
        Err(Status::ACCESS_DENIED)
    );
    let mut items = [WaitItem {
        handle: b,
        waitfor: R,
        pending: NONE,
    }];
    assert_eq!(
        sys::object_wait_many(&mut items, Time::ZERO),
        Err(Status::ACCESS_DENIED)
    );
    close(b);
}

#[test]
fn object_wait_many_channel_ends() {
    let c = Pair::channel();
    let d = Pair::channel();
    let da = d.a;
    let t = later(move || send(da, b"x", &[]).unwrap());
    let mut items = [
        WaitItem {
            handle: c.b,
            waitfor: R,
            pending: NONE,
        },
        WaitItem {
            handle: d.b,
            waitfor: R,
            pending: NONE,
        },
    ];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    t.join().unwrap();
    assert_eq!(items[0].pending, W | L);
    assert_eq!(items[1].pending, R | W | L);
}

#[test]
fn object_wait_one_through_a_handle_then_sent_is_canceled() {
    let c = Pair::channel();
    let e = event();
    let h = e.0;
    let waiter = thread::spawn(move || sys::object_wait_one(h, U0, far()));
    thread::sleep(Duration::from_millis(SETTLE_MS));
    send(c.a, b"", &[h]).unwrap();
    // At the latest once the message is read out.
    let m = recv(c.b).unwrap();
    let result = waiter.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.status, Status::CANCELED);
    let observed = err.value.expect("observed is reported with CANCELED");
    assert!(observed.contains(CLOSED), "{observed:?}");
    // The received handle starts with no waits: the object is unchanged.
    expect(m.handles[0], L);
    m.close_handles();
}

#[test]
fn object_wait_one_through_a_channel_end_then_sent_is_canceled() {
    let c = Pair::channel();
    let x = Pair::channel();
    let y = x.b;
    let waiter = thread::spawn(move || sys::object_wait_one(y, R, far()));
    thread::sleep(Duration::from_millis(SETTLE_MS));
    send(c.a, b"", &[y]).unwrap();
    let m = recv(c.b).unwrap();
    let err = waiter.join().unwrap().unwrap_err();
    assert_eq!(err.status, Status::CANCELED);
    assert!(err.value.unwrap().contains(CLOSED | W));
    // A message for it now wakes nobody through the old value, and the new
    // handle works.
    send(x.a, b"x", &[]).unwrap();
    assert_eq!(sys::object_wait_one(m.handles[0], R, far()), Ok(R | W | L));
    m.close_handles();
}

#[test]
fn object_wait_many_through_a_handle_then_sent_is_canceled() {
    let c = Pair::channel();
    let e = event();
    let f = event();
    let (h, other) = (e.0, f.0);
    let waiter = thread::spawn(move || {
        let mut items = [
            WaitItem {
                handle: other,
                waitfor: U0,
                pending: NONE,
            },
            WaitItem {
                handle: h,
                waitfor: U0,
                pending: NONE,
            },
        ];
        let result = sys::object_wait_many(&mut items, far());
        (result, items[1].pending)
    });
    thread::sleep(Duration::from_millis(SETTLE_MS));
    send(c.a, b"", &[h]).unwrap();
    let m = recv(c.b).unwrap();
    let (result, pending) = waiter.join().unwrap();
    assert_eq!(result, Err(Status::CANCELED));
    assert!(pending.contains(CLOSED), "{pending:?}");
    m.close_handles();
}

#[test]
fn object_wait_async_through_a_handle_then_sent_is_removed() {
    for mode in [WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING] {
        let c = Pair::channel();
        let p = port();
        let e = event();
        sys::object_wait_async(e.0, p.0, 1, U0, mode).unwrap();
        send(c.a, b"", &[e.0]).unwrap();
        let m = recv(c.b).unwrap();
        let received = m.handles[0];
        // Signalling through the received handle reaches no old wait.
        sys::object_signal(received, NONE, U0).unwrap();
        assert_no_packet(p.0);
        // It starts with no waits, and takes new ones.
        sys::object_wait_async(received, p.0, 2, U0, mode).unwrap();
        let got = packet(p.0);
        assert_eq!(got.key, 2, "mode {mode}");
        assert_eq!(got.signal_fields(), (U0, U0 | L, 1));
        m.close_handles();
    }
}

#[test]
fn object_wait_async_first_packet_counts_the_queued_messages() {
    // SPEC 10's example: five messages queued, peer closed, then an
    // asynchronous wait for READABLE | PEER_CLOSED, in either mode.
    for (mode, type_) in [
        (WAIT_ASYNC_ONCE, PKT_TYPE_SIGNAL_ONE),
        (WAIT_ASYNC_REPEATING, PKT_TYPE_SIGNAL_REP),
    ] {
        let c = Pair::channel();
        let p = port();
        for i in 0..5u8 {
            send(c.a, &[i], &[]).unwrap();
        }
        close(c.a);
        sys::object_wait_async(c.b, p.0, 42, R | P, mode).unwrap();
        let got = packet(p.0);
        assert_eq!((got.key, got.type_, got.status), (42, type_, 0));
        assert_eq!(got.signal_fields(), (R | P, R | P | L, 5), "mode {mode}");
        assert_no_packet(p.0);
    }
}

#[test]
fn object_wait_async_repeating_later_packets_count_one() {
    let c = Pair::channel();
    let p = port();
    for i in 0..3u8 {
        send(c.a, &[i], &[]).unwrap();
    }
    sys::object_wait_async(c.b, p.0, 7, R, WAIT_ASYNC_REPEATING).unwrap();
    assert_eq!(packet(p.0).signal_fields(), (R, R | W | L, 3));
    // Drain, then a new message: the next packet counts one.
    for _ in 0..3 {
        recv(c.b).unwrap();
    }
    assert_no_packet(p.0);
    send(c.a, b"x", &[]).unwrap();
    assert_eq!(packet(p.0).signal_fields(), (R, R | W | L, 1));
    sys::port_cancel(p.0, c.b, 7).unwrap();
}

#[test]
fn object_wait_async_count_is_one_unless_readable_is_watched() {
    let c = Pair::channel();
    let p = port();
    for i in 0..4u8 {
        send(c.a, &[i], &[]).unwrap();
    }
    sys::object_wait_async(c.b, p.0, 1, W | U0, WAIT_ASYNC_ONCE).unwrap();
    assert_eq!(packet(p.0).signal_fields(), (W | U0, R | W | L, 1));
}

#[test]
fn object_wait_async_readable_armed_on_an_empty_end() {
    for (mode, type_) in [
        (WAIT_ASYNC_ONCE, PKT_TYPE_SIGNAL_ONE),
        (WAIT_ASYNC_REPEATING, PKT_TYPE_SIGNAL_REP),
    ] {
        let c = Pair::channel();
        let p = port();
        sys::object_wait_async(c.b, p.0, 3, R, mode).unwrap();
        assert_no_packet(p.0);
        let a = c.a;
        let t = later(move || send(a, b"arrives", &[]).unwrap());
        let got = packet(p.0);
        t.join().unwrap();
        assert_eq!((got.key, got.type_), (3, type_));
        assert_eq!(got.signal_fields(), (R, R | W | L, 1), "mode {mode}");
    }
}

#[test]
fn object_wait_async_peer_closed_on_a_channel() {
    let c = Pair::channel();
    let p = port();
    sys::object_wait_async(c.b, p.0, 5, P, WAIT_ASYNC_ONCE).unwrap();
    close(c.a);
    assert_eq!(packet(p.0).signal_fields(), (P, P | L, 1));
}

#[test]
fn channel_close_end_peer_and_port_in_any_order_with_async_waits() {
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for mode in [WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING] {
        for order in orders {
            let (a, b) = sys::channel_create(0).unwrap();
            let p = sys::port_create(0).unwrap();
            send(a, b"queued at b", &[]).unwrap();
            sys::object_wait_async(a, p, 1, R | P, mode).unwrap();
            sys::object_wait_async(b, p, 2, R | P | U0, mode).unwrap();
            sys::object_wait_async(b, p, 3, P, mode).unwrap();
            let handles = [a, b, p];
            for i in order {
                assert_eq!(
                    sys::handle_close(handles[i]),
                    Ok(()),
                    "mode {mode}, order {order:?}"
                );
            }
        }
    }
}

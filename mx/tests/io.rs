//! The safe API (`mx::api`): owned handles, typed objects, blocking
//! `std::io::Read`/`Write` and datagram `send`/`recv` on sockets, and
//! `object_wait_many`.
//!
//! Blocking calls carry deadlines (or run beside a thread that unblocks
//! them) so a bug fails a test instead of hanging the suite.

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use mx::api::{
    object_wait_many, AsHandleRef, Channel, ClockId, Deadline, Event, EventPair, Handle,
    HandleBased, HandleRef, MessageBuf, Packet, Peered, Port, Socket, SocketOpts, UserPacket,
    WaitItem,
};
use mx::core::abi::INFO_HANDLE_VALID;
use mx::sys;
use mx::{ObjectType, Rights, Signals, Status, Time, TimeExt};

const CAP: usize = 257_024;

/// A timeout no correct test reaches.
fn far() -> Duration {
    Duration::from_secs(20)
}

fn after_ms(ms: u64) -> Time {
    Time::after(Duration::from_millis(ms))
}

fn is_live(raw: mx::RawHandle) -> bool {
    sys::object_get_info(raw, INFO_HANDLE_VALID, &mut [][..]).is_ok()
}

/// The current signals of a handle.
fn signals(h: &impl AsHandleRef) -> Signals {
    match sys::object_wait_one(h.raw_handle(), Signals::NONE, Time::ZERO) {
        Err(e) if e.status == Status::TIMED_OUT => e.value.unwrap(),
        other => panic!("{other:?}"),
    }
}

/// CPU time this thread has used, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let ts = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn pattern(seed: u8, n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

/// The `Status` inside an `io::Error` made from one.
fn status_of(e: &io::Error) -> Option<Status> {
    e.get_ref()?.downcast_ref::<Status>().copied()
}

// ---------------------------------------------------------------------------
// std::io::Read and Write

#[test]
fn io_write_then_read_owned_and_borrowed() {
    let (mut a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.write_all(b"owned ").unwrap();
    (&a).write_all(b"borrowed").unwrap();
    a.flush().unwrap();
    let mut got = [0u8; 14];
    (&b).read_exact(&mut got).unwrap();
    assert_eq!(&got, b"owned borrowed");
    let mut b = b;
    (&a).write_all(b"!").unwrap();
    assert_eq!(Read::read(&mut b, &mut got).unwrap(), 1);
}

#[test]
fn io_write_may_be_short_like_a_pipe() {
    let (mut a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let data = pattern(1, 300_000);
    assert_eq!(Write::write(&mut a, &data).unwrap(), CAP);
    assert_eq!(b.outstanding_read_bytes(), Ok(CAP));
}

#[test]
fn io_write_and_read_empty_buffers() {
    let (mut a, mut b) = Socket::create(SocketOpts::Stream).unwrap();
    assert_eq!(Write::write(&mut a, &[]).unwrap(), 0);
    // An empty read returns at once, even with nothing to read.
    assert_eq!(Read::read(&mut b, &mut []).unwrap(), 0);
    assert_eq!(b.outstanding_read_bytes(), Ok(0));
}

#[test]
fn io_read_blocks_until_data() {
    let (a, mut b) = Socket::create(SocketOpts::Stream).unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        (&a).write_all(b"late").unwrap();
        a
    });
    let start = sys::time_get(0);
    let mut buf = [0u8; 16];
    let n = Read::read(&mut b, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"late");
    assert!(sys::time_get(0).0 - start.0 >= 50_000_000, "did not block");
    drop(writer.join().unwrap());
}

#[test]
fn io_write_all_beyond_capacity_with_reader_thread() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let data = pattern(7, 1_000_000);
    let expected = data.clone();
    let writer = thread::spawn(move || {
        let mut a = a;
        a.write_all(&data).unwrap();
        // Dropping `a` ends the stream.
    });
    let mut got = Vec::new();
    (&b).read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected);
}

#[test]
fn io_read_peer_closed_is_eof() {
    let (a, mut b) = Socket::create(SocketOpts::Stream).unwrap();
    (&a).write_all(b"tail").unwrap();
    drop(a);
    let mut got = Vec::new();
    assert_eq!(b.read_to_end(&mut got).unwrap(), 4);
    assert_eq!(got, b"tail");
    assert_eq!(Read::read(&mut b, &mut [0u8; 8]).unwrap(), 0);
    assert_eq!(Read::read(&mut b, &mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn io_read_peer_half_closed_is_eof() {
    let (a, mut b) = Socket::create(SocketOpts::Stream).unwrap();
    (&a).write_all(b"done").unwrap();
    a.half_close().unwrap();
    let mut got = String::new();
    b.read_to_string(&mut got).unwrap();
    assert_eq!(got, "done");
    // The other direction still works.
    (&b).write_all(b"reply").unwrap();
    let mut reply = [0u8; 5];
    (&a).read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"reply");
}

#[test]
fn io_read_blocked_wakes_with_eof_on_peer_close() {
    let (a, mut b) = Socket::create(SocketOpts::Stream).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        drop(a);
    });
    assert_eq!(Read::read(&mut b, &mut [0u8; 8]).unwrap(), 0);
    closer.join().unwrap();
}

#[test]
fn io_write_after_peer_closed_broken_pipe() {
    let (mut a, b) = Socket::create(SocketOpts::Stream).unwrap();
    drop(b);
    let err = Write::write(&mut a, b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(status_of(&err), Some(Status::PEER_CLOSED));
    let err = (&a).write_all(b"xyz").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn io_write_after_own_half_close_broken_pipe() {
    let (mut a, _b) = Socket::create(SocketOpts::Stream).unwrap();
    a.half_close().unwrap();
    let err = Write::write(&mut a, b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    assert_eq!(status_of(&err), Some(Status::BAD_STATE));
}

#[test]
fn io_write_blocked_on_full_then_peer_closes_broken_pipe() {
    let (mut a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.write_all(&pattern(0, CAP)).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        drop(b);
    });
    let err = Write::write(&mut a, b"more").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    closer.join().unwrap();
}

#[test]
fn io_write_blocked_on_full_wakes_when_reader_reads() {
    let (mut a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.write_all(&pattern(0, CAP)).unwrap();
    let reader = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let mut buf = vec![0u8; 1000];
        assert_eq!(b.try_read(&mut buf), Ok(1000));
        b
    });
    assert_eq!(Write::write(&mut a, &pattern(1, 5000)).unwrap(), 1000);
    drop(reader.join().unwrap());
}

#[test]
fn io_write_blocked_on_full_then_own_end_half_closed_broken_pipe() {
    let (a, _b) = Socket::create(SocketOpts::Stream).unwrap();
    a.try_write(&pattern(0, CAP)).unwrap();
    let other = a.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
    let (tx, rx) = mpsc::channel();
    let writer = thread::spawn(move || {
        let mut a = a;
        tx.send(Write::write(&mut a, b"more").map_err(|e| e.kind()))
            .unwrap();
    });
    thread::sleep(Duration::from_millis(100));
    other.half_close().unwrap();
    let result = rx.recv_timeout(Duration::from_secs(3));
    // Unblock the writer whatever happened, so the thread ends.
    drop(other);
    drop(_b);
    writer.join().unwrap();
    assert_eq!(result, Ok(Err(io::ErrorKind::BrokenPipe)));
}

#[test]
fn io_on_datagram_socket_moves_whole_datagrams() {
    let (mut a, mut b) = Socket::create(SocketOpts::Datagram).unwrap();
    assert_eq!(Write::write(&mut a, b"first").unwrap(), 5);
    assert_eq!(Write::write(&mut a, b"second").unwrap(), 6);
    let mut buf = [0u8; 3];
    // A short buffer truncates one datagram.
    assert_eq!(Read::read(&mut b, &mut buf).unwrap(), 3);
    assert_eq!(&buf, b"fir");
    let mut big = [0u8; 64];
    assert_eq!(Read::read(&mut b, &mut big).unwrap(), 6);
    assert_eq!(&big[..6], b"second");
}

#[test]
fn io_write_datagram_larger_than_capacity_fails_at_once() {
    let (mut a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(b"x").unwrap();
    let err = Write::write(&mut a, &vec![0u8; CAP + 1]).unwrap_err();
    assert_eq!(status_of(&err), Some(Status::OUT_OF_RANGE));
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(b.outstanding_read_bytes(), Ok(1));
}

#[test]
fn io_write_datagram_waits_for_room_for_all_of_it() {
    let (mut a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(&pattern(1, 200_000)).unwrap();
    let reader = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        let mut buf = vec![0u8; 200_000];
        assert_eq!(b.recv(&mut buf), Ok(200_000));
        b
    });
    assert_eq!(Write::write(&mut a, &pattern(2, 100_000)).unwrap(), 100_000);
    let b = reader.join().unwrap();
    assert_eq!(b.outstanding_read_bytes(), Ok(100_000));
}

#[test]
fn io_error_from_status_keeps_the_status() {
    let err: io::Error = Status::SHOULD_WAIT.into();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    assert_eq!(status_of(&err), Some(Status::SHOULD_WAIT));
    let err: io::Error = Status::TIMED_OUT.into();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut);
}

// ---------------------------------------------------------------------------
// Socket::send and Socket::recv

#[test]
fn socket_send_recv_datagram_round_trip() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(b"one").unwrap();
    a.send(&pattern(3, 70_000)).unwrap();
    a.send(b"").unwrap();
    let mut buf = vec![0u8; 100_000];
    assert_eq!(b.recv(&mut buf), Ok(3));
    assert_eq!(&buf[..3], b"one");
    assert_eq!(b.recv(&mut buf), Ok(70_000));
    assert_eq!(buf[..70_000], pattern(3, 70_000)[..]);
    // The empty send queued nothing.
    assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_recv_blocks_until_send() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        a.send(b"hello").unwrap();
        a
    });
    let mut buf = [0u8; 16];
    assert_eq!(b.recv_deadline(&mut buf, far()), Ok(5));
    assert_eq!(&buf[..5], b"hello");
    drop(sender.join().unwrap());
}

#[test]
fn socket_recv_deadline_timed_out() {
    let (_a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let deadline = after_ms(80);
    assert_eq!(
        b.recv_deadline(&mut [0u8; 4], deadline),
        Err(Status::TIMED_OUT)
    );
    assert!(sys::time_get(0) >= deadline);
}

#[test]
fn socket_recv_peer_closed_after_drain() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(b"last").unwrap();
    drop(a);
    let mut buf = [0u8; 8];
    assert_eq!(b.recv(&mut buf), Ok(4));
    assert_eq!(b.recv(&mut buf), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_recv_canceled_when_handle_closed_elsewhere() {
    let (_a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let raw = b.into_handle().into_raw();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        sys::handle_close(raw).unwrap();
    });
    let b = Socket::from(Handle::from_raw(raw));
    assert_eq!(b.recv_deadline(&mut [0u8; 4], far()), Err(Status::CANCELED));
    closer.join().unwrap();
    // The value is closed already: dropping `b` finds nothing to close.
    let _ = b.into_handle().into_raw();
}

#[test]
fn socket_send_datagram_larger_than_capacity_out_of_range() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    assert_eq!(a.send(&vec![0u8; CAP + 1]), Err(Status::OUT_OF_RANGE));
    assert_eq!(b.outstanding_read_bytes(), Ok(0));
    // Also when the socket already holds something.
    a.send(b"x").unwrap();
    assert_eq!(a.send(&vec![0u8; 2 * CAP]), Err(Status::OUT_OF_RANGE));
    assert_eq!(b.outstanding_read_bytes(), Ok(1));
    // Exactly the capacity fits once the socket is empty.
    assert_eq!(b.recv(&mut [0u8; 4]), Ok(1));
    a.send(&pattern(2, CAP)).unwrap();
    assert_eq!(b.outstanding_read_bytes(), Ok(CAP));
}

#[test]
fn socket_send_stream_larger_than_capacity_with_reader() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let data = pattern(9, 700_000);
    let expected = data.clone();
    let sender = thread::spawn(move || a.send_deadline(&data, far()));
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65_536];
    while got.len() < expected.len() {
        let n = b.recv_deadline(&mut buf, far()).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(sender.join().unwrap(), Ok(()));
    assert!(got == expected);
}

#[test]
fn socket_send_datagram_sleeps_until_room_for_whole_datagram() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(&pattern(1, 60_000)).unwrap();
    a.send(&pattern(2, 140_000)).unwrap();
    // 57,024 bytes are free and stay free: WRITABLE stays asserted while the
    // next datagram does not fit.
    assert!(signals(&a).contains(Signals::WRITABLE));
    let (tx, rx) = mpsc::channel();
    let sender = thread::spawn(move || {
        let cpu = thread_cpu_ns();
        let result = a.send_deadline(&pattern(3, 120_000), far());
        tx.send((result, thread_cpu_ns() - cpu)).unwrap();
        a
    });
    thread::sleep(Duration::from_millis(300));
    assert!(rx.try_recv().is_err(), "sent without room");
    let mut buf = vec![0u8; 200_000];
    // Freeing 60,000 bytes leaves 117,024: still not enough.
    assert_eq!(b.recv(&mut buf), Ok(60_000));
    thread::sleep(Duration::from_millis(200));
    assert!(rx.try_recv().is_err(), "sent without room");
    assert_eq!(b.recv(&mut buf), Ok(140_000));
    let (result, cpu_ns) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(result, Ok(()));
    // A spinning sender would have burned most of the 500 ms it waited.
    assert!(
        cpu_ns < 100_000_000,
        "the blocked sender used {} ms of CPU",
        cpu_ns / 1_000_000
    );
    assert_eq!(b.recv(&mut buf), Ok(120_000));
    assert_eq!(buf[..120_000], pattern(3, 120_000)[..]);
    drop(sender.join().unwrap());
}

#[test]
fn socket_send_deadline_timed_out_when_datagram_does_not_fit() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(&pattern(1, 200_000)).unwrap();
    let deadline = after_ms(100);
    assert_eq!(
        a.send_deadline(&pattern(2, 100_000), deadline),
        Err(Status::TIMED_OUT)
    );
    assert!(sys::time_get(0) >= deadline);
    assert_eq!(b.outstanding_read_bytes(), Ok(200_000));
}

#[test]
fn socket_send_blocked_datagram_gets_peer_closed() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(&pattern(1, 200_000)).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        drop(b);
    });
    assert_eq!(
        a.send_deadline(&pattern(2, 100_000), far()),
        Err(Status::PEER_CLOSED)
    );
    closer.join().unwrap();
}

#[test]
fn socket_send_blocked_then_own_end_half_closed_bad_state() {
    let (a, _b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.send(&pattern(1, 200_000)).unwrap();
    let other = a.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        other.half_close().unwrap();
        other
    });
    let result = a.send_deadline(&pattern(2, 100_000), after_ms(3000));
    drop(closer.join().unwrap());
    assert_eq!(result, Err(Status::BAD_STATE));
}

#[test]
fn socket_send_after_half_close_bad_state() {
    let (a, _b) = Socket::create(SocketOpts::Datagram).unwrap();
    a.half_close().unwrap();
    assert_eq!(a.send(b"x"), Err(Status::BAD_STATE));
    let (s, _t) = Socket::create(SocketOpts::Stream).unwrap();
    s.half_close().unwrap();
    assert_eq!(s.send(b"x"), Err(Status::BAD_STATE));
}

#[test]
fn socket_send_to_closed_peer_peer_closed() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    drop(b);
    assert_eq!(a.send(b"x"), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_nonblocking_calls_mirror_the_syscalls() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
    assert_eq!(a.try_write(b"abc"), Ok(3));
    assert_eq!(b.outstanding_read_bytes(), Ok(3));
    assert_eq!(b.try_read(&mut buf), Ok(3));
    a.half_close().unwrap();
    a.half_close().unwrap();
    assert_eq!(a.try_write(b"x"), Err(Status::BAD_STATE));
    assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
}

// ---------------------------------------------------------------------------
// Handles

#[test]
fn handle_drop_closes() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let raw = a.raw_handle();
    assert!(is_live(raw));
    drop(a);
    assert!(!is_live(raw));
    assert_eq!(signals(&b), Signals::PEER_CLOSED | Signals::LAST_HANDLE);
    let e = Event::create().unwrap();
    let raw = e.raw_handle();
    drop(e);
    assert!(!is_live(raw));
}

#[test]
fn handle_into_raw_keeps_it_open_and_from_raw_takes_it_back() {
    let e = Event::create().unwrap();
    let raw = e.into_handle().into_raw();
    assert!(is_live(raw));
    let h = Handle::from_raw(raw);
    assert_eq!(h.raw_handle(), raw);
    assert!(!h.is_invalid());
    drop(h);
    assert!(!is_live(raw));
}

#[test]
fn handle_invalid_drops_quietly() {
    let h = Handle::invalid();
    assert!(h.is_invalid());
    assert_eq!(h.raw_handle(), mx::HANDLE_INVALID);
    assert_eq!(h.basic_info(), Err(Status::BAD_HANDLE));
    drop(h);
}

#[test]
fn handle_based_duplicate_with_rights() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let r = a
        .duplicate_handle(Rights::READ | Rights::DUPLICATE)
        .unwrap();
    assert_eq!(
        r.basic_info().unwrap().rights,
        Rights::READ | Rights::DUPLICATE
    );
    assert_eq!(r.koid(), a.koid());
    assert_eq!(r.try_write(b"x"), Err(Status::ACCESS_DENIED));
    assert!(!signals(&a).contains(Signals::LAST_HANDLE));
    assert_eq!(
        r.duplicate_handle(Rights::WRITE).unwrap_err(),
        Status::INVALID_ARGS
    );
    drop(r);
    assert!(signals(&a).contains(Signals::LAST_HANDLE));
    drop(b);
}

#[test]
fn handle_based_replace_hands_the_handle_back_on_failure() {
    let (a, _b) = Socket::create(SocketOpts::Stream).unwrap();
    let r = a.duplicate_handle(Rights::READ | Rights::WRITE).unwrap();
    let raw = r.raw_handle();
    let err = r.replace_handle(Rights::SOCKET_DEFAULT).unwrap_err();
    assert_eq!(err.status, Status::INVALID_ARGS);
    let r = err.handle;
    assert_eq!(r.raw_handle(), raw);
    assert!(is_live(raw));
    assert_eq!(r.try_write(b"still mine"), Ok(10));
}

#[test]
fn handle_based_replace_success_closes_the_old_value() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let old = a.raw_handle();
    let a = a.replace_handle(Rights::READ | Rights::WRITE).unwrap();
    assert_ne!(a.raw_handle(), old);
    assert!(!is_live(old));
    assert_eq!(a.basic_info().unwrap().rights, Rights::READ | Rights::WRITE);
    // Replace is not a close: the peer is not told.
    assert!(!signals(&b).contains(Signals::PEER_CLOSED));
    assert!(signals(&a).contains(Signals::LAST_HANDLE));
}

#[test]
fn as_handle_ref_info_koid_and_type() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let info = a.get_info().unwrap();
    assert_eq!(info, a.basic_info().unwrap());
    assert_eq!(info.related_koid, b.koid().unwrap());
    assert_eq!(a.object_type(), Ok(ObjectType::SOCKET));
    let e = Event::create().unwrap();
    assert_eq!(e.object_type(), Ok(ObjectType::EVENT));
    let (p, _q) = EventPair::create().unwrap();
    assert_eq!(p.object_type(), Ok(ObjectType::EVENT_PAIR));
    let r = a.as_handle_ref();
    assert_eq!(r.raw_handle(), a.raw_handle());
    assert_eq!(r.koid(), a.koid());
}

#[test]
fn event_signal_and_wait() {
    let e = Event::create().unwrap();
    assert_eq!(
        e.wait_handle(Signals::EVENT_SIGNALED, Time::ZERO),
        Err(Status::TIMED_OUT)
    );
    let d = e.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        d.signal_handle(Signals::NONE, Signals::EVENT_SIGNALED)
            .unwrap();
    });
    let observed = e.wait_handle(Signals::EVENT_SIGNALED, far()).unwrap();
    assert!(observed.contains(Signals::EVENT_SIGNALED));
    setter.join().unwrap();
    assert_eq!(
        e.signal_handle(Signals::NONE, Signals::READABLE),
        Err(Status::INVALID_ARGS)
    );
}

#[test]
fn eventpair_signal_peer_and_peer_closed() {
    let (a, b) = EventPair::create().unwrap();
    a.signal_peer(Signals::NONE, Signals::USER_1).unwrap();
    assert_eq!(signals(&b), Signals::USER_1 | Signals::LAST_HANDLE);
    drop(a);
    assert_eq!(
        b.wait_handle(Signals::EPAIR_PEER_CLOSED, far()),
        Ok(Signals::USER_1 | Signals::LAST_HANDLE | Signals::EPAIR_PEER_CLOSED)
    );
    assert_eq!(
        b.signal_peer(Signals::NONE, Signals::USER_0),
        Err(Status::PEER_CLOSED)
    );
}

#[test]
fn socket_signal_peer_through_the_api() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.signal_peer(Signals::NONE, Signals::USER_3).unwrap();
    assert!(signals(&b).contains(Signals::USER_3));
    assert_eq!(
        a.signal_peer(Signals::NONE, Signals::READABLE),
        Err(Status::INVALID_ARGS)
    );
}

#[test]
fn object_wait_many_api_fills_pending() {
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let e = Event::create().unwrap();
    let mut items = [
        WaitItem {
            handle: b.as_handle_ref(),
            waitfor: Signals::READABLE,
            pending: Signals::NONE,
        },
        WaitItem {
            handle: e.as_handle_ref(),
            waitfor: Signals::EVENT_SIGNALED,
            pending: Signals::NONE,
        },
    ];
    assert_eq!(
        object_wait_many(&mut items, Time::ZERO),
        Err(Status::TIMED_OUT)
    );
    assert_eq!(items[0].pending, Signals::WRITABLE | Signals::LAST_HANDLE);
    assert_eq!(items[1].pending, Signals::LAST_HANDLE);
    a.try_write(b"x").unwrap();
    assert_eq!(object_wait_many(&mut items, far()), Ok(()));
    assert_eq!(
        items[0].pending,
        Signals::READABLE | Signals::WRITABLE | Signals::LAST_HANDLE
    );
    assert_eq!(items[1].pending, Signals::LAST_HANDLE);
}

#[test]
fn object_wait_many_api_blocks_and_reports_errors() {
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let e = Event::create().unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(80));
        a.try_write(b"go").unwrap();
        a
    });
    let mut items = [
        WaitItem {
            handle: e.as_handle_ref(),
            waitfor: Signals::EVENT_SIGNALED,
            pending: Signals::NONE,
        },
        WaitItem {
            handle: b.as_handle_ref(),
            waitfor: Signals::READABLE,
            pending: Signals::NONE,
        },
    ];
    assert_eq!(object_wait_many(&mut items, far()), Ok(()));
    assert!(items[1].pending.contains(Signals::READABLE));
    drop(writer.join().unwrap());
    let mut bad = [WaitItem {
        handle: HandleRef::from_raw(mx::HANDLE_INVALID),
        waitfor: Signals::READABLE,
        pending: Signals::NONE,
    }];
    assert_eq!(
        object_wait_many(&mut bad, Time::ZERO),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        object_wait_many(&mut [], Time::ZERO),
        Err(Status::TIMED_OUT)
    );
}

// ---------------------------------------------------------------------------
// One mapping from Status to io::ErrorKind

#[test]
fn io_error_kind_is_the_same_through_every_path() {
    // A write after this end's half-close: BAD_STATE, a write to a shut
    // stream, BrokenPipe whichever way the error is made.
    let (mut a, _b) = Socket::create(SocketOpts::Stream).unwrap();
    a.half_close().unwrap();
    let through_write = Write::write(&mut a, b"x").unwrap_err();
    let through_question_mark = (|| -> io::Result<()> {
        a.send(b"x")?;
        Ok(())
    })()
    .unwrap_err();
    let through_from = io::Error::from(Status::BAD_STATE);
    for err in [&through_write, &through_question_mark, &through_from] {
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(status_of(err), Some(Status::BAD_STATE));
    }
    for &status in Status::ALL_ERRORS {
        assert_eq!(io::Error::from(status).kind(), status.io_kind());
    }
}

// ---------------------------------------------------------------------------
// The natural std::io code does the natural thing

#[test]
fn io_read_method_with_the_trait_in_scope_blocks_and_reads_eof() {
    // Written as for a UnixStream: `rx.read(&mut buf)?` is std::io::Read.
    fn copy_all(mut rx: Socket) -> io::Result<Vec<u8>> {
        let mut got = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = rx.read(&mut buf)?;
            if n == 0 {
                return Ok(got);
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    let (mut tx, rx) = Socket::create(SocketOpts::Stream).unwrap();
    let reader = thread::spawn(move || copy_all(rx));
    thread::sleep(Duration::from_millis(50));
    assert_eq!(tx.write(b"late bytes").unwrap(), 10);
    drop(tx);
    assert_eq!(reader.join().unwrap().unwrap(), b"late bytes");
}

// ---------------------------------------------------------------------------
// Time and deadlines

#[test]
fn time_now_after_and_get_read_the_clocks() {
    let before = sys::time_get(0);
    let now = Time::now();
    assert!(now >= before);
    assert!(Time::get(ClockId::Monotonic) >= now);
    let deadline = Time::after(Duration::from_millis(30));
    assert!(deadline >= now + Duration::from_millis(30));
    assert_eq!(Time::after(Duration::MAX), Time::INFINITE);
    deadline.sleep();
    assert!(Time::now() >= deadline);
    // Past the start of 2020, in nanoseconds since the epoch.
    assert!(Time::get(ClockId::Utc).into_nanos() > 1_577_836_800 * 1_000_000_000);
    assert!(Time::get(ClockId::Thread) > Time::ZERO);
    assert_eq!(ClockId::Thread.into_raw(), mx::core::abi::CLOCK_THREAD);
}

#[test]
fn deadlines_are_times_durations_or_instants() {
    let e = Event::create().unwrap();
    let start = Time::now();
    assert_eq!(
        e.wait_handle(Signals::USER_0, Duration::from_millis(40)),
        Err(Status::TIMED_OUT)
    );
    assert!(Time::now() - start >= Duration::from_millis(40));
    let start = Time::now();
    let instant = std::time::Instant::now() + Duration::from_millis(40);
    assert_eq!(
        e.wait_handle(Signals::USER_0, instant),
        Err(Status::TIMED_OUT)
    );
    assert!(Time::now() - start >= Duration::from_millis(39));
    assert_eq!(
        e.wait_handle(Signals::USER_0, Duration::ZERO),
        Err(Status::TIMED_OUT)
    );
    assert_eq!(
        e.wait_handle(Signals::USER_0, Deadline::At(Time::ZERO)),
        Err(Status::TIMED_OUT)
    );
    e.signal_handle(Signals::NONE, Signals::USER_0).unwrap();
    assert!(e
        .wait_handle(Signals::USER_0, Deadline::INFINITE)
        .unwrap()
        .contains(Signals::USER_0));
    assert_eq!(Deadline::from(Time::ZERO), Deadline::At(Time::ZERO));
    assert_eq!(Deadline::INFINITE.to_time(), Time::INFINITE);
    let past = std::time::Instant::now();
    assert_eq!(Deadline::from(past), Deadline::After(Duration::ZERO));
}

#[test]
fn every_blocking_call_takes_a_duration() {
    let short = Duration::from_millis(20);
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    assert_eq!(
        b.recv_deadline(&mut [0u8; 4], short),
        Err(Status::TIMED_OUT)
    );
    a.send(&pattern(0, CAP)).unwrap();
    assert_eq!(a.send_deadline(b"x", short), Err(Status::TIMED_OUT));
    let (c, d) = Channel::create().unwrap();
    let mut buf = MessageBuf::new();
    assert_eq!(d.recv_deadline(&mut buf, short), Err(Status::TIMED_OUT));
    let mut reply = MessageBuf::with_max_capacity().unwrap();
    let err = c
        .call(short, &[1, 0, 0, 0], &mut Vec::new(), &mut reply)
        .unwrap_err();
    assert_eq!(err.status, Status::TIMED_OUT);
    let port = Port::create().unwrap();
    assert_eq!(port.wait(short), Err(Status::TIMED_OUT));
    port.queue(&Packet::from_user_packet(
        7,
        Status::OK,
        UserPacket::from_u64_array([1, 2, 3, 4]),
    ))
    .unwrap();
    assert_eq!(port.wait(short).map(|p| p.key()), Ok(7));
    let mut items = [WaitItem {
        handle: d.as_handle_ref(),
        waitfor: Signals::USER_0,
        pending: Signals::NONE,
    }];
    assert_eq!(object_wait_many(&mut items, short), Err(Status::TIMED_OUT));
}

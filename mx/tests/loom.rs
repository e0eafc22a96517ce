//! Loom models of the object layer: every interleaving (up to a preemption
//! bound) of a few threads using the system calls.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p mx --test loom --release`.
//! Under loom a socket holds 16 bytes and pipe chunks are 4-8 bytes, so the
//! models exercise full sockets and chunk boundaries with a few bytes.
#![cfg(loom)]

use loom::thread;
use mx::api::{Socket, SocketOpts};
use mx::core::abi::WAIT_ASYNC_ONCE;
use mx::sys;
use mx::{Rights, Signals, Status, Time};

/// Checks `f` under every interleaving with at most `LOOM_MAX_PREEMPTIONS`
/// preemptions (default 3), and prints how many executions that took.
fn model(f: impl Fn() + Sync + Send + 'static) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f()
    });
    eprintln!("loom: {} executions", runs.load(Ordering::Relaxed));
}

fn signals(h: mx::RawHandle) -> Signals {
    match sys::object_wait_one(h, Signals::NONE, Time::ZERO) {
        Err(e) => e.value.expect("observed"),
        Ok(s) => s,
    }
}

/// A writer, a reader and a closer on one pair: the reader gets exactly the
/// bytes of the writes that succeeded, in order, then `PEER_CLOSED`.
#[test]
fn writer_reader_closer_lose_nothing() {
    model(|| {
        let (a, b) = sys::socket_create(0).unwrap();
        let writer = thread::spawn(move || {
            let mut sent = Vec::new();
            for chunk in [&[1u8, 2, 3][..], &[4, 5, 6, 7, 8, 9]] {
                match sys::socket_write(a, 0, chunk) {
                    Ok(n) => sent.extend_from_slice(&chunk[..n]),
                    Err(Status::BAD_HANDLE) => break,
                    Err(status) => panic!("write: {status}"),
                }
            }
            sent
        });
        let closer = thread::spawn(move || sys::handle_close(a).unwrap());
        let mut got = Vec::new();
        loop {
            let mut buf = [0u8; 16];
            match sys::socket_read(b, 0, Some(&mut buf[..])) {
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(Status::SHOULD_WAIT) => {
                    sys::object_wait_one(
                        b,
                        Signals::READABLE | Signals::PEER_CLOSED,
                        Time::INFINITE,
                    )
                    .unwrap();
                }
                Err(Status::PEER_CLOSED) => break,
                Err(status) => panic!("read: {status}"),
            }
        }
        let sent = writer.join().unwrap();
        closer.join().unwrap();
        assert_eq!(got, sent);
        assert_eq!(signals(b), Signals::PEER_CLOSED | Signals::LAST_HANDLE);
        sys::handle_close(b).unwrap();
    });
}

/// A reader that waits and a writer on the data path (which takes no
/// object lock): the reader is always woken by the write alone.
#[test]
fn a_data_path_write_wakes_a_waiting_reader() {
    model(|| {
        let (a, b) = sys::socket_create(1).unwrap();
        let reader = thread::spawn(move || {
            sys::object_wait_one(b, Signals::READABLE, Time::INFINITE).unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(sys::socket_read(b, 0, Some(&mut buf[..])), Ok(3));
            b
        });
        assert_eq!(sys::socket_write(a, 0, &[7u8, 8, 9][..]), Ok(3));
        let b = reader.join().unwrap();
        sys::handle_close(a).unwrap();
        sys::handle_close(b).unwrap();
    });
}

/// Two waits in a row, so the object turns eager at the first and may turn
/// lazy again (after two calm operations under loom) between them, racing
/// two data-path writes: neither wake-up is lost in any of the modes.
#[test]
fn waits_across_eager_and_lazy_modes_lose_no_wake_up() {
    model(|| {
        let (a, b) = sys::socket_create(0).unwrap();
        let reader = thread::spawn(move || {
            let mut got = 0;
            let mut buf = [0u8; 2];
            while got < 2 {
                sys::object_wait_one(b, Signals::READABLE, Time::INFINITE).unwrap();
                got += sys::socket_read(b, 0, Some(&mut buf[..])).unwrap();
            }
            b
        });
        assert_eq!(sys::socket_write(a, 0, &[1u8][..]), Ok(1));
        assert_eq!(sys::socket_write(a, 0, &[2u8][..]), Ok(1));
        let b = reader.join().unwrap();
        sys::handle_close(a).unwrap();
        sys::handle_close(b).unwrap();
    });
}

/// A waiter and a signaller: the wake-up is never lost.
#[test]
fn waiter_and_signaller_never_lose_a_wake_up() {
    model(|| {
        let e = sys::event_create(0).unwrap();
        let waiter =
            thread::spawn(move || sys::object_wait_one(e, Signals::USER_0, Time::INFINITE));
        sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
        let observed = waiter.join().unwrap().unwrap();
        assert!(observed.contains(Signals::USER_0));
        sys::handle_close(e).unwrap();
    });
}

/// Closing the handle a thread waits through releases it with `CANCELED`
/// (or `BAD_HANDLE` if the close came first).
#[test]
fn close_cancels_a_wait() {
    model(|| {
        let e = sys::event_create(0).unwrap();
        let keep = sys::handle_duplicate(e, Rights::SAME_RIGHTS).unwrap();
        let waiter =
            thread::spawn(move || sys::object_wait_one(e, Signals::USER_0, Time::INFINITE));
        sys::handle_close(e).unwrap();
        match waiter.join().unwrap() {
            Err(error) if error.status == Status::CANCELED => {
                assert!(error.value.unwrap().contains(Signals::HANDLE_CLOSED));
            }
            Err(error) if error.status == Status::BAD_HANDLE => {}
            other => panic!("unexpected {other:?}"),
        }
        sys::handle_close(keep).unwrap();
    });
}

/// Closing a handle while another thread uses it and a third creates one:
/// the user either acts on the right object or gets `BAD_HANDLE`; the closed
/// value never reaches the new object.
#[test]
fn close_races_lookup_and_reuse() {
    model(|| {
        let e = sys::event_create(0).unwrap();
        let koid = sys::object_get_info_handle_basic(e).unwrap().koid;
        let user = thread::spawn(move || match sys::object_get_info_handle_basic(e) {
            Ok(info) => assert_eq!(info.koid, koid),
            Err(status) => assert_eq!(status, Status::BAD_HANDLE),
        });
        let creator = thread::spawn(move || sys::event_create(0).unwrap());
        sys::handle_close(e).unwrap();
        user.join().unwrap();
        let fresh = creator.join().unwrap();
        assert_ne!(fresh, e);
        assert_eq!(
            sys::object_get_info_handle_basic(e),
            Err(Status::BAD_HANDLE)
        );
        sys::handle_close(fresh).unwrap();
    });
}

/// A datagram writer sleeping for room and a reader making it: the writer
/// always wakes (its datagram does not fit while `WRITABLE` stays asserted).
#[test]
fn datagram_writer_sleeps_for_room_and_wakes() {
    model(|| {
        let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
        assert_eq!(a.try_write(&[1u8; 12]), Ok(12));
        assert!(sys::object_wait_one(b.raw(), Signals::READABLE, Time::ZERO).is_ok());
        let writer = thread::spawn(move || {
            a.send(&[2u8; 8]).unwrap();
            a
        });
        let mut buf = [0u8; 16];
        assert_eq!(b.try_read(&mut buf), Ok(12));
        let _a = writer.join().unwrap();
        assert_eq!(b.try_read(&mut buf), Ok(8));
        assert_eq!(&buf[..8], &[2u8; 8]);
    });
}

/// An asynchronous wait racing a cancel and the port's close: no panic, at
/// most one packet, and no handle left behind.
#[test]
fn wait_async_cancel_and_close_race() {
    model(|| {
        let p = sys::port_create(0).unwrap();
        let p2 = sys::handle_duplicate(p, Rights::SAME_RIGHTS).unwrap();
        let e = sys::event_create(0).unwrap();
        sys::object_wait_async(e, p, 7, Signals::USER_0, WAIT_ASYNC_ONCE).unwrap();
        let canceller = thread::spawn(move || {
            let _ = sys::port_cancel(p2, e, 7);
            sys::handle_close(p2).unwrap();
        });
        let signaller =
            thread::spawn(move || sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap());
        signaller.join().unwrap();
        let packet = sys::port_wait(p, Time::ZERO, 0);
        canceller.join().unwrap();
        if let Ok(packet) = packet {
            assert_eq!(packet.key, 7);
        }
        assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
        sys::handle_close(p).unwrap();
        sys::handle_close(e).unwrap();
        // (Freed objects are counted process-wide, across tests running in
        // parallel; the handle table is this execution's own.)
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

/// A write carrying a handle racing the close of the receiving end: the
/// handle is either still the writer's (the write failed, `PEER_CLOSED`) or
/// gone with the message (closed with it), never lost and never both.
#[test]
fn channel_write_with_handle_races_receiver_close() {
    model(|| {
        let (a, b) = sys::channel_create(0).unwrap();
        let e = sys::event_create(0).unwrap();
        // A second handle to the event shows, through LAST_HANDLE, whether
        // the sent one still exists.
        let witness = sys::handle_duplicate(e, Rights::SAME_RIGHTS).unwrap();
        let writer = thread::spawn(move || sys::channel_write(a, 0, &b"x"[..], &[e][..]));
        let closer = thread::spawn(move || sys::handle_close(b).unwrap());
        let written = writer.join().unwrap();
        closer.join().unwrap();
        match written {
            Ok(()) => {
                // Gone from the table; destroyed with the unread message.
                assert_eq!(
                    sys::object_get_info(e, 1, &mut [][..]).unwrap_err().status,
                    Status::BAD_HANDLE
                );
                assert!(signals(witness).contains(Signals::LAST_HANDLE));
            }
            Err(Status::PEER_CLOSED) => {
                // Still the writer's, unchanged.
                assert!(!signals(witness).contains(Signals::LAST_HANDLE));
                sys::handle_close(e).unwrap();
                assert!(signals(witness).contains(Signals::LAST_HANDLE));
            }
            Err(status) => panic!("write: {status}"),
        }
        assert!(signals(a).contains(Signals::PEER_CLOSED));
        sys::handle_close(a).unwrap();
        sys::handle_close(witness).unwrap();
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

/// A read taking a message with a handle racing the close of the writing
/// end: the reader gets the handle exactly once, or (if the close came
/// first) still gets it, since queued messages outlive the peer.
#[test]
fn channel_read_races_writer_close() {
    model(|| {
        let (a, b) = sys::channel_create(0).unwrap();
        let e = sys::event_create(0).unwrap();
        sys::channel_write(a, 0, &b"y"[..], &[e][..]).unwrap();
        let closer = thread::spawn(move || sys::handle_close(a).unwrap());
        let mut bytes = [0u8; 1];
        let mut handles = [0i32; 1];
        let read = sys::channel_read(b, 0, &mut bytes[..], &mut handles[..]);
        closer.join().unwrap();
        assert_eq!(read, Ok((1, 1)));
        assert!(signals(handles[0]).contains(Signals::LAST_HANDLE));
        sys::handle_close(handles[0]).unwrap();
        sys::handle_close(b).unwrap();
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

/// A lookup racing the close of what it looks up, the reclamation that
/// follows (under loom every retirement reclaims at once) and new handles
/// reusing the slot: the user acts on the right, live object (the lookup
/// checks the object's sentinel, so a use after free fails the model) or
/// gets `BAD_HANDLE`.
#[test]
fn lookup_racing_close_reclaim_and_reuse() {
    model(|| {
        let e = sys::event_create(0).unwrap();
        let koid = sys::object_get_info_handle_basic(e).unwrap().koid;
        let user = thread::spawn(move || match sys::object_get_info_handle_basic(e) {
            Ok(info) => assert_eq!(info.koid, koid),
            Err(status) => assert_eq!(status, Status::BAD_HANDLE),
        });
        sys::handle_close(e).unwrap();
        // Frees what the close retired, if the close did not already.
        let _ = sys::ext::live_objects();
        // Four buckets: one of these reuses the closed handle's slot.
        let fresh: Vec<_> = (0..4).map(|_| sys::event_create(0).unwrap()).collect();
        user.join().unwrap();
        for h in fresh {
            assert_ne!(h, e);
            sys::handle_close(h).unwrap();
        }
    });
}

/// A lookup racing `handle_replace`: it sees the old handle with its old
/// rights, or `BAD_HANDLE`; afterwards only the new value works.
#[test]
fn lookup_racing_replace() {
    model(|| {
        let e = sys::event_create(0).unwrap();
        let koid = sys::object_get_info_handle_basic(e).unwrap().koid;
        let user = thread::spawn(move || match sys::object_get_info_handle_basic(e) {
            Ok(info) => {
                assert_eq!(info.koid, koid);
                assert_eq!(info.rights, Rights::EVENT_DEFAULT);
            }
            Err(status) => assert_eq!(status, Status::BAD_HANDLE),
        });
        let f = sys::handle_replace(e, Rights::READ).unwrap();
        user.join().unwrap();
        assert_eq!(
            sys::object_get_info_handle_basic(e),
            Err(Status::BAD_HANDLE)
        );
        let info = sys::object_get_info_handle_basic(f).unwrap();
        assert_eq!((info.koid, info.rights), (koid, Rights::READ));
        sys::handle_close(f).unwrap();
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

/// A lookup racing the transfer of the handle it looks up in a channel
/// message: it finds the live object or `BAD_HANDLE`, and the receiver gets
/// the object.
#[test]
fn lookup_racing_transfer() {
    model(|| {
        let (a, b) = sys::channel_create(0).unwrap();
        let e = sys::event_create(0).unwrap();
        let koid = sys::object_get_info_handle_basic(e).unwrap().koid;
        let user = thread::spawn(move || match sys::object_get_info_handle_basic(e) {
            Ok(info) => assert_eq!(info.koid, koid),
            Err(status) => assert_eq!(status, Status::BAD_HANDLE),
        });
        sys::channel_write(a, 0, &b"m"[..], &[e][..]).unwrap();
        user.join().unwrap();
        let mut bytes = [0u8; 1];
        let mut handles = [0i32; 1];
        assert_eq!(
            sys::channel_read(b, 0, &mut bytes[..], &mut handles[..]),
            Ok((1, 1))
        );
        assert_eq!(
            sys::object_get_info_handle_basic(handles[0]).unwrap().koid,
            koid
        );
        for h in [a, b, handles[0]] {
            sys::handle_close(h).unwrap();
        }
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

/// A lookup racing a transfer that fails (the peer is closed): the handle
/// never leaves the table, so the lookup never misses it.
#[test]
fn lookup_racing_a_failed_transfer() {
    model(|| {
        let (a, b) = sys::channel_create(0).unwrap();
        sys::handle_close(b).unwrap();
        let e = sys::event_create(0).unwrap();
        let user = thread::spawn(move || {
            sys::object_get_info_handle_basic(e).unwrap();
        });
        assert_eq!(
            sys::channel_write(a, 0, &b"m"[..], &[e][..]),
            Err(Status::PEER_CLOSED)
        );
        user.join().unwrap();
        sys::handle_close(e).unwrap();
        sys::handle_close(a).unwrap();
        assert_eq!(sys::ext::handle_count(), 0);
    });
}

trait Raw {
    fn raw(&self) -> mx::RawHandle;
}

impl Raw for Socket {
    fn raw(&self) -> mx::RawHandle {
        mx::api::AsHandleRef::raw_handle(self)
    }
}

//! Ports and asynchronous waits (SPEC section 7), through `mx::sys`.

use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use mx::core::abi::{
    PortPacket, PKT_TYPE_SIGNAL_ONE, PKT_TYPE_SIGNAL_REP, PKT_TYPE_USER, WAIT_ASYNC_ONCE,
    WAIT_ASYNC_REPEATING,
};
use mx::sys;
use mx::{RawHandle, Rights, Signals, Status, Time};

const READ_ONLY: Rights = Rights::READ;

fn soon(ms: u64) -> Time {
    sys::deadline_after(ms * 1_000_000)
}

fn user(key: u64, word: u64) -> PortPacket {
    PortPacket {
        key,
        type_: 77,
        status: -5,
        payload: [word, 2, 3, 4],
    }
}

fn event() -> RawHandle {
    sys::event_create(0).unwrap()
}

fn port() -> RawHandle {
    sys::port_create(0).unwrap()
}

fn close(handles: &[RawHandle]) {
    for &h in handles {
        sys::handle_close(h).unwrap();
    }
}

#[test]
fn port_create_rejects_options() {
    assert_eq!(sys::port_create(1), Err(Status::INVALID_ARGS));
}

#[test]
fn port_create_has_port_rights_and_type() {
    let p = port();
    let info = sys::object_get_info_handle_basic(p).unwrap();
    assert_eq!(info.type_, mx::ObjectType::PORT.0);
    assert_eq!(info.rights, Rights::PORT_DEFAULT);
    assert_eq!(info.props, 0, "ports are not waitable");
    close(&[p]);
}

#[test]
fn port_queue_then_wait_is_fifo_with_user_type() {
    let p = port();
    for i in 0..5 {
        sys::port_queue(p, &user(i, i * 10), 0).unwrap();
    }
    for i in 0..5 {
        let packet = sys::port_wait(p, Time::ZERO, 0).unwrap();
        assert_eq!(packet.key, i);
        assert_eq!(packet.type_, PKT_TYPE_USER, "type forced to USER");
        assert_eq!(packet.status, -5, "status is the queuer's");
        assert_eq!(packet.payload, [i * 10, 2, 3, 4]);
    }
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    close(&[p]);
}

#[test]
fn port_queue_checks_size_first() {
    assert_eq!(
        sys::port_queue(0, &user(1, 1), 48),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(sys::port_queue(0, &user(1, 1), 0), Err(Status::BAD_HANDLE));
}

#[test]
fn port_queue_needs_write_and_a_port() {
    let p = port();
    let reader = sys::handle_duplicate(p, READ_ONLY).unwrap();
    assert_eq!(
        sys::port_queue(reader, &user(1, 1), 0),
        Err(Status::ACCESS_DENIED)
    );
    let e = event();
    assert_eq!(sys::port_queue(e, &user(1, 1), 0), Err(Status::WRONG_TYPE));
    close(&[p, reader, e]);
}

#[test]
fn port_wait_checks_size_first_then_rights_and_type() {
    assert_eq!(sys::port_wait(0, Time::ZERO, 1), Err(Status::INVALID_ARGS));
    let p = port();
    let writer = sys::handle_duplicate(p, Rights::WRITE).unwrap();
    assert_eq!(
        sys::port_wait(writer, Time::ZERO, 0),
        Err(Status::ACCESS_DENIED)
    );
    let e = event();
    assert_eq!(sys::port_wait(e, Time::ZERO, 0), Err(Status::WRONG_TYPE));
    close(&[p, writer, e]);
}

#[test]
fn port_wait_times_out_at_the_deadline() {
    let p = port();
    let start = sys::time_get(0);
    assert_eq!(sys::port_wait(p, soon(30), 0), Err(Status::TIMED_OUT));
    assert!(sys::time_get(0).0 - start.0 >= 30_000_000);
    close(&[p]);
}

#[test]
fn port_wait_blocks_until_a_packet_is_queued() {
    let p = port();
    let waiter = thread::spawn(move || sys::port_wait(p, soon(10_000), 0));
    thread::sleep(Duration::from_millis(30));
    sys::port_queue(p, &user(9, 9), 0).unwrap();
    assert_eq!(waiter.join().unwrap().unwrap().key, 9);
    close(&[p]);
}

#[test]
fn port_wait_is_canceled_by_closing_its_handle() {
    let p = port();
    let other = sys::handle_duplicate(p, Rights::SAME_RIGHTS).unwrap();
    let waiter = thread::spawn(move || sys::port_wait(p, soon(10_000), 0));
    thread::sleep(Duration::from_millis(30));
    sys::handle_close(p).unwrap();
    assert_eq!(waiter.join().unwrap(), Err(Status::CANCELED));
    // The port lives on through the other handle.
    sys::port_queue(other, &user(1, 1), 0).unwrap();
    assert_eq!(sys::port_wait(other, Time::ZERO, 0).unwrap().key, 1);
    close(&[other]);
}

#[test]
fn object_wait_one_on_a_port_is_not_supported() {
    let p = port();
    assert_eq!(
        sys::object_wait_one(p, Signals::USER_0, Time::ZERO).map_err(Status::from),
        Err(Status::NOT_SUPPORTED)
    );
    close(&[p]);
}

#[test]
fn wait_async_once_fires_at_once_when_already_asserted() {
    let (p, e) = (port(), event());
    sys::object_signal(e, Signals::NONE, Signals::USER_1).unwrap();
    sys::object_wait_async(e, p, 42, Signals::USER_1 | Signals::USER_2, WAIT_ASYNC_ONCE).unwrap();
    let packet = sys::port_wait(p, Time::ZERO, 0).unwrap();
    assert_eq!(packet.key, 42);
    assert_eq!(packet.type_, PKT_TYPE_SIGNAL_ONE);
    assert_eq!(packet.status, 0);
    let (trigger, observed, count) = packet.signal_fields();
    assert_eq!(trigger, Signals::USER_1 | Signals::USER_2);
    assert_eq!(observed, Signals::USER_1 | Signals::LAST_HANDLE);
    assert_eq!(count, 1);
    // Once: no second packet.
    sys::object_signal(e, Signals::USER_1, Signals::USER_2).unwrap();
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    close(&[p, e]);
}

#[test]
fn wait_async_once_fires_when_a_signal_becomes_asserted() {
    let (p, e) = (port(), event());
    sys::object_wait_async(e, p, 7, Signals::USER_0, WAIT_ASYNC_ONCE).unwrap();
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    sys::object_signal(e, Signals::NONE, Signals::USER_3).unwrap();
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0),
        Err(Status::TIMED_OUT),
        "unwatched bit"
    );
    let waiter = thread::spawn(move || sys::port_wait(p, soon(10_000), 0));
    thread::sleep(Duration::from_millis(20));
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    let packet = waiter.join().unwrap().unwrap();
    assert_eq!(packet.key, 7);
    assert_eq!(
        packet.signal_fields().1,
        Signals::USER_0 | Signals::USER_3 | Signals::LAST_HANDLE
    );
    close(&[p, e]);
}

#[test]
fn wait_async_on_a_socket_reports_readable() {
    let p = port();
    let (a, b) = sys::socket_create(0).unwrap();
    sys::object_wait_async(b, p, 1, Signals::READABLE, WAIT_ASYNC_ONCE).unwrap();
    assert_eq!(sys::socket_write(a, 0, &b"hi"[..]), Ok(2));
    let packet = sys::port_wait(p, soon(10_000), 0).unwrap();
    assert!(packet.signal_fields().1.contains(Signals::READABLE));
    close(&[p, a, b]);
}

#[test]
fn wait_async_repeating_queues_at_most_one_and_rearms() {
    let (p, e) = (port(), event());
    sys::object_wait_async(e, p, 5, Signals::USER_0, WAIT_ASYNC_REPEATING).unwrap();
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    // More changes while triggered: still one packet, observed updated.
    sys::object_signal(e, Signals::NONE, Signals::USER_1).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_2).unwrap();
    let packet = sys::port_wait(p, Time::ZERO, 0).unwrap();
    assert_eq!(packet.type_, PKT_TYPE_SIGNAL_REP);
    assert_eq!(
        packet.signal_fields().1,
        Signals::USER_0 | Signals::USER_1 | Signals::USER_2 | Signals::LAST_HANDLE
    );
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0),
        Err(Status::TIMED_OUT),
        "one at a time"
    );
    // Re-armed: the next change while triggered queues a new packet.
    sys::object_signal(e, Signals::USER_1, Signals::NONE).unwrap();
    let packet = sys::port_wait(p, Time::ZERO, 0).unwrap();
    assert_eq!(
        packet.signal_fields().1,
        Signals::USER_0 | Signals::USER_2 | Signals::LAST_HANDLE
    );
    // Changes while not triggered queue nothing.
    sys::object_signal(e, Signals::USER_0, Signals::NONE).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_4).unwrap();
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    close(&[p, e]);
}

#[test]
fn wait_async_checks_port_then_handle_then_options() {
    let (p, e) = (port(), event());
    let (s, s2) = sys::socket_create(0).unwrap();
    let p_read = sys::handle_duplicate(p, READ_ONLY).unwrap();
    let e_write = sys::handle_duplicate(e, Rights::WRITE).unwrap();
    // The port first: bad, no WRITE, not a port.
    assert_eq!(
        sys::object_wait_async(0, 0, 1, Signals::USER_0, 9),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::object_wait_async(0, p_read, 1, Signals::USER_0, 9),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::object_wait_async(0, s, 1, Signals::USER_0, 9),
        Err(Status::WRONG_TYPE)
    );
    // Then the handle: bad, no READ, not waitable.
    assert_eq!(
        sys::object_wait_async(0, p, 1, Signals::USER_0, 9),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::object_wait_async(e_write, p, 1, Signals::USER_0, 9),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::object_wait_async(p, p, 1, Signals::USER_0, 9),
        Err(Status::NOT_SUPPORTED)
    );
    // Then the options.
    assert_eq!(
        sys::object_wait_async(e, p, 1, Signals::USER_0, 2),
        Err(Status::INVALID_ARGS)
    );
    close(&[p, e, s, s2, p_read, e_write]);
}

#[test]
fn port_cancel_ends_waits_and_drops_their_packets() {
    let (p, e) = (port(), event());
    sys::object_wait_async(e, p, 1, Signals::USER_0, WAIT_ASYNC_ONCE).unwrap();
    sys::object_wait_async(e, p, 2, Signals::USER_0, WAIT_ASYNC_REPEATING).unwrap();
    sys::object_wait_async(e, p, 3, Signals::USER_1, WAIT_ASYNC_ONCE).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    // Keys 1 and 2 queued; cancel key 2 (a queued repeating packet) and 3
    // (a pending wait).
    sys::port_cancel(p, e, 2).unwrap();
    sys::port_cancel(p, e, 3).unwrap();
    assert_eq!(sys::port_cancel(p, e, 3), Err(Status::NOT_FOUND));
    assert_eq!(sys::port_cancel(p, e, 99), Err(Status::NOT_FOUND));
    sys::object_signal(e, Signals::NONE, Signals::USER_1).unwrap();
    assert_eq!(sys::port_wait(p, Time::ZERO, 0).unwrap().key, 1);
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0),
        Err(Status::TIMED_OUT),
        "nothing after cancel"
    );
    // Cancelling a delivered one-shot wait finds nothing.
    assert_eq!(sys::port_cancel(p, e, 1), Err(Status::NOT_FOUND));
    close(&[p, e]);
}

#[test]
fn port_cancel_matches_the_source_handle() {
    let (p, e) = (port(), event());
    let e2 = sys::handle_duplicate(e, Rights::SAME_RIGHTS).unwrap();
    sys::object_wait_async(e, p, 1, Signals::USER_0, WAIT_ASYNC_ONCE).unwrap();
    assert_eq!(
        sys::port_cancel(p, e2, 1),
        Err(Status::NOT_FOUND),
        "made through the other handle"
    );
    sys::port_cancel(p, e, 1).unwrap();
    close(&[p, e, e2]);
}

#[test]
fn port_cancel_checks_rights() {
    let (p, e) = (port(), event());
    let p_read = sys::handle_duplicate(p, READ_ONLY).unwrap();
    let e_write = sys::handle_duplicate(e, Rights::WRITE).unwrap();
    assert_eq!(sys::port_cancel(p_read, e, 1), Err(Status::ACCESS_DENIED));
    assert_eq!(sys::port_cancel(p, e_write, 1), Err(Status::ACCESS_DENIED));
    assert_eq!(sys::port_cancel(e, e, 1), Err(Status::WRONG_TYPE));
    assert_eq!(sys::port_cancel(p, 0, 1), Err(Status::BAD_HANDLE));
    close(&[p, e, p_read, e_write]);
}

#[test]
fn closing_the_watched_handle_removes_its_waits_but_keeps_queued_packets() {
    let (p, e) = (port(), event());
    let e2 = sys::handle_duplicate(e, Rights::SAME_RIGHTS).unwrap();
    sys::object_wait_async(e, p, 1, Signals::USER_0, WAIT_ASYNC_ONCE).unwrap();
    sys::object_wait_async(e, p, 2, Signals::USER_1, WAIT_ASYNC_ONCE).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    sys::handle_close(e).unwrap();
    sys::object_signal(e2, Signals::NONE, Signals::USER_1).unwrap();
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0).unwrap().key,
        1,
        "queued before the close"
    );
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0),
        Err(Status::TIMED_OUT),
        "the other wait was removed"
    );
    close(&[p, e2]);
}

#[test]
fn a_pool_of_threads_gets_each_packet_exactly_once() {
    const PACKETS: u64 = 10_000;
    let p = port();
    let (seen_tx, seen_rx) = mpsc::channel();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let seen = seen_tx.clone();
            thread::spawn(move || {
                let mut mine = Vec::new();
                loop {
                    match sys::port_wait(p, soon(10_000), 0) {
                        Ok(packet) if packet.key == u64::MAX => break,
                        Ok(packet) => mine.push(packet.key),
                        Err(status) => panic!("port_wait: {status}"),
                    }
                }
                seen.send(mine).unwrap();
            })
        })
        .collect();
    for key in 0..PACKETS {
        sys::port_queue(p, &user(key, key), 0).unwrap();
    }
    for _ in 0..4 {
        sys::port_queue(p, &user(u64::MAX, 0), 0).unwrap();
    }
    for worker in workers {
        worker.join().unwrap();
    }
    drop(seen_tx);
    let seen: Vec<u64> = seen_rx.iter().flatten().collect();
    assert_eq!(seen.len() as u64, PACKETS, "none lost, none duplicated");
    let unique: HashSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len() as u64, PACKETS);
    close(&[p]);
}

#[test]
fn api_port_round_trip() {
    use mx::api::{AsHandleRef, Event, Packet, PacketContents, Port, UserPacket, WaitAsyncOpts};
    let port = Port::create().unwrap();
    let event = Event::create().unwrap();
    event
        .wait_async_handle(&port, 3, Signals::USER_0, WaitAsyncOpts::Once)
        .unwrap();
    event.signal_handle(Signals::NONE, Signals::USER_0).unwrap();
    let packet = port.wait(Time::ZERO).unwrap();
    assert_eq!(packet.key(), 3);
    match packet.contents() {
        PacketContents::SignalOne(signal) => {
            assert_eq!(signal.trigger, Signals::USER_0);
            assert!(signal.observed.contains(Signals::USER_0));
            assert_eq!(signal.count, 1);
        }
        other => panic!("unexpected {other:?}"),
    }
    let bytes = [7u8; 32];
    port.queue(&Packet::from_user_packet(
        9,
        Status::OK,
        UserPacket::from_u8_array(bytes),
    ))
    .unwrap();
    let packet = port.wait(Time::ZERO).unwrap();
    assert_eq!(
        packet.contents(),
        PacketContents::User(UserPacket::from_u8_array(bytes))
    );
    assert_eq!(port.cancel(&event, 3), Err(Status::NOT_FOUND));
}

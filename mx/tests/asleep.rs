//! Every blocking path of the safe API sleeps while it waits, in every state
//! that makes it wait, and completes correctly once the other side acts.
//!
//! Each test blocks a call on a helper thread, checks that the process uses
//! under a tenth of a CPU for half a second ([`support::asleep`]), then
//! unblocks it and checks the result. The states come from the ways a
//! waiter has gone wrong before: a writer whose peer half-closed
//! (`PEER_CLOSED` stays asserted while the peer can still read), a datagram
//! that does not fit while `WRITABLE` stays asserted, an end half-closed
//! through another handle, and a handle closed by another thread.

#[path = "support/asleep.rs"]
mod support;

use std::io::{self, Read, Write};

use mx::api::{
    object_wait_many, AsHandleRef, Channel, Event, HandleBased, HandleRef, MessageBuf, Peered,
    Port, Socket, SocketOpts, WaitAsyncOpts, WaitItem,
};
use mx::{Rights, Signals, Status, Time};
use support::{serial, sleeps_until};

const CAP: usize = 257_024;

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

/// The `Status` inside an `io::Error` made from one.
fn status_of(e: &io::Error) -> Option<Status> {
    e.get_ref()?.downcast_ref::<Status>().copied()
}

/// Fills `a`'s outbox (stream) with `pattern(CAP, seed)`.
fn fill_stream(a: &Socket, seed: u8) -> Vec<u8> {
    let data = pattern(CAP, seed);
    assert_eq!(a.try_write(&data), Ok(CAP));
    assert_eq!(a.try_write(b"x"), Err(Status::SHOULD_WAIT));
    data
}

/// Reads exactly `n` bytes from `b`, blocking.
fn read_n(b: &Socket, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    (&*b).read_exact(&mut out).unwrap();
    out
}

/// Raw handle of a socket whose value another thread may close: a duplicate,
/// so that the test keeps its own handle.
fn dup(s: &Socket) -> Socket {
    s.duplicate_handle(Rights::SAME_RIGHTS).unwrap()
}

// ---------------------------------------------------------------------------
// Stream writers: io::Write for Socket and &Socket, and send

/// How a test writes: the three blocking stream writers.
#[derive(Copy, Clone, Debug)]
enum Writer {
    /// `io::Write::write_all` on an owned `Socket`.
    Owned,
    /// `io::Write::write_all` on `&Socket`.
    Borrowed,
    /// `Socket::send`.
    Send,
}

const WRITERS: [Writer; 3] = [Writer::Owned, Writer::Borrowed, Writer::Send];

impl Writer {
    fn write(self, mut socket: Socket, data: &[u8]) -> (Socket, Result<(), Status>) {
        let result = match self {
            Writer::Owned => socket
                .write_all(data)
                .map_err(|e| status_of(&e).unwrap_or(Status::INTERNAL)),
            Writer::Borrowed => (&socket)
                .write_all(data)
                .map_err(|e| status_of(&e).unwrap_or(Status::INTERNAL)),
            Writer::Send => socket.send(data),
        };
        (socket, result)
    }
}

#[test]
fn stream_writer_sleeps_while_the_peer_is_slow() {
    let _serial = serial();
    for writer in WRITERS {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let first = fill_stream(&a, 1);
        let more = pattern(100_000, 2);
        let expected = more.clone();
        let (a, result) = sleeps_until(
            &format!("{writer:?} writer, full buffer, slow peer"),
            move || writer.write(a, &more),
            || assert_eq!(read_n(&b, CAP), first),
        );
        assert_eq!(result, Ok(()));
        assert_eq!(read_n(&b, expected.len()), expected);
        drop(a);
    }
}

#[test]
fn stream_writer_sleeps_while_its_half_closed_peer_does_not_read() {
    let _serial = serial();
    for writer in WRITERS {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        b.half_close().unwrap();
        let first = fill_stream(&a, 3);
        assert!(a
            .wait_handle(Signals::PEER_CLOSED, Time::ZERO)
            .unwrap()
            .contains(Signals::PEER_CLOSED));
        let more = pattern(50_000, 4);
        let expected = more.clone();
        let (_a, result) = sleeps_until(
            &format!("{writer:?} writer, full buffer, peer half-closed"),
            move || writer.write(a, &more),
            || assert_eq!(read_n(&b, CAP), first),
        );
        assert_eq!(result, Ok(()));
        assert_eq!(read_n(&b, expected.len()), expected);
    }
}

#[test]
fn stream_writer_wakes_when_its_end_is_half_closed_through_another_handle() {
    let _serial = serial();
    for writer in WRITERS {
        let (a, _b) = Socket::create(SocketOpts::Stream).unwrap();
        let other = dup(&a);
        fill_stream(&a, 5);
        let (_a, result) = sleeps_until(
            &format!("{writer:?} writer, full buffer, then half-closed elsewhere"),
            move || writer.write(a, b"more"),
            || other.half_close().unwrap(),
        );
        assert_eq!(result, Err(Status::BAD_STATE));
    }
}

#[test]
fn stream_writer_wakes_when_the_peer_closes() {
    let _serial = serial();
    for writer in WRITERS {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        fill_stream(&a, 6);
        let (_a, result) = sleeps_until(
            &format!("{writer:?} writer, full buffer, then the peer closes"),
            move || writer.write(a, b"more"),
            move || drop(b),
        );
        assert_eq!(result, Err(Status::PEER_CLOSED));
    }
}

#[test]
fn stream_writer_wakes_when_another_thread_closes_its_handle() {
    let _serial = serial();
    for writer in WRITERS {
        let (a, _b) = Socket::create(SocketOpts::Stream).unwrap();
        fill_stream(&a, 7);
        let raw = a.raw_handle();
        let (a, result) = sleeps_until(
            &format!("{writer:?} writer, full buffer, then its handle is closed"),
            move || writer.write(a, b"more"),
            || mx::sys::handle_close(raw).unwrap(),
        );
        assert_eq!(result, Err(Status::CANCELED));
        // The value is gone already; dropping it does nothing.
        let _ = a.into_handle().into_raw();
    }
}

// ---------------------------------------------------------------------------
// Datagram writers: send, and io::Write (one datagram per write)

/// Fills `a`'s outbox with datagrams until fewer than `room` bytes are left.
fn fill_datagrams(a: &Socket, room: usize) -> usize {
    let mut queued = 0;
    let chunk = vec![9u8; 1000];
    while CAP - queued > room + chunk.len() {
        a.try_write(&chunk).unwrap();
        queued += chunk.len();
    }
    let last = CAP - queued - room;
    a.try_write(&chunk[..last]).unwrap();
    queued + last
}

#[test]
fn datagram_writer_sleeps_while_its_datagram_does_not_fit_and_writable_stays() {
    let _serial = serial();
    for writer in WRITERS {
        for half_closed_peer in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
            if half_closed_peer {
                b.half_close().unwrap();
            }
            fill_datagrams(&a, 10);
            // Ten bytes are free: WRITABLE stays asserted, but 100 do not fit.
            assert!(a
                .wait_handle(Signals::WRITABLE, Time::ZERO)
                .is_ok_and(|seen| seen.contains(Signals::WRITABLE)));
            let datagram = pattern(100, 8);
            let expected = datagram.clone();
            let (_a, result) = sleeps_until(
                &format!(
                    "{writer:?} datagram writer, no room, WRITABLE asserted, \
                     peer half-closed: {half_closed_peer}"
                ),
                move || writer.write(a, &datagram),
                || {
                    let mut buf = [0u8; 1000];
                    assert_eq!(b.recv(&mut buf), Ok(1000));
                },
            );
            assert_eq!(result, Ok(()));
            // Everything before it, then the datagram, whole.
            let mut buf = vec![0u8; 2000];
            let mut last = Vec::new();
            while let Ok(n) = b.try_read(&mut buf) {
                last = buf[..n].to_vec();
            }
            assert_eq!(last, expected);
        }
    }
}

#[test]
fn datagram_writer_wakes_when_its_handle_is_closed() {
    let _serial = serial();
    let (a, _b) = Socket::create(SocketOpts::Datagram).unwrap();
    fill_datagrams(&a, 10);
    let raw = a.raw_handle();
    let (a, result) = sleeps_until(
        "datagram send, no room, then its handle is closed",
        move || {
            let r = a.send(&[1u8; 100]);
            (a, r)
        },
        || mx::sys::handle_close(raw).unwrap(),
    );
    assert_eq!(result, Err(Status::CANCELED));
    let _ = a.into_handle().into_raw();
}

// ---------------------------------------------------------------------------
// Readers: io::Read for Socket and &Socket, and recv

#[derive(Copy, Clone, Debug)]
enum Reader {
    Owned,
    Borrowed,
    Recv,
}

const READERS: [Reader; 3] = [Reader::Owned, Reader::Borrowed, Reader::Recv];

impl Reader {
    /// One read of up to 64 bytes; `Ok(0)` is end of file.
    fn read(self, mut socket: Socket) -> (Socket, Result<Vec<u8>, Status>) {
        let mut buf = [0u8; 64];
        let result = match self {
            Reader::Owned => Read::read(&mut socket, &mut buf)
                .map_err(|e| status_of(&e).unwrap_or(Status::INTERNAL)),
            Reader::Borrowed => Read::read(&mut &socket, &mut buf)
                .map_err(|e| status_of(&e).unwrap_or(Status::INTERNAL)),
            Reader::Recv => match socket.recv(&mut buf) {
                Err(Status::PEER_CLOSED) => Ok(0),
                other => other,
            },
        };
        (socket, result.map(|n| buf[..n].to_vec()))
    }
}

#[test]
fn reader_sleeps_until_data_arrives() {
    let _serial = serial();
    for reader in READERS {
        for mode in [SocketOpts::Stream, SocketOpts::Datagram] {
            let (a, b) = Socket::create(mode).unwrap();
            let (_b, result) = sleeps_until(
                &format!("{reader:?} reader, {mode:?}, slow peer"),
                move || reader.read(b),
                || {
                    a.try_write(b"late").unwrap();
                },
            );
            assert_eq!(result, Ok(b"late".to_vec()));
        }
    }
}

#[test]
fn reader_sleeps_when_its_own_end_is_half_closed_through_another_handle() {
    let _serial = serial();
    for reader in READERS {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        // b can no longer write; it can still read, so a read waits.
        dup(&b).half_close().unwrap();
        let (_b, result) = sleeps_until(
            &format!("{reader:?} reader, own end half-closed elsewhere"),
            move || reader.read(b),
            || {
                a.try_write(b"data").unwrap();
            },
        );
        assert_eq!(result, Ok(b"data".to_vec()));
    }
}

#[test]
fn reader_wakes_with_end_of_file_when_the_peer_half_closes() {
    let _serial = serial();
    for reader in READERS {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let (_b, result) = sleeps_until(
            &format!("{reader:?} reader, then the peer half-closes"),
            move || reader.read(b),
            || a.half_close().unwrap(),
        );
        assert_eq!(result, Ok(Vec::new()));
    }
}

#[test]
fn reader_wakes_when_another_thread_closes_its_handle() {
    let _serial = serial();
    for reader in READERS {
        let (_a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let raw = b.raw_handle();
        let (b, result) = sleeps_until(
            &format!("{reader:?} reader, then its handle is closed"),
            move || reader.read(b),
            || mx::sys::handle_close(raw).unwrap(),
        );
        assert_eq!(result, Err(Status::CANCELED));
        let _ = b.into_handle().into_raw();
    }
}

// ---------------------------------------------------------------------------
// Waits: wait_one, wait_many, ports

#[test]
fn wait_one_sleeps_while_an_unwatched_signal_is_asserted() {
    let _serial = serial();
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.half_close().unwrap();
    // b shows PEER_CLOSED (and WRITABLE); it waits for a user signal.
    let raw = b.raw_handle();
    let result = sleeps_until(
        "wait_one for USER_0 with PEER_CLOSED asserted",
        move || mx::sys::object_wait_one(raw, Signals::USER_0, Time::INFINITE),
        || a.signal_peer(Signals::NONE, Signals::USER_0).unwrap(),
    );
    let seen = result.unwrap();
    assert!(seen.contains(Signals::USER_0 | Signals::PEER_CLOSED));
}

#[test]
fn wait_one_wakes_when_another_thread_closes_the_handle() {
    let _serial = serial();
    let e = Event::create().unwrap();
    let raw = e.raw_handle();
    let result = sleeps_until(
        "wait_one, then its handle is closed",
        move || mx::sys::object_wait_one(raw, Signals::EVENT_SIGNALED, Time::INFINITE),
        || mx::sys::handle_close(raw).unwrap(),
    );
    let error = result.unwrap_err();
    assert_eq!(error.status, Status::CANCELED);
    assert!(error.value.unwrap().contains(Signals::HANDLE_CLOSED));
    let _ = e.into_handle().into_raw();
}

#[test]
fn wait_many_sleeps_until_one_item_is_signalled() {
    let _serial = serial();
    let events: Vec<Event> = (0..8).map(|_| Event::create().unwrap()).collect();
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    a.half_close().unwrap();
    let raws: Vec<i32> = events.iter().map(|e| e.raw_handle()).collect();
    let b_raw = b.raw_handle();
    let result = sleeps_until(
        "wait_many over eight events and a socket showing PEER_CLOSED",
        move || {
            let mut items: Vec<WaitItem<'_>> = raws
                .iter()
                .map(|&raw| WaitItem {
                    handle: HandleRef::from_raw(raw),
                    waitfor: Signals::EVENT_SIGNALED,
                    pending: Signals::NONE,
                })
                .collect();
            items.push(WaitItem {
                handle: HandleRef::from_raw(b_raw),
                waitfor: Signals::READABLE,
                pending: Signals::NONE,
            });
            let r = object_wait_many(&mut items, Time::INFINITE);
            (r, items.iter().map(|i| i.pending).collect::<Vec<_>>())
        },
        || {
            events[5]
                .signal_handle(Signals::NONE, Signals::EVENT_SIGNALED)
                .unwrap()
        },
    );
    assert_eq!(result.0, Ok(()));
    assert!(result.1[5].contains(Signals::EVENT_SIGNALED));
    assert!(result.1[8].contains(Signals::PEER_CLOSED));
    drop(b);
}

#[test]
fn port_wait_sleeps_until_a_packet_arrives() {
    let _serial = serial();
    let port = Port::create().unwrap();
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    b.wait_async_handle(&port, 7, Signals::READABLE, WaitAsyncOpts::Once)
        .unwrap();
    let raw = port.raw_handle();
    let result = sleeps_until(
        "port_wait with an async wait on an empty socket",
        move || mx::sys::port_wait(raw, Time::INFINITE, 0),
        || {
            a.try_write(b"x").unwrap();
        },
    );
    let packet = result.unwrap();
    assert_eq!(packet.key, 7);
    drop(port);
}

#[test]
fn port_wait_wakes_when_another_thread_closes_the_handle() {
    let _serial = serial();
    let port = Port::create().unwrap();
    let raw = port.raw_handle();
    let result = sleeps_until(
        "port_wait, then its handle is closed",
        move || mx::sys::port_wait(raw, Time::INFINITE, 0),
        || mx::sys::handle_close(raw).unwrap(),
    );
    assert_eq!(result.unwrap_err(), Status::CANCELED);
    let _ = port.into_handle().into_raw();
}

// ---------------------------------------------------------------------------
// The exchange that found the bug: request, half-close, large response

const RESPONSE: usize = 1 << 20;

/// Client: writes a request, half-closes, waits half a second before reading
/// (measuring that the server, blocked writing, sleeps meanwhile), then reads
/// the response to end of file.
fn http_exchange(mode: SocketOpts, serve: fn(Socket) -> Result<(), Status>) {
    let (client, server) = Socket::create(mode).unwrap();
    let server = std::thread::spawn(move || serve(server));
    client.send(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    client.half_close().unwrap();
    std::thread::sleep(support::SETTLE);
    support::assert_idle_for_a_window(&format!("{mode:?} server writing a 1 MiB response"));
    let mut response = Vec::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        match client.recv(&mut buf) {
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(Status::PEER_CLOSED) => break,
            Err(status) => panic!("client read: {status}"),
        }
    }
    assert_eq!(server.join().unwrap(), Ok(()));
    assert_eq!(response.len(), RESPONSE);
    assert_eq!(response, pattern(RESPONSE, 42));
}

#[test]
fn request_half_close_response_over_io() {
    let _serial = serial();
    http_exchange(SocketOpts::Stream, |mut server| {
        let mut request = Vec::new();
        server
            .read_to_end(&mut request)
            .map_err(|_| Status::INTERNAL)?;
        assert_eq!(request, b"GET / HTTP/1.0\r\n\r\n");
        server
            .write_all(&pattern(RESPONSE, 42))
            .map_err(|_| Status::INTERNAL)?;
        server.half_close()
    });
}

#[test]
fn request_half_close_response_over_datagrams() {
    let _serial = serial();
    http_exchange(SocketOpts::Datagram, |server| {
        let mut buf = [0u8; 100];
        let n = server.recv(&mut buf)?;
        assert_eq!(&buf[..n], b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(server.recv(&mut buf), Err(Status::PEER_CLOSED));
        for chunk in pattern(RESPONSE, 42).chunks(60_000) {
            server.send(chunk)?;
        }
        server.half_close()
    });
}

// ---------------------------------------------------------------------------
// Channels: recv and call

#[test]
fn channel_recv_sleeps_until_a_message_arrives() {
    let _serial = serial();
    let (a, b) = Channel::create().unwrap();
    // b's user signals are set: an unwatched signal must not wake it.
    b.signal_handle(Signals::NONE, Signals::USER_3).unwrap();
    let (_b, got) = sleeps_until(
        "Channel::recv, empty queue",
        move || {
            let mut buf = MessageBuf::new();
            let r = b.recv(&mut buf);
            (b, r.map(|()| buf.bytes().to_vec()))
        },
        || a.write(b"late", &mut Vec::new()).unwrap(),
    );
    assert_eq!(got, Ok(b"late".to_vec()));
}

#[test]
fn channel_recv_wakes_when_the_peer_closes_or_its_handle_is_closed() {
    let _serial = serial();
    for close_own in [false, true] {
        let (a, b) = Channel::create().unwrap();
        let raw = b.raw_handle();
        let mut a = Some(a);
        let (b, got) = sleeps_until(
            &format!("Channel::recv, then own handle closed: {close_own}"),
            move || {
                let mut buf = MessageBuf::new();
                let r = b.recv(&mut buf);
                (b, r)
            },
            || {
                if close_own {
                    mx::sys::handle_close(raw).unwrap();
                } else {
                    drop(a.take());
                }
            },
        );
        if close_own {
            assert_eq!(got, Err(Status::CANCELED));
            let _ = b.into_handle().into_raw();
        } else {
            assert_eq!(got, Err(Status::PEER_CLOSED));
        }
    }
}

#[test]
fn channel_call_sleeps_until_its_reply() {
    let _serial = serial();
    let (a, b) = Channel::create().unwrap();
    let (_a, got) = sleeps_until(
        "Channel::call, waiting for the reply",
        move || {
            let mut reply = MessageBuf::with_max_capacity().unwrap();
            let r = a.call(
                Time::INFINITE,
                &[1, 0, 0, 0, 42],
                &mut Vec::new(),
                &mut reply,
            );
            (a, r.map(|()| reply.bytes().to_vec()))
        },
        || {
            let mut request = MessageBuf::new();
            b.try_read(&mut request).unwrap();
            b.write(&[1, 0, 0, 0, 43], &mut Vec::new()).unwrap();
        },
    );
    assert_eq!(got, Ok(vec![1, 0, 0, 0, 43]));
}

#[test]
fn channel_call_wakes_when_the_peer_closes() {
    let _serial = serial();
    let (a, b) = Channel::create().unwrap();
    let mut b = Some(b);
    let (_a, got) = sleeps_until(
        "Channel::call, then the peer closes",
        move || {
            let mut reply = MessageBuf::with_max_capacity().unwrap();
            let r = a.call(Time::INFINITE, &[2, 0, 0, 0], &mut Vec::new(), &mut reply);
            (a, r)
        },
        || drop(b.take()),
    );
    let error = got.unwrap_err();
    assert_eq!(
        (error.status, error.read_status),
        (Status::CALL_FAILED, Some(Status::PEER_CLOSED))
    );
}

//! Rights, table-driven: every operation is refused with `ACCESS_DENIED`
//! through a handle lacking any right it needs, and allowed through a handle
//! holding exactly the rights it needs.
//!
//! Reduced handles are made with `mx_handle_duplicate`, or, for channel
//! ends (which never hold `DUPLICATE`), with `mx_handle_replace`.

use mx::core::abi::{PortPacket, WaitItem, SOCKET_HALF_CLOSE, WAIT_ASYNC_ONCE};
use mx::sys;
use mx::{RawHandle, Rights, Signals, Status, Time};

/// The objects an operation acts on: the handle under test, and (for
/// two-handle calls) the other handle, with all rights.
struct Fixture {
    socket: (RawHandle, RawHandle),
    event: RawHandle,
    eventpair: (RawHandle, RawHandle),
    port: RawHandle,
    channel: (RawHandle, RawHandle),
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            socket: sys::socket_create(0).unwrap(),
            event: sys::event_create(0).unwrap(),
            eventpair: sys::eventpair_create(0).unwrap(),
            port: sys::port_create(0).unwrap(),
            channel: sys::channel_create(0).unwrap(),
        }
    }

    fn close(self) {
        for h in [
            self.socket.0,
            self.socket.1,
            self.event,
            self.eventpair.0,
            self.eventpair.1,
            self.port,
            self.channel.0,
            self.channel.1,
        ] {
            // A handle replaced (channel ends) or sent in a message is gone.
            match sys::handle_close(h) {
                Ok(()) | Err(Status::BAD_HANDLE) => {}
                Err(status) => panic!("close: {status}"),
            }
        }
    }
}

/// A handle to what `h` names with `rights`: a duplicate, or (for a handle
/// that may not be duplicated, a channel end) `h` replaced.
fn with_rights(h: RawHandle, rights: Rights) -> RawHandle {
    match sys::handle_duplicate(h, rights) {
        Err(Status::ACCESS_DENIED) => sys::handle_replace(h, rights).unwrap(),
        other => other.unwrap(),
    }
}

/// An operation: which object the tested handle names, the rights it needs,
/// and the call (`h` is the tested handle).
struct Op {
    name: &'static str,
    object: fn(&Fixture) -> RawHandle,
    needs: Rights,
    call: fn(&Fixture, RawHandle) -> Result<(), Status>,
}

fn socket(f: &Fixture) -> RawHandle {
    f.socket.0
}
fn event(f: &Fixture) -> RawHandle {
    f.event
}
fn eventpair(f: &Fixture) -> RawHandle {
    f.eventpair.0
}
fn port(f: &Fixture) -> RawHandle {
    f.port
}
fn channel(f: &Fixture) -> RawHandle {
    f.channel.0
}

fn ignore<T>(result: Result<T, Status>) -> Result<(), Status> {
    result.map(|_| ())
}

fn ops() -> Vec<Op> {
    vec![
        Op {
            name: "socket_write",
            object: socket,
            needs: Rights::WRITE,
            call: |_, h| ignore(sys::socket_write(h, 0, &b"x"[..])),
        },
        Op {
            name: "socket_write half-close",
            object: socket,
            needs: Rights::WRITE,
            call: |_, h| ignore(sys::socket_write(h, SOCKET_HALF_CLOSE, &[][..])),
        },
        Op {
            name: "socket_read",
            object: socket,
            needs: Rights::READ,
            call: |f, h| {
                sys::socket_write(f.socket.1, 0, &b"y"[..]).unwrap();
                let mut buf = [0u8; 1];
                ignore(sys::socket_read(h, 0, Some(&mut buf[..])))
            },
        },
        Op {
            name: "socket_read outstanding",
            object: socket,
            needs: Rights::READ,
            call: |_, h| ignore(sys::socket_read::<[u8]>(h, 0, None)),
        },
        Op {
            name: "handle_duplicate",
            object: event,
            needs: Rights::DUPLICATE,
            call: |_, h| sys::handle_duplicate(h, Rights::SAME_RIGHTS).and_then(sys::handle_close),
        },
        Op {
            name: "object_signal",
            object: event,
            needs: Rights::SIGNAL,
            call: |_, h| sys::object_signal(h, Signals::NONE, Signals::USER_0),
        },
        Op {
            name: "object_signal_peer",
            object: eventpair,
            needs: Rights::SIGNAL_PEER,
            call: |_, h| sys::object_signal_peer(h, Signals::NONE, Signals::USER_0),
        },
        Op {
            name: "object_wait_one",
            object: event,
            needs: Rights::READ,
            call: |_, h| match sys::object_wait_one(h, Signals::USER_7, Time::ZERO) {
                Err(error) if error.status == Status::TIMED_OUT => Ok(()),
                other => ignore(other.map_err(Status::from)),
            },
        },
        Op {
            name: "object_wait_many",
            object: event,
            needs: Rights::READ,
            call: |_, h| {
                let mut items = [WaitItem {
                    handle: h,
                    waitfor: Signals::USER_7,
                    pending: Signals::NONE,
                }];
                match sys::object_wait_many(&mut items, Time::ZERO) {
                    Err(Status::TIMED_OUT) => Ok(()),
                    other => other,
                }
            },
        },
        Op {
            name: "port_queue",
            object: port,
            needs: Rights::WRITE,
            call: |_, h| sys::port_queue(h, &PortPacket::default(), 0),
        },
        Op {
            name: "port_wait",
            object: port,
            needs: Rights::READ,
            call: |_, h| match sys::port_wait(h, Time::ZERO, 0) {
                Err(Status::TIMED_OUT) => Ok(()),
                other => ignore(other),
            },
        },
        Op {
            name: "object_wait_async (the port)",
            object: port,
            needs: Rights::WRITE,
            call: |f, h| sys::object_wait_async(f.event, h, 1, Signals::USER_0, WAIT_ASYNC_ONCE),
        },
        Op {
            name: "object_wait_async (the source)",
            object: event,
            needs: Rights::READ,
            call: |f, h| sys::object_wait_async(h, f.port, 2, Signals::USER_0, WAIT_ASYNC_ONCE),
        },
        Op {
            name: "port_cancel (the port)",
            object: port,
            needs: Rights::WRITE,
            call: |f, h| match sys::port_cancel(h, f.event, 3) {
                Err(Status::NOT_FOUND) => Ok(()),
                other => other,
            },
        },
        Op {
            name: "port_cancel (the source)",
            object: event,
            needs: Rights::READ,
            call: |f, h| match sys::port_cancel(f.port, h, 3) {
                Err(Status::NOT_FOUND) => Ok(()),
                other => other,
            },
        },
        Op {
            name: "handle_replace",
            object: event,
            needs: Rights::NONE,
            call: |_, h| sys::handle_replace(h, Rights::SAME_RIGHTS).and_then(sys::handle_close),
        },
        Op {
            name: "object_get_info",
            object: socket,
            needs: Rights::NONE,
            call: |_, h| ignore(sys::object_get_info_handle_basic(h)),
        },
        Op {
            name: "channel_write",
            object: channel,
            needs: Rights::WRITE,
            call: |_, h| sys::channel_write(h, 0, &b"m"[..], &[][..]),
        },
        Op {
            name: "channel_write (a handle sent)",
            object: socket,
            needs: Rights::TRANSFER,
            call: |f, h| sys::channel_write(f.channel.0, 0, &[][..], &[h][..]),
        },
        Op {
            name: "channel_read",
            object: channel,
            needs: Rights::READ,
            call: |f, h| {
                sys::channel_write(f.channel.1, 0, &b"r"[..], &[][..]).unwrap();
                let mut buf = [0u8; 1];
                ignore(sys::channel_read(h, 0, &mut buf[..], &mut [][..]).map_err(Status::from))
            },
        },
        Op {
            name: "channel_call",
            object: channel,
            needs: Rights::READ.union(Rights::WRITE),
            call: |_, h| {
                let call = sys::channel_call(
                    h,
                    0,
                    Time::ZERO,
                    &[0u8; 4][..],
                    &[][..],
                    &mut [0u8; 4][..],
                    &mut [][..],
                );
                match call {
                    Err(error) if error.status == Status::TIMED_OUT => Ok(()),
                    other => ignore(other.map_err(|e| e.status)),
                }
            },
        },
        Op {
            name: "object_signal (channel)",
            object: channel,
            needs: Rights::SIGNAL,
            call: |_, h| sys::object_signal(h, Signals::NONE, Signals::USER_1),
        },
        Op {
            name: "object_signal_peer (channel)",
            object: channel,
            needs: Rights::SIGNAL_PEER,
            call: |_, h| sys::object_signal_peer(h, Signals::NONE, Signals::USER_1),
        },
        Op {
            name: "object_wait_one (channel)",
            object: channel,
            needs: Rights::READ,
            call: |_, h| match sys::object_wait_one(h, Signals::USER_7, Time::ZERO) {
                Err(error) if error.status == Status::TIMED_OUT => Ok(()),
                other => ignore(other.map_err(Status::from)),
            },
        },
        Op {
            name: "object_wait_async (a channel source)",
            object: channel,
            needs: Rights::READ,
            call: |f, h| sys::object_wait_async(h, f.port, 4, Signals::USER_0, WAIT_ASYNC_ONCE),
        },
    ]
}

/// Every right a handle can hold.
const EACH_RIGHT: [Rights; 6] = [
    Rights::DUPLICATE,
    Rights::TRANSFER,
    Rights::READ,
    Rights::WRITE,
    Rights::SIGNAL,
    Rights::SIGNAL_PEER,
];

#[test]
fn every_operation_needs_exactly_its_rights() {
    let mut checked = 0;
    for op in ops() {
        // Allowed with exactly the rights it needs.
        let f = Fixture::new();
        let h = with_rights((op.object)(&f), op.needs);
        let allowed = (op.call)(&f, h);
        assert!(
            allowed.is_ok(),
            "{}: with {:?} got {:?}",
            op.name,
            op.needs,
            allowed
        );
        let _ = sys::handle_close(h);
        f.close();
        // Refused without any one of them.
        for right in EACH_RIGHT.into_iter().filter(|r| op.needs.contains(*r)) {
            let f = Fixture::new();
            let all = sys::object_get_info_handle_basic((op.object)(&f))
                .unwrap()
                .rights;
            let h = with_rights((op.object)(&f), all - right);
            assert_eq!(
                (op.call)(&f, h),
                Err(Status::ACCESS_DENIED),
                "{} without {:?}",
                op.name,
                right
            );
            let _ = sys::handle_close(h);
            f.close();
            checked += 1;
        }
    }
    assert!(checked >= 24);
}

#[test]
fn a_channel_end_without_transfer_cannot_be_sent() {
    let f = Fixture::new();
    let (c, d) = sys::channel_create(0).unwrap();
    let c = sys::handle_replace(c, Rights::CHANNEL_DEFAULT - Rights::TRANSFER).unwrap();
    assert_eq!(
        sys::channel_write(f.channel.0, 0, &[][..], &[c][..]),
        Err(Status::ACCESS_DENIED)
    );
    // It stays, unchanged, and can still write.
    assert_eq!(
        sys::channel_write(c, 0, &b"still here"[..], &[][..]),
        Ok(())
    );
    sys::handle_close(c).unwrap();
    sys::handle_close(d).unwrap();
    f.close();
}

//! Rights, table-driven: every operation is refused with `ACCESS_DENIED`
//! through a handle lacking any right it needs, and allowed through a handle
//! holding exactly the rights it needs.

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
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            socket: sys::socket_create(0).unwrap(),
            event: sys::event_create(0).unwrap(),
            eventpair: sys::eventpair_create(0).unwrap(),
            port: sys::port_create(0).unwrap(),
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
        ] {
            sys::handle_close(h).unwrap();
        }
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
        let h = sys::handle_duplicate((op.object)(&f), op.needs).unwrap();
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
            let h = sys::handle_duplicate((op.object)(&f), all - right).unwrap();
            assert_eq!(
                (op.call)(&f, h),
                Err(Status::ACCESS_DENIED),
                "{} without {:?}",
                op.name,
                right
            );
            sys::handle_close(h).unwrap();
            f.close();
            checked += 1;
        }
    }
    assert!(checked >= 15);
}

#[test]
fn transfer_gates_nothing_in_one_process() {
    // MX_RIGHT_TRANSFER moves handles between processes; with one handle
    // table per process nothing here needs it, and its absence changes
    // nothing.
    let f = Fixture::new();
    let all = sys::object_get_info_handle_basic(f.socket.0)
        .unwrap()
        .rights;
    let h = sys::handle_duplicate(f.socket.0, all - Rights::TRANSFER).unwrap();
    assert_eq!(sys::socket_write(h, 0, &b"z"[..]), Ok(1));
    sys::handle_close(h).unwrap();
    f.close();
}

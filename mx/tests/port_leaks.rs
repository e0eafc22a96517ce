//! Ports leak nothing: every object is freed however waits and handles end.
//! (One test in its own binary: it counts the process's live objects.)

use mx::core::abi::{WAIT_ASYNC_ONCE, WAIT_ASYNC_REPEATING};
use mx::sys;
use mx::{Signals, Status, Time};

#[test]
fn ports_and_async_waits_leak_nothing() {
    let before = mx::sys::ext::live_objects();

    // The port closes first, with waits still registered and packets queued.
    let p = sys::port_create(0).unwrap();
    let e = sys::event_create(0).unwrap();
    let (a, b) = sys::socket_create(1).unwrap();
    sys::object_wait_async(e, p, 1, Signals::USER_0, WAIT_ASYNC_REPEATING).unwrap();
    sys::object_wait_async(b, p, 2, Signals::READABLE, WAIT_ASYNC_ONCE).unwrap();
    sys::object_wait_async(a, p, 3, Signals::READABLE, WAIT_ASYNC_REPEATING).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    sys::handle_close(p).unwrap();
    assert_eq!(
        mx::sys::ext::live_objects(),
        before + 2,
        "the port is freed with its waits"
    );
    // The waits ended quietly: signalling again does nothing bad.
    sys::object_signal(e, Signals::USER_0, Signals::NONE).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    sys::socket_write(a, 0, &b"x"[..]).unwrap();
    for h in [e, a, b] {
        sys::handle_close(h).unwrap();
    }
    assert_eq!(mx::sys::ext::live_objects(), before);

    // The watched objects close first; the port keeps its queued packets.
    let p = sys::port_create(0).unwrap();
    let e = sys::event_create(0).unwrap();
    sys::object_wait_async(e, p, 1, Signals::USER_0, WAIT_ASYNC_REPEATING).unwrap();
    sys::object_wait_async(e, p, 2, Signals::USER_1, WAIT_ASYNC_ONCE).unwrap();
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    sys::handle_close(e).unwrap();
    assert_eq!(
        mx::sys::ext::live_objects(),
        before + 1,
        "the event is freed though a packet is queued"
    );
    assert_eq!(sys::port_wait(p, Time::ZERO, 0).unwrap().key, 1);
    assert_eq!(sys::port_wait(p, Time::ZERO, 0), Err(Status::TIMED_OUT));
    sys::handle_close(p).unwrap();
    assert_eq!(mx::sys::ext::live_objects(), before);

    // Cancelled waits leave nothing behind either.
    let p = sys::port_create(0).unwrap();
    let e = sys::event_create(0).unwrap();
    for key in 0..100 {
        sys::object_wait_async(e, p, key, Signals::USER_0, WAIT_ASYNC_REPEATING).unwrap();
    }
    sys::object_signal(e, Signals::NONE, Signals::USER_0).unwrap();
    for key in 0..100 {
        sys::port_cancel(p, e, key).unwrap();
    }
    assert_eq!(
        sys::port_wait(p, Time::ZERO, 0),
        Err(Status::TIMED_OUT),
        "no packet after cancel"
    );
    sys::handle_close(e).unwrap();
    sys::handle_close(p).unwrap();
    assert_eq!(mx::sys::ext::live_objects(), before);
    assert_eq!(sys::ext::handle_count(), 0);
}

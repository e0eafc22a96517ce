//! SPEC 6: `mx_event_create`, `mx_eventpair_create`, and signalling them.

use mx::core::abi::SOCKET_HALF_CLOSE;
use mx::sys;
use mx::{Koid, ObjectType, Rights, Signals, Status};

use crate::{close, dup, event, expect, info, outstanding, read, write, Pair, L, NONE, P};

const SIGNALED: Signals = Signals::EVENT_SIGNALED;
const U0: Signals = Signals::USER_0;
const U5: Signals = Signals::USER_5;

/// Every bit below the user signals except `SIGNALED` (bit 3).
fn non_settable_bits() -> impl Iterator<Item = Signals> {
    (0..24)
        .filter(|&bit| bit != 3)
        .map(|bit| Signals::from_bits_retain(1 << bit))
}

// ---------------------------------------------------------------------------
// mx_event_create

#[test]
fn event_create_options_invalid_args() {
    for options in [1, 2, 0x8000_0000, u32::MAX] {
        assert_eq!(
            sys::event_create(options),
            Err(Status::INVALID_ARGS),
            "options {options:#x}"
        );
    }
}

#[test]
fn event_create_starts_with_last_handle_only() {
    let e = event();
    expect(e.0, L);
}

#[test]
fn event_create_info() {
    let e = event();
    let i = info(e.0);
    assert_eq!(i.type_, ObjectType::EVENT.0);
    assert_eq!(i.type_, 5);
    assert_eq!(i.rights, Rights::EVENT_DEFAULT);
    assert_eq!(
        i.rights,
        Rights::DUPLICATE | Rights::TRANSFER | Rights::READ | Rights::WRITE | Rights::SIGNAL
    );
    assert!(!i.rights.contains(Rights::SIGNAL_PEER));
    assert!(i.koid >= Koid::FIRST);
    assert_eq!(i.related_koid, Koid::INVALID);
    assert_eq!(i.props, 1, "events are waitable");
}

#[test]
fn object_signal_event_signaled_and_user_bits() {
    let e = event();
    assert_eq!(sys::object_signal(e.0, NONE, SIGNALED), Ok(()));
    expect(e.0, L | SIGNALED);
    assert_eq!(sys::object_signal(e.0, NONE, U0 | U5), Ok(()));
    expect(e.0, L | SIGNALED | U0 | U5);
    assert_eq!(sys::object_signal(e.0, SIGNALED | U0, NONE), Ok(()));
    expect(e.0, L | U5);
    assert_eq!(
        sys::object_signal(e.0, NONE, Signals::USER_ALL | SIGNALED),
        Ok(())
    );
    expect(e.0, L | SIGNALED | Signals::USER_ALL);
}

#[test]
fn object_signal_event_clears_then_sets() {
    let e = event();
    sys::object_signal(e.0, NONE, SIGNALED).unwrap();
    sys::object_signal(e.0, SIGNALED, SIGNALED).unwrap();
    expect(e.0, L | SIGNALED);
}

#[test]
fn object_signal_event_other_bits_invalid_args() {
    let e = event();
    sys::object_signal(e.0, NONE, U0).unwrap();
    for bit in non_settable_bits() {
        assert_eq!(
            sys::object_signal(e.0, NONE, bit),
            Err(Status::INVALID_ARGS),
            "set {bit:?}"
        );
        assert_eq!(
            sys::object_signal(e.0, bit, NONE),
            Err(Status::INVALID_ARGS),
            "clear {bit:?}"
        );
        assert_eq!(
            sys::object_signal(e.0, U0, bit | SIGNALED),
            Err(Status::INVALID_ARGS),
            "set {bit:?} | SIGNALED"
        );
    }
    expect(e.0, L | U0);
}

#[test]
fn object_signal_event_needs_signal_right() {
    let e = event();
    let ns = dup(e.0, Rights::READ | Rights::WRITE);
    assert_eq!(
        sys::object_signal(ns, NONE, SIGNALED),
        Err(Status::ACCESS_DENIED)
    );
    expect(e.0, NONE);
    close(ns);
    expect(e.0, L);
}

#[test]
fn object_signal_event_seen_through_every_handle() {
    let e = event();
    let d = dup(e.0, Rights::READ);
    sys::object_signal(e.0, NONE, SIGNALED).unwrap();
    expect(d, SIGNALED);
    close(d);
    expect(e.0, L | SIGNALED);
}

#[test]
fn socket_calls_on_event_wrong_type() {
    let e = event();
    assert_eq!(write(e.0, b"x"), Err(Status::WRONG_TYPE));
    assert_eq!(read(e.0, 1), Err(Status::WRONG_TYPE));
    assert_eq!(outstanding(e.0), Err(Status::WRONG_TYPE));
    assert_eq!(
        sys::socket_write(e.0, SOCKET_HALF_CLOSE, &[][..]),
        Err(Status::WRONG_TYPE)
    );
}

// ---------------------------------------------------------------------------
// mx_eventpair_create

#[test]
fn eventpair_create_options_not_supported() {
    for options in [1, 2, u32::MAX] {
        assert_eq!(
            sys::eventpair_create(options),
            Err(Status::NOT_SUPPORTED),
            "options {options:#x}"
        );
    }
}

#[test]
fn eventpair_create_ends_start_with_last_handle_only() {
    let ep = Pair::eventpair();
    expect(ep.a, L);
    expect(ep.b, L);
}

#[test]
fn eventpair_create_info() {
    let ep = Pair::eventpair();
    let (a, b) = (info(ep.a), info(ep.b));
    for i in [a, b] {
        assert_eq!(i.type_, ObjectType::EVENT_PAIR.0);
        assert_eq!(i.type_, 16);
        assert_eq!(i.rights, Rights::EVENTPAIR_DEFAULT);
        assert_eq!(i.rights, Rights::EVENT_DEFAULT | Rights::SIGNAL_PEER);
        assert_eq!(i.props, 1);
        assert!(i.koid >= Koid::FIRST);
    }
    assert_ne!(a.koid, b.koid);
    assert_eq!(a.related_koid, b.koid);
    assert_eq!(b.related_koid, a.koid);
}

#[test]
fn object_signal_eventpair_sets_own_end_only() {
    let ep = Pair::eventpair();
    sys::object_signal(ep.a, NONE, SIGNALED | U0).unwrap();
    expect(ep.a, L | SIGNALED | U0);
    expect(ep.b, L);
}

#[test]
fn object_signal_eventpair_other_bits_invalid_args() {
    let ep = Pair::eventpair();
    for bit in non_settable_bits() {
        assert_eq!(
            sys::object_signal(ep.a, NONE, bit),
            Err(Status::INVALID_ARGS),
            "set {bit:?}"
        );
        assert_eq!(
            sys::object_signal_peer(ep.a, NONE, bit),
            Err(Status::INVALID_ARGS),
            "peer set {bit:?}"
        );
    }
    // EPAIR_PEER_CLOSED is the kernel's to set.
    assert_eq!(
        sys::object_signal(ep.a, NONE, Signals::EPAIR_PEER_CLOSED),
        Err(Status::INVALID_ARGS)
    );
    expect(ep.a, L);
    expect(ep.b, L);
}

#[test]
fn object_signal_peer_eventpair() {
    let ep = Pair::eventpair();
    assert_eq!(
        sys::object_signal_peer(ep.a, NONE, Signals::EPAIR_SIGNALED | U5),
        Ok(())
    );
    expect(ep.a, L);
    expect(ep.b, L | SIGNALED | U5);
    assert_eq!(sys::object_signal_peer(ep.b, NONE, U0), Ok(()));
    expect(ep.a, L | U0);
    assert_eq!(sys::object_signal_peer(ep.a, SIGNALED, NONE), Ok(()));
    expect(ep.b, L | U5);
}

#[test]
fn object_signal_peer_eventpair_needs_signal_peer_right() {
    let ep = Pair::eventpair();
    let np = dup(ep.a, Rights::SIGNAL | Rights::READ);
    assert_eq!(
        sys::object_signal_peer(np, NONE, SIGNALED),
        Err(Status::ACCESS_DENIED)
    );
    expect(ep.b, L);
    close(np);
}

#[test]
fn handle_close_eventpair_asserts_peer_closed_and_keeps_other_signals() {
    let ep = Pair::eventpair();
    sys::object_signal(ep.b, NONE, U0).unwrap();
    sys::object_signal_peer(ep.a, NONE, SIGNALED).unwrap();
    expect(ep.b, L | U0 | SIGNALED);
    close(ep.a);
    expect(ep.b, L | U0 | SIGNALED | Signals::EPAIR_PEER_CLOSED);
    assert_eq!(Signals::EPAIR_PEER_CLOSED, P);
    // The survivor can still change its own signals.
    sys::object_signal(ep.b, SIGNALED, NONE).unwrap();
    expect(ep.b, L | U0 | P);
}

#[test]
fn handle_close_eventpair_non_last_handle_no_peer_closed() {
    let ep = Pair::eventpair();
    let d = dup(ep.a, Rights::SAME_RIGHTS);
    expect(ep.a, NONE);
    close(ep.a);
    expect(d, L);
    expect(ep.b, L);
    close(d);
    expect(ep.b, L | P);
}

#[test]
fn object_signal_peer_eventpair_peer_closed() {
    let ep = Pair::eventpair();
    close(ep.b);
    assert_eq!(
        sys::object_signal_peer(ep.a, NONE, SIGNALED),
        Err(Status::PEER_CLOSED)
    );
    expect(ep.a, L | P);
}

#[test]
fn eventpair_related_koid_survives_peer_close() {
    let ep = Pair::eventpair();
    let b = info(ep.b).koid;
    close(ep.b);
    assert_eq!(info(ep.a).related_koid, b);
}

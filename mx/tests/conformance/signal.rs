//! SPEC 6: `mx_object_signal` and `mx_object_signal_peer` on sockets (user
//! signals only), and their rights.

use mx::sys;
use mx::{Rights, Signals, Status, HANDLE_INVALID};

use crate::{close, dup, event, expect, expect_both, read, write, Pair, L, NONE, P, R, W};

const U0: Signals = Signals::USER_0;
const U1: Signals = Signals::USER_1;
const U7: Signals = Signals::USER_7;

/// Every bit a socket does not let programs set.
fn non_user_bits() -> impl Iterator<Item = Signals> {
    (0..24).map(|bit| Signals::from_bits_retain(1 << bit))
}

// ---------------------------------------------------------------------------
// mx_object_signal

#[test]
fn object_signal_socket_user_signals() {
    let s = Pair::stream();
    assert_eq!(sys::object_signal(s.a, NONE, U0 | U7), Ok(()));
    expect_both(&s, W | L | U0 | U7, W | L);
    assert_eq!(sys::object_signal(s.b, NONE, Signals::USER_ALL), Ok(()));
    expect_both(&s, W | L | U0 | U7, W | L | Signals::USER_ALL);
    assert_eq!(sys::object_signal(s.a, U0, NONE), Ok(()));
    expect_both(&s, W | L | U7, W | L | Signals::USER_ALL);
}

#[test]
fn object_signal_socket_non_user_bits_invalid_args() {
    let s = Pair::stream();
    for bit in non_user_bits() {
        assert_eq!(
            sys::object_signal(s.a, NONE, bit),
            Err(Status::INVALID_ARGS),
            "set {bit:?}"
        );
        assert_eq!(
            sys::object_signal(s.a, bit, NONE),
            Err(Status::INVALID_ARGS),
            "clear {bit:?}"
        );
        // Mixed with valid bits, the whole call fails and changes nothing.
        assert_eq!(
            sys::object_signal(s.a, NONE, bit | U1),
            Err(Status::INVALID_ARGS),
            "set {bit:?} | USER_1"
        );
    }
    expect_both(&s, W | L, W | L);
}

#[test]
fn object_signal_socket_signaled_bit_invalid_args() {
    // Bit 3 is settable on events, not on sockets.
    let s = Pair::datagram();
    assert_eq!(
        sys::object_signal(s.a, NONE, Signals::EVENT_SIGNALED),
        Err(Status::INVALID_ARGS)
    );
    expect_both(&s, W | L, W | L);
}

#[test]
fn object_signal_clears_then_sets() {
    let s = Pair::stream();
    sys::object_signal(s.a, NONE, U0 | U1).unwrap();
    // Clearing and setting the same bit leaves it set.
    sys::object_signal(s.a, U0 | U1, U1).unwrap();
    expect(s.a, W | L | U1);
    sys::object_signal(s.a, U7, U7).unwrap();
    expect(s.a, W | L | U1 | U7);
    sys::object_signal(s.a, Signals::USER_ALL, NONE).unwrap();
    expect(s.a, W | L);
}

#[test]
fn object_signal_needs_signal_right() {
    let s = Pair::stream();
    let ns = dup(s.a, Rights::READ | Rights::WRITE | Rights::SIGNAL_PEER);
    assert_eq!(sys::object_signal(ns, NONE, U0), Err(Status::ACCESS_DENIED));
    // The rights are checked before the bits.
    assert_eq!(
        sys::object_signal(ns, NONE, Signals::READABLE),
        Err(Status::ACCESS_DENIED)
    );
    expect_both(&s, W, W | L);
    let only = dup(s.a, Rights::SIGNAL);
    assert_eq!(sys::object_signal(only, NONE, U0), Ok(()));
    expect(s.a, W | U0);
    close(ns);
    close(only);
}

#[test]
fn object_signal_bad_handle() {
    let e = event();
    close(e.0);
    assert_eq!(sys::object_signal(e.0, NONE, U0), Err(Status::BAD_HANDLE));
    assert_eq!(
        sys::object_signal(HANDLE_INVALID, NONE, U0),
        Err(Status::BAD_HANDLE)
    );
}

#[test]
fn object_signal_user_signals_independent_of_data() {
    let s = Pair::stream();
    sys::object_signal(s.b, NONE, U1).unwrap();
    assert_eq!(write(s.a, b"data"), Ok(4));
    expect_both(&s, W | L, W | R | L | U1);
    assert_eq!(read(s.b, 4).map(|v| v.len()), Ok(4));
    expect_both(&s, W | L, W | L | U1);
    close(s.a);
    expect(s.b, P | L | U1);
}

#[test]
fn object_signal_through_duplicate_sets_the_end() {
    let s = Pair::stream();
    let d = dup(s.a, Rights::SAME_RIGHTS);
    sys::object_signal(d, NONE, U0).unwrap();
    expect(s.a, W | U0);
    close(d);
    expect(s.a, W | L | U0);
}

// ---------------------------------------------------------------------------
// mx_object_signal_peer

#[test]
fn object_signal_peer_socket() {
    for s in Pair::both_modes() {
        assert_eq!(sys::object_signal_peer(s.a, NONE, U0 | U7), Ok(()));
        expect_both(&s, W | L, W | L | U0 | U7);
        assert_eq!(sys::object_signal_peer(s.a, U0, U1), Ok(()));
        expect_both(&s, W | L, W | L | U1 | U7);
        assert_eq!(sys::object_signal_peer(s.b, NONE, U0), Ok(()));
        expect_both(&s, W | L | U0, W | L | U1 | U7);
    }
}

#[test]
fn object_signal_peer_socket_non_user_bits_invalid_args() {
    let s = Pair::stream();
    for bit in non_user_bits() {
        assert_eq!(
            sys::object_signal_peer(s.a, NONE, bit),
            Err(Status::INVALID_ARGS),
            "set {bit:?}"
        );
        assert_eq!(
            sys::object_signal_peer(s.a, bit, NONE),
            Err(Status::INVALID_ARGS),
            "clear {bit:?}"
        );
    }
    expect_both(&s, W | L, W | L);
}

#[test]
fn object_signal_peer_needs_signal_peer_right() {
    let s = Pair::stream();
    let np = dup(s.a, Rights::READ | Rights::WRITE | Rights::SIGNAL);
    assert_eq!(
        sys::object_signal_peer(np, NONE, U0),
        Err(Status::ACCESS_DENIED)
    );
    expect_both(&s, W, W | L);
    let only = dup(s.a, Rights::SIGNAL_PEER);
    assert_eq!(sys::object_signal_peer(only, NONE, U0), Ok(()));
    expect(s.b, W | L | U0);
    close(np);
    close(only);
}

#[test]
fn object_signal_peer_socket_peer_closed() {
    for s in Pair::both_modes() {
        close(s.b);
        assert_eq!(
            sys::object_signal_peer(s.a, NONE, U0),
            Err(Status::PEER_CLOSED)
        );
        expect(s.a, P | L);
    }
}

#[test]
fn object_signal_peer_socket_after_peer_half_closed_ok() {
    // Half-closing is not closing: the peer end is still there.
    let s = Pair::stream();
    assert_eq!(crate::half_close(s.b), Ok(0));
    assert_eq!(sys::object_signal_peer(s.a, NONE, U0), Ok(()));
    expect_both(&s, W | P | L, L | U0);
}

#[test]
fn object_signal_peer_event_access_denied() {
    let e = event();
    assert_eq!(
        sys::object_signal_peer(e.0, NONE, Signals::EVENT_SIGNALED),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::object_signal_peer(e.0, NONE, U0),
        Err(Status::ACCESS_DENIED)
    );
    expect(e.0, L);
}

#[test]
fn object_signal_peer_bad_handle() {
    assert_eq!(
        sys::object_signal_peer(HANDLE_INVALID, NONE, U0),
        Err(Status::BAD_HANDLE)
    );
    let s = Pair::stream();
    close(s.a);
    assert_eq!(
        sys::object_signal_peer(s.a, NONE, U0),
        Err(Status::BAD_HANDLE)
    );
}

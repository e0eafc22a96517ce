//! SPEC 5 and 6: `mx_object_wait_one` and `mx_object_wait_many`, including
//! cancellation by closing a handle.
//!
//! Where another thread must act while a wait is registered, it sleeps a
//! while first; the waits themselves carry deadlines far beyond that, so a
//! lost wake-up fails the test instead of hanging it.

use std::thread;
use std::time::Duration;

use mx::core::abi::WAIT_MANY_MAX_ITEMS;
use mx::sys::{self, ErrorWith};
use mx::{Rights, Signals, Status, Time, WaitItem, HANDLE_INVALID};

use crate::{
    after_ms, close, dup, elapsed_ms, event, expect, expect_both, fill, read, write, Owned, Pair,
    L, NONE, P, R, W,
};

const U0: Signals = Signals::USER_0;
const U1: Signals = Signals::USER_1;
const CLOSED: Signals = Signals::HANDLE_CLOSED;

/// How long a helper thread waits before acting, so that the wait it is
/// meant to interrupt is registered by then.
const SETTLE_MS: u64 = 200;

/// A deadline no correct test reaches.
fn far() -> Time {
    after_ms(10_000)
}

fn timed_out(observed: Signals) -> Result<Signals, ErrorWith<Signals>> {
    Err(ErrorWith {
        status: Status::TIMED_OUT,
        value: Some(observed),
    })
}

fn canceled(observed: Signals) -> Result<Signals, ErrorWith<Signals>> {
    Err(ErrorWith {
        status: Status::CANCELED,
        value: Some(observed),
    })
}

fn bare(status: Status) -> Result<Signals, ErrorWith<Signals>> {
    Err(ErrorWith {
        status,
        value: None,
    })
}

/// Runs `f` on another thread after [`SETTLE_MS`].
fn later(f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(SETTLE_MS));
        f();
    })
}

// ---------------------------------------------------------------------------
// mx_object_wait_one: without blocking

#[test]
fn object_wait_one_satisfied_now_returns_current_signals() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"x"), Ok(1));
    assert_eq!(sys::object_wait_one(s.b, R, far()), Ok(W | R | L));
    assert_eq!(sys::object_wait_one(s.b, R | P, Time::ZERO), Ok(W | R | L));
    assert_eq!(sys::object_wait_one(s.a, W, Time::INFINITE), Ok(W | L));
}

#[test]
fn object_wait_one_deadline_zero_timed_out_with_observed() {
    let s = Pair::stream();
    let start = sys::time_get(0);
    assert_eq!(sys::object_wait_one(s.b, R, Time::ZERO), timed_out(W | L));
    assert_eq!(
        sys::object_wait_one(s.a, P | U0, Time::ZERO),
        timed_out(W | L)
    );
    assert!(elapsed_ms(start) < 1000, "a zero deadline does not block");
}

#[test]
fn object_wait_one_past_deadline_timed_out_with_observed() {
    let s = Pair::stream();
    let past = sys::time_get(0);
    let start = past;
    for deadline in [Time(1), past] {
        assert_eq!(sys::object_wait_one(s.b, R, deadline), timed_out(W | L));
    }
    assert!(elapsed_ms(start) < 1000, "a past deadline does not block");
    // Satisfied now wins over a past deadline.
    assert_eq!(sys::object_wait_one(s.b, W, Time(1)), Ok(W | L));
}

#[test]
fn object_wait_one_signals_none_deadline_zero_timed_out() {
    let e = event();
    assert_eq!(sys::object_wait_one(e.0, NONE, Time::ZERO), timed_out(L));
}

#[test]
fn object_wait_one_signals_none_waits_until_deadline() {
    let s = Pair::stream();
    let start = sys::time_get(0);
    let deadline = after_ms(150);
    assert_eq!(sys::object_wait_one(s.a, NONE, deadline), timed_out(W | L));
    assert!(sys::time_get(0) >= deadline, "returned before the deadline");
    assert!(elapsed_ms(start) < 5000);
}

#[test]
fn object_wait_one_unsatisfied_waits_until_deadline() {
    let s = Pair::stream();
    let deadline = after_ms(120);
    assert_eq!(sys::object_wait_one(s.b, R, deadline), timed_out(W | L));
    assert!(sys::time_get(0) >= deadline);
}

#[test]
fn object_wait_one_bad_handle() {
    let e = event();
    close(e.0);
    for h in [e.0, HANDLE_INVALID, -3] {
        assert_eq!(
            sys::object_wait_one(h, U0, Time::ZERO),
            bare(Status::BAD_HANDLE)
        );
        assert_eq!(
            sys::object_wait_one(h, U0, after_ms(50)),
            bare(Status::BAD_HANDLE)
        );
    }
}

#[test]
fn object_wait_one_without_read_access_denied() {
    let s = Pair::stream();
    let nr = dup(s.a, Rights::WRITE | Rights::SIGNAL);
    assert_eq!(
        sys::object_wait_one(nr, W, Time::ZERO),
        bare(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::object_wait_one(nr, NONE, after_ms(50)),
        bare(Status::ACCESS_DENIED)
    );
    let e = event();
    let enr = dup(e.0, Rights::SIGNAL);
    assert_eq!(
        sys::object_wait_one(enr, Signals::EVENT_SIGNALED, Time::INFINITE),
        bare(Status::ACCESS_DENIED)
    );
    close(nr);
    close(enr);
}

#[test]
fn object_wait_one_read_right_is_enough() {
    let s = Pair::stream();
    let r = dup(s.a, Rights::READ);
    assert_eq!(sys::object_wait_one(r, W, Time::ZERO), Ok(W));
    close(r);
}

// ---------------------------------------------------------------------------
// mx_object_wait_one: blocking and waking

#[test]
fn object_wait_one_blocks_until_peer_writes() {
    let s = Pair::stream();
    let a = s.a;
    let t = later(move || assert_eq!(write(a, b"wake"), Ok(4)));
    let start = sys::time_get(0);
    let observed = sys::object_wait_one(s.b, R, far()).unwrap();
    assert!(observed.contains(R), "{observed:?}");
    assert!(elapsed_ms(start) >= SETTLE_MS / 2, "did not block");
    t.join().unwrap();
    expect_both(&s, W | L, W | R | L);
}

#[test]
fn object_wait_one_woken_by_user_signal() {
    let e = event();
    let h = e.0;
    let t = later(move || sys::object_signal(h, NONE, Signals::EVENT_SIGNALED).unwrap());
    let observed = sys::object_wait_one(e.0, Signals::EVENT_SIGNALED, far()).unwrap();
    assert_eq!(observed, L | Signals::EVENT_SIGNALED);
    t.join().unwrap();
}

#[test]
fn object_wait_one_woken_by_peer_close() {
    let s = Pair::stream();
    let a = s.a;
    let t = later(move || close(a));
    let observed = sys::object_wait_one(s.b, P, far()).unwrap();
    assert!(observed.contains(P), "{observed:?}");
    t.join().unwrap();
    expect(s.b, P | L);
}

#[test]
fn object_wait_one_woken_by_peer_half_close() {
    let s = Pair::datagram();
    let a = s.a;
    let t = later(move || assert_eq!(crate::half_close(a), Ok(0)));
    let observed = sys::object_wait_one(s.b, P, far()).unwrap();
    assert!(observed.contains(P), "{observed:?}");
    t.join().unwrap();
    expect_both(&s, L, W | P | L);
}

#[test]
fn object_wait_one_woken_by_room_after_read() {
    let s = Pair::stream();
    fill(s.a);
    let b = s.b;
    let t = later(move || assert_eq!(read(b, 1).map(|v| v.len()), Ok(1)));
    let observed = sys::object_wait_one(s.a, W, far()).unwrap();
    assert!(observed.contains(W), "{observed:?}");
    t.join().unwrap();
    assert_eq!(write(s.a, b"xy"), Ok(1));
}

#[test]
fn object_wait_one_woken_by_eventpair_peer_close() {
    let ep = Pair::eventpair();
    let a = ep.a;
    let t = later(move || close(a));
    let observed = sys::object_wait_one(ep.b, Signals::EPAIR_PEER_CLOSED, far()).unwrap();
    assert_eq!(observed, L | Signals::EPAIR_PEER_CLOSED);
    t.join().unwrap();
}

#[test]
fn object_wait_one_through_duplicate_woken() {
    let s = Pair::stream();
    let d = Owned(dup(s.b, Rights::READ));
    let a = s.a;
    let t = later(move || assert_eq!(write(a, b"x"), Ok(1)));
    let observed = sys::object_wait_one(d.0, R, far()).unwrap();
    assert_eq!(observed, W | R);
    t.join().unwrap();
}

#[test]
fn object_wait_one_observed_is_or_of_states_seen() {
    let s = Pair::stream();
    let (a, b) = (s.a, s.b);
    let t = later(move || {
        // B becomes readable, then not, then gets the watched bit.
        assert_eq!(write(a, b"x"), Ok(1));
        assert_eq!(read(b, 1).map(|v| v.len()), Ok(1));
        sys::object_signal(b, NONE, U1).unwrap();
        sys::object_signal(b, U1, NONE).unwrap();
        sys::object_signal(b, NONE, U0).unwrap();
    });
    let observed = sys::object_wait_one(s.b, U0, far()).unwrap();
    t.join().unwrap();
    assert!(observed.contains(W | L | U0), "{observed:?}");
    assert!(observed.contains(R), "READABLE was seen: {observed:?}");
    assert!(observed.contains(U1), "USER_1 was seen: {observed:?}");
    // The object itself shows only what is set now.
    expect(s.b, W | L | U0);
}

#[test]
fn object_wait_one_timed_out_reports_or_of_states_seen() {
    let s = Pair::stream();
    let b = s.b;
    let t = later(move || {
        sys::object_signal(b, NONE, U1).unwrap();
        sys::object_signal(b, U1, NONE).unwrap();
    });
    let deadline = after_ms(SETTLE_MS + 250);
    assert_eq!(
        sys::object_wait_one(s.b, U0, deadline),
        timed_out(W | L | U1)
    );
    assert!(sys::time_get(0) >= deadline);
    t.join().unwrap();
    expect(s.b, W | L);
}

#[test]
fn object_wait_one_unwatched_changes_do_not_wake() {
    let s = Pair::stream();
    let (a, b) = (s.a, s.b);
    let t = later(move || {
        sys::object_signal(b, NONE, U1).unwrap();
        assert_eq!(write(a, b"data"), Ok(4));
        let d = dup(b, Rights::SAME_RIGHTS);
        close(d);
    });
    let deadline = after_ms(SETTLE_MS + 300);
    let result = sys::object_wait_one(s.b, U0, deadline);
    assert!(sys::time_get(0) >= deadline, "woke early: {result:?}");
    t.join().unwrap();
    let observed = result.unwrap_err();
    assert_eq!(observed.status, Status::TIMED_OUT);
    assert!(observed.value.unwrap().contains(W | R | L | U1));
}

#[test]
fn object_wait_one_clearing_does_not_wake() {
    let s = Pair::stream();
    sys::object_signal(s.b, NONE, U1).unwrap();
    let b = s.b;
    let t = later(move || {
        // Clears of watched and unwatched bits, and losing WRITABLE.
        sys::object_signal(b, U0 | U1, NONE).unwrap();
        fill(b);
    });
    let deadline = after_ms(SETTLE_MS + 300);
    let result = sys::object_wait_one(s.b, U0, deadline);
    assert!(sys::time_get(0) >= deadline, "woke early: {result:?}");
    t.join().unwrap();
    assert_eq!(result, timed_out(W | L | U1));
    expect_both(&s, W | R | L, L);
}

#[test]
fn object_wait_one_peer_close_does_not_wake_a_readable_waiter() {
    // PEER_CLOSED is asserted and WRITABLE cleared; neither is watched.
    let s = Pair::stream();
    let a = s.a;
    let t = later(move || close(a));
    let deadline = after_ms(SETTLE_MS + 250);
    let result = sys::object_wait_one(s.b, R, deadline);
    assert!(sys::time_get(0) >= deadline, "woke early: {result:?}");
    t.join().unwrap();
    assert_eq!(result, timed_out(W | P | L));
    expect(s.b, P | L);
}

#[test]
fn object_wait_one_canceled_when_another_thread_closes_the_handle() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::READ);
    let t = later(move || close(d));
    let start = sys::time_get(0);
    let result = sys::object_wait_one(d, R, far());
    assert!(elapsed_ms(start) < 5000);
    t.join().unwrap();
    let err = result.unwrap_err();
    assert_eq!(err.status, Status::CANCELED);
    let observed = err.value.expect("observed is reported with CANCELED");
    assert!(observed.contains(CLOSED | W), "{observed:?}");
    // The object is untouched: the other handle still works.
    expect_both(&s, W | L, W | L);
}

#[test]
fn object_wait_one_canceled_when_last_handle_closed() {
    let s = Pair::stream();
    let b = s.b;
    let t = later(move || close(b));
    let result = sys::object_wait_one(s.b, R, far());
    t.join().unwrap();
    assert_eq!(result, canceled(W | L | CLOSED));
    expect(s.a, P | L);
}

#[test]
fn object_wait_one_canceled_when_handle_replaced() {
    let e = event();
    let h = e.0;
    let (tx, rx) = std::sync::mpsc::channel();
    let t = later(move || {
        tx.send(sys::handle_replace(h, Rights::SAME_RIGHTS))
            .unwrap()
    });
    let result = sys::object_wait_one(e.0, Signals::EVENT_SIGNALED, far());
    t.join().unwrap();
    let new = Owned(rx.recv().unwrap().unwrap());
    assert_eq!(result, canceled(L | CLOSED));
    expect(new.0, L);
}

#[test]
fn object_wait_one_close_of_other_handle_does_not_cancel() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::SAME_RIGHTS);
    let t = later(move || close(d));
    let deadline = after_ms(SETTLE_MS + 300);
    let result = sys::object_wait_one(s.b, U0, deadline);
    assert!(sys::time_get(0) >= deadline, "woke early: {result:?}");
    t.join().unwrap();
    // LAST_HANDLE came back while the wait was registered.
    assert_eq!(result, timed_out(W | L));
}

#[test]
fn object_wait_one_close_of_other_handle_does_not_cancel_then_wakes() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::SAME_RIGHTS);
    let a = s.a;
    let t = later(move || {
        close(d);
        thread::sleep(Duration::from_millis(50));
        assert_eq!(write(a, b"x"), Ok(1));
    });
    let result = sys::object_wait_one(s.b, R, far());
    t.join().unwrap();
    assert_eq!(result, Ok(W | R | L));
}

#[test]
fn object_wait_one_watching_last_handle() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::SAME_RIGHTS);
    expect(s.b, W);
    let t = later(move || close(d));
    let result = sys::object_wait_one(s.b, L, far());
    t.join().unwrap();
    assert_eq!(result, Ok(W | L));
}

// ---------------------------------------------------------------------------
// mx_object_wait_many

fn item(handle: mx::RawHandle, waitfor: Signals) -> WaitItem {
    WaitItem {
        handle,
        waitfor,
        pending: Signals::from_bits_retain(0xdead_beef),
    }
}

#[test]
fn object_wait_many_count_zero_sleeps_until_deadline() {
    let deadline = after_ms(100);
    assert_eq!(
        sys::object_wait_many(&mut [], deadline),
        Err(Status::TIMED_OUT)
    );
    assert!(sys::time_get(0) >= deadline);
}

#[test]
fn object_wait_many_count_zero_past_deadline() {
    let start = sys::time_get(0);
    assert_eq!(
        sys::object_wait_many(&mut [], Time::ZERO),
        Err(Status::TIMED_OUT)
    );
    assert!(elapsed_ms(start) < 1000);
}

#[test]
fn object_wait_many_too_many_items_invalid_args() {
    let e = event();
    let mut items = vec![item(e.0, Signals::EVENT_SIGNALED); WAIT_MANY_MAX_ITEMS + 1];
    assert_eq!(
        sys::object_wait_many(&mut items, Time::ZERO),
        Err(Status::INVALID_ARGS)
    );
    // Checked before the handles.
    let mut bad = vec![item(HANDLE_INVALID, U0); 5000];
    assert_eq!(
        sys::object_wait_many(&mut bad, Time::INFINITE),
        Err(Status::INVALID_ARGS)
    );
}

#[test]
fn object_wait_many_max_items_ok() {
    assert_eq!(WAIT_MANY_MAX_ITEMS, 1024);
    let e = event();
    sys::object_signal(e.0, NONE, Signals::EVENT_SIGNALED).unwrap();
    let mut items = vec![item(e.0, Signals::EVENT_SIGNALED); WAIT_MANY_MAX_ITEMS];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    for it in &items {
        assert_eq!(it.pending, L | Signals::EVENT_SIGNALED);
    }
}

#[test]
fn object_wait_many_bad_item_returns_its_error() {
    let s = Pair::stream();
    let e = event();
    let nr = Owned(dup(s.a, Rights::WRITE));
    let stale = dup(s.b, Rights::SAME_RIGHTS);
    close(stale);
    for (bad, status) in [
        (stale, Status::BAD_HANDLE),
        (HANDLE_INVALID, Status::BAD_HANDLE),
        (nr.0, Status::ACCESS_DENIED),
    ] {
        // The bad item comes last, after items that registered.
        let mut items = [item(s.a, R), item(e.0, U0), item(bad, W)];
        assert_eq!(sys::object_wait_many(&mut items, after_ms(50)), Err(status));
        // It fails even when an earlier item is satisfied.
        let mut items = [item(s.a, W), item(bad, W)];
        assert_eq!(
            sys::object_wait_many(&mut items, Time::INFINITE),
            Err(status)
        );
    }
    // The items that were registered were undone: the objects behave.
    assert_eq!(write(s.a, b"x"), Ok(1));
    let mut items = [item(s.b, R)];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    assert_eq!(items[0].pending, W | R | L);
}

#[test]
fn object_wait_many_fills_every_pending() {
    let s = Pair::stream();
    let e = event();
    assert_eq!(write(s.a, b"x"), Ok(1));
    let mut items = [
        item(s.a, R),
        item(s.b, R),
        item(e.0, Signals::EVENT_SIGNALED),
    ];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    assert_eq!(items[0].pending, W | L);
    assert_eq!(items[1].pending, W | R | L);
    assert_eq!(items[2].pending, L);
    assert_eq!(items[0].handle, s.a);
    assert_eq!(items[1].waitfor, R);
}

#[test]
fn object_wait_many_satisfied_with_past_deadline_ok() {
    let s = Pair::stream();
    let e = event();
    let mut items = [item(e.0, Signals::EVENT_SIGNALED), item(s.a, W)];
    assert_eq!(sys::object_wait_many(&mut items, Time::ZERO), Ok(()));
    assert_eq!(items[0].pending, L);
    assert_eq!(items[1].pending, W | L);
}

#[test]
fn object_wait_many_deadline_zero_timed_out_with_pendings() {
    let s = Pair::stream();
    let e = event();
    let mut items = [
        item(s.a, R),
        item(s.b, U0),
        item(e.0, Signals::EVENT_SIGNALED),
    ];
    assert_eq!(
        sys::object_wait_many(&mut items, Time::ZERO),
        Err(Status::TIMED_OUT)
    );
    assert_eq!(items[0].pending, W | L);
    assert_eq!(items[1].pending, W | L);
    assert_eq!(items[2].pending, L);
}

#[test]
fn object_wait_many_waits_until_deadline() {
    let s = Pair::stream();
    let mut items = [item(s.a, R), item(s.b, R)];
    let deadline = after_ms(120);
    assert_eq!(
        sys::object_wait_many(&mut items, deadline),
        Err(Status::TIMED_OUT)
    );
    assert!(sys::time_get(0) >= deadline);
    assert_eq!(items[0].pending, W | L);
    assert_eq!(items[1].pending, W | L);
}

#[test]
fn object_wait_many_blocks_until_one_item_fires() {
    let s = Pair::stream();
    let e = event();
    let a = s.a;
    let t = later(move || assert_eq!(write(a, b"ping"), Ok(4)));
    let mut items = [
        item(e.0, Signals::EVENT_SIGNALED),
        item(s.b, R),
        item(s.a, R),
    ];
    let start = sys::time_get(0);
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    assert!(elapsed_ms(start) >= SETTLE_MS / 2, "did not block");
    t.join().unwrap();
    assert_eq!(items[0].pending, L);
    assert_eq!(items[1].pending, W | R | L);
    assert_eq!(items[2].pending, W | L);
}

#[test]
fn object_wait_many_pending_accumulates() {
    let s = Pair::stream();
    let e = event();
    let (a, b, ev) = (s.a, s.b, e.0);
    let t = later(move || {
        assert_eq!(write(a, b"x"), Ok(1));
        assert_eq!(read(b, 1).map(|v| v.len()), Ok(1));
        sys::object_signal(ev, NONE, Signals::EVENT_SIGNALED).unwrap();
    });
    let mut items = [item(s.b, U0), item(e.0, Signals::EVENT_SIGNALED)];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    t.join().unwrap();
    assert_eq!(items[0].pending, W | R | L, "READABLE was seen");
    assert_eq!(items[1].pending, L | Signals::EVENT_SIGNALED);
}

#[test]
fn object_wait_many_canceled_when_an_items_handle_is_closed() {
    let s = Pair::stream();
    let e = event();
    let d = dup(s.b, Rights::READ);
    let t = later(move || close(d));
    let mut items = [item(e.0, Signals::EVENT_SIGNALED), item(d, R)];
    assert_eq!(
        sys::object_wait_many(&mut items, far()),
        Err(Status::CANCELED)
    );
    t.join().unwrap();
    assert_eq!(items[0].pending, L);
    assert!(
        items[1].pending.contains(CLOSED | W),
        "{:?}",
        items[1].pending
    );
    expect_both(&s, W | L, W | L);
}

#[test]
fn object_wait_many_same_handle_twice() {
    let s = Pair::stream();
    let a = s.a;
    let t = later(move || assert_eq!(write(a, b"x"), Ok(1)));
    let mut items = [item(s.b, U0), item(s.b, R)];
    assert_eq!(sys::object_wait_many(&mut items, far()), Ok(()));
    t.join().unwrap();
    assert_eq!(items[0].pending, W | R | L);
    assert_eq!(items[1].pending, W | R | L);
}

#[test]
fn object_wait_many_close_of_other_handle_does_not_cancel() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::SAME_RIGHTS);
    let t = later(move || close(d));
    let mut items = [item(s.b, U0)];
    let deadline = after_ms(SETTLE_MS + 250);
    assert_eq!(
        sys::object_wait_many(&mut items, deadline),
        Err(Status::TIMED_OUT)
    );
    t.join().unwrap();
    assert_eq!(items[0].pending, W | L);
}

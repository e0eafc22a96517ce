//! SPEC 1 and 5: handle values, `mx_handle_close`, `mx_handle_duplicate`,
//! `mx_handle_replace`, and `MX_SIGNAL_LAST_HANDLE`.

use mx::core::abi::INFO_HANDLE_VALID;
use mx::sys;
use mx::{Rights, Signals, Status, HANDLE_INVALID};

use crate::{
    close, dup, event, expect, expect_both, info, read, write, Owned, Pair, L, NONE, P, R, W,
};

/// Whether `h` is a live handle (`MX_INFO_HANDLE_VALID`).
fn is_live(h: mx::RawHandle) -> bool {
    match sys::object_get_info(h, INFO_HANDLE_VALID, &mut [][..]) {
        Ok(_) => true,
        Err(e) if e.status == Status::BAD_HANDLE => false,
        Err(e) => panic!("object_get_info(HANDLE_VALID) = {e:?}"),
    }
}

// ---------------------------------------------------------------------------
// Handle values

#[test]
fn handle_values_are_positive_and_never_invalid() {
    let mut all = Vec::new();
    for _ in 0..64 {
        let s = Pair::stream();
        let e = event();
        all.extend([s.a, s.b, e.0]);
        for h in [s.a, s.b, e.0] {
            assert!(h > 0, "handle value {h:#x}");
        }
        std::mem::forget(s);
        std::mem::forget(e);
    }
    let mut sorted = all.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len(), "live handle values are distinct");
    for h in all {
        close(h);
    }
}

#[test]
fn handle_close_stale_value_does_not_name_a_later_object() {
    let e = event();
    let stale = e.0;
    close(stale);
    // Create and close enough objects to visit every slot group a few times:
    // the old value must stay dead throughout.
    for i in 0..6000 {
        let h = sys::event_create(0).unwrap();
        assert_ne!(h, stale, "value reused after {i} objects");
        assert!(!is_live(stale));
        assert_eq!(
            sys::object_signal(stale, NONE, Signals::USER_0),
            Err(Status::BAD_HANDLE)
        );
        close(h);
    }
}

#[test]
fn handle_value_zero_is_invalid_everywhere() {
    assert!(!is_live(HANDLE_INVALID));
    assert_eq!(
        sys::handle_duplicate(HANDLE_INVALID, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::handle_replace(HANDLE_INVALID, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::object_signal(HANDLE_INVALID, NONE, Signals::USER_0),
        Err(Status::BAD_HANDLE)
    );
}

// ---------------------------------------------------------------------------
// mx_handle_close

#[test]
fn handle_close_invalid_is_ok() {
    assert_eq!(sys::handle_close(HANDLE_INVALID), Ok(()));
    assert_eq!(sys::handle_close(HANDLE_INVALID), Ok(()));
}

#[test]
fn handle_close_twice_bad_handle() {
    let e = event();
    assert_eq!(sys::handle_close(e.0), Ok(()));
    assert_eq!(sys::handle_close(e.0), Err(Status::BAD_HANDLE));
    let s = Pair::stream();
    assert_eq!(sys::handle_close(s.a), Ok(()));
    assert_eq!(sys::handle_close(s.a), Err(Status::BAD_HANDLE));
    // The failed close did not touch the peer.
    expect(s.b, P | L);
}

#[test]
fn handle_close_values_that_were_never_handles_bad_handle() {
    for h in [-1, i32::MIN, 1, 2, 0x7ff, 0x800 - 1, i32::MAX] {
        assert_eq!(sys::handle_close(h), Err(Status::BAD_HANDLE), "{h:#x}");
    }
}

#[test]
fn handle_close_makes_value_dead() {
    let e = event();
    assert!(is_live(e.0));
    close(e.0);
    assert!(!is_live(e.0));
}

// ---------------------------------------------------------------------------
// mx_handle_duplicate

#[test]
fn handle_duplicate_same_rights() {
    let s = Pair::stream();
    let d = dup(s.a, Rights::SAME_RIGHTS);
    assert_ne!(d, s.a);
    assert_eq!(info(d).rights, Rights::SOCKET_DEFAULT);
    assert_eq!(info(d).koid, info(s.a).koid);
    assert_eq!(info(d).related_koid, info(s.b).koid);
    close(d);
}

#[test]
fn handle_duplicate_subset_rights() {
    let s = Pair::stream();
    let r = dup(s.a, Rights::READ | Rights::DUPLICATE);
    assert_eq!(info(r).rights, Rights::READ | Rights::DUPLICATE);
    assert_eq!(write(r, b"x"), Err(Status::ACCESS_DENIED));
    assert_eq!(write(s.b, b"to r"), Ok(4));
    assert_eq!(read(r, 10).as_deref(), Ok(&b"to r"[..]));
    // A duplicate of the duplicate keeps reducing.
    let rr = dup(r, Rights::READ);
    assert_eq!(info(rr).rights, Rights::READ);
    assert_eq!(
        sys::handle_duplicate(rr, Rights::READ),
        Err(Status::ACCESS_DENIED)
    );
    close(r);
    close(rr);
}

#[test]
fn handle_duplicate_no_rights() {
    let s = Pair::stream();
    let n = dup(s.a, Rights::NONE);
    assert_eq!(info(n).rights, Rights::NONE);
    assert_eq!(info(n).koid, info(s.a).koid);
    assert_eq!(write(n, b"x"), Err(Status::ACCESS_DENIED));
    assert_eq!(read(n, 1), Err(Status::ACCESS_DENIED));
    close(n);
}

#[test]
fn handle_duplicate_superset_invalid_args() {
    let s = Pair::stream();
    let r = dup(s.a, Rights::READ | Rights::DUPLICATE);
    assert_eq!(
        sys::handle_duplicate(r, Rights::READ | Rights::WRITE),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(
        sys::handle_duplicate(
            s.a,
            Rights::SOCKET_DEFAULT | Rights::from_bits_retain(1 << 20)
        ),
        Err(Status::INVALID_ARGS)
    );
    // SAME_RIGHTS mixed with other bits is neither "keep" nor a subset.
    assert_eq!(
        sys::handle_duplicate(s.a, Rights::SAME_RIGHTS | Rights::READ),
        Err(Status::INVALID_ARGS)
    );
    // The failures made no handle.
    expect_both(&s, W, W | L);
    close(r);
    expect_both(&s, W | L, W | L);
}

#[test]
fn handle_duplicate_without_duplicate_right_access_denied() {
    let s = Pair::stream();
    let nd = dup(s.a, Rights::READ | Rights::WRITE);
    assert_eq!(
        sys::handle_duplicate(nd, Rights::SAME_RIGHTS),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::handle_duplicate(nd, Rights::READ),
        Err(Status::ACCESS_DENIED)
    );
    // ACCESS_DENIED comes before the rights check.
    assert_eq!(
        sys::handle_duplicate(nd, Rights::SIGNAL_PEER | Rights::DUPLICATE),
        Err(Status::ACCESS_DENIED)
    );
    close(nd);
}

#[test]
fn handle_duplicate_bad_handle() {
    let e = event();
    close(e.0);
    assert_eq!(
        sys::handle_duplicate(e.0, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::handle_duplicate(-7, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
}

#[test]
fn handle_duplicate_clears_last_handle_and_close_restores_it() {
    let s = Pair::stream();
    expect_both(&s, W | L, W | L);
    let d = dup(s.a, Rights::SAME_RIGHTS);
    expect_both(&s, W, W | L);
    expect(d, W);
    let d2 = dup(s.a, Rights::READ);
    expect_both(&s, W, W | L);
    close(d);
    expect_both(&s, W, W | L);
    close(d2);
    expect_both(&s, W | L, W | L);
    // Closing the original instead of the duplicate works the same way.
    let d3 = dup(s.a, Rights::SAME_RIGHTS);
    expect(d3, W);
    close(s.a);
    expect(d3, W | L);
    expect(s.b, W | L);
    close(d3);
    expect(s.b, P | L);
}

#[test]
fn handle_duplicate_object_lives_while_a_handle_exists() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::SAME_RIGHTS);
    close(s.b);
    expect(s.a, W | L);
    assert_eq!(write(s.a, b"still there"), Ok(11));
    assert_eq!(read(d, 20).as_deref(), Ok(&b"still there"[..]));
    close(d);
    expect(s.a, P | L);
}

#[test]
fn handle_duplicate_event_last_handle() {
    let e = event();
    expect(e.0, L);
    let d = dup(e.0, Rights::SAME_RIGHTS);
    expect(e.0, NONE);
    expect(d, NONE);
    close(d);
    expect(e.0, L);
}

// ---------------------------------------------------------------------------
// mx_handle_replace

#[test]
fn handle_replace_reduces_rights() {
    let s = Pair::stream();
    let new = sys::handle_replace(s.a, Rights::READ | Rights::WRITE).unwrap();
    assert_eq!(info(new).rights, Rights::READ | Rights::WRITE);
    assert_eq!(info(new).koid, info(s.b).related_koid);
    assert_eq!(write(new, b"x"), Ok(1));
    assert_eq!(
        sys::handle_duplicate(new, Rights::SAME_RIGHTS),
        Err(Status::ACCESS_DENIED)
    );
    close(new);
}

#[test]
fn handle_replace_same_rights() {
    let s = Pair::stream();
    let new = sys::handle_replace(s.a, Rights::SAME_RIGHTS).unwrap();
    assert_eq!(info(new).rights, Rights::SOCKET_DEFAULT);
    close(new);
}

#[test]
fn handle_replace_needs_no_duplicate_right() {
    let s = Pair::stream();
    let nd = dup(s.a, Rights::READ | Rights::WRITE);
    let new = sys::handle_replace(nd, Rights::READ).unwrap();
    assert_eq!(info(new).rights, Rights::READ);
    // Even with no rights at all.
    let none = sys::handle_replace(new, Rights::NONE).unwrap();
    assert_eq!(info(none).rights, Rights::NONE);
    let again = sys::handle_replace(none, Rights::SAME_RIGHTS).unwrap();
    assert_eq!(info(again).rights, Rights::NONE);
    close(again);
}

#[test]
fn handle_replace_old_value_dead_after_success() {
    let s = Pair::stream();
    let old = s.a;
    let new = sys::handle_replace(old, Rights::SAME_RIGHTS).unwrap();
    assert_ne!(new, old);
    assert!(!is_live(old));
    assert_eq!(write(old, b"x"), Err(Status::BAD_HANDLE));
    assert_eq!(sys::handle_close(old), Err(Status::BAD_HANDLE));
    assert_eq!(write(new, b"x"), Ok(1));
    close(new);
}

#[test]
fn handle_replace_failure_keeps_old_value() {
    let s = Pair::stream();
    let r = dup(s.a, Rights::READ);
    assert_eq!(
        sys::handle_replace(r, Rights::READ | Rights::WRITE),
        Err(Status::INVALID_ARGS)
    );
    assert!(is_live(r));
    assert_eq!(info(r).rights, Rights::READ);
    assert_eq!(
        sys::handle_replace(r, Rights::SAME_RIGHTS | Rights::READ),
        Err(Status::INVALID_ARGS)
    );
    assert!(is_live(r));
    close(r);
}

#[test]
fn handle_replace_bad_handle() {
    let e = event();
    close(e.0);
    assert_eq!(
        sys::handle_replace(e.0, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
}

#[test]
fn handle_replace_keeps_last_handle() {
    let s = Pair::stream();
    expect_both(&s, W | L, W | L);
    let a = sys::handle_replace(s.a, Rights::SAME_RIGHTS).unwrap();
    let _owned = Owned(a);
    expect(a, W | L);
    expect(s.b, W | L);
    // With two handles, replacing one keeps LAST_HANDLE clear.
    let d = dup(a, Rights::SAME_RIGHTS);
    expect(a, W);
    let d2 = sys::handle_replace(d, Rights::READ).unwrap();
    expect(a, W);
    expect(d2, W);
    close(d2);
    expect(a, W | L);
}

#[test]
fn handle_replace_does_not_close_the_object() {
    let s = Pair::stream();
    assert_eq!(write(s.b, b"kept"), Ok(4));
    let a = sys::handle_replace(s.a, Rights::SAME_RIGHTS).unwrap();
    let _owned = Owned(a);
    expect(s.b, W | L);
    expect(a, W | R | L);
    assert_eq!(read(a, 10).as_deref(), Ok(&b"kept"[..]));
}

#[test]
fn handle_replace_event_and_eventpair() {
    let e = event();
    let new = sys::handle_replace(e.0, Rights::READ | Rights::SIGNAL).unwrap();
    let _owned = Owned(new);
    assert_eq!(info(new).rights, Rights::READ | Rights::SIGNAL);
    expect(new, L);
    let ep = Pair::eventpair();
    let new_a = sys::handle_replace(ep.a, Rights::READ).unwrap();
    let _owned_a = Owned(new_a);
    // Not a close: the peer does not see EPAIR_PEER_CLOSED.
    expect(ep.b, L);
    expect(new_a, L);
}

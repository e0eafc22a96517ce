//! SPEC 4: `mx_socket_create`, `mx_socket_write` (writes and half-close),
//! `mx_socket_read`, and closing a socket end.

use mx::core::abi::{SOCKET_DATAGRAM, SOCKET_HALF_CLOSE, SOCKET_STREAM};
use mx::core::socket::SOCKET_CAPACITY;
use mx::sys;
use mx::{Koid, ObjectType, Rights, Signals, Status, HANDLE_INVALID};

use crate::{
    close, dup, event, expect, expect_both, fill, half_close, info, outstanding, pattern, read,
    write, HugeSink, HugeSource, Pair, U32MaxSink, U32MaxSource, CAP, L, NONE, P, R, W,
};

// ---------------------------------------------------------------------------
// mx_socket_create

#[test]
fn socket_create_capacity_constant_is_magentas() {
    assert_eq!(SOCKET_CAPACITY, 128 * 2008);
    assert_eq!(CAP, SOCKET_CAPACITY);
}

#[test]
fn socket_create_stream_ends_start_writable_and_last_handle() {
    let s = Pair::stream();
    expect_both(&s, W | L, W | L);
    assert_eq!(outstanding(s.a), Ok(0));
    assert_eq!(outstanding(s.b), Ok(0));
}

#[test]
fn socket_create_datagram_ends_start_writable_and_last_handle() {
    let s = Pair::datagram();
    expect_both(&s, W | L, W | L);
    assert_eq!(outstanding(s.a), Ok(0));
    assert_eq!(outstanding(s.b), Ok(0));
}

#[test]
fn socket_create_invalid_options() {
    for options in [2, 3, 4, 0x100, 1 << 31, u32::MAX] {
        assert_eq!(
            sys::socket_create(options),
            Err(Status::INVALID_ARGS),
            "options {options:#x}"
        );
    }
}

#[test]
fn socket_create_default_rights_type_and_props() {
    for s in Pair::both_modes() {
        for h in [s.a, s.b] {
            let i = info(h);
            assert_eq!(i.rights, Rights::SOCKET_DEFAULT);
            assert_eq!(
                i.rights,
                Rights::TRANSFER
                    | Rights::DUPLICATE
                    | Rights::READ
                    | Rights::WRITE
                    | Rights::SIGNAL
                    | Rights::SIGNAL_PEER
            );
            assert_eq!(i.type_, ObjectType::SOCKET.0);
            assert_eq!(i.type_, 14);
            assert_eq!(i.props, 1, "sockets are waitable");
        }
    }
}

#[test]
fn socket_create_ends_have_consecutive_koids_and_related_koids() {
    for s in Pair::both_modes() {
        let (a, b) = (info(s.a), info(s.b));
        assert!(a.koid >= Koid::FIRST, "koids count from 1024: {:?}", a.koid);
        assert_eq!(b.koid.0, a.koid.0 + 1, "consecutive koids");
        assert_eq!(a.related_koid, b.koid);
        assert_eq!(b.related_koid, a.koid);
    }
}

#[test]
fn socket_create_pairs_have_distinct_koids() {
    let s = Pair::stream();
    let t = Pair::stream();
    let koids = [
        info(s.a).koid,
        info(s.b).koid,
        info(t.a).koid,
        info(t.b).koid,
    ];
    for i in 0..koids.len() {
        for j in i + 1..koids.len() {
            assert_ne!(koids[i], koids[j]);
        }
    }
}

#[test]
fn socket_create_related_koid_survives_peer_close() {
    let s = Pair::stream();
    let b_koid = info(s.b).koid;
    close(s.b);
    assert_eq!(info(s.a).related_koid, b_koid);
}

#[test]
fn socket_create_handle_values_are_positive_and_distinct() {
    let s = Pair::stream();
    assert!(s.a > 0 && s.b > 0);
    assert_ne!(s.a, s.b);
    assert_ne!(s.a, HANDLE_INVALID);
}

// ---------------------------------------------------------------------------
// mx_socket_write: the handle and options checks, in order

#[test]
fn socket_write_bad_handle() {
    let s = Pair::stream();
    let stale = dup(s.a, Rights::SAME_RIGHTS);
    close(stale);
    for h in [HANDLE_INVALID, -1, i32::MIN, i32::MAX, stale] {
        assert_eq!(write(h, b"x"), Err(Status::BAD_HANDLE), "handle {h:#x}");
        assert_eq!(write(h, b""), Err(Status::BAD_HANDLE), "handle {h:#x}");
    }
    expect_both(&s, W | L, W | L);
    assert_eq!(outstanding(s.b), Ok(0));
}

#[test]
fn socket_write_without_write_right_access_denied() {
    let s = Pair::stream();
    let ro = dup(s.a, Rights::READ | Rights::DUPLICATE);
    assert_eq!(write(ro, b"abc"), Err(Status::ACCESS_DENIED));
    assert_eq!(write(ro, b""), Err(Status::ACCESS_DENIED));
    assert_eq!(outstanding(s.b), Ok(0));
    expect_both(&s, W, W | L);
    close(ro);
}

#[test]
fn socket_write_to_event_wrong_type() {
    let e = event();
    assert_eq!(write(e.0, b"abc"), Err(Status::WRONG_TYPE));
    assert_eq!(write(e.0, b""), Err(Status::WRONG_TYPE));
    let ep = Pair::eventpair();
    assert_eq!(write(ep.a, b"abc"), Err(Status::WRONG_TYPE));
}

#[test]
fn socket_write_event_without_write_access_denied_before_wrong_type() {
    let e = event();
    let no_write = dup(e.0, Rights::READ | Rights::SIGNAL);
    assert_eq!(write(no_write, b"abc"), Err(Status::ACCESS_DENIED));
    close(no_write);
}

#[test]
fn socket_write_options_checked_after_handle() {
    let s = Pair::stream();
    let e = event();
    let ro = dup(s.a, Rights::READ);
    for options in [2, 3, u32::MAX] {
        assert_eq!(
            sys::socket_write(HANDLE_INVALID, options, &b"x"[..]),
            Err(Status::BAD_HANDLE)
        );
        assert_eq!(
            sys::socket_write(ro, options, &b"x"[..]),
            Err(Status::ACCESS_DENIED)
        );
        assert_eq!(
            sys::socket_write(e.0, options, &b"x"[..]),
            Err(Status::WRONG_TYPE)
        );
    }
    // HALF_CLOSE with bytes is an options error too, after the handle.
    assert_eq!(
        sys::socket_write(ro, SOCKET_HALF_CLOSE, &b"x"[..]),
        Err(Status::ACCESS_DENIED)
    );
    close(ro);
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_unknown_options_invalid_args() {
    for s in Pair::both_modes() {
        for options in [2, 3, 0x10, 1 << 31, u32::MAX] {
            assert_eq!(
                sys::socket_write(s.a, options, &b"abc"[..]),
                Err(Status::INVALID_ARGS),
                "options {options:#x}"
            );
            assert_eq!(
                sys::socket_write(s.a, options, &[][..]),
                Err(Status::INVALID_ARGS),
                "options {options:#x}, no bytes"
            );
        }
        assert_eq!(outstanding(s.b), Ok(0));
        expect_both(&s, W | L, W | L);
    }
}

#[test]
fn socket_write_half_close_with_bytes_invalid_args() {
    for s in Pair::both_modes() {
        assert_eq!(
            sys::socket_write(s.a, SOCKET_HALF_CLOSE, &b"abc"[..]),
            Err(Status::INVALID_ARGS)
        );
        // Nothing was written and nothing was closed.
        expect_both(&s, W | L, W | L);
        assert_eq!(outstanding(s.b), Ok(0));
        assert_eq!(write(s.a, b"ok"), Ok(2));
        expect_both(&s, W | L, W | R | L);
    }
}

#[test]
fn socket_write_options_checked_before_peer_closed() {
    let s = Pair::stream();
    close(s.b);
    expect(s.a, P | L);
    assert_eq!(
        sys::socket_write(s.a, 2, &b"abc"[..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(
        sys::socket_write(s.a, SOCKET_HALF_CLOSE, &b"abc"[..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(write(s.a, b"abc"), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_write_options_checked_before_bad_state() {
    let s = Pair::stream();
    assert_eq!(half_close(s.a), Ok(0));
    assert_eq!(
        sys::socket_write(s.a, 2, &b"abc"[..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(
        sys::socket_write(s.a, SOCKET_HALF_CLOSE, &b"abc"[..]),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(write(s.a, b"abc"), Err(Status::BAD_STATE));
}

// ---------------------------------------------------------------------------
// mx_socket_write: writes

#[test]
fn socket_write_peer_closed() {
    for s in Pair::both_modes() {
        close(s.b);
        expect(s.a, P | L);
        assert_eq!(write(s.a, b"abc"), Err(Status::PEER_CLOSED));
        expect(s.a, P | L);
    }
}

#[test]
fn socket_write_after_half_close_bad_state() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, L, W | P | L);
        assert_eq!(write(s.a, b"abc"), Err(Status::BAD_STATE));
        expect_both(&s, L, W | P | L);
        assert_eq!(outstanding(s.b), Ok(0));
    }
}

#[test]
fn socket_write_peer_closed_before_bad_state() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        close(s.b);
        expect(s.a, P | L);
        assert_eq!(write(s.a, b"abc"), Err(Status::PEER_CLOSED));
        assert_eq!(write(s.a, b""), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_write_zero_length_ok_without_signal_change() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b""), Ok(0));
        expect_both(&s, W | L, W | L);
        assert_eq!(outstanding(s.b), Ok(0));
        // No empty datagram (nor byte) was queued.
        assert_eq!(read(s.b, 16), Err(Status::SHOULD_WAIT));
    }
}

#[test]
fn socket_write_zero_length_datagram_queues_nothing_between_datagrams() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, b"one"), Ok(3));
    assert_eq!(write(s.a, b""), Ok(0));
    assert_eq!(write(s.a, b"two"), Ok(3));
    assert_eq!(outstanding(s.b), Ok(6));
    assert_eq!(read(s.b, 16).as_deref(), Ok(&b"one"[..]));
    assert_eq!(read(s.b, 16).as_deref(), Ok(&b"two"[..]));
    assert_eq!(read(s.b, 16), Err(Status::SHOULD_WAIT));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_zero_length_when_full() {
    for s in Pair::both_modes() {
        if sys::ext::socket_is_datagram(s.a) == Ok(true) {
            assert_eq!(write(s.a, &pattern(1, CAP)), Ok(CAP));
        } else {
            fill(s.a);
        }
        expect_both(&s, L, W | R | L);
        assert_eq!(write(s.a, b""), Ok(0));
        expect_both(&s, L, W | R | L);
        assert_eq!(outstanding(s.b), Ok(CAP));
    }
}

#[test]
fn socket_write_zero_length_after_peer_closed_or_half_close() {
    let s = Pair::stream();
    assert_eq!(half_close(s.a), Ok(0));
    assert_eq!(write(s.a, b""), Err(Status::BAD_STATE));
    let t = Pair::stream();
    close(t.b);
    assert_eq!(write(t.a, b""), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_write_size_over_u32_invalid_args() {
    for s in Pair::both_modes() {
        assert_eq!(
            sys::socket_write(s.a, 0, &HugeSource),
            Err(Status::INVALID_ARGS)
        );
        expect_both(&s, W | L, W | L);
        assert_eq!(outstanding(s.b), Ok(0));
        // The socket still works.
        assert_eq!(write(s.a, b"x"), Ok(1));
        assert_eq!(
            sys::socket_write(s.a, 0, &HugeSource),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(outstanding(s.b), Ok(1));
        expect_both(&s, W | L, W | R | L);
    }
}

#[test]
fn socket_write_size_over_u32_when_full_invalid_args_not_should_wait() {
    let s = Pair::stream();
    fill(s.a);
    assert_eq!(
        sys::socket_write(s.a, 0, &HugeSource),
        Err(Status::INVALID_ARGS)
    );
    expect_both(&s, L, W | R | L);
    let d = Pair::datagram();
    assert_eq!(write(d.a, &pattern(0, CAP)), Ok(CAP));
    assert_eq!(
        sys::socket_write(d.a, 0, &HugeSource),
        Err(Status::INVALID_ARGS)
    );
    expect_both(&d, L, W | R | L);
}

#[test]
fn socket_write_size_over_u32_after_peer_closed_peer_closed() {
    for s in Pair::both_modes() {
        close(s.b);
        assert_eq!(
            sys::socket_write(s.a, 0, &HugeSource),
            Err(Status::PEER_CLOSED)
        );
    }
}

#[test]
fn socket_write_size_over_u32_after_half_close_bad_state() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        assert_eq!(
            sys::socket_write(s.a, 0, &HugeSource),
            Err(Status::BAD_STATE)
        );
    }
}

#[test]
fn socket_write_size_over_u32_with_half_close_option_invalid_args() {
    let s = Pair::stream();
    assert_eq!(
        sys::socket_write(s.a, SOCKET_HALF_CLOSE, &HugeSource),
        Err(Status::INVALID_ARGS)
    );
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_size_u32_max_fits_32_bits() {
    // u32::MAX itself fits: a stream write is short, a datagram is too big.
    let s = Pair::stream();
    let src = U32MaxSource {
        copied: Default::default(),
    };
    assert_eq!(sys::socket_write(s.a, 0, &src), Ok(CAP));
    assert_eq!(src.copied.get(), CAP);
    expect_both(&s, L, W | R | L);
    let d = Pair::datagram();
    let src = U32MaxSource {
        copied: Default::default(),
    };
    assert_eq!(sys::socket_write(d.a, 0, &src), Err(Status::SHOULD_WAIT));
    assert_eq!(src.copied.get(), 0);
    expect_both(&d, W | L, W | L);
}

#[test]
fn socket_write_first_byte_makes_peer_readable() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"hello"), Ok(5));
        expect_both(&s, W | L, W | R | L);
        assert_eq!(outstanding(s.b), Ok(5));
        assert_eq!(outstanding(s.a), Ok(0));
        assert_eq!(write(s.a, b"again"), Ok(5));
        expect_both(&s, W | L, W | R | L);
        assert_eq!(outstanding(s.b), Ok(10));
    }
}

#[test]
fn socket_write_stream_short_write_to_capacity() {
    let s = Pair::stream();
    let data = pattern(3, 300_000);
    assert_eq!(write(s.a, &data), Ok(257_024));
    expect_both(&s, L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(257_024));
    assert_eq!(read(s.b, 300_000).as_deref(), Ok(&data[..257_024]));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_stream_short_write_when_nearly_full() {
    let s = Pair::stream();
    assert_eq!(write(s.a, &pattern(1, CAP - 10)), Ok(CAP - 10));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(write(s.a, &pattern(2, 20)), Ok(10));
    expect_both(&s, L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(CAP));
}

#[test]
fn socket_write_stream_exact_fill_clears_writable() {
    let s = Pair::stream();
    assert_eq!(write(s.a, &pattern(1, CAP - 1)), Ok(CAP - 1));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(write(s.a, b"z"), Ok(1));
    expect_both(&s, L, W | R | L);
}

#[test]
fn socket_write_stream_full_should_wait() {
    let s = Pair::stream();
    fill(s.a);
    expect_both(&s, L, W | R | L);
    assert_eq!(write(s.a, b"x"), Err(Status::SHOULD_WAIT));
    assert_eq!(write(s.a, &pattern(0, 5000)), Err(Status::SHOULD_WAIT));
    expect_both(&s, L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(CAP));
}

#[test]
fn socket_write_stream_room_after_partial_read() {
    let s = Pair::stream();
    fill(s.a);
    assert_eq!(read(s.b, 1000).map(|v| v.len()), Ok(1000));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(write(s.a, &pattern(9, 2000)), Ok(1000));
    expect_both(&s, L, W | R | L);
}

#[test]
fn socket_write_datagram_no_fit_should_wait_and_stays_writable() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, &pattern(1, 200_000)), Ok(200_000));
    expect_both(&s, W | L, W | R | L);
    // 57,024 bytes are left: a 60,000-byte datagram does not fit.
    assert_eq!(write(s.a, &pattern(2, 60_000)), Err(Status::SHOULD_WAIT));
    assert_eq!(outstanding(s.b), Ok(200_000));
    expect_both(&s, W | L, W | R | L);
    // One that fits exactly fills the socket.
    assert_eq!(write(s.a, &pattern(3, 57_024)), Ok(57_024));
    expect_both(&s, L, W | R | L);
    assert_eq!(write(s.a, b"x"), Err(Status::SHOULD_WAIT));
    assert_eq!(read(s.b, CAP).map(|v| v.len()), Ok(200_000));
    assert_eq!(read(s.b, CAP), Ok(pattern(3, 57_024)));
    assert_eq!(read(s.b, CAP), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_write_datagram_larger_than_capacity_should_wait() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, &pattern(1, CAP + 1)), Err(Status::SHOULD_WAIT));
    expect_both(&s, W | L, W | L);
    assert_eq!(outstanding(s.b), Ok(0));
    assert_eq!(write(s.a, &pattern(1, 1 << 20)), Err(Status::SHOULD_WAIT));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_datagram_of_exactly_capacity() {
    let s = Pair::datagram();
    let data = pattern(5, CAP);
    assert_eq!(write(s.a, &data), Ok(CAP));
    expect_both(&s, L, W | R | L);
    assert_eq!(read(s.b, CAP + 100), Ok(data));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_datagram_framing_does_not_count_against_capacity() {
    // Magenta's own shape: 128 datagrams of 2,008 bytes fill the socket.
    let s = Pair::datagram();
    for i in 0..128u8 {
        assert_eq!(write(s.a, &pattern(i, 2008)), Ok(2008), "datagram {i}");
    }
    expect_both(&s, L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(CAP));
    assert_eq!(write(s.a, b"x"), Err(Status::SHOULD_WAIT));
    for i in 0..128u8 {
        assert_eq!(read(s.b, 4096), Ok(pattern(i, 2008)), "datagram {i}");
    }
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_small_datagrams_fill_exact_capacity() {
    let s = Pair::datagram();
    for i in 0..257 {
        assert_eq!(write(s.a, &pattern(i as u8, 1000)), Ok(1000));
    }
    for _ in 0..24 {
        assert_eq!(write(s.a, b"."), Ok(1));
    }
    assert_eq!(outstanding(s.b), Ok(CAP));
    expect_both(&s, L, W | R | L);
    assert_eq!(write(s.a, b"."), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_write_directions_are_independent() {
    let s = Pair::stream();
    fill(s.a);
    expect_both(&s, L, W | R | L);
    // B's direction is empty and B may write.
    assert_eq!(write(s.b, b"back"), Ok(4));
    expect_both(&s, R | L, W | R | L);
    assert_eq!(read(s.a, 10).as_deref(), Ok(&b"back"[..]));
    expect_both(&s, L, W | R | L);
}

#[test]
fn socket_write_through_duplicate_handle() {
    let s = Pair::stream();
    let d = dup(s.a, Rights::WRITE);
    expect_both(&s, W, W | L);
    assert_eq!(write(d, b"via dup"), Ok(7));
    expect_both(&s, W, W | R | L);
    assert_eq!(read(s.b, 16).as_deref(), Ok(&b"via dup"[..]));
    close(d);
    expect_both(&s, W | L, W | L);
}

// ---------------------------------------------------------------------------
// mx_socket_read: the checks, in order

#[test]
fn socket_read_options_invalid_args_before_handle() {
    let mut buf = [0u8; 4];
    for h in [HANDLE_INVALID, -1, i32::MAX] {
        assert_eq!(
            sys::socket_read(h, 1, Some(&mut buf[..])),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(
            sys::socket_read::<[u8]>(h, 1, None),
            Err(Status::INVALID_ARGS)
        );
    }
    let s = Pair::stream();
    assert_eq!(write(s.a, b"abc"), Ok(3));
    for options in [1, 2, u32::MAX] {
        assert_eq!(
            sys::socket_read(s.b, options, Some(&mut buf[..])),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(
            sys::socket_read::<[u8]>(s.b, options, None),
            Err(Status::INVALID_ARGS)
        );
    }
    assert_eq!(outstanding(s.b), Ok(3));
    expect_both(&s, W | L, W | R | L);
    // Options come before the rights too.
    let wo = dup(s.b, Rights::WRITE);
    assert_eq!(
        sys::socket_read(wo, 1, Some(&mut buf[..])),
        Err(Status::INVALID_ARGS)
    );
    close(wo);
}

#[test]
fn socket_read_bad_handle() {
    let s = Pair::stream();
    let stale = dup(s.b, Rights::SAME_RIGHTS);
    close(stale);
    for h in [HANDLE_INVALID, -1, i32::MAX, stale] {
        assert_eq!(read(h, 4), Err(Status::BAD_HANDLE), "handle {h:#x}");
        assert_eq!(outstanding(h), Err(Status::BAD_HANDLE), "handle {h:#x}");
    }
}

#[test]
fn socket_read_without_read_right_access_denied() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"abc"), Ok(3));
    let wo = dup(s.b, Rights::WRITE | Rights::DUPLICATE);
    assert_eq!(read(wo, 4), Err(Status::ACCESS_DENIED));
    assert_eq!(outstanding(wo), Err(Status::ACCESS_DENIED));
    assert_eq!(outstanding(s.b), Ok(3));
    expect_both(&s, W | L, W | R);
    close(wo);
}

#[test]
fn socket_read_event_wrong_type() {
    let e = event();
    assert_eq!(read(e.0, 4), Err(Status::WRONG_TYPE));
    assert_eq!(outstanding(e.0), Err(Status::WRONG_TYPE));
    let ep = Pair::eventpair();
    assert_eq!(read(ep.b, 4), Err(Status::WRONG_TYPE));
}

#[test]
fn socket_read_event_without_read_access_denied_before_wrong_type() {
    let e = event();
    let no_read = dup(e.0, Rights::WRITE);
    assert_eq!(read(no_read, 4), Err(Status::ACCESS_DENIED));
    assert_eq!(outstanding(no_read), Err(Status::ACCESS_DENIED));
    close(no_read);
}

// ---------------------------------------------------------------------------
// mx_socket_read: the outstanding-bytes query (NULL buffer, size 0)

#[test]
fn socket_read_outstanding_stream() {
    let s = Pair::stream();
    assert_eq!(outstanding(s.b), Ok(0));
    assert_eq!(write(s.a, b"abc"), Ok(3));
    assert_eq!(write(s.a, b"defgh"), Ok(5));
    assert_eq!(outstanding(s.b), Ok(8));
    assert_eq!(outstanding(s.b), Ok(8), "the query consumes nothing");
    expect_both(&s, W | L, W | R | L);
    assert_eq!(read(s.b, 3).as_deref(), Ok(&b"abc"[..]));
    assert_eq!(outstanding(s.b), Ok(5));
    assert_eq!(outstanding(s.a), Ok(0));
}

#[test]
fn socket_read_outstanding_datagram_is_sum_of_lengths() {
    let s = Pair::datagram();
    for (i, n) in [1, 127, 128, 2008, 16_384, 40_000].into_iter().enumerate() {
        assert_eq!(write(s.a, &pattern(i as u8, n)), Ok(n));
    }
    let total = 1 + 127 + 128 + 2008 + 16_384 + 40_000;
    assert_eq!(outstanding(s.b), Ok(total));
    assert_eq!(outstanding(s.b), Ok(total));
    expect_both(&s, W | L, W | R | L);
    // Truncating a datagram discards all of it from the count.
    assert_eq!(read(s.b, 1).map(|v| v.len()), Ok(1));
    assert_eq!(read(s.b, 10).map(|v| v.len()), Ok(10));
    assert_eq!(outstanding(s.b), Ok(total - 1 - 127));
}

#[test]
fn socket_read_outstanding_after_peer_closed() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"abcd"), Ok(4));
        close(s.a);
        expect(s.b, R | P | L);
        assert_eq!(outstanding(s.b), Ok(4));
        assert_eq!(read(s.b, 10).as_deref(), Ok(&b"abcd"[..]));
        expect(s.b, P | L);
        assert_eq!(outstanding(s.b), Ok(0), "no PEER_CLOSED from the query");
    }
}

#[test]
fn socket_read_outstanding_after_peer_half_closed() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"ab"), Ok(2));
    assert_eq!(half_close(s.a), Ok(0));
    assert_eq!(outstanding(s.b), Ok(2));
    assert_eq!(read(s.b, 2).map(|v| v.len()), Ok(2));
    assert_eq!(outstanding(s.b), Ok(0));
    expect_both(&s, L, W | P | L);
}

// ---------------------------------------------------------------------------
// mx_socket_read: reads

#[test]
fn socket_read_size_over_u32_invalid_args() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"data"), Ok(4));
        assert_eq!(
            sys::socket_read(s.b, 0, Some(&mut HugeSink)),
            Err(Status::INVALID_ARGS)
        );
        assert_eq!(outstanding(s.b), Ok(4), "nothing consumed");
        expect_both(&s, W | L, W | R | L);
    }
}

#[test]
fn socket_read_size_over_u32_checked_before_should_wait() {
    let s = Pair::stream();
    assert_eq!(
        sys::socket_read(s.b, 0, Some(&mut HugeSink)),
        Err(Status::INVALID_ARGS)
    );
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_read_size_over_u32_checked_before_peer_closed() {
    let s = Pair::stream();
    close(s.a);
    assert_eq!(
        sys::socket_read(s.b, 0, Some(&mut HugeSink)),
        Err(Status::INVALID_ARGS)
    );
    assert_eq!(read(s.b, 4), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_read_size_u32_max_fits_32_bits() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"hello"), Ok(5));
        let mut sink = U32MaxSink { got: Vec::new() };
        assert_eq!(sys::socket_read(s.b, 0, Some(&mut sink)), Ok(5));
        assert_eq!(sink.got, b"hello");
        expect_both(&s, W | L, W | L);
    }
}

#[test]
fn socket_read_empty_should_wait() {
    for s in Pair::both_modes() {
        assert_eq!(read(s.b, 10), Err(Status::SHOULD_WAIT));
        assert_eq!(read(s.a, 10), Err(Status::SHOULD_WAIT));
        expect_both(&s, W | L, W | L);
        // Also after the direction was used and drained.
        assert_eq!(write(s.a, b"x"), Ok(1));
        assert_eq!(read(s.b, 10).map(|v| v.len()), Ok(1));
        assert_eq!(read(s.b, 10), Err(Status::SHOULD_WAIT));
        expect_both(&s, W | L, W | L);
    }
}

#[test]
fn socket_read_peer_closed_once_drained() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"abc"), Ok(3));
        assert_eq!(write(s.a, b"de"), Ok(2));
        close(s.a);
        expect(s.b, R | P | L);
        let first = read(s.b, 3).unwrap();
        assert_eq!(first, b"abc");
        expect(s.b, R | P | L);
        assert_eq!(read(s.b, 3).as_deref(), Ok(&b"de"[..]));
        expect(s.b, P | L);
        assert_eq!(read(s.b, 3), Err(Status::PEER_CLOSED));
        assert_eq!(read(s.b, 3), Err(Status::PEER_CLOSED));
        expect(s.b, P | L);
    }
}

#[test]
fn socket_read_peer_closed_on_never_used_socket() {
    for s in Pair::both_modes() {
        close(s.a);
        expect(s.b, P | L);
        assert_eq!(read(s.b, 3), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_read_peer_half_closed_once_drained() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"abc"), Ok(3));
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, L, W | R | P | L);
        assert_eq!(read(s.b, 10).as_deref(), Ok(&b"abc"[..]));
        expect_both(&s, L, W | P | L);
        assert_eq!(read(s.b, 10), Err(Status::PEER_CLOSED));
        expect_both(&s, L, W | P | L);
    }
}

#[test]
fn socket_read_zero_size_on_non_empty_reads_nothing() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"abc"), Ok(3));
        assert_eq!(read(s.b, 0), Ok(vec![]));
        assert_eq!(outstanding(s.b), Ok(3));
        expect_both(&s, W | L, W | R | L);
        assert_eq!(read(s.b, 10).as_deref(), Ok(&b"abc"[..]));
    }
}

#[test]
fn socket_read_zero_size_on_empty() {
    for s in Pair::both_modes() {
        assert_eq!(read(s.b, 0), Err(Status::SHOULD_WAIT));
        close(s.a);
        assert_eq!(read(s.b, 0), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_read_zero_size_from_full_keeps_peer_not_writable() {
    let s = Pair::stream();
    fill(s.a);
    assert_eq!(read(s.b, 0), Ok(vec![]));
    expect_both(&s, L, W | R | L);
}

#[test]
fn socket_read_stream_partial_reads() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"0123456789"), Ok(10));
    assert_eq!(read(s.b, 4).as_deref(), Ok(&b"0123"[..]));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(6));
    assert_eq!(read(s.b, 4).as_deref(), Ok(&b"4567"[..]));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(read(s.b, 4).as_deref(), Ok(&b"89"[..]));
    expect_both(&s, W | L, W | L);
    assert_eq!(read(s.b, 4), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_read_stream_returns_every_queued_byte_that_fits() {
    // Magenta copies min(size, buffered): the outstanding query and a read
    // of that size must agree.
    let s = Pair::stream();
    assert_eq!(write(s.a, b"0123456789"), Ok(10));
    assert_eq!(read(s.b, 1).as_deref(), Ok(&b"0"[..]));
    assert_eq!(write(s.a, b"abcdefghij"), Ok(10));
    assert_eq!(outstanding(s.b), Ok(19));
    assert_eq!(read(s.b, 100).as_deref(), Ok(&b"123456789abcdefghij"[..]));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_read_stream_joins_writes() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"ab"), Ok(2));
    assert_eq!(write(s.a, b"cd"), Ok(2));
    assert_eq!(write(s.a, b"ef"), Ok(2));
    assert_eq!(read(s.b, 5).as_deref(), Ok(&b"abcde"[..]));
    assert_eq!(read(s.b, 5).as_deref(), Ok(&b"f"[..]));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_read_stream_large_transfer_in_odd_pieces() {
    let s = Pair::stream();
    let data = pattern(11, CAP);
    fill_with(s.a, &data);
    let mut got = Vec::new();
    let mut size = 1;
    while got.len() < CAP {
        let part = read(s.b, size).unwrap();
        assert!(!part.is_empty());
        got.extend_from_slice(&part);
        size = size * 7 % 65_537 + 1;
    }
    assert_eq!(got, data);
    expect_both(&s, W | L, W | L);
}

fn fill_with(h: mx::RawHandle, data: &[u8]) {
    let mut done = 0;
    while done < data.len() {
        done += write(h, &data[done..(done + 3001).min(data.len())]).unwrap();
    }
}

#[test]
fn socket_read_datagram_one_per_read() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, b"first"), Ok(5));
    assert_eq!(write(s.a, b"second"), Ok(6));
    assert_eq!(write(s.a, b"3"), Ok(1));
    assert_eq!(read(s.b, 100).as_deref(), Ok(&b"first"[..]));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(read(s.b, 100).as_deref(), Ok(&b"second"[..]));
    assert_eq!(read(s.b, 100).as_deref(), Ok(&b"3"[..]));
    expect_both(&s, W | L, W | L);
    assert_eq!(read(s.b, 100), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_read_datagram_truncation_discards_rest() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, b"hello world"), Ok(11));
    assert_eq!(write(s.a, b"xy"), Ok(2));
    assert_eq!(outstanding(s.b), Ok(13));
    assert_eq!(read(s.b, 5).as_deref(), Ok(&b"hello"[..]));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(2));
    assert_eq!(read(s.b, 5).as_deref(), Ok(&b"xy"[..]));
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_read_datagram_truncation_of_last_datagram_empties() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, &pattern(4, 5000)), Ok(5000));
    assert_eq!(read(s.b, 1), Ok(pattern(4, 1)));
    expect_both(&s, W | L, W | L);
    assert_eq!(read(s.b, 1), Err(Status::SHOULD_WAIT));
}

#[test]
fn socket_read_datagram_lengths_round_trip() {
    let s = Pair::datagram();
    let lengths = [
        1, 2, 126, 127, 128, 129, 2007, 2008, 2009, 16_383, 16_384, 16_385,
    ];
    for (i, &n) in lengths.iter().enumerate() {
        assert_eq!(write(s.a, &pattern(i as u8, n)), Ok(n));
    }
    for (i, &n) in lengths.iter().enumerate() {
        assert_eq!(read(s.b, 20_000), Ok(pattern(i as u8, n)), "length {n}");
    }
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_read_drained_loses_readable() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"ab"), Ok(2));
        expect_both(&s, W | L, W | R | L);
        let _ = read(s.b, 2).unwrap();
        expect_both(&s, W | L, W | L);
    }
}

#[test]
fn socket_read_from_full_peer_regains_writable() {
    let s = Pair::stream();
    fill(s.a);
    expect_both(&s, L, W | R | L);
    assert_eq!(read(s.b, 1).map(|v| v.len()), Ok(1));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(write(s.a, b"xy"), Ok(1));
    expect_both(&s, L, W | R | L);
}

#[test]
fn socket_read_datagram_from_full_peer_regains_writable() {
    let s = Pair::datagram();
    assert_eq!(write(s.a, &pattern(1, CAP - 100)), Ok(CAP - 100));
    assert_eq!(write(s.a, &pattern(2, 100)), Ok(100));
    expect_both(&s, L, W | R | L);
    // A truncated read consumes the whole datagram.
    assert_eq!(read(s.b, 10).map(|v| v.len()), Ok(10));
    expect_both(&s, W | L, W | R | L);
    assert_eq!(outstanding(s.b), Ok(100));
}

#[test]
fn socket_read_from_full_after_peer_half_closed_peer_stays_unwritable() {
    let s = Pair::stream();
    fill(s.a);
    assert_eq!(half_close(s.a), Ok(0));
    expect_both(&s, L, W | R | P | L);
    assert_eq!(read(s.b, 10).map(|v| v.len()), Ok(10));
    expect_both(&s, L, W | R | P | L);
}

#[test]
fn socket_read_from_full_after_peer_closed() {
    let s = Pair::stream();
    fill(s.b);
    // A's inbox is full; B goes away.
    close(s.b);
    expect(s.a, R | P | L);
    assert_eq!(read(s.a, 10).map(|v| v.len()), Ok(10));
    expect(s.a, R | P | L);
    assert_eq!(outstanding(s.a), Ok(CAP - 10));
}

// ---------------------------------------------------------------------------
// mx_socket_write(MX_SOCKET_HALF_CLOSE)

#[test]
fn socket_write_half_close_signals() {
    for s in Pair::both_modes() {
        expect_both(&s, W | L, W | L);
        assert_eq!(half_close(s.a), Ok(0));
        // A loses WRITABLE without gaining PEER_CLOSED; B gains PEER_CLOSED
        // and keeps WRITABLE.
        expect_both(&s, L, W | P | L);
    }
}

#[test]
fn socket_write_half_close_peer_keeps_readable_and_writable() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"pending"), Ok(7));
        assert_eq!(write(s.b, b"other way"), Ok(9));
        expect_both(&s, W | R | L, W | R | L);
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, R | L, W | R | P | L);
    }
}

#[test]
fn socket_write_half_close_then_write_bad_state() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        assert_eq!(write(s.a, b"late"), Err(Status::BAD_STATE));
        expect_both(&s, L, W | P | L);
        assert_eq!(outstanding(s.b), Ok(0));
    }
}

#[test]
fn socket_write_half_close_then_peer_writes() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        assert_eq!(write(s.b, b"reply"), Ok(5));
        expect_both(&s, R | L, W | P | L);
        assert_eq!(read(s.a, 10).as_deref(), Ok(&b"reply"[..]));
        expect_both(&s, L, W | P | L);
        assert_eq!(read(s.a, 10), Err(Status::SHOULD_WAIT));
    }
}

#[test]
fn socket_write_half_close_peer_can_fill_the_half_closed_end() {
    let s = Pair::stream();
    assert_eq!(half_close(s.a), Ok(0));
    fill(s.b);
    expect_both(&s, R | L, P | L);
    assert_eq!(read(s.a, 100).map(|v| v.len()), Ok(100));
    expect_both(&s, R | L, W | P | L);
}

#[test]
fn socket_write_half_close_peer_reads_rest_then_peer_closed() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"one"), Ok(3));
        assert_eq!(write(s.a, b"two"), Ok(3));
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, L, W | R | P | L);
        let n = if sys::ext::socket_is_datagram(s.a) == Ok(true) {
            3
        } else {
            6
        };
        let mut got = Vec::new();
        while got.len() < 6 {
            got.extend(read(s.b, n).unwrap());
        }
        assert_eq!(got, b"onetwo");
        expect_both(&s, L, W | P | L);
        assert_eq!(read(s.b, 10), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_write_half_close_twice_ok() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, L, W | P | L);
    }
}

#[test]
fn socket_write_half_close_after_peer_closed_peer_closed() {
    for s in Pair::both_modes() {
        close(s.b);
        assert_eq!(half_close(s.a), Err(Status::PEER_CLOSED));
        expect(s.a, P | L);
        // Nothing changed: the write error is still PEER_CLOSED.
        assert_eq!(write(s.a, b"x"), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_write_half_close_again_after_peer_closed_ok() {
    for s in Pair::both_modes() {
        assert_eq!(half_close(s.a), Ok(0));
        close(s.b);
        expect(s.a, P | L);
        assert_eq!(
            half_close(s.a),
            Ok(0),
            "idempotent even if the peer is gone"
        );
        expect(s.a, P | L);
    }
}

#[test]
fn socket_write_half_close_both_ends() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"a->b"), Ok(4));
        assert_eq!(write(s.b, b"b->a"), Ok(4));
        assert_eq!(half_close(s.a), Ok(0));
        expect_both(&s, R | L, W | R | P | L);
        assert_eq!(half_close(s.b), Ok(0));
        expect_both(&s, R | P | L, R | P | L);
        assert_eq!(write(s.a, b"x"), Err(Status::BAD_STATE));
        assert_eq!(write(s.b, b"x"), Err(Status::BAD_STATE));
        assert_eq!(read(s.a, 10).as_deref(), Ok(&b"b->a"[..]));
        assert_eq!(read(s.b, 10).as_deref(), Ok(&b"a->b"[..]));
        expect_both(&s, P | L, P | L);
        assert_eq!(read(s.a, 10), Err(Status::PEER_CLOSED));
        assert_eq!(read(s.b, 10), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn socket_write_half_close_needs_write_right() {
    let s = Pair::stream();
    let ro = dup(s.a, Rights::READ);
    assert_eq!(half_close(ro), Err(Status::ACCESS_DENIED));
    expect_both(&s, W, W | L);
    close(ro);
    expect_both(&s, W | L, W | L);
}

#[test]
fn socket_write_half_close_on_event_wrong_type() {
    let e = event();
    assert_eq!(half_close(e.0), Err(Status::WRONG_TYPE));
    assert_eq!(half_close(HANDLE_INVALID), Err(Status::BAD_HANDLE));
}

#[test]
fn socket_write_half_close_when_full() {
    let s = Pair::stream();
    fill(s.a);
    expect_both(&s, L, W | R | L);
    assert_eq!(half_close(s.a), Ok(0));
    expect_both(&s, L, W | R | P | L);
    assert_eq!(outstanding(s.b), Ok(CAP));
}

#[test]
fn socket_write_half_close_then_peer_closes() {
    let s = Pair::stream();
    assert_eq!(write(s.b, b"last words"), Ok(10));
    assert_eq!(half_close(s.a), Ok(0));
    expect_both(&s, R | L, W | P | L);
    close(s.b);
    expect(s.a, R | P | L);
    assert_eq!(read(s.a, 100).as_deref(), Ok(&b"last words"[..]));
    expect(s.a, P | L);
    assert_eq!(read(s.a, 100), Err(Status::PEER_CLOSED));
}

#[test]
fn socket_write_half_close_through_duplicate_affects_the_end() {
    let s = Pair::stream();
    let d = dup(s.a, Rights::SAME_RIGHTS);
    assert_eq!(half_close(d), Ok(0));
    expect_both(&s, NONE, W | P | L);
    expect(d, NONE);
    assert_eq!(write(s.a, b"x"), Err(Status::BAD_STATE));
    close(d);
    expect_both(&s, L, W | P | L);
}

// ---------------------------------------------------------------------------
// mx_handle_close on a socket end

#[test]
fn handle_close_socket_peer_gets_peer_closed_and_loses_writable() {
    for s in Pair::both_modes() {
        expect_both(&s, W | L, W | L);
        close(s.a);
        expect(s.b, P | L);
    }
}

#[test]
fn handle_close_socket_peer_keeps_readable_and_reads_buffered() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"buffered"), Ok(8));
        expect_both(&s, W | L, W | R | L);
        close(s.a);
        expect(s.b, R | P | L);
        assert_eq!(outstanding(s.b), Ok(8));
        assert_eq!(read(s.b, 100).as_deref(), Ok(&b"buffered"[..]));
        expect(s.b, P | L);
        assert_eq!(read(s.b, 100), Err(Status::PEER_CLOSED));
    }
}

#[test]
fn handle_close_socket_peer_writes_peer_closed() {
    for s in Pair::both_modes() {
        close(s.a);
        assert_eq!(write(s.b, b"anyone?"), Err(Status::PEER_CLOSED));
        assert_eq!(write(s.b, b""), Err(Status::PEER_CLOSED));
        expect(s.b, P | L);
    }
}

#[test]
fn handle_close_socket_full_peer_writes_peer_closed() {
    let s = Pair::stream();
    fill(s.b);
    expect_both(&s, W | R | L, L);
    close(s.a);
    expect(s.b, P | L);
    assert_eq!(write(s.b, b"x"), Err(Status::PEER_CLOSED));
}

#[test]
fn handle_close_socket_peer_keeps_its_user_signals() {
    let s = Pair::stream();
    sys::object_signal(s.b, NONE, Signals::USER_2).unwrap();
    close(s.a);
    expect(s.b, P | L | Signals::USER_2);
}

#[test]
fn handle_close_socket_non_last_handle_changes_nothing() {
    for s in Pair::both_modes() {
        assert_eq!(write(s.a, b"data"), Ok(4));
        let d = dup(s.a, Rights::SAME_RIGHTS);
        expect_both(&s, W, W | R | L);
        expect(d, W);
        close(s.a);
        // The end lives on through `d`; only LAST_HANDLE comes back.
        expect(d, W | L);
        expect(s.b, W | R | L);
        assert_eq!(write(s.b, b"to d"), Ok(4));
        assert_eq!(read(d, 10).as_deref(), Ok(&b"to d"[..]));
        assert_eq!(read(s.b, 10).as_deref(), Ok(&b"data"[..]));
        assert_eq!(write(d, b"more"), Ok(4));
        expect(s.b, W | R | L);
        close(d);
        expect(s.b, R | P | L);
    }
}

#[test]
fn handle_close_socket_both_ends() {
    let s = Pair::stream();
    assert_eq!(write(s.a, b"x"), Ok(1));
    assert_eq!(write(s.b, b"y"), Ok(1));
    close(s.a);
    close(s.b);
    assert_eq!(signals_of_closed(s.a), Status::BAD_HANDLE);
    assert_eq!(signals_of_closed(s.b), Status::BAD_HANDLE);
}

fn signals_of_closed(h: mx::RawHandle) -> Status {
    sys::object_wait_one(h, NONE, mx::Time::ZERO)
        .map(|_| Status::OK)
        .unwrap_or_else(|e| e.status)
}

#[test]
fn socket_create_options_are_the_magenta_values() {
    assert_eq!(SOCKET_STREAM, 0);
    assert_eq!(SOCKET_DATAGRAM, 1);
    assert_eq!(SOCKET_HALF_CLOSE, 1);
    // The signals socket tests rely on.
    assert_eq!(R.bits(), 1);
    assert_eq!(W.bits(), 2);
    assert_eq!(P.bits(), 4);
    assert_eq!(L.bits(), 1 << 22);
}

//! SPEC 8: `mx_object_get_info` with `MX_INFO_HANDLE_VALID` and
//! `MX_INFO_HANDLE_BASIC`.

use std::collections::HashSet;

use mx::core::abi::{INFO_HANDLE_BASIC, INFO_HANDLE_VALID, OBJ_PROP_WAITABLE};
use mx::sys::{self, ErrorWith, InfoCount};
use mx::{Koid, Rights, Status, HANDLE_INVALID};

use crate::{close, dup, event, info, Pair};

/// Decodes a C `mx_info_handle_basic_t`.
fn decode(bytes: &[u8]) -> (u64, u32, u32, u64, u32) {
    let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_ne_bytes(bytes[o..o + 8].try_into().unwrap());
    (u64_at(0), u32_at(8), u32_at(12), u64_at(16), u32_at(24))
}

#[test]
fn object_get_info_topic_values() {
    assert_eq!(INFO_HANDLE_VALID, 1);
    assert_eq!(INFO_HANDLE_BASIC, 2);
    assert_eq!(OBJ_PROP_WAITABLE, 1);
}

#[test]
fn object_get_info_handle_valid_live_handle_ok() {
    let s = Pair::stream();
    for h in [s.a, s.b] {
        assert!(sys::object_get_info(h, INFO_HANDLE_VALID, &mut [][..]).is_ok());
    }
    let e = event();
    assert!(sys::object_get_info(e.0, INFO_HANDLE_VALID, &mut [][..]).is_ok());
}

#[test]
fn object_get_info_handle_valid_needs_no_rights() {
    let s = Pair::stream();
    let none = dup(s.a, Rights::NONE);
    assert!(sys::object_get_info(none, INFO_HANDLE_VALID, &mut [][..]).is_ok());
    close(none);
}

#[test]
fn object_get_info_handle_valid_dead_handle_bad_handle() {
    let e = event();
    close(e.0);
    for h in [e.0, HANDLE_INVALID, -1, i32::MAX] {
        let err = sys::object_get_info(h, INFO_HANDLE_VALID, &mut [][..]).unwrap_err();
        assert_eq!(err.status, Status::BAD_HANDLE, "handle {h:#x}");
    }
}

#[test]
fn object_get_info_handle_basic_socket_bytes() {
    let s = Pair::stream();
    let mut buf = [0xeeu8; 32];
    assert_eq!(
        sys::object_get_info(s.a, INFO_HANDLE_BASIC, &mut buf[..]),
        Ok(Some(InfoCount {
            actual: 1,
            avail: 1
        }))
    );
    let (koid, rights, type_, related, props) = decode(&buf);
    let typed = info(s.a);
    assert_eq!(koid, typed.koid.0);
    assert!(koid >= 1024);
    assert_eq!(rights, Rights::SOCKET_DEFAULT.bits());
    assert_eq!(type_, 14);
    assert_eq!(related, info(s.b).koid.0);
    assert_eq!(related, koid + 1);
    assert_eq!(props, OBJ_PROP_WAITABLE);
}

#[test]
fn object_get_info_handle_basic_larger_buffer_writes_one_record() {
    let e = event();
    let mut buf = [0xeeu8; 64];
    assert_eq!(
        sys::object_get_info(e.0, INFO_HANDLE_BASIC, &mut buf[..]),
        Ok(Some(InfoCount {
            actual: 1,
            avail: 1
        }))
    );
    let (koid, rights, type_, related, props) = decode(&buf);
    assert_eq!(koid, info(e.0).koid.0);
    assert_eq!(rights, Rights::EVENT_DEFAULT.bits());
    assert_eq!(type_, 5);
    assert_eq!(related, 0);
    assert_eq!(props, 1);
    assert!(
        buf[32..].iter().all(|&b| b == 0xee),
        "wrote past the record"
    );
}

#[test]
fn object_get_info_handle_basic_reports_the_handles_rights() {
    let s = Pair::stream();
    let r = dup(s.a, Rights::READ | Rights::TRANSFER);
    let mut buf = [0u8; 32];
    sys::object_get_info(r, INFO_HANDLE_BASIC, &mut buf[..]).unwrap();
    assert_eq!(decode(&buf).1, (Rights::READ | Rights::TRANSFER).bits());
    assert_eq!(info(r).rights, Rights::READ | Rights::TRANSFER);
    assert_eq!(info(r).koid, info(s.a).koid);
    close(r);
}

#[test]
fn object_get_info_handle_basic_needs_no_rights() {
    let e = event();
    let none = dup(e.0, Rights::NONE);
    assert_eq!(info(none).rights, Rights::NONE);
    assert_eq!(info(none).koid, info(e.0).koid);
    close(none);
}

#[test]
fn object_get_info_handle_basic_buffer_too_small() {
    let s = Pair::stream();
    for size in [0, 1, 8, 24, 28, 31] {
        let mut buf = vec![0xeeu8; size];
        assert_eq!(
            sys::object_get_info(s.a, INFO_HANDLE_BASIC, &mut buf[..]),
            Err(ErrorWith {
                status: Status::BUFFER_TOO_SMALL,
                value: Some(InfoCount {
                    actual: 0,
                    avail: 1
                }),
            }),
            "buffer of {size} bytes"
        );
        assert!(buf.iter().all(|&b| b == 0xee), "buffer touched");
    }
}

#[test]
fn object_get_info_handle_basic_bad_handle() {
    let e = event();
    close(e.0);
    let mut buf = [0u8; 32];
    for h in [e.0, HANDLE_INVALID] {
        let err = sys::object_get_info(h, INFO_HANDLE_BASIC, &mut buf[..]).unwrap_err();
        assert_eq!(err.status, Status::BAD_HANDLE);
        assert_eq!(
            sys::object_get_info_handle_basic(h),
            Err(Status::BAD_HANDLE)
        );
    }
    // A bad handle is reported before a small buffer.
    let err = sys::object_get_info(e.0, INFO_HANDLE_BASIC, &mut [][..]).unwrap_err();
    assert_eq!(err.status, Status::BAD_HANDLE);
}

#[test]
fn object_get_info_unknown_topic_not_supported() {
    let s = Pair::stream();
    let mut buf = [0u8; 64];
    for topic in [0, 5, 6, 19, 100, u32::MAX] {
        let err = sys::object_get_info(s.a, topic, &mut buf[..]).unwrap_err();
        assert_eq!(err.status, Status::NOT_SUPPORTED, "topic {topic}");
        assert_eq!(err.value, None, "no counts for topic {topic}");
    }
}

#[test]
fn object_get_info_unknown_topic_checks_the_handle_first() {
    let s = Pair::stream();
    let stale = s.a;
    drop(s);
    let err = sys::object_get_info(stale, 100, &mut [][..]).unwrap_err();
    assert_eq!(err.status, Status::BAD_HANDLE);
}

#[test]
fn object_get_info_koids_are_unique() {
    let mut pairs = Vec::new();
    let mut events = Vec::new();
    let mut koids = HashSet::new();
    for _ in 0..50 {
        let s = Pair::datagram();
        let ep = Pair::eventpair();
        let e = event();
        for h in [s.a, s.b, ep.a, ep.b, e.0] {
            let k = info(h).koid;
            assert!(k >= Koid::FIRST);
            assert!(koids.insert(k), "koid {k:?} handed out twice");
        }
        pairs.push(s);
        pairs.push(ep);
        events.push(e);
    }
}

#[test]
fn object_get_info_koid_same_through_every_handle() {
    let s = Pair::stream();
    let d = dup(s.b, Rights::READ);
    assert_eq!(info(d).koid, info(s.b).koid);
    assert_eq!(info(d).related_koid, info(s.a).koid);
    close(d);
}

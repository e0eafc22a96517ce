//! The calls added for the whole C surface: clocks (SPEC 6), ticks, CPUs,
//! the version, physical memory, random numbers, get_info topics of kinds
//! that do not exist here (SPEC 8), properties, cookies and children.
//! Every error code each can return is provoked here (the property checks
//! behind the rights that no handle holds are unit tests of
//! `mx::sys::property`).

use mx::core::abi::{
    CLOCK_MONOTONIC, CLOCK_THREAD, CLOCK_UTC, CPRNG_ADD_ENTROPY_MAX_LEN, CPRNG_DRAW_MAX_LEN,
    HANDLE_INVALID, INFO_CPU_STATS, INFO_JOB_CHILDREN, INFO_KMEM_STATS, INFO_PROCESS,
    INFO_PROCESS_THREADS, INFO_RESOURCE, INFO_THREAD, INFO_VMAR, PROP_NAME,
};
use mx::sys;
use mx::{Rights, Status};

use super::{close, dup, event, Owned, Pair};

/// A value that is not a live handle.
const BOGUS: i32 = 0x7fff_fff0;

fn system_ns(clock: rustix::time::ClockId) -> u64 {
    let ts = rustix::time::clock_gettime(clock);
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[test]
fn time_get_utc_is_wall_clock_time() {
    let before = system_ns(rustix::time::ClockId::Realtime);
    let t = sys::time_get(CLOCK_UTC).0;
    let after = system_ns(rustix::time::ClockId::Realtime);
    assert!(before <= t && t <= after, "{before} <= {t} <= {after}");
    // After 2017, in nanoseconds since the epoch.
    assert!(t > 1_500_000_000 * 1_000_000_000);
}

#[test]
fn time_get_thread_is_this_threads_cpu_time() {
    let t0 = sys::time_get(CLOCK_THREAD).0;
    // Burn about 20 ms of CPU on this thread.
    let start = sys::time_get(CLOCK_MONOTONIC).0;
    let mut x = 0u64;
    while sys::time_get(CLOCK_MONOTONIC).0 - start < 20_000_000 {
        x = x.wrapping_add(std::hint::black_box(1));
    }
    let t1 = sys::time_get(CLOCK_THREAD).0;
    assert!(x > 0);
    assert!(t1 > t0, "{t1} > {t0}");
    // A sleeping thread uses no CPU: another thread's clock barely moves.
    let other = std::thread::spawn(|| {
        let a = sys::time_get(CLOCK_THREAD).0;
        std::thread::sleep(std::time::Duration::from_millis(30));
        sys::time_get(CLOCK_THREAD).0 - a
    });
    assert!(other.join().unwrap() < 20_000_000);
}

#[test]
fn ticks_are_monotonic_nanoseconds() {
    assert_eq!(sys::ticks_per_second(), 1_000_000_000);
    let a = sys::ticks_get();
    let t = sys::time_get(CLOCK_MONOTONIC).0;
    let b = sys::ticks_get();
    assert!(a <= t && t <= b);
    std::thread::sleep(std::time::Duration::from_millis(10));
    assert!(sys::ticks_get() - b >= 10_000_000);
}

#[test]
fn num_cpus_is_the_cpus_this_process_may_use_and_constant() {
    let n = sys::system_get_num_cpus();
    assert!(n >= 1);
    assert_eq!(
        n as usize,
        std::thread::available_parallelism().unwrap().get()
    );
    assert_eq!(sys::system_get_num_cpus(), n);
}

#[test]
fn physmem_is_the_machines_memory() {
    let bytes = sys::system_get_physmem();
    assert!(bytes > 64 << 20, "{bytes}");
    assert_eq!(bytes % 1024, 0);
}

#[test]
fn system_get_version_writes_a_terminated_string() {
    let mut buf = vec![0xffu8; sys::VERSION.len() + 1];
    sys::system_get_version(&mut buf[..]).unwrap();
    assert_eq!(&buf[..sys::VERSION.len()], sys::VERSION.as_bytes());
    assert_eq!(buf[sys::VERSION.len()], 0);
    let mut short = vec![0xffu8; sys::VERSION.len()];
    assert_eq!(
        sys::system_get_version(&mut short[..]),
        Err(Status::BUFFER_TOO_SMALL)
    );
    assert!(short.iter().all(|&b| b == 0xff), "nothing written");
}

#[test]
fn cprng_draw_fills_up_to_the_limit() {
    let mut a = [0u8; CPRNG_DRAW_MAX_LEN];
    let mut b = [0u8; CPRNG_DRAW_MAX_LEN];
    assert_eq!(sys::cprng_draw(&mut a[..]), Ok(CPRNG_DRAW_MAX_LEN));
    assert_eq!(sys::cprng_draw(&mut b[..]), Ok(CPRNG_DRAW_MAX_LEN));
    assert_ne!(a, b);
    assert_eq!(sys::cprng_draw(&mut [][..]), Ok(0));
    let mut too_many = [7u8; CPRNG_DRAW_MAX_LEN + 1];
    assert_eq!(
        sys::cprng_draw(&mut too_many[..]),
        Err(Status::INVALID_ARGS)
    );
    assert!(too_many.iter().all(|&b| b == 7), "nothing written");
}

#[test]
fn cprng_add_entropy_takes_up_to_the_limit() {
    assert_eq!(
        sys::cprng_add_entropy(&[1; CPRNG_ADD_ENTROPY_MAX_LEN]),
        Ok(())
    );
    assert_eq!(sys::cprng_add_entropy(&[]), Ok(()));
    assert_eq!(
        sys::cprng_add_entropy(&[1; CPRNG_ADD_ENTROPY_MAX_LEN + 1]),
        Err(Status::INVALID_ARGS)
    );
}

#[test]
fn get_info_topics_of_other_kinds_look_the_handle_up_as_the_kernel_did() {
    let e = event();
    let topic = |h, topic| sys::object_get_info(h, topic, &mut [0u8; 256][..]).unwrap_err();
    // READ-gated and ENUMERATE-gated topics, and ungated ones.
    for t in [
        INFO_PROCESS,
        INFO_THREAD,
        INFO_VMAR,
        INFO_CPU_STATS,
        INFO_KMEM_STATS,
        INFO_RESOURCE,
    ] {
        let err = topic(e.0, t);
        assert_eq!(err.status, Status::WRONG_TYPE, "topic {t}");
        assert_eq!(err.value, None);
        assert_eq!(topic(BOGUS, t).status, Status::BAD_HANDLE, "topic {t}");
    }
    // Events have no ENUMERATE: rights before type.
    for t in [INFO_PROCESS_THREADS, INFO_JOB_CHILDREN] {
        assert_eq!(topic(e.0, t).status, Status::ACCESS_DENIED, "topic {t}");
    }
    // Without READ, READ-gated topics are ACCESS_DENIED; others still
    // WRONG_TYPE.
    let unreadable = Owned(dup(e.0, Rights::DUPLICATE));
    assert_eq!(
        topic(unreadable.0, INFO_PROCESS).status,
        Status::ACCESS_DENIED
    );
    assert_eq!(
        topic(unreadable.0, INFO_THREAD).status,
        Status::ACCESS_DENIED
    );
    assert_eq!(topic(unreadable.0, INFO_VMAR).status, Status::WRONG_TYPE);
    assert_eq!(
        topic(unreadable.0, INFO_CPU_STATS).status,
        Status::WRONG_TYPE
    );
    // Sockets and ports alike.
    let s = Pair::stream();
    assert_eq!(topic(s.a, INFO_THREAD).status, Status::WRONG_TYPE);
    let port = Owned(sys::port_create(0).unwrap());
    assert_eq!(topic(port.0, INFO_PROCESS).status, Status::WRONG_TYPE);
}

#[test]
fn properties_need_rights_no_handle_here_has() {
    let e = event();
    let mut name = [9u8; 32];
    assert_eq!(
        sys::object_get_property(BOGUS, PROP_NAME, &mut name[..]),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(
        sys::object_get_property(e.0, PROP_NAME, &mut name[..]),
        Err(Status::ACCESS_DENIED)
    );
    // Before the property and its size are looked at.
    assert_eq!(
        sys::object_get_property(e.0, 12345, &mut [][..]),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(name, [9; 32]);
    assert_eq!(
        sys::object_set_property(BOGUS, PROP_NAME, &b"x"[..]),
        Err(Status::BAD_HANDLE)
    );
    let s = Pair::stream();
    for h in [e.0, s.a] {
        assert_eq!(
            sys::object_set_property(h, PROP_NAME, &b"name"[..]),
            Err(Status::ACCESS_DENIED)
        );
    }
}

#[test]
fn cookies_belong_to_the_first_scope() {
    let e = event();
    let scope = event();
    let other = Pair::stream();
    // Nothing set yet.
    assert_eq!(
        sys::object_get_cookie(e.0, scope.0),
        Err(Status::ACCESS_DENIED)
    );
    sys::object_set_cookie(e.0, scope.0, 42).unwrap();
    assert_eq!(sys::object_get_cookie(e.0, scope.0), Ok(42));
    // The scope is the object: another handle to it is the same scope.
    let scope2 = Owned(dup(scope.0, Rights::SAME_RIGHTS));
    sys::object_set_cookie(e.0, scope2.0, 43).unwrap();
    assert_eq!(sys::object_get_cookie(e.0, scope.0), Ok(43));
    // Another scope may neither read nor replace it.
    assert_eq!(
        sys::object_get_cookie(e.0, other.a),
        Err(Status::ACCESS_DENIED)
    );
    assert_eq!(
        sys::object_set_cookie(e.0, other.a, 1),
        Err(Status::ACCESS_DENIED)
    );
    // The cookie is the object's: any handle to it, any rights.
    let weak = Owned(dup(e.0, Rights::NONE));
    assert_eq!(sys::object_get_cookie(weak.0, scope.0), Ok(43));
}

#[test]
fn cookies_check_the_scope_then_the_handle_then_the_kind() {
    let e = event();
    assert_eq!(
        sys::object_set_cookie(e.0, BOGUS, 1),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(sys::object_get_cookie(e.0, BOGUS), Err(Status::BAD_HANDLE));
    assert_eq!(
        sys::object_set_cookie(BOGUS, e.0, 1),
        Err(Status::BAD_HANDLE)
    );
    assert_eq!(sys::object_get_cookie(BOGUS, e.0), Err(Status::BAD_HANDLE));
    let s = Pair::stream();
    let port = Owned(sys::port_create(0).unwrap());
    for h in [s.a, port.0] {
        assert_eq!(
            sys::object_set_cookie(h, e.0, 1),
            Err(Status::NOT_SUPPORTED)
        );
        assert_eq!(sys::object_get_cookie(h, e.0), Err(Status::NOT_SUPPORTED));
    }
    // A closed scope is a bad handle.
    let gone = sys::event_create(0).unwrap();
    close(gone);
    assert_eq!(
        sys::object_set_cookie(e.0, gone, 1),
        Err(Status::BAD_HANDLE)
    );
}

#[test]
fn each_eventpair_end_has_its_own_cookie() {
    let p = Pair::eventpair();
    sys::object_set_cookie(p.a, p.a, 1).unwrap();
    sys::object_set_cookie(p.b, p.a, 2).unwrap();
    assert_eq!(sys::object_get_cookie(p.a, p.a), Ok(1));
    assert_eq!(sys::object_get_cookie(p.b, p.a), Ok(2));
    // End b's scope is its own koid, not a's.
    assert_eq!(sys::object_get_cookie(p.a, p.b), Err(Status::ACCESS_DENIED));
}

#[test]
fn get_child_finds_nothing_here() {
    let e = event();
    assert_eq!(
        sys::object_get_child(BOGUS, 1, Rights::SAME_RIGHTS),
        Err(Status::BAD_HANDLE)
    );
    // No handle here holds ENUMERATE.
    assert_eq!(
        sys::object_get_child(e.0, 1, Rights::SAME_RIGHTS),
        Err(Status::ACCESS_DENIED)
    );
    // MX_HANDLE_INVALID: any process by koid; there are none.
    assert_eq!(
        sys::object_get_child(HANDLE_INVALID, 1, Rights::SAME_RIGHTS),
        Err(Status::NOT_FOUND)
    );
    assert_eq!(
        sys::object_get_child(HANDLE_INVALID, 1, Rights::READ),
        Err(Status::NOT_FOUND)
    );
    assert_eq!(
        sys::object_get_child(HANDLE_INVALID, 1, Rights::SIGNAL),
        Err(Status::ACCESS_DENIED)
    );
}

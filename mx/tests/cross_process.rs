//! Objects shared with a child process: this test binary starts itself as
//! the child (`MX_CROSS_ROLE` names what the child does), handing it
//! handles with `mx::sys::linux::spawn`.

use std::process::Command;
use std::time::{Duration, Instant};

use mx::sys;
use mx::{RawHandle, Signals, Status};

/// `PA_HND(PA_USER0, n)`.
fn user(n: u32) -> u32 {
    0xF0 | (n << 16)
}

fn deadline(secs: u64) -> mx::Time {
    sys::deadline_after(secs * 1_000_000_000)
}

/// Starts this binary as a child playing `role`, with `handles`.
fn child(role: &str, handles: &[(u32, RawHandle)]) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_role", "--nocapture", "--test-threads=1"])
        .env("MX_CROSS_ROLE", role);
    sys::linux::spawn(&mut command, handles).unwrap()
}

/// The byte at `offset` of the test stream.
fn pattern(offset: usize) -> u8 {
    (offset as u64).wrapping_mul(0x9E37_79B9).to_le_bytes()[3]
}

/// Not a test of its own: the child's entry point.
#[test]
fn child_role() {
    let Ok(role) = std::env::var("MX_CROSS_ROLE") else {
        return;
    };
    match role.as_str() {
        "echo_stream" => {
            let s = sys::linux::get_startup_handle(user(0)).expect("startup handle");
            let mut buf = vec![0u8; 65536];
            let mut offset = 0usize;
            loop {
                match sys::socket_read(s, 0, Some(&mut buf[..])) {
                    Ok(n) => {
                        for (i, &b) in buf[..n].iter().enumerate() {
                            assert_eq!(b, pattern(offset + i), "byte {}", offset + i);
                        }
                        offset += n;
                    }
                    Err(Status::SHOULD_WAIT) => {
                        let _ = sys::object_wait_one(
                            s,
                            Signals::SOCKET_READABLE | Signals::SOCKET_PEER_CLOSED,
                            deadline(30),
                        );
                    }
                    Err(Status::PEER_CLOSED) => break,
                    Err(status) => panic!("read: {status}"),
                }
            }
            // The parent half-closed: report how much arrived.
            assert_eq!(
                sys::socket_write(s, 0, &(offset as u64).to_le_bytes()[..]),
                Ok(8)
            );
            assert!(
                sys::linux::get_startup_handle(user(0)).is_none(),
                "taken once"
            );
        }
        "channel_ping" => {
            let c = sys::linux::get_startup_handle(user(1)).expect("startup handle");
            loop {
                let mut bytes = [0u8; 64];
                let mut handles = [0; 4];
                match sys::channel_read(c, 0, &mut bytes[..], &mut handles[..]) {
                    Ok((nb, nh)) => {
                        // Echo the bytes, and send back any handle received.
                        let handles = &handles[..nh as usize];
                        sys::channel_write(c, 0, &bytes[..nb as usize], handles).unwrap();
                    }
                    Err(e) if e.status == Status::SHOULD_WAIT => {
                        let _ = sys::object_wait_one(
                            c,
                            Signals::CHANNEL_READABLE | Signals::CHANNEL_PEER_CLOSED,
                            deadline(30),
                        );
                    }
                    Err(_) => break,
                }
            }
        }
        "write_forever" => {
            let s = sys::linux::get_startup_handle(user(0)).expect("startup handle");
            let mut offset = 0usize;
            let mut buf = vec![0u8; 4096];
            loop {
                for (i, b) in buf.iter_mut().enumerate() {
                    *b = pattern(offset + i);
                }
                match sys::socket_write(s, 0, &buf[..]) {
                    Ok(n) => offset += n,
                    Err(Status::SHOULD_WAIT) => {
                        let _ = sys::object_wait_one(s, Signals::SOCKET_WRITABLE, deadline(30));
                    }
                    Err(_) => return,
                }
            }
        }
        "exec_before_taking" => {
            // A program this child starts before it takes its handles
            // must not inherit the startup descriptor.
            let fd = std::env::var("MX_STARTUP_FD").expect("a startup descriptor");
            let status = Command::new("/bin/sh")
                .args(["-c", &format!("test ! -e /proc/self/fd/{fd}")])
                .status()
                .unwrap();
            assert!(status.success(), "the grandchild inherited descriptor {fd}");
            // And the handles are still there to take.
            assert!(sys::linux::get_startup_handle(user(0)).is_some());
        }
        other => panic!("unknown role {other}"),
    }
}

#[test]
fn a_socket_streams_to_a_child_and_back() {
    let (a, b) = sys::socket_create(0).unwrap();
    let mut kid = child("echo_stream", &[(user(0), b)]);
    assert_eq!(
        sys::handle_close(b),
        Err(Status::BAD_HANDLE),
        "the handle left this process"
    );
    const TOTAL: usize = 16 << 20;
    let mut offset = 0usize;
    let mut buf = vec![0u8; 65536];
    while offset < TOTAL {
        let n = buf.len().min(TOTAL - offset);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = pattern(offset + i);
        }
        match sys::socket_write(a, 0, &buf[..n]) {
            Ok(written) => offset += written,
            Err(Status::SHOULD_WAIT) => {
                sys::object_wait_one(a, Signals::SOCKET_WRITABLE, deadline(30)).unwrap();
            }
            Err(status) => panic!("write: {status}"),
        }
    }
    sys::socket_write(a, mx::core::abi::SOCKET_HALF_CLOSE, &[][..]).unwrap();
    sys::object_wait_one(a, Signals::SOCKET_READABLE, deadline(30)).unwrap();
    let mut count = [0u8; 8];
    assert_eq!(sys::socket_read(a, 0, Some(&mut count[..])), Ok(8));
    assert_eq!(u64::from_le_bytes(count), TOTAL as u64);
    assert!(kid.wait().unwrap().success());
    // The child's exit closed its handle.
    let observed = sys::object_wait_one(a, Signals::SOCKET_PEER_CLOSED, deadline(5)).unwrap();
    assert!(observed.contains(Signals::SOCKET_PEER_CLOSED));
    sys::handle_close(a).unwrap();
}

#[test]
fn channel_messages_and_handles_go_to_a_child_and_back() {
    let (a, b) = sys::channel_create(0).unwrap();
    let mut kid = child("channel_ping", &[(user(1), b)]);
    for i in 0..200u32 {
        let (s0, s1) = sys::socket_create(0).unwrap();
        sys::socket_write(s0, 0, &i.to_le_bytes()[..]).unwrap();
        sys::channel_write(a, 0, &i.to_le_bytes()[..], &[s1][..]).unwrap();
        sys::object_wait_one(a, Signals::CHANNEL_READABLE, deadline(30)).unwrap();
        let mut bytes = [0u8; 64];
        let mut handles = [0; 4];
        let (nb, nh) = sys::channel_read(a, 0, &mut bytes[..], &mut handles[..]).unwrap();
        assert_eq!(&bytes[..nb as usize], &i.to_le_bytes());
        assert_eq!(nh, 1);
        // The socket end went there and came back: the same pair.
        let mut got = [0u8; 4];
        assert_eq!(sys::socket_read(handles[0], 0, Some(&mut got[..])), Ok(4));
        assert_eq!(got, i.to_le_bytes());
        sys::handle_close(handles[0]).unwrap();
        sys::handle_close(s0).unwrap();
    }
    sys::handle_close(a).unwrap();
    assert!(kid.wait().unwrap().success());
}

#[test]
fn a_killed_writer_leaves_what_it_wrote_and_peer_closed() {
    // Killed at a different moment each round: at once, or after a random
    // amount read (so in or between its writes, inside or outside the
    // segment's lock). The moments are printed with any failure.
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut moments = vec![0usize];
    for _ in 0..5 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        moments.push((x % (8 << 20)) as usize);
    }
    for &kill_after in &moments {
        killed_writer_round(kill_after, &moments);
    }
}

/// One round: a child streams the pattern until it is killed, once at
/// least `kill_after` bytes were read.
fn killed_writer_round(kill_after: usize, moments: &[usize]) {
    let (a, b) = sys::socket_create(0).unwrap();
    let mut kid = child("write_forever", &[(user(0), b)]);
    let mut buf = vec![0u8; 65536];
    let mut offset = 0usize;
    let mut killed_at = None;
    loop {
        if offset >= kill_after && killed_at.is_none() {
            kid.kill().unwrap();
            killed_at = Some(Instant::now());
        }
        match sys::socket_read(a, 0, Some(&mut buf[..])) {
            Ok(n) => {
                for (i, &byte) in buf[..n].iter().enumerate() {
                    assert_eq!(
                        byte,
                        pattern(offset + i),
                        "byte {} (moments {moments:?})",
                        offset + i
                    );
                }
                offset += n;
            }
            Err(Status::SHOULD_WAIT) => {
                let observed = sys::object_wait_one(
                    a,
                    Signals::SOCKET_READABLE | Signals::SOCKET_PEER_CLOSED,
                    deadline(30),
                )
                .unwrap();
                if let Some(at) = killed_at {
                    if observed.contains(Signals::SOCKET_PEER_CLOSED) {
                        assert!(
                            at.elapsed() < Duration::from_millis(1000),
                            "PEER_CLOSED took {:?} (moments {moments:?})",
                            at.elapsed()
                        );
                    }
                }
            }
            Err(Status::PEER_CLOSED) => break,
            Err(status) => panic!("read: {status} (moments {moments:?})"),
        }
    }
    assert!(killed_at.is_some());
    let _ = kid.wait();
    sys::handle_close(a).unwrap();
}

#[test]
fn a_forked_child_starts_with_an_empty_table() {
    let (a, b) = sys::socket_create(0).unwrap();
    sys::socket_write(a, 0, &b"parent's"[..]).unwrap();
    // SAFETY: the child only calls the library and `_exit`; the test
    // harness's other threads do not exist in it.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = (|| {
            // The parent's handles are not the child's.
            if sys::handle_close(a) != Err(Status::BAD_HANDLE) {
                return false;
            }
            if sys::socket_read(b, 0, Some(&mut [0u8; 8][..])) != Err(Status::BAD_HANDLE) {
                return false;
            }
            // And the library works.
            let Ok((c, d)) = sys::socket_create(0) else {
                return false;
            };
            sys::socket_write(c, 0, &b"child's"[..]) == Ok(7)
                && sys::socket_read(d, 0, Some(&mut [0u8; 8][..])) == Ok(7)
                && sys::handle_close(c).is_ok()
                && sys::handle_close(d).is_ok()
        })();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
    // The parent's objects are untouched.
    let mut buf = [0u8; 8];
    assert_eq!(sys::socket_read(b, 0, Some(&mut buf[..])), Ok(8));
    assert_eq!(&buf, b"parent's");
    sys::handle_close(a).unwrap();
    sys::handle_close(b).unwrap();
}

#[test]
fn a_forked_child_reclaims_though_the_parents_threads_were_looking_up() {
    // Threads of the parent look handles up (without locks, inside read
    // sections) while it forks: the child has none of them, and its grace
    // periods must not wait for them.
    let (a, b) = sys::socket_create(0).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lookers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = sys::socket_read(b, 0, Some(&mut [0u8; 1][..]));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: the child only calls the library and `_exit`; the test
    // harness's other threads, and the lookers, do not exist in it.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = (|| {
            let before = sys::ext::live_objects();
            for _ in 0..300 {
                let Ok((c, d)) = sys::socket_create(0) else {
                    return false;
                };
                if sys::handle_close(c).is_err() || sys::handle_close(d).is_err() {
                    return false;
                }
            }
            // A thread of the child's own looks up and exits meanwhile.
            let Ok((c, d)) = sys::socket_create(0) else {
                return false;
            };
            let looked = std::thread::spawn(move || sys::socket_write(c, 0, &b"x"[..]) == Ok(1))
                .join()
                .unwrap_or(false);
            looked
                && sys::handle_close(c).is_ok()
                && sys::handle_close(d).is_ok()
                && sys::ext::live_objects() == before
        })();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    let started = Instant::now();
    let exited = loop {
        // SAFETY: polls the child just forked.
        let got = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if got == pid {
            break true;
        }
        if started.elapsed() > Duration::from_secs(30) {
            // SAFETY: our own child, which we then reap.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            break false;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for looker in lookers {
        looker.join().unwrap();
    }
    assert!(exited, "the child hung (waiting for the parent's threads?)");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed"
    );
    sys::handle_close(a).unwrap();
    sys::handle_close(b).unwrap();
}

#[test]
fn out_of_descriptors_is_no_resources_and_moves_nothing() {
    let (x, y) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .unwrap();
    // SAFETY: as in the fork test above.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // The child sends socket ends to the parent until refused.
        drop(y);
        // Descriptors the other tests of this process had open at the fork
        // would crowd the low limit below: the child keeps only its own.
        let own = std::os::fd::AsRawFd::as_raw_fd(&x) as libc::c_uint;
        // SAFETY: closes descriptors of this child alone (its copy of the
        // table); nothing in it uses them but the parent's threads, which
        // are not here.
        unsafe {
            if own > 3 {
                libc::close_range(3, own - 1, 0);
            }
            libc::close_range(own + 1, libc::c_uint::MAX, 0);
        }
        let ok = (|| {
            let link = sys::linux::channel_from_fd(x).ok()?;
            // A low limit: the library must refuse before it runs out.
            let limit = libc::rlimit {
                rlim_cur: 160,
                rlim_max: 160,
            };
            // SAFETY: sets this process's own descriptor limit.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
                return None;
            }
            for i in 0..400 {
                let (s0, s1) = sys::socket_create(0).ok()?;
                match sys::channel_write(link, 0, &[][..], &[s1][..]) {
                    // The pair stays open here through `s0` (a descriptor
                    // for its segment each).
                    Ok(()) => {}
                    Err(status) => {
                        // Nothing moved: the end is still here and works.
                        let intact = sys::socket_write(s1, 0, &b"x"[..]) == Ok(1)
                            && sys::socket_read(s0, 0, Some(&mut [0u8; 1][..])) == Ok(1);
                        // Refused early: the rest of the program still has
                        // descriptors to work with.
                        let spare: Vec<_> = (0..32)
                            .filter_map(|_| std::fs::File::open("/dev/null").ok())
                            .collect();
                        return Some((i, status, intact && spare.len() == 32));
                    }
                }
            }
            None
        })();
        let good = matches!(ok, Some((_, Status::NO_RESOURCES, true)));
        if !good {
            // Straight to the descriptor: the harness captures eprintln's
            // output in memory, which the child never hands back.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "child outcome: {ok:?}");
        }
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if good { 0 } else { 1 }) };
    }
    drop(x);
    let link = sys::linux::channel_from_fd(y).unwrap();
    let mut received = 0;
    loop {
        let mut handles = [0; 1];
        match sys::channel_read(link, 0, &mut [0u8; 0][..], &mut handles[..]) {
            Ok(_) => {
                received += 1;
                sys::handle_close(handles[0]).unwrap();
            }
            Err(e) if e.status == Status::SHOULD_WAIT => {
                let _ = sys::object_wait_one(
                    link,
                    Signals::CHANNEL_READABLE | Signals::CHANNEL_PEER_CLOSED,
                    deadline(30),
                );
            }
            Err(_) => break,
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child did not see NO_RESOURCES with its handles intact"
    );
    assert!(received > 0, "some ends crossed before the limit");
    sys::handle_close(link).unwrap();
}

#[test]
fn a_program_started_before_the_handles_are_taken_does_not_inherit_them() {
    let (a, b) = sys::socket_create(0).unwrap();
    let mut kid = child("exec_before_taking", &[(user(0), b)]);
    assert!(kid.wait().unwrap().success());
    sys::handle_close(a).unwrap();
}

//! Channel links over a socket pair, both ends in this process: every path
//! of a link (frames, handles in them, hang-up) without a second process.

use std::os::fd::OwnedFd;

use mx::sys;
use mx::{Signals, Status};

fn seqpacket() -> (OwnedFd, OwnedFd) {
    rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .unwrap()
}

fn linked() -> (mx::RawHandle, mx::RawHandle) {
    let (a, b) = seqpacket();
    let a = sys::linux::channel_from_fd(a).unwrap();
    let b = sys::linux::channel_from_fd(b).unwrap();
    (a, b)
}

fn read_one(h: mx::RawHandle) -> (Vec<u8>, Vec<mx::RawHandle>) {
    sys::object_wait_one(
        h,
        Signals::CHANNEL_READABLE,
        sys::deadline_after(5_000_000_000),
    )
    .unwrap();
    let mut bytes = vec![0u8; 65536];
    let mut handles = vec![0; 64];
    let (nb, nh) = sys::channel_read(h, 0, &mut bytes[..], &mut handles[..]).unwrap();
    bytes.truncate(nb as usize);
    handles.truncate(nh as usize);
    (bytes, handles)
}

#[test]
fn messages_cross_a_link() {
    let (a, b) = linked();
    sys::channel_write(a, 0, &b"hello"[..], &[][..]).unwrap();
    let (bytes, handles) = read_one(b);
    assert_eq!(bytes, b"hello");
    assert!(handles.is_empty());
    sys::channel_write(b, 0, &b""[..], &[][..]).unwrap();
    assert_eq!(read_one(a).0, b"");
    sys::handle_close(a).unwrap();
    let observed = sys::object_wait_one(
        b,
        Signals::CHANNEL_PEER_CLOSED,
        sys::deadline_after(5_000_000_000),
    )
    .unwrap();
    assert!(observed.contains(Signals::CHANNEL_PEER_CLOSED));
    assert_eq!(
        sys::channel_read(b, 0, &mut [0u8; 4][..], &mut [0; 1][..])
            .map(|_| ())
            .map_err(|e| e.status),
        Err(Status::PEER_CLOSED)
    );
    sys::handle_close(b).unwrap();
}

#[test]
fn a_socket_end_crosses_and_streams() {
    let (a, b) = linked();
    let (s0, s1) = sys::socket_create(0).unwrap();
    assert_eq!(sys::socket_write(s0, 0, &b"queued before"[..]), Ok(13));
    sys::channel_write(a, 0, &b"take this"[..], &[s1][..]).unwrap();
    let (bytes, handles) = read_one(b);
    assert_eq!(bytes, b"take this");
    assert_eq!(handles.len(), 1);
    let s1 = handles[0];
    let mut buf = [0u8; 64];
    assert_eq!(sys::socket_read(s1, 0, Some(&mut buf[..])), Ok(13));
    assert_eq!(&buf[..13], b"queued before");
    assert_eq!(sys::socket_write(s1, 0, &b"back"[..]), Ok(4));
    assert_eq!(sys::socket_read(s0, 0, Some(&mut buf[..])), Ok(4));
    sys::handle_close(s1).unwrap();
    let observed = sys::object_wait_one(
        s0,
        Signals::SOCKET_PEER_CLOSED,
        sys::deadline_after(5_000_000_000),
    )
    .unwrap();
    assert!(observed.contains(Signals::SOCKET_PEER_CLOSED));
    for h in [s0, a, b] {
        sys::handle_close(h).unwrap();
    }
}

#[test]
fn a_channel_end_crosses_with_its_queue() {
    let (a, b) = linked();
    let (c0, c1) = sys::channel_create(0).unwrap();
    sys::channel_write(c0, 0, &b"one"[..], &[][..]).unwrap();
    sys::channel_write(c0, 0, &b"two"[..], &[][..]).unwrap();
    sys::channel_write(a, 0, &b""[..], &[c1][..]).unwrap();
    sys::channel_write(c0, 0, &b"three"[..], &[][..]).unwrap();
    let (_, handles) = read_one(b);
    let c1 = handles[0];
    assert_eq!(read_one(c1).0, b"one");
    assert_eq!(read_one(c1).0, b"two");
    assert_eq!(read_one(c1).0, b"three");
    sys::channel_write(c1, 0, &b"reply"[..], &[][..]).unwrap();
    assert_eq!(read_one(c0).0, b"reply");
    for h in [c0, c1, a, b] {
        sys::handle_close(h).unwrap();
    }
}

#[test]
fn not_a_seqpacket_socket_is_invalid_args() {
    let (r, _w) = rustix::pipe::pipe().unwrap();
    let (status, _fd) = sys::linux::channel_from_fd(r).unwrap_err();
    assert_eq!(status, Status::INVALID_ARGS);
}

//! [`hostile_peer`]: a peer process that writes anything into a shared
//! socket's memory, played in this process.
//!
//! A socket pair is moved into shared memory (one end goes through a
//! channel link over a `SOCK_SEQPACKET` pair, both ends of which are in
//! this process), and the harness maps the same segment a second time, as
//! a hostile process would. The fuzzer's bytes then interleave:
//!
//! - stores of arbitrary words at arbitrary offsets of the segment;
//! - the victim's calls on the shared socket: writes, reads, half-closes,
//!   waits with short deadlines, signal queries;
//! - writes and reads on a second socket pair that was never shared, whose
//!   bytes are checked against a model.
//!
//! What must hold: nothing panics or aborts; every call returns within its
//! deadline (locks the peer holds count as broken after a short patience,
//! set here to 5 ms); a read never returns more than asked; and the
//! unshared pair's bytes come out exactly as written, whatever the peer did
//! to the other socket's memory.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mx::core::abi::SOCKET_HALF_CLOSE;
use mx::sys;
use mx::{RawHandle, Signals, Status};
use mx_shm::segment::Segment;
use mx_shm::shared::SEGMENT_BYTES;

/// Reads the fuzzer's bytes.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |v, _| (v << 8) | u64::from(self.byte().unwrap_or(0)))
    }
}

/// A socket pair with one end moved through a link, so that it is in
/// shared memory: `(a, b)`.
fn shared_pair() -> Option<(RawHandle, RawHandle)> {
    let (x, y) = rustix::net::socketpair(
        rustix::net::AddressFamily::UNIX,
        rustix::net::SocketType::SEQPACKET,
        rustix::net::SocketFlags::CLOEXEC,
        None,
    )
    .ok()?;
    let x = sys::linux::channel_from_fd(x).ok()?;
    let y = sys::linux::channel_from_fd(y).ok()?;
    let (a, b) = sys::socket_create(0).ok()?;
    sys::channel_write(x, 0, &[][..], &[b][..]).ok()?;
    sys::object_wait_one(
        y,
        Signals::CHANNEL_READABLE,
        sys::deadline_after(5_000_000_000),
    )
    .ok()?;
    let mut handles = [0; 1];
    sys::channel_read(y, 0, &mut [0u8; 0][..], &mut handles[..]).ok()?;
    let _ = sys::handle_close(x);
    let _ = sys::handle_close(y);
    Some((a, handles[0]))
}

/// Runs one case.
pub fn hostile_peer(data: &[u8]) {
    mx_shm::shared::set_lock_patience(Duration::from_millis(5));
    let Some((a, b)) = shared_pair() else {
        return;
    };
    let Ok(fd) = sys::ext::socket_segment(a) else {
        panic!("the pair did not move into shared memory");
    };
    let Ok(peer) = Segment::attach(fd, SEGMENT_BYTES) else {
        panic!("the segment cannot be mapped again");
    };
    let (c, d) = sys::socket_create(0).expect("a private pair");
    let mut expected: VecDeque<u8> = VecDeque::new();
    let mut next = 0u8;
    let mut input = Bytes(data);
    let mut buf = vec![0u8; 4096];
    while let Some(op) = input.byte() {
        let arg = input.u64();
        let end = if arg & 1 == 0 { a } else { b };
        let started = Instant::now();
        match op % 10 {
            0 => {
                let offset = (arg as usize % SEGMENT_BYTES) & !3;
                peer.u32_at(offset)
                    .store((arg >> 32) as u32, core::sync::atomic::Ordering::Relaxed);
            }
            1 => {
                let offset = (arg as usize % SEGMENT_BYTES) & !7;
                peer.u64_at(offset)
                    .store(arg.rotate_left(17), core::sync::atomic::Ordering::Relaxed);
            }
            2 => {
                // Focus on the header pages, where every control word is.
                let offset = (arg as usize % 8192) & !3;
                peer.u32_at(offset)
                    .store((arg >> 40) as u32, core::sync::atomic::Ordering::Relaxed);
            }
            3 => {
                let n = (arg >> 8) as usize % buf.len();
                let _ = sys::socket_write(end, 0, &buf[..n]);
            }
            4 => {
                let n = (arg >> 8) as usize % buf.len();
                if let Ok(got) = sys::socket_read(end, 0, Some(&mut buf[..n])) {
                    assert!(got <= n, "a read returned more than asked");
                }
            }
            5 => {
                let _ = sys::object_wait_one(
                    end,
                    Signals::SOCKET_READABLE | Signals::SOCKET_PEER_CLOSED,
                    sys::deadline_after(1_000_000),
                );
            }
            6 => {
                let _ = sys::object_wait_one(end, Signals::NONE, mx::Time::ZERO);
                let _ = sys::socket_read(end, 0, None::<&mut [u8]>);
            }
            7 => {
                let _ = sys::socket_write(end, SOCKET_HALF_CLOSE, &[][..]);
            }
            8 => {
                let n = 1 + (arg >> 8) as usize % 512;
                let chunk: Vec<u8> = (0..n).map(|i| next.wrapping_add(i as u8)).collect();
                if let Ok(written) = sys::socket_write(c, 0, &chunk[..]) {
                    expected.extend(&chunk[..written]);
                    next = next.wrapping_add(written as u8);
                }
            }
            _ => {
                let n = 1 + (arg >> 8) as usize % (buf.len() - 1);
                match sys::socket_read(d, 0, Some(&mut buf[..n])) {
                    Ok(got) => {
                        for &byte in &buf[..got] {
                            assert_eq!(
                                Some(byte),
                                expected.pop_front(),
                                "a private socket lost bytes"
                            );
                        }
                    }
                    Err(Status::SHOULD_WAIT) if expected.is_empty() => {}
                    Err(status) => panic!("the private socket failed: {status}"),
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a call took {:?} (op {})",
            started.elapsed(),
            op % 10
        );
    }
    // The private pair still holds exactly what the model says.
    while !expected.is_empty() {
        let got = sys::socket_read(d, 0, Some(&mut buf[..])).expect("the private socket's bytes");
        for &byte in &buf[..got] {
            assert_eq!(Some(byte), expected.pop_front());
        }
    }
    for handle in [a, b, c, d] {
        let _ = sys::handle_close(handle);
    }
}

#[cfg(test)]
mod tests {
    fn open_fds() -> usize {
        std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
    }

    #[test]
    fn generated_cases_hold_and_leak_nothing() {
        // The first cases start the process's poller and its descriptors.
        for seed in 0..8 {
            super::hostile_peer(&crate::generated(seed, 600));
        }
        let (fds, objects) = (open_fds(), mx::sys::ext::live_objects());
        for seed in 8..72 {
            super::hostile_peer(&crate::generated(seed, 600));
        }
        assert_eq!(open_fds(), fds, "descriptors leaked");
        assert_eq!(mx::sys::ext::live_objects(), objects, "objects leaked");
    }
}

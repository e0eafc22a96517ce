//! 1-byte round trips, threads pinned to CPUs 0 and `argv[1]` (quick check).
use mx::api::{Socket, SocketOpts};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;
fn pin(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).unwrap();
}
fn main() {
    let other: usize = std::env::args().nth(1).map_or(1, |s| s.parse().unwrap());
    let rounds = 20_000;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let w = std::thread::spawn(move || {
        pin(other);
        let mut x = [0u8; 1];
        for _ in 0..rounds {
            b.recv(&mut x).unwrap();
            b.send(&x).unwrap();
        }
    });
    pin(0);
    let mut x = [1u8; 1];
    let t = Instant::now();
    for _ in 0..rounds {
        a.send(&x).unwrap();
        a.recv(&mut x).unwrap();
    }
    let mx = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    w.join().unwrap();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let w = std::thread::spawn(move || {
        pin(other);
        let mut x = [0u8; 1];
        for _ in 0..rounds {
            b.read_exact(&mut x).unwrap();
            b.write_all(&x).unwrap();
        }
    });
    let t = Instant::now();
    for _ in 0..rounds {
        a.write_all(&x).unwrap();
        a.read_exact(&mut x).unwrap();
    }
    let sp = t.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    w.join().unwrap();
    println!(
        "pingpong cpu0-cpu{other}: mx {mx:.2} us, socketpair {sp:.2} us, ratio {:.2}",
        mx / sp
    );
}

//! Datagram rate, pinned threads (quick check).
use mx::api::{Socket, SocketOpts};
use std::time::Instant;
fn pin(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).unwrap();
}
fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .map_or(3_000_000, |s| s.parse().unwrap());
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let t = Instant::now();
    let w = std::thread::spawn(move || {
        pin(1);
        let mut m = [0u8; 64];
        for i in 0..n {
            m[..8].copy_from_slice(&i.to_le_bytes());
            a.send(&m).unwrap();
        }
    });
    pin(0);
    let mut m = [0u8; 64];
    for i in 0..n {
        let k = b.recv(&mut m).unwrap();
        assert_eq!(k, 64);
        assert_eq!(u64::from_le_bytes(m[..8].try_into().unwrap()), i);
    }
    w.join().unwrap();
    println!(
        "datagram: {:.2} M msg/s",
        n as f64 / t.elapsed().as_secs_f64() / 1e6
    );
}

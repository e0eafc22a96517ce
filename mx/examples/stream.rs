//! Stream throughput, 64 KiB writes, pinned threads (quick check).
use mx::api::{Socket, SocketOpts};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;
fn pin(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).unwrap();
}
fn run<S: Read + Write + Send + 'static>(a: S, mut b: S, total: usize) -> f64 {
    let t = Instant::now();
    let w = std::thread::spawn(move || {
        pin(1);
        let buf = vec![7u8; 65536];
        let mut a = a;
        let mut sent = 0;
        while sent < total {
            a.write_all(&buf).unwrap();
            sent += buf.len();
        }
        a
    });
    pin(0);
    let mut buf = vec![0u8; 65536];
    let expect = vec![7u8; 65536];
    let mut got = 0;
    while got < total {
        let n = b.read(&mut buf).unwrap();
        assert!(buf[..n] == expect[..n]);
        got += n;
    }
    let _a = w.join().unwrap();
    total as f64 / t.elapsed().as_secs_f64() / 1e9
}
fn main() {
    let total = 2usize << 30;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let mx = run(a, b, total);
    let (a, b) = UnixStream::pair().unwrap();
    let sp = run(a, b, total);
    println!(
        "stream: mx {mx:.2} GB/s, socketpair {sp:.2} GB/s, ratio {:.2}",
        mx / sp
    );
}

//! Quick performance sanity check (not the benchmark).
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use mx::api::{Socket, SocketOpts};

fn main() {
    let total = 1usize << 30;
    // Magenta stream.
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let t = Instant::now();
    let w = std::thread::spawn(move || {
        let buf = vec![7u8; 65536];
        let mut a = a;
        let mut sent = 0;
        while sent < total {
            a.write_all(&buf).unwrap();
            sent += buf.len();
        }
    });
    let mut b = b;
    let mut buf = vec![0u8; 65536];
    let mut got = 0;
    while got < total {
        got += Read::read(&mut b, &mut buf).unwrap();
    }
    w.join().unwrap();
    let mx = total as f64 / t.elapsed().as_secs_f64() / 1e9;
    // socketpair
    let (a, b) = UnixStream::pair().unwrap();
    let t = Instant::now();
    let w = std::thread::spawn(move || {
        let buf = vec![7u8; 65536];
        let mut a = a;
        let mut sent = 0;
        while sent < total {
            a.write_all(&buf).unwrap();
            sent += buf.len();
        }
    });
    let mut b = b;
    let mut got = 0;
    while got < total {
        got += Read::read(&mut b, &mut buf).unwrap();
    }
    w.join().unwrap();
    let sp = total as f64 / t.elapsed().as_secs_f64() / 1e9;
    println!(
        "stream: mx {mx:.2} GB/s, socketpair {sp:.2} GB/s, ratio {:.2}",
        mx / sp
    );

    // datagrams 64 B
    let n = 2_000_000u64;
    let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
    let t = Instant::now();
    let w = std::thread::spawn(move || {
        let mut m = [0u8; 64];
        for i in 0..n {
            m[..8].copy_from_slice(&i.to_le_bytes());
            a.send(&m).unwrap();
        }
    });
    let mut m = [0u8; 64];
    for i in 0..n {
        let k = b.recv(&mut m).unwrap();
        assert_eq!(k, 64);
        assert_eq!(u64::from_le_bytes(m[..8].try_into().unwrap()), i);
    }
    w.join().unwrap();
    let mxr = n as f64 / t.elapsed().as_secs_f64() / 1e6;
    println!("datagram: mx {mxr:.2} M msg/s");

    // ping-pong
    let rounds = 20000;
    let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
    let w = std::thread::spawn(move || {
        let mut x = [0u8; 1];
        for _ in 0..rounds {
            b.recv(&mut x).unwrap();
            b.send(&x).unwrap();
        }
    });
    let t = Instant::now();
    let mut x = [1u8; 1];
    for _ in 0..rounds {
        a.send(&x).unwrap();
        a.recv(&mut x).unwrap();
    }
    w.join().unwrap();
    println!(
        "pingpong: mx {:.2} us/rt",
        t.elapsed().as_secs_f64() * 1e6 / rounds as f64
    );
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let w = std::thread::spawn(move || {
        let mut x = [0u8; 1];
        for _ in 0..rounds {
            b.read_exact(&mut x).unwrap();
            b.write_all(&x).unwrap();
        }
    });
    let t = Instant::now();
    let mut x = [1u8; 1];
    for _ in 0..rounds {
        a.write_all(&x).unwrap();
        a.read_exact(&mut x).unwrap();
    }
    w.join().unwrap();
    println!(
        "pingpong: socketpair {:.2} us/rt",
        t.elapsed().as_secs_f64() * 1e6 / rounds as f64
    );
}

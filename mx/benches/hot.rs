//! Criterion benchmarks of `mx`'s hot paths, so that regressions show.
//!
//! - `write_read`: a small write and the read that takes it back, on one
//!   thread (stream and datagram, 64 bytes): the data path with no waiting.
//! - `lookup`: a handle lookup and nothing else worth measuring:
//!   `get_info` (`MX_INFO_HANDLE_BASIC`), and a wait with deadline 0 that
//!   fails with `TIMED_OUT`.
//! - `signal`: `object_signal` on a socket nobody waits on (set then clear
//!   a user signal, two calls per iteration).
//! - `wait_wake`: a round trip between two threads: one signals its
//!   eventpair's peer and waits to be signalled back; and the same through
//!   a socket, one byte each way.
//!
//! Run with `cargo bench -p mx --bench hot`; `cargo test --benches` runs
//! each once as a smoke test.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use mx::api::{AsHandleRef, EventPair, Peered, Socket, SocketOpts};
use mx::{Signals, Status, Time};

fn write_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("write_read");
    group.throughput(Throughput::Bytes(64));
    for (name, opts) in [
        ("stream_64B", SocketOpts::Stream),
        ("datagram_64B", SocketOpts::Datagram),
    ] {
        let (a, b) = Socket::create(opts).expect("socket_create");
        let message = [7u8; 64];
        let mut buf = [0u8; 64];
        group.bench_function(name, |bench| {
            bench.iter(|| {
                a.try_write(black_box(&message)).expect("write");
                let n = b.try_read(black_box(&mut buf)).expect("read");
                debug_assert_eq!(n, 64);
            });
        });
    }
    group.finish();
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    let (a, _b) = Socket::create(SocketOpts::Stream).expect("socket_create");
    group.bench_function("get_info", |bench| {
        bench.iter(|| black_box(a.basic_info().expect("get_info")));
    });
    group.bench_function("wait_deadline_0", |bench| {
        bench.iter(|| {
            // Nothing to read: the wait reports TIMED_OUT at once.
            let result = a.wait_handle(black_box(Signals::READABLE), Time(0));
            debug_assert_eq!(result, Err(Status::TIMED_OUT));
            black_box(result)
        });
    });
    group.finish();
}

fn signal(c: &mut Criterion) {
    let mut group = c.benchmark_group("signal");
    let (a, _b) = Socket::create(SocketOpts::Stream).expect("socket_create");
    group.bench_function("set_clear_no_waiters", |bench| {
        bench.iter(|| {
            a.signal_handle(Signals::NONE, black_box(Signals::USER_0))
                .expect("signal");
            a.signal_handle(black_box(Signals::USER_0), Signals::NONE)
                .expect("signal");
        });
    });
    group.finish();
}

/// Times `iters` round trips: `ping` on this thread against `pong` on a
/// helper thread, which serves until told to stop (and is unblocked by
/// `release` then).
fn round_trips(
    iters: u64,
    mut ping: impl FnMut(),
    pong: impl FnMut() -> bool + Send,
    release: impl FnOnce(),
    stop: &AtomicBool,
) -> Duration {
    stop.store(false, Ordering::SeqCst);
    std::thread::scope(|scope| {
        let mut pong = pong;
        let helper = scope.spawn(move || while !stop.load(Ordering::Relaxed) && pong() {});
        let began = Instant::now();
        for _ in 0..iters {
            ping();
        }
        let took = began.elapsed();
        stop.store(true, Ordering::SeqCst);
        release();
        helper.join().expect("helper thread");
        took
    })
}

fn wait_wake(c: &mut Criterion) {
    let mut group = c.benchmark_group("wait_wake");
    let stop = AtomicBool::new(false);

    let (a, b) = EventPair::create().expect("eventpair_create");
    group.bench_function("eventpair_round_trip", |bench| {
        bench.iter_custom(|iters| {
            round_trips(
                iters,
                || {
                    a.signal_handle(Signals::USER_0, Signals::NONE)
                        .expect("clear");
                    a.signal_peer(Signals::NONE, Signals::USER_0)
                        .expect("signal peer");
                    a.wait_handle(Signals::USER_0, Time::INFINITE)
                        .expect("wait");
                },
                || {
                    if b.wait_handle(Signals::USER_0, Time::INFINITE).is_err() {
                        return false;
                    }
                    b.signal_handle(Signals::USER_0, Signals::NONE)
                        .expect("clear");
                    b.signal_peer(Signals::NONE, Signals::USER_0).is_ok()
                },
                || {
                    let _ = a.signal_peer(Signals::NONE, Signals::USER_0);
                },
                &stop,
            )
        });
    });

    let (x, y) = Socket::create(SocketOpts::Stream).expect("socket_create");
    group.bench_function("socket_1_byte_round_trip", |bench| {
        bench.iter_custom(|iters| {
            let took = round_trips(
                iters,
                || {
                    let mut byte = [1u8];
                    x.send(&byte).expect("send");
                    x.recv(&mut byte).expect("recv");
                },
                || {
                    let mut byte = [0u8];
                    y.recv(&mut byte).is_ok() && y.send(&byte).is_ok()
                },
                || {
                    let _ = x.send(&[0u8]);
                },
                &stop,
            );
            // Take back the byte that released the helper.
            let mut byte = [0u8];
            while x.try_read(&mut byte).is_ok() {}
            took
        });
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

fn main() {
    let mut criterion = config().configure_from_args();
    write_read(&mut criterion);
    lookup(&mut criterion);
    signal(&mut criterion);
    wait_wake(&mut criterion);
    criterion.final_summary();
}

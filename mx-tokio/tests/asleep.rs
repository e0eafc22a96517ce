//! Every waiting path of `mx-tokio` sleeps while it waits, on both tokio
//! runtimes, in every state that makes it wait, and completes once the
//! other side acts.
//!
//! Each scenario runs twice: on a `current_thread` runtime (where a task
//! that never yields would also starve the rest, so the test would never
//! finish: a watchdog turns that into a failure) and on a multi-thread one.
//! The waiting operation runs as a task; the test checks that the process
//! uses under a tenth of a CPU for half a second while it is pending, then
//! acts and checks the result.

#[path = "../../mx/tests/support/asleep.rs"]
mod support;

use std::future::Future;
use std::time::Duration;

use mx::api::{AsHandleRef, Channel, HandleBased, MessageBuf, Peered, Socket, SocketOpts};
use mx::{Rights, Signals, Status};
use mx_tokio::{AsyncChannel, AsyncSocket, OnSignals};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CAP: usize = 257_024;

fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The `Status` inside an `io::Error` made from one.
fn status_of(e: &std::io::Error) -> Option<Status> {
    e.get_ref()?.downcast_ref::<Status>().copied()
}

/// Runs `scenario` on a `current_thread` runtime, then on a multi-thread
/// one, each under a watchdog: a scenario that hangs (a task spinning
/// without yielding starves a `current_thread` runtime) fails the test
/// binary after a minute instead of hanging it.
fn on_both_runtimes<F, Fut>(name: &str, scenario: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let _serial = support::serial();
    for multi in [false, true] {
        let mut builder = if multi {
            tokio::runtime::Builder::new_multi_thread()
        } else {
            tokio::runtime::Builder::new_current_thread()
        };
        let runtime = builder.enable_all().build().unwrap();
        let (disarm, disarmed) = std::sync::mpsc::channel::<()>();
        let label = format!("{name} (multi-thread: {multi})");
        let watchdog = {
            let label = label.clone();
            std::thread::spawn(move || {
                if disarmed.recv_timeout(Duration::from_secs(60)).is_err() {
                    eprintln!("{label}: still running after 60 s; a task spins");
                    std::process::exit(101);
                }
            })
        };
        runtime.block_on(scenario());
        drop(runtime);
        let _ = disarm.send(());
        watchdog.join().unwrap();
    }
}

/// Spawns `wait` as a task; once it has had time to block, checks that it
/// is pending and that the process stays idle for a window; then awaits
/// `act` and returns what the task returned.
async fn sleeps_until<T: Send + 'static>(
    what: &str,
    wait: impl Future<Output = T> + Send + 'static,
    act: impl Future<Output = ()>,
) -> T {
    let task = tokio::spawn(wait);
    tokio::time::sleep(support::SETTLE).await;
    assert!(
        !task.is_finished(),
        "{what}: finished before the other side acted"
    );
    let before = support::process_cpu();
    tokio::time::sleep(support::WINDOW).await;
    let used = support::process_cpu() - before;
    assert!(
        used < support::BUDGET,
        "{what}: the process used {used:?} of CPU in {:?} while the task waited: \
         something spins",
        support::WINDOW
    );
    assert!(
        !task.is_finished(),
        "{what}: finished before the other side acted"
    );
    act.await;
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .unwrap_or_else(|_| panic!("{what}: still pending 20 s after the other side acted"))
        .expect("the task panicked")
}

/// Fills `a`'s outbox with `pattern(CAP, seed)`.
fn fill_stream(a: &Socket, seed: u8) -> Vec<u8> {
    let data = pattern(CAP, seed);
    assert_eq!(a.try_write(&data), Ok(CAP));
    data
}

/// Reads exactly `n` bytes through a blocking-free async read.
async fn read_n(b: &mut AsyncSocket, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    b.read_exact(&mut out).await.unwrap();
    out
}

// ---------------------------------------------------------------------------
// AsyncWrite and send

#[test]
fn async_writer_sleeps_while_the_peer_is_slow_or_half_closed() {
    on_both_runtimes("AsyncWrite, full buffer", || async {
        for half_closed_peer in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
            if half_closed_peer {
                b.half_close().unwrap();
            }
            let first = fill_stream(&a, 1);
            let mut b = AsyncSocket::new(b);
            let more = pattern(80_000, 2);
            let expected = more.clone();
            let (a, result) = sleeps_until(
                &format!("AsyncWrite, full buffer, peer half-closed: {half_closed_peer}"),
                async move {
                    let mut a = AsyncSocket::new(a);
                    let r = a.write_all(&more).await.map_err(|e| status_of(&e));
                    (a, r)
                },
                async { assert_eq!(read_n(&mut b, CAP).await, first) },
            )
            .await;
            assert_eq!(result, Ok(()));
            assert_eq!(read_n(&mut b, expected.len()).await, expected);
            drop(a);
        }
    });
}

#[test]
fn async_writer_wakes_when_its_end_is_half_closed_elsewhere_or_the_peer_closes() {
    on_both_runtimes("AsyncWrite, then a write would fail", || async {
        for peer_closes in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
            let other = a.duplicate_handle(Rights::SAME_RIGHTS).unwrap();
            fill_stream(&a, 3);
            let mut b = Some(b);
            let (_a, result) = sleeps_until(
                &format!("AsyncWrite, full buffer, then peer closes: {peer_closes}"),
                async move {
                    let mut a = AsyncSocket::new(a);
                    let r = a.write_all(b"more").await;
                    (a, r.map_err(|e| (e.kind(), status_of(&e))))
                },
                async {
                    if peer_closes {
                        drop(b.take());
                    } else {
                        other.half_close().unwrap();
                    }
                },
            )
            .await;
            let expected = if peer_closes {
                Status::PEER_CLOSED
            } else {
                Status::BAD_STATE
            };
            assert_eq!(
                result,
                Err((std::io::ErrorKind::BrokenPipe, Some(expected)))
            );
        }
    });
}

#[test]
fn async_writer_wakes_when_another_thread_closes_its_handle() {
    on_both_runtimes("AsyncWrite, then its handle is closed", || async {
        let (a, _b) = Socket::create(SocketOpts::Stream).unwrap();
        fill_stream(&a, 4);
        let raw = a.raw_handle();
        let (a, result) = sleeps_until(
            "AsyncWrite, full buffer, then its handle is closed",
            async move {
                let a = AsyncSocket::new(a);
                let r = a.send(b"more").await;
                (a, r)
            },
            async move {
                std::thread::spawn(move || mx::sys::handle_close(raw).unwrap())
                    .join()
                    .unwrap()
            },
        )
        .await;
        assert_eq!(result, Err(Status::CANCELED));
        let _ = a.into_inner().into_handle().into_raw();
    });
}

#[test]
fn async_datagram_sender_sleeps_while_its_datagram_does_not_fit() {
    on_both_runtimes("send, no room, WRITABLE asserted", || async {
        for half_closed_peer in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
            if half_closed_peer {
                b.half_close().unwrap();
            }
            let chunk = vec![7u8; 1000];
            let mut queued = 0;
            while CAP - queued >= 1010 {
                a.try_write(&chunk).unwrap();
                queued += 1000;
            }
            a.try_write(&chunk[..CAP - queued - 10]).unwrap();
            assert!(a
                .wait_handle(Signals::WRITABLE, mx::Time::ZERO)
                .is_ok_and(|s| s.contains(Signals::WRITABLE)));
            let datagram = pattern(100, 5);
            let expected = datagram.clone();
            let b = AsyncSocket::new(b);
            let (_a, result) = sleeps_until(
                &format!("send, no room, peer half-closed: {half_closed_peer}"),
                async move {
                    let a = AsyncSocket::new(a);
                    let r = a.send(&datagram).await;
                    (a, r)
                },
                async {
                    let mut buf = [0u8; 1000];
                    assert_eq!(b.recv(&mut buf).await, Ok(1000));
                },
            )
            .await;
            assert_eq!(result, Ok(()));
            let mut buf = [0u8; 2000];
            let mut last = Vec::new();
            while let Ok(n) = b.get_ref().try_read(&mut buf) {
                last = buf[..n].to_vec();
            }
            assert_eq!(last, expected);
        }
    });
}

// ---------------------------------------------------------------------------
// AsyncRead and recv

#[test]
fn async_reader_sleeps_until_data_arrives() {
    on_both_runtimes("AsyncRead and recv, empty", || async {
        for (own_half_closed, datagram) in [(false, false), (true, false), (false, true)] {
            let mode = if datagram {
                SocketOpts::Datagram
            } else {
                SocketOpts::Stream
            };
            let (a, b) = Socket::create(mode).unwrap();
            if own_half_closed {
                // b cannot write any more, but it can read: a read waits.
                b.duplicate_handle(Rights::SAME_RIGHTS)
                    .unwrap()
                    .half_close()
                    .unwrap();
            }
            let (_b, got) = sleeps_until(
                &format!("read, empty, own end half-closed: {own_half_closed}, {mode:?}"),
                async move {
                    let mut b = AsyncSocket::new(b);
                    let mut buf = [0u8; 64];
                    let n = if datagram {
                        b.recv(&mut buf).await.unwrap()
                    } else {
                        b.read(&mut buf).await.unwrap()
                    };
                    (b, buf[..n].to_vec())
                },
                async {
                    a.try_write(b"late").unwrap();
                },
            )
            .await;
            assert_eq!(got, b"late");
        }
    });
}

#[test]
fn async_reader_wakes_with_end_of_file_or_canceled() {
    on_both_runtimes("AsyncRead, then EOF or close", || async {
        for close_handle in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
            let raw = b.raw_handle();
            let (b, got) = sleeps_until(
                &format!("AsyncRead, empty, then handle closed: {close_handle}"),
                async move {
                    let mut b = AsyncSocket::new(b);
                    let mut buf = [0u8; 64];
                    let r = b.read(&mut buf).await.map_err(|e| status_of(&e));
                    (b, r)
                },
                async {
                    if close_handle {
                        mx::sys::handle_close(raw).unwrap();
                    } else {
                        a.half_close().unwrap();
                    }
                },
            )
            .await;
            if close_handle {
                assert_eq!(got, Err(Some(Status::CANCELED)));
                let _ = b.into_inner().into_handle().into_raw();
            } else {
                assert_eq!(got, Ok(0), "end of file");
            }
        }
    });
}

// ---------------------------------------------------------------------------
// Readiness: readable, writable, and the halves

#[test]
fn readable_sleeps_until_data_arrives() {
    on_both_runtimes("readable", || async {
        for half in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
            let (_b, result) = sleeps_until(
                &format!("readable, empty, through a split half: {half}"),
                async move {
                    let b = AsyncSocket::new(b);
                    if half {
                        let (rx, tx) = b.into_split();
                        let r = rx.readable().await;
                        tx.forget();
                        (None, r)
                    } else {
                        let r = b.readable().await;
                        (Some(b), r)
                    }
                },
                async {
                    a.try_write(b"late").unwrap();
                },
            )
            .await;
            assert_eq!(result, Ok(()));
        }
    });
}

#[test]
fn writable_sleeps_while_full_even_when_the_peer_half_closed() {
    on_both_runtimes("writable", || async {
        for half_closed_peer in [false, true] {
            let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
            if half_closed_peer {
                // PEER_CLOSED is asserted on a, which can still write.
                b.half_close().unwrap();
            }
            let first = fill_stream(&a, 7);
            let mut b = AsyncSocket::new(b);
            let (a, result) = sleeps_until(
                &format!("writable, full, peer half-closed: {half_closed_peer}"),
                async move {
                    let (rx, tx) = AsyncSocket::new(a).into_split();
                    let r = tx.writable().await;
                    (rx.reunite(tx).unwrap(), r)
                },
                async { assert_eq!(read_n(&mut b, 100).await, first[..100]) },
            )
            .await;
            assert_eq!(result, Ok(()));
            assert_eq!(a.try_write(&[0u8; 200]), Ok(100));
        }
    });
}

// ---------------------------------------------------------------------------
// OnSignals

#[test]
fn on_signals_sleeps_while_an_unwatched_signal_is_asserted() {
    on_both_runtimes("OnSignals", || async {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        a.half_close().unwrap();
        let seen = sleeps_until(
            "OnSignals for USER_0 while PEER_CLOSED is asserted",
            async move { OnSignals::new(&b, Signals::USER_0).await },
            async { a.signal_peer(Signals::NONE, Signals::USER_0).unwrap() },
        )
        .await;
        assert!(seen
            .unwrap()
            .contains(Signals::USER_0 | Signals::PEER_CLOSED));
    });
}

// ---------------------------------------------------------------------------
// Request, half-close, large response

const RESPONSE: usize = 1 << 20;

#[test]
fn request_half_close_response_over_async_read_and_write() {
    on_both_runtimes("HTTP-style exchange, stream", || async {
        let (client, server) = Socket::create(SocketOpts::Stream).unwrap();
        let server = tokio::spawn(async move {
            let mut server = AsyncSocket::new(server);
            let mut request = Vec::new();
            server.read_to_end(&mut request).await.unwrap();
            assert_eq!(request, b"GET / HTTP/1.0\r\n\r\n");
            server.write_all(&pattern(RESPONSE, 42)).await.unwrap();
            server.shutdown().await.unwrap();
        });
        let mut client = AsyncSocket::new(client);
        client.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        client.shutdown().await.unwrap();
        // The server now blocks writing until the client reads.
        tokio::time::sleep(support::SETTLE).await;
        let before = support::process_cpu();
        tokio::time::sleep(support::WINDOW).await;
        let used = support::process_cpu() - before;
        assert!(used < support::BUDGET, "server spun: {used:?}");
        let mut response = Vec::new();
        client.read_to_end(&mut response).await.unwrap();
        server.await.unwrap();
        assert_eq!(response, pattern(RESPONSE, 42));
    });
}

#[test]
fn request_half_close_response_over_send_and_recv() {
    on_both_runtimes("HTTP-style exchange, datagrams", || async {
        let (client, server) = Socket::create(SocketOpts::Datagram).unwrap();
        let server = tokio::spawn(async move {
            let server = AsyncSocket::new(server);
            let mut buf = [0u8; 100];
            let n = server.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"GET / HTTP/1.0\r\n\r\n");
            assert_eq!(server.recv(&mut buf).await, Err(Status::PEER_CLOSED));
            for chunk in pattern(RESPONSE, 42).chunks(60_000) {
                server.send(chunk).await.unwrap();
            }
            server.get_ref().half_close().unwrap();
        });
        let client = AsyncSocket::new(client);
        client.send(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
        client.get_ref().half_close().unwrap();
        tokio::time::sleep(support::SETTLE).await;
        let before = support::process_cpu();
        tokio::time::sleep(support::WINDOW).await;
        let used = support::process_cpu() - before;
        assert!(used < support::BUDGET, "server spun: {used:?}");
        let mut response = Vec::new();
        let mut buf = vec![0u8; 65_536];
        loop {
            match client.recv(&mut buf).await {
                Ok(n) => response.extend_from_slice(&buf[..n]),
                Err(Status::PEER_CLOSED) => break,
                Err(status) => panic!("{status}"),
            }
        }
        server.await.unwrap();
        assert_eq!(response, pattern(RESPONSE, 42));
    });
}

// ---------------------------------------------------------------------------
// Channels: recv_msg and call

#[test]
fn async_channel_recv_msg_sleeps_until_a_message_arrives() {
    on_both_runtimes("AsyncChannel::recv_msg", || async {
        let (a, b) = Channel::create().unwrap();
        let (_b, got) = sleeps_until(
            "recv_msg, empty queue",
            async move {
                let b = AsyncChannel::new(b);
                let mut buf = MessageBuf::new();
                let r = b.recv_msg(&mut buf).await;
                (b, r.map(|()| buf.bytes().to_vec()))
            },
            async { a.write(b"late", &mut Vec::new()).unwrap() },
        )
        .await;
        assert_eq!(got, Ok(b"late".to_vec()));
    });
}

#[test]
fn async_channel_call_sleeps_until_its_reply_or_the_peer_closes() {
    on_both_runtimes("AsyncChannel::call", || async {
        for peer_closes in [false, true] {
            let (a, b) = Channel::create().unwrap();
            let mut b = Some(b);
            let (_a, got) = sleeps_until(
                &format!("call, then peer closes: {peer_closes}"),
                async move {
                    let a = AsyncChannel::new(a);
                    let mut reply = MessageBuf::with_max_capacity().unwrap();
                    let r = a.call(&[5, 0, 0, 0, 1], &mut Vec::new(), &mut reply).await;
                    (a, r.map(|()| reply.bytes().to_vec()))
                },
                async {
                    let b = b.take().unwrap();
                    if !peer_closes {
                        let mut request = MessageBuf::new();
                        b.try_read(&mut request).unwrap();
                        b.write(&[5, 0, 0, 0, 2], &mut Vec::new()).unwrap();
                    }
                },
            )
            .await;
            if peer_closes {
                let error = got.unwrap_err();
                assert_eq!(error.read_status, Some(Status::PEER_CLOSED));
            } else {
                assert_eq!(got, Ok(vec![5, 0, 0, 0, 2]));
            }
        }
    });
}

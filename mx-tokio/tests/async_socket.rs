//! The tokio adapter, every scenario on both runtimes: `current_thread`
//! (where a task that never yields starves the others) and multi-thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mx::api::{AsHandleRef, Channel, Event, HandleBased, MessageBuf, Socket, SocketOpts};
use mx::{Signals, Status, Time, TimeExt};
use mx_tokio::{with_deadline, AsyncChannel, AsyncSocket, OnSignals};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Defines a module `$name` whose scenario runs as two tests: on a
/// `current_thread` runtime and on a multi-thread one.
macro_rules! on_both_runtimes {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario() $body

            #[tokio::test(flavor = "current_thread")]
            async fn current_thread() {
                scenario().await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn multi_thread() {
                scenario().await
            }
        }
    };
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed)
                .to_le_bytes()[1]
        })
        .collect()
}

on_both_runtimes! {
    async fn a_thousand_pairs_echo_byte_exact() {
        let mut clients = Vec::new();
        for i in 0..1000u32 {
            let (client, server) = Socket::create(SocketOpts::Stream).unwrap();
            let mut server = AsyncSocket::new(server);
            // The echo side: copies until end of file, then half-closes.
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = server.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    server.write_all(&buf[..n]).await.unwrap();
                }
                server.shutdown().await.unwrap();
            });
            clients.push(tokio::spawn(async move {
                let data = pattern(i, 20_000 + i as usize * 7);
                let client = AsyncSocket::new(client);
                let (mut reader, mut writer) = client.into_split();
                let sent = data.clone();
                let writing = tokio::spawn(async move {
                    for piece in sent.chunks(3000) {
                        writer.write_all(piece).await.unwrap();
                    }
                    writer.shutdown().await.unwrap();
                });
                let mut echoed = Vec::new();
                reader.read_to_end(&mut echoed).await.unwrap();
                writing.await.unwrap();
                assert!(echoed == data, "pair {i}: echo differs");
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
    }
}

on_both_runtimes! {
    async fn datagram_fan_in_from_64_tasks() {
        const TASKS: u32 = 64;
        const EACH: u32 = 500;
        let (tx, rx) = Socket::create(SocketOpts::Datagram).unwrap();
        let rx = AsyncSocket::new(rx);
        let mut senders = Vec::new();
        for task in 0..TASKS {
            let tx = AsyncSocket::new(tx.duplicate_handle(mx::Rights::SAME_RIGHTS).unwrap());
            senders.push(tokio::spawn(async move {
                for seq in 0..EACH {
                    // Sizes vary so that datagrams do not always fit.
                    let mut msg = vec![0u8; 8 + (seq as usize * 37) % 3000];
                    msg[..4].copy_from_slice(&task.to_le_bytes());
                    msg[4..8].copy_from_slice(&seq.to_le_bytes());
                    tx.send(&msg).await.unwrap();
                }
            }));
        }
        drop(tx);
        let mut next = vec![0u32; TASKS as usize];
        let mut buf = vec![0u8; 4096];
        for _ in 0..TASKS * EACH {
            let n = rx.recv(&mut buf).await.unwrap();
            let task = u32::from_le_bytes(buf[..4].try_into().unwrap()) as usize;
            let seq = u32::from_le_bytes(buf[4..8].try_into().unwrap());
            assert_eq!(n, 8 + (seq as usize * 37) % 3000, "whole datagram");
            assert_eq!(seq, next[task], "in order per sender");
            next[task] += 1;
        }
        for sender in senders {
            sender.await.unwrap();
        }
        assert_eq!(rx.recv(&mut buf).await, Err(Status::PEER_CLOSED));
    }
}

on_both_runtimes! {
    async fn threads_and_tasks_wait_on_one_object_at_once() {
        let event = Arc::new(Event::create().unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let event = event.clone();
                std::thread::spawn(move || {
                    event.wait_handle(Signals::USER_0, Duration::from_secs(10))
                })
            })
            .collect();
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let event = event.clone();
                tokio::spawn(async move { OnSignals::new(&*event, Signals::USER_0).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        event.signal_handle(Signals::NONE, Signals::USER_0).unwrap();
        for thread in threads {
            assert!(thread.join().unwrap().unwrap().contains(Signals::USER_0));
        }
        for task in tasks {
            assert!(task.await.unwrap().unwrap().contains(Signals::USER_0));
        }
    }
}

on_both_runtimes! {
    async fn a_task_waits_for_peer_closed_without_reading() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        a.try_write(b"unread").unwrap();
        let watcher = tokio::spawn(async move {
            let signals = OnSignals::new(&a, Signals::PEER_CLOSED).await.unwrap();
            (signals, a)
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!watcher.is_finished());
        drop(b);
        let (signals, a) = watcher.await.unwrap();
        assert!(signals.contains(Signals::PEER_CLOSED));
        assert_eq!(
            a.outstanding_read_bytes(),
            Ok(0),
            "a never read anything; b's bytes were never sent to a"
        );
    }
}

on_both_runtimes! {
    async fn dropping_a_pending_read_loses_nothing() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let mut b = AsyncSocket::new(b);
        let mut buf = [0u8; 16];
        // A read that is pending, then dropped.
        let timed_out = tokio::time::timeout(Duration::from_millis(20), b.read(&mut buf)).await;
        assert!(timed_out.is_err());
        a.try_write(b"after").unwrap();
        let n = b.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"after");
    }
}

on_both_runtimes! {
    async fn a_busy_socket_does_not_starve_other_tasks() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let mut b = AsyncSocket::new(b);
        let flag = Arc::new(AtomicBool::new(false));
        let other = {
            let flag = flag.clone();
            tokio::spawn(async move { flag.store(true, Ordering::SeqCst) })
        };
        // `b` is always readable: refill after every read. Without cooperative
        // budgeting this loop would never yield on a current-thread runtime.
        let mut buf = [0u8; 1];
        let mut reads = 0;
        while !flag.load(Ordering::SeqCst) {
            a.try_write(b"x").unwrap();
            b.read_exact(&mut buf).await.unwrap();
            reads += 1;
            assert!(reads < 100_000, "the other task never ran");
        }
        other.await.unwrap();
    }
}

on_both_runtimes! {
    async fn write_to_a_closed_peer_is_broken_pipe_and_shutdown_half_closes() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let mut a = AsyncSocket::new(a);
        let mut b = AsyncSocket::new(b);
        a.write_all(b"bye").await.unwrap();
        a.shutdown().await.unwrap();
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"bye");
        assert_eq!(
            a.write_all(b"more").await.unwrap_err().kind(),
            std::io::ErrorKind::BrokenPipe
        );
        drop(b);
        assert_eq!(
            a.get_ref()
                .wait_handle(Signals::PEER_CLOSED, Time::ZERO)
                .unwrap(),
            Signals::PEER_CLOSED | Signals::LAST_HANDLE
        );
    }
}

on_both_runtimes! {
    async fn a_datagram_larger_than_capacity_is_out_of_range() {
        let (a, _b) = Socket::create(SocketOpts::Datagram).unwrap();
        let a = AsyncSocket::new(a);
        assert_eq!(a.send(&vec![0u8; 300_000]).await, Err(Status::OUT_OF_RANGE));
        a.send(&vec![0u8; 257_024]).await.unwrap();
    }
}

// ---------------------------------------------------------------------------
// split, into_split, try_clone

on_both_runtimes! {
    async fn borrowed_halves_copy_while_the_other_direction_flows() {
        let (client, server) = Socket::create(SocketOpts::Stream).unwrap();
        let mut server = AsyncSocket::new(server);
        let echo = tokio::spawn(async move {
            let (mut rx, mut tx) = server.split();
            let copied = tokio::io::copy(&mut rx, &mut tx).await.unwrap();
            tx.shutdown().await.unwrap();
            copied
        });
        let mut client = AsyncSocket::new(client);
        let data = pattern(9, 1_000_000);
        let (mut rx, mut tx) = client.split();
        let (wrote, echoed) = tokio::join!(
            async {
                tx.write_all(&data).await?;
                tx.shutdown().await
            },
            async {
                let mut echoed = Vec::new();
                rx.read_to_end(&mut echoed).await.map(|_| echoed)
            }
        );
        wrote.unwrap();
        assert!(echoed.unwrap() == data, "echo differs");
        assert_eq!(echo.await.unwrap(), data.len() as u64);
    }
}

on_both_runtimes! {
    async fn owned_halves_move_into_tasks_and_dropping_the_writer_half_closes() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let (mut rx, mut tx) = AsyncSocket::new(a).into_split();
        let data = pattern(3, 600_000);
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            tx.write_all(&sent).await.unwrap();
            // Dropped here: b reads end of file.
        });
        let mut b = AsyncSocket::new(b);
        let mut got = Vec::new();
        b.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert!(got == data);
        // The reading half still works: only the writing direction shut.
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 5];
            rx.read_exact(&mut buf).await.unwrap();
            (rx, buf)
        });
        b.write_all(b"reply").await.unwrap();
        let (rx, buf) = reader.await.unwrap();
        assert_eq!(&buf, b"reply");
        drop(rx);
        assert_eq!(
            b.get_ref().wait_handle(Signals::PEER_CLOSED, Time::ZERO).unwrap(),
            Signals::PEER_CLOSED | Signals::LAST_HANDLE
        );
    }
}

on_both_runtimes! {
    async fn owned_halves_reunite_or_are_handed_back() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let (c, _d) = Socket::create(SocketOpts::Stream).unwrap();
        let (a_rx, a_tx) = AsyncSocket::new(a).into_split();
        let (c_rx, c_tx) = AsyncSocket::new(c).into_split();
        let mx_tokio::ReuniteError(a_rx, c_tx) = a_rx.reunite(c_tx).unwrap_err();
        let mut a = a_rx.reunite(a_tx).unwrap();
        let _c = c_rx.reunite(c_tx).unwrap();
        // Reuniting did not half-close: a still writes.
        a.write_all(b"whole again").await.unwrap();
        let mut buf = [0u8; 11];
        let mut b = AsyncSocket::new(b);
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"whole again");
        // forget() drops a writing half without half-closing.
        let (_rx, tx) = a.into_split();
        tx.forget();
        assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT), "not end of file");
    }
}

on_both_runtimes! {
    async fn try_clone_gives_a_second_handle_with_its_own_registrations() {
        let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
        let a = AsyncSocket::new(a);
        let a2 = a.try_clone().unwrap();
        assert_ne!(a.get_ref().raw_handle(), a2.get_ref().raw_handle());
        assert_eq!(a.get_ref().koid(), a2.get_ref().koid());
        let (x, y) = tokio::join!(a.send(b"one"), async move { a2.send(b"two").await });
        x.unwrap();
        y.unwrap();
        let b = AsyncSocket::new(b);
        let mut got = Vec::new();
        let mut buf = [0u8; 8];
        for _ in 0..2 {
            let n = b.recv(&mut buf).await.unwrap();
            got.push(buf[..n].to_vec());
        }
        got.sort();
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
        // Without DUPLICATE, there is no clone.
        let r = b.get_ref().duplicate_handle(mx::Rights::READ).unwrap();
        assert_eq!(AsyncSocket::new(r).try_clone().unwrap_err(), Status::ACCESS_DENIED);
    }
}

// ---------------------------------------------------------------------------
// Readiness

on_both_runtimes! {
    async fn readable_waits_for_data_or_end_of_file() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let b = Arc::new(AsyncSocket::new(b));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.readable().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(waiters.iter().all(|w| !w.is_finished()));
        a.try_write(b"go").unwrap();
        for waiter in waiters {
            waiter.await.unwrap().unwrap();
        }
        let mut buf = [0u8; 4];
        assert_eq!(b.try_read(&mut buf), Ok(2));
        assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
        let eof = {
            let b = b.clone();
            tokio::spawn(async move { b.readable().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!eof.is_finished());
        a.half_close().unwrap();
        eof.await.unwrap().unwrap();
        assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
    }
}

on_both_runtimes! {
    async fn writable_waits_for_room_or_a_write_that_would_fail() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let a = Arc::new(AsyncSocket::new(a));
        a.writable().await.unwrap();
        assert_eq!(a.try_write(&pattern(0, 300_000)), Ok(257_024));
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move { a.writable().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "writable with a full buffer");
        assert_eq!(b.try_read(&mut [0u8; 10]), Ok(10));
        waiter.await.unwrap().unwrap();
        assert_eq!(a.try_write(&[1u8; 20]), Ok(10));
        // Full again; this end half-closed through another handle: a write
        // would fail now, so the writer is ready (and finds BAD_STATE).
        let other = a.get_ref().duplicate_handle(mx::Rights::SAME_RIGHTS).unwrap();
        let waiter = {
            let a = a.clone();
            tokio::spawn(async move { a.writable().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished());
        other.half_close().unwrap();
        waiter.await.unwrap().unwrap();
        assert_eq!(a.try_write(b"x"), Err(Status::BAD_STATE));
    }
}

on_both_runtimes! {
    async fn poll_ready_keeps_one_registration_in_the_socket() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let mut b = AsyncSocket::new(b);
        let mut a = AsyncSocket::new(a);
        std::future::poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
        let reader = tokio::spawn(async move {
            std::future::poll_fn(|cx| b.poll_read_ready(cx)).await.unwrap();
            let mut buf = [0u8; 8];
            let n = b.try_read(&mut buf).unwrap();
            (b, buf[..n].to_vec())
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!reader.is_finished());
        a.try_write(b"ready").unwrap();
        let (mut b, got) = reader.await.unwrap();
        assert_eq!(got, b"ready");
        // A half's readiness polls its own registration.
        let (mut rx, mut tx) = b.split();
        std::future::poll_fn(|cx| tx.poll_write_ready(cx)).await.unwrap();
        drop(a);
        std::future::poll_fn(|cx| rx.poll_read_ready(cx)).await.unwrap();
        assert_eq!(rx.try_read(&mut [0u8; 1]), Err(Status::PEER_CLOSED));
        assert_eq!(tx.try_write(b"x"), Err(Status::PEER_CLOSED));
    }
}

on_both_runtimes! {
    async fn readiness_of_a_closed_handle_is_canceled() {
        let (_a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let raw = b.raw_handle();
        let b = Arc::new(AsyncSocket::new(b));
        let waiter = {
            let b = b.clone();
            tokio::spawn(async move { b.readable().await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::thread::spawn(move || mx::sys::handle_close(raw).unwrap())
            .join()
            .unwrap();
        assert_eq!(waiter.await.unwrap(), Err(Status::CANCELED));
        let b = Arc::try_unwrap(b).unwrap();
        let _ = b.into_inner().into_handle().into_raw();
    }
}

on_both_runtimes! {
    async fn channel_readable_and_poll_read_ready() {
        let (a, b) = Channel::create().unwrap();
        let mut b = AsyncChannel::new(b);
        let mut buf = MessageBuf::new();
        assert_eq!(b.try_read(&mut buf), Err(Status::SHOULD_WAIT));
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            a.write(b"first", &mut Vec::new()).unwrap();
            a
        });
        b.readable().await.unwrap();
        b.try_read(&mut buf).unwrap();
        assert_eq!(buf.bytes(), b"first");
        let a = writer.await.unwrap();
        drop(a);
        std::future::poll_fn(|cx| b.poll_read_ready(cx)).await.unwrap();
        assert_eq!(b.try_read(&mut buf), Err(Status::PEER_CLOSED));
    }
}

// ---------------------------------------------------------------------------
// Deadlines and errors

on_both_runtimes! {
    async fn with_deadline_times_out_or_passes_the_result_on() {
        let (a, b) = Socket::create(SocketOpts::Datagram).unwrap();
        let b = AsyncSocket::new(b);
        let mut buf = [0u8; 8];
        let start = std::time::Instant::now();
        assert_eq!(
            with_deadline(Duration::from_millis(30), b.recv(&mut buf)).await,
            Err(Status::TIMED_OUT)
        );
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(
            with_deadline(Time::ZERO, b.recv(&mut buf)).await,
            Err(Status::TIMED_OUT)
        );
        // Nothing was lost by the timed-out receives.
        a.try_write(b"kept").unwrap();
        assert_eq!(with_deadline(Time::ZERO, b.recv(&mut buf)).await, Ok(4));
        a.try_write(b"inf").unwrap();
        assert_eq!(with_deadline(Time::INFINITE, b.recv(&mut buf)).await, Ok(3));
        a.try_write(b"soon").unwrap();
        assert_eq!(
            with_deadline(Time::after(Duration::from_secs(10)), b.recv(&mut buf)).await,
            Ok(4)
        );
        // io::Result futures time out with kind TimedOut.
        let (_s, t) = Socket::create(SocketOpts::Stream).unwrap();
        let mut t = AsyncSocket::new(t);
        let err = with_deadline(Duration::from_millis(5), t.read(&mut buf))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    }
}

on_both_runtimes! {
    async fn a_call_past_its_deadline_is_given_up_and_the_reply_queued() {
        let (a, b) = Channel::create().unwrap();
        let a = AsyncChannel::new(a);
        let mut reply = MessageBuf::with_max_capacity().unwrap();
        let err = with_deadline(
            Duration::from_millis(20),
            a.call(&[9, 0, 0, 0], &mut Vec::new(), &mut reply),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status, Status::TIMED_OUT);
        let mut request = MessageBuf::new();
        b.try_read(&mut request).unwrap();
        b.write(&[9, 0, 0, 0, 1], &mut Vec::new()).unwrap();
        // The late reply is an ordinary message now.
        a.recv_msg(&mut reply).await.unwrap();
        assert_eq!(reply.bytes(), [9, 0, 0, 0, 1]);
    }
}

on_both_runtimes! {
    async fn write_errors_map_as_in_std_io() {
        let (a, b) = Socket::create(SocketOpts::Stream).unwrap();
        let mut a = AsyncSocket::new(a);
        a.shutdown().await.unwrap();
        let err = a.write_all(b"x").await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        let status = err.get_ref().and_then(|e| e.downcast_ref::<Status>()).copied();
        assert_eq!(status, Some(Status::BAD_STATE));
        assert_eq!(err.kind(), std::io::Error::from(Status::BAD_STATE).kind());
        drop(b);
        let (mut rx, mut tx) = a.split();
        assert_eq!(
            tx.write_all(b"x").await.unwrap_err().kind(),
            std::io::ErrorKind::BrokenPipe
        );
        assert_eq!(rx.read(&mut [0u8; 4]).await.unwrap(), 0, "end of file");
    }
}

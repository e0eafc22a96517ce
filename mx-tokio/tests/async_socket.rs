//! The tokio adapter, every scenario on both runtimes: `current_thread`
//! (where a task that never yields starves the others) and multi-thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mx::api::{AsHandleRef, Event, HandleBased, Socket, SocketOpts};
use mx::{Signals, Status, Time};
use mx_tokio::{AsyncSocket, OnSignals};
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
                let (mut reader, mut writer) = tokio::io::split(client);
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

//! Workload 2: async stream throughput, 64 KiB writes.
//!
//! The stream workload again, the way a tokio program would do it: a writer
//! task writes 64 KiB at a time, then shuts its end down; a reader task
//! reads into a 64 KiB buffer, compares every byte with the pattern (as the
//! stream workload does), and then expects end of file. Both tasks run on
//! one `current_thread` runtime of their own, on one thread pinned to the
//! first CPU, so every wake-up is a task switch inside that thread: what is
//! measured is the socket and its waker machinery, not thread hand-offs.
//! Each side gets a new runtime for every run.
//!
//! Sides: a Magenta stream socket through `mx_tokio::AsyncSocket`, and a
//! tokio `UnixStream` pair (AF_UNIX `SOCK_STREAM`, driven by epoll). The
//! reference, measured alongside under the same conditions, is
//! `tokio::io::duplex` with a 256 KiB buffer (about what a Magenta socket
//! holds): tokio's own in-process async stream, a buffer under a lock with
//! a waker for each side, what an async stream within one process costs
//! without any socket.

use std::time::Instant;

use mx::api::{Socket, SocketOpts};
use mx_tokio::AsyncSocket;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::stream::{block, check, pattern, WRITE};
use super::{interleave, median, Better, Bound, Ctx, Outcome, Row};
use crate::os;

/// The reference's buffer: four writes, as in the stream workload's ring.
const DUPLEX_BUFFER: usize = 4 * WRITE;

/// Moves `blocks` writes of [`WRITE`] bytes from `writer` to `reader`, as
/// two tasks on the current runtime; returns GB/s (10^9 bytes per second).
async fn transfer<W, R>(mut writer: W, mut reader: R, blocks: u64) -> Outcome<f64>
where
    W: AsyncWrite + Unpin + Send + 'static,
    R: AsyncRead + Unpin,
{
    let pattern = pattern();
    let written = pattern.clone();
    let total = blocks * WRITE as u64;
    let mut buf = vec![0u8; WRITE];
    let began = Instant::now();
    let writing = tokio::spawn(async move {
        for n in 0..blocks {
            writer.write_all(block(&written, n)).await?;
        }
        writer.shutdown().await
    });
    let mut offset = 0u64;
    while offset < total {
        let n = reader
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        check(&pattern, offset, total, &buf[..n])?;
        offset += n as u64;
    }
    let rate = total as f64 / began.elapsed().as_secs_f64() / 1e9;
    match reader.read(&mut buf).await {
        Ok(0) => {}
        Ok(n) => return Err(format!("{n} bytes past the end of the stream")),
        Err(e) => return Err(format!("read at the end: {e}")),
    }
    writing
        .await
        .map_err(|e| format!("writer task: {e}"))?
        .map_err(|e| format!("write: {e}"))?;
    Ok(rate)
}

/// Runs `work` on a new `current_thread` runtime, on a thread pinned to
/// `cpu`.
fn on_runtime<F>(cpu: usize, work: impl FnOnce() -> F + Send) -> Outcome<f64>
where
    F: std::future::Future<Output = Outcome<f64>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| -> Outcome<f64> {
                os::pin(cpu)?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                    .map_err(|e| format!("tokio runtime: {e}"))?;
                runtime.block_on(work())
            })
            .join()
            .map_err(|_| "runtime thread panicked".to_string())?
    })
}

/// One run over a Magenta stream socket.
fn magenta(cpu: usize, blocks: u64) -> Outcome<f64> {
    on_runtime(cpu, || async move {
        let (a, b) =
            Socket::create(SocketOpts::Stream).map_err(|s| format!("socket_create: {s:?}"))?;
        transfer(AsyncSocket::new(a), AsyncSocket::new(b), blocks).await
    })
}

/// One run over a tokio `UnixStream` pair.
fn socketpair(cpu: usize, blocks: u64) -> Outcome<f64> {
    on_runtime(cpu, || async move {
        let (a, b) = tokio::net::UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        transfer(a, b, blocks).await
    })
}

/// One run of the reference, `tokio::io::duplex`.
fn duplex(cpu: usize, blocks: u64) -> Outcome<f64> {
    on_runtime(cpu, || async move {
        let (a, b) = tokio::io::duplex(DUPLEX_BUFFER);
        transfer(a, b, blocks).await
    })
}

/// Runs the workload; returns its row.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Vec<Row>> {
    let blocks = ctx.config.async_stream_bytes.div_ceil(WRITE as u64).max(1);
    let size = |warmup: bool| if warmup { (blocks / 8).max(1) } else { blocks };
    let cpu = ctx.cpus.first;
    let [mx, sp, reference] = interleave(
        ctx,
        "async stream",
        ctx.config.reps,
        &mut [
            ("mx", &mut |w| magenta(cpu, size(w))),
            ("socketpair", &mut |w| socketpair(cpu, size(w))),
            ("tokio::io::duplex", &mut |w| duplex(cpu, size(w))),
        ],
    )?;
    let total = blocks * WRITE as u64;
    Ok(vec![Row::new(
        "async_stream",
        "async stream, 64 KiB writes",
        "GB/s",
        Better::Higher,
        mx,
        sp,
    )
    .bound(Bound::new("tokio::io::duplex", median(&reference)))
    .checked(format!(
        "every byte compared with the written pattern, then end of file, {total} bytes per run"
    ))
    .pinning(format!(
        "writer and reader tasks on one current_thread runtime, its thread on CPU {cpu}"
    ))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_side_moves_the_stream_intact() {
        let cpu = os::allowed_cpus()[0];
        for run in [magenta, socketpair, duplex] {
            // More than the reference's buffer, so the writer waits.
            assert!(run(cpu, 9).is_ok_and(|rate| rate > 0.0));
        }
    }
}

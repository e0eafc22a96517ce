//! An echo service over many Magenta sockets, on tokio.
//!
//! One server task per socket echoes what it reads until end of file; client
//! tasks send a different message stream through each socket, half-close,
//! and check that exactly their bytes come back.
//!
//! ```sh
//! cargo run --release -p mx-tokio --example async_echo -- 500
//! ```

use std::time::Instant;

use mx::api::{Socket, SocketOpts};
use mx_tokio::AsyncSocket;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Echoes everything read until end of file, then half-closes.
async fn serve(mut socket: AsyncSocket) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0;
    loop {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            socket.shutdown().await?;
            return Ok(total);
        }
        socket.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Sends `messages` lines through `socket` and checks the echo.
async fn client(id: usize, socket: AsyncSocket, messages: usize) -> std::io::Result<usize> {
    let (mut reader, mut writer) = tokio::io::split(socket);
    let mut expected = Vec::new();
    for i in 0..messages {
        expected.extend_from_slice(format!("client {id} message {i}\n").as_bytes());
    }
    let sent = expected.clone();
    let sending = tokio::spawn(async move {
        writer.write_all(&sent).await?;
        writer.shutdown().await
    });
    let mut echoed = Vec::new();
    reader.read_to_end(&mut echoed).await?;
    sending.await.expect("sender task")?;
    assert_eq!(echoed, expected, "client {id}: the echo differs");
    Ok(echoed.len())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sockets: usize = std::env::args().nth(1).map_or(Ok(200), |s| s.parse())?;
    let messages = 100;
    let start = Instant::now();
    let mut clients = Vec::new();
    for id in 0..sockets {
        let (near, far) = Socket::create(SocketOpts::Stream)?;
        tokio::spawn(serve(AsyncSocket::new(far)));
        clients.push(tokio::spawn(client(id, AsyncSocket::new(near), messages)));
    }
    let mut bytes = 0;
    for client in clients {
        bytes += client.await??;
    }
    println!(
        "{sockets} sockets echoed {bytes} bytes ({} messages) byte-exact in {:.1} ms",
        sockets * messages,
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

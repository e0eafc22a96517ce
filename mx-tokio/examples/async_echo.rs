//! An echo service over many Magenta sockets, on tokio.
//!
//! One server task per socket echoes what it reads until end of file; client
//! tasks send a different message stream through each socket, half-close,
//! and check that exactly their bytes come back.
//!
//! ```sh
//! cargo run --release -p mx-tokio --example async_echo -- 500
//! cargo run --release -p mx-tokio --example async_echo -- --help
//! ```
//!
//! The one argument, SOCKETS, is how many socket pairs (and so server and
//! client tasks) run at once: 1 to 10,000, 200 if left out. The arguments
//! are read by hand, not with a parser crate, so that the example needs no
//! dependency beyond the crate's own.

use std::process::ExitCode;
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
    let (mut reader, mut writer) = socket.into_split();
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

/// Messages each client sends.
const MESSAGES: usize = 100;
/// Sockets when the argument is left out.
const DEFAULT_SOCKETS: usize = 200;
/// The most sockets the argument may ask for.
const MAX_SOCKETS: usize = 10_000;

/// What `--help` prints.
fn usage() -> String {
    format!(
        "Echoes {MESSAGES} lines through each of many Magenta stream sockets on tokio,
and checks that every byte comes back.

Usage: async_echo [SOCKETS]

Arguments:
  [SOCKETS]  How many socket pairs run at once, each with a server task that echoes
             and a client task that sends and checks: 1 to {MAX_SOCKETS} [default: {DEFAULT_SOCKETS}]

Options:
  -h, --help  Print this help"
    )
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request {
    /// Run with this many sockets.
    Run(usize),
    /// Print the help.
    Help,
}

/// Reads the arguments (without the program name).
fn parse(args: &[String]) -> Result<Request, String> {
    match args {
        [] => Ok(Request::Run(DEFAULT_SOCKETS)),
        [flag] if flag == "-h" || flag == "--help" => Ok(Request::Help),
        [count] => match count.parse::<usize>() {
            Ok(n) if (1..=MAX_SOCKETS).contains(&n) => Ok(Request::Run(n)),
            _ => Err(format!(
                "SOCKETS must be a whole number from 1 to {MAX_SOCKETS}, not {count:?}"
            )),
        },
        [_, extra, ..] => Err(format!(
            "unexpected argument {extra:?}: SOCKETS is the only one"
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Ok(Request::Help) => {
            println!("{}", usage());
            ExitCode::SUCCESS
        }
        Ok(Request::Run(sockets)) => match run(sockets) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("async_echo: {error}");
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("async_echo: {error}\n\nUsage: async_echo [SOCKETS]; --help says more");
            ExitCode::from(2)
        }
    }
}

/// Runs the echo over `sockets` socket pairs.
#[tokio::main]
async fn run(sockets: usize) -> Result<(), Box<dyn std::error::Error>> {
    let messages = MESSAGES;
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

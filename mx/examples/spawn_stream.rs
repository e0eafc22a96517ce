//! Streams bytes through a Magenta socket to a child process, which checks
//! every one.
//!
//! ```sh
//! cargo run --release -p mx --example spawn_stream            # 256 MiB
//! cargo run --release -p mx --example spawn_stream -- --mib 16
//! ```
//!
//! The parent creates a stream socket, starts this same program as its
//! child with one end ([`CommandExt::spawn_with_handles`]), writes a
//! pattern into its end with `std::io::Write`, and half-closes it. The
//! child takes its end ([`mx::startup_handle`]), reads with
//! `std::io::Read` until end of file (the parent's half-close), checks
//! every byte against the pattern, and writes back how many bytes it got.
//! The parent prints the throughput.

use std::io::{Read, Write};
use std::process::{Command, ExitCode};
use std::time::Instant;

use mx::api::{Socket, SocketOpts};
use mx::linux::{user_handle_info, CommandExt};

/// The info word the socket end is passed under.
const SOCKET: u32 = user_handle_info(0);

/// The argument that makes this program the child.
const CHILD: &str = "--child";

/// Bytes per write and per read.
const CHUNK: usize = 64 * 1024;

type Error = Box<dyn std::error::Error>;

/// The byte at `offset` of the stream: a position hash, so that a lost,
/// repeated or reordered byte shows.
fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some(CHILD) {
        child()
    } else {
        parent(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("spawn_stream: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parent(args: &[String]) -> Result<(), Error> {
    let mib: u64 = match args {
        [] => 256,
        [flag, n] if flag == "--mib" => n.parse()?,
        _ => return Err("usage: spawn_stream [--mib N]".into()),
    };
    let total = mib << 20;

    let (mut mine, theirs) = Socket::create(SocketOpts::Stream)?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg(CHILD)
        .spawn_with_handles([(SOCKET, theirs)])?;

    let start = Instant::now();
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    while offset < total {
        let n = CHUNK.min((total - offset) as usize);
        for (i, byte) in buf[..n].iter_mut().enumerate() {
            *byte = pattern(offset + i as u64);
        }
        // Blocks while the child's side of the socket is full.
        mine.write_all(&buf[..n])?;
        offset += n as u64;
    }
    // The child reads to the end of what was written, then end of file.
    mine.half_close()?;

    let mut count = [0u8; 8];
    mine.read_exact(&mut count)?;
    let elapsed = start.elapsed();
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("the child failed: {status}").into());
    }
    let received = u64::from_le_bytes(count);
    if received != total {
        return Err(format!("the child received {received} bytes of {total}").into());
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "{mib} MiB to a child process in {:.3} s: {:.0} MiB/s; the child checked every byte",
        secs,
        mib as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn child() -> Result<(), Error> {
    let mut socket =
        Socket::from(mx::startup_handle(SOCKET).ok_or("the child was started without its socket")?);
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        // Blocks while the socket is empty; 0 once the parent half-closed
        // and everything was read.
        let n = socket.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for (i, &byte) in buf[..n].iter().enumerate() {
            let at = offset + i as u64;
            if byte != pattern(at) {
                return Err(
                    format!("byte {at} is {byte:#04x}, expected {:#04x}", pattern(at)).into(),
                );
            }
        }
        offset += n as u64;
    }
    socket.write_all(&offset.to_le_bytes())?;
    Ok(())
}

//! System-wide calls: `mx_ticks_get`, `mx_ticks_per_second`,
//! `mx_system_get_num_cpus`, `mx_system_get_version`,
//! `mx_system_get_physmem`, `mx_cprng_draw`, `mx_cprng_add_entropy`.
//!
//! Magenta answered these from the hardware (the TSC, the CPUs it booted,
//! its own entropy pool); here the answers come from Linux:
//!
//! - Ticks are nanoseconds of `CLOCK_MONOTONIC`, so `mx_ticks_per_second`
//!   is 1,000,000,000 and ticks and `mx_time_get(MX_CLOCK_MONOTONIC)` agree.
//!   A program that converts ticks with `mx_ticks_per_second` (as Magenta
//!   asked) gets correct durations; the TSC would need calibrating and is
//!   not synchronised on every machine.
//! - The CPUs are those this process may run on, counted once (the value is
//!   constant, as Magenta's was).
//! - Random bytes come from `/dev/urandom`; entropy added is written to it,
//!   which mixes it into Linux's pool without crediting it.
//!
//! None of them looks at a handle.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::sync::OnceLock;

use mx_core::abi::{CPRNG_ADD_ENTROPY_MAX_LEN, CPRNG_DRAW_MAX_LEN};
use mx_core::Status;
use mx_shm::storage::Sink;

use crate::time::now;

/// `mx_ticks_per_second`'s answer: ticks are nanoseconds.
pub const TICKS_PER_SECOND: u64 = 1_000_000_000;

/// The version string `mx_system_get_version` reports.
pub const VERSION: &str = concat!("libmagenta ", env!("CARGO_PKG_VERSION"), " (Linux)");

/// `mx_ticks_get`—A count of ticks that never goes back: nanoseconds of the
/// monotonic clock (see the module's notes).
#[doc(alias = "mx_ticks_get")]
pub fn ticks_get() -> u64 {
    now().0
}

/// `mx_ticks_per_second`—How many ticks of [`ticks_get`] make a second:
/// [`TICKS_PER_SECOND`].
#[doc(alias = "mx_ticks_per_second")]
pub fn ticks_per_second() -> u64 {
    TICKS_PER_SECOND
}

/// `mx_system_get_num_cpus`—The number of CPUs: those this process may run
/// on, counted at the first call (1 if Linux does not say). Constant for
/// the life of the process, as Magenta's was.
#[doc(alias = "mx_system_get_num_cpus")]
pub fn system_get_num_cpus() -> u32 {
    static CPUS: OnceLock<u32> = OnceLock::new();
    *CPUS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX))
    })
}

/// `mx_system_get_version`—Writes [`VERSION`] and a terminating NUL to
/// `version`, whose length is the C call's `version_len`.
///
/// # Errors
/// - `BUFFER_TOO_SMALL`: the string and its NUL do not fit.
/// - `INVALID_ARGS`: `version` cannot be written.
#[doc(alias = "mx_system_get_version")]
pub fn system_get_version<D: Sink + ?Sized>(version: &mut D) -> Result<(), Status> {
    let text = VERSION.as_bytes();
    if version.len() < text.len() + 1 {
        return Err(Status::BUFFER_TOO_SMALL);
    }
    version.write_at(0, text)?;
    version.write_at(text.len(), &[0])
}

/// `mx_system_get_physmem`—Bytes of physical memory: `MemTotal` of
/// `/proc/meminfo` (0 if it cannot be read).
#[doc(alias = "mx_system_get_physmem")]
pub fn system_get_physmem() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return 0;
    };
    text.lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok())
        .map_or(0, |kib| kib.saturating_mul(1024))
}

/// `/dev/urandom`, opened once.
fn urandom() -> Result<&'static File, Status> {
    static URANDOM: OnceLock<Option<File>> = OnceLock::new();
    URANDOM
        .get_or_init(|| File::open("/dev/urandom").ok())
        .as_ref()
        .ok_or(Status::INTERNAL)
}

/// `mx_cprng_draw`—Fills `buffer` (the C call's `len` bytes, at most
/// `MX_CPRNG_DRAW_MAX_LEN`) with random bytes from Linux's generator and
/// returns how many (`len`).
///
/// # Errors
/// - `INVALID_ARGS`: more than `MX_CPRNG_DRAW_MAX_LEN` bytes, or `buffer`
///   cannot be written.
/// - `INTERNAL`: `/dev/urandom` cannot be read (no such Linux exists).
#[doc(alias = "mx_cprng_draw")]
pub fn cprng_draw<D: Sink + ?Sized>(buffer: &mut D) -> Result<usize, Status> {
    let len = buffer.len();
    if len > CPRNG_DRAW_MAX_LEN {
        return Err(Status::INVALID_ARGS);
    }
    let mut bytes = [0u8; CPRNG_DRAW_MAX_LEN];
    urandom()?
        .read_exact(&mut bytes[..len])
        .map_err(|_| Status::INTERNAL)?;
    buffer.write_at(0, &bytes[..len])?;
    Ok(len)
}

/// `mx_cprng_add_entropy`—Mixes `bytes` (at most
/// `MX_CPRNG_ADD_ENTROPY_MAX_LEN`) into the system's random pool, by
/// writing them to `/dev/urandom`: Linux mixes them in and credits no
/// entropy, so they can only help. If `/dev/urandom` cannot be written the
/// bytes are dropped, which cannot weaken the pool either.
///
/// # Errors
/// - `INVALID_ARGS`: more than `MX_CPRNG_ADD_ENTROPY_MAX_LEN` bytes. (The C
///   ABI checks the length before it copies the caller's buffer, as Magenta
///   did, and a buffer it cannot read is `INVALID_ARGS` too.)
#[doc(alias = "mx_cprng_add_entropy")]
pub fn cprng_add_entropy(bytes: &[u8]) -> Result<(), Status> {
    if bytes.len() > CPRNG_ADD_ENTROPY_MAX_LEN {
        return Err(Status::INVALID_ARGS);
    }
    if let Ok(mut pool) = std::fs::OpenOptions::new().write(true).open("/dev/urandom") {
        let _ = pool.write_all(bytes);
    }
    Ok(())
}

//! What the benchmark needs from Linux, through `rustix`'s safe wrappers:
//! CPU pinning, the open-file limit, memory counters and AF_UNIX socket
//! pairs.
//!
//! Nothing here measures; the workloads call these around their timed parts.

use std::fs;
use std::io;
use std::os::fd::OwnedFd;

use rustix::net::{AddressFamily, SocketFlags, SocketType};
use rustix::process::{Resource, Rlimit};
use rustix::thread::CpuSet;

/// The CPUs this process may run on, in increasing order.
pub(crate) fn allowed_cpus() -> Vec<usize> {
    match rustix::thread::sched_getaffinity(None) {
        Ok(set) => (0..CpuSet::MAX_CPU)
            .filter(|&cpu| set.is_set(cpu))
            .collect(),
        Err(_) => vec![0],
    }
}

/// Pins the calling thread to `cpu`.
pub(crate) fn pin(cpu: usize) -> Result<(), String> {
    let mut set = CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).map_err(|e| format!("pinning to CPU {cpu}: {e}"))
}

/// Resident bytes of this process (`/proc/self/statm`, second field).
pub(crate) fn resident_bytes() -> Result<u64, String> {
    let statm = fs::read_to_string("/proc/self/statm").map_err(|e| format!("statm: {e}"))?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .ok_or("statm: no resident field")?;
    Ok(pages * rustix::param::page_size() as u64)
}

/// Kernel slab memory, system-wide, from `/proc/meminfo`.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Slab {
    /// `Slab`: all slab memory, in bytes.
    pub(crate) total: u64,
    /// `SUnreclaim`: the part that cannot be reclaimed under pressure.
    pub(crate) unreclaimable: u64,
}

/// Reads [`Slab`] from `/proc/meminfo`.
pub(crate) fn slab() -> Result<Slab, String> {
    let meminfo = fs::read_to_string("/proc/meminfo").map_err(|e| format!("meminfo: {e}"))?;
    let field = |name: &str| -> Result<u64, String> {
        meminfo
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
            .ok_or_else(|| format!("meminfo: no {name}"))
    };
    Ok(Slab {
        total: field("Slab")?,
        unreclaimable: field("SUnreclaim")?,
    })
}

/// How many more files the whole system may open (`fs.file-max` less the
/// files open now, from `/proc/sys/fs/file-nr`); `None` if unknown.
pub(crate) fn system_files_free() -> Option<u64> {
    let nr = fs::read_to_string("/proc/sys/fs/file-nr").ok()?;
    let fields: Vec<u64> = nr
        .split_whitespace()
        .map(|field| field.parse().ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [open, _, max] => Some(max.saturating_sub(open)),
        _ => None,
    }
}

/// The hard limit on open files (`u64::MAX` if unlimited).
pub(crate) fn nofile_hard() -> u64 {
    rustix::process::getrlimit(Resource::Nofile)
        .maximum
        .unwrap_or(u64::MAX)
}

/// Raises the soft limit on open files as far as the hard limit allows (or,
/// for a process that may raise hard limits, to `want`); returns the limit
/// now in force.
pub(crate) fn raise_nofile(want: u64) -> u64 {
    let now = rustix::process::getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    if soft >= want {
        return soft;
    }
    // Raising the hard limit needs CAP_SYS_RESOURCE; try that first.
    let raised = Rlimit {
        current: Some(want),
        maximum: Some(now.maximum.map_or(want, |hard| hard.max(want))),
    };
    if rustix::process::setrlimit(Resource::Nofile, raised).is_ok() {
        return want;
    }
    let Some(hard) = now.maximum else {
        return soft;
    };
    let capped = Rlimit {
        current: Some(hard.min(want)),
        maximum: Some(hard),
    };
    match rustix::process::setrlimit(Resource::Nofile, capped) {
        Ok(()) => hard.min(want),
        Err(_) => soft,
    }
}

/// An AF_UNIX `SOCK_SEQPACKET` pair (close-on-exec, blocking).
pub(crate) fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// An AF_UNIX `SOCK_STREAM` pair (close-on-exec, blocking).
pub(crate) fn stream_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

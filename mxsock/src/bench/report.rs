//! The report: the table for people, JSON for machines.

use std::fmt::Write;

use serde::Serialize;

use super::{Config, Cpus, Row, Workload};

/// Everything one run found.
#[derive(Debug, Serialize)]
pub(crate) struct Report {
    /// The program and its version.
    pub(crate) tool: String,
    /// The command line.
    pub(crate) command: String,
    /// CPUs this process was allowed to use.
    pub(crate) allowed_cpus: Vec<usize>,
    /// The CPUs threads were pinned to.
    pub(crate) cpus: Cpus,
    /// Magenta waiters' spin budget before parking, in nanoseconds
    /// (`MX_SPIN_NS`).
    pub(crate) spin_budget_ns: u64,
    /// Sizes and repetitions.
    pub(crate) config: Config,
    /// One entry per figure.
    pub(crate) rows: Vec<Row>,
    /// Whether every workload verified all of its data.
    pub(crate) all_verified: bool,
    /// Whether every row with a target met it.
    pub(crate) all_targets_met: bool,
    /// Remarks: components of figures, things not measured.
    pub(crate) notes: Vec<String>,
    /// Wall-clock seconds of each workload.
    pub(crate) workload_seconds: Vec<(Workload, f64)>,
    /// Wall-clock time of the run, in seconds.
    pub(crate) seconds: f64,
}

/// A figure with as many decimals as its size deserves.
fn figure(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        "-".to_string()
    } else if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 0.1 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A ratio, as `2.31x`.
fn ratio(value: f64) -> String {
    if value.is_finite() && value < 0.1 {
        format!("{value:.3}x")
    } else {
        format!("{value:.2}x")
    }
}

/// What each reference bound is, by name.
const BOUNDS_EXPLAINED: [(&str, &str); 7] = [
    (
        "memcpy",
        "memcpy/2, memcpy: one thread copying 64 KiB blocks into a 256 KiB ring and \
         out again. A transfer moves each byte twice (writer's buffer -> socket -> reader's \
         buffer), so one CPU doing both copies moves at most memcpy/2 of payload; with \
         writer and reader on two CPUs the copies overlap and up to memcpy is possible, \
         less the reader's byte-for-byte check.",
    ),
    (
        "2-CPU ring",
        "2-CPU ring: the same transfer, checked the same way, between the same two CPUs \
         through a bare ring of four 64 KiB blocks in shared memory (one lock per block, \
         spinning waits): what copying from one CPU's cache to the other's allows.",
    ),
    (
        "tokio::io::duplex",
        "tokio::io::duplex: the same async transfer, checked the same way, on the same \
         runtime and CPU, through tokio's in-process stream (a 256 KiB buffer under a lock, \
         one waker per side): what an async stream within one process costs without a \
         socket.",
    ),
    (
        "cached-index ring",
        "cached-index ring: the same 64-byte messages, checked the same way, between the \
         same two CPUs through a bare shared-memory ring (the best known design for it): \
         each side's index on its own cache line, each side reloading the other's only \
         when the ring looks full or everything seen is consumed, waiting by spinning; no \
         handles, no signals, never sleeps.",
    ),
    (
        "crossbeam-channel",
        "crossbeam-channel: the same messages, checked the same way, between the same two \
         CPUs through a bounded crossbeam-channel of 4,096 [u8; 64]: not a floor but what a \
         Rust program would use instead for messages within one process.",
    ),
    (
        "cache-line ping-pong",
        "cache-line ping-pong: the same round trip through one atomic word, both threads \
         spinning: the hardware's floor for any design.",
    ),
    (
        "yield ping-pong",
        "yield ping-pong: the same round trip through one atomic word on one CPU, each \
         waiting thread calling sched_yield at every poll: two thread switches, no sleeping.",
    ),
];

impl Report {
    /// The report as a table with notes.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let reps = self.config.reps;
        let _ = writeln!(
            out,
            "{} bench: Magenta sockets (mx) against AF_UNIX socketpair, one process, one run",
            self.tool
        );
        let _ = writeln!(
            out,
            "CPUs allowed: {:?}; threads pinned as listed below; mx spin budget {} ns; \
             {reps} repetitions per side ({} for idle pairs), sides alternating which goes \
             first; figures are medians; mx/sp = mx figure / socketpair figure.",
            self.allowed_cpus, self.spin_budget_ns, self.config.idle_reps
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<54} {:>9} {:>9} {:>10} {:>8} {:>9} {:>4}  reference bound (same run)",
            "workload", "unit", "mx", "socketpair", "mx/sp", "target", "met"
        );
        for row in &self.rows {
            let target = row
                .target
                .map_or(String::new(), |t| format!("{} {}", t.op, ratio(t.ratio)));
            let met = match row.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "",
            };
            let bounds = row
                .bounds
                .iter()
                .map(|b| format!("{} {}", b.name, figure(b.value)))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                out,
                "{:<54} {:>9} {:>9} {:>10} {:>8} {:>9} {:>4}  {}",
                row.label,
                row.unit,
                figure(row.mx),
                figure(row.socketpair),
                ratio(row.ratio),
                target,
                met,
                bounds
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Pinning and checks:");
        let mut last = None;
        for row in &self.rows {
            let key = (&row.pinning, &row.checked);
            if last == Some(key) {
                continue;
            }
            last = Some(key);
            let _ = writeln!(
                out,
                "  {}: {}; checked {}",
                row.label, row.pinning, row.checked
            );
        }
        let names: Vec<&str> = self
            .rows
            .iter()
            .flat_map(|row| row.bounds.iter().map(|b| b.name.as_str()))
            .collect();
        let explained: Vec<&str> = BOUNDS_EXPLAINED
            .iter()
            .filter(|(name, _)| names.iter().any(|n| n.starts_with(name)))
            .map(|(_, text)| *text)
            .collect();
        if !explained.is_empty() {
            let _ = writeln!(out, "Reference bounds:");
            for text in explained {
                let _ = writeln!(out, "  {text}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "Notes:");
            for note in &self.notes {
                let _ = writeln!(out, "  {note}");
            }
        }
        let took = self
            .workload_seconds
            .iter()
            .map(|(workload, seconds)| format!("{workload:?} {seconds:.1}"))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "All data verified: {}. Targets met: {}. Run took {:.1} s ({took}).",
            if self.all_verified { "yes" } else { "NO" },
            if self.all_targets_met {
                "all"
            } else {
                "not all"
            },
            self.seconds
        );
        out
    }
}

//! `mxsock bench`: each workload on Magenta sockets and on AF_UNIX
//! `socketpair`, in one process and one run.
//!
//! Conventions every workload follows:
//! - Each side does the same work: same message sizes, same buffers, same
//!   checks, same thread placement (pinned, and said so in the row).
//! - Every byte or sequence number that crosses a socket is verified; a
//!   mismatch aborts the run with an error instead of producing a figure.
//! - [`interleave`] runs a warm-up of each side, then the repetitions,
//!   rotating which side goes first; rows report medians. The machine is
//!   shared and noisy, so ratios within one run are what count.
//! - Reference bounds (memcpy bandwidth, the best known shared-memory ring,
//!   the cost of a bare cache-line or scheduler round trip) are measured as
//!   one more side of the same workload, under the same conditions; so are
//!   the in-process alternatives a Rust program would otherwise use
//!   (`crossbeam-channel`, `tokio::io::duplex`), reported with them.
//! - Limits that depend on the machine or on two options at once are
//!   checked before the first workload runs (see [`run`]).

mod async_stream;
mod channel;
pub(crate) mod cross;
mod dgram;
mod fanin;
mod idle;
pub(crate) mod report;
mod rtt;
mod stream;

use crate::progress::Progress;
use serde::Serialize;

pub(crate) use idle::hold_socketpairs;
pub(crate) use report::Report;
pub(crate) use rtt::RoundTrips;

/// What a workload step returns: a value, or why the run cannot go on.
pub(crate) type Outcome<T> = Result<T, String>;

/// The workloads, in the order they run.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Workload {
    /// Stream throughput, 64 KiB writes.
    Stream,
    /// Async stream throughput on tokio, 64 KiB writes.
    AsyncStream,
    /// 64-byte datagram message rate.
    Datagram,
    /// 64-byte channel message rate, without and with a handle in each.
    Channel,
    /// 1-byte ping-pong round trip, across CPUs and on one CPU.
    RoundTrip,
    /// Idle footprint and creation rate of many pairs.
    Idle,
    /// One thread serving many socket pairs.
    FanIn,
    /// Stream, datagrams and round trips with the ends in two processes.
    CrossProcess,
}

impl Workload {
    /// How many runs [`interleave`] makes for this workload (warm-ups
    /// included), for the progress bar.
    fn runs(self, config: &Config, cpus: &Cpus) -> usize {
        let timed = config.reps + 1;
        match self {
            Workload::Stream => 4 * timed,
            Workload::AsyncStream => 3 * timed,
            Workload::Datagram => 4 * timed,
            Workload::Channel => 4 * timed,
            // Across CPUs the ring reference runs too.
            Workload::RoundTrip => 3 * timed + if cpus.second.is_some() { 4 * timed } else { 0 },
            Workload::Idle => 2 * (config.idle_reps + 1),
            Workload::FanIn => 3 * timed,
            Workload::CrossProcess => 9 * timed,
        }
    }

    /// Its name on the command line (`--only`) and in progress lines.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Workload::Stream => "stream",
            Workload::AsyncStream => "async-stream",
            Workload::Datagram => "datagram",
            Workload::Channel => "channel",
            Workload::RoundTrip => "round-trip",
            Workload::Idle => "idle",
            Workload::FanIn => "fan-in",
            Workload::CrossProcess => "cross-process",
        }
    }

    /// Every workload.
    pub(crate) const ALL: [Workload; 8] = [
        Workload::Stream,
        Workload::AsyncStream,
        Workload::Datagram,
        Workload::Channel,
        Workload::RoundTrip,
        Workload::Idle,
        Workload::FanIn,
        Workload::CrossProcess,
    ];
}

/// Sizes and repetitions of one run.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Config {
    /// Repetitions of each timed workload (per side).
    pub(crate) reps: usize,
    /// Bytes per stream run.
    pub(crate) stream_bytes: u64,
    /// Bytes per async stream run.
    pub(crate) async_stream_bytes: u64,
    /// 64-byte datagrams per run.
    pub(crate) datagrams: u64,
    /// 64-byte channel messages per run (each of the two rows).
    pub(crate) channel_messages: u64,
    /// Round trips per ping-pong run.
    pub(crate) rounds: u64,
    /// Idle pairs created per footprint run.
    pub(crate) idle_pairs: u64,
    /// Repetitions of the footprint workload (per side).
    pub(crate) idle_reps: usize,
    /// Socket pairs served by the fan-in thread.
    pub(crate) fanin_pairs: usize,
    /// Messages per fan-in run.
    pub(crate) fanin_messages: u64,
    /// The workloads to run.
    pub(crate) workloads: Vec<Workload>,
}

/// The CPUs threads are pinned to.
#[derive(Copy, Clone, Debug, Serialize)]
pub(crate) struct Cpus {
    /// The first allowed CPU: readers, clients and servers run here.
    pub(crate) first: usize,
    /// Another allowed CPU, if there is one: writers and peers run here.
    pub(crate) second: Option<usize>,
}

impl Cpus {
    /// From the CPUs this process may use.
    pub(crate) fn from_allowed(allowed: &[usize]) -> Cpus {
        Cpus {
            first: allowed.first().copied().unwrap_or(0),
            second: allowed.get(1).copied(),
        }
    }

    /// Two CPUs for a two-thread workload (the same one twice if only one
    /// CPU is available).
    pub(crate) fn pair(&self) -> (usize, usize) {
        (self.first, self.second.unwrap_or(self.first))
    }
}

/// What every workload gets.
#[derive(Debug)]
pub(crate) struct Ctx {
    /// Sizes and repetitions.
    pub(crate) config: Config,
    /// Where threads go.
    pub(crate) cpus: Cpus,
    /// Progress on standard error.
    pub(crate) progress: Progress,
}

/// One side of a workload: its name, and a closure that runs it once
/// (shorter when passed `true`, for the warm-up).
pub(crate) type Sides<'a, T, const N: usize> =
    [(&'a str, &'a mut dyn FnMut(bool) -> Outcome<T>); N];

/// Runs a warm-up of every side (its closure called with `true`, for a
/// shorter run), then `reps` repetitions of every side. Repetition `r` starts
/// with side `r % N` and goes round, so each side goes first equally often
/// and, for two or three sides, the Magenta and socketpair sides alternate
/// which goes first. Returns each side's samples, in repetition order.
pub(crate) fn interleave<T, const N: usize>(
    ctx: &Ctx,
    workload: &str,
    reps: usize,
    sides: &mut Sides<'_, T, N>,
) -> Outcome<[Vec<T>; N]> {
    for (name, run) in sides.iter_mut() {
        ctx.progress
            .set_message(|| format!("{workload}: warm-up, {name}"));
        run(true).map_err(|e| format!("{workload}, {name}: {e}"))?;
        ctx.progress.inc();
    }
    let mut samples: [Vec<T>; N] = std::array::from_fn(|_| Vec::with_capacity(reps));
    for rep in 0..reps {
        for k in 0..N {
            let side = (rep + k) % N;
            let (name, run) = &mut sides[side];
            ctx.progress
                .set_message(|| format!("{workload}: {name}, repetition {}/{reps}", rep + 1));
            samples[side].push(run(false).map_err(|e| format!("{workload}, {name}: {e}"))?);
            ctx.progress.inc();
        }
    }
    Ok(samples)
}

/// The median (the mean of the middle two for an even count; NaN if empty).
pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The `p`-th percentile (nearest rank) of sorted values.
pub(crate) fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Which way is better for a row's figure.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Better {
    /// Rates: more is better.
    Higher,
    /// Times and sizes: less is better.
    Lower,
}

/// A target on the ratio mx / socketpair.
#[derive(Copy, Clone, Debug, Serialize)]
pub(crate) struct Target {
    /// `>=` or `<=`.
    pub(crate) op: &'static str,
    /// The bound on mx / socketpair.
    pub(crate) ratio: f64,
}

impl Target {
    /// mx / socketpair must be at least `ratio`.
    pub(crate) fn at_least(ratio: f64) -> Target {
        Target { op: ">=", ratio }
    }

    /// mx / socketpair must be at most `ratio`.
    pub(crate) fn at_most(ratio: f64) -> Target {
        Target { op: "<=", ratio }
    }

    /// Whether `ratio` meets the target.
    pub(crate) fn met(&self, ratio: f64) -> bool {
        if self.op == ">=" {
            ratio >= self.ratio
        } else {
            ratio <= self.ratio
        }
    }
}

/// A reference figure measured in the same run, in the row's unit.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Bound {
    /// What it is.
    pub(crate) name: String,
    /// Its median value.
    pub(crate) value: f64,
}

impl Bound {
    /// A named bound.
    pub(crate) fn new(name: &str, value: f64) -> Bound {
        Bound {
            name: name.to_string(),
            value,
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Row {
    /// Stable identifier, for machines.
    pub(crate) id: String,
    /// What was measured, for people.
    pub(crate) label: String,
    /// The figures' unit.
    pub(crate) unit: String,
    /// Which way is better.
    pub(crate) better: Better,
    /// Median over repetitions, Magenta sockets.
    pub(crate) mx: f64,
    /// Median over repetitions, AF_UNIX socketpair.
    pub(crate) socketpair: f64,
    /// `mx / socketpair`.
    pub(crate) ratio: f64,
    /// The target on `ratio`, if the row has one.
    pub(crate) target: Option<Target>,
    /// Whether `ratio` meets the target.
    pub(crate) met: Option<bool>,
    /// Reference figures measured in the same run.
    pub(crate) bounds: Vec<Bound>,
    /// Every repetition, Magenta sockets.
    pub(crate) mx_reps: Vec<f64>,
    /// Every repetition, socketpair.
    pub(crate) socketpair_reps: Vec<f64>,
    /// Whether every repetition verified its data (a failed check aborts the
    /// run, so a row that exists says `true`).
    pub(crate) verified: bool,
    /// What was checked.
    pub(crate) checked: String,
    /// Where the threads ran.
    pub(crate) pinning: String,
}

impl Row {
    /// A row from each side's samples.
    pub(crate) fn new(
        id: &str,
        label: &str,
        unit: &str,
        better: Better,
        mx_reps: Vec<f64>,
        socketpair_reps: Vec<f64>,
    ) -> Row {
        let mx = median(&mx_reps);
        let socketpair = median(&socketpair_reps);
        Row {
            id: id.to_string(),
            label: label.to_string(),
            unit: unit.to_string(),
            better,
            mx,
            socketpair,
            ratio: mx / socketpair,
            target: None,
            met: None,
            bounds: Vec::new(),
            mx_reps,
            socketpair_reps,
            verified: true,
            checked: String::new(),
            pinning: String::new(),
        }
    }

    /// Sets the target.
    pub(crate) fn target(mut self, target: Target) -> Row {
        self.met = Some(target.met(self.ratio));
        self.target = Some(target);
        self
    }

    /// Adds a reference bound.
    pub(crate) fn bound(mut self, bound: Bound) -> Row {
        self.bounds.push(bound);
        self
    }

    /// Says what was checked.
    pub(crate) fn checked(mut self, checked: String) -> Row {
        self.checked = checked;
        self
    }

    /// Says where the threads ran.
    pub(crate) fn pinning(mut self, pinning: String) -> Row {
        self.pinning = pinning;
        self
    }
}

/// What [`run`] found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The rows, in workload order.
    pub(crate) rows: Vec<Row>,
    /// Remarks.
    pub(crate) notes: Vec<String>,
    /// Seconds each workload took, warm-up and reference included.
    pub(crate) seconds: Vec<(Workload, f64)>,
    /// Every round trip timed, per placement.
    pub(crate) round_trips: Vec<RoundTrips>,
}

/// Runs the configured workloads.
pub(crate) fn run(ctx: &Ctx) -> Outcome<Findings> {
    let mut findings = Findings::default();
    let Findings {
        rows,
        notes,
        seconds,
        round_trips,
    } = &mut findings;
    let selected = || {
        Workload::ALL
            .into_iter()
            .filter(|workload| ctx.config.workloads.contains(workload))
    };
    // Limits that depend on the machine or on two options at once: checked
    // now, not after the workloads before them have run.
    for workload in selected() {
        match workload {
            Workload::Idle => idle::preflight(ctx.config.idle_pairs, ctx.config.idle_reps)?,
            Workload::FanIn => fanin::preflight(ctx.config.fanin_pairs)?,
            _ => {}
        }
    }
    let runs: usize = selected()
        .map(|workload| workload.runs(&ctx.config, &ctx.cpus))
        .sum();
    ctx.progress.set_length(runs as u64);
    for workload in selected() {
        let began = std::time::Instant::now();
        match workload {
            Workload::Stream => rows.extend(stream::run(ctx)?),
            Workload::AsyncStream => rows.extend(async_stream::run(ctx)?),
            Workload::Datagram => rows.extend(dgram::run(ctx)?),
            Workload::Channel => rows.extend(channel::run(ctx)?),
            Workload::RoundTrip => rows.extend(rtt::run(ctx, notes, round_trips)?),
            Workload::Idle => rows.extend(idle::run(ctx, notes)?),
            Workload::FanIn => rows.extend(fanin::run(ctx, notes)?),
            Workload::CrossProcess => rows.extend(cross::run(ctx, notes)?),
        }
        let took = began.elapsed().as_secs_f64();
        ctx.progress.workload_done(workload.name(), took);
        seconds.push((workload, took));
    }
    Ok(findings)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A configuration small enough for unit tests.
    pub(crate) fn tiny_config() -> Config {
        Config {
            reps: 1,
            stream_bytes: 1 << 20,
            async_stream_bytes: 1 << 20,
            datagrams: 2_000,
            channel_messages: 2_000,
            rounds: 200,
            idle_pairs: 100,
            idle_reps: 1,
            fanin_pairs: 4,
            fanin_messages: 1_000,
            workloads: Workload::ALL.to_vec(),
        }
    }

    #[test]
    fn workload_names_are_the_command_line_s() {
        use clap::ValueEnum;
        for workload in Workload::ALL {
            let value = workload.to_possible_value().expect("a value");
            assert_eq!(workload.name(), value.get_name());
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn percentile_is_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50.0), 50);
        assert_eq!(percentile(&values, 99.0), 99);
        assert_eq!(percentile(&values, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
    }

    #[test]
    fn targets_compare_the_ratio() {
        assert!(Target::at_least(2.0).met(2.0));
        assert!(!Target::at_least(2.0).met(1.99));
        assert!(Target::at_most(0.2).met(0.1));
        assert!(!Target::at_most(0.2).met(0.3));
        let row = Row::new("x", "x", "u", Better::Higher, vec![4.0], vec![2.0])
            .target(Target::at_least(2.0));
        assert_eq!((row.ratio, row.met), (2.0, Some(true)));
    }
}

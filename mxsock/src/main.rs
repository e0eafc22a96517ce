//! `mxsock`: the command-line front door of the project.
//!
//! `mxsock bench` runs, in one process and one run, each workload on Magenta
//! sockets (the `mx` crate) and on AF_UNIX `socketpair`, and prints a table:
//! both figures, their ratio, the target on the ratio, and reference bounds
//! measured in the same run. `--json` prints the same as JSON, `--svg FILE`
//! draws it, and `--check` fails the command when a target is missed. See
//! [`mod@bench`] for how the workloads keep the comparison honest.
//!
//! Standard output carries the report only: the table (every line at most
//! 100 columns; `--verbose` adds what the columns and reference bounds are,
//! and the notes) or the JSON. Progress and errors go to standard error.
//! Exit status: 0, 1 for an error, 2 for a bad command line, 3 when
//! `--check` finds a missed target.
//!
//! Modules: [`mod@bench`] (the workloads, the rows and the report),
//! [`mod@chart`] (`--svg`), [`mod@progress`] (standard error while the run
//! goes on), [`mod@os`] (what the workloads need from Linux).
//!
//! Dependencies, and why each is here:
//! - `mx`: the Magenta sockets under test.
//! - `clap`: the command line.
//! - `indicatif`: the progress bar on standard error while the run goes on
//!   (on a terminal; elsewhere a line per workload).
//! - `serde`, `serde_json`: the `--json` report (and reading it back in the
//!   tests).
//! - `rustix`: the Linux side through safe wrappers, so this crate needs no
//!   `unsafe`: `socketpair`, `send`/`recv` on `SOCK_SEQPACKET`, `epoll`,
//!   CPU affinity (pinning) and `RLIMIT_NOFILE` (100k socketpairs are 200k
//!   descriptors).
//! - `mx-tokio`, `tokio`: the async stream workload (`AsyncSocket` against
//!   tokio's `UnixStream` on a `current_thread` runtime, with
//!   `tokio::io::duplex` as its reference).
//! - `crossbeam-channel`: a reference in the datagram workload, the bounded
//!   channel a Rust program would use instead for messages between threads.
//! - `mx-shm`: keeping an AF_UNIX socket open across `exec` for the
//!   cross-process workload's peer (the one place that needs `unsafe`,
//!   kept there).
//! - `plotters`: the `--svg` chart, with its SVG backend only (no default
//!   features: nothing that needs fonts or system libraries).
//! - `roxmltree` (tests only): parses the chart to check it is SVG and names
//!   its series.

#![forbid(unsafe_code)]

mod bench;
mod chart;
mod os;
mod progress;

use std::process::ExitCode;
use std::time::Instant;

use clap::builder::RangedU64ValueParser;
use clap::{Args, Parser, Subcommand};

use bench::{Config, Cpus, Ctx, Report, Workload};
use progress::Progress;

/// The limits of the numeric options, as stated in their help.
mod limits {
    /// `--reps`.
    pub(crate) const REPS: u64 = 1_000;
    /// `--stream-mib` and `--async-stream-mib`: 1 TiB.
    pub(crate) const STREAM_MIB: u64 = 1 << 20;
    /// `--rounds`.
    pub(crate) const ROUNDS: u64 = 10_000_000;
    /// `--pairs`.
    pub(crate) const PAIRS: u64 = 1_000_000;
    /// `--idle-reps`.
    pub(crate) const IDLE_REPS: u64 = 100;
    /// `--fanin-pairs`: what `mx_object_wait_many` takes.
    pub(crate) const FANIN_PAIRS: u64 = mx::core::abi::WAIT_MANY_MAX_ITEMS as u64;
}

/// Magenta sockets in Linux user space.
#[derive(Debug, Parser)]
#[command(name = "mxsock", version, about)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmark Magenta sockets against AF_UNIX socketpair (default run
    /// under 30 s, --quick under 10 s).
    Bench(Box<BenchArgs>),
    /// Internal: the peer process of `bench`'s cross-process workload.
    #[command(hide = true)]
    BenchPeer {
        /// What to do.
        #[arg(long, value_enum)]
        role: bench::cross::Role,
        /// Which socket it was given.
        #[arg(long, value_enum)]
        transport: bench::cross::Transport,
        /// Bytes, messages or round trips.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        count: u64,
        /// The CPU to pin to, 0 to 1,023.
        #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(0..1024))]
        cpu: usize,
        /// The inherited descriptor (`--transport unix`).
        #[arg(long)]
        fd: Option<i32>,
    },
    /// Internal: creates and holds socketpairs for `bench`'s idle workload.
    #[command(hide = true)]
    HoldSocketpairs {
        /// How many pairs, at least 1.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        pairs: u64,
        /// The CPU to pin to, 0 to 1,023.
        #[arg(long, value_parser = RangedU64ValueParser::<usize>::new().range(0..1024))]
        cpu: usize,
    },
}

/// Options of `mxsock bench`.
#[derive(Debug, Args)]
struct BenchArgs {
    /// Print the report as JSON on standard output instead of the table.
    #[arg(long)]
    json: bool,
    /// With the table: what the columns and each reference bound are, and
    /// the notes (components of figures, what was not measured).
    #[arg(long, short)]
    verbose: bool,
    /// A shorter run: fewer repetitions, smaller sizes.
    #[arg(long)]
    quick: bool,
    /// Only these workloads (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Workload>,
    /// Repetitions of each timed workload, per side: 1 to 1,000 [default: 5,
    /// --quick: 3].
    #[arg(long, value_name = "COUNT",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=limits::REPS))]
    reps: Option<usize>,
    /// Stream workload: MiB per run, 1 to 1,048,576 (1 TiB) [default: 512,
    /// --quick: 256].
    ///
    /// The stream is generated and checked as it goes: the size costs time,
    /// not memory.
    #[arg(long, value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(1..=limits::STREAM_MIB))]
    stream_mib: Option<u64>,
    /// Async stream workload: MiB per run, 1 to 1,048,576 (1 TiB) [default:
    /// 64, --quick: 16].
    #[arg(long, value_name = "MIB",
          value_parser = clap::value_parser!(u64).range(1..=limits::STREAM_MIB))]
    async_stream_mib: Option<u64>,
    /// Datagram workload: 64-byte messages per run, at least 1 [default:
    /// 300,000, --quick: 200,000].
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    datagrams: Option<u64>,
    /// Channel workload: 64-byte messages per run (for each of its two
    /// rows), at least 1 [default: 200,000, --quick: 100,000].
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    channel_messages: Option<u64>,
    /// Round-trip workload: round trips per run, 1 to 10,000,000 [default:
    /// 10,000, --quick: 4,000].
    ///
    /// Every round trip's time is kept for the percentiles and the --svg
    /// chart: 8 bytes each, for every repetition of each of three sides.
    #[arg(long, value_name = "COUNT",
          value_parser = clap::value_parser!(u64).range(1..=limits::ROUNDS))]
    rounds: Option<u64>,
    /// Idle workload: pairs created (and held) per run, 1 to 1,000,000, and
    /// see --help [default: 100,000].
    ///
    /// Every pair stays open until the workload ends, so the workload holds
    /// (idle-reps + 1/8) x pairs of each kind at once (the 1/8 is the
    /// warm-up), and that must be at most 2,000,000: Magenta's handle table
    /// holds 4,194,304 handles, two per pair. Each socketpair is two open
    /// files: they are held by helper processes of (hard RLIMIT_NOFILE minus
    /// 64) / 2 pairs each, and must fit in the system's open-file limit
    /// (fs.file-max). Both limits are checked before the run starts.
    #[arg(long, value_name = "COUNT",
          value_parser = clap::value_parser!(u64).range(1..=limits::PAIRS))]
    pairs: Option<u64>,
    /// Idle workload: repetitions per side, 1 to 100 [default: 3, --quick:
    /// 1].
    ///
    /// Bounded with --pairs: see there.
    #[arg(long, value_name = "COUNT",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=limits::IDLE_REPS))]
    idle_reps: Option<usize>,
    /// Fan-in workload: socket pairs served by one thread, 1 to 1,024
    /// [default: 64].
    ///
    /// 1,024 is the most handles `mx_object_wait_many` takes. The socketpair
    /// side keeps two open files per pair in this process: the soft
    /// RLIMIT_NOFILE is raised for them if needed, and the run stops before
    /// it starts if the hard limit is too low.
    #[arg(long, value_name = "COUNT",
          value_parser = RangedU64ValueParser::<usize>::new().range(1..=limits::FANIN_PAIRS))]
    fanin_pairs: Option<usize>,
    /// Fan-in workload: messages per run, at least 1 [default: 250,000,
    /// --quick: 100,000].
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    fanin_messages: Option<u64>,
    /// Also draw the report as an SVG chart into FILE: every row against
    /// socketpair and its reference bounds, and the round-trip distribution.
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
    /// Exit with status 3 if a row with a target misses it, naming those
    /// rows on standard error (the report is printed first, as usual).
    #[arg(long)]
    check: bool,
    /// For testing --check: sets row ID's target on mx/sp to RATIO (at least
    /// RATIO for rates, at most for times and sizes).
    #[arg(long, hide = true, value_name = "ID=RATIO", value_parser = parse_target)]
    set_target: Vec<(String, f64)>,
    /// No progress on standard error: neither the bar (shown on a terminal)
    /// nor the line per workload (printed otherwise).
    #[arg(long)]
    no_progress: bool,
}

impl BenchArgs {
    /// The configuration: `--quick` or default sizes, then the explicit
    /// options.
    fn config(&self) -> Config {
        let base = if self.quick {
            Config {
                reps: 3,
                stream_bytes: 256 << 20,
                async_stream_bytes: 16 << 20,
                datagrams: 200_000,
                channel_messages: 100_000,
                rounds: 4_000,
                idle_pairs: 100_000,
                idle_reps: 1,
                fanin_pairs: 64,
                fanin_messages: 100_000,
                workloads: Workload::ALL.to_vec(),
            }
        } else {
            Config {
                reps: 5,
                stream_bytes: 512 << 20,
                async_stream_bytes: 64 << 20,
                datagrams: 300_000,
                channel_messages: 200_000,
                rounds: 10_000,
                idle_pairs: 100_000,
                idle_reps: 3,
                fanin_pairs: 64,
                fanin_messages: 250_000,
                workloads: Workload::ALL.to_vec(),
            }
        };
        Config {
            reps: self.reps.unwrap_or(base.reps),
            stream_bytes: self.stream_mib.map_or(base.stream_bytes, |mib| mib << 20),
            async_stream_bytes: self
                .async_stream_mib
                .map_or(base.async_stream_bytes, |mib| mib << 20),
            datagrams: self.datagrams.unwrap_or(base.datagrams),
            channel_messages: self.channel_messages.unwrap_or(base.channel_messages),
            rounds: self.rounds.unwrap_or(base.rounds),
            idle_pairs: self.pairs.unwrap_or(base.idle_pairs),
            idle_reps: self.idle_reps.unwrap_or(base.idle_reps),
            fanin_pairs: self.fanin_pairs.unwrap_or(base.fanin_pairs),
            fanin_messages: self.fanin_messages.unwrap_or(base.fanin_messages),
            workloads: if self.only.is_empty() {
                base.workloads
            } else {
                self.only.clone()
            },
        }
    }
}

/// `--set-target ID=RATIO`: a row id and a positive ratio.
fn parse_target(text: &str) -> Result<(String, f64), String> {
    let (id, ratio) = text.split_once('=').ok_or("expected ID=RATIO")?;
    match ratio.parse::<f64>() {
        Ok(ratio) if ratio.is_finite() && ratio > 0.0 && !id.is_empty() => {
            Ok((id.to_string(), ratio))
        }
        _ => Err(format!(
            "expected a row id, '=' and a positive ratio, not {text:?}"
        )),
    }
}

/// How `mxsock bench` ended, when it produced a report.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Verdict {
    /// The report is out; nothing to complain about.
    Done,
    /// `--check` found rows that miss their targets.
    TargetsMissed,
}

/// `mxsock bench`.
fn bench(args: &BenchArgs) -> Result<Verdict, String> {
    let began = Instant::now();
    let allowed = os::allowed_cpus();
    let ctx = Ctx {
        config: args.config(),
        cpus: Cpus::from_allowed(&allowed),
        progress: Progress::new(args.no_progress),
    };
    let result = bench::run(&ctx);
    ctx.progress.finish();
    let findings = result?;
    let mut rows = findings.rows;
    for (id, ratio) in &args.set_target {
        let row = rows
            .iter_mut()
            .find(|row| &row.id == id)
            .ok_or_else(|| format!("--set-target: no row {id:?} in this run"))?;
        let target = match row.better {
            bench::Better::Higher => bench::Target::at_least(*ratio),
            bench::Better::Lower => bench::Target::at_most(*ratio),
        };
        *row = row.clone().target(target);
    }
    let report = Report {
        tool: format!("mxsock {}", env!("CARGO_PKG_VERSION")),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        allowed_cpus: allowed,
        cpus: ctx.cpus,
        spin_budget_ns: mx::spin_budget(),
        all_verified: rows.iter().all(|row| row.verified),
        all_targets_met: rows.iter().all(|row| row.met != Some(false)),
        config: ctx.config,
        rows,
        notes: findings.notes,
        workload_seconds: findings.seconds,
        seconds: began.elapsed().as_secs_f64(),
        round_trips: findings.round_trips,
    };
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report.render(args.verbose));
    }
    if let Some(path) = &args.svg {
        let svg = chart::svg(&report)?;
        std::fs::write(path, svg).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    if args.check {
        if let Some(complaint) = report.missed_targets() {
            eprint!("{complaint}");
            return Ok(Verdict::TargetsMissed);
        }
    }
    Ok(Verdict::Done)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(args) => bench(args),
        Command::HoldSocketpairs { pairs, cpu } => {
            bench::hold_socketpairs(*pairs, *cpu).map(|()| Verdict::Done)
        }
        Command::BenchPeer {
            role,
            transport,
            count,
            cpu,
            fd,
        } => bench::cross::peer(*role, *transport, *count, *cpu, *fd).map(|()| Verdict::Done),
    };
    match result {
        Ok(Verdict::Done) => ExitCode::SUCCESS,
        Ok(Verdict::TargetsMissed) => ExitCode::from(3),
        Err(error) => {
            eprintln!("mxsock: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// `mxsock bench` with `args`.
    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        let cli = Cli::try_parse_from(["mxsock", "bench"].iter().chain(args))?;
        match cli.command {
            Command::Bench(bench) => Ok(*bench),
            Command::HoldSocketpairs { .. } | Command::BenchPeer { .. } => {
                unreachable!("parsed bench")
            }
        }
    }

    /// The options of `mxsock bench` that take a number.
    fn numeric_options() -> Vec<String> {
        let command = Cli::command();
        let bench = command
            .find_subcommand("bench")
            .expect("a bench subcommand");
        bench
            .get_arguments()
            .filter(|arg| {
                arg.get_value_names()
                    .is_some_and(|names| names.iter().any(|n| n == "COUNT" || n == "MIB"))
            })
            .filter_map(|arg| arg.get_long().map(str::to_string))
            .collect()
    }

    #[test]
    fn every_numeric_option_rejects_zero_and_states_its_range() {
        let options = numeric_options();
        assert_eq!(options.len(), 10, "{options:?}");
        let mut command = Cli::command();
        let help = command
            .find_subcommand_mut("bench")
            .expect("a bench subcommand")
            .render_long_help()
            .to_string();
        for option in &options {
            let flag = format!("--{option}");
            let error = parse(&[&flag, "0"]).err();
            assert_eq!(
                error.map(|e| e.kind()),
                Some(clap::error::ErrorKind::ValueValidation),
                "{flag} 0"
            );
            assert!(parse(&[&flag, "1"]).is_ok(), "{flag} 1");
            assert!(parse(&[&flag, "x"]).is_err(), "{flag} x");
            let text = &help[help.find(&flag).expect("documented")..];
            let first_line = text.lines().nth(1).unwrap_or_default();
            assert!(
                first_line.contains(" 1 to ") || first_line.contains("at least 1"),
                "{flag}: no range in {first_line:?}"
            );
        }
    }

    #[test]
    fn the_issue_s_cases_are_refused() {
        for args in [
            ["--reps", "0"],
            ["--stream-mib", "0"],
            ["--pairs", "0"],
            ["--fanin-pairs", "1025"],
            ["--pairs", "1000001"],
            ["--rounds", "10000001"],
        ] {
            assert!(parse(&args).is_err(), "{args:?}");
        }
        let args = parse(&["--fanin-pairs", "1024", "--reps", "1000"]).expect("in range");
        assert_eq!(
            (args.config().fanin_pairs, args.config().reps),
            (1024, 1000)
        );
    }

    #[test]
    fn set_target_takes_an_id_and_a_positive_ratio() {
        assert_eq!(parse_target("stream=1e9"), Ok(("stream".to_string(), 1e9)));
        for bad in [
            "stream",
            "stream=0",
            "stream=-1",
            "stream=x",
            "=2",
            "stream=inf",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_limits_in_the_help_are_the_code_s() {
        // The help says 1,024 and 4,194,304 in words (and the idle
        // workload's tests check its 2,000,000).
        assert_eq!(limits::FANIN_PAIRS, 1024);
        assert_eq!(
            mx::core::handle::BUCKETS * mx::core::handle::BUCKET_CAPACITY,
            4_194_304
        );
        assert_eq!(limits::STREAM_MIB << 20, 1 << 40);
    }
}

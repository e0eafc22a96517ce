//! `mxsock`: the command-line front door of the project.
//!
//! `mxsock bench` runs, in one process and one run, each workload on Magenta
//! sockets (the `mx` crate) and on AF_UNIX `socketpair`, and prints a table:
//! both figures, their ratio, the target on the ratio, and reference bounds
//! measured in the same run. `--json` prints the same as JSON. See
//! [`mod@bench`] for how the workloads keep the comparison honest.
//!
//! Dependencies, and why each is here:
//! - `mx`: the Magenta sockets under test.
//! - `clap`: the command line.
//! - `indicatif`: progress bars on standard error while the run goes on.
//! - `serde`, `serde_json`: the `--json` report.
//! - `rustix`: the Linux side through safe wrappers, so this crate needs no
//!   `unsafe`: `socketpair`, `send`/`recv` on `SOCK_SEQPACKET`, `epoll`,
//!   CPU affinity (pinning) and `RLIMIT_NOFILE` (100k socketpairs are 200k
//!   descriptors).
//! - `mx-tokio`, `tokio`: the async stream workload (`AsyncSocket` against
//!   tokio's `UnixStream` on a `current_thread` runtime, with
//!   `tokio::io::duplex` as its reference).
//! - `crossbeam-channel`: a reference in the datagram workload, the bounded
//!   channel a Rust program would use instead for messages between threads.

#![forbid(unsafe_code)]

mod bench;
mod os;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use bench::{Config, Cpus, Ctx, Report, Workload};

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
    Bench(BenchArgs),
    /// Internal: creates and holds socketpairs for `bench`'s idle workload.
    #[command(hide = true)]
    HoldSocketpairs {
        /// How many pairs.
        #[arg(long)]
        pairs: u64,
        /// The CPU to pin to.
        #[arg(long)]
        cpu: usize,
    },
}

/// Options of `mxsock bench`.
#[derive(Debug, Args)]
struct BenchArgs {
    /// Print the report as JSON on standard output instead of the table.
    #[arg(long)]
    json: bool,
    /// A shorter run: fewer repetitions, smaller sizes.
    #[arg(long)]
    quick: bool,
    /// Only these workloads (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Workload>,
    /// Repetitions of each timed workload, per side.
    #[arg(long)]
    reps: Option<usize>,
    /// Stream workload: MiB per run.
    #[arg(long, value_name = "MIB")]
    stream_mib: Option<u64>,
    /// Async stream workload: MiB per run.
    #[arg(long, value_name = "MIB")]
    async_stream_mib: Option<u64>,
    /// Datagram workload: 64-byte messages per run.
    #[arg(long, value_name = "COUNT")]
    datagrams: Option<u64>,
    /// Round-trip workload: round trips per run.
    #[arg(long, value_name = "COUNT")]
    rounds: Option<u64>,
    /// Idle workload: pairs created (and held) per run.
    #[arg(long, value_name = "COUNT")]
    pairs: Option<u64>,
    /// Idle workload: repetitions per side.
    #[arg(long, value_name = "COUNT")]
    idle_reps: Option<usize>,
    /// Fan-in workload: socket pairs served by one thread.
    #[arg(long, value_name = "COUNT")]
    fanin_pairs: Option<usize>,
    /// Fan-in workload: messages per run.
    #[arg(long, value_name = "COUNT")]
    fanin_messages: Option<u64>,
    /// No progress bar.
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
                rounds: 10_000,
                idle_pairs: 100_000,
                idle_reps: 3,
                fanin_pairs: 64,
                fanin_messages: 250_000,
                workloads: Workload::ALL.to_vec(),
            }
        };
        Config {
            reps: self.reps.unwrap_or(base.reps).max(1),
            stream_bytes: self.stream_mib.map_or(base.stream_bytes, |mib| mib << 20),
            async_stream_bytes: self
                .async_stream_mib
                .map_or(base.async_stream_bytes, |mib| mib << 20),
            datagrams: self.datagrams.unwrap_or(base.datagrams),
            rounds: self.rounds.unwrap_or(base.rounds),
            idle_pairs: self.pairs.unwrap_or(base.idle_pairs),
            idle_reps: self.idle_reps.unwrap_or(base.idle_reps).max(1),
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

/// The progress bar: on standard error, hidden when asked or when standard
/// error is not a terminal.
fn progress_bar(hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// `mxsock bench`.
fn bench(args: &BenchArgs) -> Result<(), String> {
    let began = Instant::now();
    let allowed = os::allowed_cpus();
    let ctx = Ctx {
        config: args.config(),
        cpus: Cpus::from_allowed(&allowed),
        bar: progress_bar(args.no_progress),
    };
    let result = bench::run(&ctx);
    ctx.bar.finish_and_clear();
    let findings = result?;
    let rows = findings.rows;
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
    };
    if args.json {
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        println!("{json}");
    } else {
        print!("{}", report.render());
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Bench(args) => bench(args),
        Command::HoldSocketpairs { pairs, cpu } => bench::hold_socketpairs(*pairs, *cpu),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mxsock: {error}");
            ExitCode::FAILURE
        }
    }
}

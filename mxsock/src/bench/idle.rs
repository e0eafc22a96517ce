//! Workload 5: idle footprint and creation rate.
//!
//! Creates many socket pairs and holds them: the time to create them gives
//! the creation rate; the memory they take gives the footprint per idle
//! pair. Magenta stream sockets on one side, AF_UNIX `SOCK_STREAM`
//! socketpairs on the other.
//!
//! Memory is counted where each one keeps it:
//! - Magenta sockets live in this process: resident bytes (`/proc/self/statm`)
//!   before and after.
//! - A socketpair lives in the kernel: the system-wide `Slab` figure of
//!   `/proc/meminfo` before and after (socket inodes, `unix_sock`, dentries,
//!   files), plus the resident bytes of the process holding it (which barely
//!   move).
//!
//! 100k socketpairs are 200k descriptors, and a process that lacks
//! `CAP_SYS_RESOURCE` cannot raise its hard limit on open files (20,000 on
//! the project's machines). So the socketpairs are created and held by
//! helper processes, this same binary run as `mxsock hold-socketpairs`,
//! each holding as many as its limit allows, one after the other on the
//! same pinned CPU. They start and report ready before the first reading,
//! so only the pairs count; their creation times, measured inside them
//! around the `socketpair` calls alone, add up to the creation rate.
//!
//! Honesty rules: the vectors that hold the pairs are allocated and touched
//! before the first reading, so they do not count; and every pair stays open
//! until the workload ends, warm-up included, so no repetition reuses memory
//! an earlier one freed (the warm-up also absorbs whatever earlier workloads
//! left free in the allocator). `/proc/meminfo` is system-wide: other
//! programs allocating meanwhile add noise, which the median tames.
//!
//! The creation thread is pinned to the first CPU.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use mx::api::{Socket, SocketOpts};
use mx::core::handle::{BUCKETS, BUCKET_CAPACITY};

use super::{interleave, median, Better, Ctx, Outcome, Row, Target};
use crate::os;

/// The most pairs of each kind the workload may hold at once: Magenta's
/// handle table holds `BUCKETS * BUCKET_CAPACITY` handles (4,194,304), two
/// per pair, and the rest of the process needs some too.
pub(crate) const MAX_HELD_PAIRS: u64 = 2_000_000;

const _: () = assert!(
    2 * MAX_HELD_PAIRS + 100_000 <= (BUCKETS * BUCKET_CAPACITY) as u64,
    "the handle table must hold every pair the idle workload keeps"
);

/// The pairs a warm-up creates.
fn warm_up_pairs(pairs: u64) -> u64 {
    (pairs / 8).max(1)
}

/// The pairs of each kind held at once by the end of the workload: every
/// pair stays open until it ends, the warm-up's included.
pub(crate) fn held_pairs(pairs: u64, reps: usize) -> u64 {
    warm_up_pairs(pairs).saturating_add((reps as u64).saturating_mul(pairs))
}

/// Checks, before anything runs, that the workload's pairs fit in
/// Magenta's handle table and in the system's open-file limit.
pub(crate) fn preflight(pairs: u64, reps: usize) -> Outcome<()> {
    let held = held_pairs(pairs, reps);
    if held > MAX_HELD_PAIRS {
        return Err(format!(
            "--pairs {pairs} with --idle-reps {reps} holds {held} pairs of each kind at once \
             (every pair stays open until the workload ends, warm-up included); Magenta's \
             handle table allows at most {MAX_HELD_PAIRS}: lower --pairs or --idle-reps"
        ));
    }
    if let Some(free) = os::system_files_free() {
        let need = 2 * held + 1024;
        if need > free {
            return Err(format!(
                "--pairs {pairs} with --idle-reps {reps} holds {held} socketpairs at once, \
                 {need} open files with a margin, and the system allows {free} more \
                 (fs.file-max): lower --pairs or --idle-reps"
            ));
        }
    }
    Ok(())
}

/// One run's figures, per pair.
#[derive(Copy, Clone, Debug, Default)]
struct Sample {
    /// Resident bytes of this process.
    resident: f64,
    /// Kernel slab bytes (system-wide delta).
    slab: f64,
    /// Of which unreclaimable.
    unreclaimable: f64,
    /// Millions of pairs created per second.
    rate: f64,
}

impl Sample {
    /// Everything the pair costs: kernel slab plus process memory.
    fn total(&self) -> f64 {
        self.slab + self.resident
    }
}

/// Memory readings.
#[derive(Copy, Clone, Debug)]
struct Reading {
    resident: u64,
    slab: os::Slab,
}

fn read() -> Outcome<Reading> {
    Ok(Reading {
        resident: os::resident_bytes()?,
        slab: os::slab()?,
    })
}

/// The per-pair figures between two readings.
fn sample(before: Reading, after: Reading, pairs: u64, seconds: f64) -> Sample {
    let per = |a: u64, b: u64| (b as f64 - a as f64) / pairs as f64;
    Sample {
        resident: per(before.resident, after.resident),
        slab: per(before.slab.total, after.slab.total),
        unreclaimable: per(before.slab.unreclaimable, after.slab.unreclaimable),
        rate: pairs as f64 / seconds / 1e6,
    }
}

/// Creates `pairs` Magenta socket pairs into `hold`.
fn magenta(pairs: u64, hold: &mut Vec<Vec<(Socket, Socket)>>) -> Outcome<Sample> {
    let mut held: Vec<(Socket, Socket)> = Vec::with_capacity(pairs as usize);
    // Touch the vector's pages now, so they are not counted below; invalid
    // handles close nothing when replaced.
    held.resize_with(pairs as usize, || {
        (
            Socket::from(mx::api::Handle::invalid()),
            Socket::from(mx::api::Handle::invalid()),
        )
    });
    let before = read()?;
    let began = Instant::now();
    for slot in held.iter_mut() {
        *slot = Socket::create(SocketOpts::Stream).map_err(|s| format!("socket_create: {s:?}"))?;
    }
    let seconds = began.elapsed().as_secs_f64();
    let after = read()?;
    hold.push(held);
    Ok(sample(before, after, pairs, seconds))
}

/// A helper process holding socketpairs (`mxsock hold-socketpairs`); it
/// exits, closing them, when this is dropped.
#[derive(Debug)]
struct Holder {
    child: Child,
    /// Closing it tells the helper to exit.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    /// Starts a helper that will create `pairs` pairs on `cpu`, and waits
    /// until it is ready.
    fn spawn(pairs: u64, cpu: usize) -> Outcome<Holder> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut child = Command::new(exe)
            .args([
                "hold-socketpairs",
                "--pairs",
                &pairs.to_string(),
                "--cpu",
                &cpu.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting a socketpair helper: {e}"))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err("socketpair helper without pipes".to_string());
        };
        let mut holder = Holder {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
        };
        holder.expect("ready")?;
        Ok(holder)
    }

    /// Reads the helper's next line, which must start with `word`; returns
    /// the rest.
    fn expect(&mut self, word: &str) -> Outcome<String> {
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("socketpair helper: {e}"))?;
        match line.trim_end().strip_prefix(word) {
            Some(rest) => Ok(rest.trim().to_string()),
            None => Err(format!("socketpair helper said {line:?}, not {word:?}")),
        }
    }

    /// Has the helper create its pairs; returns (seconds, resident bytes
    /// before, after).
    fn create(&mut self) -> Outcome<(f64, u64, u64)> {
        let stdin = self.stdin.as_mut().ok_or("socketpair helper closed")?;
        writeln!(stdin, "go").map_err(|e| format!("socketpair helper: {e}"))?;
        stdin
            .flush()
            .map_err(|e| format!("socketpair helper: {e}"))?;
        let line = self.expect("created")?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let parse = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        match (parse(0), parse(1), parse(2)) {
            (Some(seconds), Some(before), Some(after)) => {
                Ok((seconds, before as u64, after as u64))
            }
            _ => Err(format!("socketpair helper said {line:?}")),
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// `mxsock hold-socketpairs`: the helper's side. Pins itself to `cpu`,
/// says `ready`, waits for `go`, creates `pairs` AF_UNIX stream socketpairs
/// and says `created SECONDS RSS_BEFORE RSS_AFTER`, then holds them until
/// its standard input closes.
pub(crate) fn hold_socketpairs(pairs: u64, cpu: usize) -> Outcome<()> {
    os::pin(cpu)?;
    let need = 2 * pairs + 32;
    let limit = os::raise_nofile(need);
    if limit < need {
        return Err(format!(
            "{pairs} pairs need {need} descriptors; the limit is {limit}"
        ));
    }
    let mut held: Vec<Option<(OwnedFd, OwnedFd)>> = Vec::with_capacity(pairs as usize);
    held.resize_with(pairs as usize, || None);
    let mut lines = std::io::stdin().lines();
    let mut out = std::io::stdout();
    let say = |out: &mut std::io::Stdout, line: String| -> Outcome<()> {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("helper: {e}"))
    };
    say(&mut out, "ready".to_string())?;
    match lines.next() {
        Some(Ok(line)) if line == "go" => {}
        _ => return Ok(()),
    }
    let before = os::resident_bytes()?;
    let began = Instant::now();
    for slot in held.iter_mut() {
        *slot = Some(os::stream_pair().map_err(|e| format!("socketpair: {e}"))?);
    }
    let seconds = began.elapsed().as_secs_f64();
    let after = os::resident_bytes()?;
    say(&mut out, format!("created {seconds:e} {before} {after}"))?;
    // Hold them until the parent closes our standard input.
    for line in lines {
        if line.is_err() {
            break;
        }
    }
    drop(held);
    Ok(())
}

/// Creates `pairs` AF_UNIX socketpairs, held by helper processes pushed
/// onto `hold`, each holding as many as its open-file limit allows.
fn socketpair(pairs: u64, cpu: usize, hold: &mut Vec<Holder>) -> Outcome<Sample> {
    let per_helper = (os::nofile_hard().saturating_sub(64) / 2).clamp(1, pairs);
    let mut helpers = Vec::new();
    let mut left = pairs;
    while left > 0 {
        let these = left.min(per_helper);
        helpers.push(Holder::spawn(these, cpu)?);
        left -= these;
    }
    // Every helper is running and ready: only the pairs count from here.
    let before = read()?;
    let mut seconds = 0.0;
    let mut resident = 0u64;
    for helper in &mut helpers {
        let (took, rss_before, rss_after) = helper.create()?;
        seconds += took;
        resident += rss_after.saturating_sub(rss_before);
    }
    let after = read()?;
    hold.extend(helpers);
    let mut sample = sample(before, after, pairs, seconds);
    sample.resident = resident as f64 / pairs as f64;
    Ok(sample)
}

/// Runs the workload; returns its rows.
pub(crate) fn run(ctx: &Ctx, notes: &mut Vec<String>) -> Outcome<Vec<Row>> {
    let pairs = ctx.config.idle_pairs.max(1);
    let reps = ctx.config.idle_reps.max(1);
    let warm = warm_up_pairs(pairs);
    let cpu = ctx.cpus.first;
    let (mx, sp) = std::thread::scope(|scope| {
        scope
            .spawn(|| -> Outcome<(Vec<Sample>, Vec<Sample>)> {
                os::pin(cpu)?;
                let mut mx_hold = Vec::new();
                let mut sp_hold = Vec::new();
                let size = |warmup: bool| if warmup { warm } else { pairs };
                let [mx, sp] = interleave(
                    ctx,
                    "idle pairs",
                    reps,
                    &mut [
                        ("mx", &mut |w| magenta(size(w), &mut mx_hold)),
                        ("socketpair", &mut |w| {
                            socketpair(size(w), cpu, &mut sp_hold)
                        }),
                    ],
                )?;
                ctx.progress
                    .set_message(|| "idle pairs: closing".to_string());
                drop(mx_hold);
                drop(sp_hold);
                Ok((mx, sp))
            })
            .join()
            .map_err(|_| "footprint thread panicked".to_string())?
    })?;
    let field =
        |samples: &[Sample], f: fn(&Sample) -> f64| samples.iter().map(f).collect::<Vec<_>>();
    let sp_slab = median(&field(&sp, |s| s.slab));
    let sp_unreclaimable = median(&field(&sp, |s| s.unreclaimable));
    let sp_resident = median(&field(&sp, |s| s.resident));
    let mx_slab = median(&field(&mx, |s| s.slab));
    notes.push(format!(
        "idle socketpair: {sp_slab:.0} B kernel slab per pair ({sp_unreclaimable:.0} B of it \
         unreclaimable) + {sp_resident:.0} B resident in the process holding it; slab \
         delta while creating Magenta pairs (which allocate nothing in the kernel; other \
         programs on the machine): {mx_slab:.0} B per pair"
    ));
    let pinning = format!("creating thread on CPU {cpu}");
    let checked = format!("every creation succeeded, {pairs} pairs per run, all held open");
    Ok(vec![
        Row::new(
            "idle_bytes",
            "idle pair footprint (socketpair: kernel slab + RSS)",
            "B/pair",
            Better::Lower,
            field(&mx, |s| s.resident),
            field(&sp, Sample::total),
        )
        .target(Target::at_most(1.0 / 19.0))
        .checked(checked.clone())
        .pinning(pinning.clone()),
        Row::new(
            "create_rate",
            "pair creation rate",
            "M pairs/s",
            Better::Higher,
            field(&mx, |s| s.rate),
            field(&sp, |s| s.rate),
        )
        .target(Target::at_least(10.0))
        .checked(checked)
        .pinning(pinning),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflight_counts_every_pair_held() {
        // `--pairs`'s help says 2,000,000.
        assert_eq!(MAX_HELD_PAIRS, 2_000_000);
        assert_eq!(held_pairs(100_000, 3), 312_500);
        assert_eq!(held_pairs(1, 1), 2);
        assert!(preflight(100_000, 3).is_ok());
        let error = preflight(1_000_000, 3).unwrap_err();
        assert!(
            error.contains("--idle-reps 3 holds 3125000 pairs"),
            "{error}"
        );
    }
}

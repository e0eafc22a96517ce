//! The report: the table for people, JSON for machines.

use std::fmt::Write;

use serde::Serialize;

use super::{Config, Cpus, RoundTrips, Row, Workload};

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
    /// Every round trip timed, per placement, for `--svg` (not in the JSON:
    /// tens of thousands of numbers; the rows have the percentiles).
    #[serde(skip)]
    pub(crate) round_trips: Vec<RoundTrips>,
}

/// A figure with as many decimals as its size deserves, in at most 8
/// characters.
fn figure(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        "-".to_string()
    } else if magnitude >= 1e6 || (magnitude < 1e-3 && magnitude > 0.0) {
        format!("{value:.2e}")
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

/// A ratio, as `2.31x`, in at most 9 characters.
fn ratio(value: f64) -> String {
    if !value.is_finite() {
        "-".to_string()
    } else if value >= 1e4 || (value < 1e-3 && value > 0.0) {
        format!("{value:.2e}x")
    } else if value < 0.1 {
        format!("{value:.3}x")
    } else {
        format!("{value:.2}x")
    }
}

/// How wide the table and every other line of the report may be.
pub(crate) const WIDTH: usize = 100;

/// Splits `text` into lines of at most `width` characters, breaking at
/// spaces, and inside words only when a word alone is too long.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let gap = usize::from(used > 0);
            if used + gap + word.len() <= width {
                if gap == 1 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes `text` as a paragraph: wrapped to [`WIDTH`], the first line after
/// `first`, the others after `rest` (both indents).
fn paragraph(out: &mut String, first: &str, rest: &str, text: &str) {
    let width = WIDTH.saturating_sub(first.chars().count().max(rest.chars().count()));
    for (i, line) in wrap(text, width).iter().enumerate() {
        let indent = if i == 0 { first } else { rest };
        let _ = writeln!(out, "{indent}{line}");
    }
}

/// A table column: its width, and whether it is aligned right.
#[derive(Copy, Clone, Debug)]
struct Column {
    width: usize,
    right: bool,
}

/// The table's columns: workload, unit, mx, socketpair, mx/sp, target,
/// met. One space between columns: 46 + 9 + 8 + 10 + 9 + 9 + 3 + 6 = 100.
const COLUMNS: [Column; 7] = [
    Column::left(46),
    Column::right(9),
    Column::right(8),
    Column::right(10),
    Column::right(9),
    Column::right(9),
    Column::right(3),
];

impl Column {
    /// A column of text aligned left.
    const fn left(width: usize) -> Column {
        Column {
            width,
            right: false,
        }
    }

    /// A column of text aligned right.
    const fn right(width: usize) -> Column {
        Column { width, right: true }
    }
}

/// Writes one table row; a cell too long for its column wraps onto more
/// lines, the other cells staying on the first.
fn table_row(out: &mut String, cells: [&str; 7]) {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(COLUMNS)
        .map(|(cell, column)| wrap(cell, column.width))
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    for i in 0..height {
        let mut line = String::new();
        for (k, (lines, column)) in wrapped.iter().zip(COLUMNS).enumerate() {
            let text = lines.get(i).map_or("", String::as_str);
            let width = column.width;
            if k > 0 {
                line.push(' ');
            }
            if column.right {
                let _ = write!(line, "{text:>width$}");
            } else {
                let _ = write!(line, "{text:<width$}");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// What the columns mean, for `--verbose`.
const COLUMNS_EXPLAINED: [&str; 4] = [
    "mx, socketpair: the median over the repetitions of each side's figure, in the row's \
     unit; both sides do the same work under the same conditions, alternating which goes \
     first.",
    "mx/sp: the mx figure divided by the socketpair figure. For rates more is better; for \
     times and sizes less is better.",
    "target: the goal set for mx/sp in that row (>= for rates, <= for times and sizes); rows \
     without one are measured for information.",
    "met: whether this run's mx/sp reaches the target (yes or NO); with --check, mxsock \
     exits with status 3 when a row says NO.",
];

/// The legend under the table, always shown: what `target` and `met` mean.
const LEGEND: [&str; 2] = [
    "target: goal for mx/sp (>= for rates, <= for times and sizes); met: whether mx/sp meets it.",
    "reference: bounds measured in the same run. --verbose explains columns, bounds and notes.",
];

/// What each reference bound is, by name.
const BOUNDS_EXPLAINED: [(&str, &str); 8] = [
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
        "ring round trip",
        "ring round trip: the same round trip through two bare byte rings, one each way, \
         between the same two CPUs: each side's index on its own cache line, cached views \
         of the other's, spinning waits. Each hop moves the index's line and the data's: \
         the hand-off any ring-based socket pays.",
    ),
    (
        "yield ping-pong",
        "yield ping-pong: the same round trip through one atomic word on one CPU, each \
         waiting thread calling sched_yield at every poll: two thread switches, no sleeping.",
    ),
];

impl Report {
    /// The report as a table, every line at most [`WIDTH`] characters;
    /// `verbose` adds what the columns and the reference bounds are, and
    /// the notes.
    pub(crate) fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        let reps = self.config.reps;
        paragraph(
            &mut out,
            "",
            "",
            &format!(
                "{} bench: Magenta sockets (mx) against AF_UNIX socketpair, one process, one run",
                self.tool
            ),
        );
        paragraph(
            &mut out,
            "",
            "",
            &format!(
                "CPUs allowed: {:?}; threads pinned as listed below; mx spin budget {} ns; {reps} repetitions per side ({} for \
                 idle pairs), sides alternating which goes first; figures are medians; mx/sp = \
                 mx / socketpair.",
                self.allowed_cpus, self.spin_budget_ns, self.config.idle_reps
            ),
        );
        let _ = writeln!(out);
        table_row(
            &mut out,
            [
                "workload",
                "unit",
                "mx",
                "socketpair",
                "mx/sp",
                "target",
                "met",
            ],
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
            table_row(
                &mut out,
                [
                    &row.label,
                    &row.unit,
                    &figure(row.mx),
                    &figure(row.socketpair),
                    &ratio(row.ratio),
                    &target,
                    met,
                ],
            );
            if !row.bounds.is_empty() {
                let bounds = row
                    .bounds
                    .iter()
                    .map(|b| format!("{} {}", b.name, figure(b.value)))
                    .collect::<Vec<_>>()
                    .join(", ");
                paragraph(&mut out, "  reference: ", "             ", &bounds);
            }
        }
        let _ = writeln!(out);
        for line in LEGEND {
            paragraph(&mut out, "", "", line);
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
            paragraph(
                &mut out,
                "  ",
                "      ",
                &format!("{}: {}; checked {}", row.label, row.pinning, row.checked),
            );
        }
        if verbose {
            self.explain(&mut out);
        }
        let took = self
            .workload_seconds
            .iter()
            .map(|(workload, seconds)| format!("{} {seconds:.1}", workload.name()))
            .collect::<Vec<_>>()
            .join(", ");
        paragraph(
            &mut out,
            "",
            "",
            &format!(
                "All data verified: {}. Targets met: {}. Run took {:.1} s ({took}).",
                if self.all_verified { "yes" } else { "NO" },
                if self.all_targets_met {
                    "all"
                } else {
                    "not all"
                },
                self.seconds
            ),
        );
        out
    }

    /// For `--check`: `None` if every row with a target meets it, else a
    /// message naming the rows that miss theirs, one per line.
    pub(crate) fn missed_targets(&self) -> Option<String> {
        let with_target = self.rows.iter().filter(|row| row.met.is_some()).count();
        let missed: Vec<&Row> = self
            .rows
            .iter()
            .filter(|row| row.met == Some(false))
            .collect();
        if missed.is_empty() {
            return None;
        }
        let mut out = format!(
            "mxsock: --check: {} of {with_target} targets missed:\n",
            missed.len()
        );
        for row in missed {
            let target = row
                .target
                .map_or(String::new(), |t| format!("{} {}", t.op, ratio(t.ratio)));
            let _ = writeln!(
                out,
                "  {} ({}): mx/sp {}, target {target}",
                row.id,
                row.label,
                ratio(row.ratio)
            );
        }
        Some(out)
    }

    /// The `--verbose` part: the columns, the reference bounds present,
    /// the notes.
    fn explain(&self, out: &mut String) {
        let _ = writeln!(out, "Columns:");
        for text in COLUMNS_EXPLAINED {
            paragraph(out, "  ", "    ", text);
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
            let _ = writeln!(out, "Reference bounds (same run, the row's unit):");
            for text in explained {
                paragraph(out, "  ", "    ", text);
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "Notes:");
            for note in &self.notes {
                paragraph(out, "  ", "    ", note);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::bench::tests::tiny_config;
    use crate::bench::{Better, Bound, Target};

    /// A report with every field filled, some of them far too long for
    /// their column.
    pub(crate) fn long_report() -> Report {
        let long_label = "a workload label much longer than its column, with words and a \
                          veryveryveryveryveryveryveryveryveryveryveryverylongword in it";
        let rows = vec![
            Row::new(
                "short",
                "stream throughput, 64 KiB writes",
                "GB/s",
                Better::Higher,
                vec![9.44],
                vec![4.26],
            )
            .target(Target::at_least(2.0))
            .bound(Bound::new("memcpy/2", 14.9))
            .bound(Bound::new("memcpy", 29.9))
            .bound(Bound::new("2-CPU ring", 8.93))
            .checked("every byte".to_string())
            .pinning("writer on CPU 1, reader on CPU 0".to_string()),
            Row::new(
                "long",
                long_label,
                "very long unit per second",
                Better::Lower,
                vec![123_456_789.0],
                vec![0.000_012_3],
            )
            .target(Target::at_most(1e-7))
            .bound(Bound::new(&"a bound name that goes on ".repeat(8), 1e300))
            .bound(Bound::new("cached-index ring", f64::NAN))
            .bound(Bound::new(&"x".repeat(150), 12.0))
            .checked("length, sequence number and payload of every message ".repeat(4))
            .pinning("z".repeat(180)),
        ];
        Report {
            tool: "mxsock 0.1.0".to_string(),
            command: "mxsock bench".to_string(),
            allowed_cpus: (0..300).collect(),
            cpus: Cpus {
                first: 0,
                second: Some(1),
            },
            spin_budget_ns: 20_000,
            config: tiny_config(),
            rows,
            all_verified: true,
            all_targets_met: false,
            notes: vec![
                "fan-in messages per server wake-up (median): wait_many 100.0 ".repeat(6),
                "n".repeat(355),
            ],
            workload_seconds: Workload::ALL.iter().map(|&w| (w, 1.25)).collect(),
            seconds: 7.5,
            round_trips: ["across CPUs", "same CPU"]
                .iter()
                .enumerate()
                .map(|(k, placement)| {
                    let times = |base: u64| (0..500).map(|i| base + i * i).collect();
                    RoundTrips {
                        placement: placement.to_string(),
                        reference: ["cache-line ping-pong", "yield ping-pong"][k].to_string(),
                        mx: times(1_400),
                        socketpair: times(12_000),
                        bound: times(370),
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn every_line_fits_in_100_columns() {
        let report = long_report();
        for verbose in [false, true] {
            let text = report.render(verbose);
            for line in text.lines() {
                assert!(
                    line.chars().count() <= WIDTH,
                    "{} columns (verbose {verbose}): {line:?}",
                    line.chars().count()
                );
            }
        }
    }

    #[test]
    fn the_default_table_explains_target_and_met_and_points_to_verbose() {
        let report = long_report();
        let short = report.render(false);
        let long = report.render(true);
        for needle in [
            "target: goal for mx/sp",
            "met: whether",
            "--verbose",
            "memcpy/2 14.9",
        ] {
            assert!(short.contains(needle), "no {needle:?} in:\n{short}");
        }
        for needle in [
            "Notes:",
            "Reference bounds",
            "Columns:",
            "memcpy/2, memcpy: one",
        ] {
            assert!(
                !short.contains(needle),
                "{needle:?} without --verbose:\n{short}"
            );
            assert!(
                long.contains(needle),
                "no {needle:?} with --verbose:\n{long}"
            );
        }
        // The long label is all there, over several lines.
        assert!(short.contains("veryveryvery"), "{short}");
        assert!(short.contains("1.23e8"), "{short}");
    }

    #[test]
    fn check_names_the_rows_that_miss_their_targets() {
        let mut report = long_report();
        let complaint = report.missed_targets().expect("a row misses");
        assert!(complaint.starts_with("mxsock: --check: 1 of 2 targets missed:"));
        assert!(
            complaint.contains("\n  long (a workload label"),
            "{complaint}"
        );
        assert!(complaint.contains("target <= 1.00e-7x"), "{complaint}");
        assert!(!complaint.contains("short"), "{complaint}");
        report.rows.retain(|row| row.id == "short");
        assert_eq!(report.missed_targets(), None);
        report.rows[0].met = None;
        assert_eq!(report.missed_targets(), None, "rows without targets pass");
    }

    #[test]
    fn wrap_breaks_at_spaces_and_splits_only_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
        assert_eq!(wrap("ab cdefghij", 4), ["ab", "cdef", "ghij"]);
    }

    #[test]
    fn figures_stay_narrow() {
        for value in [
            0.0, 1e-9, -1e-5, 0.05, 3.25, 42.42, 5068.0, 9.9e5, 1e300, -1e300,
        ] {
            assert!(figure(value).len() <= 9, "{value}: {}", figure(value));
            assert!(ratio(value.abs()).len() <= 9, "{value}: {}", ratio(value));
        }
    }
}

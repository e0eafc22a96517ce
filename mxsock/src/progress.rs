//! Progress on standard error while `mxsock bench` runs: a bar on a
//! terminal, one line per finished workload otherwise (a log, a CI job),
//! nothing with `--no-progress`. Standard output carries only the report.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How the run shows its progress.
#[derive(Debug)]
pub(crate) enum Progress {
    /// A bar that counts runs (standard error is a terminal).
    Bar(ProgressBar),
    /// `mxsock: WORKLOAD done in S s` once each workload ends (standard
    /// error is not a terminal).
    Lines,
    /// Nothing (`--no-progress`).
    Silent,
}

impl Progress {
    /// The bar when standard error is a terminal, lines when it is not,
    /// nothing if `silent`.
    pub(crate) fn new(silent: bool) -> Progress {
        if silent {
            Progress::Silent
        } else if std::io::stderr().is_terminal() {
            Progress::Bar(bar())
        } else {
            Progress::Lines
        }
    }

    /// Sets how many runs the whole benchmark makes.
    pub(crate) fn set_length(&self, runs: u64) {
        if let Progress::Bar(bar) = self {
            bar.set_length(runs);
        }
    }

    /// Says what is running now (made only if a bar shows it).
    pub(crate) fn set_message(&self, message: impl FnOnce() -> String) {
        if let Progress::Bar(bar) = self {
            bar.set_message(message());
        }
    }

    /// One more run done.
    pub(crate) fn inc(&self) {
        if let Progress::Bar(bar) = self {
            bar.inc(1);
        }
    }

    /// A workload is done, after `seconds`.
    pub(crate) fn workload_done(&self, name: &str, seconds: f64) {
        if let Progress::Lines = self {
            eprintln!("{}", done_line(name, seconds));
        }
    }

    /// The run is over: the bar goes away.
    pub(crate) fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// The line printed when a workload is done.
fn done_line(name: &str, seconds: f64) -> String {
    format!("mxsock: {name} done in {seconds:.1} s")
}

/// The progress bar, on standard error.
fn bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_workload_and_its_time() {
        assert_eq!(done_line("stream", 1.44), "mxsock: stream done in 1.4 s");
    }
}

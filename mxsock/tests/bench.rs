//! Runs `mxsock bench` on a tiny configuration of every workload and checks
//! the report: the JSON parses, every workload is there, and every one
//! verified its data.

use std::process::{Command, Output};

/// Runs `mxsock bench --quick` with tiny sizes and the extra `args`.
fn tiny_bench(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_mxsock"))
        .args(["bench", "--quick", "--no-progress", "--reps", "1"])
        .args([
            "--stream-mib",
            "1",
            "--datagrams",
            "2000",
            "--channel-messages",
            "2000",
            "--rounds",
            "200",
        ])
        .args(["--async-stream-mib", "1"])
        .args(["--pairs", "2000", "--idle-reps", "1"])
        .args(["--fanin-pairs", "8", "--fanin-messages", "2000"])
        .args(args)
        .output()
        .expect("mxsock runs");
    assert!(
        output.status.success(),
        "mxsock failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn every_workload_runs_and_verifies_its_data() {
    let output = tiny_bench(&["--json"]);
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the report is JSON");
    assert_eq!(report["all_verified"], true);
    let rows = report["rows"].as_array().expect("rows");
    let ids: Vec<&str> = rows.iter().filter_map(|row| row["id"].as_str()).collect();
    let mut expected = vec![
        "stream",
        "async_stream",
        "datagram",
        "channel",
        "channel_handle",
        "rtt_same_cpu_median",
        "rtt_same_cpu_p99",
        "idle_bytes",
        "create_rate",
        "fanin_wait_many",
        "fanin_port",
    ];
    if report["cpus"]["second"].is_u64() {
        expected.extend(["rtt_cross_cpu_median", "rtt_cross_cpu_p99"]);
    }
    for id in expected {
        assert!(ids.contains(&id), "no row {id} in {ids:?}");
    }
    for row in rows {
        assert_eq!(row["verified"], true, "{row}");
        for side in ["mx", "socketpair"] {
            let value = row[side].as_f64();
            assert!(value.is_some_and(|v| v.is_finite()), "{side} in {row}");
            assert_eq!(
                row[format!("{side}_reps")].as_array().map(Vec::len),
                Some(1)
            );
        }
        assert!(row["ratio"].as_f64().is_some(), "{row}");
        assert!(!row["pinning"].as_str().unwrap_or("").is_empty(), "{row}");
        assert!(!row["checked"].as_str().unwrap_or("").is_empty(), "{row}");
    }
}

#[test]
fn the_table_names_figures_targets_and_bounds() {
    let output = tiny_bench(&["--only", "stream,round-trip"]);
    let table = String::from_utf8(output.stdout).expect("UTF-8");
    for needle in [
        "mx/sp",
        "stream throughput, 64 KiB writes",
        ">= 2.00x",
        "memcpy/2",
        "round trip, 1 byte, same CPU, median",
        "yield ping-pong",
        "All data verified: yes",
    ] {
        assert!(table.contains(needle), "no {needle:?} in:\n{table}");
    }
    assert!(!table.contains("datagram rate"), "--only ignored:\n{table}");
}

#[test]
fn progress_is_a_line_per_workload_off_a_terminal_and_nothing_when_silenced() {
    let quiet = tiny_bench(&["--only", "stream,datagram"]);
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
    let output = Command::new(env!("CARGO_BIN_EXE_mxsock"))
        .args(["bench", "--reps", "1", "--only", "stream,datagram"])
        .args(["--stream-mib", "1", "--datagrams", "2000"])
        .output()
        .expect("mxsock runs");
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).expect("UTF-8");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    for (line, name) in lines.iter().zip(["stream", "datagram"]) {
        let rest = line
            .strip_prefix(&format!("mxsock: {name} done in "))
            .unwrap_or_else(|| panic!("{line:?}"));
        assert!(rest.ends_with(" s"), "{line:?}");
    }
}

#[test]
fn check_fails_naming_the_rows_that_miss_their_targets() {
    let run = |target: &str| {
        Command::new(env!("CARGO_BIN_EXE_mxsock"))
            .args(["bench", "--no-progress", "--reps", "1", "--only", "stream"])
            .args(["--stream-mib", "1", "--check", "--set-target", target])
            .output()
            .expect("mxsock runs")
    };
    let missed = run("stream=1e9");
    assert_eq!(missed.status.code(), Some(3));
    let stderr = String::from_utf8(missed.stderr).expect("UTF-8");
    assert!(
        stderr.contains("--check: 1 of 1 targets missed")
            && stderr.contains("stream (stream throughput, 64 KiB writes)")
            && stderr.contains("target >= 1.00e9x"),
        "{stderr}"
    );
    let table = String::from_utf8(missed.stdout).expect("UTF-8");
    assert!(table.contains("Targets met: not all"), "{table}");
    let met = run("stream=1e-9");
    assert!(
        met.status.success(),
        "{}",
        String::from_utf8_lossy(&met.stderr)
    );
    assert!(met.stderr.is_empty());
}

#[test]
fn svg_draws_every_row_and_the_round_trip_distribution() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-chart.svg");
    let _ = std::fs::remove_file(&path);
    let svg_arg = path.to_str().expect("a UTF-8 path");
    tiny_bench(&["--only", "stream,datagram,round-trip", "--svg", svg_arg]);
    let svg = std::fs::read_to_string(&path).expect("the chart was written");
    let document = roxmltree::Document::parse(&svg).expect("the chart is XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = document
        .descendants()
        .filter_map(|node| node.text())
        .map(str::trim)
        .collect();
    for name in [
        "mx",
        "socketpair",
        "socketpair (= 1)",
        "reference bound",
        "target",
        "stream throughput, 64 KiB writes",
        "cached-index ring",
        "crossbeam-channel",
        "yield ping-pong",
        "round trip, 1 byte, same CPU: distribution",
    ] {
        assert!(texts.contains(&name), "no {name:?} in {texts:?}");
    }
}

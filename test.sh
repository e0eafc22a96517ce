#!/usr/bin/env bash
# The project's one test command: every check CI runs, in order.
# Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

step "unit, conformance, model and thread tests"
cargo test --workspace

step "loom models (preemption bound 2; LOOM_MAX_PREEMPTIONS=3 or unset for deeper runs)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}" \
    cargo test --release -p mx-shm -p mx --test loom

step "fuzz smoke run (libFuzzer, ${FUZZ_SECS:-20} s per target)"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --quiet
fi
for target in syscalls c_abi hostile_peer; do
    mkdir -p "target/fuzz-corpus/$target"
    log="target/fuzz-$target.log"
    # The toolchain is stable: RUSTC_BOOTSTRAP lets cargo-fuzz pass the
    # nightly flags libFuzzer needs. New inputs go to target/fuzz-corpus.
    if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$target" \
            "../target/fuzz-corpus/$target" "corpus/$target" \
            -- -max_total_time="${FUZZ_SECS:-20}" -rss_limit_mb=4096 -print_final_stats=1) >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz target $target failed (full log: $log)" >&2
        exit 1
    fi
    grep -E '^(Done|stat::number_of_executed_units)' "$log" || true
done

printf '\nall checks passed\n'

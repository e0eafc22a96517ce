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
    cargo test --release -p mx-pipe -p mx --test loom

printf '\nall checks passed\n'

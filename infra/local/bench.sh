#!/usr/bin/env bash
# The benchmark: handler overhead, DynamoDB requests per operation, the sweeper, each function
# binary's size, init (median and worst of 10 cold starts) and memory, and a big race - against
# DynamoDB Local, on this machine. Prints the figures and writes them to target/bench/results.md
# (BENCH_OUT). BENCH_SECTIONS (abcdef) picks sections. Sizes:
#   BENCH_CONCURRENCY (16) BENCH_OPS (2000) BENCH_SWEEP_LOCKS (10000) BENCH_COLD_STARTS (10)
#   BENCH_INVOCATIONS (1000) BENCH_RACE_CLIENTS (2000) BENCH_RACE_ROUNDS (3)
#   BENCH_HISTORY (100000) BENCH_LIVE_HOLDS (200) BENCH_HISTORY_RUNS (7)
# The figures in the README come from this command.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash infra/local/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
printf '\033[1m==> %s\033[0m\n' "release build of every function (cargo lambda build --release)"
cargo lambda build --release
printf '\033[1m==> %s\033[0m\n' "benchmark (cargo bench -p booking-tests --bench bench)"
cargo bench -p booking-tests --bench bench

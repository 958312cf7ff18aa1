#!/usr/bin/env bash
# Run every fuzz target for a bounded time (default 60 s each), seeded from the test fixtures.
# Needs cargo-fuzz (`cargo install cargo-fuzz`); libFuzzer's flags need a nightly compiler, or
# RUSTC_BOOTSTRAP=1 on a stable one (set below). Prints each target's executions and result.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-60}"
fx=../crates/specmine-data/tests/fixtures
declare -A seeds=(
  [pickle]="$fx/*.pkl"
  [npy]=""
  [npz]="$fx/*.npz"
  [sigmf_meta]="$fx/*.sigmf-meta"
  [sigmf_archive]="$fx/*.sigmf"
  [hdf5]=""
)
export RUSTC_BOOTSTRAP=1
for t in pickle npy npz sigmf_meta sigmf_archive hdf5; do
  mkdir -p "corpus/$t"
  for f in ${seeds[$t]}; do cp -n "$f" "corpus/$t/" 2>/dev/null || true; done
  echo "== $t ($secs s)"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 \
    | grep -E "^#[0-9]+.*(DONE|pulse)|Done [0-9]+ runs|ERROR|panicked|SUMMARY" | tail -3
done

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
# Seeds the fixtures lack: .npy members of the .npz fixtures, a small generated HDF5 file.
mkdir -p corpus/npy corpus/hdf5
python3 - "$fx" <<'PY' || true
import sys, zipfile, glob, os
for z in glob.glob(sys.argv[1] + "/*.npz"):
    for m in zipfile.ZipFile(z).namelist():
        open(f"corpus/npy/{os.path.basename(z)}-{m}", "wb").write(zipfile.ZipFile(z).read(m))
PY
[ -e corpus/hdf5/small.h5 ] || (cd .. && cargo run -q --release -p specmine -- generate \
  --per-class-snr 1 --snr-min 0 --snr-max 2 --vector-len 16 -o fuzz/corpus/hdf5/small.h5)
# After the build above: RUSTC_BOOTSTRAP changes cargo's fingerprints, so it is set only here.
export RUSTC_BOOTSTRAP=1
for t in pickle npy npz sigmf_meta sigmf_archive hdf5; do
  mkdir -p "corpus/$t"
  for f in ${seeds[$t]}; do cp -n "$f" "corpus/$t/" 2>/dev/null || true; done
  echo "== $t ($secs s)"
  cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 \
    | grep -E "^#[0-9]+.*(DONE|pulse)|Done [0-9]+ runs|ERROR|panicked|SUMMARY" | tail -3
done

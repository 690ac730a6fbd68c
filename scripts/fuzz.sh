#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/, cargo-fuzz + libFuzzer) and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 30 s each, every target
#
# Targets: predict (POST /predict), infer (the Open Inference Protocol's infer, JSON and binary
# tensors), otlp (the exporter's OTLP decoding and ingest). Each run starts from the committed
# seeds (fuzz/corpus/TARGET/, read only) and the inputs earlier runs found (fuzz/work/TARGET/,
# not committed); it stops at the first failed invariant or panic, leaving the input in
# fuzz/artifacts/TARGET/ and exiting non-zero. The final libFuzzer statistics of each run are
# printed, and kept in fuzz/work/TARGET.log.
#
# cargo-fuzz needs nightly-only flags (sanitizers, coverage instrumentation): RUSTC_BOOTSTRAP=1
# lets the pinned stable toolchain take them. The build is release with debug assertions and
# overflow checks (cargo-fuzz's default) and AddressSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1

seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(predict infer otlp)

# Inputs larger than the largest real request are not worth the time: /predict bodies and
# infer requests of a few patients are under 4 KiB, Spin's biggest OTLP batch is 34 KiB.
declare -A max_len=([predict]=8192 [infer]=8192 [otlp]=65536)

echo "==> building fuzz targets"
cargo fuzz build --fuzz-dir fuzz

status=0
for target in "${targets[@]}"; do
  work="fuzz/work/$target"
  mkdir -p "$work" "fuzz/artifacts/$target"
  echo "==> fuzzing $target for ${seconds}s"
  if ! cargo fuzz run --fuzz-dir fuzz "$target" "$work" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -max_len="${max_len[$target]:-8192}" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 > "$work.log" 2>&1; then
    status=1
    echo "FAILED: $target (the input is in fuzz/artifacts/$target/; full log $work.log):"
    grep -E -A4 "panicked|ERROR: libFuzzer|SUMMARY" "$work.log" | cut -c1-2000
  fi
  # libFuzzer's last status line (coverage, features, corpus) and its final statistics.
  grep -E '^#[0-9]+\s+(DONE|INITED)' "$work.log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' \
    "$work.log" | tr '\n' ' ' || true
  echo "corpus: $(find "$work" -type f | wc -l) found + $(find "fuzz/corpus/$target" -type f | wc -l) seeds"
done
exit "$status"

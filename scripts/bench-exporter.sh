#!/usr/bin/env bash
# Sustained load on the model-exporter binary: spans ingested per second (per CPU-second the
# exporter used) and its resident memory, read from /proc while wrk posts Spin's real trace
# batch over loopback.
#
#   scripts/bench-exporter.sh                 # 30 s, 4 connections, 1 worker thread
#   DURATION=60 CONNECTIONS=8 WORKERS=2 scripts/bench-exporter.sh
#   TARGET=x86_64-unknown-linux-musl scripts/bench-exporter.sh   # the static binary we ship
#
# The body is the run1 capture in tests/data/spin-otlp (39 spans: 21 SERVER, 18
# INTERNAL) repeated 13 times (protobuf concatenation merges them): 507 spans, the size of the
# OpenTelemetry SDK's default batch. Needs wrk (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30}"
CONNECTIONS="${CONNECTIONS:-4}"
WORKERS="${WORKERS:-1}"
PROFILE="${PROFILE:-exporter}"
TARGET="${TARGET:-}"
FIXTURE="tests/data/spin-otlp/run1-default-env/004-POST-v1_traces.bin"
COPIES=13

command -v wrk >/dev/null || { echo "wrk is missing: scripts/setup.sh test installs it" >&2; exit 1; }
[ -f "$FIXTURE" ] || { echo "missing $FIXTURE" >&2; exit 1; }

echo "==> building model-exporter (profile $PROFILE${TARGET:+, target $TARGET})"
cargo build --quiet --locked --profile "$PROFILE" ${TARGET:+--target "$TARGET"} -p model-exporter
dir="$PROFILE"; [ "$PROFILE" = dev ] && dir=debug
BIN="target/${TARGET:+$TARGET/}$dir/model-exporter"
file "$BIN" 2>/dev/null | sed 's/^/    /' || true

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq "$COPIES"); do cat "$FIXTURE"; done > "$work/batch.bin"
cat > "$work/post.lua" <<LUA
local f = assert(io.open("$work/batch.bin", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/x-protobuf"
LUA

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
otlp_port=$(free_port)
metrics_port=$(free_port)
"$BIN" --otlp-addr "127.0.0.1:$otlp_port" --metrics-addr "127.0.0.1:$metrics_port" \
  --worker-threads "$WORKERS" --log warn &
pid=$!
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$metrics_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

spans() { curl -fs "http://127.0.0.1:$metrics_port/metrics" | awk '/^model_exporter_spans_received_total /{print $2}'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$pid/status"; }

echo "==> idle RSS: $(( $(rss_kib) / 1024 )) MiB"
spans_before=$(spans)
ticks_before=$(cpu_ticks)
max_rss=0
(
  while kill -0 "$pid" 2>/dev/null; do
    rss_kib >> "$work/rss.log" 2>/dev/null || true
    sleep 0.5
  done
) &
sampler=$!
echo "==> wrk: ${DURATION}s, $CONNECTIONS connections, exporter on $WORKERS worker thread(s)"
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$work/post.lua" \
  "http://127.0.0.1:$otlp_port/v1/traces" | sed 's/^/    /'
spans_after=$(spans)
ticks_after=$(cpu_ticks)
rss_end=$(rss_kib)
kill "$sampler" 2>/dev/null || true
max_rss=$(sort -n "$work/rss.log" | tail -1)

hz=$(getconf CLK_TCK)
python3 - "$spans_before" "$spans_after" "$ticks_before" "$ticks_after" "$hz" "$DURATION" "$max_rss" "$rss_end" <<'PY'
import sys
s0, s1, t0, t1, hz, dur, max_rss, rss_end = map(float, sys.argv[1:])
spans = s1 - s0
cpu = (t1 - t0) / hz
print(f"==> spans ingested: {spans:,.0f} in {dur:.0f} s = {spans / dur:,.0f} spans/s")
print(f"==> exporter CPU: {cpu:.1f} s = {spans / cpu:,.0f} spans per CPU-second (per core)")
print(f"==> RSS under load: max {max_rss / 1024:.1f} MiB, at the end {rss_end / 1024:.1f} MiB")
PY

#!/usr/bin/env bash
# What a request to the service costs over HTTP under `wasmtime serve`, measured with wrk: the
# repository's one HTTP benchmark (docs/performance.md has the figures and says which command
# produced which). Two modes, one per question:
#
#   scripts/bench-http.sh                                 # BENCH_MODE=throughput, the default
#
#     How many requests does the service answer, against a component that does nothing?
#     (a) POST /predict with one PCE 2013 patient vs the same request to a trivial "hello"
#         component (bench/hello-component, same SDK and entry-point style), and their ratio;
#     (b) POST /predict with a generated batch of 1000 valid patients: patients per second
#         (requests/s x 1000) and latency percentiles.
#     SINGLE_WASM=path adds the single-component build as a third server per round in (a), for
#     the composed-vs-single throughput comparison.
#
#   SINGLE_WASM=path BENCH_MODE=latency scripts/bench-http.sh
#
#     What does one request cost in the composed build against the single-component build?
#     One request at a time (wrk -t1 -c1), so the figures are per-request costs rather than
#     queueing: GET /healthz, GET /v2/models/pce-2013/ready and POST /predict, the two builds
#     alternating, LATENCY_ROUNDS times, one line per run (requests/s, p50 and p90).
#
# model-api is the composed component (target/composed/api.wasm: the HTTP component with its
# model components, as Spin composes it). The single-component build is the last commit before
# the split, dccff36 (the HTTP component linking the equations itself):
#   git worktree add /tmp/single dccff36 && (cd /tmp/single && \
#     cargo build --target wasm32-wasip2 --release -p model-api)
#   SINGLE_WASM=/tmp/single/target/wasm32-wasip2/release/model_api.wasm scripts/bench-http.sh
#
# Either mode first builds what it serves (scripts/build.sh api; the hello component for
# throughput). Servers run one at a time, each on a free loopback port, so they never share the
# CPU. Throughput: hello, then model-api, then the pair again (two rounds); optionally
# (BENCH_VARIANTS=1, the default) one more round of (a) under each of the wasmtime tuning flags
# below; before each run the script waits for a quiet machine and measures what else ran (see
# wait_quiet and bench). Logs, the generated batch and a results TSV go to target/bench-http/.
#
# Knobs (environment): BENCH_MODE (throughput), WASMTIME_FLAGS (none; flags every server gets,
# e.g. "-O pooling-allocator=y"). Throughput: WRK_THREADS (2), WRK_CONNECTIONS (32),
# WRK_DURATION (20s), BATCH_CONNECTIONS (4), BATCH_TIMEOUT (10s), BENCH_ROUNDS (2),
# BENCH_VARIANTS (1), BENCH_BATCH (1000), BENCH_QUIET_WAIT (300), BENCH_MAX_OTHER (10),
# BENCH_ATTEMPTS (3). Latency: LATENCY_ROUNDS (3), LATENCY_DURATION (8s).
#
# The batch runs with fewer connections than (a): a 1000-patient request takes tens of
# milliseconds of CPU, so 32 of them in flight on 2 cores only measure queueing (latency
# beyond wrk's default 2 s timeout) while throughput stays the same.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE="${BENCH_MODE:-throughput}"
THREADS="${WRK_THREADS:-2}"
CONNECTIONS="${WRK_CONNECTIONS:-32}"
DURATION="${WRK_DURATION:-20s}"
ROUNDS="${BENCH_ROUNDS:-2}"
VARIANTS="${BENCH_VARIANTS:-1}"
BATCH="${BENCH_BATCH:-1000}"
BATCH_CONNECTIONS="${BATCH_CONNECTIONS:-4}"
BATCH_TIMEOUT="${BATCH_TIMEOUT:-10s}"
LATENCY_ROUNDS="${LATENCY_ROUNDS:-3}"
LATENCY_DURATION="${LATENCY_DURATION:-8s}"
# Flags every server gets: wasmtime serve's defaults plus the CLI world (stdio, env, clocks),
# and WASMTIME_FLAGS.
read -r -a EXTRA_FLAGS <<<"${WASMTIME_FLAGS:-}"
BASE_FLAGS=(-S cli "${EXTRA_FLAGS[@]}")
# Tuning flags tried in the variant rounds. opt-level=2 is Cranelift's default in wasmtime 48,
# so it is a control: any difference it shows is noise.
VARIANT_FLAGS=("-O opt-level=2" "-O pooling-allocator=y")

OUT=target/bench-http
RELEASE=target/wasm32-wasip2/release
mkdir -p "$OUT"
rm -f "$OUT"/server-*.log "$OUT"/wrk-*.log "$OUT"/wrk-*.log.*
RESULTS="$OUT/results.tsv"
WRK_ARGS=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
BATCH_WRK_ARGS=(-t"$THREADS" -c"$BATCH_CONNECTIONS" -d"$DURATION" --timeout "$BATCH_TIMEOUT" --latency)

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in wrk wasmtime curl python3; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH (scripts/setup.sh test installs it)"
done
case "$MODE" in
  throughput) ;;
  latency) [ -n "${SINGLE_WASM:-}" ] || die "BENCH_MODE=latency compares against SINGLE_WASM (see the header)" ;;
  *) die "BENCH_MODE is throughput or latency, not $MODE" ;;
esac

say "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
say "$(wasmtime --version); $(rustc --version); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
say "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src crates Cargo.toml Cargo.lock || echo ' + uncommitted changes to src, crates or Cargo.*')"
if [ "$MODE" = throughput ]; then
  say "wrk ${WRK_ARGS[*]} (batch: ${BATCH_WRK_ARGS[*]}); wasmtime serve --addr 127.0.0.1:PORT ${BASE_FLAGS[*]} [variant flags]"
else
  say "wrk -t1 -c1 -d$LATENCY_DURATION --latency; wasmtime serve --addr 127.0.0.1:PORT ${BASE_FLAGS[*]}; $LATENCY_ROUNDS rounds"
fi

say "building release components"
scripts/build.sh api
if [ "$MODE" = throughput ]; then
  cargo build --target wasm32-wasip2 --release -p hello-component
fi
ls -l "$RELEASE"/*.wasm target/composed/api.wasm ${SINGLE_WASM:+"$SINGLE_WASM"}

# --- request bodies ---------------------------------------------------------------------------

BATCH_FILE="$OUT/batch-$BATCH.json"
generate_batch() {
  say "generating $BATCH_FILE"
  python3 - "$BATCH" "$BATCH_FILE" <<'PY'
"""A deterministic, realistic mix of valid PCE 2013 patients (ages 40-79, both sexes, the three
race groups, typical distributions of cholesterol and blood pressure, some in mmol/L, optional
false flags sometimes omitted, sometimes the `cholesterol` alias)."""
import json, random, sys

count, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(2013)

def clip(value, low, high):
    return max(low, min(high, value))

patients = []
for _ in range(count):
    p = {
        "age": rng.randint(40, 79),
        "sex": rng.choice(["female", "male"]),
        "race": rng.choices(["white", "african_american", "other"], [60, 20, 20])[0],
    }
    total = round(clip(rng.gauss(200, 35), 140, 300))
    hdl = round(clip(rng.gauss(52, 14), 25, 95))
    if rng.random() < 0.10:
        p["cholesterol_unit"] = "mmol/L"
        total, hdl = round(total / 38.67, 2), round(hdl / 38.67, 2)
    p["cholesterol" if rng.random() < 0.05 else "total_cholesterol"] = total
    p["hdl_cholesterol"] = hdl
    p["systolic_bp"] = round(clip(rng.gauss(128, 17), 95, 190))
    omit_false = rng.random() < 0.30
    for flag, prevalence in (("on_bp_treatment", 0.30), ("smoker", 0.15), ("diabetic", 0.12)):
        value = rng.random() < prevalence
        if value or not omit_false:
            p[flag] = value
    patients.append(p)

with open(path, "w") as f:
    json.dump({"instances": patients, "model": "pce-2013"}, f, separators=(",", ":"))
PY
  say "batch body: $(wc -c <"$BATCH_FILE") bytes, $BATCH patients"
}

# --- servers ----------------------------------------------------------------------------------

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server NAME WASM [FLAGS...]: serves WASM on a free loopback port, sets PORT.
start_server() {
  local name="$1" wasm="$2"
  shift 2
  PORT=$(free_port)
  local log="$OUT/server-$name-$PORT.log"
  wasmtime serve --addr "127.0.0.1:$PORT" "${BASE_FLAGS[@]}" "$@" "$wasm" >"$log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "wasmtime serve for $name exited; see $log"
    sleep 0.1
  done
  die "wasmtime serve for $name did not answer within 60 s; see $log"
}

# expect_ok URL BODY_FILE: one request; fails unless the answer is 200. Leaves it in $OUT/last.json.
expect_ok() {
  local status
  status=$(curl -s -o "$OUT/last.json" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$2" "$1")
  [ "$status" = 200 ] || die "POST $1 answered $status: $(head -c 300 "$OUT/last.json")"
}

# One PCE patient, the same body as benches/predict_body.rs; both the hello baseline and
# /predict receive (and read) it, so the two components get identical requests.
ONE_FILE=bench/wrk/predict-one.json

# CPU accounting, so that results say how much of the machine each party used: jiffies of
# busy CPU (all cores), and of one process (all its threads).
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
process_jiffies() { awk '{print $14+$15}' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
CORES=$(nproc)

# wait_quiet: this machine is shared (other builds); before each run, wait until everything
# but the idle server has used under 10 % of the cores for 2 s, for at most BENCH_QUIET_WAIT
# seconds (default 300), then run anyway. The cpu columns of the results show what happened.
wait_quiet() {
  local deadline=$((SECONDS + ${BENCH_QUIET_WAIT:-300})) busy0 busy1
  while :; do
    busy0=$(busy_jiffies)
    sleep 2
    busy1=$(busy_jiffies)
    if [ $(((busy1 - busy0) * 100 / (2 * HZ * CORES))) -lt 10 ]; then
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "machine still busy ($(((busy1 - busy0) * 100 / (2 * HZ * CORES))) % of the cores); running anyway"
      return 0
    fi
  done
}

# bench ROUND VARIANT LABEL URL BODY_FILE [WRK ARGS...]: one wrk run POSTing BODY_FILE
# (bench/wrk/post-file.lua) to the running server,
# appended to the results with the CPU that the server, wrk and everything else on the machine
# (other builds, other agents) used during it, as a share of all cores. A run during which
# everything else used more than BENCH_MAX_OTHER % (default 10) is repeated, up to
# BENCH_ATTEMPTS times (default 3); the attempt least disturbed by other processes is kept, and
# the table shows how many attempts there were.
bench() {
  local round="$1" variant="$2" label="$3" url="$4" body="$5"
  shift 5
  local args=("${WRK_ARGS[@]}")
  [ $# -gt 0 ] && args=("$@")
  local log="$OUT/wrk-$label-r$round-${variant// /_}.log"
  local attempt busy0 server0 start end busy1 server1 wrk_cpu line cpu other
  local best="" best_other=""
  local TIMEFORMAT='%U %S'
  for attempt in $(seq 1 "${BENCH_ATTEMPTS:-3}"); do
    wait_quiet
    say "round $round [$variant] $label (attempt $attempt): WRK_BODY_FILE=$body wrk ${args[*]} -s bench/wrk/post-file.lua $url"
    busy0=$(busy_jiffies)
    server0=$(process_jiffies "$SERVER_PID")
    start=$(date +%s.%N)
    { time WRK_BODY_FILE="$body" wrk "${args[@]}" -s bench/wrk/post-file.lua "$url" >"$log"; } 2>"$log.time"
    end=$(date +%s.%N)
    busy1=$(busy_jiffies)
    server1=$(process_jiffies "$SERVER_PID")
    cat "$log"
    wrk_cpu=$(awk '{print $1+$2}' "$log.time")
    line=$(grep '^WRK_RESULT ' "$log") || die "no WRK_RESULT line in $log"
    cpu=$(awk -v b="$((busy1 - busy0))" -v s="$((server1 - server0))" -v w="$wrk_cpu" \
      -v hz="$HZ" -v n="$CORES" -v t="$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" 'BEGIN{
        cap = t * n; busy = b / hz; server = s / hz; other = busy - server - w; if (other < 0) other = 0
        printf "server_cpu_s=%.3f cpu_server=%.0f cpu_wrk=%.0f cpu_other=%.0f", server,
          100 * server / cap, 100 * w / cap, 100 * other / cap }')
    other=$(sed -n 's/.*cpu_other=\([0-9]*\).*/\1/p' <<<"$cpu")
    say "cpu during the run: $cpu"
    if [ -z "$best" ] || [ "$other" -lt "$best_other" ]; then  # (other may round above 100)
      best_other=$other
      best="${line#WRK_RESULT } $cpu"
      cp "$log" "$log.kept"
    fi
    [ "$other" -le "${BENCH_MAX_OTHER:-10}" ] && break
    say "other processes used $other % of the cores during the run"
  done
  mv "$log.kept" "$log"
  printf '%s\t%s\t%s\t%s attempts=%s\n' "$round" "$variant" "$label" "$best" "$attempt" >>"$RESULTS"
}

# round ROUND VARIANT [FLAGS...]: hello, then model-api, each alone on the CPU.
round() {
  local round="$1" variant="$2"
  shift 2
  start_server hello "$RELEASE/hello_component.wasm" "$@"
  expect_ok "http://127.0.0.1:$PORT/" "$ONE_FILE"
  bench "$round" "$variant" hello "http://127.0.0.1:$PORT/" "$ONE_FILE"
  stop_server

  if [ -n "${SINGLE_WASM:-}" ]; then
    start_server single "$SINGLE_WASM" "$@"
    expect_ok "http://127.0.0.1:$PORT/predict" "$ONE_FILE"
    bench "$round" "$variant" predict-one-single "http://127.0.0.1:$PORT/predict" "$ONE_FILE"
    stop_server
  fi

  start_server model-api target/composed/api.wasm "$@"
  expect_ok "http://127.0.0.1:$PORT/predict" "$ONE_FILE"
  bench "$round" "$variant" predict-one "http://127.0.0.1:$PORT/predict" "$ONE_FILE"
  if [ "$variant" = default ]; then
    expect_ok "http://127.0.0.1:$PORT/predict" "$BATCH_FILE"
    python3 - "$OUT/last.json" "$BATCH" <<'PY' || die "the batch answer is not $BATCH successes"
import json, sys
answer = json.load(open(sys.argv[1]))
expected = int(sys.argv[2])
assert answer["count"] == expected and answer["succeeded"] == expected and answer["failed"] == 0, \
    {k: answer.get(k) for k in ("count", "succeeded", "failed")}
PY
    bench "$round" "$variant" "predict-batch$BATCH" "http://127.0.0.1:$PORT/predict" \
      "$BATCH_FILE" "${BATCH_WRK_ARGS[@]}"
  fi
  stop_server
}

# throughput: the rounds of (a) and (b), then the summary of their results.
throughput() {
  local r flags
  generate_batch
  : >"$RESULTS"
  for r in $(seq 1 "$ROUNDS"); do
    round "$r" default
  done
  if [ "$VARIANTS" = 1 ]; then
    for flags in "${VARIANT_FLAGS[@]}"; do
      # shellcheck disable=SC2086  # "-O key=value" is deliberately split into two arguments
      round 1 "$flags" $flags
    done
  fi
  summary
}

# --- latency, one request at a time -----------------------------------------------------------

# latency: the single-component build (SINGLE_WASM) and the composed one, alternately, each
# alone on the CPU, LATENCY_ROUNDS times; against each, every request below for LATENCY_DURATION
# over one connection. One line per run; fails on any answer that is not 2xx.
latency() {
  local round build wasm request path out rps p50 p90
  local args=()
  say "latency runs, $(date -u '+%Y-%m-%d %H:%M UTC')"
  printf '%-6s %-9s %-30s %10s %10s %10s\n' round build request req/s p50_us p90_us
  for round in $(seq 1 "$LATENCY_ROUNDS"); do
    for build in single composed; do
      wasm=$SINGLE_WASM
      if [ "$build" = composed ]; then wasm=target/composed/api.wasm; fi
      start_server "$build" "$wasm"
      for request in "GET /healthz" "GET /v2/models/pce-2013/ready" "POST /predict"; do
        path=${request#* }
        args=()
        if [ "${request%% *}" = POST ]; then args=(-s bench/wrk/post-file.lua); fi
        out=$(WRK_BODY_FILE="$ONE_FILE" wrk -t1 -c1 -d"$LATENCY_DURATION" --latency "${args[@]}" \
          "http://127.0.0.1:$PORT$path")
        if grep -q "Non-2xx" <<<"$out"; then die "non-2xx answers for $request ($build)"; fi
        rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p90=$(awk '$1 == "90%" {print $2}' <<<"$out")
        printf '%-6s %-9s %-30s %10s %10s %10s\n' "$round" "$build" "$request" "$rps" "$p50" "$p90"
      done
      stop_server
    done
  done
}

# --- summary of the throughput runs -------------------------------------------------------------

summary() {
  echo
  say "summary (wrk ${WRK_ARGS[*]}, batch ${BATCH_WRK_ARGS[*]}; wasmtime serve ${BASE_FLAGS[*]} [+ variant]; $(date -u '+%Y-%m-%d %H:%M UTC'))"
  python3 - "$RESULTS" "$BATCH" <<'PY'
import sys

rows = []
for line in open(sys.argv[1]):
    round_, variant, label, fields = line.rstrip("\n").split("\t")
    values = dict(item.split("=") for item in fields.split())
    rows.append((round_, variant, label, values))
batch = int(sys.argv[2])

def errors(v):
    socket = sum(int(v[k]) for k in ("connect", "read", "write", "timeout"))
    return f"{v['bad_status']}/{socket}"

print("cpu % of all cores during the run: server (wasmtime) / wrk / everything else; "
      "server µs/req: server CPU time per request;")
print(">399/sock: wrk's count of responses with status > 399 / socket errors; "
      "tries: attempts made (the least disturbed one is shown)")
print(f"{'round':<6}{'flags':<24}{'request':<20}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
      f"{'patients/s':>12}{'cpu srv/wrk/other':>19}{'srv µs/req':>11}{'>399/sock':>11}{'tries':>6}")
for round_, variant, label, v in rows:
    rps = float(v["rps"])
    patients = f"{rps * batch:,.0f}" if label.startswith("predict-batch") else ""
    print(f"{round_:<6}{variant:<24}{label:<20}{rps:>10,.0f}{int(v['p50_us']) / 1000:>9.2f}"
          f"{int(v['p99_us']) / 1000:>9.2f}{patients:>12}"
          f"{v['cpu_server'] + '/' + v['cpu_wrk'] + '/' + v['cpu_other']:>19}"
          f"{float(v['server_cpu_s']) * 1e6 / int(v['requests']):>11,.0f}{errors(v):>11}{v['attempts']:>6}")

print()
print("/predict (one patient) vs hello, requests/s:")
by_key = {(r, f, l): float(v["rps"]) for r, f, l, v in rows}
for (round_, variant, label), rps in by_key.items():
    if label != "hello":
        continue
    predict = by_key.get((round_, variant, "predict-one"))
    if predict:
        verdict = "meets" if predict / rps >= 0.90 else "below"
        print(f"  round {round_} [{variant}]: {predict:,.0f} / {rps:,.0f} = {predict / rps:.1%}"
              f" ({verdict} the 90 % target)")
single = {(r, f): rps for (r, f, l), rps in by_key.items() if l == "predict-one-single"}
if single:
    print("/predict composed (HTTP component + model components) vs single component:")
    for (round_, variant), rps in single.items():
        composed = by_key[(round_, variant, "predict-one")]
        print(f"  round {round_} [{variant}]: {composed:,.0f} / {rps:,.0f} = {composed / rps:.1%}")
bad = [(r, f, l) for r, f, l, v in rows if errors(v) != "0/0"]
if bad:
    sys.exit(f"responses with status > 399 or socket errors in {bad}")
print("no response with status > 399 and no socket errors in any run (and curl saw 200 from each)")
PY
}

if [ "$MODE" = latency ]; then
  latency
else
  throughput
fi

#!/usr/bin/env bash
# Issue 14's comparison with the model servers users would otherwise pick: the same trained model
# (models/breast-cancer-lr: scripts/train-breast-cancer.py's scikit-learn pipeline, as a joblib
# file for the Python servers and as its ONNX export for this service) served over the Open
# Inference Protocol's JSON infer by
#   mlserver   Seldon MLServer (PyPI mlserver + mlserver-sklearn: SKLearnModel, predict_proba)
#   kserve     KServe's Python model server (PyPI kserve: bench/model-servers/kserve_server.py)
#   spin       this service, the committed build, under the real Spin (`spin up -f spin.toml`)
#   wasmtime   with WASMTIME_SERVER=1, the same composed API under `wasmtime serve` (below)
# one at a time, each with its defaults (one worker for the Python servers), one patient per
# request, then 100 per request. Each request body is the server's own form of the same patients
# (ours: one tensor per feature; theirs: one [N, 30] tensor). Two kinds of run:
#
#   run      at saturation: wrk -t1 -c16, as many requests as each server answers. Reported:
#            requests/s, p50, p99, no response > 399, and the server's resident memory (VmRSS of
#            its whole process tree, after the run). In this closed loop a request's latency is
#            mostly its wait behind the other 15 connections', so p99 follows 16 / requests/s.
#   latency  at the same offered rates for every server: oha -c16 -q RATE with
#            --latency-correction (each latency counted from when the request was due, so a
#            server that falls behind is not flattered by sending fewer requests). Reported per
#            rate: requests/s achieved, p50, p99, p99.9, and anything but a 200. This is the
#            latency a client sees at a given load, service time plus the queueing that load
#            causes on that server. Needs oha on PATH (cargo install oha@1.16.0 --locked).
#
#   scripts/bench-model-servers.sh setup     # the Python servers' virtualenvs in $BENCH_WORK
#   scripts/bench-model-servers.sh run       # ROUNDS (2) rounds, WRK_DURATION (10s)
#   scripts/bench-model-servers.sh latency   # ROUNDS rounds, RATES ("100 250 500") requests/s,
#                                            # each for WRK_DURATION
#   BEFORE_MANIFEST=/path/spin.toml scripts/bench-model-servers.sh run|latency
#                                            # also `spin-before`: another build of this service
#                                            # (e.g. an earlier commit's), first in each round
#   FLOOR_MANIFEST=/path/spin.toml scripts/bench-model-servers.sh run|latency
#                                            # also `hello`: the hello floor (an app that reads
#                                            # the body and answers 200, e.g. the one
#                                            # scripts/bench-models.sh builds), sent our bodies:
#                                            # what Spin itself costs at the same load
#   WASMTIME_SERVER=1 scripts/bench-model-servers.sh run|latency
#                                            # also `wasmtime`: the same composed API under
#                                            # `wasmtime serve` with scripts/serve_local.py's
#                                            # flags (the fallback runtime, not SpinKube's)
#
# BENCH_WORK defaults to /tmp/bench-servers. The service must be built (scripts/build.sh) and
# .venv must exist (scripts/setup.sh test). Results: $BENCH_WORK/results-*.tsv (run) and
# $BENCH_WORK/latency-*.tsv (latency).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK="${BENCH_WORK:-/tmp/bench-servers}"
ROUNDS="${ROUNDS:-2}"
DURATION="${WRK_DURATION:-10s}"
RATES="${RATES:-100 250 500}"
MLSERVER_VERSION="1.7.1"
KSERVE_VERSION="0.21.0"
SKLEARN_VERSION="1.9.1"
export PATH="$HOME/.cargo/bin:$PATH"
say() { printf '==> %s\n' "$*"; }
mkdir -p "$WORK"

setup() {
  say "MLServer $MLSERVER_VERSION and KServe $KSERVE_VERSION, each in a virtualenv of its own"
  [ -x "$WORK/mlserver/bin/python" ] || python3 -m venv "$WORK/mlserver"
  "$WORK/mlserver/bin/pip" install -q --disable-pip-version-check "mlserver==$MLSERVER_VERSION" \
    "mlserver-sklearn==$MLSERVER_VERSION" "scikit-learn==$SKLEARN_VERSION" \
    "uvloop==0.21.0"   # 0.22+ refuses asyncio.get_event_loop() in MLServer 1.7.1's workers
  [ -x "$WORK/kserve/bin/python" ] || python3 -m venv "$WORK/kserve"
  "$WORK/kserve/bin/pip" install -q --disable-pip-version-check "kserve==$KSERVE_VERSION" \
    "scikit-learn==$SKLEARN_VERSION"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The trained pipeline (the same fit as the ONNX export) and the request bodies.
prepare() {
  "$WORK/mlserver/bin/python" scripts/train-breast-cancer.py --joblib "$WORK/model.joblib"
  mkdir -p "$WORK/mlserver-models/breast-cancer-lr"
  cp "$WORK/model.joblib" "$WORK/mlserver-models/breast-cancer-lr/model.joblib"
  cat >"$WORK/mlserver-models/breast-cancer-lr/model-settings.json" <<'JSON'
{"name": "breast-cancer-lr", "implementation": "mlserver_sklearn.SKLearnModel",
 "parameters": {"uri": "./model.joblib", "version": "1.0.0"}}
JSON
  "$ROOT/.venv/bin/python" - "$ROOT" "$WORK" <<'PY'
import json, sys, tomllib
import numpy as np
root, work = sys.argv[1], sys.argv[2]
toml = tomllib.load(open(f"{root}/models/breast-cancer-lr/model.toml", "rb"))
features = sorted(toml["feature"], key=lambda f: f["column"])
rows = np.fromfile(f"{root}/tests/data/onnx/inputs.f32", dtype="<f4").reshape(1000, 30)
low, high = np.array([f["range"][0] for f in features]), np.array([f["range"][1] for f in features])
rows = np.clip(rows.astype(np.float64), low, high)
for n in (1, 100):
    batch = rows[:n]
    ours = {"inputs": [{"name": f["name"], "datatype": "FP64", "shape": [n], "data": batch[:, i].tolist()}
                       for i, f in enumerate(features)]}
    theirs = {"inputs": [{"name": "input-0", "datatype": "FP64", "shape": [n, 30],
                          "data": batch.reshape(-1).tolist()}],
              "outputs": [{"name": "predict_proba"}]}
    json.dump(ours, open(f"{work}/spin-{n}.json", "w"))
    json.dump(theirs, open(f"{work}/mlserver-{n}.json", "w"))
    json.dump({"inputs": theirs["inputs"]}, open(f"{work}/kserve-{n}.json", "w"))
PY
}

start() { # server -> SERVER_PID, PORT
  PORT=$(free_port)
  local log="$WORK/server-$1.log"
  case "$1" in
    spin) spin up -f "$ROOT/spin.toml" --listen "127.0.0.1:$PORT" --state-dir "$WORK/spin-state" >"$log" 2>&1 & ;;
    spin-before) spin up -f "$BEFORE_MANIFEST" --listen "127.0.0.1:$PORT" --state-dir "$WORK/spin-state" >"$log" 2>&1 & ;;
    hello) spin up -f "$FLOOR_MANIFEST" --listen "127.0.0.1:$PORT" --state-dir "$WORK/spin-state" >"$log" 2>&1 & ;;
    wasmtime)
      local flags
      read -r -a flags < <(python3 -c 'import sys; sys.path.insert(0, "scripts"); import serve_local; print(" ".join(serve_local.WASMTIME_FLAGS))')
      wasmtime serve --addr "127.0.0.1:$PORT" -S cli "${flags[@]}" "$ROOT/target/composed/api.wasm" >"$log" 2>&1 & ;;
    mlserver)
      cat >"$WORK/mlserver-models/settings.json" <<JSON
{"http_port": $PORT, "grpc_port": $(free_port), "metrics_port": $(free_port), "debug": false}
JSON
      (cd "$WORK/mlserver-models" && exec "$WORK/mlserver/bin/mlserver" start .) >"$log" 2>&1 & ;;
    kserve) "$WORK/kserve/bin/python" "$ROOT/bench/model-servers/kserve_server.py" "$WORK/model.joblib" \
              "$PORT" "$(free_port)" >"$log" 2>&1 & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/v2/models/breast-cancer-lr/ready"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "error: $1 exited; see $log" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: $1 not ready in 60 s; see $log" >&2; exit 1
}

stop() { pkill -TERM -P "$SERVER_PID" 2>/dev/null || true; kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; sleep 1; }

# Resident memory of a process and its descendants, in MiB.
rss_mib() {
  local pids=("$1") all=() p
  while [ ${#pids[@]} -gt 0 ]; do
    p=${pids[0]}; pids=("${pids[@]:1}"); all+=("$p")
    mapfile -t -O "${#pids[@]}" pids < <(pgrep -P "$p" || true)
  done
  for p in "${all[@]}"; do awk '/^VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || true; done |
    awk '{s += $1} END {printf "%.1f", s / 1024}'
}

URL_PATH=/v2/models/breast-cancer-lr/infer

# Every server of every round started once, checked with one request per body size (200; the
# probabilities within 1e-5 of onnxruntime are tests/integration/test_onnx_models.py's
# business), then `$1 SERVER PATIENTS BODY` measured for 1 and 100 patients.
each_server() {
  local measure=$1 round server n body status
  for round in $(seq 1 "$ROUNDS"); do
    for server in ${FLOOR_MANIFEST:+hello} ${BEFORE_MANIFEST:+spin-before} spin ${WASMTIME_SERVER:+wasmtime} mlserver kserve; do
      start "$server"
      for n in 1 100; do
        case "$server" in
          hello | spin* | wasmtime) body="$WORK/spin-$n.json" ;;
          *) body="$WORK/$server-$n.json" ;;
        esac
        status=$(curl -s -o "$WORK/last.json" -w '%{http_code}' -H 'Content-Type: application/json' \
          --data-binary "@$body" "http://127.0.0.1:$PORT$URL_PATH")
        [ "$status" = 200 ] || { echo "error: $server answered $status: $(head -c 300 "$WORK/last.json")" >&2; exit 1; }
        "$measure" "$server" "$n" "$body" | sed "s/^/$round\t/" | tee -a "$RESULTS"
      done
      stop
    done
  done
}

# At saturation: one wrk run -> "server patients fields".
saturated() {
  local line
  line=$(WRK_BODY_FILE="$3" wrk -t1 -c16 -d"$DURATION" --latency -s bench/wrk/post-file.lua \
    "http://127.0.0.1:$PORT$URL_PATH" | grep '^WRK_RESULT ')
  printf '%s\t%s\t%s rss_mib=%s\n' "$1" "$2" "${line#WRK_RESULT }" "$(rss_mib "$SERVER_PID")"
}

# At each of RATES: one oha run -> "server patients fields" per rate.
at_rates() {
  local rate
  for rate in $RATES; do
    oha --no-tui -z "$DURATION" -w -q "$rate" -c 16 --latency-correction -m POST -T application/json \
      -D "$3" --output-format json -o "$WORK/oha.json" "http://127.0.0.1:$PORT$URL_PATH"
    python3 - "$WORK/oha.json" "$1" "$2" "$rate" <<'PY'
import json, sys
report, server, n, rate = json.load(open(sys.argv[1])), *sys.argv[2:]
ms = {k: v * 1000 for k, v in report["latencyPercentiles"].items()}
ok = report["statusCodeDistribution"].get("200", 0)
bad = sum(report["statusCodeDistribution"].values()) - ok + sum(report["errorDistribution"].values())
print(f"{server}\t{n}\trate={rate} rps={report['summary']['requestsPerSec']:.1f} ok={ok} bad={bad} "
      f"p50_ms={ms['p50']:.3f} p99_ms={ms['p99']:.3f} p999_ms={ms['p99.9']:.3f}")
PY
  done
}

# One kind of run over every server: `measure FILE-PREFIX LOAD MEASURE`, the summary (a Python
# program given each result line as `server, patients, fields` by `results()`) on stdin.
measure() {
  local summary
  summary=$(cat)
  prepare
  RESULTS="$WORK/$1-$(date -u +%Y%m%dT%H%M%S).tsv"
  say "spin $(spin --version | cut -d' ' -f2), MLServer $MLSERVER_VERSION, KServe $KSERVE_VERSION; $2 -> $RESULTS"
  each_server "$3"
  python3 -c "import collections, statistics, sys
def results():
    for line in open(sys.argv[1]):
        _, server, n, fields = line.rstrip('\n').split('\t')
        yield server, int(n), dict(kv.split('=') for kv in fields.split())
$summary" "$RESULTS"
}

run() {
  measure results "wrk -t1 -c16 -d$DURATION" saturated <<'PY'
rows = collections.defaultdict(list)
for server, n, run in results():
    rows[(server, n)].append(run)
print(f"{'server':<12}{'patients':>9}{'req/s (median)':>16}{'p50 ms':>10}{'p99 ms':>10}{'RSS MiB':>9}{'bad':>5}")
for (server, n), runs in rows.items():
    rps = statistics.median(float(r["rps"]) for r in runs)
    p50 = statistics.median(int(r["p50_us"]) for r in runs) / 1000
    p99 = statistics.median(int(r["p99_us"]) for r in runs) / 1000
    rss = max(float(r["rss_mib"]) for r in runs)
    bad = sum(int(r["bad_status"]) + int(r["connect"]) + int(r["read"]) + int(r["write"]) + int(r["timeout"]) for r in runs)
    print(f"{server:<12}{n:>9}{rps:>16,.0f}{p50:>10.2f}{p99:>10.2f}{rss:>9.1f}{bad:>5}")
PY
}

latency() {
  command -v oha >/dev/null || { echo "error: oha not on PATH (cargo install oha@1.16.0 --locked)" >&2; exit 1; }
  measure latency "$(oha --version) -c16 -q {$RATES} --latency-correction -z$DURATION" at_rates <<'PY'
rows = collections.defaultdict(list)
for server, n, run in results():
    rows[(n, int(run["rate"]), server)].append(run)
print(f"{'patients':>8}{'rate':>6}  {'server':<12}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'p99.9 ms':>10}{'bad':>5}"
      "  p99 ratios to theirs: this service's (spin, then wasmtime), hello's")
median = lambda runs, key: statistics.median(float(r[key]) for r in runs)
p99 = {(n, rate, server): median(runs, "p99_ms") for (n, rate, server), runs in rows.items()}
for (n, rate, server), runs in sorted(rows.items()):
    med = lambda key: median(runs, key)
    ratios = [f"{p99[(n, rate, ref)] / med('p99_ms'):.2f}" for ref in ("spin", "wasmtime", "hello")
              if (n, rate, ref) in p99 and server not in ("spin", "hello", "spin-before", "wasmtime")]
    bad = sum(int(r["bad"]) for r in runs)
    print(f"{n:>8}{rate:>6}  {server:<12}{med('rps'):>8,.0f}{med('p50_ms'):>9.2f}{med('p99_ms'):>9.2f}{med('p999_ms'):>10.2f}{bad:>5}  {'  '.join(ratios)}")
PY
}

case "${1:-}" in
  setup) setup ;;
  run) run ;;
  latency) latency ;;
  *) echo "usage: scripts/bench-model-servers.sh setup|run|latency" >&2; exit 2 ;;
esac

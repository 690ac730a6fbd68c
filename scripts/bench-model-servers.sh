#!/usr/bin/env bash
# Issue 14's comparison with the model servers users would otherwise pick: the same trained model
# (models/breast-cancer-lr: scripts/train-breast-cancer.py's scikit-learn pipeline, as a joblib
# file for the Python servers and as its ONNX export for this service) served over the Open
# Inference Protocol's JSON infer by
#   mlserver   Seldon MLServer (PyPI mlserver + mlserver-sklearn: SKLearnModel, predict_proba)
#   kserve     KServe's Python model server (PyPI kserve: bench/model-servers/kserve_server.py)
#   spin       this service, the committed build, under the real Spin (`spin up -f spin.toml`)
# one at a time, each with its defaults (one worker for the Python servers), under wrk -t1 -c16:
# one patient per request, then 100 per request. Reported per run: requests/s, p50, p99, no
# response > 399, and the server's resident memory (VmRSS of its whole process tree, after the
# run). Each request body is the server's own form of the same patients (ours: one tensor per
# feature; theirs: one [N, 30] tensor).
#
#   scripts/bench-model-servers.sh setup   # the Python servers' virtualenvs in $BENCH_WORK
#   scripts/bench-model-servers.sh run     # ROUNDS (2) rounds, WRK_DURATION (10s)
#   BEFORE_MANIFEST=/path/spin.toml scripts/bench-model-servers.sh run
#                                          # also `spin-before`: another build of this service
#                                          # (e.g. an earlier commit's), first in each round
#
# BENCH_WORK defaults to /tmp/bench-servers. The service must be built (scripts/build.sh) and
# .venv must exist (scripts/setup.sh test). Results: $BENCH_WORK/results-*.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK="${BENCH_WORK:-/tmp/bench-servers}"
ROUNDS="${ROUNDS:-2}"
DURATION="${WRK_DURATION:-10s}"
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

run() {
  prepare
  local results="$WORK/results-$(date -u +%Y%m%dT%H%M%S).tsv" round server n status line
  say "spin $(spin --version | cut -d' ' -f2), MLServer $MLSERVER_VERSION, KServe $KSERVE_VERSION; wrk -t1 -c16 -d$DURATION -> $results"
  for round in $(seq 1 "$ROUNDS"); do
    for server in ${BEFORE_MANIFEST:+spin-before} spin mlserver kserve; do
      start "$server"
      for n in 1 100; do
        # Every answer checked once: 200, and the probabilities within 1e-5 of onnxruntime are
        # tests/integration/test_onnx_models.py's business; here the status.
        status=$(curl -s -o "$WORK/last.json" -w '%{http_code}' -H 'Content-Type: application/json' \
          --data-binary "@$WORK/${server%-before}-$n.json" "http://127.0.0.1:$PORT/v2/models/breast-cancer-lr/infer")
        [ "$status" = 200 ] || { echo "error: $server answered $status: $(head -c 300 "$WORK/last.json")" >&2; exit 1; }
        line=$(WRK_BODY_FILE="$WORK/${server%-before}-$n.json" wrk -t1 -c16 -d"$DURATION" --latency \
          -s bench/wrk/post-file.lua "http://127.0.0.1:$PORT/v2/models/breast-cancer-lr/infer" | grep '^WRK_RESULT ')
        printf '%s\t%s\t%s\t%s rss_mib=%s\n' "$round" "$server" "$n" "${line#WRK_RESULT }" "$(rss_mib "$SERVER_PID")" | tee -a "$results"
      done
      stop
    done
  done
  python3 - "$results" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    _, server, n, fields = line.rstrip("\n").split("\t")
    rows[(server, n)].append(dict(kv.split("=") for kv in fields.split()))
print(f"{'server':<10}{'patients':>9}{'req/s (median)':>16}{'p50 ms':>10}{'p99 ms':>10}{'RSS MiB':>9}{'bad':>5}")
for (server, n), runs in rows.items():
    rps = statistics.median(float(r["rps"]) for r in runs)
    p50 = statistics.median(int(r["p50_us"]) for r in runs) / 1000
    p99 = statistics.median(int(r["p99_us"]) for r in runs) / 1000
    rss = max(float(r["rss_mib"]) for r in runs)
    bad = sum(int(r["bad_status"]) + int(r["connect"]) + int(r["read"]) + int(r["write"]) + int(r["timeout"]) for r in runs)
    print(f"{server:<10}{n:>9}{rps:>16,.0f}{p50:>10.2f}{p99:>10.2f}{rss:>9.1f}{bad:>5}")
PY
}

case "${1:-}" in
  setup) setup ;;
  run) run ;;
  *) echo "usage: scripts/bench-model-servers.sh setup|run" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Where a /predict request's cost goes, by how far into the handler it gets: the composed API
# alone under `spin up`, one body kind at a time, against the hello floor, each for the same
# wrk load (-t1 -c16, 8 s after a 3 s warm-up); prints requests/s, the server's CPU time per
# request (spin and its trigger process) and its minor page faults per 1,000 requests.
#
#   scripts/bench-request-kinds.sh [API_WASM] [HELLO_WASM]
#
# Body kinds (bench/wrk/kinds/ is generated here from bench/wrk/predict-one.json):
#   malformed   `{`: refused by the JSON parser (400), no model chosen
#   member      `{"zzz": 1}`: parsed, refused for an unknown member (422), no model chosen
#   api-refused the PCE patient with an unknown field: the model's description read, the
#               patient refused by the API (422), no call to a model
#   model-refused the PCE patient aged 30: the call to the model, which refuses it (422)
#   success     the PCE patient (200)
# docs/design/model-wiring.md ("Where the rest goes") has the figures. A noisy machine moves
# every figure by 10-20 %: compare kinds within one run, and repeat.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
API_WASM="${1:-$ROOT/target/composed/api.wasm}"
# The hello floor as scripts/bench-models.sh build makes it (bench/hello-component).
HELLO_WASM="${2:-/tmp/bench-models/out/hello.wasm}"
WORK="${BENCH_WORK:-/tmp/bench-request-kinds}"
PORT="${PORT:-18090}"
mkdir -p "$WORK/app" "$WORK/kinds"

python3 - "$ROOT/bench/wrk/predict-one.json" "$WORK/kinds" <<'PY'
import json, sys
one = json.load(open(sys.argv[1]))
out = sys.argv[2]
patient = one["patient_data"]
kinds = {
    "malformed": "{",
    "member": json.dumps({"zzz": 1}),
    "api-refused": json.dumps(dict(one, patient_data=dict(patient, zzz=1))),
    "model-refused": json.dumps(dict(one, patient_data=dict(patient, age=30))),
    "success": json.dumps(one),
}
for name, body in kinds.items():
    open(f"{out}/{name}.json", "w").write(body)
PY

# run WASM BODY: one measurement
run() {
  local wasm="$1" body="$2" spin_pid pids before after reqs rps non2xx
  cat >"$WORK/app/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "request-kinds"
version = "1.0.0"
[[trigger.http]]
route = "/..."
component = "api"
[component.api]
source = "$wasm"
allowed_outbound_hosts = []
TOML
  spin up -f "$WORK/app/spin.toml" --listen "127.0.0.1:$PORT" >"$WORK/spin.log" 2>&1 &
  spin_pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
  export WRK_BODY_FILE="$body"
  wrk -t1 -c16 -d3s -s bench/wrk/post-file.lua "http://127.0.0.1:$PORT/predict" >/dev/null 2>&1
  pids="$(pgrep -P "$spin_pid" || true) $spin_pid"
  # utime + stime (clock ticks) and minor faults of spin and its trigger process
  usage() { local faults=0 ticks=0 p s; for p in $pids; do read -r -a s <"/proc/$p/stat"; faults=$((faults + s[9])); ticks=$((ticks + s[13] + s[14])); done; echo "$faults $ticks"; }
  read -r -a before <<<"$(usage)"
  wrk -t1 -c16 -d8s -s bench/wrk/post-file.lua "http://127.0.0.1:$PORT/predict" >"$WORK/wrk.txt" 2>&1
  read -r -a after <<<"$(usage)"
  reqs=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$WORK/wrk.txt")
  printf '%-14s %-16s %9s req/s  %4d us CPU/req  %4d minor faults/1000 req  (non-2xx: %s)\n' \
    "$(basename "$wasm" .wasm)" "$(basename "$body" .json)" "$rps" \
    $(( (after[1] - before[1]) * 1000000 / $(getconf CLK_TCK) / reqs )) \
    $(( (after[0] - before[0]) * 1000 / reqs )) "${non2xx:-0}"
  kill "$spin_pid"; wait "$spin_pid" 2>/dev/null || true
}

run "$HELLO_WASM" "$WORK/kinds/success.json"
for kind in malformed member api-refused model-refused success; do
  run "$API_WASM" "$WORK/kinds/$kind.json"
done
run "$HELLO_WASM" "$WORK/kinds/success.json"

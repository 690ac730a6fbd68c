#!/usr/bin/env bash
# How long a request takes inside the component (one patient and a 1,000-patient batch to
# /predict, 100 patients to the inference protocol's infer), under `spin up`: builds the API with
# the diagnostic `server-timing` feature (src/server_timing.rs; in a copy of the committed
# project, so the main build is untouched), sends each body REQUESTS times, one at a time, and
# prints the medians (and 10th-90th percentiles) of what its Server-Timing header reports:
#
#   handler         route() for this request, in the fresh instance Spin created for it
#   model           of which: the calls to the model component (lowering, the model, lifting)
#   handler-again   the same request run a second time in the same instance, right after
#   model-again     of which: the calls to the model
#
# The difference between `handler` and `handler-again` is what running code for the first time
# in a fresh instance costs; Spin 3.6.3 creates one per request. docs/design/model-wiring.md
# ("Inside the component") has the figures.
#
#   scripts/bench-guest-timing.sh                    # under `spin up`; REQUESTS (default 400)
#                                                    # per body; PORT, BENCH_WORK, REV
#   RUNTIME=wasmtime scripts/bench-guest-timing.sh   # under `wasmtime serve` with the flags of
#                                                    # scripts/serve_local.py, and any in
#                                                    # EXTRA_WASMTIME_FLAGS
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK="${BENCH_WORK:-/tmp/bench-guest-timing}"
PORT="${PORT:-18095}"
REQUESTS="${REQUESTS:-400}"
export PATH="$HOME/.cargo/bin:$PATH"
RUNTIME="${RUNTIME:-spin}"
command -v "$RUNTIME" >/dev/null || { echo "error: $RUNTIME is not on PATH" >&2; exit 1; }

rm -rf "$WORK/repo"
mkdir -p "$WORK/repo/target" "$WORK/app"
# REV: the commit to build (default HEAD; `REV=$(git stash create)` for uncommitted changes).
git archive "${REV:-HEAD}" | tar -x -C "$WORK/repo"
# The main build's artifacts as a head start, when there are any.
for artifacts in wasm32-wasip2 wasm32-unknown-unknown release; do
  if [ -d "target/$artifacts" ]; then cp -r "target/$artifacts" "$WORK/repo/target/"; fi
done
echo "==> building the API with --features server-timing (log: $WORK/build.log)"
(cd "$WORK/repo" && API_FEATURES=server-timing scripts/build.sh api >"$WORK/build.log" 2>&1)

# The bodies: one patient (bench/wrk/predict-one.json) and the deterministic 1000-patient batch
# of scripts/bench-http.sh (its generator, run as is).
cp bench/wrk/predict-one.json "$WORK/one.json"
awk '/^  python3 - "\$BATCH" "\$BATCH_FILE" <<.PY.$/ {on = 1; next} on && /^PY$/ {exit} on' \
  scripts/bench-http.sh | python3 - 1000 "$WORK/batch-1000.json"
# And the inference protocol's JSON for the ONNX example, 100 patients (the first 100 rows of
# tests/data/onnx/inputs.f32 held to the declared ranges, as scripts/bench-model-servers.sh
# sends them), to /v2/models/breast-cancer-lr/infer.
python3 - "$ROOT" "$WORK/infer-100.json" <<'PY'
import json, struct, sys, tomllib
root, out = sys.argv[1], sys.argv[2]
features = sorted(tomllib.load(open(f"{root}/models/breast-cancer-lr/model.toml", "rb"))["feature"],
                  key=lambda f: f["column"])
raw = open(f"{root}/tests/data/onnx/inputs.f32", "rb").read(100 * 30 * 4)
rows = [struct.unpack_from("<30f", raw, 120 * r) for r in range(100)]
clip = lambda x, f: min(max(x, f["range"][0]), f["range"][1])
body = {"inputs": [{"name": f["name"], "datatype": "FP64", "shape": [100],
                    "data": [clip(row[i], f) for row in rows]} for i, f in enumerate(features)]}
json.dump(body, open(out, "w"))
PY

cat >"$WORK/app/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "guest-timing"
version = "1.0.0"
[[trigger.http]]
route = "/..."
component = "api"
[component.api]
source = "$WORK/repo/target/composed/api.wasm"
allowed_outbound_hosts = []
TOML
if [ "$RUNTIME" = spin ]; then
  spin up -f "$WORK/app/spin.toml" --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
else
  mapfile -t flags < <(python3 -c 'import sys; sys.path.insert(0, "scripts"); import serve_local; print("\n".join(serve_local.WASMTIME_FLAGS))')
  # shellcheck disable=SC2086 # EXTRA_WASMTIME_FLAGS is a list of flags
  wasmtime serve --addr "127.0.0.1:$PORT" -S cli "${flags[@]}" ${EXTRA_WASMTIME_FLAGS:-} \
    "$WORK/repo/target/composed/api.wasm" >"$WORK/server.log" 2>&1 &
fi
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done

python3 - "$PORT" "$REQUESTS" /predict:"$WORK/one.json" /predict:"$WORK/batch-1000.json" \
  /v2/models/breast-cancer-lr/infer:"$WORK/infer-100.json" <<'PY'
import http.client, statistics, sys

port, count = int(sys.argv[1]), int(sys.argv[2])
metrics = ["handler", "model", "handler-again", "model-again"]
print(f"{'body':<12} {'requests':>8}  " + "  ".join(f"{m + ' us':>22}" for m in metrics))
for target in sys.argv[3:]:
    path, body_path = target.split(":", 1)
    body = open(body_path, "rb").read()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    samples = {metric: [] for metric in metrics}
    for _ in range(count):
        connection.request("POST", path, body, {"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        timing = dict(
            part.strip().split(";dur=") for part in response.getheader("server-timing").split(",")
        )
        for metric in metrics:
            samples[metric].append(float(timing[metric]) * 1000)  # ms -> us
    def summary(values):
        values = sorted(values[len(values) // 10:])  # the first tenth warms Spin's caches
        tenth, ninetieth = values[len(values) // 10], values[9 * len(values) // 10]
        return f"{statistics.median(values):8.1f} ({tenth:.1f}-{ninetieth:.1f})"
    name = body_path.rsplit("/", 1)[-1].removesuffix(".json")
    print(f"{name:<12} {count:>8}  " + "  ".join(f"{summary(samples[m]):>22}" for m in metrics))
PY

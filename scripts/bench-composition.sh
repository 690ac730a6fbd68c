#!/usr/bin/env bash
# Latency of the composed build (the HTTP component + the model components, as Spin composes
# them) against the single-component build (the HTTP component linking the equations itself,
# as before the split), under `wasmtime serve`, one request at a time (wrk -t1 -c1), so the
# figures are per-request costs rather than queueing. Servers alternate, ROUNDS times, and
# never share the CPU; each line is one run. Also prints both artifacts' sizes.
#
#   SINGLE_WASM=path/to/model_api.wasm scripts/bench-composition.sh
#
# The single-component build is the last commit before the split:
#   git worktree add /tmp/single dccff36 && (cd /tmp/single && \
#     cargo build --target wasm32-wasip2 --release -p model-api)
#   SINGLE_WASM=/tmp/single/target/wasm32-wasip2/release/model_api.wasm scripts/bench-composition.sh
#
# Knobs: ROUNDS (3), DURATION (8s), WASMTIME_FLAGS (none; e.g. "-O pooling-allocator=y").
set -euo pipefail
cd "$(dirname "$0")/.."
SINGLE_WASM="${SINGLE_WASM:?set SINGLE_WASM to the single-component model_api.wasm (see above)}"
COMPOSED_WASM=target/composed/api.wasm
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8s}"
read -r -a FLAGS <<<"${WASMTIME_FLAGS:-}"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export WRK_BODY_FILE=bench/wrk/predict-one.json

ls -l "$SINGLE_WASM" "$COMPOSED_WASM"
echo "commit $(git rev-parse --short HEAD); $(wasmtime --version) serve -S cli ${FLAGS[*]}; $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-6s %-9s %-30s %10s %10s %10s\n' round build request req/s p50_us p90_us
for round in $(seq 1 "$ROUNDS"); do
  for build in single composed; do
    wasm=$SINGLE_WASM; [ "$build" = composed ] && wasm=$COMPOSED_WASM
    wasmtime serve --addr "127.0.0.1:$PORT" -S cli ${FLAGS[@]+"${FLAGS[@]}"} "$wasm" >/dev/null 2>&1 &
    pid=$!
    until curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; do sleep 0.1; done
    for request in "GET /healthz" "GET /v2/models/pce-2013/ready" "POST /predict"; do
      path=${request#* }
      args=()
      [ "${request%% *}" = POST ] && args=(-s bench/wrk/post-file.lua)
      out=$(wrk -t1 -c1 -d"$DURATION" --latency "${args[@]}" "http://127.0.0.1:$PORT$path")
      if grep -q "Non-2xx" <<<"$out"; then echo "error: non-2xx answers for $request" >&2; exit 1; fi
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
      p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
      p90=$(awk '$1 == "90%" {print $2}' <<<"$out")
      printf '%-6s %-9s %-30s %10s %10s %10s\n' "$round" "$build" "$request" "$rps" "$p50" "$p90"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done

#!/usr/bin/env bash
# Builds and serves the application on 127.0.0.1:3000 (SPIN_HTTP_LISTEN_ADDR overrides):
# with `spin up` when Spin is installed, otherwise with wasmtime, routed like Spin.
set -euo pipefail
cd "$(dirname "$0")/.."
listen="${SPIN_HTTP_LISTEN_ADDR:-127.0.0.1:3000}"
if command -v spin >/dev/null; then
  exec spin build --up --listen "$listen"
fi
scripts/setup.sh serve
scripts/build.sh
exec python3 scripts/serve_local.py --listen "$listen"

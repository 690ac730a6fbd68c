#!/usr/bin/env bash
# Builds the release WebAssembly components that spin.toml names (what `spin build` runs).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --target wasm32-wasip2 --release -p model-api -p docs-site

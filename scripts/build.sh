#!/usr/bin/env bash
# Builds the release WebAssembly components that spin.toml names (what `spin build` runs), and
# the model components: each model alone, exporting healthcare:risk/predictor (wit/risk.wit)
# and importing nothing, in target/components/<model>.wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --target wasm32-wasip2 --release -p model-api -p docs-site

# The models need no WASI at all, so they are plain wasm32 modules wrapped as components.
models=(pce-2013 prevent-2023)
cargo build --target wasm32-unknown-unknown --release $(printf -- '-p %s-component ' "${models[@]}")
mkdir -p target/components
for model in "${models[@]}"; do
  wasm-tools component new "target/wasm32-unknown-unknown/release/${model//-/_}_component.wasm" \
    -o "target/components/$model.wasm"
done

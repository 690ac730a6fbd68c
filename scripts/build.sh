#!/usr/bin/env bash
# Builds the release WebAssembly components (what `spin build` runs):
#
#   target/components/<model>.wasm         each model alone: exports healthcare:model/model
#                                          (wit/model.wit), imports nothing
#   target/wasm32-wasip2/release/model_api.wasm   the HTTP component: imports the models
#                                          (wit/service/api.wit), which Spin wires in from
#                                          spin.toml's [component.api.dependencies]
#   target/composed/api.wasm               the HTTP component with its models composed in by
#                                          wac/api.wac, for `wasmtime serve` and the tests
#   target/wasm32-wasip2/release/docs_site.wasm   the /docs page
#   target/sbom/*.cdx.json                 CycloneDX SBOMs of the shipped artifacts (scripts/sbom.sh;
#                                          needs cargo-cyclonedx, which `scripts/setup.sh test`
#                                          installs)
#
#   scripts/build.sh          everything
#   scripts/build.sh api      the models, the HTTP component and the composition
#   scripts/build.sh docs     the /docs page
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
export PATH="$HOME/.cargo/bin:$PATH"
# The toolchain and targets, wasm-tools and wac: installed if missing (a version check otherwise),
# so that `spin build` works on a fresh checkout.
scripts/setup.sh build

# One line per model component: its crate under crates/models/ and target/components/<name>.wasm.
models=(pce-2013 prevent-2023)

build_api() {
  # The models need no WASI at all, so they are plain wasm32 modules wrapped as components.
  cargo build --target wasm32-unknown-unknown --release $(printf -- '-p %s-component ' "${models[@]}")
  mkdir -p target/components target/composed
  for model in "${models[@]}"; do
    wasm-tools component new "target/wasm32-unknown-unknown/release/${model//-/_}_component.wasm" \
      -o "target/components/$model.wasm"
  done
  cargo build --target wasm32-wasip2 --release -p model-api
  wac compose wac/api.wac \
    --dep healthcare:api=target/wasm32-wasip2/release/model_api.wasm \
    --dep healthcare:pce=target/components/pce-2013.wasm \
    --dep healthcare:prevent=target/components/prevent-2023.wasm \
    -o target/composed/api.wasm
}

build_docs() {
  cargo build --target wasm32-wasip2 --release -p docs-site
}

sboms() {
  if cargo cyclonedx --version >/dev/null 2>&1; then
    scripts/sbom.sh
  else
    echo "note: no SBOMs written (cargo-cyclonedx is not installed: scripts/setup.sh test)" >&2
  fi
}

case "$what" in
  all) build_api; build_docs; sboms ;;
  api) build_api; sboms ;;
  docs) build_docs ;;
  *) echo "usage: scripts/build.sh [all|api|docs]" >&2; exit 2 ;;
esac

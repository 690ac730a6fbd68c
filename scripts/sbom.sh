#!/usr/bin/env bash
# Writes a CycloneDX 1.5 JSON SBOM of each artifact we ship, listing the crates compiled into it:
#
#   target/sbom/model-api.cdx.json        the HTTP component (package model-api, wasm32-wasip2)
#   target/sbom/<model>-component.cdx.json   each built-in model spin.toml lists
#                                         the model components (wasm32-unknown-unknown)
#   target/sbom/api.cdx.json              what ships: target/composed/api.wasm, the HTTP component
#                                         with its model components composed in (the three above)
#   target/sbom/clinical.cdx.json         the FHIR endpoints' component (package clinical,
#                                         wasm32-wasip2)
#   target/sbom/model-exporter.cdx.json   the exporter's static binary (x86_64-unknown-linux-musl,
#                                         as exporter/Dockerfile builds it)
#
# cargo-cyclonedx (pinned in scripts/setup.sh) writes the SBOM: versions, purls, licenses and
# crates.io checksums. It resolves features over the whole workspace, so it also lists crates
# only dev-dependencies or other members switch on (proptest through const-hex, zlib-rs, ...).
# scripts/sbom_prune.py therefore keeps only the crates `cargo tree -e normal --target T -p P`
# shows, which is cargo's own resolution for `cargo build --target T -p P`: normal dependencies
# (proc macros included), no build-dependencies, no dev-dependencies.
#
# Each SBOM is then checked (CycloneDX schema, direct dependencies present, no dev-dependency)
# by tests/supply_chain/test_sbom.py, which scripts/test.sh runs. scripts/build.sh runs this
# script after the build when cargo-cyclonedx is installed (scripts/setup.sh test installs it);
# alone:
#
#   scripts/sbom.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

out=target/sbom
mkdir -p "$out"
# Reproducible timestamps: the commit's time (SOURCE_DATE_EPOCH is honoured by cargo-cyclonedx).
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH

# cargo-cyclonedx writes one file beside every workspace member's Cargo.toml; a name of our
# own keeps them apart from anything else, and they are moved or removed at once.
scratch="sbom-scratch-$$"
cleanup() { find . -path ./target -prune -o -name "$scratch.cdx.json" -type f -exec rm -f {} +; }
trap cleanup EXIT

sbom() { # package target manifest-dir
  local package=$1 target=$2 dir=$3
  cargo cyclonedx --manifest-path "$dir/Cargo.toml" --target "$target" --format json \
    --spec-version 1.5 --no-build-deps --override-filename "$scratch.cdx" -q
  python3 scripts/sbom_prune.py "$dir/$scratch.cdx.json" "$package" "$target" \
    > "$out/$package.cdx.json"
  cleanup
  echo "==> $out/$package.cdx.json ($target)"
}

sbom model-api wasm32-wasip2 .
# Every built-in model spin.toml lists (a model built elsewhere brings its own SBOM).
parts=("$out/model-api.cdx.json")
for model in $(python3 -c 'import tomllib; print(*tomllib.load(open("spin.toml", "rb"))["component"]["api"]["tool"]["model-api"]["models"])'); do
  name=$(basename "$model" .wasm)
  if [ -d "crates/models/$name" ]; then
    sbom "$name-component" wasm32-unknown-unknown "crates/models/$name"
    parts+=("$out/$name-component.cdx.json")
  elif [ -f "models/$name/model.toml" ] && [ ! -f "$out/onnx-model-component.cdx.json.$$" ]; then
    # Users' ONNX models: one crate builds them all (its model is data, not a dependency).
    sbom onnx-model-component wasm32-unknown-unknown crates/onnx-component
    parts+=("$out/onnx-model-component.cdx.json")
    touch "$out/onnx-model-component.cdx.json.$$"
  fi
done
rm -f "$out"/onnx-model-component.cdx.json.$$
python3 scripts/sbom_compose.py api \
  "target/composed/api.wasm: the HTTP component with its model components composed in (spin.toml's models)" \
  "${parts[@]}" > "$out/api.cdx.json"
echo "==> $out/api.cdx.json (composed)"
sbom clinical wasm32-wasip2 crates/clinical
sbom model-exporter x86_64-unknown-linux-musl exporter

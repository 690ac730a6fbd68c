#!/usr/bin/env bash
# Runs every test: formatting and lints, the supply-chain checks (cargo-deny, SBOMs), the native
# unit and property tests, a bounded fuzz run (scripts/fuzz.sh), then the release
# components over real HTTP on loopback (integration, protocol clients, OpenAPI, the docs page
# in headless Chromium, artifact size and imports, the Spin manifest), then the exporter's static
# binary, the Spin suite (tests/spin), the reliability suite (tests/reliability) and the
# Kubernetes manifests, alerts and dashboard (tests/k8s).
#
# The service tests run under the real Spin when `spin` is on PATH: the components are built by
# `spin build`, and the integration suite talks to `spin up` of spin.toml. Without Spin they run
# under the fallback (wasmtime, scripts/serve_local.py) and the Spin suite is skipped, loudly.
# REQUIRE_SPIN=1 (CI sets it) makes a missing Spin an error.
set -euo pipefail
cd "$(dirname "$0")/.."

spin_skipped() {
  cat >&2 <<'EOF'
################################################################################################
# SKIPPED: tests/spin (the manifest loaded by Spin, spin build, spin registry push and pull,
# Spin's telemetry through the exporter into Prometheus, the README's Spin commands).
# The integration and reliability suites ran under wasmtime (scripts/serve_local.py), not Spin.
# Why: `spin` is not on PATH. Install Spin 3.6.x (the version SpinKube's shim embeds) to run them.
################################################################################################
EOF
}
have_spin=false
command -v spin >/dev/null && have_spin=true
if $have_spin; then
  echo "==> service runtime: $(spin --version) ($(command -v spin))"
elif [ "${REQUIRE_SPIN:-}" = 1 ]; then
  echo "error: REQUIRE_SPIN=1 but spin is not on PATH" >&2
  exit 1
else
  spin_skipped
fi

scripts/setup.sh test

echo "==> formatting and lints"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -p model-api -p docs-site -p clinical -- -D warnings
# shellcheck disable=SC2046  # one -p per model crate
cargo clippy --target wasm32-unknown-unknown -p model-component \
  $(for crate in crates/models/*/; do printf -- '-p %s-component ' "$(basename "$crate")"; done) -- -D warnings

# Supply chain: licenses, bans and sources of every dependency (deny.toml), then the SBOM of
# each shipped artifact (target/sbom/) and its checks.
echo "==> supply chain: cargo deny (licenses, bans, sources) and SBOMs"
cargo deny --locked --workspace check licenses bans sources
# The fuzz targets' workspace: its Cargo.lock follows the root one (not --locked, so that a new
# dependency of model-api or the exporter does not need a second lock update first).
cargo deny --manifest-path fuzz/Cargo.toml --config deny.toml --workspace \
  check licenses bans sources
scripts/sbom.sh
.venv/bin/pytest tests/supply_chain -q

echo "==> architecture: no module cycle in the domain crate or the exporter, no long exporter file"
.venv/bin/pytest tests/architecture -q

echo "==> native tests"
cargo test --workspace --all-targets
cargo test --workspace --doc

# A bounded fuzz run of each target (/predict, infer, OTLP decoding) from the committed seeds.
echo "==> fuzzing, ${FUZZ_SECONDS:-30} s per target"
scripts/fuzz.sh "${FUZZ_SECONDS:-30}"

echo "==> release components"
if $have_spin; then
  spin build            # spin.toml's build commands: scripts/build.sh api, scripts/build.sh docs
else
  scripts/build.sh
fi

if $have_spin; then
  echo "==> integration tests, under spin up of spin.toml ($(spin --version))"
else
  echo "==> integration tests, under the fallback (wasmtime, scripts/serve_local.py): no Spin"
fi
.venv/bin/pytest tests/integration -q "$@"

# The metrics exporter's static (musl) binary, with the command exporter/Dockerfile uses, so
# the binary the sidecar image packages is built and tested in CI.
echo "==> exporter static binary (exporter/Dockerfile's build)"
cargo build --locked --profile exporter --target x86_64-unknown-linux-musl -p model-exporter

# What only the real Spin shows: spin.toml loaded by Spin, the OCI artifact pushed to a loopback
# registry and served back by `spin up -f <reference>`, Spin's own telemetry through the exporter
# into a real Prometheus, and the README's Spin commands run as written.
if $have_spin; then
  echo "==> Spin: manifest, registry round trip, telemetry end to end, documented commands"
  .venv/bin/pytest tests/spin -q
fi

# Reliability (docs/reliability.md): Schemathesis from /openapi.json, 60 s of load under
# wasmtime serve, the exporter under sustained OTLP, killed and restarted under a real
# Prometheus, slow and oversized clients, and patient values kept out of logs, labels and errors.
echo "==> reliability"
.venv/bin/pytest tests/reliability -q

# Kubernetes: every kustomization rendered and validated strictly, the sidecar injection
# evaluated, rules/dashboard checked against a real exporter run, promtool unit tests.
echo "==> Kubernetes manifests, alerts and dashboard"
.venv/bin/pytest tests/k8s -q
$have_spin || spin_skipped

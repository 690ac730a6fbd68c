#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit and property tests, then the release
# components over real HTTP on loopback (integration, protocol clients, OpenAPI, the docs page
# in headless Chromium, artifact size and imports, the Spin manifest), then the exporter's static
# binary, the reliability suite (tests/reliability) and the Kubernetes manifests, alerts and
# dashboard (tests/k8s).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

echo "==> formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -p model-api -p docs-site -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p model-component -p pce-2013-component \
  -p prevent-2023-component -- -D warnings

echo "==> native tests"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "==> release components"
scripts/build.sh

echo "==> integration tests"
.venv/bin/pytest tests/integration -q "$@"

# The metrics exporter's static (musl) binary, with the command exporter/Dockerfile uses, so
# the binary the sidecar image packages is built and tested in CI.
echo "==> exporter static binary (exporter/Dockerfile's build)"
cargo build --locked --profile exporter --target x86_64-unknown-linux-musl -p model-exporter

# Reliability (docs/reliability.md): Schemathesis from /openapi.json, 60 s of load under
# wasmtime serve, the exporter under sustained OTLP, killed and restarted under a real
# Prometheus, slow and oversized clients, and patient values kept out of logs, labels and errors.
echo "==> reliability"
.venv/bin/pytest tests/reliability -q

# Kubernetes: every kustomization rendered and validated strictly, the sidecar injection
# evaluated, rules/dashboard checked against a real exporter run, promtool unit tests.
echo "==> Kubernetes manifests, alerts and dashboard"
.venv/bin/pytest tests/k8s -q

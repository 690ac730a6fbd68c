#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit and property tests, then the release
# components over real HTTP on loopback (integration, protocol clients, OpenAPI, the docs page
# in headless Chromium, artifact size and imports, the Spin manifest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

echo "==> formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-wasip2 -p model-api -p docs-site -- -D warnings

echo "==> native tests"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "==> release components"
scripts/build.sh

echo "==> integration tests"
.venv/bin/pytest tests/integration -q "$@"

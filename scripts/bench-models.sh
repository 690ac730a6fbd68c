#!/usr/bin/env bash
# Issue 13's performance targets, before and after, side by side in one run: what one request to
# one model costs, with the build's models and with 1, 4 and 8 models, against the hello floor
# and the original FastAPI service, under the real Spin (`spin up`) and `wasmtime serve`; a
# 1,000-patient batch; `spin up` → first /predict. docs/performance.md has the figures and the
# commands that produced them.
#
#   scripts/bench-models.sh build         # every server below, into $BENCH_WORK (default
#                                         # /tmp/bench-models); `build-after`: the AFTER ones only
#   scripts/bench-models.sh build-noline  # hello, line and noline (below)
#   scripts/bench-models.sh build-wasip3  # hello-wasip3, wasip3, wasip3-1, wasip3-8 (below)
#   scripts/bench-models.sh build-floor   # hello, hello-line, line, floor(-1, -8)(-noline) (below)
#   scripts/bench-models.sh throughput    # wrk -t1 -c16, one patient per request, RUNS servers,
#                                         # ROUNDS rounds alternating (scripts/bench-wiring.sh)
#   scripts/bench-models.sh batch         # POST /predict with 1000 patients, BATCH_RUNS servers
#   scripts/bench-models.sh coldstart     # spin up -> first 200 from POST /predict, COLD_APPS
#
# Servers (APP names; `spin/APP` and `wasmtime/APP` in RUNS):
#   hello         bench/hello-component: the floor
#   current       BEFORE: the API as of $BEFORE_COMMIT (default 1754358, before issue 13) with its
#                 2 models; under Spin its committed spin.toml, which composes them at load time
#   dyn-1, dyn-4, dyn-8   BEFORE with 1, 4, 8 copies of pce-2013 (scripts/bench-wiring.sh's
#                 prototypes of that commit)
#   after         AFTER: the committed build (spin.toml: the API pre-composed with its models,
#                 and the docs component)
#   after-1, after-4, after-8   AFTER with 1, 4, 8 models: pce-2013 and copies of it, listed in
#                 spin.toml (a copy of the project each, built by scripts/build.sh)
#   line, noline  the committed API with its models alone at every path (as after-N), and the
#                 same without the line /predict writes to stdout for the metrics sidecar
#                 (src/telemetry.rs): what per-model /predict metrics cost
#   hello-line    hello printing the served-model line: what the line costs Spin alone
#   floor, floor-noline   the committed API and its models with a /predict that only reads the
#                 body, has the default model score a fixed patient and answers a fixed body
#                 (bench/floor/predict.rs), with and without the line: the least any HTTP code
#                 costs with this instance graph; floor-1, floor-8 (and -noline): with 1 and 8
#                 models (pce-2013 and copies of it)
#   hello-wasip3, wasip3, wasip3-1, wasip3-8   hello and AFTER (with its models, with 1 and 8)
#                 with a WASIp3 entry point (bench/wasip3/), which Spin 3.6.3 runs with its
#                 experimental `wasip3-unstable` executor, reusing an instance for many requests;
#                 Spin only (`wasmtime serve` 48 serves the final WASIp3, not this RC)
#   python/app    the original service (bench/original/app.py: FastAPI + uvicorn, one worker)
#
# Knobs: BENCH_WORK, BEFORE_COMMIT, and scripts/bench-wiring.sh's (ROUNDS, WRK_DURATION,
# WRK_CONNECTIONS, RUNS, BATCH_RUNS, COLD_APPS, COLD_REPS). The original service needs FastAPI
# and uvicorn in .venv (`.venv/bin/pip install fastapi uvicorn`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export WIRING_WORK="${BENCH_WORK:-/tmp/bench-models}"
export WIRING_COMMIT="${BEFORE_COMMIT:-1754358}"
WORK=$WIRING_WORK
OUT=$WORK/out
APPS=$WORK/apps
mkdir -p "$OUT" "$APPS"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '==> %s\n' "$*"; }

# A fresh copy of the committed project at $WORK/NAME, with the main build's artifacts as a
# head start (the dependencies need not compile again).
project_copy() {
  local copy="$WORK/$1"
  rm -rf "$copy"
  mkdir -p "$copy/target"
  git archive HEAD | tar -x -C "$copy"
  for artifacts in wasm32-wasip2 wasm32-unknown-unknown release; do
    cp -r "$ROOT/target/$artifacts" "$copy/target/"
  done
}

# list_models SPIN_TOML MODELS...: makes MODELS (paths) the manifest's list of models.
list_models() {
  python3 - "$@" <<'PY'
import re, sys
path, *models = sys.argv[1:]
text = open(path).read()
listed = "models = [\n" + "".join(f'    "{m}",\n' for m in models) + "]"
text, count = re.subn(r"models = \[\n(?:    .*\n)*\]", listed, text, count=1)
assert count == 1, "spin.toml lists its models as scripts/bench-models.sh expects"
open(path, "w").write(text)
PY
}

# replace_once FILE OLD NEW: FILE with its one OLD replaced by NEW; fails if OLD is not there
# exactly once, so that a copy is never measured unpatched after the project changed.
replace_once() {
  python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
assert text.count(old) == 1, f"{path} is not as scripts/bench-models.sh expects: {old!r}"
open(path, "w").write(text.replace(old, new))
PY
}

# pce_copies N SOURCE: sets MODELS to pce-2013 and N-1 copies of SOURCE (its build) in
# $WORK/models, as spin.toml lists them: N models of which one is called per request.
pce_copies() {
  local i
  MODELS=("target/components/pce-2013.wasm")
  mkdir -p "$WORK/models"
  for i in $(seq 2 "$1"); do
    cp "$2" "$WORK/models/pce-2013-copy$i.wasm"
    MODELS+=("$WORK/models/pce-2013-copy$i.wasm")
  done
}

# build_api DIR NAME: `scripts/build.sh api` in DIR (a copy of the project, or the checkout),
# logged to $WORK/build-NAME.log; its composed API goes to $OUT/NAME.composed.wasm.
build_api() {
  (cd "$1" && scripts/build.sh api >"$WORK/build-$2.log" 2>&1)
  cp "$1/target/composed/api.wasm" "$OUT/$2.composed.wasm"
}

# A copy of the committed project listing MODELS (paths) in spin.toml, built as NAME.
build_after() {
  local name="$1" copy="$WORK/$1"
  shift
  project_copy "$name"
  list_models "$copy/spin.toml" "$@"
  build_api "$copy" "$name"
}

# build_model_counts COPY NAME SUFFIX [wasip3]: the project copy COPY built as NAMESUFFIX with
# its own models, then as NAME-1SUFFIX and NAME-8SUFFIX listing pce-2013 and copies of COPY's
# build of it; each served by an app (`wasip3`: with Spin's WASIp3 executor). COPY's spin.toml is
# left as it was found.
build_model_counts() {
  local copy="$1" name="$2" suffix="$3" executor="${4:-}" n
  cp "$copy/spin.toml" "$copy.spin.toml"
  build_api "$copy" "$name$suffix"
  api_app "$name$suffix" "$executor"
  for n in 1 8; do
    pce_copies "$n" "$copy/target/components/pce-2013.wasm"
    cp "$copy.spin.toml" "$copy/spin.toml"
    list_models "$copy/spin.toml" "${MODELS[@]}"
    build_api "$copy" "$name-$n$suffix"
    api_app "$name-$n$suffix" "$executor"
  done
  cp "$copy.spin.toml" "$copy/spin.toml"
}

# An app serving only the API component at every path; `api_app NAME wasip3` runs it with
# Spin's WASIp3 executor.
api_app() {
  local executor=""
  [ "${2:-}" = wasip3 ] && executor='executor = { type = "wasip3-unstable" }'
  mkdir -p "$APPS/$1"
  cat >"$APPS/$1/spin.toml" <<TOML
spin_manifest_version = 2
[application]
name = "$1"
version = "1.0.0"
[[trigger.http]]
route = "/..."
component = "api"
$executor
[component.api]
source = "$OUT/$1.composed.wasm"
allowed_outbound_hosts = []
TOML
}

build_after_all() {
  say "AFTER ($(git rev-parse --short HEAD)): the committed build"
  scripts/build.sh all >"$WORK/build-after.log" 2>&1
  cp target/composed/api.wasm "$OUT/after.composed.wasm"
  mkdir -p "$APPS/after"
  sed -e "s|\"target/|\"$ROOT/target/|g" spin.toml >"$APPS/after/spin.toml"
  local n
  for n in 1 4 8; do
    pce_copies "$n" target/components/pce-2013.wasm
    say "AFTER with $n model(s)"
    build_after "after-$n" "${MODELS[@]}"
    api_app "after-$n"
  done
}

# The checkout's API (line) and hello, each an app serving it at every path.
build_line_and_hello() {
  build_api . line
  api_app line
  cargo build --quiet --target wasm32-wasip2 --release -p hello-component
  cp target/wasm32-wasip2/release/hello_component.wasm "$OUT/hello.composed.wasm"
  api_app hello
}

# drop_line COPY: the copy's src/spin_entry.rs no longer writes the served-model line.
drop_line() {
  replace_once "$1/src/spin_entry.rs" 'println!("{}", served_model_line(model));' \
    'let _ = served_model_line(model);'
}

# hello, the committed API (line) and the same without the served-model line (noline: a copy
# of the project whose src/spin_entry.rs writes no line, built by scripts/build.sh).
build_noline() {
  local copy="$WORK/noline"
  say "hello, and AFTER ($(git rev-parse --short HEAD)) with and without the served-model line"
  build_line_and_hello
  project_copy noline
  drop_line "$copy"
  build_api "$copy" noline
  api_app noline
  ls -l "$OUT"/{hello,line,noline}.composed.wasm
}

# What any HTTP code costs with these models, and what the served-model line costs hello:
# `floor` is the committed API whose /predict reads the body, has the default model score one
# fixed patient and answers a fixed body (no JSON read, no validation, no prediction written:
# bench/floor/predict.rs), with the line; floor-1 and floor-8 the same with 1 and 8 models; each
# also without the line (-noline); `hello-line` hello printing the line. (Also hello and line,
# as build-noline.)
build_floor() {
  local copy="$WORK/floor" release=target/wasm32-wasip2/release
  say "hello, AFTER ($(git rev-parse --short HEAD)) and its floor, with and without the line"
  build_line_and_hello
  project_copy floor
  replace_once "$copy/bench/hello-component/src/spin_entry.rs" '    drop(body);' \
    '    drop(body);
    println!("model-api served model=pce-2013");'
  (cd "$copy" && cargo build --quiet --target wasm32-wasip2 --release -p hello-component)
  cp "$copy/$release/hello_component.wasm" "$OUT/hello-line.composed.wasm"
  api_app hello-line
  replace_once "$copy/src/spin_entry.rs" '    let response = route(&request);' \
    '    let response = if request.method == "POST" && request.path == "/predict" {
        floor()
    } else {
        route(&request)
    };'
  { echo; cat bench/floor/predict.rs; } >>"$copy/src/spin_entry.rs"
  build_model_counts "$copy" floor ""
  drop_line "$copy"
  build_model_counts "$copy" floor -noline
  ls -l "$OUT"/{hello,hello-line,line}.composed.wasm "$OUT"/floor*.composed.wasm
}

# hello and the committed API with a WASIp3 entry point (bench/wasip3/), measurement only:
# spin-sdk 5.2.0's `wasip3-unstable` feature exports wasi:http/handler@0.3.0-rc-2026-01-06,
# the RC Spin 3.6.3's experimental executor serves. The API's models are its own, then one and
# eight (pce-2013 and copies), in one copy of the project whose list of models changes.
build_wasip3() {
  local hello="$WORK/hello-wasip3-crate" copy="$WORK/wasip3"
  say "hello and AFTER ($(git rev-parse --short HEAD)) with a WASIp3 entry point"
  rm -rf "$hello"
  mkdir -p "$hello/src"
  cp bench/wasip3/hello.rs "$hello/src/lib.rs"
  cp Cargo.lock rust-toolchain.toml "$hello/"
  # The root's release profile, so that only the entry point differs from bench/hello-component.
  cat >"$hello/Cargo.toml" <<TOML
[package]
name = "hello-wasip3"
version = "1.0.0"
edition = "2021"
publish = false
[lib]
crate-type = ["cdylib"]
[dependencies]
spin-sdk = { version = "=5.2.0", default-features = false, features = ["wasip3-unstable"] }
$(sed -n '/^\[profile.release\]$/,/^$/p' Cargo.toml)
[workspace]
TOML
  (cd "$hello" && CARGO_TARGET_DIR="$WORK/target" cargo build --quiet --release --target wasm32-wasip2)
  cp "$WORK/target/wasm32-wasip2/release/hello_wasip3.wasm" "$OUT/hello-wasip3.composed.wasm"
  api_app hello-wasip3 wasip3

  project_copy wasip3
  cp bench/wasip3/spin_entry.rs "$copy/src/spin_entry.rs"
  replace_once "$copy/Cargo.toml" $'spin-sdk = { workspace = true }\n' \
    $'spin-sdk = { workspace = true, features = ["wasip3-unstable"] }\nhttp = "1"\nhttp-body-util = "0.1"\nbytes = "1"\n'
  replace_once "$copy/scripts/build.sh" 'wasi:http/incoming-handler@0.2.0' \
    'wasi:http/handler@0.3.0-rc-2026-01-06'
  build_model_counts "$copy" wasip3 "" wasip3
  ls -l "$OUT"/{hello-wasip3,wasip3,wasip3-1,wasip3-8}.composed.wasm
}

build() {
  say "BEFORE ($WIRING_COMMIT): hello, the API with its models, and with 1, 4, 8 models"
  # The main build's artifacts as a head start: the dependencies need not compile again.
  if [ ! -d "$WORK/target" ]; then
    mkdir -p "$WORK/target"
    for artifacts in wasm32-wasip2 wasm32-unknown-unknown release; do
      cp -r "target/$artifacts" "$WORK/target/"
    done
  fi
  scripts/bench-wiring.sh build base
  build_after_all
  ls -l "$OUT"/{hello,current,dyn-1,dyn-4,dyn-8,after,after-1,after-4,after-8}.composed.wasm
}

case "${1:-}" in
  build) build ;;
  build-after) build_after_all ;;
  build-noline) build_noline ;;
  build-floor) build_floor ;;
  build-wasip3) build_wasip3 ;;
  throughput)
    RUNS="${RUNS:-spin/hello spin/current spin/after spin/dyn-1 spin/after-1 spin/dyn-4 spin/after-4 spin/dyn-8 spin/after-8 wasmtime/hello wasmtime/current wasmtime/after wasmtime/dyn-1 wasmtime/after-1 wasmtime/dyn-4 wasmtime/after-4 wasmtime/dyn-8 wasmtime/after-8 wasmtime+tuned/hello wasmtime+tuned/after wasmtime+tuned/after-4 python/app}" \
      scripts/bench-wiring.sh throughput ;;
  batch)
    BATCH_RUNS="${BATCH_RUNS:-spin/current spin/after wasmtime/current wasmtime/after}" \
      scripts/bench-wiring.sh batch ;;
  coldstart)
    COLD_APPS="${COLD_APPS:-hello hello-docs current after after-4}" scripts/bench-wiring.sh coldstart ;;
  *) echo "usage: scripts/bench-models.sh build|build-after|build-noline|build-floor|build-wasip3|throughput|batch|coldstart" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# How should the model components be wired into the API? (docs/design/model-wiring.md has the
# figures and says which command produced which.) What one request costs with 1, 4 and 8 model
# instances in the composition, built different ways, against the alternatives (a route per
# model, a gateway using Spin's local service chaining), under the real Spin (`spin up`) and
# under `wasmtime serve`; how long `spin up` takes to answer its first POST /predict; what a
# 1000-patient batch costs. Throwaway prototypes, built outside the repository from
# `git archive $WIRING_COMMIT` (default HEAD) into $WIRING_WORK (default /tmp/bench-wiring):
#
#   scripts/bench-wiring.sh build [STEP]  # every prototype, or one step (base small_http single
#                                         # arena mini apiarena batch), then the Spin manifests
#   scripts/bench-wiring.sh throughput    # wrk -t1 -c16 -d10s POST /predict (one PCE patient),
#                                         # the RUNS servers one at a time, ROUNDS times alternating
#   scripts/bench-wiring.sh coldstart     # spin up -> first 200 from POST /predict, COLD_REPS times
#                                         # each of COLD_APPS, alternating (median, min, max)
#   scripts/bench-wiring.sh batch         # POST /predict with 1000 patients (wrk -t1 -c4), BATCH_RUNS
#
# A run is RUNTIME/APP. Runtimes: spin (`spin up` of $WIRING_WORK/apps/APP/spin.toml, Spin 3.6's
# defaults: pooling allocator keeping 2 MiB of each memory resident), spin+nokeep (the same with
# SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT=0), wasmtime (`wasmtime serve -S cli` of
# $WIRING_WORK/out/APP.composed.wasm: the on-demand allocator), wasmtime+pool (the same with
# POOL_FLAGS: the pooling allocator, PAGEMAP_SCAN resets, 2 MiB kept resident), wasmtime+tuned
# (TUNED_FLAGS: POOL_FLAGS with tables kept resident too, as scripts/serve_local.py runs wasmtime).
#
# Builds (N = 1, 4, 8 model instances, all of them pce-2013, the first wired as the default;
# "small" = linked with -C link-arg=-zstack-size=...; every cargo build under nice -n 10):
#   hello                 bench/hello-component, the floor (hello-small: 128 KiB stack;
#                         hello-arena: also the arena allocator below)
#   single                the single-component build, dccff36 (HTTP code and equations in one)
#   current               the committed API with its 2 models (wac/api.wac; Spin: the committed
#                         spin.toml, which also loads the docs component)
#   dyn-N                 the committed HTTP code, its world importing N models: info() + predict()
#                         per request, as today; models as committed (1 MiB stack: 17 pages)
#   static-N              the same, each model's info() generated at build time (crates/metagen)
#                         and compiled in: predict() only
#   small-static-N        static-N with models linked with a 64 KiB stack (2 pages)
#   tiny-static-N         ... and the HTTP component with a 128 KiB stack (3 pages)
#   arena-static-N        tiny-static-N with models whose allocator never grows memory
#                         (crates/models/pce-2013-arena: a 48 KiB static bump arena)
#   mini-static-N         tiny-static-N with one-page models (crates/models/pce-2013-mini: 16 KiB
#                         stack, 32 KiB arena, dlmalloc beyond it)
#   apiarena-N            mini-static-N with the arena allocator in the HTTP component too
#   tiny-batch-4, arena-batch-4   the contract with predict-batch (one call per batch request)
#   routed-N (Spin)       N per-model components (arena-static-1: the HTTP code with exactly one
#                         model), the first routed by Spin at /predict and /v2/models/pce-2013/...
#   chained-N (Spin)      the same N components behind a gateway at /predict that forwards the
#                         request by local service chaining (http://model-m0.spin.internal)
#   full-N, prop-N (Spin) whole applications for cold start: chained-N plus the docs component;
#                         the committed spin.toml with the API pre-composed with N mini models
#   Spin apps named *-pre run the wac composition built here; the others let Spin compose the
#   models from [component.api.dependencies] at load time, as the committed spin.toml does.
#
# Knobs: RUNS, ROUNDS (3), WRK_DURATION (10s), WRK_CONNECTIONS (16), REQUEST ("POST /predict" or
# "GET /healthz"), COLD_APPS, COLD_REPS (7), COLD_FLAGS (e.g. --disable-cache), BATCH_RUNS,
# POOL_FLAGS, SPIN (the spin CLI; default: on PATH), WIRING_WORK, WIRING_COMMIT, WIRING_ROOT
# (the checkout whose bench/ files are used; default: this script's). Before each wrk run the
# script waits for a quiet machine (under 10 % busy for 2 s) and records the server's CPU time.
# Results: $WIRING_WORK/results/*.tsv, and a summary table at the end of each command.
set -euo pipefail
cd "${WIRING_ROOT:-$(dirname "$0")/..}"
ROOT=$PWD
WORK="${WIRING_WORK:-/tmp/bench-wiring}"
COMMIT="${WIRING_COMMIT:-HEAD}"
OUT="$WORK/out"
RES="$WORK/results"
SRC="$WORK/repo"
export CARGO_TARGET_DIR="$WORK/target"
export PATH="$HOME/.cargo/bin:$PATH"
SPIN="${SPIN:-spin}"
ROUNDS="${ROUNDS:-3}"
DURATION="${WRK_DURATION:-10s}"
CONNECTIONS="${WRK_CONNECTIONS:-16}"
# wasmtime+pool: the pooling allocator, resetting only the pages an instance wrote (PAGEMAP_SCAN)
# and keeping up to 2 MiB per memory resident, as Spin keeps it.
POOL_FLAGS="${POOL_FLAGS:--O pooling-allocator=y -O pooling-pagemap-scan=y -O pooling-memory-keep-resident=2097152}"
# wasmtime+tuned: scripts/serve_local.py's flags (its WASMTIME_FLAGS): POOL_FLAGS, and 64 KiB of
# each table kept resident, so that a table is not decommitted and lazily refilled per request.
TUNED_FLAGS="${TUNED_FLAGS:--O pooling-allocator=y -O pooling-pagemap-scan=auto -O pooling-memory-keep-resident=2097152 -O pooling-table-keep-resident=65536}"
ONE_FILE="$ROOT/bench/wrk/predict-one.json"
LUA="$ROOT/bench/wrk/post-file.lua"
mkdir -p "$OUT" "$RES"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- build ------------------------------------------------------------------------------------

write_prototypes() {
  rm -rf "$SRC" && mkdir -p "$SRC"
  git archive "$COMMIT" | tar -x -C "$SRC"
  mkdir -p "$SRC/crates/metagen/src" "$SRC/crates/gateway/src" "$WORK/gen"
  cp "$SRC/wit/service/api.wit" "$WORK/gen/api.wit.orig"
  cp "$SRC/src/catalog/imports.rs" "$WORK/gen/imports.rs.orig"
  python3 - "$SRC/Cargo.toml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
text = text.replace('    "exporter",\n]', '    "exporter",\n    "crates/metagen",\n    "crates/gateway",\n]', 1)
open(path, "w").write(text)
PY
  cat >"$SRC/crates/metagen/Cargo.toml" <<'EOF'
[package]
name = "metagen"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
model-api = { path = "../.." }
EOF
  cat >"$SRC/crates/metagen/src/main.rs" <<'EOF'
//! Prints each model's info() as a Rust expression: model metadata derived at build time.
use model_api::catalog::Catalog;
use std::fmt::Write;

fn s(v: &str) -> String { format!("{v:?}.to_string()") }
fn os(v: &Option<String>) -> String { match v { Some(v) => format!("Some({})", s(v)), None => "None".into() } }

fn main() {
    let out = std::env::args().nth(1).expect("out dir");
    for model in Catalog::linked().models() {
        let i = model.info();
        let mut code = String::new();
        write!(code, "ModelInfo {{ name: {}, version: {}, title: {}, citation: {}, population: {}, horizon_years: {}, inputs: vec![",
            s(&i.name), s(&i.version), s(&i.title), s(&i.citation), s(&i.population), i.horizon_years).unwrap();
        for input in &i.inputs {
            write!(code, "InputInfo {{ field: Field::{:?}, unit: {}, required: {}, when_absent: {}, range: {:?} }},",
                input.field, os(&input.unit), input.required, os(&input.when_absent), input.range).unwrap();
        }
        write!(code, "], outcomes: vec![").unwrap();
        for o in &i.outcomes {
            write!(code, "OutcomeInfo {{ name: {}, description: {} }},", s(&o.name), s(&o.description)).unwrap();
        }
        write!(code, "], linear_predictor_scale: {}, reference_patient: {}, category_basis: {} }}",
            s(&i.linear_predictor_scale), s(&i.reference_patient), s(&i.category_basis)).unwrap();
        std::fs::write(format!("{out}/{}.rs", i.name), code).unwrap();
    }
}
EOF
  cat >"$SRC/crates/gateway/Cargo.toml" <<'EOF'
[package]
name = "gateway"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[target.'cfg(target_arch = "wasm32")'.dependencies]
spin-sdk = { workspace = true }
futures = { version = "0.3", default-features = false, features = ["std"] }
serde = { workspace = true }
serde_json = { workspace = true }
EOF
  cat >"$SRC/crates/gateway/src/lib.rs" <<'EOF'
//! /predict for design (b): reads the body, finds "model", forwards the request unchanged to
//! that model's own Spin component by local service chaining, and copies its answer back.
#[cfg(target_arch = "wasm32")]
mod entry {
    use futures::StreamExt;
    use spin_sdk::http::{send, Fields, IncomingRequest, Method, OutgoingResponse, Request, Response, ResponseOutparam};
    use spin_sdk::http_component;

    /// (model name, Spin component id), the default first: in the design, generated from
    /// spin.toml at build time.
    static MODELS: &[(&str, &str)] = &[("pce-2013", "model-m0"), ("prevent-2023", "model-m1")];

    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        model: Option<std::borrow::Cow<'a, str>>,
    }

    #[http_component]
    async fn handle(incoming: IncomingRequest, response_out: ResponseOutparam) {
        let path = incoming.path_with_query().unwrap_or_default();
        let content_type = incoming
            .headers()
            .get(&"content-type".to_string())
            .into_iter()
            .next()
            .map(|v| String::from_utf8_lossy(&v).into_owned());
        let mut body = Vec::new();
        let mut stream = incoming.into_body_stream();
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            body.extend_from_slice(&chunk);
        }
        let named = serde_json::from_slice::<Probe<'_>>(&body).ok().and_then(|p| p.model.map(|m| m.into_owned()));
        // An unknown model goes to the default model's component, which answers 422.
        let component = named
            .as_deref()
            .and_then(|name| MODELS.iter().find(|(model, _)| *model == name))
            .map_or(MODELS[0].1, |(_, component)| component);
        let mut builder = Request::builder();
        builder.method(Method::Post).uri(format!("http://{component}.spin.internal{path}"));
        if let Some(content_type) = content_type {
            builder.header("content-type", content_type);
        }
        let request = builder.body(body).build();
        let (status, content_type, body) = match send::<_, Response>(request).await {
            Ok(response) => {
                let content_type = response.header("content-type").and_then(|v| v.as_str()).unwrap_or("application/json").to_string();
                (*response.status(), content_type, response.into_body())
            }
            Err(error) => (502, "text/plain".to_string(), format!("{error}").into_bytes()),
        };
        let headers = [("content-type".to_string(), content_type.into_bytes())];
        let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
        let outgoing = OutgoingResponse::new(fields);
        let _ = outgoing.set_status_code(status);
        let _ = response_out.set_with_body(outgoing, body).await;
    }
}
EOF
  mkdir -p "$WORK/arena" "$WORK/mini"
  cat >"$WORK/arena/Cargo.toml" <<'EOF'
[package]
name = "pce-2013-arena-component"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
model-component = { path = "../../model-component" }
risk-models = { path = "../../risk-models" }
EOF
  cat >"$WORK/arena/lib.rs" <<'EOF'
//! pce-2013 with an allocator that never grows memory while a call's allocations fit in a
//! static arena: a bump pointer reset whenever the last live allocation is freed (after each
//! predict's post-return). Beyond the arena it takes pages with memory.grow, as dlmalloc does.
model_component::model_component!(risk_models::Model::Pce2013);

#[cfg(target_arch = "wasm32")]
mod arena {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    const ARENA_BYTES: usize = 48 * 1024;
    #[repr(C, align(16))]
    struct Bytes([u8; ARENA_BYTES]);
    struct Arena {
        bytes: UnsafeCell<Bytes>,
        next: UnsafeCell<usize>,
        live: UnsafeCell<usize>,
        grown_next: UnsafeCell<usize>,
        grown_end: UnsafeCell<usize>,
    }
    unsafe impl Sync for Arena {}
    #[global_allocator]
    static ARENA: Arena = Arena {
        bytes: UnsafeCell::new(Bytes([0; ARENA_BYTES])),
        next: UnsafeCell::new(0),
        live: UnsafeCell::new(0),
        grown_next: UnsafeCell::new(0),
        grown_end: UnsafeCell::new(0),
    };

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe {
                let base = self.bytes.get() as usize;
                let start = (base + *self.next.get() + layout.align() - 1) & !(layout.align() - 1);
                if start + layout.size() <= base + ARENA_BYTES {
                    *self.next.get() = start + layout.size() - base;
                    *self.live.get() += 1;
                    return start as *mut u8;
                }
                // Beyond the arena: bump through pages taken with memory.grow (never reused).
                let mut start = (*self.grown_next.get() + layout.align() - 1) & !(layout.align() - 1);
                if *self.grown_next.get() == 0 || start + layout.size() > *self.grown_end.get() {
                    let pages = (layout.size() + layout.align() + 65535) / 65536;
                    let old = core::arch::wasm32::memory_grow(0, pages);
                    if old == usize::MAX {
                        return core::ptr::null_mut();
                    }
                    start = (old * 65536 + layout.align() - 1) & !(layout.align() - 1);
                    *self.grown_end.get() = (old + pages) * 65536;
                }
                *self.grown_next.get() = start + layout.size();
                *self.live.get() += 1;
                start as *mut u8
            }
        }
        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {
            unsafe {
                *self.live.get() -= 1;
                if *self.live.get() == 0 {
                    *self.next.get() = 0;
                }
            }
        }
    }
}
EOF
  cat >"$WORK/mini/Cargo.toml" <<'EOF'
[package]
name = "pce-2013-mini-component"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
model-component = { path = "../../model-component" }
risk-models = { path = "../../risk-models" }
EOF
  cat >"$WORK/mini/lib.rs" <<'EOF'
//! pce-2013 in one 64 KiB page: a 16 KiB stack (-zstack-size=16384) and an allocator that serves
//! a call's allocations from a 32 KiB static arena (a bump pointer, reset when the last live
//! arena allocation is freed, i.e. after each call's post-return), falling back to Rust's
//! default allocator (dlmalloc, which grows memory) for whatever does not fit.
model_component::model_component!(risk_models::Model::Pce2013);

#[cfg(target_arch = "wasm32")]
mod arena {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;
    use std::alloc::System;

    const ARENA_BYTES: usize = 32 * 1024;
    #[repr(C, align(16))]
    struct Bytes([u8; ARENA_BYTES]);
    struct Arena {
        bytes: UnsafeCell<Bytes>,
        next: UnsafeCell<usize>,
        live: UnsafeCell<usize>,
    }
    unsafe impl Sync for Arena {}
    #[global_allocator]
    static ARENA: Arena = Arena {
        bytes: UnsafeCell::new(Bytes([0; ARENA_BYTES])),
        next: UnsafeCell::new(0),
        live: UnsafeCell::new(0),
    };

    impl Arena {
        fn contains(&self, ptr: *mut u8) -> bool {
            let base = self.bytes.get() as usize;
            (base..base + ARENA_BYTES).contains(&(ptr as usize))
        }
    }

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe {
                let base = self.bytes.get() as usize;
                let start = (base + *self.next.get() + layout.align() - 1) & !(layout.align() - 1);
                if start + layout.size() <= base + ARENA_BYTES {
                    *self.next.get() = start + layout.size() - base;
                    *self.live.get() += 1;
                    return start as *mut u8;
                }
                System.alloc(layout)
            }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe {
                if self.contains(ptr) {
                    *self.live.get() -= 1;
                    if *self.live.get() == 0 {
                        *self.next.get() = 0;
                    }
                } else {
                    System.dealloc(ptr, layout)
                }
            }
        }
    }
}
EOF
  cat >"$WORK/apiarena.rs" <<'EOF'

#[cfg(target_arch = "wasm32")]
mod arena {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;
    use std::alloc::System;

    const ARENA_BYTES: usize = 96 * 1024;
    #[repr(C, align(16))]
    struct Bytes([u8; ARENA_BYTES]);
    struct Arena {
        bytes: UnsafeCell<Bytes>,
        next: UnsafeCell<usize>,
        live: UnsafeCell<usize>,
    }
    unsafe impl Sync for Arena {}
    #[global_allocator]
    static ARENA: Arena = Arena {
        bytes: UnsafeCell::new(Bytes([0; ARENA_BYTES])),
        next: UnsafeCell::new(0),
        live: UnsafeCell::new(0),
    };

    impl Arena {
        fn contains(&self, ptr: *mut u8) -> bool {
            let base = self.bytes.get() as usize;
            (base..base + ARENA_BYTES).contains(&(ptr as usize))
        }
    }

    unsafe impl GlobalAlloc for Arena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe {
                let base = self.bytes.get() as usize;
                let start = (base + *self.next.get() + layout.align() - 1) & !(layout.align() - 1);
                if start + layout.size() <= base + ARENA_BYTES {
                    *self.next.get() = start + layout.size() - base;
                    *self.live.get() += 1;
                    return start as *mut u8;
                }
                System.alloc(layout)
            }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe {
                if self.contains(ptr) {
                    *self.live.get() -= 1;
                    if *self.live.get() == 0 {
                        *self.next.get() = 0;
                    }
                } else {
                    System.dealloc(ptr, layout)
                }
            }
        }
    }
}
EOF
  cat >"$WORK/batch_patch.py" <<'EOF'
"""Prototype: the contract gains predict-batch (one cross-component call per batch request)."""
import re, sys
repo = sys.argv[1]

def edit(path, old, new, count=1):
    p = f"{repo}/{path}"
    text = open(p).read()
    assert text.count(old) == count, (path, old, text.count(old))
    open(p, "w").write(text.replace(old, new))

edit("wit/risk.wit",
     "  predict: func(patient: patient-input) -> result<prediction, list<field-error>>;\n",
     "  predict: func(patient: patient-input) -> result<prediction, list<field-error>>;\n"
     "  predict-batch: func(patients: list<patient-input>) -> list<result<prediction, list<field-error>>>;\n")
edit("crates/model-component/src/lib.rs",
     "                    $crate::predict($model, patient)\n                }\n",
     "                    $crate::predict($model, patient)\n                }\n\n"
     "                fn predict_batch(\n                    patients: Vec<wit::PatientInput>,\n"
     "                ) -> Vec<Result<wit::Prediction, Vec<wit::FieldError>>> {\n"
     "                    patients.into_iter().map(|patient| $crate::predict($model, patient)).collect()\n"
     "                }\n")
edit("src/catalog.rs",
     "    pub predict: fn(&PatientInput) -> PredictResult,\n}",
     "    pub predict: fn(&PatientInput) -> PredictResult,\n    pub predict_batch: fn(&[PatientInput]) -> Vec<PredictResult>,\n}")
edit("src/catalog.rs",
     "        (self.link.predict)(input)\n    }\n",
     "        (self.link.predict)(input)\n    }\n\n"
     "    pub fn predict_batch(&self, inputs: &[PatientInput]) -> Vec<PredictResult> {\n"
     "        (self.link.predict_batch)(inputs)\n    }\n")
edit("src/catalog/in_process.rs",
     "            predict: |input| predict_result(model_component::predict($model, patient_input(input))),\n",
     "            predict: |input| predict_result(model_component::predict($model, patient_input(input))),\n"
     "            predict_batch: |inputs| inputs.iter().map(|input| predict_result(model_component::predict($model, patient_input(input)))).collect(),\n")
# /predict's batch: read every patient, then one predict-batch call with the readable ones.
edit("src/predict.rs",
     """    let outcomes: Vec<Result<ModelPrediction, Vec<FieldIssue>>> = instances
        .iter()
        .enumerate()
        .map(|(index, patient)| predict_patient(model, patient, &format!("/instances/{index}")))
        .collect();
""",
     """    let mut inputs = Vec::with_capacity(instances.len());
    let slots: Vec<Result<(), Vec<FieldIssue>>> = instances
        .iter()
        .enumerate()
        .map(|(index, patient)| {
            read_instance(patient, &format!("/instances/{index}")).map(|input| inputs.push(input))
        })
        .collect();
    let mut predicted = model.predict_batch(&inputs).into_iter();
    let outcomes: Vec<Result<ModelPrediction, Vec<FieldIssue>>> = slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| match slot {
            Ok(()) => predicted
                .next()
                .expect("one result per patient")
                .map_err(|errors| model_issues(&errors, &format!("/instances/{index}"))),
            Err(issues) => Err(issues),
        })
        .collect();
""")
edit("src/predict.rs",
     "fn predict_batch(model: ServedModel<'_>, instances: &Value)",
     """fn read_instance(patient: &Value, pointer: &str) -> Result<risk_models::PatientInput, Vec<FieldIssue>> {
    let Value::Object(fields) = patient else {
        return Err(vec![FieldIssue {
            pointer: pointer.to_string(),
            field: pointer.rsplit('/').next().unwrap_or_default().to_string(),
            detail: "patient data must be a JSON object of patient fields".to_string(),
        }]);
    };
    read_patient(fields, pointer)
}

fn predict_batch(model: ServedModel<'_>, instances: &Value)""")
EOF
  cat >"$WORK/gen_api.py" <<'EOF'
"""Writes wit/service/api.wit and src/catalog/imports.rs of the copy for an HTTP component
importing N models: the default as healthcare:risk/predictor, then m1..m{N-1}. mode dyn: info()
through the import (today's code); static: the metadata compiled in, predict() only; orig: as
committed."""
import shutil, sys
work, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
repo = sys.argv[4] if len(sys.argv) > 4 else f"{work}/repo"
batch = len(sys.argv) > 5 and sys.argv[5] == "batch"
if mode == "orig":
    shutil.copy(f"{work}/gen/api.wit.orig", f"{repo}/wit/service/api.wit")
    shutil.copy(f"{work}/gen/imports.rs.orig", f"{repo}/src/catalog/imports.rs")
    sys.exit()
wit = ["package healthcare:service@1.0.0;", "", "world api {", "  import healthcare:risk/predictor@1.0.0;"]
for i in range(1, n):
    wit += [f"  import m{i}: interface {{",
            "    use healthcare:risk/predictor@1.0.0.{patient-input, prediction, model-info, field-error};",
            "    info: func() -> model-info;",
            "    predict: func(patient: patient-input) -> result<prediction, list<field-error>>;"]
    if batch:
        wit.append("    predict-batch: func(patients: list<patient-input>) -> list<result<prediction, list<field-error>>>;")
    wit.append("  }")
wit.append("}")
open(f"{repo}/wit/service/api.wit", "w").write("\n".join(wit) + "\n")
rs = ['use super::wit_conversions::wit_conversions;',
      'use super::{Link, DEFAULT_IMPORT};',
      'wit_bindgen::generate!({ path: ["wit/risk.wit", "wit/service"], world: "healthcare:service/api@1.0.0", generate_all, });',
      'wit_conversions!(healthcare::risk::predictor);']
if mode == "static":
    rs.append(f'fn static_info() -> ModelInfo {{ include!("{work}/gen/pce-2013.rs") }}')
rs.append('macro_rules! imported { ($module:path, $import:expr) => { Link { import: $import,')
rs.append('info: static_info,' if mode == "static" else
          'info: || { use $module as import; model_info(import::info()) },')
rs.append('predict: |input| { use $module as import; predict_result(import::predict(patient_input(input))) },')
if batch:
    rs.append('predict_batch: |inputs| { use $module as import; let wit_inputs: Vec<_> = inputs.iter().map(patient_input).collect(); '
              'import::predict_batch(&wit_inputs).into_iter().map(predict_result).collect() },')
rs.append('} }; }')
links = ["imported!(healthcare::risk::predictor, DEFAULT_IMPORT)"] + [f'imported!(m{i}, "m{i}")' for i in range(1, n)]
rs.append("pub static LINKS: &[Link] = &[" + ", ".join(links) + "];")
open(f"{repo}/src/catalog/imports.rs", "w").write("\n".join(rs) + "\n")
EOF
}

cargo_nice() { nice -n 10 cargo "$@"; }

# compose API MODEL N OUTPUT: API composed with N instances of MODEL (wac).
compose() {
  local api="$1" model="$2" n="$3" output="$4" wac="$WORK/gen/compose-$3.wac" i
  {
    echo "package wiring:composed;"
    for i in $(seq 0 $((n - 1))); do echo "let m$i = new healthcare:model {};"; done
    echo "let api = new healthcare:api {"
    echo '  "healthcare:risk/predictor@1.0.0": m0["healthcare:risk/predictor@1.0.0"],'
    for i in $(seq 1 $((n - 1))); do echo "  \"m$i\": m$i[\"healthcare:risk/predictor@1.0.0\"],"; done
    echo "  ..."
    echo "};"
    echo 'export api["wasi:http/incoming-handler@0.2.0"];'
  } >"$wac"
  wac compose "$wac" --dep "healthcare:api=$api" --dep "healthcare:model=$model" -o "$output"
}

build() {
  build_base
  build_small_http
  build_single
  build_arena
  build_mini
  build_apiarena
  build_batch
  manifests
  ls -l "$OUT"
}

# The committed sources, the metadata generator, the gateway; models as committed; the
# committed API, dyn-N and static-N; pce-2013 with a 64 KiB stack (small-static-N).
build_base() {
  say "prototypes from $(git rev-parse --short "$COMMIT") into $SRC"
  write_prototypes
  cd "$SRC"
  local rel=$CARGO_TARGET_DIR/wasm32-wasip2/release unk=$CARGO_TARGET_DIR/wasm32-unknown-unknown/release n mode
  cargo_nice build --target wasm32-unknown-unknown --release -p pce-2013-component -p prevent-2023-component
  wasm-tools component new "$unk/pce_2013_component.wasm" -o "$OUT/pce-2013.wasm"
  wasm-tools component new "$unk/prevent_2023_component.wasm" -o "$OUT/prevent-2023.wasm"
  cargo_nice build --target wasm32-wasip2 --release -p hello-component -p docs-site -p gateway
  cp "$rel/hello_component.wasm" "$OUT/hello.wasm"
  cp "$rel/docs_site.wasm" "$OUT/docs.wasm"
  cp "$rel/gateway.wasm" "$OUT/gateway.wasm"
  python3 "$WORK/gen_api.py" "$WORK" 2 orig
  cargo_nice build --target wasm32-wasip2 --release -p model-api
  cp "$rel/model_api.wasm" "$OUT/api-current.wasm"
  wac compose wac/api.wac --dep "healthcare:api=$OUT/api-current.wasm" \
    --dep "healthcare:pce=$OUT/pce-2013.wasm" --dep "healthcare:prevent=$OUT/prevent-2023.wasm" \
    -o "$OUT/api-current.composed.wasm"
  # The metadata, generated natively from the same code the model components run.
  cargo_nice run --release -q -p metagen -- "$WORK/gen"
  for mode in dyn static; do
    for n in 1 4 8; do
      python3 "$WORK/gen_api.py" "$WORK" "$n" "$mode"
      cargo_nice build --target wasm32-wasip2 --release -p model-api
      cp "$rel/model_api.wasm" "$OUT/api-$mode-$n.wasm"
      compose "$OUT/api-$mode-$n.wasm" "$OUT/pce-2013.wasm" "$n" "$OUT/$mode-$n.composed.wasm"
    done
  done
  python3 "$WORK/gen_api.py" "$WORK" 2 orig
  # pce-2013 with a 64 KiB stack, in a target directory of its own.
  CARGO_TARGET_DIR="$WORK/target-small" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=65536" \
    nice -n 10 cargo build --target wasm32-unknown-unknown --release -p pce-2013-component
  wasm-tools component new "$WORK/target-small/wasm32-unknown-unknown/release/pce_2013_component.wasm" \
    -o "$OUT/pce-2013-small.wasm"
  for n in 1 4 8; do
    compose "$OUT/api-static-$n.wasm" "$OUT/pce-2013-small.wasm" "$n" "$OUT/small-static-$n.composed.wasm"
  done
  cp "$OUT/api-current.composed.wasm" "$OUT/current.composed.wasm"
  cp "$OUT/hello.wasm" "$OUT/hello.composed.wasm"
  cd "$ROOT"
}

# The HTTP components (API with static metadata, hello, gateway) linked with a 128 KiB stack
# instead of 1 MiB, in a target directory of their own; the APIs composed with pce-2013-small.
build_small_http() {
  cd "$SRC"
  local n flags="-C link-arg=-zstack-size=131072" rel="$WORK/target-small-http/wasm32-wasip2/release"
  for n in 1 4 8; do
    python3 "$WORK/gen_api.py" "$WORK" "$n" static
    CARGO_TARGET_DIR="$WORK/target-small-http" CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$flags" \
      nice -n 10 cargo build --target wasm32-wasip2 --release -p model-api
    cp "$rel/model_api.wasm" "$OUT/api-static-$n-small.wasm"
    compose "$OUT/api-static-$n-small.wasm" "$OUT/pce-2013-small.wasm" "$n" "$OUT/tiny-static-$n.composed.wasm"
  done
  python3 "$WORK/gen_api.py" "$WORK" 2 orig
  CARGO_TARGET_DIR="$WORK/target-small-http" CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$flags" \
    nice -n 10 cargo build --target wasm32-wasip2 --release -p hello-component -p gateway
  cp "$rel/hello_component.wasm" "$OUT/hello-small.wasm"
  cp "$rel/hello_component.wasm" "$OUT/hello-small.composed.wasm"
  cp "$rel/gateway.wasm" "$OUT/gateway-small.wasm"
  cd "$ROOT"
}

# pce-2013 whose allocator does not grow memory (crates/models/pce-2013-arena, $WORK/arena): a
# bump pointer in a 48 KiB static arena, reset when the last allocation is freed. 64 KiB stack.
build_arena() {
  local n
  mkdir -p "$SRC/crates/models/pce-2013-arena/src"
  cp "$WORK/arena/Cargo.toml" "$SRC/crates/models/pce-2013-arena/Cargo.toml"
  cp "$WORK/arena/lib.rs" "$SRC/crates/models/pce-2013-arena/src/lib.rs"
  grep -q pce-2013-arena "$SRC/Cargo.toml" ||
    sed -i 's|    "crates/gateway",|    "crates/gateway",\n    "crates/models/pce-2013-arena",|' "$SRC/Cargo.toml"
  cd "$SRC"
  CARGO_TARGET_DIR="$WORK/target-small" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=65536" \
    nice -n 10 cargo build --target wasm32-unknown-unknown --release -p pce-2013-arena-component
  wasm-tools component new "$WORK/target-small/wasm32-unknown-unknown/release/pce_2013_arena_component.wasm" \
    -o "$OUT/pce-2013-arena.wasm"
  for n in 1 4 8; do
    compose "$OUT/api-static-$n-small.wasm" "$OUT/pce-2013-arena.wasm" "$n" "$OUT/arena-static-$n.composed.wasm"
  done
  cd "$ROOT"
}

# pce-2013 in one page (crates/models/pce-2013-mini, $WORK/mini): a 16 KiB stack and a 32 KiB
# arena that falls back to dlmalloc.
build_mini() {
  local n
  mkdir -p "$SRC/crates/models/pce-2013-mini/src"
  cp "$WORK/mini/Cargo.toml" "$SRC/crates/models/pce-2013-mini/Cargo.toml"
  cp "$WORK/mini/lib.rs" "$SRC/crates/models/pce-2013-mini/src/lib.rs"
  grep -q pce-2013-mini "$SRC/Cargo.toml" ||
    sed -i 's|    "crates/gateway",|    "crates/gateway",\n    "crates/models/pce-2013-mini",|' "$SRC/Cargo.toml"
  cd "$SRC"
  CARGO_TARGET_DIR="$WORK/target-mini" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=16384" \
    nice -n 10 cargo build --target wasm32-unknown-unknown --release -p pce-2013-mini-component
  wasm-tools component new "$WORK/target-mini/wasm32-unknown-unknown/release/pce_2013_mini_component.wasm" \
    -o "$OUT/pce-2013-mini.wasm"
  for n in 1 4 8; do
    compose "$OUT/api-static-$n-small.wasm" "$OUT/pce-2013-mini.wasm" "$n" "$OUT/mini-static-$n.composed.wasm"
  done
  cd "$ROOT"
}

# The HTTP components with the same arena allocator as pce-2013-mini (96 KiB arena, dlmalloc
# beyond it) and a 128 KiB stack: api-arena-N (static metadata) composed with pce-2013-mini, and
# hello-arena. A copy of the sources ($WORK/repo-apiarena) with the allocator module appended.
build_apiarena() {
  local repo="$WORK/repo-apiarena" n flags="-C link-arg=-zstack-size=131072"
  local rel="$WORK/target-apiarena/wasm32-wasip2/release"
  rm -rf "$repo" && cp -r "$SRC" "$repo"
  { echo; echo '#[cfg(target_arch = "wasm32")]'; echo 'mod arena_alloc {'; cat "$WORK/apiarena.rs"; echo '}'; } >>"$repo/src/lib.rs"
  { echo; echo '#[cfg(target_arch = "wasm32")]'; echo 'mod arena_alloc {'; cat "$WORK/apiarena.rs"; echo '}'; } >>"$repo/bench/hello-component/src/lib.rs"
  cd "$repo"
  for n in 1 4 8; do
    python3 "$WORK/gen_api.py" "$WORK" "$n" static "$repo"
    CARGO_TARGET_DIR="$WORK/target-apiarena" CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$flags" \
      nice -n 10 cargo build --target wasm32-wasip2 --release -p model-api
    cp "$rel/model_api.wasm" "$OUT/api-arena-$n.wasm"
    compose "$OUT/api-arena-$n.wasm" "$OUT/pce-2013-mini.wasm" "$n" "$OUT/apiarena-$n.composed.wasm"
  done
  CARGO_TARGET_DIR="$WORK/target-apiarena" CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$flags" \
    nice -n 10 cargo build --target wasm32-wasip2 --release -p hello-component
  cp "$rel/hello_component.wasm" "$OUT/hello-arena.wasm"
  cp "$rel/hello_component.wasm" "$OUT/hello-arena.composed.wasm"
  cd "$ROOT"
}

# predict-batch (a prototype contract change, scripts in $WORK/batch_patch.py): the batch crosses
# into the model once per request instead of once per patient. tiny-batch-4: the API with 4 models,
# small stacks, static metadata, as tiny-static-4.
build_batch() {
  local repo="$WORK/repo-batch" n=4
  rm -rf "$repo" && cp -r "$SRC" "$repo"
  python3 "$WORK/gen_api.py" "$WORK" 2 orig "$repo"
  python3 "$WORK/batch_patch.py" "$repo"
  python3 "$WORK/gen_api.py" "$WORK" "$n" static "$repo" batch
  cd "$repo"
  CARGO_TARGET_DIR="$WORK/target-batch-model" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=65536" \
    nice -n 10 cargo build --target wasm32-unknown-unknown --release -p pce-2013-arena-component
  wasm-tools component new "$WORK/target-batch-model/wasm32-unknown-unknown/release/pce_2013_arena_component.wasm" \
    -o "$OUT/pce-2013-arena-batch.wasm"
  # The same with Rust's default allocator (dlmalloc, which reuses freed memory) in the model.
  CARGO_TARGET_DIR="$WORK/target-batch-model" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C link-arg=-zstack-size=65536" \
    nice -n 10 cargo build --target wasm32-unknown-unknown --release -p pce-2013-component
  wasm-tools component new "$WORK/target-batch-model/wasm32-unknown-unknown/release/pce_2013_component.wasm" \
    -o "$OUT/pce-2013-small-batch.wasm"
  CARGO_TARGET_DIR="$WORK/target-batch" CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="-C link-arg=-zstack-size=131072" \
    nice -n 10 cargo build --target wasm32-wasip2 --release -p model-api
  cp "$WORK/target-batch/wasm32-wasip2/release/model_api.wasm" "$OUT/api-static-$n-small-batch.wasm"
  compose "$OUT/api-static-$n-small-batch.wasm" "$OUT/pce-2013-arena-batch.wasm" "$n" "$OUT/arena-batch-$n.composed.wasm"
  compose "$OUT/api-static-$n-small-batch.wasm" "$OUT/pce-2013-small-batch.wasm" "$n" "$OUT/tiny-batch-$n.composed.wasm"
  cd "$ROOT"
}

# The single-component build the issue compares with: dccff36, the HTTP component linking the
# equations (the last commit before the models became components).
build_single() {
  rm -rf "$WORK/single" && mkdir -p "$WORK/single"
  git archive dccff36 | tar -x -C "$WORK/single"
  (cd "$WORK/single" && CARGO_TARGET_DIR="$WORK/target-single" \
    nice -n 10 cargo build --target wasm32-wasip2 --release -p model-api)
  cp "$WORK/target-single/wasm32-wasip2/release/model_api.wasm" "$OUT/single.wasm"
  cp "$OUT/single.wasm" "$OUT/single.composed.wasm"
}

# --- Spin applications --------------------------------------------------------------------------

manifests() {
  # The committed manifest is the prototypes' commit's ($SRC), not the checkout's.
  python3 - "$SRC" "$OUT" "$WORK/apps" <<'PY'
import os, re, shutil, sys
root, out, apps = sys.argv[1:4]
HEAD = 'spin_manifest_version = 2\n[application]\nname = "{name}"\nversion = "1.0.0"\n'

def write(name, text):
    d = f"{apps}/{name}"
    os.makedirs(d, exist_ok=True)
    open(f"{d}/spin.toml", "w").write(HEAD.format(name=name) + text)

def route(path, component):
    return f'[[trigger.http]]\nroute = "{path}"\ncomponent = "{component}"\n'

def component(cid, source, deps=None, hosts="[]"):
    text = f'[component.{cid}]\nsource = "{source}"\nallowed_outbound_hosts = {hosts}\n'
    if deps:
        text += f"[component.{cid}.dependencies]\n" + deps
    return text

def deps(model, n):
    lines = [f'"healthcare:risk/predictor@1.0.0" = {{ path = "{model}" }}']
    lines += [f'm{i} = {{ path = "{model}", export = "healthcare:risk/predictor@1.0.0" }}' for i in range(1, n)]
    return "\n".join(lines) + "\n"

write("hello", route("/...", "api") + component("api", f"{out}/hello.wasm"))
write("hello-docs", route("/docs", "docs") + route("/docs/...", "docs") + route("/...", "api")
      + component("api", f"{out}/hello.wasm") + component("docs", f"{out}/docs.wasm"))
write("hello-arena", route("/...", "api") + component("api", f"{out}/hello-arena.wasm"))
write("hello-small", route("/...", "api") + component("api", f"{out}/hello-small.wasm"))
write("single", route("/...", "api") + component("api", f"{out}/single.wasm"))
# The committed manifest, its paths pointing at the prototypes' copies.
current = open(f"{root}/spin.toml").read()
current = current.replace("target/wasm32-wasip2/release/model_api.wasm", f"{out}/api-current.wasm")
current = current.replace("target/wasm32-wasip2/release/docs_site.wasm", f"{out}/docs.wasm")
current = current.replace("target/components/", f"{out}/")
d = f"{apps}/current"; os.makedirs(d, exist_ok=True); open(f"{d}/spin.toml", "w").write(current)
def drop_table(text, header):
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            skip = line.strip() == header
        if not skip:
            out.append(line)
    return "".join(out)
pre = drop_table(current, "[component.api.dependencies]")
pre = pre.replace(f"{out}/api-current.wasm", f"{out}/api-current.composed.wasm")
d = f"{apps}/current-pre"; os.makedirs(d, exist_ok=True); open(f"{d}/spin.toml", "w").write(pre)
for n in (1, 4, 8):
    for mode in ("dyn", "static"):
        write(f"{mode}-{n}", route("/...", "api") + component("api", f"{out}/api-{mode}-{n}.wasm", deps(f"{out}/pce-2013.wasm", n)))
        write(f"{mode}-{n}-pre", route("/...", "api") + component("api", f"{out}/{mode}-{n}.composed.wasm"))
    write(f"small-static-{n}", route("/...", "api") + component("api", f"{out}/api-static-{n}.wasm", deps(f"{out}/pce-2013-small.wasm", n)))
    write(f"small-static-{n}-pre", route("/...", "api") + component("api", f"{out}/small-static-{n}.composed.wasm"))
    write(f"tiny-static-{n}", route("/...", "api") + component("api", f"{out}/api-static-{n}-small.wasm", deps(f"{out}/pce-2013-small.wasm", n)))
    write(f"arena-static-{n}", route("/...", "api") + component("api", f"{out}/api-static-{n}-small.wasm", deps(f"{out}/pce-2013-arena.wasm", n)))
    write(f"mini-static-{n}", route("/...", "api") + component("api", f"{out}/api-static-{n}-small.wasm", deps(f"{out}/pce-2013-mini.wasm", n)))
    write(f"apiarena-{n}-pre", route("/...", "api") + component("api", f"{out}/apiarena-{n}.composed.wasm"))
    write(f"mini-static-{n}-pre", route("/...", "api") + component("api", f"{out}/mini-static-{n}.composed.wasm"))
    write(f"arena-static-{n}-pre", route("/...", "api") + component("api", f"{out}/arena-static-{n}.composed.wasm"))
    write(f"tiny-batch-{n}-pre", route("/...", "api") + component("api", f"{out}/tiny-batch-{n}.composed.wasm"))
    write(f"arena-batch-{n}-pre", route("/...", "api") + component("api", f"{out}/arena-batch-{n}.composed.wasm"))
    # The proposed application: the committed manifest with the API pre-composed with n models.
    d = f"{apps}/prop-{n}"; os.makedirs(d, exist_ok=True)
    open(f"{d}/spin.toml", "w").write(pre.replace(f"{out}/api-current.composed.wasm", f"{out}/arena-static-{n}.composed.wasm"))
    write(f"tiny-static-{n}-pre", route("/...", "api") + component("api", f"{out}/tiny-static-{n}.composed.wasm"))
    # Per-model components: the HTTP component with exactly one model, pre-composed.
    models = "".join(component(f"model-m{i}", f"{out}/arena-static-1.composed.wasm") for i in range(n))
    model_routes = "".join(route(f"/v2/models/m{i}/...", f"model-m{i}") for i in range(1, n))
    write(f"routed-{n}", route("/predict", "model-m0") + route("/v2/models/pce-2013/...", "model-m0") + model_routes + models)
    gateway = component("gateway", f"{out}/gateway-small.wasm", hosts='["http://*.spin.internal"]')
    write(f"chained-{n}", route("/predict", "gateway") + route("/v2/models/pce-2013/...", "model-m0") + model_routes + gateway + models)
    docs = component("docs", f"{out}/docs.wasm")
    write(f"full-{n}", route("/predict", "gateway") + route("/v2/models/pce-2013/...", "model-m0") + model_routes
          + route("/docs", "docs") + route("/docs/...", "docs") + gateway + models + docs)
PY
}

# --- servers ------------------------------------------------------------------------------------

SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}
trap stop_server EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server RUNTIME APP: serves APP on a free loopback port, sets PORT.
start_server() {
  local runtime="$1" app="$2" log
  PORT=$(free_port)
  log="$RES/server-$runtime-$app.log"
  case "$runtime" in
    wasmtime) wasmtime serve --addr "127.0.0.1:$PORT" -S cli "$OUT/$app.composed.wasm" >"$log" 2>&1 & ;;
    wasmtime+pool)
      # shellcheck disable=SC2086  # POOL_FLAGS is a list of flags
      wasmtime serve --addr "127.0.0.1:$PORT" -S cli $POOL_FLAGS "$OUT/$app.composed.wasm" >"$log" 2>&1 & ;;
    wasmtime+tuned)
      # shellcheck disable=SC2086  # TUNED_FLAGS is a list of flags
      wasmtime serve --addr "127.0.0.1:$PORT" -S cli $TUNED_FLAGS "$OUT/$app.composed.wasm" >"$log" 2>&1 & ;;
    spin) "$SPIN" up -f "$WORK/apps/$app/spin.toml" --listen "127.0.0.1:$PORT" \
            --state-dir "$WORK/state/$app" >"$log" 2>&1 & ;;
    spin+nokeep) SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT=0 "$SPIN" up -f "$WORK/apps/$app/spin.toml" \
            --listen "127.0.0.1:$PORT" --state-dir "$WORK/state/$app" >"$log" 2>&1 & ;;
    # The original FastAPI service (bench/original/$app.py), as its container ran it.
    python) "${PYTHON:-$ROOT/.venv/bin/python}" -m uvicorn --app-dir "$ROOT/bench/original" "$app:app" \
            --host 127.0.0.1 --port "$PORT" --workers 1 --log-level warning >"$log" 2>&1 & ;;
    *) die "unknown runtime $runtime" ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || die "$runtime $app exited; see $log"
    sleep 0.1
  done
  die "$runtime $app did not answer within 60 s; see $log"
}

# CPU: busy jiffies of the machine; of a process and its descendants.
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }
tree_jiffies() {
  local pids=("$1") sum=0 p
  mapfile -t -O 1 pids < <(pgrep -P "$1" || true)
  for p in "${pids[@]}"; do
    [ -r "/proc/$p/stat" ] && sum=$((sum + $(awk '{print $14+$15}' "/proc/$p/stat")))
  done
  echo "$sum"
}
HZ=$(getconf CLK_TCK)
CORES=$(nproc)

# wait_quiet: until everything but the idle server has used under 10 % of the cores for 2 s
# (at most 300 s, then run anyway: the results say how busy the machine was).
wait_quiet() {
  local deadline=$((SECONDS + 300)) b0 b1
  while :; do
    b0=$(busy_jiffies); sleep 2; b1=$(busy_jiffies)
    [ $(((b1 - b0) * 100 / (2 * HZ * CORES))) -lt 10 ] && return 0
    [ $SECONDS -ge $deadline ] && { say "machine still busy; running anyway"; return 0; }
  done
}

# check APP: one POST /predict answers 200 with a prediction (hello: its greeting; floor: the
# default model answered, scripts/bench-models.sh build-floor).
check() {
  local app="$1" status
  status=$(curl -s -o "$RES/last.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$ONE_FILE" "http://127.0.0.1:$PORT/predict")
  [ "$status" = 200 ] || die "$app answered $status: $(head -c 300 "$RES/last.json")"
  case "$app" in
    hello*) grep -q hello "$RES/last.json" ;;
    floor*) grep -q '"floor":true' "$RES/last.json" || die "$app: $(head -c 300 "$RES/last.json")" ;;
    app) grep -q '"prediction"' "$RES/last.json" ;;
    *)
      # The model the body names answered (pce-2013 unless the body says otherwise).
      local model
      model=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("model") or "pce-2013")' "$ONE_FILE")
      grep -q "\"model\":\"$model\"" "$RES/last.json" || die "$app: $(head -c 300 "$RES/last.json")" ;;
  esac
}

# wrk_run LABEL BODY ARGS...: one wrk run against the running server; appends a TSV line.
wrk_run() {
  local label="$1" body="$2" b0 s0 t0 b1 s1 t1 line
  shift 2
  wait_quiet
  b0=$(busy_jiffies); s0=$(tree_jiffies "$SERVER_PID"); t0=$(date +%s.%N)
  local lua="$LUA" path=/predict
  if [ "${REQUEST:-POST /predict}" = "GET /healthz" ]; then
    # The same report as post-file.lua, for a GET: sed turns its POST into a GET without a body.
    sed -e 's/^wrk.method = "POST"/wrk.method = "GET"/' -e 's/^wrk.body = body/wrk.body = nil/' "$LUA" >"$WORK/get.lua"
    lua="$WORK/get.lua" path=/healthz
  fi
  line=$(WRK_BODY_FILE="$body" wrk "$@" --latency -s "$lua" "http://127.0.0.1:$PORT$path" | grep '^WRK_RESULT ')
  b1=$(busy_jiffies); s1=$(tree_jiffies "$SERVER_PID"); t1=$(date +%s.%N)
  awk -v l="$label" -v line="${line#WRK_RESULT }" -v b=$((b1 - b0)) -v s=$((s1 - s0)) -v hz="$HZ" -v n="$CORES" \
    -v t0="$t0" -v t1="$t1" 'BEGIN {
      split(line, kv, " "); for (i in kv) { split(kv[i], p, "="); v[p[1]] = p[2] }
      cap = (t1 - t0) * n * hz
      printf "%s\trps=%s p50_us=%s p99_us=%s requests=%s bad=%d srv_us_req=%.0f cpu_srv=%.0f cpu_all=%.0f\n",
        l, v["rps"], v["p50_us"], v["p99_us"], v["requests"], v["bad_status"] + v["connect"] + v["read"] + v["write"] + v["timeout"],
        s / hz * 1e6 / v["requests"], 100 * s / cap, 100 * b / cap }' | tee -a "$RESULTS"
}

throughput() {
  RESULTS="$RES/throughput-$(date -u +%Y%m%dT%H%M%S).tsv"
  local runs="${RUNS:-spin/hello spin/current wasmtime/hello wasmtime/current}" round spec runtime app
  say "wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds of: $runs -> $RESULTS"
  local body label
  for round in $(seq 1 "$ROUNDS"); do
    for spec in $runs; do
      # runtime/app, or runtime/app:NAME to send bench/wrk/predict-NAME.json instead.
      runtime=${spec%%/*}; app=${spec#*/}; body=$ONE_FILE; label=$app
      if [ "$app" != "${app%%:*}" ]; then body="$ROOT/bench/wrk/predict-${app#*:}.json"; app=${app%%:*}; fi
      start_server "$runtime" "$app"
      ONE_FILE="$body" check "$app"
      [ "${REQUEST:-POST /predict}" = "GET /healthz" ] && [ "$runtime" != "${runtime#spin}" ] && [ "$app" != "${app#routed}" ] && die "routed apps have no /healthz"
      wrk_run "$round	$runtime	$label" "$body" -t1 -c"$CONNECTIONS" -d"$DURATION"
      stop_server
    done
  done
  summary "$RESULTS"
}

summary() {
  python3 - "$1" <<'PY'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    round_, runtime, app, fields = line.rstrip("\n").split("\t")
    v = dict(kv.split("=") for kv in fields.split())
    rows[(runtime, app)].append(v)
hello = {rt: [float(v["rps"]) for v in vs] for (rt, app), vs in rows.items() if app == "hello"}
width = max([len(runtime) for runtime, _ in rows] + [7]) + 2
print(f"{'runtime':<{width}}{'app':<22}{'req/s per round':<26}{'median':>8}{'vs hello':>9}{'p50 ms':>14}{'srv µs/req':>14}{'bad':>5}")
for (runtime, app), vs in rows.items():
    rps = [float(v["rps"]) for v in vs]
    ratios = [r / h for r, h in zip(rps, hello.get(runtime, []))]
    p50 = [int(v["p50_us"]) / 1000 for v in vs]
    srv = [int(v["srv_us_req"]) for v in vs]
    print(f"{runtime:<{width}}{app:<22}{' '.join(f'{r:,.0f}' for r in rps):<26}{statistics.median(rps):>8,.0f}"
          f"{(statistics.median(ratios) if ratios else float('nan')):>9.2f}"
          f"{min(p50):>7.2f}-{max(p50):<6.2f}{min(srv):>7}-{max(srv):<6}{sum(int(v['bad']) for v in vs):>5}")
PY
}

# --- cold start ---------------------------------------------------------------------------------

coldstart() {
  local results="$RES/coldstart-$(date -u +%Y%m%dT%H%M%S).tsv"
  local apps="${COLD_APPS:-hello current current-pre}" reps="${COLD_REPS:-7}"
  say "spin up -> first 200 from POST /predict; $reps repetitions of: $apps ${COLD_FLAGS:-} -> $results"
  python3 - "$SPIN" "$WORK" "$ONE_FILE" "$reps" "$results" "${COLD_FLAGS:-}" $apps <<'PY'
import http.client, os, signal, socket, statistics, subprocess, sys, time
spin, work, body_file, reps, results, flags, *apps = sys.argv[1:]
body = open(body_file, "rb").read()
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def once(app):
    port = free_port()
    cmd = [spin, "up", "-f", f"{work}/apps/{app}/spin.toml", "--listen", f"127.0.0.1:{port}",
           "--state-dir", f"{work}/state/cold-{app}", *flags.split()]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.monotonic() - start < 60:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("POST", "/predict", body, {"Content-Type": "application/json"})
                if conn.getresponse().status == 200:
                    return (time.monotonic() - start) * 1000
            except OSError:
                time.sleep(0.001)
        raise SystemExit(f"{app}: no 200 within 60 s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM); proc.wait()
times = {app: [] for app in apps}
for app in apps:
    once(app)  # warms the compilation cache (unless disabled) and the page cache; not counted
for rep in range(int(reps)):
    for app in apps:
        ms = once(app)
        times[app].append(ms)
        with open(results, "a") as f:
            f.write(f"{rep}\t{app}\t{flags}\t{ms:.1f}\n")
hello = statistics.median(times["hello"]) if "hello" in times else None
print(f"{'app':<22}{'median ms':>10}{'min':>8}{'max':>8}{'vs hello':>10}   all")
for app, ts in times.items():
    m = statistics.median(ts)
    print(f"{app:<22}{m:>10.1f}{min(ts):>8.1f}{max(ts):>8.1f}{(m / hello if hello else float('nan')):>10.2f}   "
          + " ".join(f"{t:.0f}" for t in ts))
PY
}

# --- batch --------------------------------------------------------------------------------------

batch() {
  RESULTS="$RES/batch-$(date -u +%Y%m%dT%H%M%S).tsv"
  local file="$WORK/batch-1000.json" runs="${BATCH_RUNS:-spin/current spin/small-static-4-pre wasmtime/current wasmtime/small-static-4}" round spec
  if [ "${BATCH_MODEL:-}" = onnx ]; then
    # 500 patients for the example ONNX model (1,000 of its 30 features exceed the 1 MiB body
    # limit in JSON): the first 500 inputs of tests/data/onnx, inside the declared ranges.
    file="$WORK/batch-onnx-500.json"
    "$ROOT/.venv/bin/python" - "$ROOT" "$file" <<'PY'
import json, sys, tomllib
import numpy as np
root, out = sys.argv[1], sys.argv[2]
toml = tomllib.load(open(f"{root}/models/breast-cancer-lr/model.toml", "rb"))
features = sorted(toml["feature"], key=lambda f: f["column"])
rows = np.fromfile(f"{root}/tests/data/onnx/inputs.f32", dtype="<f4").reshape(1000, 30)[:500]
low, high = np.array([f["range"][0] for f in features]), np.array([f["range"][1] for f in features])
rows = np.clip(rows.astype(np.float64), low, high)
instances = [{f["name"]: float(v) for f, v in zip(features, row)} for row in rows]
json.dump({"model": "breast-cancer-lr", "instances": instances}, open(out, "w"))
PY
  else
    # The same deterministic 1000-patient batch as scripts/bench-http.sh (its generator, run as is).
    awk '/^  python3 - "\$BATCH" "\$BATCH_FILE" <<.PY.$/ {on = 1; next} on && /^PY$/ {exit} on' \
      scripts/bench-http.sh | python3 - 1000 "$file"
  fi
  for round in $(seq 1 "$ROUNDS"); do
    for spec in $runs; do
      start_server "${spec%%/*}" "${spec#*/}"
      wrk_run "$round	${spec%%/*}	${spec#*/}" "$file" -t1 -c4 -d"$DURATION" --timeout 10s
      stop_server
    done
  done
  summary "$RESULTS"
}

say "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); $("$SPIN" --version); $(wasmtime --version); commit $(git rev-parse --short HEAD)"
case "${1:-}" in
  build) if [ -n "${2:-}" ]; then "build_$2"; manifests; else build; fi ;;
  manifests) manifests ;;
  throughput) throughput ;;
  coldstart) coldstart ;;
  batch) batch ;;
  *) die "usage: scripts/bench-wiring.sh build [STEP]|manifests|throughput|coldstart|batch" ;;
esac

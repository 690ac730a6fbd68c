"""The release components: small, and importing nothing but WASI once composed (so Spin,
SpinKube's shim and `wasmtime serve` all run them); the HTTP component alone imports exactly
its models, and nothing else that is not WASI."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.paths import API_WASM, CLINICAL_WASM, CONTRACT, DOCS_WASM, HTTP_WASM, MODEL_WASMS, ROOT

# Size budgets. The composition grows by one model component per model listed in spin.toml,
# so the budget is per part: the HTTP code once, each model, and the product's promise (a
# sub-megabyte artifact) for the composition with the built-in models. The HTTP part was 446 KB
# before the inference request's serde types (src/inference/request.rs, +30 KB: serde's derived
# readers) and is 476 KB with them; 480 KiB leaves the composition with the three built-in
# models at 747 KB, a quarter of a megabyte under the promise. (2026-12-04: 487 KB with the
# model cards, the OpenAPI document compiled in minified; 948 KB composed with four models.
# 2026-12-05: 491.4 KB with the FHIR operation documented and the Spin edge shared with the
# clinical component, crates/spin-io; 952 KB composed. Then 495 KB: the one OpenAPI document
# describes the clinical component's CDS Hooks endpoints too, 3.9 KB of it minified; the budget
# went to 488 KiB, which keeps the composition with the four listed models at 956 KB.)
MAX_HTTP_BYTES = 488 * 1024
# A model was at most 115 KB under contract 3.0.0; 4.0.0's FHIR bindings (wit/model.wit,
# `fhir-source`) add 14-19 KB of code to every model component, bindings or not (the reading
# and writing of the new types): 133 KB for the ONNX example. The composition with the four
# listed models stays at 930 KB. (2026-12-05: contract 5.0.0's batch table and the equations
# and the ONNX evaluator compiled at opt-level 3, which halved a batch's model call: 103-137 KB
# each, the composition with four models 997 KB.)
MAX_MODEL_BYTES = 144 * 1024
MAX_API_BYTES = 1024 * 1024
# The FHIR and CDS Hooks endpoints' component (crates/clinical) is a component of its own,
# outside the API's promise but under a megabyte itself. 584 KB with the FHIR operation
# (2026-12-05), two thirds of it serde_json's readers of the FHIR resources, model cards and
# /predict answers, and the standard library; 922 KB with CDS Hooks and its JWT checks, of
# which P-384's field arithmetic (RustCrypto's p384, generated constant-time code) is 118 KB and
# RSA's big integers 42 KB. A hand-written verifier over the big integers RSA already brings
# would save most of p384's share; a signature check is not the place to save 100 KB.
MAX_CLINICAL_BYTES = 960 * 1024


def wit_of(component) -> str:
    return subprocess.run(
        ["wasm-tools", "component", "wit", str(component)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout


def world_items(wit: str, keyword: str) -> list[str]:
    """Interfaces a component's world imports or exports, e.g. `wasi:io/streams@0.2.0`, and
    plain-named instances (`import prevent: interface {`) by their name."""
    return re.findall(rf"^\s*{keyword}\s+([\w:/.@-]+)\s*(?:;|:\s*interface)", wit, flags=re.MULTILINE)


def test_the_composed_prediction_component_is_under_a_megabyte():
    size = API_WASM.stat().st_size
    assert size <= MAX_API_BYTES, f"{size} bytes"


def test_the_http_component_alone_is_at_most_488_kib():
    size = HTTP_WASM.stat().st_size
    assert size <= MAX_HTTP_BYTES, f"{size} bytes"


def test_the_clinical_component_is_at_most_960_kib():
    size = CLINICAL_WASM.stat().st_size
    assert size <= MAX_CLINICAL_BYTES, f"{size} bytes"


@pytest.mark.parametrize("model", sorted(MODEL_WASMS))
def test_each_model_component_is_at_most_144_kib(model):
    size = MODEL_WASMS[model].stat().st_size
    assert size <= MAX_MODEL_BYTES, f"{model}: {size} bytes"


@pytest.mark.parametrize("component", [API_WASM, DOCS_WASM], ids=["api", "docs"])
def test_components_import_only_wasi_interfaces(component):
    imports = world_items(wit_of(component), "import")
    assert imports, "the world lists its imports"
    assert all(name.startswith("wasi:") for name in imports), imports


def test_the_clinical_component_imports_wasi_and_spins_variables_and_key_value_store_only():
    """Its configuration (the trusted EHRs) and its replay store (tokens' `jti`s) are Spin's;
    everything else, outbound HTTP to the API included, is WASI."""
    imports = world_items(wit_of(CLINICAL_WASM), "import")
    spin = sorted(name for name in imports if not name.startswith("wasi:"))
    assert spin == ["fermyon:spin/key-value@2.0.0", "fermyon:spin/variables@2.0.0"], imports


@pytest.mark.parametrize("component", [API_WASM, HTTP_WASM, DOCS_WASM, CLINICAL_WASM],
                         ids=["api", "http-alone", "docs", "clinical"])
def test_components_export_the_wasi_http_handler_spin_3_runs(component):
    exports = world_items(wit_of(component), "export")
    assert exports == ["wasi:http/incoming-handler@0.2.0"], exports


def test_the_http_component_alone_imports_its_models_and_otherwise_only_wasi():
    imports = world_items(wit_of(HTTP_WASM), "import")
    models = [name for name in imports if not name.startswith("wasi:")]
    # One instance of the contract per model spin.toml lists, in its order, and the contract's
    # interface itself, whose types they use.
    import tomllib

    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    listed = manifest["component"]["api"]["tool"]["model-api"]["models"]
    assert models == [CONTRACT] + [f"model{index}" for index in range(len(listed))], imports


def test_the_http_component_holds_no_equation():
    """The equations live only in the model components: the HTTP component alone contains no
    coefficient of either model (a PCE and a PREVENT coefficient, as little-endian f64)."""
    import struct

    http = HTTP_WASM.read_bytes()
    for model, coefficient in [("pce-2013", -29.799), ("prevent-2023", 0.7939329)]:
        needle = struct.pack("<d", coefficient)
        assert needle in MODEL_WASMS[model].read_bytes(), f"{model} carries {coefficient}"
        assert needle not in http, f"the HTTP component carries {model}'s {coefficient}"


def test_the_prediction_component_opens_no_outbound_http():
    for component in (API_WASM, HTTP_WASM):
        imports = world_items(wit_of(component), "import")
        assert "wasi:http/outgoing-handler@0.2.0" not in imports

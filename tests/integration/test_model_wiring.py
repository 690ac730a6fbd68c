"""How the models are wired into the HTTP component (spin.toml's list of models, composed at
build time by scripts/build.sh with the generated target/generated/api.wac): every model answers
under the name its own info() declares, whatever import it sits in, and a wiring that loses a
model is caught by readiness.

Component-model records are compared by structure, so any model component type-checks in any
model import, and an import's name (a Spin dependency name) says nothing about the model behind
it: neither Spin nor wac can catch a model wired twice. These tests and the readiness endpoint
do."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from tests.support.paths import HTTP_WASM, MANIFEST, MODEL_WASMS, ROOT
from tests.support.patients import BREAST_CANCER_PATIENT
from tests.support.service import serve_component
from tests.support.spin import RUNTIME, manifest_copy, start_spin

TIMEOUT = 10
CV_PATIENT = {
    "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213,
    "hdl_cholesterol": 50, "systolic_bp": 120, "egfr": 90,
}
# One patient each model accepts.
KFRE_PATIENT = {"age": 63, "sex": "female", "egfr": 45, "urine_acr": 30, "region": "north_american"}
PATIENTS = {"pce-2013": CV_PATIENT, "prevent-2023": CV_PATIENT, "kfre-2016": KFRE_PATIENT,
            "breast-cancer-lr": BREAST_CANCER_PATIENT}
PATIENT = CV_PATIENT
DEFAULT_IMPORT = "model0"
COMPOSITION = ROOT / "target" / "generated" / "api.wac"


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


def test_the_committed_app_is_ready_and_each_model_answers_under_its_own_name(http, api_url):
    ready = http.get(f"{api_url}/v2/health/ready", timeout=TIMEOUT)
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    for name in MODEL_WASMS:
        metadata = http.get(f"{api_url}/v2/models/{name}", timeout=TIMEOUT).json()
        assert metadata["name"] == name
        body = {"patient_data": PATIENTS[name], "model": name}
        assert http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()["model"] == name
    default = http.post(f"{api_url}/predict", json={"patient_data": PATIENT}, timeout=TIMEOUT)
    assert default.json()["model"] == "pce-2013"


def compose(directory, default_model: str, other_model: str):
    """The HTTP component with `default_model` in its first import, `other_model` in its
    second and the committed list's further models in theirs, composed as scripts/build.sh
    composes the committed list."""
    composed = directory / "api.wasm"
    models = [default_model, other_model, *list(MODEL_WASMS)[2:]]
    deps = [arg for index, model in enumerate(models)
            for arg in ("--dep", f"healthcare:model{index}={MODEL_WASMS[model]}")]
    subprocess.run(
        ["wac", "compose", str(COMPOSITION), "--dep", f"healthcare:api={HTTP_WASM}", *deps,
         "-o", str(composed)],
        check=True, capture_output=True, timeout=120,
    )
    return composed


def rewired_manifest(directory, composed):
    """A copy of the committed spin.toml (paths made absolute) whose API is `composed`."""
    text = MANIFEST.read_text()
    source = 'source = "target/composed/api.wasm"'
    assert text.count(source) == 1, "the API's source is the build's composition"
    return manifest_copy(text.replace(source, f'source = "{composed}"'), directory)


def serve_rewired(tmp_path_factory, default_model: str, other_model: str):
    directory = tmp_path_factory.mktemp(f"{default_model}-and-{other_model}")
    composed = compose(directory, default_model, other_model)
    if RUNTIME == "spin":
        return start_spin(rewired_manifest(directory, composed), directory / "state")
    return serve_component(composed, directory / "wasmtime.log")


@pytest.fixture(scope="module")
def swapped_url(tmp_path_factory):
    """The first two models in each other's imports, composed by hand."""
    url, process = serve_rewired(tmp_path_factory, "prevent-2023", "pce-2013")
    yield url
    process.stop()


@pytest.fixture(scope="module")
def twice_url(tmp_path_factory):
    """PCE wired into both imports: PREVENT is lost."""
    url, process = serve_rewired(tmp_path_factory, "pce-2013", "pce-2013")
    yield url
    process.stop()


def test_the_rewired_manifest_changes_only_the_apis_source(tmp_path):
    import tomllib

    committed = tomllib.loads(MANIFEST.read_text())
    composed = tmp_path / "api.wasm"
    rewired = tomllib.loads(rewired_manifest(tmp_path, composed).read_text())
    assert rewired["component"]["api"].pop("source") == str(composed)
    assert committed["component"]["api"].pop("source") == "target/composed/api.wasm"
    assert rewired["component"]["api"]["tool"] == {
        tool: {key: ([f"{ROOT}/{v}" for v in value] if key == "models" else value)
               for key, value in table.items()}
        for tool, table in committed["component"]["api"]["tool"].items()
    }
    assert rewired["trigger"] == committed["trigger"]


def test_models_composed_by_hand_into_each_others_imports_make_the_server_not_ready(swapped_url):
    """The build compiles in what each listed model declares (build.rs), and scripts/build.sh
    composes the same list: a composition made by hand that puts the models in each other's
    imports would send each model's requests to the other. Readiness asks every component for
    its info() and refuses to become ready, naming both imports; the list's order is changed in
    spin.toml, and the build follows."""
    ready = requests.get(f"{swapped_url}/v2/health/ready", timeout=TIMEOUT)
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert ready.json()["error"] == (
        "the component in the import model0 declares prevent-2023 1.0.0, not the pce-2013 1.0.0 "
        "this build describes: compose it with scripts/build.sh; "
        "the component in the import model1 declares pce-2013 1.0.0, not the prevent-2023 1.0.0 "
        "this build describes: compose it with scripts/build.sh")
    # An import name is never a model name.
    assert requests.get(f"{swapped_url}/v2/models/model0", timeout=TIMEOUT).status_code == 404


def test_one_model_in_two_imports_makes_the_server_not_ready_and_says_why(twice_url):
    ready = requests.get(f"{twice_url}/v2/health/ready", timeout=TIMEOUT)
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert ready.json()["error"] == (
        f"the imports {DEFAULT_IMPORT} and model1 are both answered by the model pce-2013; "
        "the component in the import model1 declares pce-2013 1.0.0, not the prevent-2023 1.0.0 "
        "this build describes: compose it with scripts/build.sh")
    # The model in its right place still answers.
    body = {"patient_data": PATIENT, "model": "pce-2013"}
    assert requests.post(f"{twice_url}/predict", json=body, timeout=TIMEOUT).json()["model"] == "pce-2013"

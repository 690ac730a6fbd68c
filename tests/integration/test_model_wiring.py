"""How the models are wired into the HTTP component (wit/service/api.wit, wac/api.wac,
spin.toml's dependencies): every model answers under its own name, and a model component
wired into another model's import is caught, never served under the wrong name.

Component-model records are compared by structure, so any model component type-checks in any
model import: the composition tools cannot catch swapped wiring; these tests and the readiness
endpoint do."""

from __future__ import annotations

import subprocess

import pytest
import requests

from conftest import HTTP_WASM, MODEL_WASMS, ROOT, WASMTIME, free_port, start, stop

TIMEOUT = 10
PATIENT = {
    "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213,
    "hdl_cholesterol": 50, "systolic_bp": 120, "egfr": 90,
}


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


def test_the_built_composition_is_ready_and_each_model_answers_under_its_own_name(http, api_url):
    ready = http.get(f"{api_url}/v2/health/ready", timeout=TIMEOUT)
    assert (ready.status_code, ready.json()) == (200, {"ready": True})
    for name in MODEL_WASMS:
        metadata = http.get(f"{api_url}/v2/models/{name}", timeout=TIMEOUT).json()
        assert metadata["name"] == name
        body = {"patient_data": PATIENT, "model": name}
        assert http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()["model"] == name
    default = http.post(f"{api_url}/predict", json={"patient_data": PATIENT}, timeout=TIMEOUT)
    assert default.json()["model"] == "pce-2013"


@pytest.fixture(scope="module")
def swapped_url(tmp_path_factory):
    """The HTTP component composed with the two models in each other's imports."""
    composed = tmp_path_factory.mktemp("swapped") / "api.wasm"
    subprocess.run(
        ["wac", "compose", str(ROOT / "wac" / "api.wac"),
         "--dep", f"healthcare:api={HTTP_WASM}",
         "--dep", f"healthcare:pce={MODEL_WASMS['prevent-2023']}",
         "--dep", f"healthcare:prevent={MODEL_WASMS['pce-2013']}",
         "-o", str(composed)],
        check=True, capture_output=True, timeout=120,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start([WASMTIME, "serve", "--addr", f"127.0.0.1:{port}", "-S", "cli", str(composed)],
                    f"{url}/healthz")
    yield url
    stop(process)


def test_swapped_models_make_the_server_not_ready_and_say_why(swapped_url):
    ready = requests.get(f"{swapped_url}/v2/health/ready", timeout=TIMEOUT)
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert "the import prevent-2023 is answered by the model pce-2013" in ready.json()["error"]


def test_swapped_models_still_answer_only_under_their_own_names(http, api_url, swapped_url):
    for name in MODEL_WASMS:
        body = {"patient_data": PATIENT, "model": name}
        right = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()
        swapped = requests.post(f"{swapped_url}/predict", json=body, timeout=TIMEOUT).json()
        assert swapped["model"] == name
        assert swapped["risk"] == right["risk"]
    # The default is whatever model is wired to healthcare:risk/predictor: here PREVENT.
    default = requests.post(f"{swapped_url}/predict", json={"patient_data": PATIENT}, timeout=TIMEOUT)
    assert default.json()["model"] == "prevent-2023"

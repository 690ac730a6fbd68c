"""spin.toml as the real Spin loads it: `spin up` of the committed manifest starts, lists every
route of the manifest, and serves every endpoint with every listed model (composed into the API
at build time, so Spin has nothing to compose and no dependency name to refuse). This suite is
what catches a manifest Spin refuses, not the JSON schema."""

from __future__ import annotations

import re
import tomllib

import pytest
import requests

from tests.support import spin
from tests.support.paths import MANIFEST as MANIFEST_PATH

MANIFEST = tomllib.loads(MANIFEST_PATH.read_text())
PATIENT = {"age": 55, "sex": "male", "race": "white", "total_cholesterol": 213,
           "hdl_cholesterol": 50, "systolic_bp": 120, "egfr": 90}


def test_spin_lists_every_route_of_the_manifest(tmp_path):
    url, process = spin.start_spin(MANIFEST_PATH, tmp_path)
    process.stop()
    output = (tmp_path / "spin.log").read_text()
    assert f"Serving {url}" in output, output
    listed = re.findall(rf"^\s+(\w+): {re.escape(url)}(\S*)", output, flags=re.M)
    declared = [(t["component"], t["route"].replace("/...", "") or "") for t in MANIFEST["trigger"]["http"]]
    assert sorted(listed) == sorted(declared), output


@pytest.mark.parametrize("method,path,body,status,content_type", [
    ("GET", "/healthz", None, 200, "application/json"),
    ("GET", "/v2", None, 200, "application/json"),
    ("GET", "/v2/health/live", None, 200, "application/json"),
    ("GET", "/v2/health/ready", None, 200, "application/json"),
    ("GET", "/v2/models/pce-2013", None, 200, "application/json"),
    ("GET", "/v2/models/prevent-2023/ready", None, 200, "application/json"),
    ("POST", "/v2/models/prevent-2023/infer", {"inputs": [
        {"name": name, "shape": [1], "datatype": "BYTES" if name in ("sex", "race") else "FP64",
         "data": [value]} for name, value in PATIENT.items() if name != "race"]}, 200, "application/json"),
    ("POST", "/predict", {"patient_data": PATIENT}, 200, "application/json"),
    ("POST", "/predict", {"patient_data": PATIENT, "model": "prevent-2023"}, 200, "application/json"),
    ("GET", "/openapi.json", None, 200, "application/json"),
    ("GET", "/docs", None, 200, "text/html"),
    ("GET", "/docs/swagger-ui.css", None, 200, "text/css"),
    ("GET", "/no/such/path", None, 404, "application/problem+json"),
])
def test_spin_serves_every_endpoint_of_the_committed_manifest(app_url, method, path, body, status, content_type):
    response = requests.request(method, f"{app_url}{path}", json=body, timeout=10)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(content_type)


def test_the_models_spin_composed_in_are_ready_and_answer_under_their_own_names(app_url):
    assert requests.get(f"{app_url}/v2/health/ready", timeout=10).json() == {"ready": True}
    for name in ["pce-2013", "prevent-2023"]:
        body = {"patient_data": PATIENT, "model": name}
        assert requests.post(f"{app_url}/predict", json=body, timeout=10).json()["model"] == name

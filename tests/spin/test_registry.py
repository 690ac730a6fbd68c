"""The artifact SpinKube pulls: docs/deployment.md's push step, run as written against a real
OCI registry on loopback (Debian's docker-registry, distribution 2.8), then the same reference
pulled and served by `spin up -f <reference>`, answering exactly as the local app does.

The only change to the documented command is the registry's address: the walkthrough's
`k3d-registry.localhost:5000` exists only inside its k3d cluster's network.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time

import pytest
import requests

from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Process
from tests.support.spin import start_spin

DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
DOCUMENTED_REGISTRY = "k3d-registry.localhost:5000"
MAX_ARTIFACT_BYTES = 4 * 1024 * 1024
WASM_LAYER = "application/vnd.wasm.content.layer.v1+wasm"
LOCKED_APP_LAYER = "application/vnd.fermyon.spin.application.v1+config"
# A component (not a core module): the binary magic, then the component-model layer version.
COMPONENT_HEADER = b"\0asm\x0d\x00\x01\x00"
MANIFEST_ACCEPT = "application/vnd.oci.image.manifest.v1+json"


def documented_push() -> list[str]:
    """The `spin registry push` line of docs/deployment.md's push step."""
    (line,) = [line for line in DEPLOYMENT_DOC.read_text().splitlines()
               if line.startswith("spin registry push")]
    return shlex.split(line)


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> str:
    """docker-registry on a free loopback port with its storage in a temporary directory:
    the registry's host:port."""
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed (scripts/setup.sh test installs it)"
    workdir = tmp_path_factory.mktemp("registry")
    address = f"127.0.0.1:{free_port()}"
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {workdir / 'storage'}}}}}\n"
        f"http: {{addr: '{address}'}}\n")
    with Process([binary, "serve", config], workdir / "registry.log").start() as process:
        process.wait_for_http(f"http://{address}/v2/")
        yield address


@pytest.fixture(scope="module")
def pushed(registry) -> str:
    """The reference docs/deployment.md's command pushed to (on the loopback registry)."""
    command = documented_push()
    (documented,) = [word for word in command if word.startswith(DOCUMENTED_REGISTRY)]
    reference = documented.replace(DOCUMENTED_REGISTRY, registry)
    command = [reference if word == documented else word for word in command]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return reference


def get_manifest(reference: str) -> tuple[dict, int]:
    """The image manifest the registry serves for `reference`, and its size in bytes."""
    registry, _, rest = reference.partition("/")
    repository, _, tag = rest.rpartition(":")
    response = requests.get(f"http://{registry}/v2/{repository}/manifests/{tag}",
                            headers={"Accept": MANIFEST_ACCEPT}, timeout=10)
    response.raise_for_status()
    assert response.headers["content-type"] == MANIFEST_ACCEPT
    return response.json(), len(response.content)


def get_blob(reference: str, digest: str) -> bytes:
    registry, _, rest = reference.partition("/")
    repository = rest.rpartition(":")[0]
    response = requests.get(f"http://{registry}/v2/{repository}/blobs/{digest}", timeout=30)
    response.raise_for_status()
    return response.content


def test_the_documented_push_is_a_spin_push_that_builds():
    command = documented_push()
    assert command[:3] == ["spin", "registry", "push"]
    assert "--build" in command and "--insecure" in command


def test_the_artifact_is_one_component_per_spin_component_and_at_most_4_mib(pushed, tmp_path):
    manifest, manifest_size = get_manifest(pushed)
    assert manifest["schemaVersion"] == 2
    config = json.loads(get_blob(pushed, manifest["config"]["digest"]))
    assert (config["architecture"], config["os"]) == ("wasm", "wasip1")

    layers = manifest["layers"]
    *wasm, locked = layers
    assert locked["mediaType"] == LOCKED_APP_LAYER
    assert [layer["mediaType"] for layer in wasm] == [WASM_LAYER] * len(wasm), "no data layers"
    blobs = {layer["digest"]: get_blob(pushed, layer["digest"]) for layer in wasm}
    for digest, blob in blobs.items():
        assert blob.startswith(COMPONENT_HEADER), f"{digest} is not a component"
        assert len(blob) == next(layer["size"] for layer in wasm if layer["digest"] == digest)

    # The locked app names one source per Spin component, each one of the layers, and no
    # dependency is left for the host to compose: Spin composed the models in at push time.
    app = json.loads(get_blob(pushed, locked["digest"]))
    components = {c["id"]: c for c in app["components"]}
    assert set(components) == {"api", "docs", "clinical"}
    for component in components.values():
        assert component["source"]["digest"] in blobs, component["id"]
        assert not component.get("dependencies"), component["id"]

    # The composed API imports nothing but WASI: its models are inside it.
    api_digest = components["api"]["source"]["digest"]
    api = tmp_path / "api.wasm"
    api.write_bytes(blobs[api_digest])
    wit = subprocess.run(["wasm-tools", "component", "wit", str(api)], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    imports = re.findall(r"^\s*import\s+([\w:/.@-]+)", wit, flags=re.M)
    assert imports and all(name.startswith("wasi:") for name in imports), imports

    total = manifest_size + manifest["config"]["size"] + sum(layer["size"] for layer in layers)
    assert total <= MAX_ARTIFACT_BYTES, f"{total} bytes"


# Requests whose answers the pulled app must give exactly as the local one does.
SAME_ANSWERS = [
    ("GET", "/healthz", None),
    ("GET", "/v2", None),
    ("GET", "/v2/health/ready", None),
    ("GET", "/v2/models/pce-2013", None),
    ("GET", "/v2/models/prevent-2023/ready", None),
    ("GET", "/openapi.json", None),
    ("GET", "/docs", None),
    ("GET", "/no/such/path", None),
    ("POST", "/predict", {"patient_data": {"age": 55, "sex": "male", "race": "white", "total_cholesterol": 213,
                                           "hdl_cholesterol": 50, "systolic_bp": 120}}),
    ("POST", "/predict", {"patient_data": {"age": 55, "sex": "female", "total_cholesterol": 213,
                                           "hdl_cholesterol": 50, "systolic_bp": 120, "egfr": 90},
                          "model": "prevent-2023"}),
    ("POST", "/predict", {"patient_data": {"age": 65, "cholesterol": 240}}),
    ("POST", "/v2/models/pce-2013/infer", {"id": "round-trip", "inputs": [
        {"name": "age", "shape": [2], "datatype": "FP64", "data": [55.0, 63.0]},
        {"name": "sex", "shape": [2], "datatype": "BYTES", "data": ["female", "male"]},
        {"name": "total_cholesterol", "shape": [2], "datatype": "FP64", "data": [213.0, 240.0]},
        {"name": "hdl_cholesterol", "shape": [2], "datatype": "FP64", "data": [50.0, 38.0]},
        {"name": "systolic_bp", "shape": [2], "datatype": "FP64", "data": [120.0, 150.0]}]}),
]


def test_spin_up_of_the_pushed_reference_serves_the_same_answers(pushed, app_url, tmp_path):
    started = time.monotonic()
    url, process = start_spin(pushed, tmp_path / "state", "--insecure", "--cache-dir", str(tmp_path / "cache"))
    try:
        for method, path, body in SAME_ANSWERS:
            local = requests.request(method, f"{app_url}{path}", json=body, timeout=10)
            pulled = requests.request(method, f"{url}{path}", json=body, timeout=10)
            assert pulled.status_code == local.status_code, path
            assert pulled.headers["content-type"] == local.headers["content-type"], path
            assert pulled.content == local.content, path
    finally:
        process.stop()
    assert time.monotonic() - started < 120

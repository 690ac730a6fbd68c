"""docs/deployment.md tells the truth: its traffic loop sends requests the service accepts, its
PromQL reads series that exist, the files it names exist, and it documents the exporter's
Dockerfile and the corrected query of the original README."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time

import pytest
import requests

import exporter_run
import manifests
from manifests import ROOT

DOC = ROOT / "docs" / "deployment.md"
# The HTTP component with its models composed in (scripts/build.sh, wac/api.wac).
API_WASM = ROOT / "target" / "composed" / "api.wasm"


def text() -> str:
    return DOC.read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text(), flags=re.S)


@pytest.fixture(scope="module")
def api_url():
    """The release API component under `wasmtime serve` (scripts/test.sh builds it first)."""
    assert API_WASM.exists(), f"{API_WASM} is missing: run scripts/build.sh"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([os.environ.get("WASMTIME", "wasmtime"), "serve", "--addr", f"127.0.0.1:{port}",
                                "-S", "cli", str(API_WASM)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "wasmtime serve did not start"
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_traffic_loop_sends_requests_the_service_answers_200(api_url):
    (loop,) = [b for b in code_blocks("sh") if "while true" in b]
    bodies = dict(re.findall(r"^(\w+)='(.*)'$", loop, flags=re.M))
    calls = re.findall(r"(localhost:8080(/\S+))\s*\\?\s*\n?\s*-H '([^']+)' -d \"\$(\w+)\"", loop)
    assert len(calls) == 2, calls
    for _, path, header, body in calls:
        name, value = header.split(": ", 1)
        response = requests.post(f"{api_url}{path}", data=bodies[body], headers={name: value}, timeout=5)
        assert response.status_code == 200, (path, response.text)


def test_the_health_route_the_probes_use_answers_200(api_url, base):
    path = manifests.one(base, "SpinApp")["spec"]["checks"]["readiness"]["httpGet"]["path"]
    assert requests.get(f"{api_url}{path}", timeout=5).status_code == 200


def test_the_corrected_promql_of_the_original_readme_is_there():
    assert 'rate(http_requests_total{job="model-api-metrics"}[1m])' in text()
    assert 'job="serviceMonitor/default/model-api-servicemonitor/0"' in text(), "says what was wrong"


def test_every_documented_query_reads_series_that_exist(checker):
    queries = [line for block in code_blocks("promql") for line in block.splitlines() if line.strip()]
    assert len(queries) >= 5
    for query in queries:
        _, usage = checker.check(query)
        assert usage.problems == [], query


def test_every_file_the_doc_names_exists():
    named = set(re.findall(r"(?<![\w/.-])((?:k8s|docs|exporter|tests|scripts)/[\w./-]*[\w/])", text()))
    named |= {"runtime-class.yaml"}
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []


def test_the_doc_documents_the_exporter_dockerfile_and_its_static_binary():
    assert "docker build -f exporter/Dockerfile" in text()
    build, binary = exporter_run.dockerfile_build()
    assert shlex.join(build) in text()
    assert str(binary.relative_to(ROOT)) in text()

"""A real model-exporter run: the static binary the container image packages, fed Spin's own
OTLP payloads (tests/data/spin-otlp, captured from Spin 3.6.3) plus request spans on
this service's routes, then scraped the way Prometheus scrapes it.

What the exporter exposes is read from that scrape, never from a list kept by hand.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from manifests import ROOT

DOCKERFILE = ROOT / "exporter" / "Dockerfile"
FIXTURES = ROOT / "tests" / "data" / "spin-otlp" / "run1-default-env"
# What Prometheus sends (scrape_config default), so the exporter answers in OpenMetrics.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                     "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

# (method, http.route or None for Spin's router 404, url.path, status, duration in ms)
SERVICE_REQUESTS = [
    ("POST", "/predict", "/predict", 200, 1.2),
    ("POST", "/predict", "/predict", 422, 0.4),
    ("POST", "/predict", "/predict", 500, 0.9),
    ("POST", "/v2/models/...", "/v2/models/pce-2013/infer", 200, 2.5),
    ("POST", "/v2/models/...", "/v2/models/prevent-2023/infer", 400, 0.6),
    ("POST", "/v2/models/...", "/v2/models/pce-2013/infer", 500, 3.1),
    ("POST", "/v2/models/...", "/v2/models/not-a-model/infer", 404, 0.3),
    ("GET", "/v2/models/...", "/v2/models/pce-2013", 200, 0.2),
    ("GET", "/v2/models/...", "/v2/models/prevent-2023/ready", 200, 0.1),
    ("GET", "/v2/health/...", "/v2/health/ready", 200, 0.1),
    ("GET", "/healthz", "/healthz", 200, 0.1),
    ("GET", "/docs", "/docs", 200, 0.5),
    ("GET", "/openapi.json", "/openapi.json", 200, 0.7),
    ("GET", None, "/nope", 404, 0.05),
]


def _kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def service_spans(requests_: list = SERVICE_REQUESTS) -> bytes:
    """One SERVER span per request, shaped like Spin's (status code as a string, route
    pattern in http.route, absent on a router 404)."""
    now = time.time_ns()
    spans = []
    for i, (method, route, path, status, ms) in enumerate(requests_):
        attributes = [_kv("http.request.method", method), _kv("url.path", path), _kv("url.query", ""),
                      _kv("url.scheme", ""), _kv("http.response.status_code", str(status)),
                      _kv("network.protocol.name", "http")]
        if route is not None:
            attributes.append(_kv("http.route", route))
        start = now - 10_000_000_000 + i * 1_000_000
        spans.append(Span(
            trace_id=(i + 1).to_bytes(16, "big"), span_id=(i + 1).to_bytes(8, "big"),
            name=f"{method} {route}" if route else method, kind=Span.SPAN_KIND_SERVER,
            start_time_unix_nano=start, end_time_unix_nano=start + int(ms * 1_000_000),
            attributes=attributes,
        ))
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[_kv("service.name", "spin"), _kv("service.version", "0.24.0")]),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="spin"), spans=spans)],
    )])
    return request.SerializeToString()


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports free right now: all held at once while picked, so the kernel
    cannot hand out the same one twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def dockerfile_build() -> tuple[list[str], Path]:
    """The `cargo build` command of exporter/Dockerfile, and the binary it copies into the image."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    (run,) = [line for line in text.splitlines() if line.startswith("RUN") and "cargo build" in line]
    build = shlex.split(run[run.index("cargo build"):].split("&&")[0])
    copied = shlex.split(run.split("&&")[1])
    assert copied[0] == "cp", run
    return build, ROOT / copied[1]


def wait_until_ready(metrics: str, process: subprocess.Popen, output, timeout: float = 20) -> None:
    """Waits for the exporter's `/readyz` on its metrics address; `output()` says why, if it
    exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"model-exporter exited {process.returncode}: {output()}")
        try:
            if requests.get(f"{metrics}/readyz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("model-exporter did not become ready")
        time.sleep(0.05)


def ensure_binary() -> Path:
    """The static exporter binary the image packages, built the way the Dockerfile builds it
    (scripts/test.sh builds it first; here it is only brought up to date)."""
    if "MODEL_EXPORTER_BIN" in os.environ:
        return Path(os.environ["MODEL_EXPORTER_BIN"])
    build, binary = dockerfile_build()
    subprocess.run(build[:2] + ["-q"] + build[2:], cwd=ROOT, check=True, timeout=1800)
    return binary


class Exporter:
    def __init__(self, binary: Path):
        otlp_port, metrics_port = free_ports(2)
        self.otlp = f"http://127.0.0.1:{otlp_port}"
        self.metrics = f"http://127.0.0.1:{metrics_port}"
        self.process = subprocess.Popen(
            [str(binary), "--otlp-addr", self.otlp.removeprefix("http://"),
             "--metrics-addr", self.metrics.removeprefix("http://"), "--log-format", "text", "--log", "warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_until_ready(self.metrics, self.process, lambda: self.process.stderr.read().decode())
        except TimeoutError:
            self.stop()
            raise

    def post(self, path: str, body: bytes, content_type: str = "application/x-protobuf") -> requests.Response:
        return requests.post(f"{self.otlp}{path}", data=body, headers={"content-type": content_type}, timeout=5)

    def scrape(self) -> tuple[str, str]:
        response = requests.get(f"{self.metrics}/metrics", headers={"accept": PROMETHEUS_ACCEPT}, timeout=5)
        response.raise_for_status()
        return response.headers["content-type"], response.text

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def feed(exporter: Exporter) -> None:
    """Spin's captured exports in order, this service's requests, and two refused requests
    (so the refusal counters have series too)."""
    captured = sorted(FIXTURES.glob("*.bin"))
    assert len(captured) == 8, f"Spin's captured exports are missing from {FIXTURES}"
    for path in captured:
        signal = path.stem.split("-v1_")[1]
        response = exporter.post(f"/v1/{signal}", path.read_bytes())
        assert response.status_code == 200, f"{path.name}: {response.status_code} {response.text}"
    response = exporter.post("/v1/traces", service_spans())
    assert response.status_code == 200, response.text
    assert exporter.post("/v1/traces", b"\xff\xff\xff").status_code == 400
    assert exporter.post("/v1/metrics", b"{}", content_type="text/plain").status_code == 415


def exposed_series(exposition: str) -> dict[str, set[str]]:
    """Sample name (as Prometheus stores it) -> label names, from an OpenMetrics exposition."""
    series: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series

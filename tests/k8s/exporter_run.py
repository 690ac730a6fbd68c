"""A real model-exporter run: the static binary the container image packages, fed Spin's own
OTLP payloads (tests/data/spin-otlp, captured from Spin 3.6.3) plus request spans on
this service's routes, then scraped the way Prometheus scrapes it.

What the exporter exposes is read from that scrape, never from a list kept by hand.
"""

from __future__ import annotations

import time

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from tests.support.exporter import Exporter
from tests.support.paths import ROOT

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


def scrape_as_prometheus(exporter: Exporter) -> tuple[str, str]:
    """/metrics asked for as Prometheus asks (so in OpenMetrics): (content type, exposition)."""
    response = requests.get(f"{exporter.metrics}/metrics", headers={"accept": PROMETHEUS_ACCEPT}, timeout=5)
    response.raise_for_status()
    return response.headers["content-type"], response.text


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

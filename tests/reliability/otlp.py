"""OTLP trace requests shaped like Spin's: one SERVER span per HTTP request (status code as a
string, `http.route` the spin.toml route, absent on a router 404), optionally Spin's INTERNAL
`execute_wasm_component` span beside it."""

from __future__ import annotations

import itertools
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

_ids = itertools.count(1)


def kv(key: str, value: str) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(string_value=value))


def server_span(method: str, route: str | None, path: str, status: str | None, duration_s: float,
                end_ns: int | None = None, extra: dict[str, str] | None = None) -> Span:
    """A Spin SERVER span. `status=None` leaves the status code out (the exporter rejects it)."""
    end = end_ns or time.time_ns()
    attributes = [kv("http.request.method", method), kv("url.path", path), kv("url.scheme", "http"),
                  kv("network.protocol.name", "http")]
    if status is not None:
        attributes.append(kv("http.response.status_code", status))
    if route is not None:
        attributes.append(kv("http.route", route))
    attributes += [kv(k, v) for k, v in (extra or {}).items()]
    n = next(_ids)
    return Span(trace_id=n.to_bytes(16, "big"), span_id=n.to_bytes(8, "big"),
                name=f"{method} {route}" if route else method, kind=Span.SPAN_KIND_SERVER,
                start_time_unix_nano=end - int(duration_s * 1e9), end_time_unix_nano=end,
                attributes=attributes)


def component_span(component: str = "api") -> Span:
    """Spin's INTERNAL span around a component run (the exporter ignores it)."""
    n = next(_ids)
    now = time.time_ns()
    return Span(trace_id=n.to_bytes(16, "big"), span_id=n.to_bytes(8, "big"),
                name=f"execute_wasm_component {component}", kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=now - 100_000, end_time_unix_nano=now)


def traces(spans: list[Span], resource: dict[str, str] | None = None) -> bytes:
    """An ExportTraceServiceRequest (protobuf) carrying `spans`."""
    attributes = [kv(k, v) for k, v in (resource or {"service.name": "spin"}).items()]
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=attributes),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name="spin"), spans=spans)],
    )]).SerializeToString()


def count_spans(body: bytes) -> tuple[int, int]:
    """(all spans, SERVER spans) in an ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return len(spans), sum(s.kind == Span.SPAN_KIND_SERVER for s in spans)

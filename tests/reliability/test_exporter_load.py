"""The exporter under sustained OTLP load from several senders.

Eight sender threads POST OTLP/protobuf trace batches for SENDERS_SECONDS: Spin's own captured
batch (tests/data/spin-otlp) and generated Spin-shaped batches of SERVER spans on the
service's routes, Spin's INTERNAL component spans, and SERVER spans without a status code
(which the exporter must reject and report). The exporter runs with --max-concurrent-requests 4,
so it is regularly busy: senders retry its 503s as OTLP senders do.

Nothing may go missing without the exporter's own counters saying so: every span produced is
eventually accepted and counted in model_exporter_spans_received_total; every SERVER span is
either in http_requests_total (and the latency histogram) or in
model_exporter_items_rejected_total, as the partial-success answers said; the 200s and 503s the
senders saw are the exporter's model_exporter_otlp_requests_total. Memory stays bounded: VmRSS,
sampled every half second, does not grow after the first seconds of load.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otlp import component_span, server_span, traces
from rss import RssSampler
from tests.support.exporter import total
from tests.support.paths import ROOT

SENDERS = 8
SENDERS_SECONDS = 15
FIXTURE = ROOT / "tests" / "data" / "spin-otlp" / "run1-default-env" / "004-POST-v1_traces.bin"
OUT = ROOT / "target" / "reliability"
# The service's requests as Spin names them: (method, http.route or None, url.path, status).
ROUTES = [
    ("POST", "/predict", "/predict", "200"), ("POST", "/predict", "/predict", "422"),
    ("POST", "/v2/models/...", "/v2/models/pce-2013/infer", "200"),
    ("POST", "/v2/models/...", "/v2/models/prevent-2023/infer", "400"),
    ("POST", "/v2/models/...", "/v2/models/unknown-model/infer", "404"),
    ("GET", "/v2/models/...", "/v2/models/pce-2013/ready", "200"),
    ("GET", "/healthz", "/healthz", "200"), ("GET", "/openapi.json", "/openapi.json", "200"),
    ("GET", None, "/nope", "404"), ("POST", "/predict", "/predict", "500"),
]
# Allowed growth of the RSS after the first 3 s of load: 10 % plus 4 MiB.
RSS_MARGIN_FRACTION, RSS_MARGIN_KIB = 0.10, 4096


def http_status(span: Span) -> str | None:
    for kv in span.attributes:
        if kv.key == "http.response.status_code":
            return kv.value.string_value
    return None


def batch_facts(body: bytes) -> dict[str, int]:
    """What a batch holds: all spans, and its SERVER spans with and without a valid status."""
    request = ExportTraceServiceRequest.FromString(body)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    server = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    valid = [s for s in server if (http_status(s) or "").isdigit() and 100 <= int(http_status(s)) <= 599]
    return {"spans": len(spans), "server_valid": len(valid), "server_invalid": len(server) - len(valid)}


def generated_batches() -> list[bytes]:
    batches = []
    for variant in range(4):
        spans = []
        for i in range(200):
            method, route, path, status = ROUTES[(i + variant) % len(ROUTES)]
            if (i + variant) % 25 == 0:
                status = None  # no status code: rejected, and said so
            spans.append(server_span(method, route, path, status, duration_s=0.0005 * (1 + i % 40)))
            if i % 4 == 0:
                spans.append(component_span())
        batches.append(traces(spans))
    return batches


class Sender(threading.Thread):
    def __init__(self, url: str, batches: list[tuple[bytes, dict[str, int]]], offset: int, until: float):
        super().__init__(daemon=True)
        self.url, self.batches, self.offset, self.until = url, batches, offset, until
        self.produced = {"spans": 0, "server_valid": 0, "server_invalid": 0}
        self.accepted = self.busy = self.rejected_reported = 0
        self.errors: list[str] = []

    def run(self) -> None:
        with requests.Session() as session:
            i = self.offset
            while time.monotonic() < self.until:
                body, facts = self.batches[i % len(self.batches)]
                i += 1
                while True:  # an OTLP sender retries 503
                    try:
                        response = session.post(self.url, data=body, timeout=10,
                                                headers={"content-type": "application/x-protobuf"})
                    except requests.RequestException as e:
                        self.errors.append(repr(e))
                        return
                    if response.status_code == 503:
                        self.busy += 1
                        time.sleep(0.01)
                        continue
                    break
                if response.status_code != 200:
                    self.errors.append(f"{response.status_code} {response.content[:200]!r}")
                    return
                self.accepted += 1
                for key, value in facts.items():
                    self.produced[key] += value
                answer = ExportTraceServiceResponse.FromString(response.content)
                self.rejected_reported += answer.partial_success.rejected_spans


def test_sustained_otlp_from_eight_senders_loses_nothing_unreported_in_bounded_memory(start_exporter):
    exporter = start_exporter("--max-concurrent-requests", "4", "--log", "warn")
    bodies = generated_batches() + [FIXTURE.read_bytes()]
    batches = [(body, batch_facts(body)) for body in bodies]
    sampler = RssSampler(exporter.pid, interval=0.5)
    sampler.start()
    until = time.monotonic() + SENDERS_SECONDS
    senders = [Sender(f"{exporter.otlp}/v1/traces", batches, n, until) for n in range(SENDERS)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=SENDERS_SECONDS + 30)
    samples = sampler.stop()
    metrics = exporter.samples()

    produced = {k: sum(s.produced[k] for s in senders) for k in senders[0].produced}
    accepted, busy = sum(s.accepted for s in senders), sum(s.busy for s in senders)
    exposed = {
        "spans_received": total(metrics, "model_exporter_spans_received_total"),
        "http_requests": total(metrics, "http_requests_total"),
        "highr_count": total(metrics, "http_request_duration_highr_seconds_count"),
        "rejected": total(metrics, "model_exporter_items_rejected_total", signal="traces"),
        "rejected_invalid_status": total(metrics, "model_exporter_items_rejected_total", signal="traces",
                                         reason="invalid_status_code"),
        "requests_200": total(metrics, "model_exporter_otlp_requests_total", signal="traces", code="200"),
        "requests_503": total(metrics, "model_exporter_otlp_requests_total", signal="traces", code="503"),
        "decode_failures": total(metrics, "model_exporter_decode_failures_total"),
    }
    warm = [kib for t, kib in samples if 2.5 <= t < 3.5]
    tail = [kib for t, kib in samples if t >= SENDERS_SECONDS / 2]
    figures = {
        "senders": SENDERS, "seconds": SENDERS_SECONDS, "batches_accepted": accepted, "busy_503": busy,
        "produced": produced, "exposed": exposed, "spans_per_s": produced["spans"] / SENDERS_SECONDS,
        "rejected_reported_to_senders": sum(s.rejected_reported for s in senders),
        "rss_kib": {"start": samples[0][1], "at_3s": warm[0] if warm else None,
                    "max": max(k for _, k in samples), "tail_max": max(tail) if tail else None},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "exporter-load.json").write_text(json.dumps(figures, indent=1))
    print("\n" + json.dumps(figures))

    assert not [e for s in senders for e in s.errors], [e for s in senders for e in s.errors]
    assert accepted > 100 and produced["spans"] > 10_000, figures
    assert exposed["spans_received"] == produced["spans"], figures
    assert exposed["http_requests"] == exposed["highr_count"] == produced["server_valid"], figures
    assert exposed["rejected"] == exposed["rejected_invalid_status"] == produced["server_invalid"], figures
    assert figures["rejected_reported_to_senders"] == produced["server_invalid"], figures
    assert exposed["requests_200"] == accepted and exposed["requests_503"] == busy, figures
    assert exposed["decode_failures"] == 0, figures
    assert warm and tail, samples
    assert max(tail) <= warm[0] * (1 + RSS_MARGIN_FRACTION) + RSS_MARGIN_KIB, figures["rss_kib"]

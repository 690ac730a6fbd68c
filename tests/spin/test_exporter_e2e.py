"""The monitoring path end to end with Spin's own telemetry, nothing simulated: `spin up` of the
committed spin.toml exporting OTLP (`OTEL_EXPORTER_OTLP_ENDPOINT`, as SpinKube's executor sets
it) to the real model-exporter binary, real requests (successes, 4xx, 404s), and a real
Prometheus scraping the exporter under the job name the ServiceMonitor gives it
(`model-api-metrics`). Every PromQL query of docs/deployment.md's "Prometheus" step is run as
written, and the counts it reads are exactly the requests that were sent.

The traffic goes in two phases, each waited for in Prometheus, so that the rates of the
documented queries are over real increases rather than a series' first sample.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter

import pytest
import requests

from tests.support.paths import MANIFEST, ROOT
from tests.support.patients import BREAST_CANCER_PATIENT
from tests.support.prometheus import Prometheus
from tests.support.spin import start_spin

DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
JOB = "model-api-metrics"
PATIENT = {"age": 55, "sex": "male", "race": "white", "total_cholesterol": 213,
           "hdl_cholesterol": 50, "systolic_bp": 120}
KIDNEY_PATIENT = {"age": 67, "sex": "female", "egfr": 35, "urine_acr": 120, "region": "north_american"}
TENSORS = {"inputs": [
    {"name": "age", "shape": [1], "datatype": "FP64", "data": [55.0]},
    {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]},
    {"name": "total_cholesterol", "shape": [1], "datatype": "FP64", "data": [213.0]},
    {"name": "hdl_cholesterol", "shape": [1], "datatype": "FP64", "data": [50.0]},
    {"name": "systolic_bp", "shape": [1], "datatype": "FP64", "data": [120.0]},
]}

# (method, path, JSON body, status the service answers, handler label, status label), and how
# many of each the two phases send.
REQUESTS = {
    "predict": ("POST", "/predict", {"patient_data": PATIENT}, 200, "/predict", "2xx"),
    "predict-refused": ("POST", "/predict", {"patient_data": {"age": 65}}, 422, "/predict", "4xx"),
    "predict-kidney": ("POST", "/predict", {"model": "kfre-2016", "patient_data": KIDNEY_PATIENT}, 200,
                       "/predict", "2xx"),
    # The example ONNX model (models/breast-cancer-lr): counted per model like the equations.
    "infer-onnx": ("POST", "/v2/models/breast-cancer-lr/infer",
                   {"inputs": [{"name": name, "shape": [1], "datatype": "FP64", "data": [value]}
                               for name, value in BREAST_CANCER_PATIENT.items()]},
                   200, "/v2/models/{name}/infer", "2xx"),
    "predict-unknown": ("POST", "/predict", {"model": "no-such-model", "patient_data": PATIENT}, 422,
                        "/predict", "4xx"),
    "infer": ("POST", "/v2/models/pce-2013/infer", TENSORS, 200, "/v2/models/{name}/infer", "2xx"),
    "infer-refused": ("POST", "/v2/models/pce-2013/infer", {"inputs": []}, 400, "/v2/models/{name}/infer", "4xx"),
    "unknown-model": ("GET", "/v2/models/framingham-2008", None, 404, "/v2/models/{name}", "4xx"),
    "unknown-path": ("GET", "/no/such/path", None, 404, "none", "4xx"),
    "ready": ("GET", "/v2/health/ready", None, 200, "/v2/health/ready", "2xx"),
    "alive": ("GET", "/healthz", None, 200, "/healthz", "2xx"),
}
PHASES = [
    {"predict": 3, "predict-refused": 1, "predict-kidney": 1, "infer": 1, "infer-refused": 1,
     "infer-onnx": 1, "unknown-model": 1, "unknown-path": 1, "ready": 1},
    {"predict": 9, "predict-refused": 4, "predict-kidney": 2, "predict-unknown": 1, "infer": 5,
     "infer-refused": 2, "unknown-model": 3, "unknown-path": 6, "ready": 2, "alive": 2},
]
# Sent before the phases: the one GET /healthz that found Spin serving (start_spin's probe).
STARTUP = Counter({("/healthz", "2xx"): 1})


def documented_queries() -> list[str]:
    blocks = re.findall(r"```promql\n(.*?)```", DEPLOYMENT_DOC.read_text(), flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def send(url: str, phase: dict[str, int]) -> list[float]:
    """Sends one phase's requests, checking each answer; returns their latencies (s)."""
    latencies = []
    with requests.Session() as http:
        for kind, count in phase.items():
            method, path, body, status, _, _ = REQUESTS[kind]
            for _ in range(count):
                started = time.monotonic()
                response = http.request(method, f"{url}{path}", json=body, timeout=10)
                latencies.append(time.monotonic() - started)
                assert response.status_code == status, (kind, response.text)
    return latencies


def expected_counts(phases) -> Counter:
    counts = Counter(STARTUP)
    for phase in phases:
        for kind, count in phase.items():
            _, _, _, _, handler, status = REQUESTS[kind]
            counts[(handler, status)] += count
    return counts


def by_labels(result: list[dict], *labels: str) -> dict[tuple, float]:
    return {tuple(r["metric"].get(label, "") for label in labels): float(r["value"][1]) for r in result}


def wait_for(prometheus: Prometheus, query: str, expected: float, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = prometheus.query(query, time.time())
        value = float(result[0]["value"][1]) if result else None
        if value == expected:
            return
        assert time.monotonic() < deadline, f"{query} is {value}, not {expected}"
        time.sleep(0.5)


@pytest.fixture
def monitored(exporter, tmp_path):
    """Spin exporting to the exporter, Prometheus scraping the exporter: (service url, prometheus)."""
    url, spin = start_spin(
        MANIFEST, tmp_path / "spin",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": exporter.otlp, "OTEL_METRIC_EXPORT_INTERVAL": "1000",
             "OTEL_BSP_SCHEDULE_DELAY": "500"})
    (tmp_path / "prometheus").mkdir()
    prometheus = Prometheus(exporter.metrics_addr, tmp_path / "prometheus", job=JOB)
    try:
        prometheus.wait_for_target_up()
        yield url, prometheus
    finally:
        prometheus.stop()
        spin.stop()


def test_spins_telemetry_reaches_prometheus_with_exactly_the_requests_sent(monitored):
    url, prometheus = monitored
    total = f'sum(http_requests_total{{job="{JOB}"}})'
    latencies = []
    for done, phase in enumerate(PHASES, start=1):
        latencies += send(url, phase)
        wait_for(prometheus, total, sum(expected_counts(PHASES[:done]).values()))
    now = time.time()
    expected = expected_counts(PHASES)
    queries = documented_queries()

    # The original README's query, corrected: one series per handler, method and status sent.
    (per_series,) = [q for q in queries if q.startswith("rate(http_requests_total")]
    series = prometheus.query(per_series, now)
    assert {(r["metric"]["handler"], r["metric"]["status"]) for r in series} == set(expected)
    assert all(float(r["value"][1]) > 0 for r in series), series

    # Request rate by handler and status, and the counters behind it, exactly.
    (by_status,) = [q for q in queries if q.startswith("sum by (handler, status)")]
    rates = by_labels(prometheus.query(by_status, now), "handler", "status")
    assert set(rates) == set(expected) and all(rate > 0 for rate in rates.values()), rates
    counts = by_labels(prometheus.query(f'sum by (handler, status) (http_requests_total{{job="{JOB}"}})', now),
                       "handler", "status")
    assert counts == {key: float(count) for key, count in expected.items()}

    # Traffic without the health probes.
    (no_probes,) = [q for q in queries if "unless on (handler)" in q]
    handlers = set(by_labels(prometheus.query(no_probes, now), "handler"))
    assert handlers == {(h,) for h, _ in expected if h not in ("/v2/health/ready", "/healthz")}

    # Latency: every request has one observation; each request the client timed took the
    # server no longer than the client saw it take (the span lies inside the round trip), so all
    # of them sit at or below the first bucket bound above the slowest client time (the startup
    # probe, timed by nobody and the first request a fresh Spin serves, may not); the documented
    # p99 is a real duration.
    durations = prometheus.query(f'sum(http_request_duration_seconds_count{{job="{JOB}"}})', now)
    assert float(durations[0]["value"][1]) == sum(expected.values())
    assert len(latencies) == sum(expected.values()) - sum(STARTUP.values())
    buckets = prometheus.query(f'sum by (le) (http_request_duration_seconds_bucket{{job="{JOB}"}})', now)
    cumulative = sorted((float(r["metric"]["le"]), float(r["value"][1])) for r in buckets)
    ceiling, within = next((bound, count) for bound, count in cumulative if bound >= max(latencies))
    assert within >= len(latencies), (ceiling, max(latencies), cumulative)
    (quantile,) = [q for q in queries if q.startswith("histogram_quantile(0.99")]
    p99 = float(prometheus.query(quantile, now)[0]["value"][1])
    assert math.isfinite(p99) and p99 > 0, p99

    # Predictions by model and outcome: the infer calls, which name the model in the path, and
    # the /predict calls, which name it in the body (the API reports it on stdout, Spin attaches
    # the line to the component's span, the exporter joins it to the request). A /predict with
    # an unknown model chose none and is counted in http_requests_total only.
    (inference,) = [q for q in queries if q.startswith("sum by (model, outcome)")]
    outcomes = by_labels(prometheus.query(inference, now), "model", "outcome")
    assert set(outcomes) == {("pce-2013", "success"), ("pce-2013", "client_error"),
                             ("kfre-2016", "success"), ("breast-cancer-lr", "success")}, outcomes
    sent = lambda *kinds: sum(p.get(kind, 0) for p in PHASES for kind in kinds)
    counted = by_labels(prometheus.query(
        f'sum by (model, outcome) (model_inference_requests_total{{job="{JOB}"}})', now), "model", "outcome")
    assert counted == {
        ("pce-2013", "success"): float(sent("infer", "predict")),
        ("pce-2013", "client_error"): float(sent("infer-refused", "predict-refused")),
        ("kfre-2016", "success"): float(sent("predict-kidney")),
        ("breast-cancer-lr", "success"): float(sent("infer-onnx")),
    }

    # Spin's own request counter (its metrics, exported every second here) counts every
    # request, all of which the `api` component answered (the catch-all route is the API's).
    spin_requests = f'sum(spin_request_count_total{{job="{JOB}", component_id="api"}})'
    wait_for(prometheus, spin_requests, sum(expected.values()))

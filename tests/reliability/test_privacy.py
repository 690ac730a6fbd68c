"""Patient values never reach a log line, a metric label or an error message.

Recognisable values (age 61.4321, systolic pressure 137.777, cholesterol 212.345, HDL 47.6543,
eGFR 88.8765, and the string SECRET_VALUE) go through every endpoint and every error path of the
service: /predict single and batch, the Open Inference Protocol in JSON and binary, model
metadata and readiness with the values in the path, and out-of-range, wrongly typed, unknown,
malformed, oversized and wrongly declared bodies, and values in query strings and headers. Both
the API component under `wasmtime serve` and the whole app behind scripts/serve_local.py get
them; their stdout and stderr go to files.

Error responses may name a field and its allowed range, never the value sent. An unknown field
is named by its name (that is what the client must fix), so unknown *names* use SECRET_NAME,
which error bodies may contain, while logs may contain nothing recognisable at all.

Then the exporter gets Spin-shaped spans for such requests with the values wherever a client of
the service can put them: the path (url.path under Spin's wildcard routes, or a router 404), the
query (url.query, url.full), headers (user_agent.original, forwarded addresses), the span name;
and a malformed OTLP body carrying them. Its logs (at debug level), its error answers and every
line of /metrics must be free of them. (`http.route` is Spin's manifest route, which a client of
the service cannot choose: the client-controlled path reaches the exporter only in url.path.)
"""

from __future__ import annotations

import json
import struct

import pytest
import requests

from otlp import kv, server_span, traces
from tests.support.exporter import metric_samples, total
from tests.support.paths import API_WASM
from tests.support.service import serve_component, serve_local

AGE, SBP, CHOL, HDL, EGFR = 61.4321, 137.777, 212.345, 47.6543, 88.8765
SECRET_VALUE = "Zx9PatientSecretValue"
SECRET_NAME = "Zx9PatientSecretName"
# The numbers as sent and as a program would round or re-print them.
NUMBER_FORMS = ["61.4321", "61.432", "137.777", "137.78", "212.345", "212.35", "212.34", "47.6543",
                "47.654", "88.8765", "88.876", "88.877"]
VALUES = NUMBER_FORMS + [SECRET_VALUE]
EVERYTHING = VALUES + [SECRET_NAME]
TIMEOUT = 15


def leaks(text: str, patterns: list[str]) -> list[str]:
    return [p for p in patterns if p.lower() in text.lower()]


def patient(**changes) -> dict:
    p = {"age": AGE, "sex": "male", "race": "white", "total_cholesterol": CHOL, "hdl_cholesterol": HDL,
         "systolic_bp": SBP, "on_bp_treatment": False, "smoker": True, "diabetic": False}
    p.update(changes)
    return {k: v for k, v in p.items() if v is not None}


def prevent_patient(**changes) -> dict:
    return patient(**{"race": None, "egfr": EGFR, "on_statin": False, **changes})


def tensors(p: dict) -> list[dict]:
    kinds = {bool: "BOOL", str: "BYTES", float: "FP64", int: "FP64"}
    return [{"name": k, "datatype": kinds[type(v)], "shape": [1], "data": [v]} for k, v in p.items()]


def binary_request(p: dict) -> tuple[bytes, dict]:
    """The binary tensor extension: JSON header, then each tensor's raw bytes."""
    parts = []
    for name, value in p.items():
        if isinstance(value, bool):
            parts.append((name, "BOOL", bytes([value])))
        elif isinstance(value, str):
            parts.append((name, "BYTES", struct.pack("<I", len(value.encode())) + value.encode()))
        else:
            parts.append((name, "FP64", struct.pack("<d", value)))
    header = json.dumps({"inputs": [{"name": n, "datatype": d, "shape": [1], "parameters": {"binary_data_size": len(raw)}}
                                    for n, d, raw in parts]}).encode()
    return header + b"".join(raw for *_, raw in parts), {
        "Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"}


def service_requests() -> list[tuple[str, str, dict, bytes | None]]:
    """(method, path, headers, body) through every endpoint and error path."""
    js = {"Content-Type": "application/json", "User-Agent": f"{SECRET_VALUE}/{AGE}",
          "X-Forwarded-For": "203.0.113.7", "X-Patient": f"{SECRET_VALUE} {SBP}"}

    def j(body) -> bytes:
        return json.dumps(body).encode()

    binary, binary_headers = binary_request(patient())
    binary_bad, _ = binary_request(patient(age=AGE + 100, sex=SECRET_VALUE))
    oversized = j({"patient_data": patient(notes=SECRET_VALUE * 4000)})
    requests_ = [
        # valid requests
        ("POST", "/predict", js, j({"patient_data": patient()})),
        ("POST", "/predict", js, j({"patient_data": prevent_patient(), "model": "prevent-2023"})),
        ("POST", "/predict", js, j({"instances": [patient(), patient(age=AGE + 10)], "model": "pce-2013"})),
        ("POST", "/v2/models/pce-2013/infer", js, j({"inputs": tensors(patient())})),
        ("POST", "/v2/models/prevent-2023/infer", js, j({"inputs": tensors(prevent_patient())})),
        ("POST", "/v2/models/pce-2013/infer", {**binary_headers, "User-Agent": SECRET_VALUE}, binary),
        ("POST", "/v2/models/pce-2013/versions/1.0.0/infer", js,
         j({"inputs": tensors(patient()), "parameters": {"binary_data_output": True}})),
        # out of range, one field at a time and all at once
        ("POST", "/predict", js, j({"patient_data": patient(age=AGE + 100)})),
        ("POST", "/predict", js, j({"patient_data": patient(systolic_bp=SBP + 1000, total_cholesterol=CHOL + 1000,
                                                             hdl_cholesterol=HDL + 100)})),
        ("POST", "/predict", js, j({"patient_data": prevent_patient(egfr=EGFR + 100), "model": "prevent-2023"})),
        ("POST", "/predict", js, j({"instances": [patient(age=AGE + 100), patient(systolic_bp=SBP + 1000)]})),
        ("POST", "/v2/models/pce-2013/infer", js, j({"inputs": tensors(patient(age=AGE + 100, systolic_bp=SBP + 1000))})),
        ("POST", "/v2/models/pce-2013/infer", binary_headers, binary_bad),
        # wrong types and unknown values
        ("POST", "/predict", js, j({"patient_data": patient(age=str(AGE), sex=SECRET_VALUE, race=SECRET_VALUE,
                                                             smoker=SECRET_VALUE, systolic_bp=[SBP])})),
        ("POST", "/predict", js, j({"patient_data": patient(cholesterol_unit=SECRET_VALUE, total_cholesterol=str(CHOL))})),
        ("POST", "/predict", js, j({"patient_data": patient(), "model": SECRET_VALUE})),
        ("POST", "/predict", js, j({"patient_data": str(AGE)})),
        ("POST", "/predict", js, j({"instances": f"{SECRET_VALUE} {AGE}"})),
        ("POST", "/predict", js, j([AGE, SBP, SECRET_VALUE])),
        ("POST", "/v2/models/pce-2013/infer", js, j({"inputs": tensors(patient(age=str(AGE), sex=SECRET_VALUE))})),
        ("POST", "/v2/models/pce-2013/infer", js,
         j({"inputs": [{"name": "age", "datatype": SECRET_VALUE, "shape": [str(AGE)], "data": [AGE]}]})),
        ("POST", "/v2/models/pce-2013/infer", js,
         j({"inputs": [{"name": "age", "datatype": "FP64", "shape": [2], "data": [AGE]}]})),
        ("POST", "/v2/models/pce-2013/infer", js,
         j({"inputs": tensors(patient()), "outputs": [{"name": SECRET_VALUE}]})),
        # unknown fields (their names may be named back; their values never)
        ("POST", "/predict", js, j({"patient_data": patient(**{SECRET_NAME: SECRET_VALUE, "notes": f"{AGE} {SBP}"})})),
        ("POST", "/predict", js, j({"patient_data": patient(), SECRET_NAME: [AGE, SECRET_VALUE]})),
        ("POST", "/v2/models/pce-2013/infer", js,
         j({"inputs": tensors(patient(**{SECRET_NAME: SECRET_VALUE}))})),
        # malformed JSON, cut at and after a value
        ("POST", "/predict", js, f'{{"patient_data": {{"age": {AGE}, "sex": "{SECRET_VALUE}'.encode()),
        ("POST", "/predict", js, f'{{"patient_data": {{"age": {AGE},, "systolic_bp": {SBP}}}}}'.encode()),
        ("POST", "/v2/models/pce-2013/infer", js, f'{{"inputs": [{{"name": "age", "data": [{AGE}'.encode()),
        ("POST", "/predict", js, f'{{"patient_data": {{"age": 0x{SECRET_VALUE}}}}}'.encode()),
        # oversized and wrongly declared
        ("POST", "/predict", js, oversized),
        ("POST", "/v2/models/pce-2013/infer", js, oversized * 20),
        ("POST", "/predict", {"Content-Type": "text/plain"}, f"age={AGE}&sex={SECRET_VALUE}".encode()),
        ("POST", "/v2/models/pce-2013/infer", {"Content-Type": "application/x-www-form-urlencoded"},
         f"age={AGE}".encode()),
        # values in the path, the query and the method
        ("GET", f"/v2/models/{AGE}", js, None),
        ("GET", f"/v2/models/{SECRET_VALUE}/ready", js, None),
        ("POST", f"/v2/models/{SBP}/infer", js, j({"inputs": tensors(patient())})),
        ("GET", f"/v2/models/pce-2013/versions/{CHOL}", js, None),
        ("POST", f"/v2/models/pce-2013/versions/{SECRET_VALUE}/infer", js, j({"inputs": tensors(patient())})),
        ("GET", f"/predict?age={AGE}&name={SECRET_VALUE}", js, None),
        ("POST", f"/predict/{AGE}?systolic_bp={SBP}", js, j({"patient_data": patient()})),
        ("GET", f"/{SECRET_VALUE}/{CHOL}?q={AGE}", js, None),
        ("DELETE", f"/v2/models/pce-2013/infer?age={AGE}", js, None),
        # metadata and health, with values in the query
        ("GET", f"/v2/models/pce-2013?age={AGE}", js, None),
        ("GET", f"/v2/models/prevent-2023/ready?egfr={EGFR}", js, None),
        ("GET", f"/v2?patient={SECRET_VALUE}", js, None),
        ("GET", f"/healthz?age={AGE}", js, None),
        ("GET", f"/openapi.json?age={AGE}", js, None),
    ]
    return requests_


@pytest.fixture
def logged_services(tmp_path):
    """The API component alone, and the whole app through serve_local.py, logging to files."""
    servers = {}
    servers["wasmtime serve"] = serve_component(API_WASM, tmp_path / "wasmtime.log")
    servers["serve_local.py"] = serve_local(tmp_path / "serve_local.log")
    yield servers
    for _, server in servers.values():
        server.stop()


def test_patient_values_reach_no_log_and_no_error_message_of_the_service(logged_services):
    findings = []
    answered = {}
    named_back = 0  # error bodies naming an unknown field: shows the scan sees what is echoed
    for name, (url, server) in logged_services.items():
        for method, path, headers, body in service_requests():
            response = requests.request(method, f"{url}{path}", headers=headers, data=body, timeout=TIMEOUT)
            answered[response.status_code] = answered.get(response.status_code, 0) + 1
            shown = " ".join(f"{k}: {v}" for k, v in response.headers.items()) + "\n" + response.text
            named_back += response.status_code >= 400 and SECRET_NAME in response.text
            if response.status_code >= 400 and leaks(shown, VALUES):
                findings.append((name, method, path, response.status_code, leaks(shown, VALUES), response.text[:300]))
            if response.status_code < 300 and leaks(response.text, NUMBER_FORMS[:1] + NUMBER_FORMS[2:3]
                                                    + NUMBER_FORMS[4:5] + [SECRET_VALUE]):
                findings.append((name, method, path, response.status_code, "a success echoes an input",
                                 response.text[:300]))
        server.stop()
        text = server.log_text()
        # The capture works: each server's start-up line is there.
        assert "Serving" in text, (name, text[:500])
        for line in text.splitlines():
            if leaks(line, EVERYTHING):
                findings.append((name, "log", line[:300], leaks(line, EVERYTHING)))
    print("\n" + json.dumps({"requests": sum(answered.values()), "statuses": answered}))
    # every path was exercised: successes, client errors, size and media refusals
    assert {200, 400, 404, 405, 413, 415, 422} <= set(answered), answered
    assert named_back >= len(logged_services), "no error body named the unknown field"
    assert not findings, findings


def client_spans() -> list:
    """SERVER spans for requests whose path, query and headers carry patient values, each with
    the http.route Spin gives such a path (or none: Spin's router 404)."""
    query = f"age={AGE}&systolic_bp={SBP}&name={SECRET_VALUE}"
    cases = [
        ("POST", "/v2/models/...", f"/v2/models/{AGE}/infer", "404"),
        ("GET", "/v2/models/...", f"/v2/models/{SECRET_VALUE}", "404"),
        ("POST", "/v2/models/...", f"/v2/models/pce-2013/versions/{CHOL}/infer", "501"),
        ("GET", "/v2/models/...", f"/v2/models/{SBP}/{SECRET_VALUE}/{EGFR}", "404"),
        ("GET", "/v2/health/...", f"/v2/health/{AGE}", "404"),
        ("GET", "/docs/...", f"/docs/{SECRET_VALUE}.js", "404"),
        ("GET", "/...", f"/{SECRET_VALUE}/{AGE}", "404"),
        ("GET", None, f"/{AGE}/{SBP}", "404"),
        ("POST", "/predict", "/predict", "422"),
        ("POST", "/predict", "/predict", "200"),
        (SECRET_VALUE, "/predict", "/predict", "405"),
    ]
    spans = []
    for method, route, path, status in cases:
        spans.append(server_span(method, route, path, status, 0.002, extra={
            "url.query": query, "url.full": f"http://127.0.0.1:3000{path}?{query}",
            "user_agent.original": f"{SECRET_VALUE}/{AGE}", "client.address": "203.0.113.7",
            "http.request.header.x-patient": f"{SECRET_VALUE} {SBP}", "http.target": f"{path}?{query}"}))
        spans[-1].name = f"{method} {path}"
        spans[-1].events.add(name=f"{SECRET_VALUE} {AGE}", attributes=[kv("value", str(CHOL))])
    return spans


def test_patient_values_reach_no_metric_label_and_no_log_of_the_exporter(start_exporter):
    exporter = start_exporter("--log", "debug")
    body = traces(client_spans(), resource={"service.name": "spin", "k8s.pod.name": SECRET_VALUE})
    response = exporter.post("/v1/traces", body)
    assert response.status_code == 200, response.text
    # OTLP JSON with the values in the wrong places: refused without repeating them.
    refusals = [
        exporter.post("/v1/traces", json.dumps({"resourceSpans": f"{SECRET_VALUE} {AGE}"}).encode(), "application/json"),
        exporter.post("/v1/traces", json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [
            {"name": SECRET_VALUE, "kind": str(AGE), "startTimeUnixNano": SECRET_VALUE}]}]}]}).encode(),
            "application/json"),
        exporter.post("/v1/metrics", f'{{"resourceMetrics": [{{"{SECRET_VALUE}": {AGE}'.encode(), "application/json"),
        exporter.post("/v1/traces", SECRET_VALUE.encode() + struct.pack("<d", AGE)),
        exporter.post(f"/v1/{SECRET_VALUE}?age={AGE}", body),
        exporter.post("/v1/traces", body, f"text/{SECRET_VALUE}"),
    ]
    metrics = exporter.scrape()
    exporter.stop()
    log = exporter.log_text()

    assert [r.status_code for r in refusals] == [400, 400, 400, 400, 404, 415], [r.text for r in refusals]
    findings = [("answer", r.status_code, leaks(r.text, EVERYTHING), r.text[:200])
                for r in refusals if leaks(r.text, EVERYTHING)]
    findings += [("metrics", line) for line in metrics.splitlines() if leaks(line, EVERYTHING)]
    findings += [("log", line[:300]) for line in log.splitlines() if leaks(line, EVERYTHING)]
    # The spans were counted (so the values went through the whole pipeline) and the log was written.
    counted = total(metric_samples(metrics), "http_requests_total")
    assert counted == len(client_spans()), metrics
    assert "refused an OTLP request" in log, log[-2000:]
    assert not findings, findings

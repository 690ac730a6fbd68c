"""One source of routes: every route of spin.toml, and its trailing-slash form, gets from the
exporter the `handler` label of the endpoint the component's own router served.

spin.toml is the source: its `[[trigger.http]]` routes are what Spin routes by, and each
component lists the endpoints it serves under its wildcard routes in
`[component.<id>.tool.model-exporter]` (the exporter's build reads the same tables). Each
route becomes concrete paths (an exact route is itself; a wildcard route is each of its
component's endpoints, with example values; the catch-all is an unknown path); each path is sent
as written and with a trailing slash to `spin up` of the committed spin.toml, which exports its
spans to the real exporter binary. What the component served is read from its answer: the
trailing-slash form must get the very answer of the plain form (the components ignore trailing
slashes), or be the component's 404 (then the label is `none`). The exporter's counters must
then hold exactly those labels, request for request.
"""

from __future__ import annotations

import datetime
import time
import tomllib
from collections import Counter

import requests

from tests.support.exporter import total
from tests.support.paths import MANIFEST
from tests.support.spin import start_spin

TOOL = "model-exporter"
# Example values for the path parameters of the endpoint templates.
PARAMETERS = {"{name}": "pce-2013", "{version}": "1.0.0", "{asset}": "init.js", "{id}": "pce-2013"}
# Requests that need a method or body other than a bare GET.
PATIENT = {"age": 55, "sex": "male", "race": "white", "total_cholesterol": 213,
           "hdl_cholesterol": 50, "systolic_bp": 120}
TENSORS = {"id": "route-labels", "inputs": [
    {"name": "age", "shape": [1], "datatype": "FP64", "data": [55.0]},
    {"name": "sex", "shape": [1], "datatype": "BYTES", "data": ["male"]},
    {"name": "total_cholesterol", "shape": [1], "datatype": "FP64", "data": [213.0]},
    {"name": "hdl_cholesterol", "shape": [1], "datatype": "FP64", "data": [50.0]},
    {"name": "systolic_bp", "shape": [1], "datatype": "FP64", "data": [120.0]},
]}
UNKNOWN_PATH = "/no/such/endpoint"


def fhir_record() -> dict:
    """A record the FHIR endpoints score with their default model: its values dated last week,
    within every binding's window whatever day the test runs."""
    week_ago = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()

    def result(id_, loinc, value, unit):
        return {"resourceType": "Observation", "id": id_, "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                "subject": {"reference": "Patient/p1"}, "effectiveDateTime": week_ago,
                "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                                  "code": unit}}

    smoking = {"resourceType": "Observation", "id": "s", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}]},
               "subject": {"reference": "Patient/p1"}, "effectiveDateTime": week_ago,
               "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "266919005"}]}}
    resources = [
        {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1968-01-01"},
        result("c", "2093-3", 213, "mg/dL"), result("h", "2085-9", 50, "mg/dL"),
        result("b", "8480-6", 120, "mm[Hg]"), result("e", "98979-8", 90, "mL/min/{1.73_m2}"), smoking,
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def concrete_paths(manifest: dict) -> list[tuple[str, str]]:
    """(path, handler label of the endpoint it names) for every spin.toml route."""
    paths = []
    for trigger in manifest["trigger"]["http"]:
        route = trigger["route"]
        if not route.endswith("/..."):
            paths.append((route, route))
            continue
        prefix = route.removesuffix("/...")
        component = manifest["component"][trigger["component"]]
        endpoints = component.get("tool", {}).get(TOOL, {}).get("endpoints", [])
        # A wildcard serves its prefix itself and what is below it; the catch-all, everything
        # (and an unknown path, its component's 404).
        under = [e for e in endpoints
                 if not prefix or e.split("=")[0] == prefix or e.split("=")[0].startswith(prefix + "/")]
        if not prefix:
            paths.append((UNKNOWN_PATH, "none"))
        else:
            assert under, f"{route} lists no endpoint in [component.{trigger['component']}.tool.{TOOL}]"
        for endpoint in under:
            pattern, _, label = endpoint.partition("=")
            for parameter, value in PARAMETERS.items():
                pattern = pattern.replace(parameter, value)
            assert "{" not in pattern, f"no example value for a parameter of {endpoint}"
            paths.append((pattern, label or endpoint))
    return paths


def send(http: requests.Session, url: str, path: str) -> requests.Response:
    if path.rstrip("/") == "/predict":
        return http.post(url + path, json={"patient_data": PATIENT}, timeout=10)
    if path.rstrip("/").startswith("/cds-services/"):
        return http.post(url + path, json={}, timeout=10)
    if path.rstrip("/").endswith("/$predict"):
        return http.post(url + path, json=fhir_record(), timeout=10)
    if path.rstrip("/").endswith("/infer"):
        return http.post(url + path, json=TENSORS, timeout=10)
    return http.get(url + path, timeout=10)


def answer(response: requests.Response) -> tuple:
    return response.status_code, response.headers.get("content-type"), response.content


def handler_counts(exporter) -> Counter:
    samples = exporter.samples()
    handlers = {labels["handler"] for name, labels, _ in samples if name == "http_requests_total"}
    return Counter({h: int(total(samples, "http_requests_total", handler=h)) for h in handlers})


def test_every_route_and_its_trailing_slash_get_the_label_of_what_served_them(exporter, tmp_path):
    manifest = tomllib.loads(MANIFEST.read_text())
    paths = concrete_paths(manifest)
    assert len(paths) >= len(manifest["trigger"]["http"])
    url, spin = start_spin(MANIFEST, tmp_path / "spin", env={
        "OTEL_EXPORTER_OTLP_ENDPOINT": exporter.otlp, "OTEL_BSP_SCHEDULE_DELAY": "200"})
    expected = Counter({"/healthz": 1})  # start_spin's readiness probe
    try:
        with requests.Session() as http:
            for path, label in paths:
                plain = send(http, url, path)
                slashed = send(http, url, path + "/")
                if label.startswith("/cds-services"):
                    # No issuer is trusted in this app: every CDS Hooks call is a bare 401,
                    # served (and labelled) by the clinical component all the same.
                    assert plain.status_code == slashed.status_code == 401, path
                elif label != "none":
                    assert plain.status_code < 300, (path, plain.status_code, plain.text)
                    # The component served the trailing-slash form as the plain one.
                    assert answer(slashed) == answer(plain), path + "/"
                else:
                    assert plain.status_code == slashed.status_code == 404, path
                expected[label] += 2
        deadline = time.monotonic() + 30
        while (counts := handler_counts(exporter)) != expected and time.monotonic() < deadline:
            time.sleep(0.3)
        assert counts == expected
    finally:
        spin.stop()

"""The Kidney Failure Risk Equation (`kfre-2016`) served like every model: through `/predict`
and the Open Inference Protocol, with its own features, units and ranges, and the numbers of
the reference cases computed outside the service (tests/data/kfre/: the PyPI package `kfre`
0.1.18 and the published formula in 50-digit arithmetic)."""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.paths import ROOT

MODEL = "kfre-2016"
TIMEOUT = 15
VECTORS = json.loads((ROOT / "tests" / "data" / "kfre" / "vectors.json").read_text())
# The vectors name the ratio `acr`; the model's feature is `urine_acr`.
RENAMED = {"acr": "urine_acr", "acr_unit": "urine_acr_unit"}


def patient(inputs: dict) -> dict:
    return {RENAMED.get(name, name): value for name, value in inputs.items()}


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


def test_every_reference_case_through_predict_matches_both_computations(http, api_url):
    cases = VECTORS["cases"]
    body = {"model": MODEL, "instances": [patient(case["inputs"]) for case in cases]}
    answer = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()
    assert answer["succeeded"] == len(cases) == 39
    for case, result in zip(cases, answer["results"]):
        for output, reference in (("kidney_failure_2y", "risk_2y"), ("kidney_failure_5y", "risk_5y")):
            for source in (reference, f"formula_{reference}"):
                assert abs(result["outcomes"][output] - case[source]) <= 1e-12, (case["id"], output, source)
        assert result["risk"] == result["outcomes"]["kidney_failure_5y"]
        assert result["confidence"] is None
        assert abs(sum(result["contributions"].values()) - case["linear_predictor"]) <= 1e-12, case["id"]


def test_the_kfre_packages_documented_example(http, api_url):
    """The PyPI package's README: a woman of 57.28 years, eGFR 15, ACR 1762.00184 mg/g, outside
    North America: 44.66 % at 2 years, 89.89 % at 5."""
    body = {"model": MODEL, "patient_data": {
        "age": 57.28, "sex": "female", "egfr": 15, "urine_acr": 1762.00184, "region": "non_north_american"}}
    answer = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()
    assert round(answer["outcomes"]["kidney_failure_2y"] * 100, 2) == 44.66
    assert round(answer["outcomes"]["kidney_failure_5y"] * 100, 2) == 89.89
    assert (answer["category"], answer["prediction"]) == ("referral_threshold", "Referral Threshold Reached")
    assert answer["warnings"] == []
    assert "horizon_years" not in answer


def test_every_refused_field_is_named_with_its_range(http, api_url):
    body = {"model": MODEL, "patient_data": {
        "age": 17, "sex": "male", "egfr": 75, "urine_acr": 30000, "region": "north_american"}}
    response = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT)
    assert response.status_code == 422
    errors = [(e["field"], e["detail"]) for e in response.json()["errors"]]
    assert errors == [
        ("age", "age must be between 18 and 100 years, the validated range of kfre-2016"),
        ("egfr", "egfr must be between 10 and 59 mL/min/1.73 m², the validated range of kfre-2016"),
        ("urine_acr", "urine_acr must be between 1 and 25000 mg/g, the validated range of kfre-2016"),
    ]
    assert "30000" not in response.text and "75" not in response.text.replace("kfre", "")


def test_a_missing_field_and_a_cardiovascular_field(http, api_url):
    missing = http.post(f"{api_url}/predict", json={"model": MODEL, "patient_data": {"age": 60}}, timeout=TIMEOUT)
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["sex", "egfr", "urine_acr"]
    body = {"model": MODEL, "patient_data": {
        "age": 63, "sex": "female", "egfr": 45, "urine_acr": 3.4, "urine_acr_unit": "mg/mmol",
        "systolic_bp": 120}}
    answer = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()
    assert [w["code"] for w in answer["warnings"]] == [
        "region_absent_north_american_calibration_used", "field_not_used"]


def test_the_inference_protocol_serves_it_with_its_own_tensors(http, api_url):
    metadata = http.get(f"{api_url}/v2/models/{MODEL}", timeout=TIMEOUT).json()
    assert [i["name"] for i in metadata["inputs"]] == [
        "age", "sex", "egfr", "urine_acr", "urine_acr_unit", "region"]
    assert [o["name"] for o in metadata["outputs"]] == [
        "risk", "kidney_failure_5y_risk", "kidney_failure_2y_risk", "category"]
    cases = VECTORS["cases"][:5]
    rows = [patient(case["inputs"]) for case in cases]
    inputs = []
    for name in ["age", "sex", "egfr", "urine_acr", "urine_acr_unit", "region"]:
        datatype = "BYTES" if name in ("sex", "urine_acr_unit", "region") else "FP64"
        inputs.append({"name": name, "datatype": datatype, "shape": [len(rows)], "data": [r[name] for r in rows]})
    answer = http.post(f"{api_url}/v2/models/{MODEL}/infer", json={"inputs": inputs}, timeout=TIMEOUT).json()
    outputs = {o["name"]: o["data"] for o in answer["outputs"]}
    for case, risk in zip(cases, outputs["kidney_failure_2y_risk"]):
        assert abs(risk - case["risk_2y"]) <= 1e-12, case["id"]

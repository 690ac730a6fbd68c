"""The FHIR endpoints under `spin up` of the committed spin.toml: the clinical component reads
each model's card from the API and scores through /predict by Spin's local service chaining,
which only Spin provides (the `wasmtime serve` fallback does not).

- Synthea patients (crates/fhir-record/tests/data/synthea, sources in its SOURCES.md), scored
  by every built-in model: each RiskAssessment's probability equals /predict's for the values
  read here, independently, straight from the bundle's JSON, to 1e-12;
- hand-built records for the issue's edge cases;
- every RiskAssessment and OperationOutcome the endpoint answers validates against an
  independent FHIR R4 model library (PyPI `fhir.resources`, its R4B models: R4B changed none of
  the resources used here).
"""

from __future__ import annotations

import datetime
import json

import pytest
import requests
from fhir.resources.R4B import get_fhir_model_class

from tests.support.paths import ROOT

SYNTHEA = sorted((ROOT / "crates" / "fhir-record" / "tests" / "data" / "synthea").glob("*.json"))
OPERATION = "/fhir/RiskAssessment/$predict"
FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
# What this test reads the Synthea bundles by, written here rather than taken from the models'
# cards, so that a wrong binding shows: SNOMED CT current-smoker answers Synthea writes, its
# diabetes code, and its one antihypertensive (RxNorm 316049, hydrochlorothiazide 25 mg).
CURRENT_SMOKER = {"449868002", "77176002"}
DIABETES = {"44054006"}
THIAZIDE = "316049"


def validated(resource: dict) -> dict:
    """`resource`, after fhir.resources has read it as the R4 resource it says it is."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def assess(app_url: str, body: bytes | dict, **query) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = requests.post(app_url + OPERATION, params=query, data=data,
                             headers={"content-type": FHIR_JSON}, timeout=30)
    assert response.headers["content-type"].startswith(FHIR_JSON)
    return response.status_code, validated(response.json())


def predict(app_url: str, model: str, patient: dict) -> dict:
    """/predict's answer for values typed in."""
    response = requests.post(app_url + "/predict", json={"model": model, "patient_data": patient}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


# --- An independent reading of a Synthea bundle -------------------------------------------

def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def codes(concept: dict, system: str) -> set[str]:
    return {c["code"] for c in concept.get("coding", []) if c.get("system") == system}


def newest(bundle: dict, loinc: str, on: datetime.date):
    """(value, day) of the newest final value of `loinc`, standalone or in a panel, by day."""
    found = []
    for observation in resources(bundle, "Observation"):
        day = datetime.date.fromisoformat(observation["effectiveDateTime"][:10])
        if observation["status"] != "final" or day > on:
            continue
        for part in [observation, *observation.get("component", [])]:
            if loinc in codes(part["code"], LOINC) and "valueQuantity" in part:
                found.append((observation["effectiveDateTime"], part["valueQuantity"]["value"], day))
    _, value, day = max(found)
    return value, day


def pce_values(bundle: dict, on: datetime.date) -> dict:
    patient = resources(bundle, "Patient")[0]
    born = datetime.date.fromisoformat(patient["birthDate"])
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    race_codes = {ext["valueCoding"]["code"] for race in patient.get("extension", [])
                  if race["url"].endswith("us-core-race") for ext in race["extension"]
                  if ext["url"] == "ombCategory"}
    race = "white" if "2106-3" in race_codes else "african_american" if "2054-5" in race_codes else "other"
    statuses = sorted((o["effectiveDateTime"], codes(o["valueCodeableConcept"], SNOMED))
                      for o in resources(bundle, "Observation") if "72166-2" in codes(o["code"], LOINC))
    active = lambda r: "active" in codes(r.get("clinicalStatus", {}), "http://terminology.hl7.org/CodeSystem/condition-clinical")  # noqa: E731
    return {
        "age": age, "sex": patient["gender"], "race": race,
        "total_cholesterol": newest(bundle, "2093-3", on)[0],
        "hdl_cholesterol": newest(bundle, "2085-9", on)[0],
        "systolic_bp": newest(bundle, "8480-6", on)[0],
        "smoker": bool(statuses[-1][1] & CURRENT_SMOKER),
        "diabetic": any(active(c) and codes(c["code"], SNOMED) & DIABETES for c in resources(bundle, "Condition")),
        "on_bp_treatment": any(r["status"] == "active" and THIAZIDE in codes(
            r.get("medicationCodeableConcept", {}), "http://www.nlm.nih.gov/research/umls/rxnorm")
            for r in resources(bundle, "MedicationRequest")),
    }


def assessment_day(bundle: dict) -> datetime.date:
    """The day after the patient's newest blood pressure: every window then holds the visit."""
    return newest(bundle, "8480-6", datetime.date.max)[1] + datetime.timedelta(days=1)


@pytest.mark.parametrize("path", SYNTHEA, ids=[p.name.split("_")[0] for p in SYNTHEA])
def test_a_synthea_patient_is_scored_as_predict_scores_the_values_in_the_record(app_url, path):
    bundle = json.loads(path.read_bytes())
    on = assessment_day(bundle)
    status, assessment = assess(app_url, path.read_bytes(), model="pce-2013", date=on.isoformat())
    values = pce_values(bundle, on)
    typed_in = requests.post(app_url + "/predict", json={"model": "pce-2013", "patient_data": values}, timeout=10)
    if typed_in.status_code == 422:
        # Outside the model's ranges (one patient is over 79): refused as /predict refuses the
        # same values, field for field, with the model's own message.
        assert status == 422
        refused = [(e["field"], e["detail"]) for e in typed_in.json()["errors"]]
        assert [(i["expression"][0], i["diagnostics"]) for i in assessment["issue"]] == refused
        return
    assert status == 200, assessment
    expected = typed_in.json()
    assert assessment["prediction"][0]["probabilityDecimal"] == pytest.approx(expected["risk"], abs=1e-12)
    assert assessment["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == expected["category"]
    assert assessment["occurrenceDateTime"] == on.isoformat()
    patient = resources(bundle, "Patient")[0]
    assert assessment["subject"]["reference"] == f"Patient/{patient['id']}"
    assert [n["text"] for n in assessment.get("note", [])] == [w["message"] for w in expected["warnings"]]


@pytest.mark.parametrize("model", ["prevent-2023", "kfre-2016", "breast-cancer-lr"])
def test_what_a_synthea_record_cannot_give_a_model_is_named_in_an_operation_outcome(app_url, model):
    """These Synthea bundles hold no urine ACR, eGFR for one patient only (outside PREVENT's
    range), and nothing the breast-cancer example reads (it declares no FHIR source)."""
    for path in SYNTHEA:
        bundle = json.loads(path.read_bytes())
        status, outcome = assess(app_url, path.read_bytes(), model=model,
                                 date=assessment_day(bundle).isoformat())
        assert status == 422, (path.name, outcome)
        assert outcome["resourceType"] == "OperationOutcome"
        for issue in outcome["issue"]:
            assert issue["severity"] == "error" and issue["expression"], issue
            assert issue["code"] in {"required", "value", "not-supported", "code-invalid"}, issue


# --- Hand-built edge cases ------------------------------------------------------------------

ON = "2025-05-31"


def result(id_: str, loinc: str, when: str, value: float, unit: str, status: str = "final") -> dict:
    return {"resourceType": "Observation", "id": id_, "status": status,
            "code": {"coding": [{"system": LOINC, "code": loinc}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def record(*extra: dict, race: str | None = "2106-3") -> dict:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1962-09-30"}
    if race:
        patient["extension"] = [{"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                                 "extension": [{"url": "ombCategory", "valueCoding": {
                                     "system": "urn:oid:2.16.840.1.113883.6.238", "code": race}}]}]
    smoking = {"resourceType": "Observation", "id": "s", "status": "final",
               "code": {"coding": [{"system": LOINC, "code": "72166-2"}]},
               "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2025-05-01",
               "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "266919005"}]}}
    resources_ = [patient, smoking, result("c", "2093-3", "2025-04-01", 190, "mg/dL"),
                  result("h", "2085-9", "2025-04-01", 55, "mg/dL"), *extra]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources_]}


BP = result("bp", "8480-6", "2025-05-01", 130, "mm[Hg]")
BASE = {"age": 62, "sex": "female", "race": "white", "total_cholesterol": 190, "hdl_cholesterol": 55,
        "systolic_bp": 130, "smoker": False, "diabetic": False, "on_bp_treatment": False}


def risk(app_url: str, body: dict) -> float:
    status, assessment = assess(app_url, body, model="pce-2013", date=ON)
    assert status == 200, assessment
    return assessment["prediction"][0]["probabilityDecimal"]


def test_edge_cases_are_read_by_the_issues_rules(app_url):
    expected = lambda **changes: predict(app_url, "pce-2013", {**BASE, **changes})["risk"]  # noqa: E731
    assert risk(app_url, record(BP)) == pytest.approx(expected(), abs=1e-12)
    # Entered in error, newer: ignored.
    wrong = result("x", "8480-6", "2025-05-20", 170, "mm[Hg]", status="entered-in-error")
    assert risk(app_url, record(BP, wrong)) == pytest.approx(expected(), abs=1e-12)
    # A newer panel's systolic component beats an older standalone value.
    panel = {"resourceType": "Observation", "id": "panel", "status": "final",
             "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
             "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2025-05-15",
             "component": [{"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                            "valueQuantity": {"value": 150, "unit": "mm[Hg]",
                                              "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}}]}
    assert risk(app_url, record(BP, panel)) == pytest.approx(expected(systolic_bp=150), abs=1e-12)
    # Mixed units: cholesterol in mmol/L, converted by the model's factor.
    mixed = record(BP)
    mixed["entry"][2]["resource"] = result("c", "14647-2", "2025-04-01", 190 / 38.67, "mmol/L")
    assert risk(app_url, mixed) == pytest.approx(expected(), abs=1e-12)
    # Diabetes by diagnosis only; treatment by an ATC class alone.
    diabetes = {"resourceType": "Condition", "id": "dm", "subject": {"reference": "Patient/p1"},
                "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                               "code": "active"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]}}
    order = {"resourceType": "MedicationRequest", "id": "rx", "status": "active", "intent": "order",
             "subject": {"reference": "Patient/p1"},
             "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "C08CA01"}]}}
    assert risk(app_url, record(BP, diabetes, order)) == pytest.approx(
        expected(diabetic=True, on_bp_treatment=True), abs=1e-12)
    # The record inside a Parameters, as a FHIR operation's input may come.
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "patient", "resource": record(BP)}]}
    assert risk(app_url, parameters) == pytest.approx(expected(), abs=1e-12)
    # Absent race: the binding's "other", scored by the white equations with the model's warning.
    status, assessment = assess(app_url, record(BP, race=None), model="pce-2013", date=ON)
    assert status == 200
    assert assessment["prediction"][0]["probabilityDecimal"] == pytest.approx(expected(race="other"), abs=1e-12)
    assert assessment["note"], "the warning is a note"


def test_stale_values_and_unknown_units_are_refused_by_name(app_url):
    stale = result("bp", "8480-6", "2024-05-30", 130, "mm[Hg]")
    status, outcome = assess(app_url, record(stale), model="pce-2013", date=ON)
    assert status == 422
    assert [(i["code"], i["expression"]) for i in outcome["issue"]] == [("required", ["systolic_bp"])]
    odd = record(BP)
    odd["entry"][2]["resource"] = result("c", "2093-3", "2025-04-01", 1.9, "g/L")
    status, outcome = assess(app_url, odd, model="pce-2013", date=ON)
    assert status == 422
    assert [(i["code"], i["expression"]) for i in outcome["issue"]] == [("code-invalid", ["total_cholesterol"])]
    assert "1.9" not in json.dumps(outcome)


def test_requests_that_are_no_record_are_answered_with_an_operation_outcome(app_url):
    assert assess(app_url, b"{", model="pce-2013")[0] == 400
    assert assess(app_url, record(BP), model="no-such-model")[0] == 404
    assert assess(app_url, record(BP), model="pce-2013", date="2999-01-01")[0] == 400
    response = requests.get(app_url + OPERATION, timeout=10)
    assert (response.status_code, response.headers["allow"]) == (405, "POST")
    validated(response.json())


def test_the_answers_are_the_ones_the_openapi_document_describes(app_url):
    import jsonschema

    document = requests.get(app_url + "/openapi.json", timeout=10).json()
    responses = document["paths"][OPERATION]["post"]["responses"]
    answers = [
        assess(app_url, record(BP), model="pce-2013", date=ON),
        assess(app_url, record(), model="pce-2013", date=ON),
        assess(app_url, record(BP), model="no-such-model"),
        assess(app_url, b"[]"),
    ]
    assert [status for status, _ in answers] == [200, 422, 404, 400]
    for status, body in answers:
        reference = responses[str(status)]["content"][FHIR_JSON]["schema"]
        jsonschema.Draft202012Validator({**reference, "components": document["components"]}).validate(body)

"""The clinical component under Spin keeps patient values out of its logs and its error
messages, as the API does (tests/reliability/test_privacy.py checks the API and the exporter).

Recognisable values go through `$predict` and a CDS Hooks call, scored and refused (out of range,
an unknown unit, a stale value, a malformed record), a patient's name and an override comment
carrying SECRET_VALUE, and a token carrying it. Spin writes each component's stdout and stderr
to files under its state directory: none may hold any of them, and no error answer either (a
card lists the values it used: that is its purpose, to the clinician)."""

from __future__ import annotations

import datetime
import json
import time
import uuid

import requests
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from tests.support.paths import MANIFEST
from tests.support.spin import start_spin

CHOL, HDL, SBP, HIGH_CHOL = 212.345, 47.6543, 137.777, 987.654
SECRET_VALUE = "Zx9PatientSecretValue"
VALUES = ["212.345", "212.35", "212.34", "47.6543", "47.654", "137.777", "137.78", "987.654", "987.65",
          SECRET_VALUE]
ISSUER = "https://ehr.example.org"
KEY = jwk.JWK.generate(kty="EC", crv="P-384", kid="ehr-es384")
LOINC = "http://loinc.org"


def token(url: str, **extra) -> str:
    claims = {"iss": ISSUER, "aud": url, "exp": int(time.time()) + 300, "jti": str(uuid.uuid4()), **extra}
    signed = jws.JWS(json_encode(claims))
    signed.add_signature(KEY, "ES384", protected=json_encode({"alg": "ES384", "typ": "JWT", "kid": KEY.kid}))
    return signed.serialize(compact=True)


def result(id_: str, loinc: str, value: float, unit: str, when: str) -> dict:
    return {"resourceType": "Observation", "id": id_, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": loinc}]}, "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def resources(chol: float = CHOL, chol_unit: str = "mg/dL", bp_day: int = 7) -> list[dict]:
    today = datetime.date.today()
    day = (today - datetime.timedelta(days=7)).isoformat()
    bp_when = (today - datetime.timedelta(days=bp_day)).isoformat()
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1962-09-30",
               "name": [{"family": SECRET_VALUE}]}
    return [patient, result("c", "2093-3", chol, chol_unit, day), result("h", "2085-9", HDL, "mg/dL", day),
            result("b", "8480-6", SBP, "mm[Hg]", bp_when)]


def bundle(items: list[dict]) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in items]}


def test_no_patient_value_reaches_a_log_or_an_error(tmp_path):
    trusted = {ISSUER: {"keys": [json.loads(KEY.export_public())]}}
    state = tmp_path / "spin"
    url, spin = start_spin(MANIFEST, state, env={"SPIN_VARIABLE_CDS_TRUSTED_ISSUERS": json.dumps(trusted)})
    errors = []
    try:
        operation = url + "/fhir/RiskAssessment/$predict"
        headers = {"content-type": "application/fhir+json"}
        records = {
            200: bundle(resources()),
            422: bundle(resources(chol=HIGH_CHOL)),            # outside the model's range
            422.1: bundle(resources(chol_unit="mg/L")),        # a unit the binding does not list
            422.2: bundle(resources(bp_day=400)),              # stale
        }
        for status, body in records.items():
            answer = requests.post(operation, json=body, headers=headers, timeout=30)
            assert answer.status_code == int(status), answer.text
            if answer.status_code != 200:
                errors.append(answer.text)
        malformed = bundle(resources())
        malformed["entry"][1]["resource"]["status"] = {"text": SECRET_VALUE}
        answer = requests.post(operation, json=malformed, headers=headers, timeout=30)
        assert answer.status_code == 400
        errors.append(answer.text)

        path = "/cds-services/pce-2013"
        prefetch = {"patient": resources()[0]}
        for key, resource in zip(["total_cholesterol", "hdl_cholesterol", "systolic_bp"], resources(chol=HIGH_CHOL)[1:]):
            prefetch[key] = bundle([resource])
        for key in ["smoker", "conditions", "medicationRequests", "medicationStatements"]:
            prefetch[key] = bundle([])
        call = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": prefetch}
        card = requests.post(url + path, json=call, headers={"Authorization": f"Bearer {token(url + path)}"}, timeout=30)
        assert card.status_code == 200 and card.json()["cards"][0]["indicator"] == "info"
        errors.append(card.json()["cards"][0]["detail"])  # an info card: a refusal, no value in it
        del prefetch["systolic_bp"]
        refused = requests.post(url + path, json=call, headers={"Authorization": f"Bearer {token(url + path)}"}, timeout=30)
        assert refused.status_code == 412
        errors.append(refused.text)
        feedback = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "overridden",
                                  "overrideReason": {"userComment": SECRET_VALUE},
                                  "outcomeTimestamp": datetime.datetime.now(datetime.UTC).isoformat()}]}
        path = "/cds-services/pce-2013/feedback"
        assert requests.post(url + path, json=feedback, timeout=10,
                             headers={"Authorization": f"Bearer {token(url + path)}"}).status_code == 200
        stranger = token(url + "/cds-services", iss=SECRET_VALUE)
        answer = requests.get(url + "/cds-services", headers={"Authorization": f"Bearer {stranger}"}, timeout=10)
        assert answer.status_code == 401
        errors.append(answer.text)
    finally:
        spin.stop()
    logs = {p.name: p.read_text(errors="replace") for p in [state / "spin.log", *sorted((state / "logs").glob("*"))]}
    assert "clinical_stdout.txt" in logs, sorted(logs)
    assert "model-api cds feedback service=pce-2013 outcome=overridden" in logs["clinical_stdout.txt"]
    for name, text in logs.items():
        assert not [v for v in VALUES if v in text], name
    for text in errors:
        assert not [v for v in VALUES if v in text], text

"""A user's ONNX model goes through the FHIR endpoints and CDS Hooks as the built-in models do,
once its description declares where each feature comes from in FHIR.

In a copy of the project, the example (models/breast-cancer-lr) declares its 30 features as
Observations of a hospital's own code system, as a pathology system holding fine-needle aspirate
measurements would code them (no LOINC code exists for them), in UCUM's unit-of-one forms. The
copy is built with scripts/build.sh and served by Spin; a record of one of the 1,000 test
patients is then scored by `$predict` and by the CDS Hooks service, each exactly as /predict
scores the same values."""

from __future__ import annotations

import datetime
import json
import re
import time
import uuid

import pytest
import requests
from fhir.resources.R4B import get_fhir_model_class
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from tests.support.onnx_example import FEATURES, MODEL, as_patient, inputs
from tests.support.project import copy_project, run
from tests.support.spin import start_spin

CODES = "http://hospital.example.org/fhir/CodeSystem/fna-nuclear-features"
UCUM = {"image units": "{image_unit}", "grey levels": "{grey_level}", "image units²": "{image_unit_squared}",
        "dimensionless": "1"}
ISSUER = "https://ehr.example.org"
KEY = jwk.JWK.generate(kty="EC", crv="P-384", kid="ehr-es384")


def with_bindings(description: str) -> str:
    """The description with a `[feature.fhir]` table after each feature."""
    by_name = {f["name"]: f for f in FEATURES}
    blocks = description.split("\n[[feature]]\n")
    out = [blocks[0]]
    for block in blocks[1:]:
        feature = by_name[re.search(r'^name = "(\w+)"', block, flags=re.M).group(1)]
        binding = (f'\n[feature.fhir]\nsource = "observation"\ncodes = ["{CODES}|{feature["name"]}"]\n'
                   f'units = [["{UCUM[feature["unit"]]}", 1.0]]\nmax_age_days = 30\n')
        out.append(block.rstrip("\n") + "\n" + binding)
    return "\n[[feature]]\n".join(out)


@pytest.fixture(scope="module")
def bound_url(tmp_path_factory):
    directory = tmp_path_factory.mktemp("onnx-fhir")
    project = directory / "project"
    copy_project(project)
    description = project / "models" / MODEL / "model.toml"
    description.write_text(with_bindings(description.read_text()))
    run(["scripts/build.sh", "api"], project)
    trusted = {ISSUER: {"keys": [json.loads(KEY.export_public())]}}
    url, process = start_spin(project / "spin.toml", directory / "state",
                              env={"SPIN_VARIABLE_CDS_TRUSTED_ISSUERS": json.dumps(trusted)})
    yield url
    process.stop()


def record(values: dict, when: str) -> list[dict]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1960-01-01"}
    observations = [{
        "resourceType": "Observation", "id": f"o{i}", "status": "final",
        "code": {"coding": [{"system": CODES, "code": f["name"]}]}, "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": values[f["name"]], "system": "http://unitsofmeasure.org", "code": UCUM[f["unit"]]},
    } for i, f in enumerate(FEATURES)]
    return [patient, *observations]


def token(url: str) -> str:
    claims = {"iss": ISSUER, "aud": url, "exp": int(time.time()) + 300, "jti": str(uuid.uuid4())}
    signed = jws.JWS(json_encode(claims))
    signed.add_signature(KEY, "ES384", protected=json_encode({"alg": "ES384", "typ": "JWT", "kid": KEY.kid}))
    return signed.serialize(compact=True)


def test_a_record_is_scored_as_predict_scores_its_values(bound_url):
    values = as_patient(inputs()[0])
    today = datetime.date.today()
    resources = record(values, (today - datetime.timedelta(days=3)).isoformat())
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    expected = requests.post(bound_url + "/predict", json={"model": MODEL, "patient_data": values}, timeout=10)
    assert expected.status_code == 200, expected.text
    risk = expected.json()["risk"]

    answer = requests.post(bound_url + "/fhir/RiskAssessment/$predict", params={"model": MODEL}, json=bundle,
                           headers={"content-type": "application/fhir+json"}, timeout=30)
    assert answer.status_code == 200, answer.text
    assessment = answer.json()
    get_fhir_model_class("RiskAssessment").model_validate(assessment)
    assert assessment["prediction"][0]["probabilityDecimal"] == pytest.approx(risk, abs=1e-12)
    assert len(assessment["basis"]) == len(FEATURES)  # the Observations; no feature reads the Patient

    services = requests.get(bound_url + "/cds-services", timeout=10,
                            headers={"Authorization": f"Bearer {token(bound_url + '/cds-services')}"}).json()
    service = next(s for s in services["services"] if s["id"] == MODEL)
    prefetch = {"patient": resources[0]}
    for key, template in service["prefetch"].items():
        if key != "patient":
            code = re.search(r"\|([\w]+)", template).group(1)
            found = [r for r in resources[1:] if r["code"]["coding"][0]["code"] == code]
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in found]}
    path = f"/cds-services/{MODEL}"
    call = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": "p1"}, "prefetch": prefetch}
    response = requests.post(bound_url + path, json=call, timeout=30,
                             headers={"Authorization": f"Bearer {token(bound_url + path)}"})
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["prediction"][0]["probabilityDecimal"] == pytest.approx(risk, abs=1e-12)
    assert card["indicator"] in {"info", "critical", "warning"} and len(card["summary"]) < 140

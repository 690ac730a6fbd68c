"""The CDS Hooks services under `spin up` of the committed spin.toml, configured as an operator
would: one trusted EHR (its JWK Set in the `cds_trusted_issuers` variable), tokens minted here
with real ES384 and RS384 keys by an independent JOSE library (PyPI `jwcrypto`), the `jti`s
kept in Spin's key-value store.

- every call needs a valid token: the issue's cases (valid, expired, wrong audience, unknown
  issuer, `alg: none`, HMAC, replayed `jti`, tampered payload) each a bare 401 but the first;
- a Synthea patient (its dates moved so that its last visit was last week, as date-shifting
  de-identification does) scored from a prefetch: the card follows CDS Hooks' rules, its risk
  equals /predict's for the values the card lists to 1e-12, and the RiskAssessment it offers
  validates against PyPI `fhir.resources`;
- 412 when a prefetch key is absent and no FHIR server may be queried; feedback accepted.
"""

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
from jwcrypto.common import base64url_encode, json_encode

from tests.support.paths import MANIFEST, ROOT
from tests.support.spin import start_spin

ISSUER = "https://ehr.example.org"
STEPHEN = ROOT / "crates" / "fhir-record" / "tests" / "data" / "synthea" / \
    "Stephen_McLaughlin_7735ab79-6ac8-4b81-9936-f7ddabd18751.json"
EC_KEY = jwk.JWK.generate(kty="EC", crv="P-384", kid="ehr-es384")
RSA_KEY = jwk.JWK.generate(kty="RSA", size=2048, kid="ehr-rs384")


@pytest.fixture(scope="module")
def cds_url(tmp_path_factory):
    trusted = {ISSUER: {"keys": [json.loads(EC_KEY.export_public()), json.loads(RSA_KEY.export_public())]}}
    url, spin = start_spin(MANIFEST, tmp_path_factory.mktemp("spin-cds"),
                           env={"SPIN_VARIABLE_CDS_TRUSTED_ISSUERS": json.dumps(trusted)})
    yield url
    spin.stop()


def token(audience: str, *, key=None, alg="ES384", **changes) -> str:
    claims = {"iss": ISSUER, "aud": audience, "exp": int(time.time()) + 300, "iat": int(time.time()),
              "jti": str(uuid.uuid4()), **changes}
    key = key or (RSA_KEY if alg == "RS384" else EC_KEY)
    signed = jws.JWS(json_encode(claims))
    signed.add_signature(key, alg, protected=json_encode({"alg": alg, "typ": "JWT", "kid": key.kid}))
    return signed.serialize(compact=True)


def call(url: str, path: str, body: dict | None = None, bearer: str | None = "valid") -> requests.Response:
    headers = {}
    if bearer == "valid":
        bearer = token(url + path)
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    if body is None:
        return requests.get(url + path, headers=headers, timeout=10)
    return requests.post(url + path, json=body, headers=headers, timeout=30)


def test_every_token_but_a_valid_one_is_a_bare_401(cds_url):
    audience = cds_url + "/cds-services"
    now = int(time.time())
    hmac = jwk.JWK.generate(kty="oct", size=384, kid="ehr-es384")
    replayed = token(audience)
    genuine = token(audience).split(".")
    forged = base64url_encode(json.dumps({"iss": ISSUER, "aud": audience, "exp": now + 10**7, "jti": "x"}))
    unsigned = ".".join([base64url_encode(json.dumps({"alg": "none", "typ": "JWT"})),
                         base64url_encode(json.dumps({"iss": ISSUER, "aud": audience, "exp": now + 300,
                                                          "jti": str(uuid.uuid4())})), ""])
    cases = {
        "valid ES384": (token(audience), 200),
        "valid RS384": (token(audience, alg="RS384"), 200),
        "first use": (replayed, 200),
        "replayed jti": (replayed, 401),
        "expired": (token(audience, exp=now - 1), 401),
        "wrong audience": (token(cds_url + "/cds-services/pce-2013"), 401),
        "unknown issuer": (token(audience, iss="https://attacker.example.org"), 401),
        "alg none": (unsigned, 401),
        "HMAC": (token(audience, key=hmac, alg="HS384"), 401),
        "tampered payload": (".".join([genuine[0], forged, genuine[2]]), 401),
        "no token": (None, 401),
    }
    for case, (bearer, status) in cases.items():
        response = call(cds_url, "/cds-services", bearer=bearer)
        assert response.status_code == status, case
        if status == 401:
            assert response.content == b"", case
            assert response.headers["www-authenticate"] == "Bearer", case


def test_discovery_lists_the_models_a_record_can_score(cds_url):
    services = call(cds_url, "/cds-services").json()["services"]
    assert [s["id"] for s in services] == ["pce-2013", "prevent-2023", "kfre-2016"]
    for service in services:
        assert service["hook"] == "patient-view" and service["title"] and service["description"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert all("sort:desc" not in t for t in service["prefetch"].values())


# --- A Synthea patient, scored from a prefetch ---------------------------------------------

DATE_KEYS = {"birthDate", "effectiveDateTime", "issued", "authoredOn", "onsetDateTime", "recordedDate",
             "abatementDateTime", "start", "end", "dateAsserted"}


def shifted(value, days: int):
    """`value` with every date and dateTime moved by `days` (date-shifting, as de-identified
    research data is): intervals, ages and the order of values are kept."""
    if isinstance(value, dict):
        return {k: shift_date(v, days) if k in DATE_KEYS and isinstance(v, str) else shifted(v, days)
                for k, v in value.items()}
    if isinstance(value, list):
        return [shifted(v, days) for v in value]
    return value


def shift_date(text: str, days: int) -> str:
    day = datetime.date.fromisoformat(text[:10]) + datetime.timedelta(days=days)
    return day.isoformat() + text[10:]


def as_a_server_holds_it(bundle: dict) -> list[dict]:
    """The transaction bundle's resources as a FHIR server holds them once it has processed it:
    each `urn:uuid:` reference rewritten to the `Type/id` it resolved to."""
    resolved = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]}

    def rewrite(value):
        if isinstance(value, dict):
            return {k: resolved.get(v, v) if k == "reference" else rewrite(v) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        return value
    return [rewrite(e["resource"]) for e in bundle["entry"]]


def stephen_last_week() -> dict:
    resources = as_a_server_holds_it(json.loads(STEPHEN.read_bytes()))
    last = max(r["effectiveDateTime"][:10] for r in resources if r["resourceType"] == "Observation")
    days = (datetime.date.today() - datetime.timedelta(days=7) - datetime.date.fromisoformat(last)).days
    return {"resources": shifted(resources, days), "patient_id": resources[0]["id"]}


def prefetch(service: dict, resources: list[dict]) -> dict:
    """What an EHR would answer each template with: the Patient, else a searchset of the
    resources of the searched type (and, for observations, with a searched code)."""
    answered = {}
    for key, template in service["prefetch"].items():
        if key == "patient":
            answered[key] = resources[0]
            continue
        kind = template.split("?")[0]
        found = [r for r in resources if r["resourceType"] == kind and (
            kind != "Observation" or any(f"|{c['code']}" in template for c in r["code"]["coding"]))]
        answered[key] = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                         "entry": [{"fullUrl": f"{ISSUER}/fhir/{kind}/{r['id']}", "resource": r} for r in found]}
    return answered


def hook(patient_id: str, prefetched: dict) -> dict:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient_id}, "prefetch": prefetched}


def values_listed(detail: str) -> dict:
    """The values a card's detail lists, as /predict takes them."""
    values = {}
    for name, shown in re.findall(r"^\| (\w+) \| ([^|]+?) \|", detail, flags=re.M):
        if name == "feature":
            continue
        number = re.match(r"^-?\d+(\.\d+)?", shown)
        values[name] = {"yes": True, "no": False}.get(shown, float(number.group()) if number else shown)
    return values


def test_a_synthea_patient_gets_a_card_whose_risk_is_predicts_for_the_values_it_lists(cds_url):
    patient = stephen_last_week()
    service = call(cds_url, "/cds-services").json()["services"][0]
    response = call(cds_url, "/cds-services/pce-2013", hook(patient["patient_id"], prefetch(service, patient["resources"])))
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert len(card["summary"]) < 140 and card["indicator"] in {"info", "warning", "critical"}
    assert card["source"]["label"] and card["selectionBehavior"] == "at-most-one"
    assert all(v not in (None, "", [], {}) for v in card.values())
    (action,) = card["suggestions"][0]["actions"]
    assessment = action["resource"]
    get_fhir_model_class("RiskAssessment").model_validate(assessment)
    values = values_listed(card["detail"])
    assert set(values) == {"age", "sex", "race", "total_cholesterol", "hdl_cholesterol", "systolic_bp",
                           "on_bp_treatment", "smoker", "diabetic"}
    typed_in = requests.post(cds_url + "/predict", json={"model": "pce-2013", "patient_data": values}, timeout=10)
    assert typed_in.status_code == 200, typed_in.text
    assert assessment["prediction"][0]["probabilityDecimal"] == pytest.approx(typed_in.json()["risk"], abs=1e-12)
    percent = typed_in.json()["risk"] * 100
    assert card["summary"].startswith(f"{percent:.2f} %" if percent < 1 else f"{percent:.1f} %")


def test_an_absent_prefetch_key_is_412_and_empty_data_an_info_card(cds_url):
    patient = stephen_last_week()
    service = call(cds_url, "/cds-services").json()["services"][0]
    prefetched = prefetch(service, patient["resources"])
    partial = {k: v for k, v in prefetched.items() if k != "systolic_bp"}
    refused = call(cds_url, "/cds-services/pce-2013", hook(patient["patient_id"], partial))
    assert refused.status_code == 412
    outcome = get_fhir_model_class("OperationOutcome").model_validate(refused.json())
    assert "systolic_bp" in outcome.issue[0].diagnostics
    unknown = call(cds_url, "/cds-services/no-such-service", hook(patient["patient_id"], partial))
    assert unknown.status_code == 404
    get_fhir_model_class("OperationOutcome").model_validate(unknown.json())
    empty = prefetch(service, patient["resources"][:1])
    response = call(cds_url, "/cds-services/pce-2013", hook(patient["patient_id"], empty))
    assert response.status_code == 200
    (card,) = response.json()["cards"]
    assert card["indicator"] == "info" and "suggestions" not in card
    assert "**systolic_bp**: the record holds no value for it" in card["detail"]


def test_the_answers_are_the_ones_the_openapi_document_describes(cds_url):
    import jsonschema

    document = requests.get(cds_url + "/openapi.json", timeout=10).json()

    def check(body: dict, path: str, method: str, status: int):
        schema = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
        jsonschema.Draft202012Validator({**schema, "components": document["components"]}).validate(body)

    check(call(cds_url, "/cds-services").json(), "/cds-services", "get", 200)
    patient = stephen_last_week()
    service = call(cds_url, "/cds-services").json()["services"][0]
    scored = call(cds_url, "/cds-services/pce-2013", hook(patient["patient_id"], prefetch(service, patient["resources"])))
    check(scored.json(), "/cds-services/{service_id}", "post", 200)
    missing = call(cds_url, "/cds-services/pce-2013", hook(patient["patient_id"], {"patient": patient["resources"][0]}))
    check(missing.json(), "/cds-services/{service_id}", "post", 412)


def test_feedback_is_accepted(cds_url):
    feedback = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted",
                              "outcomeTimestamp": datetime.datetime.now(datetime.UTC).isoformat()}]}
    assert call(cds_url, "/cds-services/pce-2013/feedback", feedback).status_code == 200


def test_feedback_reaches_the_exporter_by_service_and_outcome(exporter, tmp_path):
    """Spin carries the clinical component's feedback line to the real exporter binary, which
    counts it in cds_feedback_total{service, outcome}."""
    from tests.support.exporter import total

    trusted = {ISSUER: {"keys": [json.loads(EC_KEY.export_public())]}}
    url, spin = start_spin(MANIFEST, tmp_path / "spin", env={
        "SPIN_VARIABLE_CDS_TRUSTED_ISSUERS": json.dumps(trusted),
        "OTEL_EXPORTER_OTLP_ENDPOINT": exporter.otlp, "OTEL_BSP_SCHEDULE_DELAY": "200"})
    try:
        now = datetime.datetime.now(datetime.UTC).isoformat()
        items = [{"card": str(uuid.uuid4()), "outcome": outcome, "outcomeTimestamp": now}
                 for outcome in ["accepted", "accepted", "overridden"]]
        assert call(url, "/cds-services/kfre-2016/feedback", {"feedback": items}).status_code == 200
        expected = {("kfre-2016", "accepted"): 2, ("kfre-2016", "overridden"): 1}
        deadline = time.monotonic() + 30
        while True:
            samples = exporter.samples()
            counted = {key: total(samples, "cds_feedback_total", service=key[0], outcome=key[1]) for key in expected}
            if counted == expected or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert counted == expected
    finally:
        spin.stop()


def test_what_the_prefetch_lacks_is_read_from_the_allowed_fhir_server(tmp_path):
    """The operator allows one FHIR server (here a stand-in on loopback, answering the searches
    from the Synthea patient): a call whose prefetch holds only the Patient gets the same card
    as with the whole prefetch, each search read with the call's access token."""
    import http.server
    import threading
    from urllib.parse import parse_qs, urlsplit

    patient = stephen_last_week()
    resources = patient["resources"]
    reads = []

    class Fhir(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            reads.append((self.path, self.headers.get("Authorization")))
            url = urlsplit(self.path)
            kind = url.path.rsplit("/", 1)[-1]
            codes = [c.split("|")[-1] for c in parse_qs(url.query).get("code", [""])[0].split(",") if c]
            found = [r for r in resources if r["resourceType"] == kind and (
                not codes or any(c["code"] in codes for c in r["code"]["coding"]))]
            body = json.dumps({"resourceType": "Bundle", "type": "searchset",
                               "entry": [{"resource": r} for r in found]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fhir)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    trusted = {ISSUER: {"keys": [json.loads(EC_KEY.export_public())]}}
    url, spin = start_spin(MANIFEST, tmp_path / "spin", env={
        "SPIN_VARIABLE_CDS_TRUSTED_ISSUERS": json.dumps(trusted), "SPIN_VARIABLE_CDS_FHIR_SERVER": origin})
    try:
        service = call(url, "/cds-services").json()["services"][0]
        whole = call(url, "/cds-services/pce-2013", hook(patient["patient_id"], prefetch(service, resources)))
        only_patient = hook(patient["patient_id"], {"patient": resources[0]})
        only_patient["fhirServer"] = origin + "/fhir"
        only_patient["fhirAuthorization"] = {"access_token": "ehr-access-token", "token_type": "Bearer",
                                             "expires_in": 300, "scope": "patient/*.read", "subject": "cds"}
        fetched = call(url, "/cds-services/pce-2013", only_patient)
        assert fetched.status_code == 200, fetched.text
        risk = lambda r: r.json()["cards"][0]["suggestions"][0]["actions"][0]["resource"]["prediction"][0]  # noqa: E731
        assert risk(fetched)["probabilityDecimal"] == risk(whole)["probabilityDecimal"]
        assert len(reads) == len(service["prefetch"]) - 1
        assert all(path.startswith("/fhir/") and auth == "Bearer ehr-access-token" for path, auth in reads), reads
        # Without the token, or from another server, nothing is read: 412.
        del only_patient["fhirAuthorization"]
        assert call(url, "/cds-services/pce-2013", only_patient).status_code == 412
        only_patient["fhirServer"] = "http://127.0.0.2:9/fhir"
        only_patient["fhirAuthorization"] = {"access_token": "x", "token_type": "Bearer"}
        assert call(url, "/cds-services/pce-2013", only_patient).status_code == 412
        assert len(reads) == len(service["prefetch"]) - 1
    finally:
        spin.stop()
        server.shutdown()

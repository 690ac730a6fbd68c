"""`GET /openapi.json`: a valid OpenAPI 3.1 document that describes what the service really does.

Real responses, fetched over HTTP from the loopback `api_url` fixture, are validated against the
schemas the document itself declares (JSON Schema 2020-12, `$ref`s resolved through a
`referencing` registry that holds the whole document), and every documented path and method is
called.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.patients import BREAST_CANCER_PATIENT

TIMEOUT = 15
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
DOCUMENT_URI = "urn:healthcare-model-service:openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

PCE_PATIENT = {
    "age": 55, "sex": "female", "race": "white", "total_cholesterol": 213, "hdl_cholesterol": 50,
    "systolic_bp": 120, "on_bp_treatment": False, "smoker": False, "diabetic": False,
}
PREVENT_PATIENT = {
    "age": 50, "sex": "male", "total_cholesterol": 200, "hdl_cholesterol": 45, "systolic_bp": 160,
    "on_bp_treatment": True, "smoker": False, "diabetic": True, "egfr": 90, "on_statin": False,
}
KFRE_PATIENT = {"age": 63, "sex": "female", "egfr": 45, "urine_acr": 30, "region": "north_american"}
PATIENT = {"pce-2013": PCE_PATIENT, "prevent-2023": PREVENT_PATIENT, "kfre-2016": KFRE_PATIENT,
           "breast-cancer-lr": BREAST_CANCER_PATIENT}
DATATYPE = {
    **dict.fromkeys(["age", "total_cholesterol", "hdl_cholesterol", "systolic_bp", "egfr",
                     "urine_acr"], "FP64"),
    **dict.fromkeys(["on_bp_treatment", "smoker", "diabetic", "on_statin"], "BOOL"),
    **dict.fromkeys(["sex", "race", "cholesterol_unit", "urine_acr_unit", "region"], "BYTES"),
    **dict.fromkeys(BREAST_CANCER_PATIENT, "FP64"),
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def document(http, api_url) -> dict:
    response = http.get(f"{api_url}/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    return response.json()


@pytest.fixture(scope="module")
def registry(document) -> Registry:
    """The whole document as one JSON Schema 2020-12 resource, so `#/components/...` resolves."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


def pointer(*tokens: str) -> str:
    """An RFC 6901 JSON Pointer from raw tokens."""
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)


def component_validator(registry: Registry, name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/components/schemas/{name}"}, registry=registry)


def response_validator(
    document, registry, path: str, method: str, status: int, media_type: str
) -> Draft202012Validator:
    """A validator for the schema the document declares for this response."""
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} does not document {status}"
    response = responses[str(status)]
    location = ("paths", path, method, "responses", str(status))
    if "$ref" in response:
        assert response["$ref"].startswith("#/components/responses/")
        name = response["$ref"].rsplit("/", 1)[1]
        response = document["components"]["responses"][name]
        location = ("components", "responses", name)
    assert media_type in response["content"], f"{status} of {method.upper()} {path} has no {media_type}"
    ref = f"{DOCUMENT_URI}#{pointer(*location, 'content', media_type, 'schema')}"
    return Draft202012Validator({"$ref": ref}, registry=registry)


def assert_valid(validator: Draft202012Validator, instance) -> None:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def assert_documented(document, registry, response: requests.Response, path: str, method: str) -> None:
    """The response's status and media type are documented for path and method, and its body
    matches the documented schema."""
    media_type = response.headers["content-type"].split(";")[0].strip()
    validator = response_validator(document, registry, path, method, response.status_code, media_type)
    assert_valid(validator, response.json())


def post_json(http, api_url, path: str, body) -> requests.Response:
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return http.post(f"{api_url}{path}", data=data, headers={"Content-Type": JSON}, timeout=TIMEOUT)


def infer_body(patients: list[dict]) -> dict:
    return {
        "id": "openapi-test",
        "inputs": [
            {"name": name, "datatype": DATATYPE[name], "shape": [len(patients)], "data": [p[name] for p in patients]}
            for name in patients[0]
        ],
    }


# ---------------------------------------------------------------------------------------------
# The document itself
# ---------------------------------------------------------------------------------------------


def test_the_document_is_a_valid_openapi_3_1_document(document):
    assert document["openapi"].startswith("3.1")
    validate(document, cls=OpenAPIV31SpecValidator)


def test_every_component_schema_is_a_valid_json_schema_2020_12(document):
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name


def test_every_local_reference_resolves(document, registry):
    refs = re.findall(r'"\$ref":\s*"(#[^"]*)"', json.dumps(document))
    assert refs
    resolver = registry.resolver(base_uri=DOCUMENT_URI)
    for ref in set(refs):
        assert resolver.lookup(ref).contents is not None, ref


def test_the_documented_request_example_is_valid_and_answered(document, registry, http, api_url):
    content = document["paths"]["/predict"]["post"]["requestBody"]["content"][JSON]
    assert_valid(component_validator(registry, "PredictRequest"), content["example"])

    response = post_json(http, api_url, "/predict", content["example"])

    assert response.status_code == 200
    assert_documented(document, registry, response, "/predict", "post")


def test_the_schema_and_the_server_agree_on_which_requests_are_well_formed(registry, http, api_url):
    validator = component_validator(registry, "PredictRequest")
    accepted = [
        {"patient_data": PCE_PATIENT},
        {"patient_data": PREVENT_PATIENT, "model": "prevent-2023"},
        {"instances": [PCE_PATIENT, PCE_PATIENT], "model": None},
        {"patient_data": dict(PCE_PATIENT, race=None, cholesterol_unit="mg/dL")},
    ]
    refused = [
        {"patient_data": dict(PCE_PATIENT, smoking=True)},
        {"patient_data": PCE_PATIENT, "model": "pce-2014"},
        {"patient_data": PCE_PATIENT, "patient": {}},
        {"patient_data": dict(PCE_PATIENT, sex="Female")},
        {"patient_data": dict(PCE_PATIENT, age="55")},
        {"patient_data": dict(PCE_PATIENT, smoker=1)},
        {"instances": []},
    ]
    for body in accepted:
        assert validator.is_valid(body), body
        assert post_json(http, api_url, "/predict", body).status_code == 200, body
    for body in refused:
        assert not validator.is_valid(body), body
        assert post_json(http, api_url, "/predict", body).status_code == 422, body


RANGE_PATTERN = re.compile(r"(pce-2013|prevent-2023): required, validated range ([\d.]+)-([\d.]+)")


def test_the_documented_validated_ranges_are_the_ranges_the_service_enforces(document, http, api_url):
    properties = document["components"]["schemas"]["PatientData"]["properties"]
    checked = 0
    for field, schema in properties.items():
        for model, low, high in RANGE_PATTERN.findall(schema.get("description", "")):
            low, high = float(low), float(high)
            for value, expected in ((low, 200), (high, 200), (low - 0.001, 422), (high + 0.001, 422)):
                body = {"patient_data": dict(PATIENT[model], **{field: value}), "model": model}
                response = post_json(http, api_url, "/predict", body)
                assert response.status_code == expected, (field, model, value, response.text)
            checked += 1
    assert checked == 9  # four bounded fields of pce-2013, five of prevent-2023


# ---------------------------------------------------------------------------------------------
# Real responses against the documented schemas
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["pce-2013", "prevent-2023"])
def test_a_single_prediction_matches_the_documented_schema(document, registry, http, api_url, model):
    response = post_json(http, api_url, "/predict", {"patient_data": PATIENT[model], "model": model})

    assert response.status_code == 200
    assert_documented(document, registry, response, "/predict", "post")
    assert_valid(component_validator(registry, "Prediction"), response.json())


def test_a_prediction_with_warnings_matches_the_documented_schema(document, registry, http, api_url):
    patient = dict(PCE_PATIENT, race="other", egfr=80)
    response = post_json(http, api_url, "/predict", {"patient_data": patient})

    assert response.status_code == 200 and len(response.json()["warnings"]) == 2
    assert_documented(document, registry, response, "/predict", "post")


def test_a_mixed_batch_matches_the_documented_schema(document, registry, http, api_url):
    body = {"instances": [PCE_PATIENT, dict(PCE_PATIENT, age=123.456), {"age": 65}, [], dict(PCE_PATIENT, sex="male")]}
    response = post_json(http, api_url, "/predict", body)

    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == [200, 422, 422, 422, 200]
    assert_documented(document, registry, response, "/predict", "post")
    assert_valid(component_validator(registry, "BatchPrediction"), response.json())


def test_predictions_at_the_corners_of_the_validated_ranges_match_the_documented_schema(
    document, registry, http, api_url
):
    corners = []
    for age in (40, 79):
        for total in (130, 320):
            for hdl in (20, 100):
                for sbp in (90, 200):
                    for sex, race in (("female", "white"), ("male", "african_american")):
                        corners.append(dict(PCE_PATIENT, age=age, total_cholesterol=total, hdl_cholesterol=hdl,
                                            systolic_bp=sbp, sex=sex, race=race, smoker=True, diabetic=True,
                                            on_bp_treatment=sbp == 200))
    response = post_json(http, api_url, "/predict", {"instances": corners})

    assert response.status_code == 200
    assert response.json()["succeeded"] == len(corners)
    assert_documented(document, registry, response, "/predict", "post")


@pytest.mark.parametrize(
    "body",
    [
        {"patient_data": {"age": 65, "cholesterol": 240}},
        {"patient_data": dict(PCE_PATIENT, age=123.456)},
        {"patient_data": PCE_PATIENT, "model": "x"},
        {"instances": [{}] * 1001},
        [],
    ],
)
def test_a_422_problem_matches_the_documented_schema(document, registry, http, api_url, body):
    response = post_json(http, api_url, "/predict", body)

    assert response.status_code == 422
    assert_documented(document, registry, response, "/predict", "post")


def test_a_400_problem_matches_the_documented_schema(document, registry, http, api_url):
    response = post_json(http, api_url, "/predict", '{"patient_data": ')

    assert response.status_code == 400
    assert_documented(document, registry, response, "/predict", "post")


def test_a_413_problem_matches_the_documented_schema(document, registry, http, api_url):
    response = post_json(http, api_url, "/predict", {"patient_data": PCE_PATIENT, "pad": "x" * 70000})

    assert response.status_code == 413
    assert_documented(document, registry, response, "/predict", "post")


def test_a_415_problem_matches_the_documented_schema(document, registry, http, api_url):
    response = http.post(f"{api_url}/predict", data="{}", headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)

    assert response.status_code == 415
    assert_documented(document, registry, response, "/predict", "post")


def test_a_405_problem_matches_the_documented_schema(document, registry, http, api_url):
    response = http.get(f"{api_url}/predict", timeout=TIMEOUT)

    assert response.status_code == 405
    assert_documented(document, registry, response, "/predict", "post")


def test_healthz_matches_the_documented_schema(document, registry, http, api_url):
    response = http.get(f"{api_url}/healthz", timeout=TIMEOUT)

    assert response.status_code == 200
    assert_documented(document, registry, response, "/healthz", "get")


@pytest.mark.parametrize("path", ["/v2", "/v2/health/live", "/v2/health/ready"])
def test_server_metadata_and_health_match_the_documented_schemas(document, registry, http, api_url, path):
    response = http.get(f"{api_url}{path}", timeout=TIMEOUT)

    assert response.status_code == 200
    assert_documented(document, registry, response, path, "get")


@pytest.mark.parametrize("model", ["pce-2013", "prevent-2023"])
def test_model_metadata_and_readiness_match_the_documented_schemas(document, registry, http, api_url, model):
    metadata = http.get(f"{api_url}/v2/models/{model}", timeout=TIMEOUT)
    ready = http.get(f"{api_url}/v2/models/{model}/ready", timeout=TIMEOUT)

    assert metadata.status_code == 200 and ready.status_code == 200
    assert_documented(document, registry, metadata, "/v2/models/{model_name}", "get")
    assert_valid(component_validator(registry, "ModelMetadata"), metadata.json())
    assert_documented(document, registry, ready, "/v2/models/{model_name}/ready", "get")


def test_the_model_cards_match_the_documented_schemas_and_carry_the_fhir_sources(
        document, registry, http, api_url):
    cards = http.get(f"{api_url}/models", timeout=TIMEOUT)
    assert cards.status_code == 200
    assert_documented(document, registry, cards, "/models", "get")
    names = [card["name"] for card in cards.json()["models"]]
    assert names[0] == "pce-2013" and {"prevent-2023", "kfre-2016"} <= set(names)
    for name in names:
        card = http.get(f"{api_url}/models/{name}", timeout=TIMEOUT)
        assert card.status_code == 200
        assert_documented(document, registry, card, "/models/{model_name}", "get")
        assert card.json() == cards.json()["models"][names.index(name)]
    pce = {f["name"]: f for f in cards.json()["models"][0]["features"]}
    assert pce["age"]["fhir"] == {"source": "birth-date"}
    systolic = pce["systolic_bp"]["fhir"]
    assert systolic["source"] == "observation"
    assert [c["code"] for c in systolic["binding"]["panels"]] == ["85354-9", "55284-4"]
    assert pce["race"]["fhir"]["source"] == "us-core-race"
    assert pce["cholesterol_unit"]["fhir"] is None
    unknown = http.get(f"{api_url}/models/no-such-model", timeout=TIMEOUT)
    assert unknown.status_code == 404
    assert_documented(document, registry, unknown, "/models/{model_name}", "get")


def test_the_clinical_endpoints_are_documented_with_the_services_the_models_make(document, http, api_url):
    """The one document describes the clinical component's endpoints too (answered under Spin:
    tests/spin/test_fhir_endpoints.py and test_cds_hooks.py check their answers against it).
    The CDS Hooks services are the models whose every required feature has a FHIR source."""
    paths = document["paths"]
    assert set(paths["/fhir/RiskAssessment/$predict"]) == {"post"}
    assert set(paths["/cds-services"]) == {"get"}
    for path in ["/cds-services/{service_id}", "/cds-services/{service_id}/feedback"]:
        operation = paths[path]["post"]
        assert operation["security"] == [{"cdsHooksJwt": []}]
        assert "401" in operation["responses"]
    assert document["components"]["securitySchemes"]["cdsHooksJwt"]["scheme"] == "bearer"
    cards = http.get(f"{api_url}/models", timeout=TIMEOUT).json()["models"]
    services = [card["name"] for card in cards
                if any(f["fhir"] for f in card["features"])
                and all(f["fhir"] or not f["required"] for f in card["features"])]
    assert services == ["pce-2013", "prevent-2023", "kfre-2016"]
    (parameter,) = paths["/cds-services/{service_id}"]["post"]["parameters"]
    assert parameter["schema"]["enum"] == services


@pytest.mark.parametrize("suffix", ["", "/ready"])
def test_an_unknown_model_404_matches_the_documented_schema(document, registry, http, api_url, suffix):
    response = http.get(f"{api_url}/v2/models/no-such-model{suffix}", timeout=TIMEOUT)

    assert response.status_code == 404
    assert_documented(document, registry, response, f"/v2/models/{{model_name}}{suffix}", "get")
    assert_valid(component_validator(registry, "InferenceError"), response.json())


@pytest.mark.parametrize("model", ["pce-2013", "prevent-2023", "kfre-2016"])
def test_a_json_inference_response_matches_the_documented_schema(document, registry, http, api_url, model):
    body = infer_body([PATIENT[model], PATIENT[model]])
    assert_valid(component_validator(registry, "InferenceRequest"), body)

    response = post_json(http, api_url, f"/v2/models/{model}/infer", body)

    assert response.status_code == 200
    # Each model has its own inference path, with its own request schema.
    assert_documented(document, registry, response, f"/v2/models/{model}/infer", "post")
    assert_valid(component_validator(registry, "InferenceResponse"), response.json())


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"inputs": [{"name": "age", "datatype": "FP64", "shape": [1], "data": [123.456]}]}, 400),
        ("{", 400),
    ],
)
def test_inference_errors_match_the_documented_schema(document, registry, http, api_url, body, status):
    response = post_json(http, api_url, "/v2/models/pce-2013/infer", body)

    assert response.status_code == status
    assert_documented(document, registry, response, "/v2/models/pce-2013/infer", "post")


def test_an_unknown_model_inference_matches_the_documented_schema(document, registry, http, api_url):
    """No path is documented for a model that does not exist (each model has its own); the
    404 is the protocol's error object all the same."""
    response = post_json(http, api_url, "/v2/models/no-such-model/infer", infer_body([PCE_PATIENT]))

    assert response.status_code == 404
    assert "/v2/models/no-such-model/infer" not in document["paths"]
    assert_valid(component_validator(registry, "InferenceError"), response.json())


def test_an_inference_415_matches_the_documented_schema(document, registry, http, api_url):
    response = http.post(
        f"{api_url}/v2/models/pce-2013/infer", data="{}", headers={"Content-Type": "text/plain"}, timeout=TIMEOUT
    )

    assert response.status_code == 415
    assert_documented(document, registry, response, "/v2/models/pce-2013/infer", "post")


# ---------------------------------------------------------------------------------------------
# Every documented path answers with the method it documents
# ---------------------------------------------------------------------------------------------


def concrete_paths(document, template: str) -> list[str]:
    """The template with each documented value of its path parameters filled in."""
    paths = [template]
    for item in document["paths"][template].values():
        for parameter in item.get("parameters", []) if isinstance(item, dict) else []:
            if parameter["in"] != "path":
                continue
            values = parameter["schema"]["enum"]
            paths = [p.replace("{" + parameter["name"] + "}", v) for p in paths for v in values]
    return sorted(set(paths))


def documented_request(document, template: str, path: str, method: str):
    """A request the document says is valid for this operation, or None if it has no body."""
    operation = document["paths"][template][method]
    if "requestBody" not in operation:
        return None
    if template == "/predict":
        return operation["requestBody"]["content"][JSON]["example"]
    model = path.split("/")[3]
    return infer_body([PATIENT[model]])


# Paths the clinical component serves: it scores through the API by Spin's local service
# chaining, which the wasmtime fallback lacks, so tests/spin/test_fhir_endpoints.py checks them.
CLINICAL_PREFIXES = ("/fhir/", "/cds-services")


def test_every_documented_path_answers_the_method_it_documents(document, registry, http, api_url):
    called = []
    for template, item in document["paths"].items():
        if template.startswith(CLINICAL_PREFIXES):
            continue
        for method in set(item) & HTTP_METHODS:
            for path in concrete_paths(document, template):
                body = documented_request(document, template, path, method)
                response = http.request(
                    method.upper(),
                    f"{api_url}{path}",
                    data=None if body is None else json.dumps(body),
                    headers={} if body is None else {"Content-Type": JSON},
                    timeout=TIMEOUT,
                )
                assert response.status_code != 404, (method, path, response.text)
                assert response.status_code == 200, (method, path, response.text)
                assert_documented(document, registry, response, template, method)
                called.append((method, path))
    assert len(called) >= 11, called


def test_every_documented_path_refuses_an_undocumented_method_with_405(document, http, api_url):
    for template, item in document["paths"].items():
        if template.startswith(CLINICAL_PREFIXES):
            continue
        documented = set(item) & HTTP_METHODS
        other = "delete" if "delete" not in documented else "put"
        for path in concrete_paths(document, template):
            response = http.request(other.upper(), f"{api_url}{path}", timeout=TIMEOUT)
            assert response.status_code == 405, (other, path)
            allowed = {m.strip().lower() for m in response.headers["Allow"].split(",")}
            assert documented <= allowed, (path, documented, allowed)


def test_openapi_json_itself_answers_get_and_refuses_post(http, api_url):
    assert http.get(f"{api_url}/openapi.json", timeout=TIMEOUT).status_code == 200
    response = http.post(f"{api_url}/openapi.json", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"

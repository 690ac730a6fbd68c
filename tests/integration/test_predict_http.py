"""`POST /predict`, `/healthz` and the API's routing, over real HTTP against the release component.

Every request goes to the loopback `api_url` fixture (the component alone under
`wasmtime serve`), with a timeout, so the suite is bounded in time and never leaves the host.
"""

from __future__ import annotations

import json
import math
import random
import re

import pytest
import requests

TIMEOUT = 15
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"
INVALID_INPUT = "urn:healthcare-model-service:problem:invalid-input"
MG_DL_PER_MMOL_L = 38.67

# The guideline's worked example for the Pooled Cohort Equations.
PCE_EXAMPLE = {
    "age": 55,
    "total_cholesterol": 213,
    "hdl_cholesterol": 50,
    "systolic_bp": 120,
    "on_bp_treatment": False,
    "smoker": False,
    "diabetic": False,
}

# The PREVENT publication's worked example (base model).
PREVENT_EXAMPLE = {
    "age": 50,
    "total_cholesterol": 200,
    "hdl_cholesterol": 45,
    "systolic_bp": 160,
    "on_bp_treatment": True,
    "diabetic": True,
    "smoker": False,
    "egfr": 90,
    "on_statin": False,
}

# Validated ranges of each bounded field, as the models declare them (cholesterol in mg/dL).
RANGES = {
    "pce-2013": {
        "age": (40, 79),
        "total_cholesterol": (130, 320),
        "hdl_cholesterol": (20, 100),
        "systolic_bp": (90, 200),
    },
    "prevent-2023": {
        "age": (30, 79),
        "total_cholesterol": (130, 320),
        "hdl_cholesterol": (20, 100),
        "systolic_bp": (90, 180),
        "egfr": (15, 140),
    },
}

# Values outside every range above, distinctive enough that an echo would be noticed.
DISTINCTIVE_TOO_HIGH = {
    "age": 123.456,
    "total_cholesterol": 987.654,
    "hdl_cholesterol": 654.321,
    "systolic_bp": 234.567,
    "egfr": 456.789,
}
DISTINCTIVE_TOO_LOW = {
    "age": 12.3456,
    "total_cholesterol": 12.3457,
    "hdl_cholesterol": 1.23456,
    "systolic_bp": 12.3458,
    "egfr": 1.23457,
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


def pce_patient(**changes) -> dict:
    return {**PCE_EXAMPLE, "sex": "female", "race": "white", **changes}


def prevent_patient(**changes) -> dict:
    return {**PREVENT_EXAMPLE, "sex": "female", **changes}


def patient_for(model: str, **changes) -> dict:
    return pce_patient(**changes) if model == "pce-2013" else prevent_patient(**changes)


def post_predict(http, api_url, body, content_type: str | None = JSON) -> requests.Response:
    """POSTs `body` to /predict: a dict is sent as JSON, str/bytes as they are."""
    data = json.dumps(body) if isinstance(body, (dict, list)) else body
    headers = {} if content_type is None else {"Content-Type": content_type}
    return http.post(f"{api_url}/predict", data=data, headers=headers, timeout=TIMEOUT)


def predict_ok(http, api_url, patient: dict, model: str | None = None) -> dict:
    body = {"patient_data": patient}
    if model is not None:
        body["model"] = model
    response = post_predict(http, api_url, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    return response.json()


def assert_problem(response: requests.Response, status: int) -> dict:
    """The response is an RFC 9457 problem of this status; returns the problem object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == status
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert isinstance(problem["type"], str)
    return problem


def invalid_input(response: requests.Response) -> list[dict]:
    """The response is a 422 invalid-input problem; returns its field errors."""
    problem = assert_problem(response, 422)
    assert problem["type"] == INVALID_INPUT
    errors = problem["errors"]
    assert errors, "a 422 must name at least one field"
    for error in errors:
        assert set(error) == {"pointer", "field", "detail"}
        assert error["pointer"].startswith("/") or error["pointer"] == ""
    return errors


def error_for(errors: list[dict], pointer: str) -> dict:
    matching = [e for e in errors if e["pointer"] == pointer]
    assert matching, f"no error at {pointer}: {errors}"
    return matching[0]


def format_bound(value: float) -> str:
    """How the service prints a range bound (Rust's f64 Display: 130, not 130.0)."""
    return str(int(value)) if float(value).is_integer() else str(value)


def assert_answers(http, api_url) -> None:
    response = http.get(f"{api_url}/healthz", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ---------------------------------------------------------------------------------------------
# The original README request and a full prediction
# ---------------------------------------------------------------------------------------------


def test_the_original_readme_request_names_every_missing_required_field(http, api_url):
    response = post_predict(http, api_url, {"patient_data": {"age": 65, "cholesterol": 240}})

    errors = invalid_input(response)
    assert {e["pointer"] for e in errors} == {
        "/patient_data/sex",
        "/patient_data/hdl_cholesterol",
        "/patient_data/systolic_bp",
    }
    for error in errors:
        assert error["field"] in error["pointer"]
        assert "required" in error["detail"]


def test_a_full_pce_request_returns_every_member_of_a_prediction(http, api_url):
    prediction = predict_ok(http, api_url, pce_patient(), model="pce-2013")

    assert set(prediction) == {
        "prediction",
        "confidence",
        "model_version",
        "model",
        "risk",
        "outcomes",
        "category",
        "horizon_years",
        "contributions",
        "explanation",
        "warnings",
    }
    assert prediction["model"] == "pce-2013"
    assert prediction["model_version"] == "1.0.0"
    assert set(prediction["outcomes"]) == {"ascvd"}
    assert prediction["risk"] == prediction["outcomes"]["ascvd"]
    assert prediction["category"] in {"low", "borderline", "intermediate", "high"}
    assert prediction["prediction"].endswith("Risk")
    assert prediction["horizon_years"] == 10
    assert set(prediction["explanation"]) == {
        "outcome",
        "scale",
        "linear_predictor",
        "reference_value",
        "reference_patient",
    }
    assert prediction["warnings"] == []


def test_the_default_model_is_pce_2013(http, api_url):
    prediction = predict_ok(http, api_url, pce_patient())
    assert prediction["model"] == "pce-2013"


def test_prevent_reports_total_cvd_as_primary_and_ascvd_as_secondary_outcome(http, api_url):
    prediction = predict_ok(http, api_url, prevent_patient(), model="prevent-2023")

    assert set(prediction["outcomes"]) == {"total_cvd", "ascvd"}
    assert prediction["risk"] == prediction["outcomes"]["total_cvd"]
    assert prediction["explanation"]["outcome"] == "total_cvd"


# ---------------------------------------------------------------------------------------------
# Worked examples
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "race", "expected"),
    [
        ("female", "white", 0.02052),
        ("female", "african_american", 0.03026),
        ("male", "white", 0.05384),
        ("male", "african_american", 0.06073),
    ],
)
def test_pce_reproduces_the_guideline_worked_example(http, api_url, sex, race, expected):
    prediction = predict_ok(http, api_url, pce_patient(sex=sex, race=race), model="pce-2013")
    assert prediction["risk"] == pytest.approx(expected, abs=1e-3)
    assert prediction["outcomes"]["ascvd"] == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize(
    ("sex", "total_cvd", "ascvd"),
    [("female", 0.1468, 0.0920), ("male", 0.1632, 0.1019)],
)
def test_prevent_reproduces_the_published_worked_example(http, api_url, sex, total_cvd, ascvd):
    prediction = predict_ok(http, api_url, prevent_patient(sex=sex), model="prevent-2023")
    assert prediction["outcomes"]["total_cvd"] == pytest.approx(total_cvd, abs=1e-3)
    assert prediction["outcomes"]["ascvd"] == pytest.approx(ascvd, abs=1e-3)
    assert prediction["risk"] == prediction["outcomes"]["total_cvd"]


# ---------------------------------------------------------------------------------------------
# Explanation and confidence
# ---------------------------------------------------------------------------------------------

VARIED_PATIENTS = [
    ("pce-2013", pce_patient()),
    ("pce-2013", pce_patient(age=70, sex="male", smoker=True, systolic_bp=160, on_bp_treatment=True)),
    ("pce-2013", pce_patient(age=45, race="african_american", hdl_cholesterol=35, diabetic=True)),
    ("pce-2013", pce_patient(age=62, sex="male", race="african_american", total_cholesterol=280)),
    ("prevent-2023", prevent_patient()),
    ("prevent-2023", prevent_patient(sex="male", egfr=45, on_statin=True, smoker=True)),
    ("prevent-2023", prevent_patient(age=35, systolic_bp=100, diabetic=False, on_bp_treatment=False)),
    ("prevent-2023", prevent_patient(age=75, sex="male", egfr=130, hdl_cholesterol=90)),
]


@pytest.mark.parametrize(("model", "patient"), VARIED_PATIENTS)
def test_contributions_add_up_to_the_linear_predictor_minus_the_reference(http, api_url, model, patient):
    prediction = predict_ok(http, api_url, patient, model=model)

    explanation = prediction["explanation"]
    difference = explanation["linear_predictor"] - explanation["reference_value"]
    assert math.fsum(prediction["contributions"].values()) == pytest.approx(difference, abs=1e-9)


def test_confidence_is_a_probability_that_varies_between_patients(http, api_url):
    confidences = [
        predict_ok(http, api_url, patient, model=model)["confidence"]
        for model, patient in VARIED_PATIENTS
    ]

    assert all(0.0 <= c <= 1.0 for c in confidences), confidences
    assert len({round(c, 12) for c in confidences}) > 1, f"confidence is a constant: {confidences}"


def test_confidence_is_lower_next_to_a_category_threshold_than_far_from_it(http, api_url):
    # Far below 5 %: the worked example (about 2 %). Near 7.5 %: search the age that lands there.
    far = predict_ok(http, api_url, pce_patient(), model="pce-2013")
    near = min(
        (predict_ok(http, api_url, pce_patient(sex="male", age=age), model="pce-2013") for age in range(55, 66)),
        key=lambda p: min(abs(p["risk"] - 0.05), abs(p["risk"] - 0.075)),
    )
    assert near["confidence"] < far["confidence"]


# ---------------------------------------------------------------------------------------------
# Units and race
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["pce-2013", "prevent-2023"])
def test_cholesterol_in_mmol_per_litre_gives_the_same_risk_as_in_mg_per_decilitre(http, api_url, model):
    in_mg_dl = patient_for(model)
    in_mmol_l = patient_for(
        model,
        total_cholesterol=in_mg_dl["total_cholesterol"] / MG_DL_PER_MMOL_L,
        hdl_cholesterol=in_mg_dl["hdl_cholesterol"] / MG_DL_PER_MMOL_L,
        cholesterol_unit="mmol/L",
    )
    explicit_mg_dl = patient_for(model, cholesterol_unit="mg/dL")

    risk = predict_ok(http, api_url, in_mg_dl, model=model)["risk"]
    assert predict_ok(http, api_url, in_mmol_l, model=model)["risk"] == pytest.approx(risk, abs=1e-9)
    assert predict_ok(http, api_url, explicit_mg_dl, model=model)["risk"] == pytest.approx(risk, abs=1e-12)


@pytest.mark.parametrize("sex", ["female", "male"])
@pytest.mark.parametrize(
    ("race", "warning_code"),
    [(None, "race_absent_white_equations_used"), ("other", "race_other_white_equations_used")],
)
def test_absent_or_other_race_uses_the_white_equations_with_a_warning(http, api_url, sex, race, warning_code):
    white = predict_ok(http, api_url, pce_patient(sex=sex, race="white"), model="pce-2013")
    patient = pce_patient(sex=sex)
    if race is None:
        del patient["race"]
    else:
        patient["race"] = race

    prediction = predict_ok(http, api_url, patient, model="pce-2013")

    assert prediction["risk"] == white["risk"]
    assert white["warnings"] == []
    codes = [w["code"] for w in prediction["warnings"]]
    assert codes == [warning_code]
    assert prediction["warnings"][0]["message"]


def test_a_null_race_counts_as_absent(http, api_url):
    prediction = predict_ok(http, api_url, pce_patient(race=None), model="pce-2013")
    assert [w["code"] for w in prediction["warnings"]] == ["race_absent_white_equations_used"]


def test_a_field_the_model_does_not_use_is_ignored_with_a_warning(http, api_url):
    without = predict_ok(http, api_url, prevent_patient(), model="prevent-2023")
    with_race = predict_ok(http, api_url, prevent_patient(race="african_american"), model="prevent-2023")

    assert with_race["risk"] == without["risk"]
    assert [w["code"] for w in with_race["warnings"]] == ["field_not_used"]
    assert "race" in with_race["warnings"][0]["message"]


# ---------------------------------------------------------------------------------------------
# Field errors (422)
# ---------------------------------------------------------------------------------------------

OUT_OF_RANGE_CASES = [
    pytest.param(model, field, value, id=f"{model}-{field}-{direction}")
    for model, ranges in RANGES.items()
    for field in ranges
    for direction, value in (("high", DISTINCTIVE_TOO_HIGH[field]), ("low", DISTINCTIVE_TOO_LOW[field]))
]


@pytest.mark.parametrize(("model", "field", "value"), OUT_OF_RANGE_CASES)
def test_an_out_of_range_value_names_the_field_and_range_but_not_the_value(http, api_url, model, field, value):
    response = post_predict(http, api_url, {"patient_data": patient_for(model, **{field: value}), "model": model})

    errors = invalid_input(response)
    assert len(errors) == 1
    error = error_for(errors, f"/patient_data/{field}")
    assert error["field"] == field
    low, high = RANGES[model][field]
    assert f"between {format_bound(low)} and {format_bound(high)}" in error["detail"]
    assert model in error["detail"]
    assert str(value) not in response.text


def test_an_out_of_range_cholesterol_in_mmol_per_litre_shows_the_range_in_both_units(http, api_url):
    patient = pce_patient(total_cholesterol=12.3456, hdl_cholesterol=1.3, cholesterol_unit="mmol/L")
    response = post_predict(http, api_url, {"patient_data": patient})

    error = error_for(invalid_input(response), "/patient_data/total_cholesterol")
    assert "mmol/L" in error["detail"] and "130 to 320 mg/dL" in error["detail"]
    assert "12.3456" not in response.text


def test_the_range_bounds_themselves_are_accepted(http, api_url):
    for model, ranges in RANGES.items():
        for field, (low, high) in ranges.items():
            for bound in (low, high):
                prediction = predict_ok(http, api_url, patient_for(model, **{field: bound}), model=model)
                assert 0.0 <= prediction["risk"] <= 1.0


def test_prevent_requires_egfr(http, api_url):
    patient = prevent_patient()
    del patient["egfr"]
    errors = invalid_input(post_predict(http, api_url, {"patient_data": patient, "model": "prevent-2023"}))
    assert error_for(errors, "/patient_data/egfr")["field"] == "egfr"


def test_an_unknown_patient_field_is_refused(http, api_url):
    errors = invalid_input(post_predict(http, api_url, {"patient_data": pce_patient(smoking=True)}))
    error = error_for(errors, "/patient_data/smoking")
    assert "not a known patient field" in error["detail"]


def test_an_unknown_field_name_is_echoed_at_most_64_characters(http, api_url):
    name = "x" * 500
    response = post_predict(http, api_url, {"patient_data": pce_patient(**{name: 1})})
    errors = invalid_input(response)
    assert errors[0]["field"] == "x" * 64
    assert "x" * 65 not in response.text


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("age", "55", "must be a number"),
        ("age", True, "must be a number"),
        ("age", [55], "must be a number"),
        ("systolic_bp", {"value": 120}, "must be a number"),
        ("smoker", 1, "must be a boolean"),
        ("smoker", "yes", "must be a boolean"),
        ("diabetic", 0, "must be a boolean"),
        ("sex", "Female", "must be one of"),
        ("sex", "unknown", "must be one of"),
        ("sex", 1, "must be a string"),
        ("race", "asian", "must be one of"),
        ("cholesterol_unit", "mmol/l", "must be one of"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(http, api_url, field, value, expected):
    response = post_predict(http, api_url, {"patient_data": pce_patient(**{field: value})})
    error = error_for(invalid_input(response), f"/patient_data/{field}")
    assert error["field"] == field
    assert expected in error["detail"]
    if isinstance(value, str):
        assert json.dumps(value) not in response.text


def test_pointers_to_odd_field_names_are_escaped_as_rfc_6901_says(http, api_url):
    response = post_predict(http, api_url, {"patient_data": pce_patient(**{"a/b~c": 1}), "x/y": 2})
    pointers = {e["pointer"] for e in invalid_input(response)}
    assert pointers == {"/x~1y"}
    response = post_predict(http, api_url, {"patient_data": pce_patient(**{"a/b~c": 1})})
    assert {e["pointer"] for e in invalid_input(response)} == {"/patient_data/a~1b~0c"}


def test_the_range_shown_in_mmol_per_litre_is_accepted_at_its_bounds(http, api_url):
    patient = pce_patient(total_cholesterol=99.9, hdl_cholesterol=0.1, cholesterol_unit="mmol/L")
    response = post_predict(http, api_url, {"patient_data": patient})
    shown = {}
    for error in invalid_input(response):
        low, high = re.search(r"between ([\d.]+) and ([\d.]+) mmol/L", error["detail"]).groups()
        shown[error["field"]] = (float(low), float(high))
    assert set(shown) == {"total_cholesterol", "hdl_cholesterol"}
    for field, bounds in shown.items():
        for bound in bounds:
            values = {"total_cholesterol": 5.0, "hdl_cholesterol": 1.3, field: bound}
            patient = pce_patient(cholesterol_unit="mmol/L", **values)
            assert predict_ok(http, api_url, patient)["risk"] > 0


def test_total_cholesterol_given_also_under_its_alias_is_refused(http, api_url):
    patient = pce_patient(cholesterol=213)
    response = post_predict(http, api_url, {"patient_data": patient})
    errors = invalid_input(response)
    assert any(e["field"] == "total_cholesterol" and "more than once" in e["detail"] for e in errors)


def test_the_alias_cholesterol_alone_is_accepted_as_total_cholesterol(http, api_url):
    patient = pce_patient()
    patient["cholesterol"] = patient.pop("total_cholesterol")
    assert predict_ok(http, api_url, patient)["risk"] == predict_ok(http, api_url, pce_patient())["risk"]


@pytest.mark.parametrize("model", ["pce-2014", "PCE-2013", "", 7, True, ["pce-2013"]])
def test_an_unknown_model_is_refused(http, api_url, model):
    errors = invalid_input(post_predict(http, api_url, {"patient_data": pce_patient(), "model": model}))
    error = error_for(errors, "/model")
    assert "pce-2013" in error["detail"] and "prevent-2023" in error["detail"]


def test_an_unknown_top_level_member_is_refused(http, api_url):
    errors = invalid_input(post_predict(http, api_url, {"patient_data": pce_patient(), "patient": {}}))
    assert error_for(errors, "/patient")["field"] == "patient"


def test_patient_data_and_instances_together_are_refused(http, api_url):
    body = {"patient_data": pce_patient(), "instances": [pce_patient()]}
    errors = invalid_input(post_predict(http, api_url, body))
    assert "not both" in errors[0]["detail"]


@pytest.mark.parametrize("body", [{}, {"model": "pce-2013"}])
def test_a_body_without_patient_data_or_instances_is_refused(http, api_url, body):
    errors = invalid_input(post_predict(http, api_url, body))
    assert error_for(errors, "/patient_data")["field"] == "patient_data"


@pytest.mark.parametrize("body", ["[]", "42", '"text"', "null", "true"])
def test_a_body_that_is_not_an_object_is_refused(http, api_url, body):
    errors = invalid_input(post_predict(http, api_url, body))
    assert errors == [{"pointer": "", "field": "body", "detail": "the body must be a JSON object"}]


@pytest.mark.parametrize("patient_data", [[], [pce_patient()], "patient", 5, None])
def test_patient_data_that_is_not_an_object_is_refused(http, api_url, patient_data):
    errors = invalid_input(post_predict(http, api_url, {"patient_data": patient_data}))
    assert errors[0]["pointer"] == "/patient_data"


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


def test_a_mixed_batch_answers_each_patient_with_its_own_status(http, api_url):
    instances = [
        pce_patient(),
        pce_patient(age=123.456),
        pce_patient(sex="male"),
        {"age": 65, "cholesterol": 240},
        "not a patient",
    ]
    response = post_predict(http, api_url, {"instances": instances, "model": "pce-2013"})

    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["model"] == "pce-2013" and batch["model_version"] == "1.0.0"
    assert (batch["count"], batch["succeeded"], batch["failed"]) == (5, 2, 3)
    assert [r["status"] for r in batch["results"]] == [200, 422, 200, 422, 422]
    single = predict_ok(http, api_url, pce_patient())
    assert batch["results"][0]["risk"] == single["risk"]
    assert error_for(batch["results"][1]["errors"], "/instances/1/age")["field"] == "age"
    assert {e["pointer"] for e in batch["results"][3]["errors"]} == {
        "/instances/3/sex",
        "/instances/3/hdl_cholesterol",
        "/instances/3/systolic_bp",
    }
    assert batch["results"][4]["errors"][0]["pointer"] == "/instances/4"
    assert "123.456" not in response.text


def test_a_prevent_batch_uses_the_named_model(http, api_url):
    instances = [prevent_patient(), prevent_patient(sex="male")]
    response = post_predict(http, api_url, {"instances": instances, "model": "prevent-2023"})
    assert response.status_code == 200
    batch = response.json()
    assert batch["model"] == "prevent-2023"
    assert [r["outcomes"]["total_cvd"] for r in batch["results"]] == pytest.approx([0.1468, 0.1632], abs=1e-3)


def test_a_batch_of_1000_patients_is_within_the_count_limit(http, api_url):
    # 1000 patients of the smallest kind (empty objects) fit in the 64 KiB body limit.
    response = post_predict(http, api_url, {"instances": [{}] * 1000})
    assert response.status_code == 200, response.text
    batch = response.json()
    assert (batch["count"], batch["succeeded"], batch["failed"]) == (1000, 0, 1000)


def test_a_batch_of_1000_valid_patients_with_every_field_is_scored(http, api_url):
    # About 250 KB of JSON: over the 64 KiB single-request limit, within the batch limit.
    patients = [
        pce_patient(
            age=40 + i % 40,
            sex=("female", "male")[i % 2],
            race=("white", "african_american", "other")[i % 3],
            cholesterol_unit="mg/dL",
        )
        for i in range(1000)
    ]
    body = json.dumps({"instances": patients, "model": "pce-2013"}, indent=1)
    assert len(body) > 64 * 1024

    response = post_predict(http, api_url, body)

    assert response.status_code == 200, response.text[:500]
    batch = response.json()
    assert (batch["count"], batch["succeeded"], batch["failed"]) == (1000, 1000, 0)
    assert all(result["status"] == 200 for result in batch["results"])
    assert batch["results"][0]["risk"] == predict_ok(http, api_url, patients[0])["risk"]


def test_a_single_patient_body_over_64_kib_is_refused_even_though_batches_may_be_larger(http, api_url):
    body = json.dumps({"patient_data": pce_patient(), "padding": "x" * (100 * 1024)})
    problem = assert_problem(post_predict(http, api_url, body), 413)
    assert "65536" in problem["detail"]


def test_a_batch_body_over_1_mib_is_a_413_problem(http, api_url):
    body = json.dumps({"instances": [pce_patient()] * 10, "padding": "x" * (1024 * 1024)})
    problem = assert_problem(post_predict(http, api_url, body), 413)
    assert "1048576" in problem["detail"]
    assert_answers(http, api_url)


def test_a_batch_over_64_kib_is_scored_at_predict_with_a_trailing_slash(http, api_url):
    patient = {"age": 55, "sex": "male", "cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120}
    body = json.dumps({"instances": [patient] * 1000})
    assert 64 * 1024 < len(body) < 1024 * 1024

    response = http.post(f"{api_url}/predict/", data=body, headers={"Content-Type": JSON}, timeout=TIMEOUT)

    assert response.status_code == 200, response.text[:300]


def test_a_batch_of_1001_patients_is_refused(http, api_url):
    errors = invalid_input(post_predict(http, api_url, {"instances": [{}] * 1001}))
    error = error_for(errors, "/instances")
    assert "1000" in error["detail"]


def test_an_empty_batch_is_refused(http, api_url):
    errors = invalid_input(post_predict(http, api_url, {"instances": []}))
    assert error_for(errors, "/instances")["field"] == "instances"


@pytest.mark.parametrize("instances", [{}, "patients", 3, None])
def test_instances_that_are_not_an_array_are_refused(http, api_url, instances):
    errors = invalid_input(post_predict(http, api_url, {"instances": instances}))
    assert errors[0]["pointer"] in {"/instances", "/patient_data"}


# ---------------------------------------------------------------------------------------------
# Body, media type and size (400, 413, 415)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{",
        '{"patient_data": {"age": 55,}}',
        "{'patient_data': {}}",
        '{"patient_data": {"age": NaN}}',
        '{"patient_data": {"age": Infinity}}',
        '{"patient_data": {"age": 1e400}}',
        "",
        "patient_data=1",
        '{"patient_data": {}} trailing',
    ],
)
def test_malformed_json_is_a_400_problem(http, api_url, body):
    problem = assert_problem(post_predict(http, api_url, body), 400)
    assert "not valid JSON" in problem["detail"]


def test_truncated_json_is_a_400_problem_saying_the_input_ended(http, api_url):
    full = json.dumps({"patient_data": pce_patient()})
    problem = assert_problem(post_predict(http, api_url, full[: len(full) // 2]), 400)
    assert "end of input" in problem["detail"]


def test_invalid_utf8_is_a_400_problem(http, api_url):
    problem = assert_problem(post_predict(http, api_url, b'{"patient_data": {"sex": "\xff\xfe"}}'), 400)
    assert "not valid JSON" in problem["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", None],
)
def test_a_body_not_declared_as_json_is_a_415_problem(http, api_url, content_type):
    body = json.dumps({"patient_data": pce_patient()})
    problem = assert_problem(post_predict(http, api_url, body, content_type=content_type), 415)
    assert "application/json" in problem["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json"]
)
def test_json_media_types_with_parameters_or_suffix_are_accepted(http, api_url, content_type):
    response = post_predict(http, api_url, {"patient_data": pce_patient()}, content_type=content_type)
    assert response.status_code == 200, response.text


def test_a_body_over_64_kib_is_a_413_problem(http, api_url):
    body = json.dumps({"patient_data": pce_patient(), "padding": "x" * (64 * 1024)})
    problem = assert_problem(post_predict(http, api_url, body), 413)
    assert "65536" in problem["detail"]
    assert_answers(http, api_url)


def test_a_body_of_several_megabytes_is_refused_without_harm(http, api_url):
    body = b"[" + b"0," * (2 * 1024 * 1024) + b"0]"
    problem = assert_problem(post_predict(http, api_url, body), 413)
    assert "1048576" in problem["detail"]
    assert_answers(http, api_url)


# ---------------------------------------------------------------------------------------------
# Methods, routes and health
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_on_predict_are_a_405_listing_post(http, api_url, method):
    response = http.request(method, f"{api_url}/predict", timeout=TIMEOUT)
    assert_problem(response, 405)
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_other_methods_on_healthz_are_a_405_listing_get(http, api_url, method):
    response = http.request(method, f"{api_url}/healthz", timeout=TIMEOUT)
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        "/", "/nope", "/predict/extra", "/predicts", "/healthz/x", "/v3", "/v2/models", "/v2/health",
        "//predict", "/openapi.yaml",
    ],
)
def test_an_unknown_route_is_a_404_problem(http, api_url, path):
    for method in ("GET", "POST"):
        response = http.request(method, f"{api_url}{path}", data="{}", headers={"Content-Type": JSON}, timeout=TIMEOUT)
        assert assert_problem(response, 404)["title"] == "Not Found"


def test_a_trailing_slash_and_a_query_string_reach_predict(http, api_url):
    body = json.dumps({"patient_data": pce_patient()})
    for path in ("/predict/", "/predict?debug=1"):
        response = http.post(f"{api_url}{path}", data=body, headers={"Content-Type": JSON}, timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.text)


def test_healthz_answers_ok(http, api_url):
    response = http.get(f"{api_url}/healthz", timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    assert response.json() == {"status": "ok"}


def test_healthz_answers_head(http, api_url):
    response = http.head(f"{api_url}/healthz", timeout=TIMEOUT)
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Hostile and random bodies
# ---------------------------------------------------------------------------------------------


def random_json_value(rng: random.Random, depth: int = 0):
    choices = ["null", "bool", "int", "float", "string", "unicode"]
    if depth < 4:
        choices += ["array", "object"]
    kind = rng.choice(choices)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 1, 55, 2**31, -(2**63), 2**64, 10**30])
    if kind == "float":
        return rng.choice([0.5, -0.0, 1e-300, 1.7e308, -1.7e308, 123.456, 5e-324])
    if kind == "string":
        return rng.choice(["", "male", "female", "mmol/L", "x" * 1000, "55", "true"])
    if kind == "unicode":
        return rng.choice(["\u00e9\u00e8", "\U0001f4a9", "\u202e", "\x00", "\ud7ff", "\uffff", "\u0000male"])
    if kind == "array":
        return [random_json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["age", "sex", "race", "cholesterol", "total_cholesterol", "hdl_cholesterol", "systolic_bp",
            "smoker", "egfr", "cholesterol_unit", "patient_data", "instances", "model", "\U0001f9ea", "a/b~c", ""]
    return {rng.choice(keys): random_json_value(rng, depth + 1) for _ in range(rng.randint(0, 6))}


def hostile_bodies(count: int) -> list[bytes]:
    fixed = [
        b"[" * 10000,
        b"{" * 10000,
        b'{"a":' * 10000,
        b"[" * 10000 + b"]" * 10000,
        b'{"patient_data":' * 5000 + b"{}" + b"}" * 5000,
        b'{"patient_data": {"age": 1e400}}',
        b'{"patient_data": {"age": -1e400}}',
        b'{"patient_data": {"age": 1' + b"0" * 5000 + b"}}",
        b'{"patient_data": {"age": 0.' + b"0" * 5000 + b"1}}",
        b'{"patient_data": {"age": NaN}}',
        b'{"patient_data": {"age": "NaN"}}',
        b'{"patient_data": {"age": null, "sex": null}}',
        b'{"patient_data": [], "model": null}',
        b'{"instances": [[]]}',
        b'{"instances": [null, null]}',
        b'{"instances": {"0": {}}}',
        b'{"patient_data": {"\\ud800": 1}}',
        b'{"patient_data": {"sex": "\\udc00"}}',
        b"\xef\xbb\xbf{}",
        b"\x00\x00\x00",
        b'{"patient_data": {}, "patient_data": {"age": 55}}',
        "{\"patient_data\": {\"\u00e2ge\": 55}}".encode(),
        b" " * 60000,
        b"",
    ]
    rng = random.Random(20240601)
    bodies = list(fixed)
    while len(bodies) < count:
        body = {}
        if rng.random() < 0.7:
            body["patient_data"] = random_json_value(rng)
        if rng.random() < 0.3:
            body["instances"] = [random_json_value(rng) for _ in range(rng.randint(0, 5))]
        if rng.random() < 0.3:
            body["model"] = random_json_value(rng, depth=3)
        text = json.dumps(body if rng.random() < 0.9 else random_json_value(rng))
        if rng.random() < 0.15:
            text = text[: rng.randint(0, len(text))]
        bodies.append(text.encode())
    return bodies[:count]


def test_two_hundred_hostile_bodies_never_cause_a_server_error(http, api_url):
    statuses = {}
    for index, body in enumerate(hostile_bodies(200)):
        response = post_predict(http, api_url, body)
        assert response.status_code < 500, (index, body[:200], response.status_code, response.text[:500])
        assert response.status_code in {200, 400, 413, 422}, (index, body[:200], response.text[:500])
        if response.status_code != 200:
            assert response.headers["content-type"].startswith(PROBLEM_JSON)
            response.json()
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses.get(400, 0) > 0 and statuses.get(422, 0) > 0, statuses
    assert_answers(http, api_url)

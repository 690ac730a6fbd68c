"""The Open Inference Protocol (KServe V2) endpoints over real HTTP, in JSON, in the binary tensor
extension built by hand, and through `tritonclient.http` with its default settings.

Every request goes to the loopback `api_url` fixture with a timeout.
"""

from __future__ import annotations

import json
import random
import struct
from urllib.parse import urlparse

import numpy as np
import pytest
import requests
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

TIMEOUT = 15
JSON = "application/json"
HEADER_LENGTH = "Inference-Header-Content-Length"
MODELS = ["pce-2013", "prevent-2023"]
VERSION = "1.0.0"

NUMBER_FIELDS = {"age", "total_cholesterol", "hdl_cholesterol", "systolic_bp", "egfr"}
FLAG_FIELDS = {"on_bp_treatment", "smoker", "diabetic", "on_statin"}
TEXT_FIELDS = {"sex", "race", "cholesterol_unit"}
DATATYPE = {
    **dict.fromkeys(NUMBER_FIELDS, "FP64"),
    **dict.fromkeys(FLAG_FIELDS, "BOOL"),
    **dict.fromkeys(TEXT_FIELDS, "BYTES"),
}

MODEL_INPUTS = {
    "pce-2013": ["age", "sex", "race", "total_cholesterol", "hdl_cholesterol", "cholesterol_unit",
                 "systolic_bp", "on_bp_treatment", "smoker", "diabetic"],
    "prevent-2023": ["age", "sex", "total_cholesterol", "hdl_cholesterol", "cholesterol_unit",
                     "systolic_bp", "on_bp_treatment", "smoker", "diabetic", "egfr", "on_statin"],
}
MODEL_OUTCOMES = {"pce-2013": ["ascvd"], "prevent-2023": ["total_cvd", "ascvd"]}

# Three different patients per model, every field each model reads.
PATIENTS = {
    "pce-2013": [
        {"age": 55, "sex": "female", "race": "white", "total_cholesterol": 213, "hdl_cholesterol": 50,
         "systolic_bp": 120, "on_bp_treatment": False, "smoker": False, "diabetic": False},
        {"age": 67, "sex": "male", "race": "african_american", "total_cholesterol": 250, "hdl_cholesterol": 38,
         "systolic_bp": 152, "on_bp_treatment": True, "smoker": True, "diabetic": False},
        {"age": 48.5, "sex": "female", "race": "other", "total_cholesterol": 190.5, "hdl_cholesterol": 61,
         "systolic_bp": 134, "on_bp_treatment": False, "smoker": True, "diabetic": True},
    ],
    "prevent-2023": [
        {"age": 50, "sex": "female", "total_cholesterol": 200, "hdl_cholesterol": 45, "systolic_bp": 160,
         "on_bp_treatment": True, "smoker": False, "diabetic": True, "egfr": 90, "on_statin": False},
        {"age": 72, "sex": "male", "total_cholesterol": 240, "hdl_cholesterol": 35, "systolic_bp": 145,
         "on_bp_treatment": True, "smoker": True, "diabetic": False, "egfr": 48, "on_statin": True},
        {"age": 38, "sex": "female", "total_cholesterol": 170, "hdl_cholesterol": 72, "systolic_bp": 104,
         "on_bp_treatment": False, "smoker": False, "diabetic": False, "egfr": 118.5, "on_statin": False},
    ],
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def client(api_url) -> triton.InferenceServerClient:
    """A tritonclient with default settings; it wants host:port without a scheme."""
    client = triton.InferenceServerClient(urlparse(api_url).netloc)
    yield client
    client.close()


def get(http, api_url, path) -> requests.Response:
    return http.get(f"{api_url}{path}", timeout=TIMEOUT)


def get_json(http, api_url, path) -> dict:
    response = get(http, api_url, path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    return response.json()


def json_tensors(patients: list[dict]) -> list[dict]:
    """One JSON input tensor of shape [N] per field the patients have."""
    return [
        {"name": name, "datatype": DATATYPE[name], "shape": [len(patients)], "data": [p[name] for p in patients]}
        for name in patients[0]
    ]


def post_infer(http, api_url, model, body, headers=None, version=None) -> requests.Response:
    path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
    data = json.dumps(body) if isinstance(body, dict) else body
    headers = {"Content-Type": JSON} if headers is None else headers
    return http.post(f"{api_url}{path}", data=data, headers=headers, timeout=TIMEOUT)


def infer_ok(http, api_url, model, body, **kwargs) -> dict:
    response = post_infer(http, api_url, model, body, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(JSON)
    return response.json()


def outputs_by_name(result: dict) -> dict[str, list]:
    return {output["name"]: output["data"] for output in result["outputs"]}


def assert_protocol_error(response: requests.Response, status: int, *, not_containing=()) -> str:
    """The response is the protocol's `{"error": "..."}` with this status; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"]
    for text in not_containing:
        assert text not in response.text, f"{text!r} echoed: {response.text}"
    return body["error"]


def predictions(http, api_url, model, patients) -> list[dict]:
    """/predict's answers for the same patients, the reference for the protocol's outputs."""
    response = http.post(
        f"{api_url}/predict", json={"instances": patients, "model": model}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert all(r["status"] == 200 for r in results), results
    return results


def encode_binary(name: str, values: list) -> bytes:
    datatype = DATATYPE[name]
    if datatype == "FP64":
        return struct.pack(f"<{len(values)}d", *values)
    if datatype == "BOOL":
        return bytes(1 if v else 0 for v in values)
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def binary_body(
    tensors: list[tuple[str, str, list[int], bytes]], header_extra: dict | None = None
) -> tuple[bytes, dict]:
    """A binary-extension request: (name, datatype, shape, raw bytes) per input."""
    header = {
        "inputs": [
            {"name": name, "datatype": datatype, "shape": shape, "parameters": {"binary_data_size": len(raw)}}
            for name, datatype, shape, raw in tensors
        ],
        **(header_extra or {}),
    }
    json_part = json.dumps(header).encode()
    body = json_part + b"".join(raw for *_, raw in tensors)
    return body, {HEADER_LENGTH: str(len(json_part)), "Content-Type": "application/octet-stream"}


def binary_patients(patients: list[dict]) -> list[tuple[str, str, list[int], bytes]]:
    return [
        (name, DATATYPE[name], [len(patients)], encode_binary(name, [p[name] for p in patients]))
        for name in patients[0]
    ]


def decode_binary_response(response: requests.Response) -> dict[str, list]:
    """Outputs of a response that may carry binary tensors after its JSON part."""
    length = int(response.headers.get(HEADER_LENGTH, len(response.content)))
    header = json.loads(response.content[:length])
    rest = response.content[length:]
    outputs = {}
    for output in header["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if size is None:
            outputs[output["name"]] = output["data"]
            continue
        raw, rest = rest[:size], rest[size:]
        if output["datatype"] == "FP64":
            outputs[output["name"]] = list(struct.unpack(f"<{size // 8}d", raw))
        else:
            texts = []
            while raw:
                (n,) = struct.unpack("<I", raw[:4])
                texts.append(raw[4 : 4 + n].decode())
                raw = raw[4 + n :]
            outputs[output["name"]] = texts
    assert rest == b""
    return outputs


def triton_inputs(patients: list[dict]) -> list[triton.InferInput]:
    """InferInputs from numpy arrays with the client's default (binary) encoding."""
    inputs = []
    for name in patients[0]:
        values = [p[name] for p in patients]
        if DATATYPE[name] == "FP64":
            array = np.array(values, dtype=np.float64)
        elif DATATYPE[name] == "BOOL":
            array = np.array(values, dtype=np.bool_)
        else:
            array = np.array(values, dtype=np.object_)
        tensor = triton.InferInput(name, list(array.shape), DATATYPE[name])
        tensor.set_data_from_numpy(array)
        inputs.append(tensor)
    return inputs


def assert_answers(http, api_url) -> None:
    assert get_json(http, api_url, "/v2/health/live") == {"live": True}


# ---------------------------------------------------------------------------------------------
# Server and model metadata, health
# ---------------------------------------------------------------------------------------------


def test_server_metadata_names_the_server_and_the_binary_extension(http, api_url):
    metadata = get_json(http, api_url, "/v2")
    assert metadata["name"] == "healthcare-model-service"
    assert isinstance(metadata["version"], str) and metadata["version"]
    assert "binary_tensor_data" in metadata["extensions"]


def test_the_server_is_live_and_ready(http, api_url):
    assert get_json(http, api_url, "/v2/health/live") == {"live": True}
    assert get_json(http, api_url, "/v2/health/ready") == {"ready": True}


@pytest.mark.parametrize("model", MODELS)
def test_model_metadata_lists_patient_fields_as_inputs_and_the_risks_as_outputs(http, api_url, model):
    metadata = get_json(http, api_url, f"/v2/models/{model}")

    assert metadata["name"] == model
    assert metadata["versions"] == [VERSION]
    assert [i["name"] for i in metadata["inputs"]] == MODEL_INPUTS[model]
    for tensor in metadata["inputs"]:
        assert tensor["datatype"] == DATATYPE[tensor["name"]]
        assert tensor["shape"] == [-1]
    expected_outputs = ["risk"] + [f"{o}_risk" for o in MODEL_OUTCOMES[model]] + ["category"]
    assert [o["name"] for o in metadata["outputs"]] == expected_outputs
    assert {o["name"]: o["datatype"] for o in metadata["outputs"]} == {
        **{name: "FP64" for name in expected_outputs[:-1]},
        "category": "BYTES",
    }
    assert all(o["shape"] == [-1] for o in metadata["outputs"])


@pytest.mark.parametrize("model", MODELS)
def test_a_model_is_ready(http, api_url, model):
    assert get_json(http, api_url, f"/v2/models/{model}/ready") == {"name": model, "ready": True}


@pytest.mark.parametrize("model", MODELS)
def test_the_models_only_version_answers_like_the_unversioned_paths(http, api_url, model):
    base = f"/v2/models/{model}"
    versioned = f"{base}/versions/{VERSION}"
    assert get_json(http, api_url, versioned) == get_json(http, api_url, base)
    assert get_json(http, api_url, f"{versioned}/ready") == get_json(http, api_url, f"{base}/ready")
    patients = PATIENTS[model]
    result = infer_ok(http, api_url, model, {"inputs": json_tensors(patients)}, version=VERSION)
    assert result["model_version"] == VERSION
    unversioned = infer_ok(http, api_url, model, {"inputs": json_tensors(patients)})
    assert outputs_by_name(result) == outputs_by_name(unversioned)


@pytest.mark.parametrize("suffix", ["", "/ready", "/infer"])
@pytest.mark.parametrize("version", ["2.0.0", "1.0", "latest"])
def test_an_unknown_version_is_not_found(http, api_url, suffix, version):
    path = f"/v2/models/pce-2013/versions/{version}{suffix}"
    if suffix == "/infer":
        body = {"inputs": json_tensors(PATIENTS["pce-2013"])}
        response = post_infer(http, api_url, "pce-2013", body, version=version)
    else:
        response = get(http, api_url, path)
    message = assert_protocol_error(response, 404)
    assert VERSION in message
    assert version not in message.replace(VERSION, "")


@pytest.mark.parametrize("suffix", ["", "/ready", "/versions/1.0.0", "/infer"])
@pytest.mark.parametrize("model", ["nope", "PCE-2013", "pce-2013x", "%00"])
def test_an_unknown_model_is_404_with_an_error(http, api_url, suffix, model):
    if suffix == "/infer":
        response = post_infer(http, api_url, model, {"inputs": json_tensors(PATIENTS["pce-2013"])})
    else:
        response = get(http, api_url, f"/v2/models/{model}{suffix}")
    message = assert_protocol_error(response, 404)
    assert "pce-2013" in message and "prevent-2023" in message


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/v2/models/pce-2013/infer", "POST"),
        ("PUT", "/v2/models/prevent-2023/infer", "POST"),
        ("POST", "/v2/models/pce-2013", "GET, HEAD"),
        ("POST", "/v2/models/pce-2013/ready", "GET, HEAD"),
        ("DELETE", "/v2", "GET, HEAD"),
        ("POST", "/v2/health/live", "GET, HEAD"),
        ("PATCH", "/v2/health/ready", "GET, HEAD"),
    ],
)
def test_a_wrong_method_is_405_with_the_allowed_methods(http, api_url, method, path, allow):
    response = http.request(method, f"{api_url}{path}", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json()["status"] == 405


@pytest.mark.parametrize(
    "path",
    [
        "/v2/models/pce-2013/predict",
        "/v2/models/pce-2013/versions",
        "/v2/models/pce-2013/versions/1.0.0/x",
        "/v2/health/started",
    ],
)
def test_an_unknown_protocol_path_is_404(http, api_url, path):
    assert get(http, api_url, path).status_code == 404


# ---------------------------------------------------------------------------------------------
# Inference in JSON
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_json_inference_of_three_patients_matches_predict(http, api_url, model):
    patients = PATIENTS[model]

    result = infer_ok(http, api_url, model, {"inputs": json_tensors(patients)})

    assert result["model_name"] == model and result["model_version"] == VERSION
    outputs = outputs_by_name(result)
    expected = predictions(http, api_url, model, patients)
    assert outputs["risk"] == [p["risk"] for p in expected]
    for outcome in MODEL_OUTCOMES[model]:
        assert outputs[f"{outcome}_risk"] == [p["outcomes"][outcome] for p in expected]
    assert outputs["category"] == [p["category"] for p in expected]
    for output in result["outputs"]:
        assert output["shape"] == [3]
    assert len({round(r, 12) for r in outputs["risk"]}) == 3


def test_prevent_worked_example_over_the_protocol(http, api_url):
    patients = [dict(PATIENTS["prevent-2023"][0], sex=sex) for sex in ("female", "male")]
    outputs = outputs_by_name(infer_ok(http, api_url, "prevent-2023", {"inputs": json_tensors(patients)}))
    assert outputs["total_cvd_risk"] == pytest.approx([0.1468, 0.1632], abs=1e-3)
    assert outputs["ascvd_risk"] == pytest.approx([0.0920, 0.1019], abs=1e-3)


def test_optional_inputs_may_be_left_out(http, api_url):
    required = {"age", "sex", "total_cholesterol", "hdl_cholesterol", "systolic_bp"}
    patients = [{k: v for k, v in p.items() if k in required} for p in PATIENTS["pce-2013"]]
    outputs = outputs_by_name(infer_ok(http, api_url, "pce-2013", {"inputs": json_tensors(patients)}))
    expected = predictions(http, api_url, "pce-2013", patients)
    assert outputs["risk"] == [p["risk"] for p in expected]


@pytest.mark.parametrize("model", MODELS)
def test_cholesterol_in_mmol_per_litre_gives_the_same_risks_over_the_protocol(http, api_url, model):
    patients = PATIENTS[model]
    in_mmol = [
        dict(p, total_cholesterol=p["total_cholesterol"] / 38.67, hdl_cholesterol=p["hdl_cholesterol"] / 38.67,
             cholesterol_unit="mmol/L")
        for p in patients
    ]
    mg_dl = outputs_by_name(infer_ok(http, api_url, model, {"inputs": json_tensors(patients)}))["risk"]
    mmol_l = outputs_by_name(infer_ok(http, api_url, model, {"inputs": json_tensors(in_mmol)}))["risk"]
    assert mmol_l == pytest.approx(mg_dl, abs=1e-9)


def test_other_numeric_datatypes_and_nested_shapes_are_accepted_for_numbers(http, api_url):
    patients = PATIENTS["pce-2013"]
    tensors = json_tensors(patients)
    for tensor in tensors:
        if tensor["name"] == "age":
            tensor.update(datatype="INT64", data=[55, 67, 48])
        if tensor["name"] == "systolic_bp":
            tensor.update(shape=[3, 1], data=[[v] for v in tensor["data"]])
    outputs = outputs_by_name(infer_ok(http, api_url, "pce-2013", {"inputs": tensors}))
    expected = predictions(http, api_url, "pce-2013", [dict(patients[i], age=a) for i, a in enumerate([55, 67, 48])])
    assert outputs["risk"] == [p["risk"] for p in expected]


@pytest.mark.parametrize("model", MODELS)
def test_outputs_selects_which_tensors_are_returned_in_that_order(http, api_url, model):
    names = ["category", f"{MODEL_OUTCOMES[model][-1]}_risk"]
    body = {"inputs": json_tensors(PATIENTS[model]), "outputs": [{"name": n} for n in names]}

    result = infer_ok(http, api_url, model, body)

    assert [o["name"] for o in result["outputs"]] == names


def test_an_unknown_output_is_refused(http, api_url):
    body = {"inputs": json_tensors(PATIENTS["pce-2013"]), "outputs": [{"name": "total_cvd_risk"}]}
    message = assert_protocol_error(post_infer(http, api_url, "pce-2013", body), 400)
    assert "ascvd_risk" in message


def test_the_request_id_is_echoed(http, api_url):
    body = {"id": "req-42/\u00e9", "inputs": json_tensors(PATIENTS["pce-2013"])}
    assert infer_ok(http, api_url, "pce-2013", body)["id"] == "req-42/\u00e9"


def test_a_request_id_is_generated_when_absent_and_differs_between_requests(http, api_url):
    body = {"inputs": json_tensors(PATIENTS["pce-2013"])}
    ids = [infer_ok(http, api_url, "pce-2013", body)["id"] for _ in range(3)]
    assert all(isinstance(i, str) and i for i in ids)
    assert len(set(ids)) == 3


def test_binary_outputs_can_be_requested_from_a_json_request(http, api_url):
    patients = PATIENTS["prevent-2023"]
    body = {"inputs": json_tensors(patients), "parameters": {"binary_data_output": True}}

    response = post_infer(http, api_url, "prevent-2023", body)

    assert response.status_code == 200
    assert HEADER_LENGTH.lower() in {k.lower() for k in response.headers}
    outputs = decode_binary_response(response)
    expected = predictions(http, api_url, "prevent-2023", patients)
    assert outputs["risk"] == [p["risk"] for p in expected]
    assert outputs["category"] == [p["category"] for p in expected]


# ---------------------------------------------------------------------------------------------
# Inference errors (400 and friends)
# ---------------------------------------------------------------------------------------------


def without(tensors: list[dict], name: str) -> list[dict]:
    return [t for t in tensors if t["name"] != name]


def replace(tensors: list[dict], name: str, **changes) -> list[dict]:
    return [dict(t, **changes) if t["name"] == name else t for t in tensors]


PCE_TENSORS = json_tensors(PATIENTS["pce-2013"])
PREVENT_TENSORS = json_tensors(PATIENTS["prevent-2023"])

# Distinctive values some bad requests send; no error may repeat them.
SENT_VALUES = ["Xyzzy", "55.123", "fifty-five", "48.5", "190.5"]


def pce_with(name: str, **changes) -> dict:
    """The three PCE patients as JSON tensors, with one tensor changed."""
    return {"inputs": replace(PCE_TENSORS, name, **changes)}


def pce_plus(*tensors: dict) -> dict:
    return {"inputs": PCE_TENSORS + list(tensors)}


def pce_dropping_key(key: str) -> dict:
    return {"inputs": [{k: v for k, v in t.items() if k != key} for t in PCE_TENSORS]}


ALIAS_OF_TOTAL_CHOLESTEROL = dict(next(t for t in PCE_TENSORS if t["name"] == "total_cholesterol"), name="cholesterol")
SMOKING = {"name": "smoking", "datatype": "BOOL", "shape": [3], "data": [True] * 3}

# name: (model, body, what the error must mention)
BAD_REQUESTS = {
    "missing required systolic_bp": ("pce-2013", {"inputs": without(PCE_TENSORS, "systolic_bp")}, "systolic_bp"),
    "missing required egfr": ("prevent-2023", {"inputs": without(PREVENT_TENSORS, "egfr")}, "egfr"),
    "FP64 sex": ("pce-2013", pce_with("sex", datatype="FP64", data=[1, 0, 1]), "sex"),
    "BYTES age": ("pce-2013", pce_with("age", datatype="BYTES", data=["55.123", "67", "48"]), "age"),
    "BOOL age": ("pce-2013", pce_with("age", datatype="BOOL", data=[True, True, True]), "age"),
    "FP64 smoker": ("pce-2013", pce_with("smoker", datatype="FP64", data=[0, 1, 0]), "smoker"),
    "unknown datatype": ("pce-2013", pce_with("age", datatype="FP128"), "age"),
    "strings in FP64 data": ("pce-2013", pce_with("age", data=["fifty-five", "67", "48"]), "age"),
    "invalid sex": ("pce-2013", pce_with("sex", data=["female", "Xyzzy", "female"]), "sex"),
    "mismatched lengths": ("pce-2013", pce_with("age", shape=[2], data=[55, 67]), "same number"),
    "shape larger than data": ("pce-2013", pce_with("age", shape=[4]), "age"),
    "shape smaller than data": ("pce-2013", pce_with("hdl_cholesterol", shape=[2]), "hdl_cholesterol"),
    "negative shape": ("pce-2013", pce_with("age", shape=[-1]), "age"),
    "missing shape": ("pce-2013", pce_dropping_key("shape"), "shape"),
    "missing data": ("pce-2013", pce_dropping_key("data"), "data"),
    "unknown input": ("pce-2013", pce_plus(SMOKING), "smoking"),
    "input without a name": ("pce-2013", pce_plus({k: v for k, v in SMOKING.items() if k != "name"}), "name"),
    "input given twice": ("pce-2013", pce_plus(PCE_TENSORS[0]), "twice"),
    "input given under its alias too": ("pce-2013", pce_plus(ALIAS_OF_TOTAL_CHOLESTEROL), "total_cholesterol"),
    "no inputs": ("pce-2013", {"inputs": []}, "patients"),
    "inputs not an array": ("pce-2013", {"inputs": {"age": [55]}}, "inputs"),
    "zero patients": ("pce-2013", {"inputs": [dict(t, shape=[0], data=[]) for t in PCE_TENSORS]}, "patients"),
    "outputs not an array": ("pce-2013", {"inputs": PCE_TENSORS, "outputs": "risk"}, "outputs"),
    "body not an object": ("pce-2013", [], "inputs"),
}


@pytest.mark.parametrize(("model", "body", "mentions"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_an_invalid_inference_request_is_400_with_an_error(http, api_url, model, body, mentions):
    data = json.dumps(body)
    message = assert_protocol_error(post_infer(http, api_url, model, data), 400, not_containing=SENT_VALUES)
    assert mentions in message


def test_more_than_1000_patients_are_refused(http, api_url):
    patients = PATIENTS["pce-2013"] * 334
    message = assert_protocol_error(post_infer(http, api_url, "pce-2013", {"inputs": json_tensors(patients)}), 400)
    assert "1000" in message


def test_1000_patients_are_scored_in_one_call(http, api_url):
    patients = (PATIENTS["pce-2013"] * 334)[:1000]
    outputs = outputs_by_name(infer_ok(http, api_url, "pce-2013", {"inputs": json_tensors(patients)}))
    assert len(outputs["risk"]) == 1000
    assert outputs["risk"][:3] == outputs["risk"][3:6]


OUT_OF_RANGE = [
    ("pce-2013", "age", 123.456, "between 40 and 79"),
    ("pce-2013", "systolic_bp", 234.567, "between 90 and 200"),
    ("pce-2013", "total_cholesterol", 987.654, "between 130 and 320"),
    ("pce-2013", "hdl_cholesterol", 1.23456, "between 20 and 100"),
    ("prevent-2023", "age", 12.3456, "between 30 and 79"),
    ("prevent-2023", "systolic_bp", 181.234, "between 90 and 180"),
    ("prevent-2023", "egfr", 456.789, "between 15 and 140"),
    ("prevent-2023", "hdl_cholesterol", 654.321, "between 20 and 100"),
]


@pytest.mark.parametrize(("model", "field", "value", "range_text"), OUT_OF_RANGE)
def test_an_out_of_range_input_is_400_naming_patient_field_and_range_but_not_the_value(
    http, api_url, model, field, value, range_text
):
    patients = [dict(p) for p in PATIENTS[model]]
    patients[1][field] = value

    message = assert_protocol_error(
        post_infer(http, api_url, model, {"inputs": json_tensors(patients)}), 400, not_containing=[str(value)]
    )

    assert "patient 1" in message and field in message and range_text in message


@pytest.mark.parametrize(
    "body",
    ["{", "", "not json", '{"inputs": [', b"\xff\xfe"],
)
def test_an_inference_body_that_is_not_json_is_400(http, api_url, body):
    message = assert_protocol_error(post_infer(http, api_url, "pce-2013", body), 400)
    assert "not valid JSON" in message


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data", "image/png"])
def test_an_inference_body_of_another_media_type_is_415(http, api_url, content_type):
    body = json.dumps({"inputs": PCE_TENSORS})
    response = post_infer(http, api_url, "pce-2013", body, headers={"Content-Type": content_type})
    assert "JSON" in assert_protocol_error(response, 415)


def test_an_inference_body_curl_labels_as_a_form_is_read_as_json(http, api_url):
    """`curl -d @input.json`, as in KServe's documentation, sends JSON labelled as a form."""
    body = json.dumps({"inputs": PCE_TENSORS})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = post_infer(http, api_url, "pce-2013", body, headers=headers)
    assert response.status_code == 200, response.text


def test_an_inference_body_without_a_content_type_is_read_as_json(http, api_url):
    response = post_infer(http, api_url, "pce-2013", json.dumps({"inputs": PCE_TENSORS}), headers={})
    assert response.status_code == 200, response.text


def test_an_inference_body_over_1_mib_is_413(http, api_url):
    body = json.dumps({"inputs": PCE_TENSORS, "padding": "x" * (1024 * 1024)})
    assert "1048576" in assert_protocol_error(post_infer(http, api_url, "pce-2013", body), 413)
    assert_answers(http, api_url)


# ---------------------------------------------------------------------------------------------
# The binary tensor extension, by hand
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_a_hand_built_binary_request_matches_predict(http, api_url, model):
    patients = PATIENTS[model]
    body, headers = binary_body(binary_patients(patients), {"parameters": {"binary_data_output": True}})

    response = post_infer(http, api_url, model, body, headers=headers)

    assert response.status_code == 200, response.text
    outputs = decode_binary_response(response)
    expected = predictions(http, api_url, model, patients)
    assert outputs["risk"] == [p["risk"] for p in expected]
    assert outputs["category"] == [p["category"] for p in expected]


def test_binary_inputs_and_json_inputs_may_be_mixed(http, api_url):
    patients = PATIENTS["pce-2013"]
    binary = [t for t in binary_patients(patients) if t[0] in NUMBER_FIELDS]
    header = {
        "inputs": [
            {"name": n, "datatype": d, "shape": s, "parameters": {"binary_data_size": len(raw)}}
            for n, d, s, raw in binary
        ] + [t for t in json_tensors(patients) if t["name"] not in NUMBER_FIELDS],
    }
    json_part = json.dumps(header).encode()
    body = json_part + b"".join(raw for *_, raw in binary)
    headers = {HEADER_LENGTH: str(len(json_part))}

    response = post_infer(http, api_url, "pce-2013", body, headers=headers)

    assert response.status_code == 200, response.text
    expected = [p["risk"] for p in predictions(http, api_url, "pce-2013", patients)]
    assert response.json()["outputs"][0]["data"] == expected


def binary_with(name: str | None = None, **changes) -> tuple[bytes, dict]:
    """A valid binary request of the three PCE patients, with one tensor's datatype or raw
    bytes changed (its binary_data_size follows the bytes)."""
    tensors = []
    for tensor_name, datatype, shape, raw in binary_patients(PATIENTS["pce-2013"]):
        if tensor_name == name:
            datatype = changes.get("datatype", datatype)
            raw = changes.get("raw", raw)
        tensors.append((tensor_name, datatype, shape, raw))
    return binary_body(tensors)


def declared_size(name: str, size) -> tuple[bytes, dict]:
    """A valid binary request whose input `name` declares binary_data_size `size`, the bytes
    left as they are."""
    body, headers = binary_with()
    length = int(headers[HEADER_LENGTH])
    header = json.loads(body[:length])
    for tensor in header["inputs"]:
        if tensor["name"] == name:
            tensor["parameters"]["binary_data_size"] = size
    json_part = json.dumps(header).encode()
    return json_part + body[length:], dict(headers, **{HEADER_LENGTH: str(len(json_part))})


def header_length(value: str) -> tuple[bytes, dict]:
    return binary_with()[0], {HEADER_LENGTH: value}


def truncated(by: int) -> tuple[bytes, dict]:
    body, headers = binary_with()
    return body[:-by], headers


TWO_SEXES = encode_binary("sex", ["female", "male"])
NOT_UTF8 = struct.pack("<I", 2) + b"\xff\xfe"

BINARY_ERRORS = {
    "header length larger than the body": lambda: header_length("999999"),
    "header length not a number": lambda: header_length("12abc"),
    "header length negative": lambda: header_length("-5"),
    "header length cutting the JSON": lambda: header_length("10"),
    "body truncated inside the last tensor": lambda: truncated(2),
    "binary_data_size larger than the rest of the body": lambda: declared_size("diabetic", 1000),
    "binary_data_size smaller than the data, leaving bytes unclaimed": lambda: declared_size("diabetic", 2),
    "binary_data_size negative": lambda: declared_size("age", -8),
    "binary_data_size a string": lambda: declared_size("age", "24"),
    "binary_data_size fractional": lambda: declared_size("age", 23.5),
    "FP64 bytes not a multiple of 8": lambda: binary_with("age", raw=b"\x00" * 23),
    "BYTES length prefix beyond the data": lambda: binary_with("sex", raw=struct.pack("<I", 1000) + b"female"),
    "BYTES length prefix cut short": lambda: binary_with("sex", raw=TWO_SEXES + b"\x06\x00"),
    "BYTES huge length prefix": lambda: binary_with("sex", raw=b"\xff\xff\xff\xff" + b"male" * 3),
    "BYTES element not UTF-8": lambda: binary_with("sex", raw=TWO_SEXES + NOT_UTF8),
    "BYTES with fewer elements than the shape": lambda: binary_with("sex", raw=TWO_SEXES),
    "FP64 NaN": lambda: binary_with("age", raw=struct.pack("<3d", 55, float("nan"), 60)),
    "FP64 infinity": lambda: binary_with("systolic_bp", raw=struct.pack("<3d", 120, 130, float("inf"))),
    "FP16 is not supported": lambda: binary_with("age", datatype="FP16", raw=b"\x00\x53" * 3),
    "BOOL data for a number": lambda: binary_with("age", datatype="BOOL", raw=b"\x01\x01\x01"),
    "FP64 data for a flag": lambda: binary_with("smoker", datatype="FP64", raw=struct.pack("<3d", 0, 1, 0)),
    "BOOL with more bytes than the shape": lambda: binary_with("smoker", raw=b"\x00\x01\x00\x01"),
    "out-of-range binary age": lambda: binary_with("age", raw=struct.pack("<3d", 55, 123.456, 60)),
}


@pytest.mark.parametrize("make", BINARY_ERRORS.values(), ids=BINARY_ERRORS.keys())
def test_a_malformed_binary_request_is_400_with_an_error(http, api_url, make):
    body, headers = make()

    response = post_infer(http, api_url, "pce-2013", body, headers=headers)

    assert_protocol_error(response, 400, not_containing=["123.456"])


def test_other_numeric_binary_datatypes_are_read_as_numbers(http, api_url):
    patients = PATIENTS["pce-2013"]
    ages = [55, 67, 48]
    expected = predictions(http, api_url, "pce-2013", [dict(p, age=a) for p, a in zip(patients, ages)])
    for datatype, fmt in [("FP32", "f"), ("INT32", "i"), ("UINT8", "B"), ("INT64", "q"), ("UINT16", "H")]:
        body, headers = binary_with("age", datatype=datatype, raw=struct.pack(f"<3{fmt}", *ages))
        result = infer_ok(http, api_url, "pce-2013", body, headers=headers)
        assert result["outputs"][0]["data"] == [p["risk"] for p in expected], datatype


def test_fifty_hostile_inference_bodies_never_cause_a_server_error(http, api_url):
    rng = random.Random(7)
    valid, valid_headers = binary_with()
    length = int(valid_headers[HEADER_LENGTH])
    for index in range(50):
        choice = rng.randrange(5)
        headers = {"Content-Type": "application/octet-stream"}
        if choice == 0:  # random bytes after a valid JSON header
            body = valid[:length] + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
            headers[HEADER_LENGTH] = str(length)
        elif choice == 1:  # random header length
            body = valid
            headers[HEADER_LENGTH] = str(rng.choice([0, 1, length - 1, length + 1, len(valid), 2**64, -1]))
        elif choice == 2:  # flipped bytes in the binary part
            raw = bytearray(valid)
            for _ in range(8):
                position = rng.randrange(length, len(raw))
                raw[position] = rng.randrange(256)
            body = bytes(raw)
            headers[HEADER_LENGTH] = str(length)
        elif choice == 3:  # deep nesting in data
            body = json.dumps({"inputs": [{"name": "age", "datatype": "FP64", "shape": [1]}]})[:-3].encode()
            body += b', "data": ' + b"[" * rng.choice([100, 1000, 10000]) + b"]}]}"
            headers = {"Content-Type": JSON}
        else:  # random JSON shapes
            body = json.dumps({
                "inputs": [{"name": rng.choice(["age", "sex", "smoker", "x"]),
                            "datatype": rng.choice(["FP64", "BYTES", "BOOL", "INT8", ""]),
                            "shape": rng.choice([[1], [2, 2], [], [2**40, 2**40], [-3], "3"]),
                            "data": rng.choice([[1], [[1, 2], [3, 4]], "male", [None], [True], 1e308])}
                           for _ in range(rng.randrange(0, 4))],
                "outputs": rng.choice([None, [], [{"name": "risk"}], [{}], [1]]),
            }).encode()
            headers = {"Content-Type": JSON}
        response = post_infer(http, api_url, "pce-2013", body, headers=headers)
        assert response.status_code < 500, (index, body[:200], response.status_code, response.text[:300])
    assert_answers(http, api_url)


# ---------------------------------------------------------------------------------------------
# tritonclient with its default settings
# ---------------------------------------------------------------------------------------------


def test_tritonclient_sees_a_live_and_ready_server_and_models(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    for model in MODELS:
        assert client.is_model_ready(model)
        assert client.is_model_ready(model, model_version=VERSION)
    assert not client.is_model_ready("no-such-model")
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]


@pytest.mark.parametrize("model", MODELS)
def test_tritonclient_reads_model_metadata(client, model):
    metadata = client.get_model_metadata(model)
    assert metadata["name"] == model
    assert [i["name"] for i in metadata["inputs"]] == MODEL_INPUTS[model]
    assert metadata["outputs"][0] == {"name": "risk", "datatype": "FP64", "shape": [-1]}


@pytest.mark.parametrize("model", MODELS)
def test_tritonclient_binary_inference_with_a_requested_output_matches_predict(http, api_url, client, model):
    patients = PATIENTS[model]

    result = client.infer(model, triton_inputs(patients), outputs=[triton.InferRequestedOutput("risk")])

    expected = [p["risk"] for p in predictions(http, api_url, model, patients)]
    risk = result.as_numpy("risk")
    assert risk.dtype == np.float64 and risk.shape == (3,)
    assert risk.tolist() == expected
    assert result.as_numpy("category") is None
    assert result.get_response()["model_name"] == model


@pytest.mark.parametrize("model", MODELS)
def test_tritonclient_binary_inference_of_every_output_matches_predict(http, api_url, client, model):
    patients = PATIENTS[model]

    result = client.infer(model, triton_inputs(patients), outputs=None, request_id="triton-1")

    expected = predictions(http, api_url, model, patients)
    assert result.get_response()["id"] == "triton-1"
    assert result.as_numpy("risk").tolist() == [p["risk"] for p in expected]
    for outcome in MODEL_OUTCOMES[model]:
        assert result.as_numpy(f"{outcome}_risk").tolist() == [p["outcomes"][outcome] for p in expected]
    assert [c.decode() for c in result.as_numpy("category")] == [p["category"] for p in expected]


@pytest.mark.parametrize("model", MODELS)
def test_tritonclient_infers_with_the_models_version_and_refuses_another(http, api_url, client, model):
    patients = PATIENTS[model]
    result = client.infer(model, triton_inputs(patients), model_version=VERSION)
    assert result.as_numpy("risk").tolist() == [p["risk"] for p in predictions(http, api_url, model, patients)]

    with pytest.raises(InferenceServerException) as raised:
        client.infer(model, triton_inputs(patients), model_version="9.9.9")
    assert f"its only version is {VERSION}" in str(raised.value)


def test_tritonclient_json_inputs_and_outputs_also_work(http, api_url, client):
    patients = PATIENTS["prevent-2023"]
    inputs = triton_inputs(patients)
    for tensor, name in zip(inputs, patients[0]):
        values = [p[name] for p in patients]
        dtype = {"FP64": np.float64, "BOOL": np.bool_, "BYTES": np.object_}[DATATYPE[name]]
        tensor.set_data_from_numpy(np.array(values, dtype=dtype), binary_data=False)

    outputs = [triton.InferRequestedOutput("total_cvd_risk", binary_data=False)]
    result = client.infer("prevent-2023", inputs, outputs=outputs)

    expected = [p["outcomes"]["total_cvd"] for p in predictions(http, api_url, "prevent-2023", patients)]
    assert result.as_numpy("total_cvd_risk").tolist() == expected


def test_tritonclient_reports_an_out_of_range_value_without_echoing_it(client):
    patients = [dict(p) for p in PATIENTS["pce-2013"]]
    patients[2]["systolic_bp"] = 234.567

    with pytest.raises(InferenceServerException) as raised:
        client.infer("pce-2013", triton_inputs(patients))

    message = str(raised.value)
    assert "systolic_bp" in message and "between 90 and 200" in message
    assert "234.567" not in message


def test_tritonclient_reports_an_unknown_model(client):
    with pytest.raises(InferenceServerException) as raised:
        client.get_model_metadata("no-such-model")
    assert "unknown model" in str(raised.value)

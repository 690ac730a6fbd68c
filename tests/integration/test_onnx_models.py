"""A user's ONNX model served like the built-in equations (issue 14): the example
models/breast-cancer-lr answers through `/predict` and the Open Inference Protocol
(`tritonclient`) what onnxruntime answers for the same ONNX file, for 1,000 inputs drawn from
the training distribution, within 1e-5; its refusals name the feature and the range; and the
build step refuses what the engine cannot serve, at build time, naming the line, the input,
the node or the operator.

The inputs are tests/data/onnx/inputs.f32 (scripts/onnx-examples.py: the training rows
resampled with a little noise), kept inside the validated ranges model.toml declares."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import onnxruntime
import pytest
import requests
import tritonclient.http as triton

from tests.support.onnx_example import DESCRIPTION, MODEL, MODEL_DIR, NAMES, as_patient, inputs
from tests.support.paths import ROOT

TOLERANCE = 1e-5
TIMEOUT = 60


@pytest.fixture(scope="module")
def patients() -> np.ndarray:
    return inputs()


@pytest.fixture(scope="module")
def expected(patients) -> np.ndarray:
    """onnxruntime's probability of the declared output for each patient: the same float32
    numbers the component computes from (it reads each value as float32, as the model takes)."""
    session = onnxruntime.InferenceSession(str(MODEL_DIR / "model.onnx"), providers=["CPUExecutionProvider"])
    output = DESCRIPTION["output"]
    scores = session.run([output["onnx_output"]], {"float_input": patients.astype(np.float32)})[0]
    return scores[:, output["column"]].astype(np.float64)


def test_predict_answers_what_onnxruntime_answers_for_1000_patients(api_url, patients, expected):
    # Two batches of 500: 1,000 patients of 30 full-precision features are more than the
    # 1 MiB a request body may be.
    results = []
    for half in (patients[:500], patients[500:]):
        body = {"model": MODEL, "instances": [as_patient(row) for row in half]}
        response = requests.post(f"{api_url}/predict", json=body, timeout=TIMEOUT)
        assert response.status_code == 200, response.text[:2000]
        answer = response.json()
        assert answer["succeeded"] == 500
        results += answer["results"]
    risks = np.array([result["risk"] for result in results])
    difference = np.abs(risks - expected).max()
    assert difference <= TOLERANCE, difference
    first = results[0]
    assert first["outcomes"] == {"malignant": first["risk"]}
    assert first["model"] == MODEL and first["model_version"] == "1.0.0"
    assert first["category"] in ("likely_benign", "likely_malignant")
    assert first["prediction"] == {"likely_benign": "Likely Benign",
                                   "likely_malignant": "Likely Malignant"}[first["category"]]
    assert first["confidence"] is None and "contributions" not in first


def test_predict_for_one_patient_at_a_time_agrees(api_url, patients, expected):
    with requests.Session() as http:
        for index in range(0, 1000, 50):
            body = {"model": MODEL, "patient_data": as_patient(patients[index])}
            answer = http.post(f"{api_url}/predict", json=body, timeout=TIMEOUT).json()
            assert abs(answer["risk"] - expected[index]) <= TOLERANCE, (index, answer)


def test_tritonclient_answers_what_onnxruntime_answers_for_1000_patients(api_url, patients, expected):
    client = triton.InferenceServerClient(urlparse(api_url).netloc)
    try:
        assert client.is_model_ready(MODEL)
        metadata = client.get_model_metadata(MODEL)
        assert [i["name"] for i in metadata["inputs"]] == NAMES
        inputs = []
        for column, name in enumerate(NAMES):
            tensor = triton.InferInput(name, [len(patients)], "FP64")
            tensor.set_data_from_numpy(np.ascontiguousarray(patients[:, column]))
            inputs.append(tensor)
        result = client.infer(MODEL, inputs)
        risk = result.as_numpy("risk")
        assert np.abs(risk - expected).max() <= TOLERANCE
        assert np.array_equal(result.as_numpy("malignant_risk"), risk)
    finally:
        client.close()


def test_out_of_range_and_missing_features_are_refused_by_name(api_url, patients):
    patient = as_patient(patients[0])
    patient["mean_radius"] = 100.0
    del patient["worst_area"]
    response = requests.post(f"{api_url}/predict", json={"model": MODEL, "patient_data": patient},
                             timeout=TIMEOUT)
    assert response.status_code == 422, response.text
    problems = {e["field"]: e["detail"] for e in response.json()["errors"]}
    assert set(problems) == {"mean_radius", "worst_area"}
    assert problems["worst_area"] == "worst_area is required"
    assert problems["mean_radius"].startswith("mean_radius must be between 6.981 and 28.11 image units")
    assert "100" not in json.dumps(response.json())


def test_the_model_is_described_in_the_openapi_document(api_url):
    document = requests.get(f"{api_url}/openapi.json", timeout=TIMEOUT).json()
    assert f"/v2/models/{MODEL}/infer" in document["paths"]
    text = json.dumps(document)
    for name in ("mean_radius", "worst_fractal_dimension"):
        assert name in text


# --- the build step refuses, at build time ---------------------------------------------------

def build(tmp_path: Path, toml_text: str, onnx: Path) -> subprocess.CompletedProcess:
    """The build step scripts/build.sh runs for an ONNX model, on a description in `tmp_path`."""
    (tmp_path / "model.onnx").write_bytes(onnx.read_bytes())
    (tmp_path / "model.toml").write_text(toml_text)
    env = {**os.environ, "ONNX_MODEL": str(tmp_path / "model.toml")}
    return subprocess.run(
        ["cargo", "build", "--release", "--target", "wasm32-unknown-unknown", "-p", "onnx-model-component"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def refusal(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, "the build should have failed"
    lines = [line for line in result.stderr.splitlines() if line.strip().startswith("error: ")]
    assert lines, result.stderr[-3000:]
    return "\n".join(lines)


def test_a_feature_mapped_to_a_missing_input_fails_the_build_naming_the_line(tmp_path):
    text = (MODEL_DIR / "model.toml").read_text().replace('input = "float_input"\ncolumn = 7\n',
                                                         'input = "float_inputs"\ncolumn = 7\n')
    message = refusal(build(tmp_path, text, MODEL_DIR / "model.onnx"))
    line = text.splitlines().index('name = "mean_concave_points"')  # 0-based: the table's line
    assert re.search(rf"model\.toml line {line}: feature mean_concave_points: input float_inputs is not "
                     r"an input of .*model\.onnx \(its input: float_input\)", message), message


def test_a_wrong_shape_fails_the_build_naming_the_input_and_its_columns(tmp_path):
    text = (MODEL_DIR / "model.toml").read_text().replace("column = 29\n", "column = 30\n")
    message = refusal(build(tmp_path, text, MODEL_DIR / "model.onnx"))
    assert re.search(r"model\.toml line \d+: feature worst_fractal_dimension: column 30 is outside input "
                     r"float_input, which has 30 columns", message), message


def test_an_unsupported_operator_fails_the_build_naming_the_node_and_the_operator(tmp_path):
    # The same logistic regression exported with skl2onnx's defaults: its probabilities go
    # through ZipMap (a list of maps), which the engine does not evaluate.
    text = (MODEL_DIR / "model.toml").read_text().replace('onnx_output = "probabilities"',
                                                         'onnx_output = "output_probability"')
    message = refusal(build(tmp_path, text, ROOT / "tests" / "data" / "onnx" / "lr-zipmap.onnx"))
    assert re.search(r"model\.onnx: node \S+ \(operator ai\.onnx\.ml\.ZipMap\): operator not supported "
                     r"\(supported: Add, ", message), message

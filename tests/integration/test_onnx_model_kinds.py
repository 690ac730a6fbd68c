"""Every model kind the ONNX engine supports, served end to end (issue 14): in a copy of the
project, the six models of tests/data/onnx (logistic regression and an MLP behind a standard
scaler, gradient boosting, a random forest, LightGBM, XGBoost; scripts/onnx-examples.py) are
each described by a model.toml (the example's, renamed) and listed in spin.toml; the copy is
built with scripts/build.sh and served by Spin. For each, 1,000 patients through `/predict`
and through `tritonclient` get onnxruntime's probabilities within 1e-5."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import numpy as np
import onnxruntime
import pytest
import requests
import tritonclient.http as triton

from tests.support.onnx_example import DATA, NAMES, as_patient, inputs
from tests.support.paths import ROOT
from tests.support.project import copy_project, run
from tests.support.spin import SPIN, start_spin

KINDS = ["lr", "gbm", "rf", "mlp", "lgbm", "xgb"]
TOLERANCE = 1e-5
TIMEOUT = 60


def name(kind: str) -> str:
    return f"breast-cancer-{kind}-test"


@pytest.fixture(scope="module")
def kinds_url(tmp_path_factory):
    if not SPIN:
        pytest.skip("needs spin on PATH (scripts/test.sh runs it with Spin)")
    directory = tmp_path_factory.mktemp("onnx-kinds")
    project = directory / "project"
    copy_project(project)
    example = (ROOT / "models" / "breast-cancer-lr" / "model.toml").read_text()
    listed = []
    for kind in KINDS:
        folder = project / "models" / name(kind)
        folder.mkdir(parents=True)
        shutil.copy2(DATA / f"{kind}.onnx", folder / "model.onnx")
        (folder / "model.toml").write_text(example.replace('name = "breast-cancer-lr"', f'name = "{name(kind)}"', 1))
        listed.append(f'    "target/components/{name(kind)}.wasm",\n')
    manifest = project / "spin.toml"
    text = manifest.read_text()
    anchor = '    "target/components/breast-cancer-lr.wasm",\n'
    assert anchor in text
    manifest.write_text(text.replace(anchor, anchor + "".join(listed)))
    run(["scripts/build.sh", "api"], project)
    url, process = start_spin(manifest, directory / "state")
    yield url
    process.stop()


@pytest.fixture(scope="module")
def patients() -> np.ndarray:
    return inputs()


def onnxruntime_malignant(kind: str, patients: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(DATA / f"{kind}.onnx"), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"float_input": patients.astype(np.float32)})[0][:, 0].astype(np.float64)


@pytest.mark.parametrize("kind", KINDS)
def test_predict_and_tritonclient_answer_what_onnxruntime_answers(kinds_url, patients, kind):
    expected = onnxruntime_malignant(kind, patients)
    risks = []
    for half in (patients[:500], patients[500:]):
        body = {"model": name(kind), "instances": [as_patient(row) for row in half]}
        response = requests.post(f"{kinds_url}/predict", json=body, timeout=TIMEOUT)
        assert response.status_code == 200, response.text[:2000]
        risks += [result["risk"] for result in response.json()["results"]]
    assert np.abs(np.array(risks) - expected).max() <= TOLERANCE

    client = triton.InferenceServerClient(urlparse(kinds_url).netloc)
    try:
        inputs = []
        for column, feature in enumerate(NAMES):
            tensor = triton.InferInput(feature, [len(patients)], "FP64")
            tensor.set_data_from_numpy(np.ascontiguousarray(patients[:, column]))
            inputs.append(tensor)
        risk = client.infer(name(kind), inputs).as_numpy("risk")
    finally:
        client.close()
    assert np.abs(risk - expected).max() <= TOLERANCE

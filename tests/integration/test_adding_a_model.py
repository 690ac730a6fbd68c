"""Adding a model is one entry in spin.toml: in a copy of the project whose only change is one
more path in `[component.api.tool.model-api] models`, `scripts/build.sh` builds and composes it
and the model is served at /predict, in /v2/models and in /openapi.json with its own features.

The extra model is the Kidney Failure Risk Equation under a second name with its own `info()`
(`kfre-copy`), built outside the project as any user's model would be: a crate of its own that
depends on `model-component` and `risk-models`. The build's artifacts are copied into the copy
first, so that only the project's own crates compile again."""

from __future__ import annotations

import os
import shutil

import pytest
import requests

from tests.support.paths import ROOT
from tests.support.project import copy_project, run
from tests.support.spin import SPIN, start_spin

TIMEOUT = 15
NAME = "kfre-copy"
PATIENT = {"age": 63, "sex": "female", "egfr": 45, "urine_acr": 30, "region": "north_american"}

MODEL_CRATE = '''[package]
name = "kfre-copy-component"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
model-component = {{ path = "{project}/crates/model-component" }}
risk-models = {{ path = "{project}/crates/risk-models" }}

[profile.release]
opt-level = "s"
panic = "abort"

[workspace]
'''

MODEL_SOURCE = '''//! The KFRE under another name: a model of its own as far as the API can tell.
use risk_models::description::ModelDescription;
use risk_models::{FieldValue, Kfre, TabularModel, TabularPrediction, ValidationErrors};

struct Copy;

impl TabularModel for Copy {
    fn name(&self) -> &'static str {
        "kfre-copy"
    }

    fn describe(&self) -> ModelDescription {
        ModelDescription { name: "kfre-copy", title: "A copy of the KFRE", ..Kfre.describe() }
    }

    fn predict_features(
        &self,
        given: &[(&str, FieldValue<'_>)],
    ) -> Result<TabularPrediction, ValidationErrors> {
        Kfre.predict_features(given)
    }
}

model_component::model_component!(Copy);
'''


def build_extra_model(directory, project) -> str:
    """The extra model's component, built outside the project with the project's lock file."""
    crate = directory / "kfre-copy"
    (crate / "src").mkdir(parents=True)
    (crate / "Cargo.toml").write_text(MODEL_CRATE.format(project=project))
    (crate / "src" / "lib.rs").write_text(MODEL_SOURCE)
    shutil.copy2(ROOT / "Cargo.lock", crate / "Cargo.lock")
    env = {**os.environ, "CARGO_TARGET_DIR": str(project / "target")}
    run(["cargo", "build", "--offline", "--release", "--target", "wasm32-unknown-unknown"], crate, env)
    module = project / "target" / "wasm32-unknown-unknown" / "release" / "kfre_copy_component.wasm"
    component = directory / f"{NAME}.wasm"
    run(["wasm-tools", "component", "new", str(module), "-o", str(component)], crate)
    return str(component)


@pytest.fixture(scope="module")
def extended_url(tmp_path_factory):
    if not SPIN:
        pytest.skip("needs spin on PATH (scripts/test.sh runs it with Spin)")
    directory = tmp_path_factory.mktemp("adding-a-model")
    project = directory / "project"
    copy_project(project)
    component = build_extra_model(directory, project)
    manifest = project / "spin.toml"
    text = manifest.read_text()
    listed = '    "target/components/kfre-2016.wasm",\n'
    assert listed in text
    manifest.write_text(text.replace(listed, f'{listed}    "{component}",\n'))
    run(["scripts/build.sh", "api"], project)
    url, process = start_spin(manifest, directory / "state")
    yield url
    process.stop()


def test_only_spin_toml_differs_from_the_repository(tmp_path):
    """What the fixture changes, shown on a fresh copy: one line of spin.toml."""
    project = tmp_path / "project"
    files = [name for name in run(["git", "ls-files", "-z"], ROOT).stdout.split("\0") if name]
    text = (ROOT / "spin.toml").read_text()
    listed = '    "target/components/kfre-2016.wasm",\n'
    extended = text.replace(listed, f'{listed}    "/elsewhere/{NAME}.wasm",\n')
    assert [line for line in extended.splitlines() if line not in text.splitlines()] == [
        f'    "/elsewhere/{NAME}.wasm",']
    assert "spin.toml" in files and not project.exists()


def test_the_listed_model_is_served_at_predict(extended_url):
    body = {"model": NAME, "patient_data": PATIENT}
    answer = requests.post(f"{extended_url}/predict", json=body, timeout=TIMEOUT).json()
    assert answer["model"] == NAME
    original = requests.post(f"{extended_url}/predict", json={**body, "model": "kfre-2016"}, timeout=TIMEOUT).json()
    assert answer["outcomes"] == original["outcomes"]
    assert requests.get(f"{extended_url}/v2/health/ready", timeout=TIMEOUT).json() == {"ready": True}


def test_the_listed_model_is_in_the_inference_protocol(extended_url):
    metadata = requests.get(f"{extended_url}/v2/models/{NAME}", timeout=TIMEOUT).json()
    assert metadata["name"] == NAME
    assert [i["name"] for i in metadata["inputs"]] == ["age", "sex", "egfr", "urine_acr", "urine_acr_unit", "region"]


def test_the_listed_model_is_in_the_openapi_document_with_its_own_fields(extended_url):
    document = requests.get(f"{extended_url}/openapi.json", timeout=TIMEOUT).json()
    request = document["components"]["schemas"]["PredictRequest"]["properties"]["model"]
    assert NAME in request["enum"]
    urine_acr = document["components"]["schemas"]["PatientData"]["properties"]["urine_acr"]
    assert f"{NAME}: required, validated range 1-25000 mg/g" in urine_acr["description"]

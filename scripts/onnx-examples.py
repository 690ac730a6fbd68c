#!/usr/bin/env python3
"""The ONNX models and reference outputs the ONNX engine is tested against (tests/data/onnx/):
one classifier of each kind issue 14 names, trained on scikit-learn's bundled copy of the
Wisconsin Diagnostic Breast Cancer data, exported the way users export them, and run by
onnxruntime on 1,000 inputs drawn from the training distribution.

    python scripts/onnx-examples.py tests/data/onnx

Deterministic in every number (fixed seeds, one thread); the converters name some nodes
differently from run to run, so the .onnx bytes may differ while the models do not. Needs, from PyPI: scikit-learn 1.9.1, skl2onnx 1.20.0,
onnxmltools 1.16.0, lightgbm 4.7.0, xgboost 3.2.0, onnxruntime 1.32.0, onnx.

Writes, per kind (lr, gbm, rf, mlp, lgbm, xgb): `<kind>.onnx` and `<kind>.probabilities.f32`
(onnxruntime's `probabilities` output, 1,000 × 2 float32, little-endian, row-major); once:
`inputs.f32` (the 1,000 inputs, 1,000 × 30 float32), `versions.json`, and `lr-zipmap.onnx`
(the logistic regression exported with skl2onnx's defaults: through ZipMap, which the engine
refuses).
"""

import json
import sys
from pathlib import Path

import numpy as np

N_INPUTS = 1000
SEED = 20261204


def train_and_export(X, y):
    import lightgbm
    import onnxmltools
    import xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType as MLFloatTensorType
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    width = X.shape[1]
    sklearn_models = {
        "lr": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        "gbm": GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0),
        "rf": RandomForestClassifier(n_estimators=50, max_depth=8, random_state=0, n_jobs=1),
        "mlp": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=3000,
                                                             random_state=0)),
    }
    exported = {}
    for kind, model in sklearn_models.items():
        model.fit(X, y)
        final = model.steps[-1][1] if hasattr(model, "steps") else model
        options = {id(final): {"zipmap": False}}
        if hasattr(model, "steps"):
            options[id(model.steps[0][1])] = {"div": "div"}  # Sub and Div rather than Scaler
        exported[kind] = to_onnx(model, initial_types=[("float_input", FloatTensorType([None, width]))],
                                 options=options, target_opset={"": 18, "ai.onnx.ml": 3})
    lgbm = lightgbm.LGBMClassifier(n_estimators=50, random_state=0, n_jobs=1, deterministic=True,
                                   verbose=-1).fit(X, y)
    exported["lgbm"] = onnxmltools.convert_lightgbm(
        lgbm, initial_types=[("float_input", MLFloatTensorType([None, width]))], zipmap=False,
        target_opset=15)
    xgb = xgboost.XGBClassifier(n_estimators=50, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    exported["xgb"] = onnxmltools.convert_xgboost(
        xgb, initial_types=[("float_input", MLFloatTensorType([None, width]))], target_opset=15)
    return exported


def zipmap_model(X, y):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
    return to_onnx(model, initial_types=[("float_input", FloatTensorType([None, X.shape[1]]))],
                   target_opset={"": 18, "ai.onnx.ml": 3})


def inputs_like(X, rng):
    """Training rows resampled, each column jittered by 5 % of its standard deviation, kept
    inside the column's training range."""
    rows = X[rng.integers(0, len(X), N_INPUTS)]
    noisy = rows + rng.normal(0.0, 0.05, rows.shape) * X.std(axis=0)
    return np.clip(noisy, X.min(axis=0), X.max(axis=0)).astype(np.float32)


def main(out: Path):
    import lightgbm
    import onnxmltools
    import onnxruntime
    import skl2onnx
    import sklearn
    import xgboost
    from sklearn.datasets import load_breast_cancer

    out.mkdir(parents=True, exist_ok=True)
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    inputs = inputs_like(X, np.random.default_rng(SEED))
    inputs.astype("<f4").tofile(out / "inputs.f32")
    exported = train_and_export(X, y)
    # The logistic regression again with skl2onnx's default options: its probabilities pass
    # through ZipMap, an operator the engine refuses (the build-time refusal tests use it).
    (out / "lr-zipmap.onnx").write_bytes(zipmap_model(X, y).SerializeToString())
    for kind, model in exported.items():
        data = model.SerializeToString()
        (out / f"{kind}.onnx").write_bytes(data)
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        probabilities = session.run(["probabilities"], {"float_input": inputs})[0]
        assert probabilities.shape == (N_INPUTS, 2), (kind, probabilities.shape)
        probabilities.astype("<f4").tofile(out / f"{kind}.probabilities.f32")
    versions = {name: module.__version__ for name, module in [
        ("scikit-learn", sklearn), ("skl2onnx", skl2onnx), ("onnxmltools", onnxmltools),
        ("lightgbm", lightgbm), ("xgboost", xgboost), ("onnxruntime", onnxruntime), ("numpy", np)]}
    (out / "versions.json").write_text(json.dumps(versions, indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/onnx"))

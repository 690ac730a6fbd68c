"""The example ONNX model (models/breast-cancer-lr): its description, and patients from the
1,000 inputs of tests/data/onnx, kept inside the validated ranges model.toml declares."""

from __future__ import annotations

import tomllib

import numpy as np

from tests.support.paths import ROOT

MODEL = "breast-cancer-lr"
MODEL_DIR = ROOT / "models" / MODEL
DATA = ROOT / "tests" / "data" / "onnx"
DESCRIPTION = tomllib.loads((MODEL_DIR / "model.toml").read_text())
FEATURES = sorted(DESCRIPTION["feature"], key=lambda f: f["column"])
NAMES = [f["name"] for f in FEATURES]


def inputs() -> np.ndarray:
    """1,000 × 30 inputs as float64, each inside its feature's validated range."""
    rows = np.fromfile(DATA / "inputs.f32", dtype="<f4").reshape(1000, 30)
    low = np.array([f["range"][0] for f in FEATURES])
    high = np.array([f["range"][1] for f in FEATURES])
    return np.clip(rows.astype(np.float64), low, high)


def as_patient(row) -> dict:
    return {name: float(value) for name, value in zip(NAMES, row)}

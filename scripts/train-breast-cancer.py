#!/usr/bin/env python3
"""The repository's example of a user's own model (models/breast-cancer-lr/): a logistic
regression behind a standard scaler, trained on scikit-learn's bundled copy of the Wisconsin
Diagnostic Breast Cancer data, exported to ONNX with skl2onnx, and its model.toml written from
the data (each feature's validated range is the training data's range).

    python scripts/train-breast-cancer.py models/breast-cancer-lr
    python scripts/train-breast-cancer.py --joblib model.joblib   # the same fitted pipeline, for
                                                                  # Python model servers

Deterministic in every number. Needs, from PyPI: scikit-learn 1.9.1, skl2onnx 1.20.0 (joblib
only: scikit-learn).
"""

import sys
from pathlib import Path

import numpy as np

# The data set's description (scikit-learn's DESCR, from the UCI repository): what each of the
# ten nuclear measurements is. Distances are in the digitised image's units.
MEASUREMENTS = {
    "radius": ("mean of distances from the centre to points on the perimeter of a nucleus", "image units"),
    "texture": ("standard deviation of the grey-scale values", "grey levels"),
    "perimeter": ("perimeter of a nucleus", "image units"),
    "area": ("area of a nucleus", "image units²"),
    "smoothness": ("local variation in radius lengths", "dimensionless"),
    "compactness": ("perimeter² / area − 1.0", "dimensionless"),
    "concavity": ("severity of the concave portions of the contour", "dimensionless"),
    "concave_points": ("number of concave portions of the contour", "dimensionless"),
    "symmetry": ("symmetry of a nucleus", "dimensionless"),
    "fractal_dimension": ("\\\"coastline approximation\\\" − 1", "dimensionless"),
}
STATISTICS = {
    "mean": "Mean over the nuclei in the image of the",
    "error": "Standard error over the nuclei in the image of the",
    "worst": "Mean of the three largest values in the image of the",
}


def feature_name(sklearn_name: str) -> tuple[str, str, str]:
    """`mean concave points` → (`mean_concave_points`, description, unit)."""
    words = sklearn_name.split(" ")
    if words[0] in ("mean", "worst"):
        statistic, measurement = words[0], "_".join(words[1:])
        name = f"{statistic}_{measurement}"
    else:  # "<measurement> error"
        statistic, measurement = "error", "_".join(words[:-1])
        name = f"{measurement}_error"
    what, unit = MEASUREMENTS[measurement]
    return name, f"{STATISTICS[statistic]} {what}", unit


def train():
    """The fitted pipeline and the data it was fitted on."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = load_breast_cancer()
    X = data.data.astype(np.float32)
    y = data.target  # 0 = malignant, 1 = benign
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y), data, X, y


def main(out: Path):
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    model, data, X, y = train()
    accuracy = model.score(X, y)
    options = {id(model.steps[-1][1]): {"zipmap": False}, id(model.steps[0][1]): {"div": "div"}}
    onnx = to_onnx(model, initial_types=[("float_input", FloatTensorType([None, X.shape[1]]))],
                   options=options, target_opset={"": 18, "ai.onnx.ml": 3})
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx.SerializeToString())

    lines = [
        "# The example of a user's own model, written by scripts/train-breast-cancer.py: do not edit.",
        "[model]",
        'name = "breast-cancer-lr"',
        'version = "1.0.0"',
        'title = "Malignancy of a breast mass from a fine-needle aspirate (logistic regression)"',
        'citation = "Trained by scripts/train-breast-cancer.py (scikit-learn 1.9.1 StandardScaler and '
        'LogisticRegression, exported by skl2onnx 1.20.0) on the Wisconsin Diagnostic Breast Cancer data '
        '(W. N. Street, W. H. Wolberg, O. L. Mangasarian, Nuclear feature extraction for breast tumor '
        'diagnosis, IS&T/SPIE 1993), as bundled with scikit-learn: 569 cases, 212 malignant; training '
        f'accuracy {accuracy:.3f}, not a validated clinical model"',
        'population = "Breast masses sampled by fine-needle aspiration and digitised as in the Wisconsin '
        'data (University of Wisconsin Hospitals, 1990s); an example, not for clinical use"',
        'onnx = "model.onnx"',
        "",
        "[output]",
        'name = "malignant"',
        'description = "Probability that the mass is malignant, as the classifier estimates it"',
        'kind = "probability"',
        'onnx_output = "probabilities"',
        "column = 0  # class 0 of the data set is malignant",
        "",
        "[categories]",
        'source = "The classifier\'s own decision threshold (scikit-learn predicts malignant at a '
        'probability of 0.5 or more); not a clinical guideline"',
        "[[categories.band]]",
        'name = "likely_benign"',
        'label = "Likely Benign"',
        "from = 0.0",
        "[[categories.band]]",
        'name = "likely_malignant"',
        'label = "Likely Malignant"',
        "from = 0.5",
    ]
    for column, sklearn_name in enumerate(data.feature_names):
        name, description, unit = feature_name(str(sklearn_name))
        low, high = float(data.data[:, column].min()), float(data.data[:, column].max())
        lines += [
            "",
            "[[feature]]",
            f'name = "{name}"',
            f'description = "{description}"',
            f'unit = "{unit}"',
            f"range = [{low!r}, {high!r}]  # the training data's range",
            'input = "float_input"',
            f"column = {column}",
        ]
    (out / "model.toml").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--joblib":
        import joblib

        joblib.dump(train()[0], sys.argv[2])
    else:
        main(Path(sys.argv[1] if len(sys.argv) > 1 else "models/breast-cancer-lr"))

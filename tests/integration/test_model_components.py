"""The model components (target/components/<model>.wasm): each exports exactly
healthcare:model/model (wit/model.wit) and imports nothing, and its `predict` export, called directly by
a host (`wasmtime run --invoke`, arguments and results in WAVE), answers as the native
risk-models crate does — which the release API component serves over HTTP.

Numbers agree to a relative 1e-9 rather than bit for bit: the wasm32 and wasip2 builds take
`exp`/`ln` from different maths libraries, which differ in the last bit now and then.
Categories, warnings and validation messages agree exactly."""

from __future__ import annotations

import functools
import json
import math
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.paths import CONTRACT, ROOT
from tests.support.service import WASMTIME

COMPONENTS = ROOT / "target" / "components"
# The cardiovascular models, compared with the API's answers field by field below.
MODELS = ["pce-2013", "prevent-2023"]
# Every built-in model.
MODEL_NAMES = ["pce-2013", "prevent-2023", "kfre-2016"]
REL_TOL = 1e-9
MG_DL_PER_MMOL_L = 38.67


def component(model: str):
    path = COMPONENTS / f"{model}.wasm"
    assert path.exists(), f"{path} is missing: run scripts/build.sh"
    return path


# --- WAVE (the WebAssembly Value Encoding wasmtime prints) --------------------------------------

def wave_value(value) -> str:
    """A JSON value as the contract's `value` variant."""
    if isinstance(value, bool):
        return f"boolean({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f"number({float(value)!r})"
    return f"choice({json.dumps(value)})"


def wave_patient(model: str, patient: dict) -> str:
    """A JSON patient (absent or null = left out) as the WAVE `patient` the model's `info()`
    positions: one `option<value>` per declared feature, in declared order, and the names it
    does not declare apart, in the JSON object's order."""
    features = feature_names(model)
    values = [f"some({wave_value(patient[name])})" if patient.get(name) is not None else "none"
              for name in features]
    not_declared = [json.dumps(name) for name, value in patient.items()
                    if value is not None and name not in features]
    return f"{{values: [{', '.join(values)}], not-declared: [{', '.join(not_declared)}]}}"


def number(value) -> float:
    """The number of a WAVE `value` variant, `number(x)`."""
    kind, payload = value
    assert kind == "number", value
    return payload


TOKEN = re.compile(r"""\s*(?:(?P<punct>[{}\[\](),:])|"(?P<string>(?:[^"\\]|\\.)*)"|(?P<atom>[^\s{}\[\](),:"]+))""")
ESCAPE = re.compile(r"""\\(?:u\{([0-9a-fA-F]+)\}|(.))""")
SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def parse_wave(text: str):
    """Parses one WAVE value: records → dict (absent option fields omitted, as wasmtime prints
    them), lists → list, strings → str, numbers → float, true/false → bool, `none` → None,
    cases with a payload (`some(x)`, `ok(x)`, `out-of-range(x)`) → (case, payload) except
    `some(x)` → x, other cases → their name, tuples (`("a", "b")`) → tuple."""
    tokens = [m for m in TOKEN.finditer(text.strip())]
    position = 0

    def take():
        nonlocal position
        token = tokens[position]
        position += 1
        return token

    def peek(punct):
        return position < len(tokens) and tokens[position].group("punct") == punct

    def expect(punct):
        token = take()
        assert token.group("punct") == punct, (punct, token.group(0), text)

    def value():
        token = take()
        if token.group("string") is not None:
            return ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else SIMPLE_ESCAPES[m[2]],
                              token.group("string"))
        punct = token.group("punct")
        if punct == "{":
            record = {}
            while not peek("}"):
                key = take().group("atom")
                expect(":")
                record[key] = value()
                if peek(","):
                    take()
            expect("}")
            return record
        if punct == "[":
            items = []
            while not peek("]"):
                items.append(value())
                if peek(","):
                    take()
            expect("]")
            return items
        if punct == "(":
            members = []
            while not peek(")"):
                members.append(value())
                if peek(","):
                    take()
            expect(")")
            return tuple(members)
        atom = token.group("atom")
        assert atom is not None, (token.group(0), text)
        if peek("("):
            take()
            payload = value()
            expect(")")
            return payload if atom == "some" else (atom, payload)
        if atom in ("true", "false"):
            return atom == "true"
        if atom == "none":
            return None
        if re.fullmatch(r"-?(\d|inf|nan).*", atom):
            return float(atom)
        return atom

    result = value()
    assert position == len(tokens), text
    return result


def invoke(model: str, call: str):
    out = subprocess.run(
        [WASMTIME, "run", "--invoke", call, str(component(model))],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return parse_wave(out)


@functools.cache
def info(model: str) -> dict:
    return invoke(model, "info()")


def feature_names(model: str) -> list[str]:
    return [feature["name"] for feature in info(model)["features"]]


def named_prediction(model: str, prediction: dict) -> dict:
    """A prediction with its positions named from the model's `info()`: outputs as
    `(name, number)`, the category's name, contributions as `(factor, value)`."""
    declared = info(model)
    outputs = [output["name"] for output in declared["outputs"]]
    bands = [band["name"] for band in declared["categories"]["bands"]]
    factors = declared["explanation"]["factors"]
    category = prediction.get("category")
    return {
        **prediction,
        "outputs": [(name, number(value)) for name, value in zip(outputs, prediction["outputs"])],
        "category": None if category is None else bands[int(category)],
        "contributions": list(zip(factors, prediction["contributions"])),
    }


def invoke_all(calls: list[tuple[str, str]]) -> list:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: invoke(*call), calls))


# --- the patients ---------------------------------------------------------------------------------

PCE_EXAMPLE = {"age": 55, "total_cholesterol": 213, "hdl_cholesterol": 50, "systolic_bp": 120,
               "on_bp_treatment": False, "smoker": False, "diabetic": False}
PREVENT_EXAMPLE = {"age": 50, "total_cholesterol": 200, "hdl_cholesterol": 45, "systolic_bp": 160,
                   "on_bp_treatment": True, "diabetic": True, "smoker": False, "egfr": 90,
                   "on_statin": False}
WORKED_EXAMPLES = [
    ("pce-2013", {**PCE_EXAMPLE, "sex": sex, "race": race})
    for race in ("white", "african_american") for sex in ("female", "male")
] + [("prevent-2023", {**PREVENT_EXAMPLE, "sex": sex}) for sex in ("female", "male")]

RANGES = {  # validated ranges, mg/dL for cholesterol
    "pce-2013": {"age": (40, 79), "systolic_bp": (90, 200)},
    "prevent-2023": {"age": (30, 79), "systolic_bp": (90, 180), "egfr": (15, 140)},
}


def random_patient(rng: random.Random, model: str) -> dict:
    ranges = RANGES[model]
    mmol = rng.random() < 0.3
    unit = 1 / MG_DL_PER_MMOL_L if mmol else 1
    patient = {
        "age": round(rng.uniform(*ranges["age"]), 1),
        "sex": rng.choice(["female", "male"]),
        "race": rng.choice(["white", "african_american", "other", None]),
        # Inwards by a little, so rounding the mmol/L value cannot leave the range.
        "total_cholesterol": round(rng.uniform(131, 319) * unit, 3 if mmol else 1),
        "hdl_cholesterol": round(rng.uniform(21, 99) * unit, 3 if mmol else 1),
        "cholesterol_unit": "mmol/L" if mmol else rng.choice(["mg/dL", None]),
        "systolic_bp": round(rng.uniform(*ranges["systolic_bp"])),
        "on_bp_treatment": rng.choice([True, False, None]),
        "smoker": rng.choice([True, False, None]),
        "diabetic": rng.choice([True, False, None]),
        "egfr": round(rng.uniform(*ranges.get("egfr", (15, 140))), 1),
        "on_statin": rng.choice([True, False, None]),
    }
    if model == "pce-2013":  # unused fields (each warned about) now and then
        patient["egfr"] = rng.choice([None, patient["egfr"]])
        patient["on_statin"] = rng.choice([None, patient["on_statin"]])
    elif rng.random() < 0.7:
        patient["race"] = None
    return patient


def random_patients() -> list[tuple[str, dict]]:
    rng = random.Random(20240601)
    return [(model, random_patient(rng, model)) for _ in range(15) for model in MODELS]


OUT_OF_RANGE = [
    ("pce-2013", {**PCE_EXAMPLE, "sex": "male", "age": 85, "systolic_bp": 210}),
    ("pce-2013", {**PCE_EXAMPLE, "sex": "female", "total_cholesterol": 2.5,
                  "hdl_cholesterol": 3.0, "cholesterol_unit": "mmol/L"}),
    ("pce-2013", {"age": 65, "total_cholesterol": 240}),
    ("prevent-2023", {**PREVENT_EXAMPLE, "sex": "male", "age": 29, "egfr": 10, "systolic_bp": 190}),
    ("prevent-2023", {**PREVENT_EXAMPLE, "sex": "female", "egfr": None, "hdl_cholesterol": 110}),
    ("prevent-2023", {}),
]

PATIENTS = WORKED_EXAMPLES + random_patients() + OUT_OF_RANGE


# --- the comparison -------------------------------------------------------------------------------

def close(native: float, wasm: float) -> bool:
    return math.isclose(native, wasm, rel_tol=REL_TOL, abs_tol=0.0)


def native_answers(api_url: str) -> list[dict]:
    """The API component's answer for every patient, one batch request per model."""
    answers: list[dict | None] = [None] * len(PATIENTS)
    for model in MODELS:
        indices = [i for i, (m, _) in enumerate(PATIENTS) if m == model]
        instances = [{k: v for k, v in PATIENTS[i][1].items() if v is not None} for i in indices]
        response = requests.post(f"{api_url}/predict", json={"instances": instances, "model": model},
                                 timeout=30)
        assert response.status_code == 200, response.text
        for i, result in zip(indices, response.json()["results"]):
            answers[i] = result
    return answers


@pytest.fixture(scope="module")
def answers(api_url):
    for model in MODELS:
        info(model)  # once each, before the threads
    wasm = invoke_all([(model, f"predict({wave_patient(model, patient)})")
                       for model, patient in PATIENTS])
    return list(zip(PATIENTS, native_answers(api_url), wasm))


def test_the_model_components_were_built_small():
    for model in MODELS:
        assert component(model).stat().st_size <= 256 * 1024


@pytest.mark.parametrize("model", MODELS)
def test_a_model_component_imports_nothing_and_exports_only_the_contract(model):
    wit = subprocess.run(
        ["wasm-tools", "component", "wit", str(component(model))],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    world = re.search(r"^world \S+ \{\n(.*?)^\}", wit, flags=re.MULTILINE | re.DOTALL)
    assert world, wit
    assert not re.search(r"\bimport\b", wit), wit
    exports = re.findall(r"^\s*export\s+([\w:/.@-]+)\s*;", world.group(1), flags=re.MULTILINE)
    assert exports == [CONTRACT], world.group(0)


@pytest.mark.parametrize("model", MODELS)
def test_info_names_the_model_its_version_and_its_source(model, api_url):
    info = invoke(model, "info()")
    native = requests.get(f"{api_url}/v2/models/{model}", timeout=10).json()
    assert info["name"] == model
    assert info["version"] == native["versions"][0] == "1.0.0"
    assert info["horizon-years"] == 10
    citation = {"pce-2013": "Goff DC Jr", "prevent-2023": "Khan SS"}[model]
    assert citation in info["citation"]
    outputs = [output["name"] for output in info["outputs"]]
    assert outputs == {"pce-2013": ["ascvd"], "prevent-2023": ["total_cvd", "ascvd"]}[model]
    assert [f["name"] for f in info["features"] if f["required"]] == [
        "age", "sex", "total_cholesterol", "hdl_cholesterol", "systolic_bp",
    ] + (["egfr"] if model == "prevent-2023" else [])


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_identity_is_infos_name_and_version(model):
    declared = info(model)
    assert invoke(model, "identity()") == {"name": declared["name"], "version": declared["version"]}


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_info_declares_where_each_feature_comes_from_in_fhir(model):
    """Contract 4.0.0: the component itself answers its FHIR bindings (the API holds no code
    list): systolic pressure alone or in either blood-pressure panel, cholesterol in both
    units at the model's factor, no source for the unit selectors and the region."""
    features = {feature["name"]: feature for feature in info(model)["features"]}
    sources = {name: feature.get("fhir") for name, feature in features.items()}
    assert sources["age"] == "age"
    assert {name for name, source in sources.items() if source is None} == {
        "pce-2013": {"cholesterol_unit"},
        "prevent-2023": {"cholesterol_unit"},
        "kfre-2016": {"urine_acr_unit", "region"},
    }[model]
    loinc = "http://loinc.org"
    if model == "kfre-2016":
        kind, acr = sources["urine_acr"]
        assert kind == "observation"
        assert [(u["ucum"], u["factor"]) for u in acr["units"]] == [("mg/g", 1.0), ("mg/mmol", 8.84)]
        return
    kind, systolic = sources["systolic_bp"]
    assert kind == "observation"
    assert systolic["codes"] == [{"system": loinc, "code": "8480-6", "prefix": False}]
    assert [c["code"] for c in systolic["panels"]] == ["85354-9", "55284-4"]
    kind, cholesterol = sources["total_cholesterol"]
    assert [(u["ucum"], u["factor"]) for u in cholesterol["units"]] == [
        ("mg/dL", 1.0), ("mmol/L", MG_DL_PER_MMOL_L)]
    kind, diabetes = sources["diabetic"]
    assert kind == "condition"
    assert {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11", "prefix": True} in diabetes
    assert ("race" in sources) == (model == "pce-2013")


def test_the_worked_examples_give_the_published_risks(answers):
    published = [0.02052, 0.05384, 0.03026, 0.06073, (0.1468, 0.0920), (0.1632, 0.1019)]
    for ((model, patient), _, wasm), expected in zip(answers, published):
        kind, prediction = wasm
        assert kind == "ok", (model, patient, wasm)
        risks = [number(output) for output in prediction["outputs"]]
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert all(abs(r - e) < 1e-3 for r, e in zip(risks, expected)), (model, patient, risks)


def test_every_prediction_agrees_with_the_native_crate(answers):
    predictions = 0
    for (model, patient), native, (kind, wasm) in answers:
        case = (model, patient)
        if native["status"] != 200:
            continue
        assert kind == "ok", (case, native, wasm)
        predictions += 1
        wasm = named_prediction(model, wasm)
        outcomes = wasm["outputs"]
        assert [name for name, _ in outcomes] == list(native["outcomes"]), case
        assert all(close(native["outcomes"][name], risk) for name, risk in outcomes), case
        assert close(native["risk"], outcomes[0][1]), case
        assert wasm["category"] == native["category"], case
        assert close(native["confidence"], wasm["confidence"]), case
        contributions = wasm["contributions"]
        assert [name for name, _ in contributions] == list(native["contributions"]), case
        assert all(close(native["contributions"][name], value) for name, value in contributions), case
        assert close(native["explanation"]["linear_predictor"], wasm["linear-predictor"]), case
        assert close(native["explanation"]["reference_value"], wasm["reference-value"]), case
        assert wasm["warnings"] == native["warnings"], case
    assert predictions >= len(WORKED_EXAMPLES) + 25


def test_every_refusal_has_the_native_fields_and_messages(answers):
    refusals = 0
    for (model, patient), native, (kind, wasm) in answers:
        if native["status"] == 200:
            continue
        refusals += 1
        assert kind == "err", (model, patient, wasm)
        assert [(e["feature"], e["message"]) for e in wasm] == [
            (e["field"], e["detail"]) for e in native["errors"]
        ], (model, patient)
    assert refusals >= len(OUT_OF_RANGE)


def test_a_refusal_says_what_is_wrong_in_canonical_units(answers):
    _, _, (kind, errors) = next(
        a for a in answers if a[0][1].get("cholesterol_unit") == "mmol/L" and a[0] in OUT_OF_RANGE)
    assert kind == "err"
    assert [(e["feature"], e["problem"]) for e in errors] == [
        ("total_cholesterol", ("out-of-range", {"min": 130.0, "max": 320.0})),
        ("hdl_cholesterol", ("out-of-range", {"min": 20.0, "max": 100.0})),
    ]
    _, _, (kind, errors) = answers[PATIENTS.index(OUT_OF_RANGE[-1])]
    assert kind == "err" and {e["problem"] for e in errors} == {"missing"}


@pytest.mark.parametrize("model", MODELS)
def test_a_non_finite_number_is_refused(model):
    patient = wave_patient(model, {**PREVENT_EXAMPLE, "sex": "male"}).replace(
        "number(50.0)", "number(nan)", 1)
    kind, errors = invoke(model, f"predict({patient})")
    assert kind == "err"
    assert [(e["feature"], e["problem"], e["message"]) for e in errors] == [
        ("age", "not-finite", "age must be a finite number"),
    ]


def wave_batch(model: str, patients: list[dict]) -> str:
    """The JSON patients as one WAVE `patient-batch`: each patient's row of `option<value>`s
    (as `wave_patient` writes it), one after the other, and the names the model does not
    declare with their patient's position."""
    features = feature_names(model)
    values, not_declared = [], []
    for row, patient in enumerate(patients):
        values += [f"some({wave_value(patient[name])})" if patient.get(name) is not None
                   else "none" for name in features]
        not_declared += [f"({row}, {json.dumps(name)})" for name, value in patient.items()
                         if value is not None and name not in features]
    return (f"{{count: {len(patients)}, values: [{', '.join(values)}], "
            f"not-declared: [{', '.join(not_declared)}]}}")


def batch_answers(model: str, count: int, table: dict) -> list:
    """`batch-predictions` read back as one `predict` answer per patient: a refused patient's
    errors, or the scored patient's next row of each column and its warnings."""
    declared = info(model)
    width = len(declared["outputs"])
    factors = len(declared.get("explanation", {}).get("factors", []))
    refused = {int(refusal["patient"]): refusal["errors"] for refusal in table["refused"]}
    rows = iter(table["scored"])
    answers, row = [], 0
    for patient in range(count):
        if patient in refused:
            answers.append(("err", refused[patient]))
            continue
        answers.append(("ok", {
            **next(rows),
            "outputs": table["outputs"][row * width:(row + 1) * width],
            "contributions": table["contributions"][row * factors:(row + 1) * factors],
            "warnings": [warning for sent_for, warning in table["warnings"]
                         if int(sent_for) == patient],
        }))
        row += 1
    assert next(rows, None) is None, "more rows than scored patients"
    return answers


@pytest.mark.parametrize("model", MODELS)
def test_a_batch_is_one_call_answering_each_patient_as_predict_does(model):
    patients = [{**PREVENT_EXAMPLE, "sex": "male"}, {"age": 55},
                {**PREVENT_EXAMPLE, "sex": "female", "some_other_models_flag": True},
                {**PREVENT_EXAMPLE, "sex": "female", "age": 101}]
    table = invoke(model, f"predict-batch({wave_batch(model, patients)})")
    singles = invoke_all([(model, f"predict({wave_patient(model, p)})") for p in patients])
    assert [kind for kind, _ in singles] == ["ok", "err", "ok", "err"]
    assert batch_answers(model, len(patients), table) == singles


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_a_model_component_fits_one_page_and_one_prediction_never_grows_it(model):
    """The instance budget (docs/design/model-wiring.md): one initial 64 KiB page (a 16 KiB
    stack, the data and the allocator's arena), and a prediction that never grows memory: with
    memory capped at that page, `predict-batch` with one patient and `predict` still answer."""
    text = subprocess.run(["wasm-tools", "print", str(component(model))], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    memories = re.findall(r"\(memory \(;\d+;\) (\d+)\)", text)
    assert memories == ["1"], memories
    patient = {"pce-2013": {**PCE_EXAMPLE, "sex": "male", "race": "white"},
               "prevent-2023": {**PREVENT_EXAMPLE, "sex": "male"},
               "kfre-2016": {"age": 63, "sex": "female", "egfr": 45, "urine_acr": 30}}[model]
    # One patient as the API sends it (a batch of one), and alone.
    answers = []
    for call in (f"predict-batch({wave_batch(model, [patient])})",
                 f"predict({wave_patient(model, patient)})"):
        out = subprocess.run(
            [WASMTIME, "run", "-W", "max-memory-size=65536", "--invoke", call,
             str(component(model))],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        answers.append(parse_wave(out.stdout))
    as_batch, alone = answers
    assert len(as_batch["scored"]) == 1 and not as_batch["refused"]
    assert alone[0] == "ok"

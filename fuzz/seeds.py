#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/ from real requests:

- predict: bench/wrk/predict-one.json, and bodies built from the patients and worked examples of
  tests/integration (read from the test modules' literals, so the seeds follow the tests), single
  and batch, valid and refused;
- infer: the same patients as Open Inference Protocol requests, in JSON and with binary tensors
  (one control byte first, see fuzz_targets/infer.rs);
- otlp: the OTLP payloads a real Spin 3.6.3 sent (tests/data/spin-otlp), as captured
  (protobuf), gzipped, and in the OTLP JSON mapping (one control byte first, see
  fuzz_targets/otlp.rs).

Standard library only; deterministic (same files on every run). Run from anywhere:

    python3 fuzz/seeds.py
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import shutil
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
SPIN_OTLP = ROOT / "tests" / "data" / "spin-otlp"


def literal(module: str, name: str):
    """The value of a top-level `NAME = <literal>` in a test module, without importing it."""
    tree = ast.parse((ROOT / module).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise KeyError(f"{name} not found in {module}")


PREDICT_TESTS = "tests/integration/test_predict_http.py"
INFER_TESTS = "tests/integration/test_inference_protocol.py"
PATIENTS = literal(INFER_TESTS, "PATIENTS")
DATATYPE = {
    **dict.fromkeys(literal(INFER_TESTS, "NUMBER_FIELDS"), "FP64"),
    **dict.fromkeys(literal(INFER_TESTS, "FLAG_FIELDS"), "BOOL"),
    **dict.fromkeys(literal(INFER_TESTS, "TEXT_FIELDS"), "BYTES"),
}


def write(target: str, seeds: dict[str, bytes]) -> None:
    directory = CORPUS / target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    for name, data in seeds.items():
        (directory / name).write_bytes(data)
    print(f"{target}: {len(seeds)} seeds, {sum(map(len, seeds.values()))} bytes")


def dumps(value) -> bytes:
    return json.dumps(value).encode()


# --- predict -----------------------------------------------------------------------------------


def predict_seeds() -> dict[str, bytes]:
    pce = literal(PREDICT_TESTS, "PCE_EXAMPLE")
    prevent = literal(PREDICT_TESTS, "PREVENT_EXAMPLE")
    seeds = {"wrk-predict-one.json": (ROOT / "bench/wrk/predict-one.json").read_bytes().strip()}
    for sex in ("female", "male"):
        for race in ("white", "african_american", "other", None):
            patient = {**pce, "sex": sex, **({"race": race} if race else {})}
            seeds[f"pce-{sex}-{race}.json"] = dumps({"patient_data": patient})
        seeds[f"prevent-{sex}.json"] = dumps(
            {"patient_data": {**prevent, "sex": sex}, "model": "prevent-2023"}
        )
    seeds["pce-mmol.json"] = dumps(
        {"patient_data": {**pce, "sex": "male", "total_cholesterol": 5.51, "hdl_cholesterol": 1.29,
                          "cholesterol_unit": "mmol/L"}}
    )
    seeds["pce-alias-nulls.json"] = dumps(
        {"patient_data": {"age": 40, "sex": "female", "cholesterol": 130, "hdl_cholesterol": 100,
                          "systolic_bp": 90, "race": None, "smoker": None}, "model": None}
    )
    for model, patients in PATIENTS.items():
        seeds[f"batch-{model}.json"] = dumps({"instances": patients, "model": model})
    first = PATIENTS["pce-2013"][0]
    seeds["batch-mixed.json"] = dumps(
        {"instances": [first, {**first, "age": 123.456}, {"age": 65, "cholesterol": 240},
                       "not a patient", {}], "model": "pce-2013"}
    )
    # Refusals, one of each kind the tests name.
    seeds["readme-missing-fields.json"] = dumps({"patient_data": {"age": 65, "cholesterol": 240}})
    seeds["unknown-model.json"] = dumps({"patient_data": first, "model": "pce-2099"})
    seeds["unknown-field.json"] = dumps({"patient_data": {**first, "smoking": True}})
    seeds["wrong-types.json"] = dumps({"patient_data": {**first, "age": "55", "smoker": 1, "sex": "F"}})
    seeds["out-of-range.json"] = dumps({"patient_data": {**first, "age": 12.3456, "systolic_bp": 234.567}})
    seeds["both.json"] = dumps({"patient_data": first, "instances": [first]})
    seeds["prevent-no-egfr.json"] = dumps({"patient_data": first, "model": "prevent-2023"})
    seeds["malformed.json"] = b'{"patient_data": {"age": 55,}}'
    seeds["not-object.json"] = b"[1, 2, 3]"
    return seeds


# --- infer -------------------------------------------------------------------------------------

# Control byte of fuzz_targets/infer.rs.
PREVENT, VERSIONED = 1, 2
CT_NONE, CT_JSON, CT_OCTET, CT_FORM = 0 << 2, 1 << 2, 2 << 2, 3 << 2
LEN_NONE, LEN_AUTO, LEN_EXPLICIT = 0 << 4, 1 << 4, 2 << 4


def encode_binary(name: str, values: list) -> bytes:
    # The same as test_inference_protocol.encode_binary, which cannot be imported here (that
    # module needs numpy and tritonclient; this script runs on the standard library).
    datatype = DATATYPE[name]
    if datatype == "FP64":
        return struct.pack(f"<{len(values)}d", *values)
    if datatype == "BOOL":
        return bytes(1 if v else 0 for v in values)
    return b"".join(struct.pack("<I", len(v.encode())) + v.encode() for v in values)


def json_request(patients: list[dict], **extra) -> bytes:
    inputs = [
        {"name": n, "datatype": DATATYPE[n], "shape": [len(patients)], "data": [p[n] for p in patients]}
        for n in patients[0]
    ]
    return dumps({"inputs": inputs, **extra})


def binary_request(patients: list[dict], binary_names=None, **extra) -> tuple[bytes, bytes]:
    """(JSON part, binary part) of a binary-extension request."""
    binary_names = set(patients[0]) if binary_names is None else binary_names
    inputs, tail = [], b""
    for name in patients[0]:
        values = [p[name] for p in patients]
        tensor = {"name": name, "datatype": DATATYPE[name], "shape": [len(patients)]}
        if name in binary_names:
            raw = encode_binary(name, values)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            tail += raw
        else:
            tensor["data"] = values
        inputs.append(tensor)
    return dumps({"inputs": inputs, **extra}), tail


def infer_seeds() -> dict[str, bytes]:
    seeds = {}
    for model, patients in PATIENTS.items():
        m = PREVENT if model == "prevent-2023" else 0
        seeds[f"{model}-json"] = bytes([m | CT_JSON]) + json_request(patients, id="seed-1")
        seeds[f"{model}-json-form-versioned"] = bytes([m | VERSIONED | CT_FORM]) + json_request(patients[:1])
        seeds[f"{model}-json-binary-out"] = bytes([m | CT_JSON]) + json_request(
            patients, parameters={"binary_data_output": True}
        )
        seeds[f"{model}-json-outputs"] = bytes([m | CT_JSON]) + json_request(
            patients, outputs=[{"name": "category"}, {"name": "risk", "parameters": {"binary_data": True}}]
        )
        head, tail = binary_request(patients, parameters={"binary_data_output": True})
        seeds[f"{model}-binary-tritonclient"] = bytes([m | CT_NONE | LEN_AUTO]) + head + tail
        seeds[f"{model}-binary-octet"] = bytes([m | CT_OCTET | LEN_AUTO]) + head + tail
        seeds[f"{model}-binary-explicit"] = (
            bytes([m | CT_OCTET | LEN_EXPLICIT]) + struct.pack("<H", len(head)) + head + tail
        )
        numbers = {n for n in patients[0] if DATATYPE[n] == "FP64"}
        head, tail = binary_request(patients, numbers)
        seeds[f"{model}-binary-mixed"] = bytes([m | CT_NONE | LEN_AUTO]) + head + tail
    # Refusals: a missing input, a wrong datatype, shapes that disagree, an unknown output.
    pce = PATIENTS["pce-2013"]
    seeds["missing-input"] = bytes([CT_JSON]) + json_request([{k: v for k, v in p.items() if k != "age"} for p in pce])
    wrong = json.loads(json_request(pce))
    wrong["inputs"][0]["datatype"] = "BYTES"
    wrong["inputs"][1]["shape"] = [2]
    seeds["wrong-datatype-shape"] = bytes([CT_JSON]) + dumps(wrong)
    seeds["unknown-output"] = bytes([CT_JSON]) + json_request(pce, outputs=[{"name": "nope"}])
    return seeds


# --- otlp --------------------------------------------------------------------------------------

SIGNALS = {"traces": 0, "metrics": 1, "logs": 2}
PROTOBUF, JSON = 0, 4
IDENTITY, GZIP_HERE, GZIP_RAW = 0 << 3, 1 << 3, 2 << 3
PROMETHEUS_TEXT = 32

# The OTLP JSON mapping writes enums as integers.
ENUMS = {
    "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
    "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
    "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
    "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
}


def camel(key: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def otlp_json(value):
    """The fixture's `decoded` rendering (proto field names, enum names) in the OTLP JSON
    mapping (lowerCamelCase keys, enum numbers); ids are already hex, int64s strings."""
    if isinstance(value, dict):
        return {camel(k): otlp_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [otlp_json(v) for v in value]
    return ENUMS.get(value, value) if isinstance(value, str) else value


def otlp_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    fixtures = SPIN_OTLP
    seen = set()
    for path in sorted(fixtures.glob("*/*.bin")):
        raw = path.read_bytes()
        kind = (path.parent.name, path.stem.rsplit("_", 1)[1])
        if kind in seen:  # Spin re-sends the same totals every interval: one per run is enough.
            continue
        seen.add(kind)
        signal = SIGNALS[kind[1]]
        name = f"{path.parent.name.split('-')[0]}-{path.stem.split('-')[0]}-{path.stem.rsplit('_', 1)[1]}"
        seeds[f"{name}-protobuf"] = bytes([signal | PROTOBUF]) + raw
        seeds[f"{name}-protobuf-gzip"] = bytes([signal | PROTOBUF | GZIP_HERE | PROMETHEUS_TEXT]) + raw
        decoded = json.loads(path.with_suffix(".json").read_text())["decoded"]
        seeds[f"{name}-json"] = bytes([signal | JSON]) + dumps(otlp_json(decoded))
    # A real gzip stream as the sender compresses it (mtime 0, so the bytes are stable).
    traces = (fixtures / "run2-resource-env" / "004-POST-v1_traces.bin").read_bytes()
    seeds["run2-004-traces-gzip-stream"] = bytes([SIGNALS["traces"] | GZIP_RAW]) + gzip.compress(traces, mtime=0)
    return seeds


def main() -> None:
    if not SPIN_OTLP.is_dir():
        sys.exit(f"{SPIN_OTLP} not found")
    write("predict", predict_seeds())
    write("infer", infer_seeds())
    write("otlp", otlp_seeds())


if __name__ == "__main__":
    main()

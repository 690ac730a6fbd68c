"""The SBOMs scripts/sbom.sh writes (target/sbom/*.cdx.json): valid CycloneDX 1.5 JSON, every
direct dependency of the artifact present, no dev-dependency, every crate identified.

Run after scripts/sbom.sh (scripts/test.sh does both).
"""

from __future__ import annotations

import functools
import json
import tomllib
import subprocess
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

ROOT = Path(__file__).resolve().parents[2]

# package → the target its shipped artifact is built for, the direct dependencies a reader
# would look for first, and dev-dependencies (or other artifacts' crates) that must not appear.
ARTIFACTS = {
    "model-api": {
        "target": "wasm32-wasip2",
        "present": {"spin-sdk", "spin-io", "serde_json", "serde", "thiserror", "wit-bindgen"},
        # The HTTP component knows no model: no model crate is in its build.
        "absent": {"criterion", "proptest", "tokio", "axum", "risk-models", "model-component"},
    },
    "clinical": {
        "target": "wasm32-wasip2",
        "present": {"spin-sdk", "spin-io", "fhir-record", "serde_json", "serde", "thiserror"},
        # It scores through the API: no model crate, and its tests' in-process API stays out.
        "absent": {"criterion", "proptest", "risk-models", "model-component", "model-api"},
    },
    "pce-2013-component": {
        "target": "wasm32-unknown-unknown",
        "present": {"model-component", "risk-models"},
        "absent": {"criterion", "proptest", "spin-sdk", "tokio"},
    },
    "prevent-2023-component": {
        "target": "wasm32-unknown-unknown",
        "present": {"model-component", "risk-models"},
        "absent": {"criterion", "proptest", "spin-sdk", "tokio"},
    },
    # Users' ONNX models: the evaluator and the plan, no ONNX or TOML parser (the build step's).
    "onnx-model-component": {
        "target": "wasm32-unknown-unknown",
        "present": {"model-component", "risk-models", "onnx-model"},
        "absent": {"criterion", "proptest", "spin-sdk", "tokio", "prost", "toml"},
    },
    "model-exporter": {
        "target": "x86_64-unknown-linux-musl",
        "present": {"tokio", "axum", "prometheus-client", "prost", "opentelemetry-proto", "flate2",
                    "mimalloc"},
        "absent": {"criterion", "proptest", "reqwest", "opentelemetry-otlp", "spin-sdk"},
    },
}


def sbom(package: str) -> dict:
    path = ROOT / "target" / "sbom" / f"{package}.cdx.json"
    assert path.is_file(), f"{path} is missing: run scripts/sbom.sh"
    return json.loads(path.read_text())


@functools.cache
def declared_dependencies(package: str, target: str) -> tuple[set[str], set[str]]:
    """(direct normal dependencies, dev-only dependencies) of a package for a target, from
    cargo metadata (target-specific dependencies filtered as cargo does)."""
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", target],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout)
    ids = {p["id"]: p["name"] for p in metadata["packages"]}
    (node,) = [n for n in metadata["resolve"]["nodes"] if ids[n["id"]] == package]
    dev = set()
    for dep in node["deps"]:
        if {k["kind"] for k in dep["dep_kinds"]} == {"dev"}:
            dev.add(ids[dep["pkg"]])
    # The normal ones from cargo tree, which evaluates a dependency's cfg(...) for the target:
    # cargo metadata keeps a dependency the build script also needs (model-api's risk-models)
    # with its native-only normal kind listed.
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-e", "normal", "--target", target, "-p", package, "--depth", "1",
         "--prefix", "none", "--format", "{p}"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    normal = {line.split()[0] for line in tree[1:] if line.strip()}
    return normal, dev


@pytest.mark.parametrize("package", ARTIFACTS)
def test_the_sbom_is_valid_cyclonedx_1_5_json(package):
    text = (ROOT / "target" / "sbom" / f"{package}.cdx.json").read_text()
    error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert error is None, error
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    assert bom["metadata"]["component"]["name"] == package


@pytest.mark.parametrize("package", ARTIFACTS)
def test_every_direct_dependency_is_listed_and_no_dev_dependency(package):
    spec = ARTIFACTS[package]
    bom = sbom(package)
    names = {c["name"] for c in bom["components"]}
    normal, dev_only = declared_dependencies(package, spec["target"])
    assert spec["present"] <= normal, "the test's list names a crate that is not a direct dependency"
    assert normal <= names, f"direct dependencies missing: {sorted(normal - names)}"
    assert not (spec["absent"] & names), sorted(spec["absent"] & names)
    # The graph says so too: the artifact depends on each of its direct dependencies and on
    # nothing else directly, so no dev-dependency is a dependency of it. (A dev-dependency can
    # still be in the SBOM as a dependency of a dependency: opentelemetry_sdk, which the
    # exporter's tests use and opentelemetry-proto needs.)
    root = bom["metadata"]["component"]["bom-ref"]
    graph = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    by_ref = {c["bom-ref"]: c["name"] for c in bom["components"]}
    assert {by_ref[r] for r in graph[root]} == normal
    # Every crate listed is reached from the artifact through the graph.
    reached, todo = set(), [root]
    while todo:
        for ref in graph.get(todo.pop(), []):
            if ref not in reached:
                reached.add(ref)
                todo.append(ref)
    assert set(by_ref) == reached, sorted(by_ref[r] for r in set(by_ref) - reached)
    indirect = {by_ref[r] for ref in reached for r in graph.get(ref, [])}
    assert dev_only & names <= indirect


@pytest.mark.parametrize("package", ARTIFACTS)
def test_every_crate_is_identified_by_purl_license_and_checksum(package):
    bom = sbom(package)
    for component in bom["components"]:
        name, version = component["name"], component["version"]
        assert component["purl"].startswith(f"pkg:cargo/{name}@{version}"), component["purl"]
        assert component.get("licenses"), f"{name} has no license"
        if component["bom-ref"].startswith("registry+"):
            hashes = {h["alg"] for h in component.get("hashes", [])}
            assert "SHA-256" in hashes, f"{name} {version} has no crates.io checksum"
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs))


# target/composed/api.wasm, what ships: the HTTP component and the model components it imports.
# The HTTP component and every built-in model spin.toml lists.
LISTED = [Path(path).stem for path in
          tomllib.loads((ROOT / "spin.toml").read_text())["component"]["api"]["tool"]["model-api"]["models"]]
COMPOSED_PARTS = sorted(["model-api"] + [
    f"{stem}-component" for stem in LISTED if (ROOT / "crates" / "models" / stem).is_dir()
] + (["onnx-model-component"] if any((ROOT / "models" / stem / "model.toml").is_file() for stem in LISTED)
     else []))


def test_the_composed_components_sbom_is_valid_and_lists_every_part_and_their_crates():
    text = (ROOT / "target" / "sbom" / "api.cdx.json").read_text()
    error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    assert error is None, error
    bom = json.loads(text)
    root = bom["metadata"]["component"]["bom-ref"]
    by_ref = {c["bom-ref"]: c for c in bom["components"]}
    graph = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert sorted(by_ref[r]["name"] for r in graph[root]) == COMPOSED_PARTS
    for part in COMPOSED_PARTS:
        crates = {(c["name"], c["version"]) for c in sbom(part)["components"]}
        assert crates <= {(c["name"], c["version"]) for c in bom["components"]}, part
    assert len(by_ref) == len(bom["components"])
    for component in bom["components"]:
        assert component["purl"].startswith(f"pkg:cargo/{component['name']}@"), component["purl"]

"""spin.toml: valid against Spin 3.6.3's own schema and the rules Spin applies beyond it, and
routed the way the exporter needs. (The schema alone passed a manifest Spin refuses, so
`tests/spin/` also has Spin itself load it.)"""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema
import pytest

from scripts.serve_local import load_routes, pick_route
from tests.support.paths import HTTP_WASM, ROOT

SCHEMA = ROOT / "tests" / "data" / "spin" / "spin-manifest-v2.schema.json"
MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())


def test_the_manifest_validates_against_spin_3_6_3s_schema():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(MANIFEST, schema)


def test_the_application_is_model_api_manifest_version_2():
    assert MANIFEST["spin_manifest_version"] == 2
    assert MANIFEST["application"]["name"] == "model-api"


def test_no_component_may_reach_the_network():
    for name, component in MANIFEST["component"].items():
        assert component["allowed_outbound_hosts"] == [], name


def test_every_component_has_a_build_command_producing_its_source():
    for name, component in MANIFEST["component"].items():
        assert component["build"]["command"] == f"scripts/build.sh {name}", name
        assert component["source"].startswith("target/wasm32-wasip2/release/"), name
        assert (ROOT / component["source"]).exists(), name


def test_the_api_depends_on_exactly_the_models_it_imports():
    """Spin composes each dependency into the import of the same name: one per model import of
    the HTTP component, no more (an unused dependency is an error in Spin) and no fewer."""
    from test_component_artifact import wit_of, world_items

    dependencies = MANIFEST["component"]["api"]["dependencies"]
    imports = [n for n in world_items(wit_of(HTTP_WASM), "import") if not n.startswith("wasi:")]
    assert sorted(dependencies) == sorted(imports)


def test_every_dependency_is_a_built_model_component_exporting_the_contract():
    from test_component_artifact import wit_of, world_items

    for name, dependency in MANIFEST["component"]["api"]["dependencies"].items():
        path = ROOT / dependency["path"]
        wit = wit_of(path)
        # A named import takes the model's contract export; the interface import takes the
        # export of its own name.
        assert world_items(wit, "export") == [dependency.get("export", name)], name
        assert world_items(wit, "import") == [], name


def spin_word_problem(name: str, delimiter: str = "-") -> str | None:
    """Spin 3.6.3's rule for an id such as a plain dependency name (spin-serde `Id`,
    crates/serde/src/id.rs): non-empty words separated by `delimiter`, each starting with an
    ASCII letter, alphanumeric, and all lowercase or all uppercase."""
    for word in name.split(delimiter):
        if not word:
            return "empty word"
        if not word[0].isascii() or not word[0].isalpha():
            return f"{word!r} does not start with an ASCII letter"
        if not re.fullmatch(r"[a-z][a-z0-9]*|[A-Z][A-Z0-9]*", word):
            return f"{word!r} mixes cases or has a character that is not alphanumeric ASCII"
    return None


def test_every_dependency_name_is_one_spin_accepts():
    """A plain name is a kebab id; a package name (`ns:pkg/interface@version`) has kebab
    namespace, package and interface."""
    for name in MANIFEST["component"]["api"]["dependencies"]:
        parts = re.split(r"[:/]", name.split("@")[0]) if ":" in name else [name]
        assert [spin_word_problem(part) for part in parts] == [None] * len(parts), name


@pytest.mark.parametrize("name,accepted", [
    ("prevent", True), ("model-two", True), ("healthcare", True),
    ("prevent-2023", False), ("pce-2013", False), ("Prevent", False), ("a--b", False),
])
def test_the_dependency_name_rule_is_spins(name, accepted):
    assert (spin_word_problem(name) is None) == accepted


def test_each_endpoint_family_has_its_own_route_and_the_catch_all_is_last():
    patterns = [t["route"] for t in MANIFEST["trigger"]["http"]]
    for family in ["/predict", "/v2", "/v2/health/...", "/v2/models/...", "/healthz",
                   "/openapi.json", "/docs", "/docs/..."]:
        assert family in patterns
    assert patterns[-1] == "/..."
    assert patterns.count("/...") == 1


@pytest.mark.parametrize("path,component,route", [
    ("/predict", "api", "/predict"),
    ("/v2", "api", "/v2"),
    ("/v2/health/live", "api", "/v2/health/..."),
    ("/v2/models/pce-2013/infer", "api", "/v2/models/..."),
    ("/healthz", "api", "/healthz"),
    ("/openapi.json", "api", "/openapi.json"),
    ("/docs", "docs", "/docs"),
    ("/docs/swagger-ui.css", "docs", "/docs/..."),
    ("/anything/else", "api", "/..."),
])
def test_paths_reach_the_component_spin_would_pick(path, component, route):
    picked = pick_route(load_routes(MANIFEST), path)
    assert (picked.component, picked.pattern) == (component, route)

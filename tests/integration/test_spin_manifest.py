"""spin.toml: valid against Spin 3.6.3's own schema and the rules Spin applies beyond it, and
routed the way the exporter needs. (The schema alone passed a manifest Spin refuses, so
`tests/spin/` also has Spin itself load it.)"""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from scripts.serve_local import load_routes, needs_spin, pick_route
from tests.support.paths import CONTRACT, HTTP_WASM, ROOT

SCHEMA = ROOT / "tests" / "data" / "spin" / "spin-manifest-v2.schema.json"
MANIFEST = tomllib.loads((ROOT / "spin.toml").read_text())


def test_the_manifest_validates_against_spin_3_6_3s_schema():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(MANIFEST, schema)


def test_the_application_is_model_api_manifest_version_2():
    assert MANIFEST["spin_manifest_version"] == 2
    assert MANIFEST["application"]["name"] == "model-api"


def test_no_component_may_reach_the_network():
    """The API and the docs reach nothing; the clinical component reaches the API, by Spin's
    local service chaining (`*.spin.internal` never leaves the process), and the one EHR FHIR
    server an operator allows, by default none: a `.invalid` name (RFC 6761), which never
    resolves."""
    hosts = {name: component["allowed_outbound_hosts"] for name, component in MANIFEST["component"].items()}
    assert hosts == {"api": [], "docs": [], "clinical": ["http://api.spin.internal", "{{ cds_fhir_server }}"]}
    assert MANIFEST["variables"]["cds_fhir_server"]["default"].endswith(".invalid")


def test_every_component_has_a_build_command_producing_its_source():
    for name, component in MANIFEST["component"].items():
        assert component["build"]["command"] == f"scripts/build.sh {name}", name
        assert component["source"].startswith(("target/wasm32-wasip2/release/", "target/composed/")), name
        assert (ROOT / component["source"]).exists(), name


def test_the_api_is_served_composed_with_no_load_time_dependency():
    """scripts/build.sh composes the listed models into the API: Spin loads one component."""
    api = MANIFEST["component"]["api"]
    assert api["source"] == "target/composed/api.wasm"
    assert "dependencies" not in api


def test_the_api_imports_exactly_one_instance_per_listed_model():
    from test_component_artifact import wit_of, world_items

    models = MANIFEST["component"]["api"]["tool"]["model-api"]["models"]
    imports = [n for n in world_items(wit_of(HTTP_WASM), "import") if not n.startswith(("wasi:", "healthcare:"))]
    assert imports == [f"model{index}" for index in range(len(models))]


def test_every_listed_model_is_a_built_component_exporting_only_the_contract():
    from test_component_artifact import wit_of, world_items

    models = MANIFEST["component"]["api"]["tool"]["model-api"]["models"]
    assert len(models) == len(set(models)) >= 2
    for path in models:
        wit = wit_of(ROOT / path)
        assert world_items(wit, "export") == [CONTRACT], path
        assert world_items(wit, "import") == [], path


def test_four_routes_the_documentation_the_clinical_endpoints_and_a_catch_all_for_the_api():
    # Spin prepares a component once per route naming it: every route more costs start-up time
    # (docs/design/model-wiring.md, "Cold start and routes"). The exporter names requests by
    # the endpoints the components declare instead.
    routes = [(t["route"], t["component"]) for t in MANIFEST["trigger"]["http"]]
    assert routes == [("/docs/...", "docs"), ("/fhir/...", "clinical"), ("/cds-services/...", "clinical"),
                      ("/...", "api")]
    declared = MANIFEST["component"]["api"]["tool"]["model-exporter"]["endpoints"]
    for endpoint in ["/predict", "/models", "/models/{name}", "/v2", "/v2/health/live",
                     "/v2/health/ready", "/v2/models/{name}", "/v2/models/{name}/infer", "/healthz",
                     "/openapi.json"]:
        assert endpoint in declared


@pytest.mark.parametrize("path,component,route", [
    ("/predict", "api", "/..."),
    ("/v2", "api", "/..."),
    ("/v2/health/live", "api", "/..."),
    ("/v2/models/pce-2013/infer", "api", "/..."),
    ("/healthz", "api", "/..."),
    ("/openapi.json", "api", "/..."),
    ("/docs", "docs", "/docs/..."),
    ("/docs/swagger-ui.css", "docs", "/docs/..."),
    ("/fhir/RiskAssessment/$predict", "clinical", "/fhir/..."),
    ("/fhirx", "api", "/..."),
    ("/cds-services", "clinical", "/cds-services/..."),
    ("/cds-services/pce-2013/feedback", "clinical", "/cds-services/..."),
    ("/documents", "api", "/..."),
    ("/anything/else", "api", "/..."),
])
def test_paths_reach_the_component_spin_would_pick(path, component, route):
    picked = pick_route(load_routes(MANIFEST), path)
    assert (picked.component, picked.pattern) == (component, route)


def test_the_fallback_runner_runs_every_component_but_the_one_needing_spin():
    """scripts/serve_local.py runs components under wasmtime, which has no Spin variables,
    key-value store or local service chaining: the clinical component needs all three, and its
    routes answer 503 there; the API and the docs need none."""
    assert {name: needs_spin(c) for name, c in MANIFEST["component"].items()} == {
        "api": False, "docs": False, "clinical": True}

"""Fixtures of the Kubernetes manifest tests: the rendered kustomizations, and one real run of
the exporter (what it exposes, and a PromQL checker that knows it).

kubectl (with kustomize built in) comes from scripts/setup.sh (.venv/bin/kubectl); the CRD
schemas from tests/data/crds; the exporter binary is built with
exporter/Dockerfile's own cargo command (scripts/test.sh does it first).
"""

from __future__ import annotations

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

import exporter_run
import manifests
import promql_check
from tests.support.exporter import Exporter, ensure_binary

TARGETS = manifests.targets()


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """Target name (k8s, k8s/overlays/NAME) -> the objects it applies."""
    return {name: manifests.render(path) for name, path in TARGETS.items()}


@pytest.fixture(scope="session")
def base(rendered) -> list[dict]:
    """What `kubectl apply -k k8s/` applies."""
    return rendered["k8s"]


@pytest.fixture(params=sorted(TARGETS), scope="session")
def target(request, rendered) -> tuple[str, list[dict]]:
    """Each kustomization in turn: (name, objects)."""
    return request.param, rendered[request.param]


# --- a real exporter run (exporter_run.py) ----------------------------------------------------


@pytest.fixture(scope="session")
def exposition(tmp_path_factory) -> str:
    exporter = Exporter(ensure_binary(), tmp_path_factory.mktemp("exporter") / "exporter.log", "--log", "warn")
    exporter.start()
    try:
        exporter_run.feed(exporter)
        content_type, text = exporter_run.scrape_as_prometheus(exporter)
    finally:
        exporter.stop()
    assert content_type.startswith("application/openmetrics-text")
    return text


@pytest.fixture(scope="session")
def exposed(exposition) -> dict[str, set[str]]:
    return exporter_run.exposed_series(exposition)


@pytest.fixture(scope="session")
def exposed_values(exposition) -> dict[tuple[str, str], set[str]]:
    values: dict[tuple[str, str], set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            for label, value in sample.labels.items():
                values.setdefault((sample.name, label), set()).add(value)
    return values


@pytest.fixture(scope="session")
def checker(base, exposed) -> promql_check.Checker:
    """Knows the exporter's series, Prometheus' `up`, and every recording rule's output."""
    checker = promql_check.Checker({**exposed, **promql_check.SCRAPE_SERIES})
    for rule in [r for g in manifests.one(base, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]:
        if "record" in rule:
            labels, usage = checker.check(rule["expr"])
            assert usage.problems == [], rule["record"]
            checker.record(rule["record"], labels | set(rule.get("labels", {})))
    return checker

"""Fixtures of the Kubernetes manifest tests: the rendered kustomizations.

kubectl (with kustomize built in) comes from scripts/setup.sh (.venv/bin/kubectl); the CRD
schemas from ../shared/schemas/crds beside the repository.
"""

from __future__ import annotations

import pytest

import manifests

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

"""docs/deployment.md tells the truth: its traffic loop sends requests the service accepts, its
PromQL reads series that exist, the files it names exist, and it documents the exporter's
Dockerfile and the corrected query of the original README."""

from __future__ import annotations

import re
import shlex

import pytest
import requests

import manifests
from tests.support import markdown
from tests.support.exporter import dockerfile_build
from tests.support.paths import API_WASM, ROOT
from tests.support.service import serve_component

DOC = ROOT / "docs" / "deployment.md"


def text() -> str:
    return DOC.read_text()


def code_blocks(language: str) -> list[str]:
    return markdown.code_blocks(text(), language)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory):
    """The release API component (composed with its models) under `wasmtime serve`
    (scripts/test.sh builds it first)."""
    url, process = serve_component(API_WASM, tmp_path_factory.mktemp("wasmtime") / "wasmtime.log")
    with process:
        yield url


def test_the_traffic_loop_sends_requests_the_service_answers_200(api_url):
    (loop,) = [b for b in code_blocks("sh") if "while true" in b]
    bodies = dict(re.findall(r"^(\w+)='(.*)'$", loop, flags=re.M))
    calls = re.findall(r"(localhost:8080(/\S+))\s*\\?\s*\n?\s*-H '([^']+)' -d \"\$(\w+)\"", loop)
    assert len(calls) == 2, calls
    for _, path, header, body in calls:
        name, value = header.split(": ", 1)
        response = requests.post(f"{api_url}{path}", data=bodies[body], headers={name: value}, timeout=5)
        assert response.status_code == 200, (path, response.text)


def test_the_health_route_the_probes_use_answers_200(api_url, base):
    path = manifests.one(base, "SpinApp")["spec"]["checks"]["readiness"]["httpGet"]["path"]
    assert requests.get(f"{api_url}{path}", timeout=5).status_code == 200


def test_the_corrected_promql_of_the_original_readme_is_there():
    assert 'rate(http_requests_total{job="model-api-metrics"}[1m])' in text()
    assert 'job="serviceMonitor/default/model-api-servicemonitor/0"' in text(), "says what was wrong"


def test_every_documented_query_reads_series_that_exist(checker):
    queries = [line for block in code_blocks("promql") for line in block.splitlines() if line.strip()]
    assert len(queries) >= 5
    for query in queries:
        _, usage = checker.check(query)
        assert usage.problems == [], query


def test_every_file_the_doc_names_exists():
    named = set(re.findall(r"(?<![\w/.-])((?:k8s|docs|exporter|tests|scripts)/[\w./-]*[\w/])", text()))
    named |= {"runtime-class.yaml"}
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []


def test_the_doc_documents_the_exporter_dockerfile_and_its_static_binary():
    assert "docker build -f exporter/Dockerfile" in text()
    build, binary = dockerfile_build()
    assert shlex.join(build) in text()
    assert str(binary.relative_to(ROOT)) in text()


# --- one tested path per cluster kind (step 6) --------------------------------------------------

import shlex as _shlex  # noqa: E402

from test_variants import created_deployments  # noqa: E402

K3D_PATH = "#### On the SpinKube k3d cluster of step 1 (k3s v1.35): `k8s/overlays/pre-1.36`"
NEW_PATH = "#### On Kubernetes 1.36+: `k8s/`"


def section(heading: str) -> str:
    return markdown.section(DOC, heading)


def commands(block: str) -> list[list[str]]:
    lines = re.sub(r"\\\n\s*", " ", block).splitlines()
    return [_shlex.split(line, comments=True) for line in lines if line.strip() and not line.startswith("#")]


def path_commands(heading: str) -> list[list[str]]:
    """The commands of a path's first shell block: its deployment steps."""
    return commands(re.findall(r"```sh\n(.*?)```", section(heading), flags=re.S)[0])


def kustomization_of(command: list[str]) -> str:
    return command[command.index("-k") + 1].rstrip("/")


@pytest.mark.parametrize("heading, variant", [(K3D_PATH, "k8s/overlays/pre-1.36"), (NEW_PATH, "k8s")])
def test_each_cluster_kind_has_a_path_that_works_with_its_variant(rendered, heading, variant):
    steps = path_commands(heading)
    docs = rendered[variant]
    applies = [c for c in steps if c[:2] == ["kubectl", "apply"]]
    assert {kustomization_of(c) for c in applies} == {variant}
    # The executor alone first (what the -l selector picks is the executor, nothing else), a
    # wait for it, then everything.
    first, everything = applies
    selector = dict(s.split("=") for s in first[first.index("-l") + 1].split(","))
    picked = [d for d in docs if manifests.selector_matches(selector, d["metadata"].get("labels", {}))]
    assert [d["kind"] for d in picked] == ["SpinAppExecutor"]
    assert "-l" not in everything
    wait = steps[steps.index(first) + 1]
    executor = manifests.one(docs, "SpinAppExecutor")
    assert wait[:3] == ["kubectl", "wait", "--for=create"] and wait[3] == f"spinappexecutor/{executor['metadata']['name']}"
    assert steps.index(wait) < steps.index(everything)
    # Whatever the path waits on exists in this variant and reports what is waited for.
    for step in steps[steps.index(everything) + 1:]:
        for word in step:
            if word.startswith("deploy/"):
                assert word.removeprefix("deploy/") in created_deployments(docs), (variant, step)
            if word.startswith("spinapp/"):
                assert executor["spec"]["createDeployment"], "the operator keeps no SpinApp status here"


def test_the_k3d_cluster_of_the_walkthrough_gets_the_pre_1_36_variant():
    """SpinKube's k3d image v0.24.0 is k3s v1.35: no MutatingAdmissionPolicy."""
    assert "containerd-shim-spin/k3d:v0.24.0" in text()
    assert kustomization_of(path_commands(K3D_PATH)[0]) == "k8s/overlays/pre-1.36"
    assert "kubectl api-resources | grep mutatingadmissionpolicies" in text()


def test_remove_names_the_kustomization_each_path_applied():
    removes = [c for c in commands(re.findall(r"```sh\n(.*?)```", section("### Remove"), flags=re.S)[0])
               if c[:3] == ["kubectl", "delete", "-k"]]
    applied = {kustomization_of(path_commands(h)[0]) for h in (K3D_PATH, NEW_PATH)}
    assert {kustomization_of(c) for c in removes} == applied


def test_the_operators_deployment_is_named_only_where_the_operator_renders_one(rendered):
    """`deploy/model-api` exists on 1.36+ only; every section that names it says so."""
    assert "model-api" not in created_deployments(rendered["k8s/overlays/pre-1.36"])
    heading, fenced, block = "", False, []
    for line in text().splitlines():
        if line.startswith("```"):
            if fenced and re.search(r"deploy/model-api\b(?!-)", "\n".join(block)):
                assert "1.36+" in heading, heading
            fenced, block = not fenced, []
        elif fenced:
            block.append(line)
        elif line.startswith("#"):
            heading = line


def test_the_namespace_labels_of_the_walkthrough_are_the_overlays(rendered):
    (command,) = [c for c in commands("\n".join(code_blocks("sh"))) if c[:3] == ["kubectl", "label", "namespace"]]
    labels = dict(word.split("=") for word in command[4:])
    assert labels == manifests.one(rendered["k8s/overlays/other-namespace"], "Namespace")["metadata"]["labels"]

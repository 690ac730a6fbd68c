"""Every kustomization renders, and every object it applies is valid: built-in kinds against
the Kubernetes 1.36 schemas in strict mode, custom resources against their CRDs' schemas with
unknown fields refused (the API server would prune them silently)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

import manifests
from manifests import K8S, RUNTIME_CLASS


def validate(doc: dict) -> list[str]:
    if manifests.is_custom(doc):
        return manifests.validate_custom(doc)
    try:
        manifests.validate_builtin(doc)
    except kubernetes_validate.ValidationError as e:
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"]
    return []


def test_the_base_and_every_overlay_render(rendered):
    assert set(rendered) == {"k8s", "k8s/overlays/autoscaling", "k8s/overlays/other-namespace",
                             "k8s/overlays/pre-1.36", "k8s/overlays/runtime-class-manager"}
    for name, docs in rendered.items():
        assert docs, f"{name} renders nothing"


def test_every_component_is_used_by_an_overlay():
    used = set()
    for name, path in manifests.targets().items():
        kustomization = manifests.load_file(path / "kustomization.yaml")[0]
        used |= {(path / c).resolve() for c in kustomization.get("components", [])}
    assert {c.resolve() for c in manifests.components()} <= used


def test_every_object_is_valid_against_its_schema(target):
    name, docs = target
    problems = {f"{d['kind']}/{d['metadata']['name']}": validate(d) for d in docs}
    assert {k: v for k, v in problems.items() if v} == {}, name


def test_the_runtime_class_file_is_valid():
    (doc,) = manifests.load_file(RUNTIME_CLASS)
    assert validate(doc) == []
    assert (doc["kind"], doc["metadata"]["name"], doc["handler"]) == ("RuntimeClass", "wasmtime-spin-v2", "spin")


def test_every_kind_has_a_schema(target):
    """No object escapes validation: each kind is a Kubernetes 1.36 kind or one of the CRDs."""
    _, docs = target
    for doc in docs:
        assert manifests.is_custom(doc) or manifests.builtin_schema_exists(doc["apiVersion"], doc["kind"]), doc["kind"]


def test_kubernetes_1_36_strict_schemas_know_mutating_admission_policy_v1():
    for kind in ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"):
        assert manifests.builtin_schema_exists("admissionregistration.k8s.io/v1", kind)


@pytest.mark.parametrize(
    "kind, path",
    [
        ("Service", ("spec", "selectr")),
        ("MutatingAdmissionPolicy", ("spec", "reinvocation")),
        ("NetworkPolicy", ("spec", "ingress", 0, "form")),
        ("SpinApp", ("spec", "containers")),
        ("SpinApp", ("spec", "checks", "readiness", "httpGet", "port")),
        ("SpinAppExecutor", ("spec", "deploymentConfig", "otel", "exporter_otlp_protocol")),
        ("ServiceMonitor", ("spec", "endpoints", 0, "intervall")),
        ("PrometheusRule", ("spec", "groups", 0, "rules", 0, "alerts")),
        ("SpinApp", ("metadata", "labelz")),
    ],
)
def test_validation_refuses_unknown_fields(base, kind, path):
    """The validation is strict: a misspelt or unsupported field fails, built-in or custom."""
    doc = copy.deepcopy(manifests.find(base, kind)[0])
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = 1
    assert validate(doc), f"{kind} with {'.'.join(map(str, path))} passed validation"


def test_validation_refuses_wrong_types(base):
    doc = copy.deepcopy(manifests.one(base, "SpinApp"))
    doc["spec"]["replicas"] = "two"
    assert validate(doc)
    doc = copy.deepcopy(manifests.one(base, "Service", manifests.METRICS_SERVICE))
    doc["spec"]["ports"][0]["port"] = "http"
    assert validate(doc)


def test_cluster_scoped_objects_have_no_namespace_and_the_rest_share_the_apps(target):
    name, docs = target
    spinapp = manifests.one(docs, "SpinApp", manifests.APP)
    namespace = spinapp["metadata"]["namespace"]
    assert namespace == ("clinical-risk" if name.endswith("other-namespace") else "default")
    for doc in docs:
        where = doc["metadata"].get("namespace")
        if manifests.is_cluster_scoped(doc):
            assert where is None, f"{doc['kind']} is cluster-scoped but has namespace {where}"
        else:
            assert where == namespace, f"{doc['kind']}/{doc['metadata']['name']} in {where}"


def test_the_pre_1_36_overlay_applies_no_admission_policy(rendered):
    docs = rendered["k8s/overlays/pre-1.36"]
    assert not [d for d in docs if d["apiVersion"].startswith("admissionregistration.k8s.io/")]
    assert manifests.one(docs, "SpinAppExecutor")["spec"]["createDeployment"] is False
    assert manifests.one(docs, "Deployment")["metadata"]["name"] != manifests.APP, \
        "with createDeployment false the operator deletes a Deployment named like the SpinApp"


def test_the_base_injects_with_an_admission_policy_and_lets_the_operator_deploy(base):
    assert manifests.one(base, "SpinAppExecutor")["spec"]["createDeployment"] is True
    assert manifests.find(base, "MutatingAdmissionPolicy") and manifests.find(base, "MutatingAdmissionPolicyBinding")
    assert not manifests.find(base, "Deployment")


def test_the_runtime_class_manager_overlay_brings_no_runtime_class(rendered):
    """runtime-class-manager creates and owns the RuntimeClass on such clusters: applying one
    would fight it, and `kubectl delete -k` would remove it from under every Spin app."""
    docs = rendered["k8s/overlays/runtime-class-manager"]
    assert manifests.find(docs, "RuntimeClass") == []
    executor = manifests.one(docs, "SpinAppExecutor")
    (plain,) = manifests.load_file(RUNTIME_CLASS)
    # SpinKube's default name, which runtime-class-manager's Spin Shim sample gives its class.
    assert executor["spec"]["deploymentConfig"]["runtimeClassName"] == plain["metadata"]["name"]


def test_the_autoscaling_overlay_scales_the_operators_deployment(rendered):
    docs = rendered["k8s/overlays/autoscaling"]
    spinapp = manifests.one(docs, "SpinApp")
    hpa = manifests.one(docs, "HorizontalPodAutoscaler")
    pdb = manifests.one(docs, "PodDisruptionBudget")
    assert spinapp["spec"]["enableAutoscaling"] is True
    assert "replicas" not in spinapp["spec"], "the operator refuses replicas together with autoscaling"
    # The operator's Deployment is named like the SpinApp.
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": manifests.APP}
    (metric,) = hpa["spec"]["metrics"]
    assert metric["containerResource"]["container"] == spinapp["metadata"]["name"]
    assert "cpu" in spinapp["spec"]["resources"]["requests"], "CPU utilisation needs a CPU request"
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"]


def test_the_manifests_directory_has_one_file_per_component_and_kind():
    names = {p.name for p in (K8S / "base").glob("*.yaml")}
    assert {"spinapp.yaml", "spinappexecutor.yaml", "exporter-mutatingAdmissionPolicy.yaml",
            "exporter-mutatingAdmissionPolicyBinding.yaml", "metrics-service.yaml", "servicemonitor.yaml",
            "prometheusrule.yaml", "grafana-dashboard-configmap.yaml", "networkpolicy.yaml",
            "poddisruptionbudget.yaml", "kustomization.yaml"} <= names


def test_the_injection_is_applied_before_the_app_it_injects_into(target):
    """kubectl applies in the rendered order: the policy, its binding and its parameters must
    be in place before the operator creates the app's pods, and the executor before the app."""
    name, docs = target
    kinds = [d["kind"] for d in docs]
    spinapp = kinds.index("SpinApp")
    assert kinds.index("SpinAppExecutor") < spinapp
    for kind in ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"):
        if kind in kinds:
            assert kinds.index(kind) < spinapp, name
    params = [i for i, d in enumerate(docs) if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "model-exporter-sidecar"]
    assert params and params[0] < spinapp

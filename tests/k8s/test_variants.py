"""Each variant, rendered, holds the invariants that make it work on the cluster it is for:
the sidecar injection present exactly where the operator renders the pods, every Deployment a
variant refers to created by that variant, cluster-scoped objects owned by one namespace each,
incompatible components refused at render time with a message naming both, and an exporter
image change reaching the pod template (so `kubectl apply -k` rolls the pods)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

import manifests
from manifests import APP, K8S

ADMISSION = ("MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding")
EXPORTER_IMAGE_ANNOTATION = "model-api.healthcare-model-service/exporter-image"


def created_deployments(docs: list[dict]) -> set[str]:
    """The Deployments that exist once this variant is applied: its own, plus the operator's
    (named like the SpinApp) when the executor lets the operator create one."""
    own = {d["metadata"]["name"] for d in manifests.find(docs, "Deployment")}
    executor = manifests.one(docs, "SpinAppExecutor")
    spinapp = manifests.one(docs, "SpinApp")
    return own | ({spinapp["metadata"]["name"]} if executor["spec"]["createDeployment"] else set())


def referenced_deployments(docs: list[dict]) -> set[str]:
    return {hpa["spec"]["scaleTargetRef"]["name"] for hpa in manifests.find(docs, "HorizontalPodAutoscaler")
            if hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"}


def test_the_sidecar_comes_from_the_policy_exactly_when_the_operator_renders_the_pods(target):
    name, docs = target
    operator_deploys = manifests.one(docs, "SpinAppExecutor")["spec"]["createDeployment"]
    for kind in ADMISSION:
        assert len(manifests.find(docs, kind)) == (1 if operator_deploys else 0), (name, kind)
    own = manifests.find(docs, "Deployment")
    if operator_deploys:
        assert own == [], name
    else:
        (deployment,) = own
        assert deployment["metadata"]["name"] != APP, "the operator deletes a Deployment named like the app"
        sidecars = [c["name"] for c in deployment["spec"]["template"]["spec"]["initContainers"]]
        assert sidecars == [manifests.SIDECAR]


def test_every_deployment_a_variant_refers_to_is_one_it_creates(target):
    name, docs = target
    assert referenced_deployments(docs) <= created_deployments(docs), name


def test_the_autoscaler_scales_a_deployment_of_the_variant_and_replicas_are_left_to_it(rendered):
    docs = rendered["k8s/overlays/autoscaling"]
    assert referenced_deployments(docs) == {APP} == created_deployments(docs)
    spinapp = manifests.one(docs, "SpinApp")
    assert spinapp["spec"]["enableAutoscaling"] is True and "replicas" not in spinapp["spec"]


def test_the_binding_names_the_policy_of_its_own_variant(target):
    name, docs = target
    if not manifests.find(docs, "MutatingAdmissionPolicy"):
        return
    policy = manifests.one(docs, "MutatingAdmissionPolicy")
    binding = manifests.one(docs, "MutatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == policy["metadata"]["name"], name


def cluster_scoped_names(docs: list[dict]) -> set[tuple[str, str]]:
    return {(d["kind"], d["metadata"]["name"]) for d in docs
            if manifests.is_cluster_scoped(d) and d["kind"] in ADMISSION}


def namespace_of(docs: list[dict]) -> str:
    return manifests.one(docs, "SpinApp")["metadata"]["namespace"]


@pytest.fixture(scope="module")
def third_namespace(tmp_path_factory) -> list[dict]:
    """What the docs say to do for one more namespace: copy other-namespace, change the name."""
    copy = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, copy)
    overlay = copy / "overlays" / "other-namespace"
    for file in ("kustomization.yaml", "namespace.yaml"):
        path = overlay / file
        path.write_text(path.read_text().replace("clinical-risk", "oncology-risk"))
    return manifests.render(overlay)


def test_each_namespace_owns_its_cluster_scoped_objects(rendered, third_namespace):
    """Deleting one namespace's deployment (`kubectl delete -k`) must not take the sidecar
    injection away from another: no cluster-scoped object is shared between namespaces."""
    deployments = [rendered["k8s"], rendered["k8s/overlays/other-namespace"], third_namespace]
    assert len({namespace_of(docs) for docs in deployments}) == 3
    names = [cluster_scoped_names(docs) for docs in deployments]
    assert all(len(n) == 2 for n in names), names
    for i, mine in enumerate(names):
        for theirs in names[i + 1:]:
            assert not mine & theirs, (mine, theirs)
    for docs, mine in zip(deployments, names):
        assert all(name.endswith(f"-{namespace_of(docs)}") for _, name in mine), mine


def test_each_namespaces_binding_selects_only_that_namespaces_pods(rendered, third_namespace):
    for docs in (rendered["k8s"], rendered["k8s/overlays/other-namespace"], third_namespace):
        binding = manifests.one(docs, "MutatingAdmissionPolicyBinding")
        assert binding["spec"]["matchResources"]["namespaceSelector"] == {
            "matchLabels": {"kubernetes.io/metadata.name": namespace_of(docs)}}


def test_a_pod_of_another_namespace_is_not_injected_by_this_namespaces_policy(base):
    policy = manifests.one(base, "MutatingAdmissionPolicy")
    binding = manifests.one(base, "MutatingAdmissionPolicyBinding")
    params = manifests.one(base, "ConfigMap", binding["spec"]["paramRef"]["name"])
    pod = manifests.operator_pod(manifests.one(base, "SpinApp"), manifests.one(base, "SpinAppExecutor"))
    assert manifests.policy_matches(policy, binding, pod, params)
    elsewhere = {**pod, "metadata": {**pod["metadata"], "namespace": "clinical-risk"}}
    assert not manifests.policy_matches(policy, binding, elsewhere, params)


def test_the_other_namespace_overlay_creates_its_namespace_with_pod_security_labels(rendered):
    docs = rendered["k8s/overlays/other-namespace"]
    namespace = manifests.one(docs, "Namespace")
    assert namespace["metadata"]["name"] == namespace_of(docs)
    assert namespace["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
    }
    assert docs[0] is namespace or docs.index(namespace) == 0, "the namespace is applied first"


def test_no_variant_brings_a_runtime_class(target):
    """The RuntimeClass is the cluster's (runtime-class.yaml, applied once) or
    runtime-class-manager's: no app deployment applies or deletes one."""
    name, docs = target
    assert manifests.find(docs, "RuntimeClass") == [], name


# --- incompatible components -----------------------------------------------------------------


@pytest.mark.parametrize("order", [("own-deployment", "autoscaling"), ("autoscaling", "own-deployment")])
def test_combining_pre_1_36_with_autoscaling_fails_at_render_time_naming_both(tmp_path, order):
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    overlay = copy / "overlays" / "combined"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": ["../../base"], "components": [f"../../components/{c}" for c in order]}))
    result = subprocess.run([manifests.kubectl(), "kustomize", str(overlay)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0, "combining them must not render"
    assert "k8s/components/own-deployment" in result.stderr and "k8s/components/autoscaling" in result.stderr, \
        result.stderr


# --- image changes roll the pods ---------------------------------------------------------------


def pod_templates(docs: list[dict]) -> dict[str, dict]:
    """What each variant's pods are made from: the operator's pod (SpinApp and executor) on
    1.36+, our own Deployment's template before."""
    templates = {f"Deployment/{d['metadata']['name']}": d["spec"]["template"]
                 for d in manifests.find(docs, "Deployment")}
    if manifests.one(docs, "SpinAppExecutor")["spec"]["createDeployment"]:
        pod = manifests.operator_pod(manifests.one(docs, "SpinApp"), manifests.one(docs, "SpinAppExecutor"))
        templates["operator"] = {"metadata": {"labels": pod["metadata"]["labels"],
                                              "annotations": pod["metadata"]["annotations"]},
                                 "spec": pod["spec"]}
    return templates


def test_a_new_exporter_image_changes_every_pod_template(tmp_path):
    """The policy injects only at pod creation, from a ConfigMap no Deployment references: the
    image must also be on the pod template, or `kubectl apply -k` would leave the old sidecar
    running. Same for the pre-1.36 Deployment, whose template holds the sidecar itself."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    path = copy / "base" / "kustomization.yaml"
    kustomization = yaml.safe_load(path.read_text())
    for entry in kustomization["images"]:
        if entry["name"] == manifests.EXPORTER_IMAGE_NAME:
            entry["newTag"] = "1.0.1"
    path.write_text(yaml.safe_dump(kustomization))
    for name, overlay in manifests.targets(copy).items():
        before = pod_templates(manifests.render(K8S / overlay.relative_to(copy)))
        after = pod_templates(manifests.render(overlay))
        assert before.keys() == after.keys() and before, name
        for which in before:
            assert before[which] != after[which], (name, which)
            annotations = after[which]["metadata"]["annotations"]
            assert annotations[EXPORTER_IMAGE_ANNOTATION].endswith(":1.0.1"), (name, which)

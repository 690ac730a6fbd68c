"""Pod Security Standards (pod_security.py holds the controls, with their source): the app's
pods meet Baseline, which the namespaces are labelled to enforce; the injected exporter
sidecar meets Restricted on its own; and Spin's container, as the operator renders it, cannot
meet Restricted, for exactly the reasons docs/deployment.md gives (SpinApp v0.6.1 has no
securityContext field and the operator sets none)."""

from __future__ import annotations

import copy

import pytest

import manifests
import pod_security
from manifests import SIDECAR


@pytest.fixture(scope="module")
def injected(base) -> dict:
    policy = manifests.one(base, "MutatingAdmissionPolicy")
    binding = manifests.one(base, "MutatingAdmissionPolicyBinding")
    params = manifests.one(base, "ConfigMap", binding["spec"]["paramRef"]["name"])
    pod = manifests.operator_pod(manifests.one(base, "SpinApp"), manifests.one(base, "SpinAppExecutor"))
    return manifests.admit(policy, binding, params, pod)


@pytest.fixture(scope="module")
def pre136_pod(rendered) -> dict:
    return manifests.one(rendered["k8s/overlays/pre-1.36"], "Deployment")["spec"]["template"]


def only(pod_spec: dict, name: str) -> dict:
    """The pod spec with one container, for checking a container on its own."""
    spec = {k: v for k, v in pod_spec.items() if k not in ("containers", "initContainers")}
    chosen = [c for c in pod_spec["containers"] + pod_spec.get("initContainers", []) if c["name"] == name]
    return {**spec, "containers": chosen}


@pytest.mark.parametrize("which", ["injected", "pre136_pod"])
def test_the_apps_pods_meet_baseline(request, which):
    pod = request.getfixturevalue(which)
    assert pod_security.violations(pod["spec"], "baseline") == {}


@pytest.mark.parametrize("which", ["injected", "pre136_pod"])
def test_the_exporter_sidecar_meets_restricted(request, which):
    pod = request.getfixturevalue(which)
    assert pod_security.violations(only(pod["spec"], SIDECAR), "restricted") == {}


def test_spins_container_fails_restricted_only_for_the_security_context_spinapp_cannot_set(injected):
    spin = only(injected["spec"], manifests.APP)
    assert set(pod_security.violations(spin, "restricted")) == {
        "privilege_escalation", "running_as_non_root", "seccomp_restricted", "capabilities_restricted"}


def test_the_namespace_labels_enforce_what_the_pods_meet(rendered):
    labels = manifests.one(rendered["k8s/overlays/other-namespace"], "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == labels["pod-security.kubernetes.io/audit"] == "restricted"


# --- the checker tells a violation when it sees one ------------------------------------------


@pytest.mark.parametrize("change, level, control", [
    (lambda s: s.update(hostNetwork=True), "baseline", "host_namespaces"),
    (lambda s: s["initContainers"][0]["securityContext"].update(privileged=True), "baseline", "privileged_containers"),
    (lambda s: s["initContainers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "baseline",
     "capabilities_baseline"),
    (lambda s: s.update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]), "baseline", "host_path_volumes"),
    (lambda s: s["initContainers"][0]["ports"][0].update(hostPort=4318), "baseline", "host_ports"),
    (lambda s: s["initContainers"][0]["livenessProbe"]["httpGet"].update(host="10.0.0.1"), "baseline",
     "host_probes_and_lifecycle_hooks"),
    (lambda s: s["initContainers"][0]["securityContext"].update(seccompProfile={"type": "Unconfined"}), "baseline",
     "seccomp_baseline"),
    (lambda s: s["initContainers"][0]["securityContext"].update(allowPrivilegeEscalation=True), "restricted",
     "privilege_escalation"),
    (lambda s: s["initContainers"][0]["securityContext"].update(runAsUser=0), "restricted", "running_as_non_root_user"),
    (lambda s: s["initContainers"][0]["securityContext"].pop("runAsNonRoot"), "restricted", "running_as_non_root"),
    (lambda s: s["initContainers"][0]["securityContext"]["capabilities"].update(drop=["NET_RAW"]), "restricted",
     "capabilities_restricted"),
    (lambda s: s.update(volumes=[{"name": "n", "nfs": {"server": "x", "path": "/"}}]), "restricted", "volume_types"),
])
def test_the_checker_finds_each_kind_of_violation(injected, change, level, control):
    spec = copy.deepcopy(only(injected["spec"], SIDECAR))
    spec["initContainers"], spec["containers"] = spec["containers"], []
    assert pod_security.violations(spec, level) == {}
    change(spec)
    assert control in pod_security.violations(spec, level)

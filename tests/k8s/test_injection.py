"""The exporter sidecar: what the MutatingAdmissionPolicy adds to the pods the operator
renders (its CEL evaluated with cel-python, its JSON patches applied in order), and the
pre-1.36 Deployment that carries the same sidecar."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

import manifests
from manifests import APP, NAME_LABEL, SIDECAR, SPIN_HTTP_PORT


@pytest.fixture(scope="module")
def policy(base):
    return manifests.one(base, "MutatingAdmissionPolicy")


@pytest.fixture(scope="module")
def binding(base):
    return manifests.one(base, "MutatingAdmissionPolicyBinding")


@pytest.fixture(scope="module")
def params(base, binding):
    return manifests.one(base, "ConfigMap", binding["spec"]["paramRef"]["name"])


@pytest.fixture(scope="module")
def operator_pod(base):
    return manifests.operator_pod(manifests.one(base, "SpinApp"), manifests.one(base, "SpinAppExecutor"))


@pytest.fixture(scope="module")
def injected(policy, binding, params, operator_pod):
    return manifests.admit(policy, binding, params, operator_pod)


def sidecars(pod: dict) -> list[dict]:
    return [c for c in pod["spec"].get("initContainers", []) if c["name"] == SIDECAR]


def test_the_operators_pod_is_valid_before_injection(operator_pod):
    manifests.validate_builtin(operator_pod)


def test_the_policy_injects_the_exporter_into_the_apps_pods(injected, operator_pod, params):
    (sidecar,) = sidecars(injected)
    assert sidecar["image"] == params["data"]["image"] == "ghcr.io/healthcare-model-service/model-exporter:1.0.0"
    # Spin's container is left as the operator rendered it.
    assert injected["spec"]["containers"] == operator_pod["spec"]["containers"]


def test_the_injected_pod_is_a_valid_kubernetes_1_36_pod(injected):
    manifests.validate_builtin(injected)


def test_a_misspelt_field_in_the_policy_would_make_the_pod_invalid(policy, binding, params, operator_pod):
    """The check above is strict: the injected container's fields are checked against Pod."""
    broken = copy.deepcopy(policy)
    mutation = broken["spec"]["mutations"][-1]["jsonPatch"]
    mutation["expression"] = mutation["expression"].replace("restartPolicy:", "restartPolicyy:")
    with pytest.raises(kubernetes_validate.ValidationError):
        manifests.validate_builtin(manifests.admit(broken, binding, params, operator_pod))


def test_every_object_is_built_from_the_type_of_the_field_it_fills(policy, params, operator_pod):
    """`Object.spec.initContainers.ports{...}` must sit in initContainers[].ports, and so on:
    the API server type-checks the expression against the Pod schema."""
    misplaced: list = []
    pod = operator_pod
    for mutation in policy["spec"]["mutations"]:
        manifests.evaluate_mutation(mutation, params, pod, misplaced)
        pod = manifests.apply_mutation(pod, mutation, params)
    assert misplaced == []


def test_the_policy_sets_no_atomic_field_through_an_apply_configuration(policy, params, injected):
    """The API server refuses apply configurations that set atomic lists, maps or structs.
    The sidecar's capabilities.drop is one, hence JSON patches; any apply configuration the
    policy has must stay clear of them."""
    (sidecar,) = sidecars(injected)
    as_apply_configuration = {"spec": {"initContainers": [sidecar]}}
    assert "/spec/initContainers[]/securityContext/capabilities/drop" in manifests.find_atomics(as_apply_configuration)
    for mutation in policy["spec"]["mutations"]:
        if mutation["patchType"] == "ApplyConfiguration":
            assert manifests.find_atomics(manifests.evaluate_mutation(mutation, params, injected)) == []


def test_no_patch_value_holds_an_object_initializer_inside_a_list(policy):
    """kubernetes/kubernetes#142181: on 1.36.0-1.36.3 such a patch panics the API server and no
    pod of the app is created, failurePolicy Ignore notwithstanding (see the policy's header)."""
    for mutation in policy["spec"]["mutations"]:
        if mutation["patchType"] == "JSONPatch":
            assert manifests.objects_inside_patch_value_lists(mutation["jsonPatch"]["expression"]) == []


@pytest.mark.parametrize("expression,unsafe", [
    # The shape that panicked: the pod's init containers plus the sidecar, as one list value.
    ('[JSONPatch{op: "add", path: "/spec/initContainers", value: (has(object.spec.initContainers) ? '
     'object.spec.initContainers : []) + [Object.spec.initContainers{name: "x"}]}]', True),
    ('[JSONPatch{op: "add", path: "/spec/initContainers", value: [Object.spec.initContainers{name: "x"}]}]', True),
    # The safe shape: an empty list, then the Object as the whole value (lists in its fields are fine).
    ('[JSONPatch{op: "add", path: "/spec/initContainers", value: []}, JSONPatch{op: "add", '
     'path: "/spec/initContainers/-", value: Object.spec.initContainers{name: "x", '
     'env: [Object.spec.initContainers.env{name: "A", value: "b"}]}}]', False),
    ('[JSONPatch{op: "replace", path: "/spec/x", value: (Object.spec.x{a: 1})}]', False),
])
def test_the_check_tells_the_unsafe_shape_from_the_safe_one(expression, unsafe):
    assert bool(manifests.objects_inside_patch_value_lists(expression)) == unsafe


def test_without_init_containers_the_policy_adds_the_list_then_appends_the_sidecar(policy, params, operator_pod):
    (mutation,) = policy["spec"]["mutations"]
    assert "initContainers" not in operator_pod["spec"]
    operations = manifests.evaluate_mutation(mutation, params, operator_pod)
    assert [(op["op"], op["path"]) for op in operations] == [
        ("add", "/spec/initContainers"), ("add", "/spec/initContainers/-")]
    assert operations[0]["value"] == [] and operations[1]["value"]["name"] == SIDECAR
    with_one = {**operator_pod, "spec": {**operator_pod["spec"], "initContainers": [{"name": "a", "image": "b"}]}}
    operations = manifests.evaluate_mutation(mutation, params, with_one)
    assert [(op["op"], op["path"]) for op in operations] == [("add", "/spec/initContainers/-")]


def test_the_sidecar_is_native_and_starts_before_spin(injected):
    (sidecar,) = sidecars(injected)
    assert sidecar["restartPolicy"] == "Always"
    assert sidecar not in injected["spec"]["containers"]
    assert sidecar["startupProbe"]["httpGet"]["path"] == "/readyz"


def test_the_sidecar_has_resources_and_probes(injected):
    (sidecar,) = sidecars(injected)
    assert {"cpu", "memory"} <= set(sidecar["resources"]["requests"])
    assert "memory" in sidecar["resources"]["limits"]
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"), ("startupProbe", "/readyz")):
        assert sidecar[probe]["httpGet"] == {"path": path, "port": 9464}


def test_the_sidecar_runs_restricted(injected):
    """Pod Security Standards 'restricted', and a read-only root filesystem."""
    (sidecar,) = sidecars(injected)
    sc = sidecar["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["runAsUser"] != 0
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc.get("privileged", False) is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}


def test_the_sidecar_has_named_otlp_and_metrics_ports(injected):
    (sidecar,) = sidecars(injected)
    ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
    assert ports == {"otlp-http": 4318, "http-metrics": 9464}


def test_otlp_listens_on_loopback_only(injected):
    (sidecar,) = sidecars(injected)
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    assert env["MODEL_EXPORTER_OTLP_ADDR"] == "127.0.0.1:4318"


def test_no_sidecar_port_collides_with_spin(injected):
    ports = [p["containerPort"] for c in injected["spec"]["initContainers"] + injected["spec"]["containers"]
             for p in c.get("ports", [])]
    assert ports.count(SPIN_HTTP_PORT) == 1, "only Spin listens on 80"
    assert len(ports) == len(set(ports)), f"a port is declared twice: {ports}"
    (sidecar,) = sidecars(injected)
    for env in sidecar["env"]:
        if env["name"].endswith("_ADDR"):
            assert not env["value"].endswith(f":{SPIN_HTTP_PORT}")


def test_spin_exports_to_the_sidecars_otlp_port(base, injected):
    (spin,) = injected["spec"]["containers"]
    endpoint = {e["name"]: e.get("value") for e in spin["env"]}["OTEL_EXPORTER_OTLP_ENDPOINT"]
    (sidecar,) = sidecars(injected)
    otlp = {e["name"]: e["value"] for e in sidecar["env"]}["MODEL_EXPORTER_OTLP_ADDR"]
    assert endpoint == f"http://{otlp}"


def test_injecting_an_already_injected_pod_adds_no_second_copy(policy, binding, params, injected):
    again = manifests.admit(policy, binding, params, injected)
    assert len(sidecars(again)) == 1
    assert again == injected


def test_the_match_condition_skips_injected_pods_and_the_policy_is_not_reinvoked(policy, binding, params, injected):
    assert not manifests.policy_matches(policy, binding, injected, params)
    assert policy["spec"]["reinvocationPolicy"] == "Never"


def test_init_containers_already_there_are_kept_and_the_sidecar_appended(policy, binding, params, operator_pod):
    pod = copy.deepcopy(operator_pod)
    pod["spec"]["initContainers"] = [{"name": "wait-for-db", "image": "busybox", "command": ["true"]}]
    admitted = manifests.admit(policy, binding, params, pod)
    assert [c["name"] for c in admitted["spec"]["initContainers"]] == ["wait-for-db", SIDECAR]
    manifests.validate_builtin(admitted)


def test_the_binding_selects_the_label_the_operator_puts_on_the_apps_pods(base, binding):
    selector = binding["spec"]["matchResources"]["objectSelector"]["matchLabels"]
    spinapp = manifests.one(base, "SpinApp")
    assert selector == {NAME_LABEL: spinapp["metadata"]["name"]}
    assert manifests.selector_matches(selector, manifests.operator_pod_labels(spinapp))


def test_other_pods_are_left_alone(policy, binding, params, operator_pod):
    other = copy.deepcopy(operator_pod)
    other["metadata"]["labels"] = {NAME_LABEL: "another-app", manifests.status_label("another-app"): "ready"}
    assert manifests.admit(policy, binding, params, other) == other
    plain = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"app": APP}},
             "spec": {"containers": [{"name": "x", "image": "busybox"}]}}
    assert manifests.admit(policy, binding, params, plain) == plain


def test_the_policy_reads_its_parameters_from_the_pods_namespace(policy, binding, params):
    assert policy["spec"]["paramKind"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    assert "namespace" not in binding["spec"]["paramRef"]
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]


def test_the_policy_never_blocks_pod_creation(policy):
    assert policy["spec"]["failurePolicy"] == "Ignore"


# --- the pre-1.36 variant ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def pre136():
    return manifests.render(manifests.K8S / "overlays" / "pre-1.36")


def test_own_deployment_is_what_the_operator_would_render_plus_the_injected_sidecar(pre136, base, injected):
    """Same pod as on 1.36+ (operator's pod + policy), so the two variants cannot drift."""
    deployment = manifests.one(pre136, "Deployment")
    template = deployment["spec"]["template"]
    assert template["spec"]["containers"] == injected["spec"]["containers"]
    assert template["spec"]["initContainers"] == injected["spec"]["initContainers"]
    assert template["spec"]["runtimeClassName"] == injected["spec"]["runtimeClassName"]
    assert template["metadata"]["labels"] == injected["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == manifests.one(base, "SpinApp")["spec"]["replicas"]


def test_own_deployment_pods_are_selected_by_the_operators_service(pre136):
    spinapp = manifests.one(pre136, "SpinApp")
    deployment = manifests.one(pre136, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert manifests.selector_matches(manifests.operator_service(spinapp)["spec"]["selector"], labels)
    assert manifests.selector_matches(deployment["spec"]["selector"]["matchLabels"], labels)


def test_own_deployment_is_valid_and_its_images_are_set(pre136):
    deployment = manifests.one(pre136, "Deployment")
    manifests.validate_builtin(deployment)
    images = {c["name"]: c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]
              + deployment["spec"]["template"]["spec"]["initContainers"]}
    assert images == {APP: "ghcr.io/healthcare-model-service/model-api:1.0.0",
                      SIDECAR: "ghcr.io/healthcare-model-service/model-exporter:1.0.0"}

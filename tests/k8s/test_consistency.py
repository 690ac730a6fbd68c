"""The pieces agree with each other and with the exporter:

- every metric and label the PrometheusRule, the dashboard and the promtool unit tests use is
  one a real exporter run exposes (exporter_run.py), or a target label Prometheus adds;
- the ServiceMonitor selects the metrics Service and names a port it has; the Service selects
  the app's pods and reaches the sidecar's metrics port;
- the NetworkPolicy and PodDisruptionBudget select the same pods;
- each image reference is written in exactly one place, and changing it there changes it
  everywhere.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest
import yaml

import manifests
import promql_check
from manifests import APP, K8S, METRICS_SERVICE, ROOT, SIDECAR

BASE = manifests.render(K8S)
RULE = manifests.one(BASE, "PrometheusRule")
RULES = [r for g in RULE["spec"]["groups"] for r in g["rules"]]
DASHBOARD_CONFIGMAP = manifests.one(BASE, "ConfigMap", "model-api-grafana-dashboard")
DASHBOARD = json.loads(DASHBOARD_CONFIGMAP["data"]["model-api.json"])
QUERIES = [(p["title"], t) for p in DASHBOARD["panels"] for t in p.get("targets", [])]
UNIT_TESTS = manifests.ROOT / "tests" / "k8s" / "promtool" / "model-api-alerts.test.yaml"


def rule_id(rule: dict) -> str:
    return rule.get("record") or rule["alert"]


# --- the exporter, for real (fixtures in conftest.py) ---------------------------------------


def test_the_exporter_exposes_the_families_the_service_relies_on(exposed):
    expected = {
        "http_requests_total": {"handler", "method", "status"},
        "http_request_duration_seconds_bucket": {"handler", "method", "le"},
        "http_request_duration_highr_seconds_bucket": {"le"},
        "model_inference_requests_total": {"model", "outcome"},
        "model_inference_duration_seconds_bucket": {"model", "le"},
        "spin_request_count_total": {"app_id", "component_id", "trigger_type"},
        "model_exporter_build_info": {"version"},
        "model_exporter_handler_info": {"handler", "kind"},
        "model_exporter_spans_received_total": set(),
    }
    assert {name: exposed.get(name) for name in expected} == expected


def test_the_exporter_labels_health_probes_and_status_classes(exposed_values):
    kinds = exposed_values[("model_exporter_handler_info", "kind")]
    assert "health" in kinds
    assert {"2xx", "4xx", "5xx"} <= exposed_values[("http_requests_total", "status")]


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
def test_every_rule_reads_only_series_and_labels_that_exist(checker, rule):
    labels, usage = checker.check(rule["expr"])
    assert usage.problems == []
    if "alert" in rule:
        used = {label for text in rule.get("annotations", {}).values()
                for label in promql_check.TEMPLATE_LABEL.findall(text)}
        assert used <= labels | set(rule.get("labels", {})), f"annotations use labels the alert lacks: {used - labels}"


@pytest.mark.parametrize("panel, target", QUERIES, ids=[f"{p}/{t['refId']}" for p, t in QUERIES])
def test_every_dashboard_query_reads_only_series_and_labels_that_exist(checker, panel, target):
    labels, usage = checker.check(target["expr"])
    assert usage.problems == [], panel
    legend = set(promql_check.LEGEND_LABEL.findall(target.get("legendFormat", "")))
    assert legend <= labels, f"{panel}: legend uses {legend - labels}, the query returns {sorted(labels)}"


def test_the_dashboards_variables_read_series_that_exist(checker):
    for variable in DASHBOARD["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", variable["definition"])
        assert match, variable["definition"]
        labels, usage = checker.check(match.group(1))
        assert usage.problems == [] and match.group(2) in labels


def test_equality_matchers_use_values_the_exporter_emits_and_the_real_job_name(checker, exposed, exposed_values):
    expressions = [r["expr"] for r in RULES] + [t["expr"] for _, t in QUERIES]
    for expression in expressions:
        _, usage = checker.check(expression)
        for metric, equalities in usage.equalities:
            for label, value in equalities.items():
                if label == "job":
                    assert value == METRICS_SERVICE, f"job is the metrics Service's name: {expression}"
                elif metric in exposed and label in exposed[metric]:
                    assert value in exposed_values[(metric, label)], f"{metric}{{{label}={value!r}}} never exposed"


def test_the_promtool_unit_tests_feed_series_the_exporter_really_has(exposed):
    known = {**exposed, **promql_check.SCRAPE_SERIES}
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for series in case["input_series"]:
            checker = promql_check.Checker(known)
            _, usage = checker.check(series["series"])
            assert usage.problems == [], series["series"]
            (metric,) = usage.metrics
            assert metric in known


def test_the_rules_and_the_dashboard_use_every_family_worth_watching(checker):
    used = set()
    for expression in [r["expr"] for r in RULES] + [t["expr"] for _, t in QUERIES]:
        used |= checker.check(expression)[1].metrics
    assert {"http_requests_total", "http_request_duration_seconds_bucket", "model_inference_requests_total",
            "model_exporter_spans_received_total", "up"} <= used


# --- the dashboard -----------------------------------------------------------------------------


def test_the_dashboard_configmap_is_labelled_for_grafana_and_holds_the_committed_json():
    assert DASHBOARD_CONFIGMAP["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert DASHBOARD_CONFIGMAP["metadata"]["name"] == "model-api-grafana-dashboard", "no name suffix hash"
    committed = json.loads((K8S / "base" / "dashboards" / "model-api.json").read_text())
    assert DASHBOARD == committed


def test_the_dashboard_shows_rate_errors_latency_models_and_pods():
    titles = {p["title"] for p in DASHBOARD["panels"]}
    assert {"Request rate by handler", "Error ratio (5xx)", "Latency quantiles", "Inference rate per model",
            "Pods"} <= titles
    latency = next(p for p in DASHBOARD["panels"] if p["title"] == "Latency quantiles")
    assert [t["legendFormat"] for t in latency["targets"]] == ["p50", "p90", "p99"]
    assert DASHBOARD["uid"] and len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])


# --- selectors and ports -----------------------------------------------------------------------


def app_pods(docs: list[dict]) -> list[dict]:
    """The pods the app runs in this variant, as the API server stores them."""
    deployments = manifests.find(docs, "Deployment")
    if deployments:
        return [{"metadata": d["spec"]["template"]["metadata"], "spec": d["spec"]["template"]["spec"]}
                for d in deployments]
    spinapp, executor = manifests.one(docs, "SpinApp"), manifests.one(docs, "SpinAppExecutor")
    pod = manifests.operator_pod(spinapp, executor)
    policy = manifests.one(docs, "MutatingAdmissionPolicy")
    binding = manifests.one(docs, "MutatingAdmissionPolicyBinding")
    params = manifests.one(docs, "ConfigMap", binding["spec"]["paramRef"]["name"])
    return [manifests.admit(policy, binding, params, pod)]


def test_the_servicemonitor_selects_the_metrics_service_and_a_port_it_has(target):
    _, docs = target
    monitor = manifests.one(docs, "ServiceMonitor", "model-api-servicemonitor")
    services = manifests.find(docs, "Service") + [manifests.operator_service(manifests.one(docs, "SpinApp"))]
    selected = [s for s in services if manifests.selector_matches(monitor["spec"]["selector"]["matchLabels"],
                                                                s["metadata"].get("labels", {}))]
    assert [s["metadata"]["name"] for s in selected] == [METRICS_SERVICE]
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p.get("name") for p in selected[0]["spec"]["ports"]}
    assert endpoint["interval"] == "15s"
    assert "jobLabel" not in monitor["spec"], "the job label must stay the Service's name"
    assert not monitor["spec"].get("namespaceSelector"), "the Service is in the ServiceMonitor's namespace"


def test_kube_prometheus_stack_selects_the_servicemonitor_and_the_rules(target):
    _, docs = target
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert manifests.one(docs, kind)["metadata"]["labels"]["release"] == "prometheus"


def test_the_metrics_service_selects_the_apps_pods_and_reaches_the_sidecar(target):
    _, docs = target
    service = manifests.one(docs, "Service", METRICS_SERVICE)
    assert service["metadata"]["labels"]["app"] == APP
    (port,) = service["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"]) == ("http-metrics", 9464, 9464)
    for pod in app_pods(docs):
        assert manifests.selector_matches(service["spec"]["selector"], pod["metadata"]["labels"])
        (sidecar,) = [c for c in pod["spec"]["initContainers"] if c["name"] == SIDECAR]
        assert {"name": "http-metrics", "containerPort": port["targetPort"], "protocol": "TCP"} in sidecar["ports"]


def test_only_the_metrics_service_carries_the_metrics_port(target):
    _, docs = target
    spin_service = manifests.operator_service(manifests.one(docs, "SpinApp"))
    assert [p["port"] for p in spin_service["spec"]["ports"]] == [80]


def test_the_network_policy_admits_the_api_from_anywhere_and_metrics_from_monitoring_only(target):
    _, docs = target
    policy = manifests.one(docs, "NetworkPolicy", APP)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    for pod in app_pods(docs):
        assert manifests.selector_matches(policy["spec"]["podSelector"]["matchLabels"], pod["metadata"]["labels"])
    admitted: dict[int, list] = {}
    for rule in policy["spec"]["ingress"]:
        for port in rule["ports"]:
            admitted.setdefault(port["port"], []).append(rule.get("from"))
    assert set(admitted) == {80, 9464}, "nothing else, 4318 above all, is reachable from outside the pod"
    assert admitted[80] == [None]
    assert admitted[9464] == [[{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]]


def test_the_disruption_budget_covers_the_apps_pods_and_leaves_one_up(target):
    _, docs = target
    budget = manifests.one(docs, "PodDisruptionBudget", APP)
    for pod in app_pods(docs):
        assert manifests.selector_matches(budget["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
    spinapp = manifests.one(docs, "SpinApp")
    replicas = spinapp["spec"].get("replicas") or manifests.one(docs, "HorizontalPodAutoscaler")["spec"]["minReplicas"]
    assert 1 <= budget["spec"]["minAvailable"] < replicas


def test_the_spinapp_probes_the_health_route_and_names_its_executor(target):
    _, docs = target
    spinapp = manifests.one(docs, "SpinApp", APP)
    executor = manifests.one(docs, "SpinAppExecutor")
    assert spinapp["spec"]["executor"] == executor["metadata"]["name"]
    assert spinapp["spec"]["checks"]["readiness"]["httpGet"]["path"] == "/v2/health/ready"
    assert spinapp["spec"]["checks"]["liveness"]["httpGet"]["path"] == "/healthz"
    assert spinapp["spec"]["podLabels"] == {"app": APP}
    assert executor["spec"]["deploymentConfig"]["runtimeClassName"] == "wasmtime-spin-v2"
    assert executor["spec"]["deploymentConfig"]["otel"]["exporter_otlp_endpoint"] == "http://127.0.0.1:4318"


def test_the_health_route_is_a_route_of_the_spin_app():
    """The probes' path must reach the API component (spin.toml)."""
    import tomllib

    from scripts.serve_local import load_routes, pick_route

    manifest = tomllib.loads((ROOT / "spin.toml").read_text())
    for path in ("/healthz", "/v2/health/ready"):
        assert pick_route(load_routes(manifest), path).component == "api", path


# --- images --------------------------------------------------------------------------------------

APP_IMAGE = "ghcr.io/healthcare-model-service/model-api"
EXPORTER_IMAGE = "ghcr.io/healthcare-model-service/model-exporter"


def source_files() -> list:
    return [p for p in sorted(K8S.rglob("*")) if p.is_file()] + [manifests.RUNTIME_CLASS]


@pytest.mark.parametrize("reference", [APP_IMAGE, EXPORTER_IMAGE])
def test_each_image_reference_is_written_in_exactly_one_place(reference):
    places = [(p.relative_to(ROOT), n) for p in source_files()
              for n, line in enumerate(p.read_text().splitlines(), 1) if reference in line]
    assert places == [(K8S.relative_to(ROOT) / "base" / "kustomization.yaml", places[0][1])], places


def image_fields(docs: list[dict]) -> dict[str, str]:
    found = {}
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] == "SpinApp":
            found[f"{where}.spec.image"] = doc["spec"]["image"]
            # The sidecar's image on the pod template too (a new image rolls the pods).
            for key, value in doc["spec"].get("podAnnotations", {}).items():
                found[f"{where}.spec.podAnnotations[{key}]"] = value
        if doc["kind"] == "ConfigMap" and "image" in doc.get("data", {}):
            found[f"{where}.data.image"] = doc["data"]["image"]
        if doc["kind"] == "Deployment":
            for key, value in doc["spec"]["template"]["metadata"].get("annotations", {}).items():
                found[f"{where}.spec.template.metadata.annotations[{key}]"] = value
            spec = doc["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                found[f"{where}/{c['name']}.image"] = c["image"]
    return found


def test_every_rendered_image_is_the_one_the_kustomization_sets(target):
    _, docs = target
    images = image_fields(docs)
    assert images, "no image found"
    for where, image in images.items():
        assert image in (f"{APP_IMAGE}:1.0.0", f"{EXPORTER_IMAGE}:1.0.0"), where


def test_setting_the_images_in_one_place_changes_them_in_every_variant(tmp_path):
    """What `kustomize edit set image` does to k8s/base/kustomization.yaml reaches the SpinApp,
    the injection policy's parameter and the pre-1.36 Deployment, in every overlay."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    kustomization_path = copy / "base" / "kustomization.yaml"
    kustomization = yaml.safe_load(kustomization_path.read_text())
    for entry in kustomization["images"]:
        entry["newName"] = f"registry.example.org/team/{entry['name']}"
        entry["newTag"] = "2.3.4"
    kustomization_path.write_text(yaml.safe_dump(kustomization))
    for name, path in manifests.targets(copy).items():
        images = image_fields(manifests.render(path))
        assert images and set(images.values()) <= {"registry.example.org/team/model-api:2.3.4",
                                                   "registry.example.org/team/model-exporter:2.3.4"}, name
        assert len(set(images.values())) == 2, images


@pytest.mark.parametrize("expression, problem", [
    ('rate(http_requests_total{code="500"}[5m])', "no label 'code'"),
    ("sum by (route) (rate(http_requests_total[5m]))", "no label 'route'"),
    ("rate(http_request_total[5m])", "no such series"),
    ("histogram_quantile(0.9, sum by (handler) (rate(http_request_duration_seconds_bucket[5m])))", "'le'"),
    ("sum by (handler) (rate(http_requests_total[5m])) / on (status) sum by (handler) (up)", "not a label of both"),
])
def test_the_checker_refuses_what_prometheus_would_answer_with_nothing(exposed, expression, problem):
    """The consistency checks above can fail: these queries read nothing real."""
    _, usage = promql_check.Checker({**exposed, **promql_check.SCRAPE_SERIES}).check(expression)
    assert any(problem in p for p in usage.problems), usage.problems

"""The PrometheusRule through promtool: `promtool check rules` on its groups, and
`promtool test rules` on promtool/model-api-alerts.test.yaml, where every alert has a case in
which it fires and one in which it does not."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import manifests

UNIT_TESTS = Path(__file__).parent / "promtool" / "model-api-alerts.test.yaml"
RUNBOOKS = manifests.ROOT / "docs" / "runbooks.md"
RUNBOOK_URL = "https://github.com/healthcare-model-service/healthcare-model-service/blob/main/docs/runbooks.md#"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        raise RuntimeError("promtool not found: scripts/setup.sh test installs Debian's prometheus package")
    return path


@pytest.fixture(scope="module")
def rule(base) -> dict:
    return manifests.one(base, "PrometheusRule")


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory, rule) -> Path:
    """rules.yaml (the PrometheusRule's groups, as Prometheus loads them) beside the unit tests."""
    directory = tmp_path_factory.mktemp("promtool")
    (directory / "rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    shutil.copy(UNIT_TESTS, directory / UNIT_TESTS.name)
    return directory


def alerts(rule: dict) -> list[dict]:
    return [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]


def test_promtool_check_rules_accepts_the_rules(rules_dir):
    result = subprocess.run([promtool(), "check", "rules", "rules.yaml"], cwd=rules_dir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_pass(rules_dir):
    result = subprocess.run([promtool(), "test", "rules", UNIT_TESTS.name], cwd=rules_dir,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_does_not(rule):
    cases = yaml.safe_load(UNIT_TESTS.read_text())["tests"]
    fires, silent = set(), set()
    for case in cases:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {a["alert"] for a in alerts(rule)}
    assert names == {"ModelApiHighErrorRatio", "ModelApiHighLatencyP99", "ModelApiExporterAbsent",
                     "ModelApiMetricsScrapeFailing", "ModelApiTelemetryNotReceived"}
    assert names - fires == set(), "alerts never shown firing"
    assert names - silent == set(), "alerts never shown silent"


def test_every_alert_waits_has_a_severity_a_summary_and_a_runbook(rule):
    for alert in alerts(rule):
        assert re.fullmatch(r"\d+[smh]", alert.get("for", "")), alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning", "info"), alert["alert"]
        assert alert["annotations"]["summary"].strip(), alert["alert"]
        assert alert["annotations"]["description"].strip(), alert["alert"]
        assert alert["annotations"]["runbook_url"] == RUNBOOK_URL + alert["alert"].lower()


def test_no_alert_claims_to_detect_an_unselected_service_monitor(rule):
    """Prometheus selects the rules by the same `release` label as the ServiceMonitor: when it
    skips the ServiceMonitor it skips these rules too, so no alert can report that."""
    for alert in alerts(rule):
        text = alert["annotations"]["summary"] + alert["annotations"]["description"]
        assert "ServiceMonitor" not in text, alert["alert"]


def github_anchors(markdown: str) -> set[str]:
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_every_runbook_link_reaches_a_section_of_docs_runbooks(rule):
    anchors = github_anchors(RUNBOOKS.read_text())
    for alert in alerts(rule):
        anchor = alert["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"{alert['alert']}: docs/runbooks.md has no section #{anchor}"


def test_recording_rules_have_their_own_group_and_level_metric_operations_names(rule):
    groups = rule["spec"]["groups"]
    for group in groups:
        kinds = {"record" if "record" in r else "alert" for r in group["rules"]}
        assert len(kinds) == 1, f"group {group['name']} mixes recording rules and alerts"
    records = [r["record"] for g in groups for r in g["rules"] if "record" in r]
    assert records
    for name in records:
        assert re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name), name
        level = name.split(":")[0]
        assert set(level.split("_")) >= {"namespace", "job"}, f"{name}: keep namespace and job"


def test_rules_read_only_series_recorded_before_them(rule):
    """Recording rules come first (Prometheus evaluates groups concurrently, rules in a group in
    order): an alert reading a recorded series must find it in an earlier group."""
    groups = rule["spec"]["groups"]
    recorded_so_far: set[str] = set()
    for group in groups:
        for r in group["rules"]:
            used = set(re.findall(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", r["expr"]))
            assert used <= recorded_so_far | ({r["record"]} if "record" in r else set()), r
            if "record" in r:
                recorded_so_far.add(r["record"])

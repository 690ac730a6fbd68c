"""Schemathesis against the running service, driven by the service's own /openapi.json.

`st run` generates requests for every operation of the document (examples, coverage, fuzzing
and stateful phases; valid and invalid data), sends them to the API component under `wasmtime
serve` (`api_url`), and applies the response checks below to every answer. The HAR report
records each request actually sent: the test counts them (at least 1000) and re-checks every
status from it.

`api_url` rather than `app_url`: every operation of the document is the API component's, and
scripts/serve_local.py (the Spin-like router of `app_url`) is a Python http.server that answers
501 itself to methods it has no handler for (TRACE, ...), which Spin does not do: that would
test the development router, not the service.

One finding is recorded rather than hidden (KNOWN_5XX, reported to the owners of src/): a model
version the server does not have is answered 501 Not Implemented, a server error for what is a
client's mistake (an unknown model is 404). Schemathesis still runs `not_a_server_error` on
every request; the test accepts a 5xx only when it is exactly that answer, and
test_an_unknown_model_version_is_not_a_server_error (strict xfail) turns red once it is fixed, so
the exception is removed with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from rel_support import ROOT

CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance"]
# 50 examples per operation and phase give about 1300 requests in about 20 s (seed 6).
MAX_EXAMPLES = int(os.environ.get("RELIABILITY_MAX_EXAMPLES", "50"))
MIN_REQUESTS = 1000
SEED = 6
OUT = ROOT / "target" / "reliability"
VERSIONED = re.compile(r"/v2/models/(?P<model>[^/]+)/versions/(?P<version>[^/?]+)(/ready|/infer)?$")
KNOWN_5XX_OPERATIONS = {f"{m} /v2/models/{{model_name}}/versions/{{model_version}}{s}"
                        for m, s in (("GET", ""), ("GET", "/ready"), ("POST", "/infer"))}


def is_known_5xx(entry: dict) -> bool:
    """The recorded finding: 501 `{"error": "<model> has only version 1.0.0"}` for a version
    other than 1.0.0 of a known model."""
    match = VERSIONED.search(urlsplit(entry["request"]["url"]).path)
    text = entry["response"]["content"].get("text", "")
    return (entry["response"]["status"] == 501 and match is not None
            and match["model"] in ("pce-2013", "prevent-2023") and match["version"] != "1.0.0"
            and re.fullmatch(r'\{"error":"(pce-2013|prevent-2023) has only version 1\.0\.0"\}', text) is not None)


def st_command(url: str, har: Path, report: Path) -> list[str]:
    return [str(Path(sys.executable).with_name("st")), "run", f"{url}/openapi.json",
            "--checks", ",".join(CHECKS), "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
            # One worker: with two, CPython 3.11's compiler fails inside schemathesis's coverage
            # phase now and then ("AST constructor recursion depth mismatch").
            "--workers", "1", "--request-timeout", "10", "--no-shrink", "--continue-on-failure",
            "--report", "har,json", "--report-har-path", str(har), "--report-json-path", str(report)]


def test_every_generated_request_gets_a_conforming_answer_and_no_5xx(api_url, tmp_path):
    har, report_path = tmp_path / "schemathesis.har", tmp_path / "schemathesis.json"
    command = st_command(api_url, har, report_path)
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                         env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_TELEMETRY": "false"})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "schemathesis.txt").write_text(run.stdout + run.stderr)
    report = json.loads(report_path.read_text())
    entries = json.loads(har.read_text())["log"]["entries"]
    by_status: dict[int, int] = {}
    for entry in entries:
        by_status[entry["response"]["status"]] = by_status.get(entry["response"]["status"], 0) + 1
    server_errors = [e for e in entries if e["response"]["status"] >= 500 or e["response"]["status"] == 0]
    known = [e for e in server_errors if is_known_5xx(e)]
    summary = {"command": " ".join(command), "requests": len(entries),
               "generated": report["test_cases"]["generated"], "seconds": round(report["running_time"], 1),
               "by_status": dict(sorted(by_status.items())), "known_501": len(known),
               "failures": report["failures"], "errors": report["errors"],
               "validation_mismatch": report["warnings"]["validation_mismatch"]}
    (OUT / "schemathesis-summary.json").write_text(json.dumps(summary, indent=1))
    print("\n" + run.stdout[-3000:] + "\n" + json.dumps(summary))

    assert report["complete"] and not report["errors"], summary
    assert len(entries) >= MIN_REQUESTS, summary
    # Every check passed on every request, except not_a_server_error on the recorded finding.
    unexpected = [f for f in report["failures"]
                  if f["code"] != "ST101" or not set(f["operations"]) <= KNOWN_5XX_OPERATIONS]
    assert not unexpected, summary
    assert server_errors == known, [(e["request"]["method"], e["request"]["url"], e["response"]["status"],
                                     e["response"]["content"].get("text", "")[:200])
                                    for e in server_errors if e not in known]
    # Nothing was left out of the run: the exit code only reflects that finding.
    assert run.returncode == (1 if known else 0), summary


@pytest.mark.xfail(strict=True, reason="src/ answers 501 to a model version it does not have "
                                       "(recorded in docs/reliability.md); remove KNOWN_5XX once fixed")
@pytest.mark.parametrize("method,suffix", [("GET", ""), ("GET", "/ready"), ("POST", "/infer")])
def test_an_unknown_model_version_is_not_a_server_error(api_url, method, suffix):
    response = requests.request(method, f"{api_url}/v2/models/pce-2013/versions/2.0.0{suffix}",
                                json={"inputs": []} if method == "POST" else None, timeout=10)
    assert response.status_code < 500, (response.status_code, response.text)

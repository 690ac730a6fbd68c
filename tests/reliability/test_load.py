"""Sustained load on POST /predict under `wasmtime serve`: 256 connections for 60 s with wrk.

Every response must be 2xx, wrk must see no socket error (connect, read, write or its 2 s
timeout), and the server's resident memory must not grow: VmRSS is sampled every second, and
the highest sample of the last 20 s may exceed the sample taken after the warm-up (10 s) by at
most RSS_MARGIN. The figures are printed (pytest -s, or the docs/reliability.md command) and
written to target/reliability/load.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

from rss import RssSampler
from tests.support.paths import ROOT

DURATION_S = int(os.environ.get("RELIABILITY_LOAD_SECONDS", "60"))
CONNECTIONS = 256
THREADS = 2
WARMUP_S = 10
TAIL_S = 20
# Allowed growth of the last 20 s over the post-warm-up RSS: 5 % plus 4 MiB, above the noise of
# the allocator's arenas (measured growth: see docs/reliability.md).
RSS_MARGIN_FRACTION = 0.05
RSS_MARGIN_KIB = 4096
BODY = ROOT / "bench" / "wrk" / "predict-one.json"
SCRIPT = ROOT / "tests" / "reliability" / "wrk-status.lua"
OUT = ROOT / "target" / "reliability"


def parse(line_prefix: str, output: str) -> dict[str, float]:
    (line,) = [line for line in output.splitlines() if line.startswith(line_prefix + " ")]
    return {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line)}


def test_predict_under_256_connections_for_60_s_has_no_errors_and_no_memory_growth(service):
    assert shutil.which("wrk"), "wrk is not installed (scripts/setup.sh test installs it)"
    url, server = service()
    sampler = RssSampler(server.pid, interval=1.0)
    sampler.start()
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", "--latency",
               "-s", str(SCRIPT), f"{url}/predict"]
    run = subprocess.run(command, env={**os.environ, "WRK_BODY_FILE": str(BODY)},
                         capture_output=True, text=True, timeout=DURATION_S + 60)
    samples = sampler.stop()
    assert run.returncode == 0, run.stderr
    result, status = parse("WRK_RESULT", run.stdout), parse("WRK_STATUS", run.stdout)

    after_warmup = sampler.between(WARMUP_S - 1, WARMUP_S + 1)
    tail = sampler.between(DURATION_S - TAIL_S, DURATION_S)
    assert after_warmup and len(tail) >= TAIL_S - 2, samples
    baseline = after_warmup[0]
    allowed = baseline * (1 + RSS_MARGIN_FRACTION) + RSS_MARGIN_KIB
    figures = {
        "command": " ".join(command), "requests": int(result["requests"]), "rps": result["rps"],
        "p50_ms": result["p50_us"] / 1000, "p90_ms": result["p90_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000, "max_ms": result["max_us"] / 1000,
        "status": status, "socket_errors": {k: int(result[k]) for k in ("connect", "read", "write", "timeout")},
        "rss_kib": {"start": samples[0][1], "after_warmup": baseline, "tail_max": max(tail),
                    "tail_min": min(tail), "max": max(kib for _, kib in samples), "allowed": int(allowed)},
        "rss_series_kib": [kib for _, kib in samples],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "load.json").write_text(json.dumps(figures, indent=1))
    print("\n" + run.stdout + json.dumps({k: v for k, v in figures.items() if k != "rss_series_kib"}))

    assert result["requests"] > 0 and status["2xx"] == result["requests"], (status, result)
    assert status["1xx"] == status["3xx"] == status["4xx"] == status["5xx"] == result["bad_status"] == 0, status
    assert figures["socket_errors"] == {"connect": 0, "read": 0, "write": 0, "timeout": 0}, figures
    assert max(tail) <= allowed, figures["rss_kib"]

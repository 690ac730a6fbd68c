"""The model-exporter sidecar as the tests run it: the static binary its container image
packages (built with exporter/Dockerfile's own command), on two free loopback ports, and what
its /metrics says."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.paths import ROOT
from tests.support.ports import free_ports
from tests.support.processes import Process

DOCKERFILE = ROOT / "exporter" / "Dockerfile"


def dockerfile_build() -> tuple[list[str], Path]:
    """The `cargo build` command of exporter/Dockerfile, and the binary it copies into the image."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    (run,) = [line for line in text.splitlines() if line.startswith("RUN") and "cargo build" in line]
    build = shlex.split(run[run.index("cargo build"):].split("&&")[0])
    copied = shlex.split(run.split("&&")[1])
    assert copied[0] == "cp", run
    return build, ROOT / copied[1]


def ensure_binary() -> Path:
    """The static exporter binary the image packages, built the way the Dockerfile builds it
    (scripts/test.sh builds it first; here it is only brought up to date), or
    `MODEL_EXPORTER_BIN`."""
    if "MODEL_EXPORTER_BIN" in os.environ:
        return Path(os.environ["MODEL_EXPORTER_BIN"])
    build, binary = dockerfile_build()
    subprocess.run(build[:2] + ["-q"] + build[2:], cwd=ROOT, check=True, timeout=1800)
    return binary


@pytest.fixture(scope="session")
def exporter_binary() -> Path:
    """The exporter's static binary (exporter/Dockerfile's build; scripts/test.sh built it)."""
    binary = ensure_binary()
    assert binary.exists(), binary
    return binary


class Exporter:
    """One model-exporter on two free loopback ports, restartable on the same ports; its output
    goes to `log` (appended to on a restart). `args`: flags beyond the addresses and the text
    log format."""

    def __init__(self, binary: Path, log: Path, *args: str):
        otlp_port, metrics_port = free_ports(2)
        self.otlp_addr = f"127.0.0.1:{otlp_port}"
        self.metrics_addr = f"127.0.0.1:{metrics_port}"
        self.otlp = f"http://{self.otlp_addr}"
        self.metrics = f"http://{self.metrics_addr}"
        self.process = Process([binary, "--otlp-addr", self.otlp_addr, "--metrics-addr", self.metrics_addr,
                                "--log-format", "text", *args], log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self, timeout: float = 20) -> None:
        """Starts it and waits for its /readyz."""
        self.process.start().wait_for_http(f"{self.metrics}/readyz", status=200, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no drain, no flush, like an OOM kill."""
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()

    def log_text(self) -> str:
        return self.process.log_text()

    def post(self, path: str, body: bytes, content_type: str = "application/x-protobuf",
             timeout: float = 10, session: requests.Session | None = None) -> requests.Response:
        return (session or requests).post(f"{self.otlp}{path}", data=body, timeout=timeout,
                                          headers={"content-type": content_type})

    def scrape(self, timeout: float = 10) -> str:
        """/metrics in the text format 0.0.4 (what prometheus_client parses)."""
        response = requests.get(f"{self.metrics}/metrics", timeout=timeout)
        response.raise_for_status()
        return response.text

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        return metric_samples(self.scrape())


def metric_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample of a text-format 0.0.4 exposition."""
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def total(samples, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`."""
    return sum(value for n, l, value in samples
               if n == name and all(l.get(k) == v for k, v in labels.items()))

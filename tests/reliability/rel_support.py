"""What the reliability suite's fixtures and tests share: the integration suite's service
helpers (tests/integration/conftest.py, loaded under another module name), the exporter build of
tests/k8s/exporter_run.py, processes that log to a file, RSS sampling, the exporter process
(restartable on the same ports) and /metrics parsing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


integration = _load("integration_conftest", ROOT / "tests" / "integration" / "conftest.py")
# tests/k8s/exporter_run.py builds the exporter the way its image does and picks port pairs.
sys.path.insert(0, str(ROOT / "tests" / "k8s"))
import exporter_run  # noqa: E402

API_WASM = integration.API_WASM
WASMTIME = integration.WASMTIME
free_port = integration.free_port
free_ports = exporter_run.free_ports
wait_until_serving = integration.wait_until_serving
stop = integration.stop


# ---------------------------------------------------------------------------------------------
# Processes and their memory
# ---------------------------------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS, KiB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every `interval` seconds until stopped: [(seconds, KiB)]."""

    def __init__(self, pid: int, interval: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic() - start, rss_kib(self.pid)))
            except (FileNotFoundError, ProcessLookupError):
                return
            self._halt.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self._halt.set()
        self.join(timeout=5)
        return self.samples

    def between(self, start: float, end: float) -> list[int]:
        return [kib for t, kib in self.samples if start <= t < end]


@dataclass
class LoggedProcess:
    """A server process whose stdout and stderr go to one log file."""

    command: list[str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=log)

    @property
    def pid(self) -> int:
        return self.process.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------
# Prometheus
# ---------------------------------------------------------------------------------------------


class Prometheus:
    """/usr/bin/prometheus on a loopback port with a temporary data directory, scraping one target
    every second under the scrape job `job`."""

    def __init__(self, target: str, workdir, job: str = "model-exporter"):
        self.job = job
        binary = shutil.which("prometheus")
        assert binary, "prometheus is not installed (scripts/setup.sh test installs it)"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]\n")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = open(workdir / "prometheus.log", "wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address={self.url.removeprefix('http://')}"],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, (workdir / "prometheus.log").read_text()
            try:
                if requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.1)

    def query(self, promql: str, at: float) -> list[dict]:
        response = requests.get(f"{self.url}/api/v1/query", params={"query": promql, "time": at}, timeout=10)
        response.raise_for_status()
        return response.json()["data"]["result"]

    def wait_for_target_up(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not any(r["value"][1] == "1" for r in self.query(f'up{{job="{self.job}"}}', time.time())):
            assert time.monotonic() < deadline, "prometheus has not scraped the exporter"
            time.sleep(0.2)

    def stop(self) -> None:
        stop(self.process)
        self.log.close()


# ---------------------------------------------------------------------------------------------
# The exporter
# ---------------------------------------------------------------------------------------------


def metric_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of every sample of a text-format 0.0.4 exposition."""
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text)
            for s in family.samples]


def total(samples, name: str, **labels: str) -> float:
    """Sum of the samples called `name` whose labels include `labels`."""
    return sum(value for n, l, value in samples
               if n == name and all(l.get(k) == v for k, v in labels.items()))


@dataclass
class ExporterProcess:
    """One model-exporter on two loopback ports, restartable on the same ports."""

    binary: Path
    log: Path
    args: list[str] = field(default_factory=list)
    server: LoggedProcess | None = None

    def __post_init__(self):
        otlp_port, metrics_port = free_ports(2)
        self.otlp_addr = f"127.0.0.1:{otlp_port}"
        self.metrics_addr = f"127.0.0.1:{metrics_port}"
        self.otlp = f"http://{self.otlp_addr}"
        self.metrics = f"http://{self.metrics_addr}"
        self.server = LoggedProcess(
            [str(self.binary), "--otlp-addr", self.otlp_addr, "--metrics-addr", self.metrics_addr,
             "--log-format", "text", *self.args], self.log)

    @property
    def pid(self) -> int:
        return self.server.pid

    def start(self, timeout: float = 20) -> None:
        self.server.start()
        exporter_run.wait_until_ready(self.metrics, self.server.process, self.server.text, timeout)

    def kill(self) -> None:
        """SIGKILL: no drain, no flush, like an OOM kill."""
        self.server.process.send_signal(signal.SIGKILL)
        self.server.process.wait(timeout=10)

    def stop(self) -> None:
        if self.server.process is not None and self.server.process.poll() is None:
            stop(self.server.process)

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

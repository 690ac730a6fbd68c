"""A real Prometheus (/usr/bin/prometheus, from scripts/setup.sh) on a loopback port, scraping one
target every second, for the tests that check what Prometheus itself records."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import requests

from tests.support.ports import free_port
from tests.support.processes import Process


class Prometheus:
    """Prometheus with its configuration, data and log in `workdir`, scraping `target` (host:port)
    every second under the scrape job `job`. Started and ready when constructed."""

    def __init__(self, target: str, workdir: Path, job: str = "model-exporter"):
        self.job = job
        binary = shutil.which("prometheus")
        assert binary, "prometheus is not installed (scripts/setup.sh test installs it)"
        config = workdir / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s}\n"
            "scrape_configs:\n"
            f"  - job_name: {job}\n    static_configs: [{{targets: ['{target}']}}]\n")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.process = Process(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address={self.url.removeprefix('http://')}"], workdir / "prometheus.log").start()
        self.process.wait_for_http(f"{self.url}/-/ready", status=200, timeout=30)

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
        self.process.stop()

"""Fixtures of the reliability suite: the application's `api_url` and `app_url`, the API
component under a `wasmtime serve` of the test's own (for its PID and logs), and the exporter
binary on free loopback ports (all from tests/support)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.exporter import Exporter, exporter_binary  # noqa: F401 (a fixture)
from tests.support.paths import API_WASM
from tests.support.processes import Process
from tests.support.service import api_url, app_url, serve_component  # noqa: F401 (fixtures)


@pytest.fixture
def service(tmp_path):
    """A factory of the API component under its own `wasmtime serve` (so a test has its PID and
    its logs): `service()` → (url, Process). Stopped at teardown."""
    started = []

    def make(wasm: Path = API_WASM) -> tuple[str, Process]:
        url, server = serve_component(wasm, tmp_path / f"wasmtime-{len(started)}.log")
        started.append(server)
        return url, server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def start_exporter(exporter_binary, tmp_path):
    """A factory: `start_exporter(*flags)` → a running Exporter. Stopped at teardown."""
    started = []

    def make(*args: str) -> Exporter:
        exporter = Exporter(exporter_binary, tmp_path / f"exporter-{len(started)}.log", *args)
        started.append(exporter)
        exporter.start()
        return exporter

    yield make
    for exporter in started:
        exporter.stop()

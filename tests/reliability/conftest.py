"""Fixtures of the reliability suite: the integration suite's `api_url` and `app_url`, the API
component under a `wasmtime serve` of the test's own (for its PID and logs), and the exporter
binary on free loopback ports (helpers in rel_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rel_support import (API_WASM, WASMTIME, ExporterProcess, LoggedProcess, exporter_run, free_port,
                         integration, stop, wait_until_serving)

# The integration suite's fixtures, registered here under their own names.
api_url = integration.api_url
app_url = integration.app_url


@pytest.fixture
def service(tmp_path):
    """A factory of the API component under its own `wasmtime serve` (so a test has its PID and
    its logs): `service()` → (url, LoggedProcess). Stopped at teardown."""
    started = []

    def make(wasm: Path = API_WASM) -> tuple[str, LoggedProcess]:
        assert wasm.exists(), f"{wasm} is missing: run scripts/build.sh"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = LoggedProcess([WASMTIME, "serve", "--addr", f"127.0.0.1:{port}", "-S", "cli", str(wasm)],
                               tmp_path / f"wasmtime-{port}.log")
        server.start()
        started.append(server)
        wait_until_serving(f"{url}/healthz", server.process)
        return url, server

    yield make
    for server in started:
        stop(server.process)


@pytest.fixture(scope="session")
def exporter_binary() -> Path:
    """The exporter's static binary, brought up to date with exporter/Dockerfile's command
    (scripts/test.sh built it just before), or `MODEL_EXPORTER_BIN`."""
    binary = exporter_run.ensure_binary()
    assert binary.exists(), binary
    return binary


@pytest.fixture
def start_exporter(exporter_binary, tmp_path):
    """A factory: `start_exporter(*flags)` → a running ExporterProcess. Stopped at teardown."""
    started = []

    def make(*args: str) -> ExporterProcess:
        exporter = ExporterProcess(exporter_binary, tmp_path / f"exporter-{len(started)}.log", list(args))
        started.append(exporter)
        exporter.start()
        return exporter

    yield make
    for exporter in started:
        exporter.stop()

"""Shared fixtures: the application on loopback ports, served by the real Spin.

The service tests run against `spin up` of the committed `spin.toml`: Spin's router, both
components, and the model components composed into the API by Spin itself from
`[component.api.dependencies]`. On a machine without Spin on `PATH` they fall back to the
runner a user without Spin has (`scripts/serve_local.py`: wasmtime, routed like Spin, the
composition `scripts/build.sh` made with wac), and say so in the run's header; the suites that
only Spin can run (`tests/spin/`) are then skipped by `scripts/test.sh`, loudly.
`REQUIRE_SPIN=1` (CI sets it) turns a missing Spin into a failure instead.

The components must be built first (`scripts/test.sh` does it); fixtures never build.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "spin.toml"
RELEASE = ROOT / "target" / "wasm32-wasip2" / "release"
# The HTTP component alone: it imports its models (wit/service/api.wit).
HTTP_WASM = RELEASE / "model_api.wasm"
# The model components (wit/risk.wit): each exports healthcare:risk/predictor, imports nothing.
MODEL_WASMS = {
    "pce-2013": ROOT / "target" / "components" / "pce-2013.wasm",
    "prevent-2023": ROOT / "target" / "components" / "prevent-2023.wasm",
}
# The HTTP component with its models composed in (wac/api.wac): what the fallback runner serves
# for the `api` component, as Spin composes it from spin.toml's dependencies.
API_WASM = ROOT / "target" / "composed" / "api.wasm"
DOCS_WASM = RELEASE / "docs_site.wasm"
WASMTIME = os.environ.get("WASMTIME", "wasmtime")
SPIN = shutil.which("spin")
SPIN_REQUIRED = os.environ.get("REQUIRE_SPIN") == "1"
# Which runtime serves the application: Spin when it is installed, else the fallback.
RUNTIME = "spin" if SPIN else "wasmtime"
NO_SPIN = "Spin is not on PATH (install Spin 3.6.x to run these; CI sets REQUIRE_SPIN=1)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def start(command: list[str], probe_url: str, **popen) -> subprocess.Popen:
    popen.setdefault("stdout", subprocess.DEVNULL)
    popen.setdefault("stderr", subprocess.PIPE)
    process = subprocess.Popen(command, **popen)
    try:
        wait_until_serving(probe_url, process)
    except Exception:
        process.kill()
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def manifest_copy(text: str, directory: Path) -> Path:
    """`text` (spin.toml, changed by a test) written into `directory` as spin.toml, with the
    manifest's relative `target/...` paths made absolute, so that Spin finds the built
    components from there."""
    path = directory / "spin.toml"
    path.write_text(text.replace('"target/', f'"{ROOT}/target/'))
    return path


def spin_up_command(app: str | Path, listen: str, state_dir: Path, *extra: str) -> list[str]:
    """`spin up` of a manifest or a registry reference, with its logs and state in `state_dir`
    (so that two Spin processes of the same app never share `.spin/`)."""
    assert SPIN, NO_SPIN
    return [SPIN, "up", "-f", str(app), "--listen", listen, "--state-dir", str(state_dir), *extra]


def start_spin(app: str | Path, state_dir: Path, *extra: str, probe: str = "/healthz",
               env: dict[str, str] | None = None, log: Path | None = None) -> tuple[str, subprocess.Popen]:
    """Starts `spin up` on a free loopback port and waits until `probe` answers: (url, process).
    Spin's own output goes to `log` (default: `state_dir/spin.log`)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    output = open(log or state_dir / "spin.log", "wb")
    process = start(spin_up_command(app, f"127.0.0.1:{port}", state_dir, *extra), f"{url}{probe}",
                    stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return url, process


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of the whole application (API and docs) as spin.toml declares it: `spin up` of
    the committed manifest, or without Spin the fallback runner serve_local.py."""
    if RUNTIME == "spin":
        url, process = start_spin(MANIFEST, tmp_path_factory.mktemp("spin-app"))
    else:
        assert API_WASM.exists(), f"{API_WASM} is missing: run scripts/build.sh"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        process = start([sys.executable, str(ROOT / "scripts" / "serve_local.py"),
                         "--listen", f"127.0.0.1:{port}"], f"{url}/healthz")
    yield url
    stop(process)


@pytest.fixture(scope="session")
def api_url(app_url) -> str:
    """Base URL of the prediction API: the same server (every API route is the `api`
    component's, and the catch-all route gives unknown paths its JSON 404)."""
    return app_url


def pytest_configure(config):
    if SPIN_REQUIRED and not SPIN:
        raise pytest.UsageError(f"REQUIRE_SPIN=1 but {NO_SPIN}")


def pytest_report_header(config):
    return f"service runtime: {f'spin ({SPIN})' if SPIN else 'wasmtime, the fallback: ' + NO_SPIN}"

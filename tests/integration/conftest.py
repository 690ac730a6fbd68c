"""Shared fixtures: the release components under `wasmtime serve` on loopback ports.

The components must be built first (`scripts/test.sh` does it); fixtures never build.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "target" / "wasm32-wasip2" / "release"
# The HTTP component alone: it imports its models (wit/service/api.wit).
HTTP_WASM = RELEASE / "model_api.wasm"
# The model components (wit/risk.wit): each exports healthcare:risk/predictor, imports nothing.
MODEL_WASMS = {
    "pce-2013": ROOT / "target" / "components" / "pce-2013.wasm",
    "prevent-2023": ROOT / "target" / "components" / "prevent-2023.wasm",
}
# The HTTP component with its models composed in (wac/api.wac): what `wasmtime serve` runs and
# what every service test talks to, as Spin composes it from spin.toml's dependencies.
API_WASM = ROOT / "target" / "composed" / "api.wasm"
DOCS_WASM = RELEASE / "docs_site.wasm"
WASMTIME = os.environ.get("WASMTIME", "wasmtime")


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


def start(command: list[str], probe_url: str) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


@pytest.fixture(scope="session")
def api_url() -> str:
    """Base URL of the composed prediction component (API and models) under `wasmtime serve`."""
    assert API_WASM.exists(), f"{API_WASM} is missing: run scripts/build.sh"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        [WASMTIME, "serve", "--addr", f"127.0.0.1:{port}", "-S", "cli", str(API_WASM)],
        f"{url}/healthz",
    )
    yield url
    stop(process)


@pytest.fixture(scope="session")
def app_url() -> str:
    """Base URL of the whole application (API and docs), routed like Spin by serve_local.py."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        [sys.executable, str(ROOT / "scripts" / "serve_local.py"), "--listen", f"127.0.0.1:{port}"],
        f"{url}/healthz",
    )
    yield url
    stop(process)

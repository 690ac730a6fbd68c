"""The application on loopback ports: one component under `wasmtime serve`, the whole app under
scripts/serve_local.py (the runner a user without Spin has: wasmtime, routed like Spin), and the
`app_url` / `api_url` fixtures, which serve the committed spin.toml under the real Spin when it
is installed and under serve_local.py otherwise.

The components must be built first (scripts/test.sh does it); nothing here builds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.paths import API_WASM, MANIFEST, ROOT
from tests.support.ports import free_port
from tests.support.processes import Process
from tests.support.spin import RUNTIME, start_spin

WASMTIME = os.environ.get("WASMTIME", "wasmtime")


def serve_component(wasm: Path, log: Path) -> tuple[str, Process]:
    """`wasmtime serve` of one component on a free loopback port, waited for until /healthz
    answers: (url, process). Its output goes to `log`."""
    assert wasm.exists(), f"{wasm} is missing: run scripts/build.sh"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = Process([WASMTIME, "serve", "--addr", f"127.0.0.1:{port}", "-S", "cli", wasm], log).start()
    process.wait_for_http(f"{url}/healthz")
    return url, process


def serve_local(log: Path) -> tuple[str, Process]:
    """The whole app (every component of spin.toml, routed like Spin) under
    scripts/serve_local.py on a free loopback port: (url, process)."""
    assert API_WASM.exists(), f"{API_WASM} is missing: run scripts/build.sh"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = Process([sys.executable, ROOT / "scripts" / "serve_local.py", "--listen", f"127.0.0.1:{port}"],
                      log).start()
    process.wait_for_http(f"{url}/healthz")
    return url, process


@pytest.fixture(scope="session")
def app_url(tmp_path_factory) -> str:
    """Base URL of the whole application (API and docs) as spin.toml declares it: `spin up` of
    the committed manifest, or without Spin the fallback runner serve_local.py."""
    if RUNTIME == "spin":
        url, process = start_spin(MANIFEST, tmp_path_factory.mktemp("spin-app"))
    else:
        url, process = serve_local(tmp_path_factory.mktemp("serve-local") / "serve_local.log")
    yield url
    process.stop()


@pytest.fixture(scope="session")
def api_url(app_url) -> str:
    """Base URL of the prediction API: the same server (every API route is the `api`
    component's, and the catch-all route gives unknown paths its JSON 404)."""
    return app_url

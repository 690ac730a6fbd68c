"""The Spin CLI: `spin up` of a manifest or a registry reference, each with its own state and log.

The service tests run under the real Spin when `spin` is on PATH, else under the fallback
(tests/support/service.py); REQUIRE_SPIN=1 (CI sets it) makes a missing Spin an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Process

SPIN = shutil.which("spin")
SPIN_REQUIRED = os.environ.get("REQUIRE_SPIN") == "1"
# Which runtime serves the application: Spin when it is installed, else the fallback.
RUNTIME = "spin" if SPIN else "wasmtime"
NO_SPIN = "Spin is not on PATH (install Spin 3.6.x to run these; CI sets REQUIRE_SPIN=1)"


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
               env: dict[str, str] | None = None, log: Path | None = None) -> tuple[str, Process]:
    """Starts `spin up` on a free loopback port and waits until `probe` answers: (url, process).
    Spin's own output goes to `log` (default: `state_dir/spin.log`)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = Process(spin_up_command(app, f"127.0.0.1:{port}", state_dir, *extra), log or state_dir / "spin.log",
                      env=env).start()
    process.wait_for_http(f"{url}{probe}")
    return url, process

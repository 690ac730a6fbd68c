"""Fixtures of the Spin suite: what only the real Spin CLI can show. The manifest as Spin loads
it, `spin build`, the OCI artifact `spin registry push` makes and `spin up -f <reference>`
serves from a loopback registry, Spin's own telemetry through the exporter into a real
Prometheus, and the README's and docs' Spin commands run as written.

`scripts/test.sh` runs this suite only when `spin` is on PATH (CI puts Spin 3.6.3 there and
requires it); without Spin it says loudly that it skipped it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "reliability"))
# rel_support loads the integration suite's helpers (as `integration`), the exporter build and
# process, and the Prometheus runner.
from rel_support import ExporterProcess, exporter_run, integration  # noqa: E402

ROOT = integration.ROOT
assert integration.SPIN, integration.NO_SPIN

# The integration suite's application fixture: `spin up` of the committed spin.toml.
app_url = integration.app_url


@pytest.fixture(scope="session")
def exporter_binary() -> Path:
    """The exporter's static binary (exporter/Dockerfile's build; scripts/test.sh built it)."""
    return exporter_run.ensure_binary()


@pytest.fixture
def exporter(exporter_binary, tmp_path):
    """A model-exporter on two free loopback ports, stopped at teardown."""
    process = ExporterProcess(exporter_binary, tmp_path / "exporter.log")
    process.start()
    yield process
    process.stop()

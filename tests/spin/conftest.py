"""Fixtures of the Spin suite: what only the real Spin CLI can show. The manifest as Spin loads
it, `spin build`, the OCI artifact `spin registry push` makes and `spin up -f <reference>`
serves from a loopback registry, Spin's own telemetry through the exporter into a real
Prometheus, and the README's and docs' Spin commands run as written.

`scripts/test.sh` runs this suite only when `spin` is on PATH (CI puts Spin 3.6.3 there and
requires it); without Spin it says loudly that it skipped it.
"""

from __future__ import annotations

import pytest

from tests.support.exporter import Exporter, exporter_binary  # noqa: F401 (a fixture)
from tests.support.service import app_url  # noqa: F401 (a fixture: `spin up` of the committed spin.toml)
from tests.support.spin import NO_SPIN, SPIN

assert SPIN, NO_SPIN


@pytest.fixture
def exporter(exporter_binary, tmp_path):
    """A model-exporter on two free loopback ports, stopped at teardown."""
    process = Exporter(exporter_binary, tmp_path / "exporter.log")
    process.start()
    yield process
    process.stop()

"""Fixtures of the integration suite: the application on loopback ports, served by the real Spin.

The service tests run against `spin up` of the committed `spin.toml`: Spin's router, both
components, the API with every listed model composed in by `scripts/build.sh`. On a machine
without Spin on `PATH` they fall back to the runner a user without Spin has
(`scripts/serve_local.py`: wasmtime, routed like Spin, the same composition), and say so in the
run's header; the suites that
only Spin can run (`tests/spin/`) are then skipped by `scripts/test.sh`, loudly.
`REQUIRE_SPIN=1` (CI sets it) turns a missing Spin into a failure instead.

The components must be built first (`scripts/test.sh` does it); fixtures never build. The
fixtures and helpers are tests/support's, shared with the other suites.
"""

from __future__ import annotations

import pytest

from tests.support.service import api_url, app_url  # noqa: F401 (fixtures)
from tests.support.spin import NO_SPIN, SPIN, SPIN_REQUIRED


def pytest_configure(config):
    if SPIN_REQUIRED and not SPIN:
        raise pytest.UsageError(f"REQUIRE_SPIN=1 but {NO_SPIN}")


def pytest_report_header(config):
    return f"service runtime: {f'spin ({SPIN})' if SPIN else 'wasmtime, the fallback: ' + NO_SPIN}"

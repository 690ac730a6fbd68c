"""The release components: small, and importing nothing but WASI (so Spin, SpinKube's shim and
`wasmtime serve` all run them)."""

from __future__ import annotations

import re
import subprocess

import pytest

from conftest import API_WASM, DOCS_WASM

MAX_API_BYTES = 512 * 1024


def wit_of(component) -> str:
    return subprocess.run(
        ["wasm-tools", "component", "wit", str(component)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout


def world_items(wit: str, keyword: str) -> list[str]:
    """Interfaces a component's world imports or exports, e.g. `wasi:io/streams@0.2.0`."""
    return re.findall(rf"^\s*{keyword}\s+([\w:/.@-]+)\s*;", wit, flags=re.MULTILINE)


def test_the_prediction_component_is_at_most_512_kib():
    size = API_WASM.stat().st_size
    assert size <= MAX_API_BYTES, f"{size} bytes"


@pytest.mark.parametrize("component", [API_WASM, DOCS_WASM], ids=["api", "docs"])
def test_components_import_only_wasi_interfaces(component):
    imports = world_items(wit_of(component), "import")
    assert imports, "the world lists its imports"
    assert all(name.startswith("wasi:") for name in imports), imports


@pytest.mark.parametrize("component", [API_WASM, DOCS_WASM], ids=["api", "docs"])
def test_components_export_the_wasi_http_handler_spin_3_runs(component):
    exports = world_items(wit_of(component), "export")
    assert exports == ["wasi:http/incoming-handler@0.2.0"], exports


def test_the_prediction_component_opens_no_outbound_http():
    imports = world_items(wit_of(API_WASM), "import")
    assert "wasi:http/outgoing-handler@0.2.0" not in imports

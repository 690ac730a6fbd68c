"""Where things are: the repository, its Spin manifest, and the components scripts/build.sh
builds from it. The suites read these artifacts and never build them (scripts/test.sh builds
first)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "spin.toml"
RELEASE = ROOT / "target" / "wasm32-wasip2" / "release"
# The HTTP component alone: it imports its models (wit/service/api.wit).
HTTP_WASM = RELEASE / "model_api.wasm"
# The model components (wit/model.wit): each exports healthcare:model/model, imports nothing.
MODEL_WASMS = {
    "pce-2013": ROOT / "target" / "components" / "pce-2013.wasm",
    "prevent-2023": ROOT / "target" / "components" / "prevent-2023.wasm",
}
# The HTTP component with its models composed in (wac/api.wac): what `wasmtime serve` and the
# fallback runner serve for the `api` component, as Spin composes it from spin.toml's
# dependencies.
API_WASM = ROOT / "target" / "composed" / "api.wasm"
DOCS_WASM = RELEASE / "docs_site.wasm"

"""Where things are: the repository, its Spin manifest, and the components scripts/build.sh
builds from it. The suites read these artifacts and never build them (scripts/test.sh builds
first)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "spin.toml"
# The model contract's interface, with the version wit/model.wit declares: what every model
# component exports.
CONTRACT = "healthcare:model/model@" + re.search(
    r"^package healthcare:model@([\w.-]+);", (ROOT / "wit" / "model.wit").read_text(), re.MULTILINE
).group(1)
RELEASE = ROOT / "target" / "wasm32-wasip2" / "release"
# The HTTP component alone: it imports its models (build.rs generates its world).
HTTP_WASM = RELEASE / "model_api.wasm"
# The model components spin.toml lists, the default first, by the name their file gives them
# (wit/model.wit): each exports healthcare:model/model, imports nothing.
MODEL_WASMS = {
    Path(path).stem: ROOT / path
    for path in tomllib.loads(MANIFEST.read_text())["component"]["api"]["tool"]["model-api"]["models"]
}
# The HTTP component with its models composed in by scripts/build.sh: what spin.toml serves for
# the `api` component, and what `wasmtime serve` and the fallback runner serve.
API_WASM = ROOT / "target" / "composed" / "api.wasm"
DOCS_WASM = RELEASE / "docs_site.wasm"
# The FHIR endpoints' component: it reaches the API by Spin's local service chaining only.
CLINICAL_WASM = RELEASE / "clinical.wasm"

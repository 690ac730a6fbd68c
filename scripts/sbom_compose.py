#!/usr/bin/env python3
"""One SBOM for a composed component: the union of its parts' SBOMs.

    scripts/sbom_compose.py NAME DESCRIPTION PART.cdx.json... > composed.cdx.json

`target/composed/api.wasm` is the HTTP component (package model-api) with the model components
(pce-2013-component, prevent-2023-component) composed in by wac/api.wac, as Spin composes them
from spin.toml. Its SBOM lists each part as a component (with the part's own metadata) and
every crate of every part once; the composition depends on its parts, each part on what its
own SBOM says. Its version is the first part's (the HTTP component's package version).
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    name, description, *paths = sys.argv[1:]
    parts = [json.load(open(path)) for path in paths]
    first = parts[0]
    version = first["metadata"]["component"]["version"]
    root_ref = f"composed:{name}@{version}"
    components: dict[str, dict] = {}
    dependencies: dict[str, set[str]] = {root_ref: set()}
    for bom in parts:
        part = {k: v for k, v in bom["metadata"]["component"].items() if k != "components"}
        components.setdefault(part["bom-ref"], part)
        dependencies[root_ref].add(part["bom-ref"])
        for component in bom.get("components", []):
            components.setdefault(component["bom-ref"], component)
        for dependency in bom.get("dependencies", []):
            dependencies.setdefault(dependency["ref"], set()).update(dependency.get("dependsOn", []))
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": first["specVersion"],
        "version": 1,
        "metadata": {
            "timestamp": first["metadata"].get("timestamp"),
            "tools": first["metadata"].get("tools"),
            "component": {"type": "application", "bom-ref": root_ref, "name": name,
                          "version": version, "description": description},
            "properties": [{"name": "healthcare-model-service:parts",
                            "value": ", ".join(b["metadata"]["component"]["name"] for b in parts)}],
        },
        "components": sorted(components.values(), key=lambda c: c["bom-ref"]),
        "dependencies": [{"ref": ref, "dependsOn": sorted(on)} for ref, on in sorted(dependencies.items())],
    }
    bom["metadata"] = {k: v for k, v in bom["metadata"].items() if v is not None}
    json.dump(bom, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

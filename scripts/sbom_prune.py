#!/usr/bin/env python3
"""Keeps in a cargo-cyclonedx SBOM only the crates compiled into one package for one target.

    scripts/sbom_prune.py SBOM.json PACKAGE TARGET > pruned.json

The crates kept are those of `cargo tree --locked -e normal --target TARGET -p PACKAGE`:
cargo's feature resolution for building that package alone (resolver 2), normal dependencies
only. Components, and the dependency graph's entries and edges, of any other crate are dropped;
a metadata property records how the list was made. Fails if a crate cargo builds is missing
from the SBOM.
"""

from __future__ import annotations

import json
import subprocess
import sys


def compiled(package: str, target: str) -> set[tuple[str, str]]:
    """(name, version) of every crate in the package's normal dependency tree, itself included."""
    tree = subprocess.run(
        ["cargo", "tree", "--locked", "-e", "normal", "--target", target, "-p", package,
         "--prefix", "none", "--format", "{p}"],
        check=True, capture_output=True, text=True,
    ).stdout
    crates = set()
    for line in tree.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[1].startswith("v"):
            crates.add((fields[0], fields[1][1:]))
    return crates


def main() -> None:
    path, package, target = sys.argv[1:4]
    bom = json.load(open(path))
    keep = compiled(package, target)

    def kept(component: dict) -> bool:
        return (component["name"], component["version"]) in keep

    components = [c for c in bom.get("components", []) if kept(c)]
    refs = {c["bom-ref"] for c in components} | {bom["metadata"]["component"]["bom-ref"]}
    listed = {(c["name"], c["version"]) for c in components}
    listed.add((bom["metadata"]["component"]["name"], bom["metadata"]["component"]["version"]))
    missing = keep - listed
    if missing:
        sys.exit(f"{package} ({target}): cargo builds crates the SBOM lacks: {sorted(missing)}")

    bom["components"] = components
    bom["dependencies"] = [
        {**d, "dependsOn": [r for r in d.get("dependsOn", []) if r in refs]}
        for d in bom.get("dependencies", [])
        if d["ref"] in refs
    ]
    properties = bom["metadata"].setdefault("properties", [])
    properties.append({
        "name": "healthcare-model-service:scope",
        "value": f"crates of `cargo tree -e normal --target {target} -p {package}`",
    })
    json.dump(bom, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

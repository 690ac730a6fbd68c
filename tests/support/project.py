"""A copy of the project for tests that change it (one more model listed, models added), built
with the main build's artifacts as a head start."""

from __future__ import annotations

import shutil
import subprocess

from tests.support.paths import ROOT

BUILD_TIMEOUT = 900


def run(command: list[str], cwd, env=None):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def copy_project(destination):
    """The repository's tracked files, and the build's artifacts (so that only the project's
    own crates compile again)."""
    files = run(["git", "ls-files", "-z"], ROOT).stdout.split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for artifacts in ("wasm32-wasip2", "wasm32-unknown-unknown", "release"):
        if (ROOT / "target" / artifacts).is_dir():
            shutil.copytree(ROOT / "target" / artifacts, destination / "target" / artifacts, symlinks=True)

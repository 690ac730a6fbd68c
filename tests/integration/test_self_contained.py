"""A clone of this repository alone builds and tests: nothing in it reads the `shared/` folder
that sits beside the project's checkout on the developers' machines (only `.ci/run` puts the
Spin CLI found there on PATH, as CI's stand-in for a user's installed Spin), and the data the
tests need is in tests/data, as tests/data/SOURCES.md lists it."""

from __future__ import annotations

import hashlib
import re
import subprocess

from tests.support.paths import ROOT

DATA = ROOT / "tests" / "data"
# The one place allowed to name it: CI putting Spin on PATH.
ALLOWED = {".ci/run"}
# Spelt in parts, so that this file does not name it either.
SPIN_IN_SHARED = "/".join(["..", "shared", "tools", "spin"])
MENTION = re.compile(r"\.\./shared\b|\bshared/(fixtures|schemas|tools|models|reference)\b")


def tracked_files() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True,
                          timeout=60).stdout.splitlines()


def test_no_tracked_file_reads_the_shared_folder():
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if name in ALLOWED or name.startswith("tests/data/") or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if MENTION.search(line)]
    assert offenders == []


def test_ci_puts_only_spin_from_the_shared_folder_on_path():
    text = (ROOT / ".ci" / "run").read_text()
    assert set(re.findall(r"\.\./shared/[\w./-]+", text)) == {SPIN_IN_SHARED}
    assert "REQUIRE_SPIN=1" in text and "git clone" in text, "CI tests a clone with nothing beside it"


def test_every_data_file_is_listed_in_sources_with_its_checksum_where_given():
    sources = (DATA / "SOURCES.md").read_text()
    for path in sorted(p for p in DATA.rglob("*") if p.is_file() and p.name != "SOURCES.md"):
        relative = path.relative_to(DATA)
        top = relative.parts[0]
        assert f"`{relative}`" in sources or f"`{top}/`" in sources, f"{relative} is not in tests/data/SOURCES.md"
    for crd in sorted((DATA / "crds").glob("*.yaml")):
        digest = hashlib.sha256(crd.read_bytes()).hexdigest()
        assert digest in sources, f"{crd.name}: {digest} is not the checksum SOURCES.md gives"


def test_the_captured_spin_telemetry_is_all_there():
    for run, count in (("run1-default-env", 8), ("run2-resource-env", 5)):
        assert len(list((DATA / "spin-otlp" / run).glob("*.bin"))) == count, run

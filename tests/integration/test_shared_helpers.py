"""What the suites share is in tests/support, imported as `tests.support` (pytest.ini puts the
repository root on the import path), and done one way:

- no Python file of tests/ or scripts/ changes the import path or loads a module by its file
  name, so no suite borrows another's helper behind pytest's back;
- no test module imports another suite's module through the `tests` package either;
- only tests/support starts a child process with subprocess's Popen: a server started anywhere
  else needs its own wait-until-ready loop, which is what tests/support/processes.py is for.
  Files that may anyway are in POPEN_ALLOWED, each with its reason.

And that one way does what the suites rely on: a server that exits or never answers fails the
wait with its log's last lines and is stopped, and a process group is stopped whole.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import NotReady, Process

SUPPORT = "tests/support/"
POPEN_ALLOWED = {
    "scripts/serve_local.py": "a script users run with Python's standard library alone (the runner "
                              "without Spin); it starts one wasmtime serve per component and waits for "
                              "its port itself",
}
# Spelt so that this file's own patterns do not match themselves.
IMPORT_PATH_EDIT = re.compile(r"\bsys\s*\.\s*path\b")
FILE_IMPORT = re.compile(r"\bspec_from_file_location\b|\bSourceFileLoader\b|\brunpy\b|\bimp\s*\.\s*load_")
# Anything of the `tests` package but tests.support (`from tests import k8s`, `tests.spin.conftest`, ...).
OTHER_SUITE = re.compile(r"^\s*(?:from|import)\s+tests\b(?!\.support\b)", re.M)
POPEN = re.compile(r"\bPopen\s*\(")


def python_files() -> dict[str, str]:
    """Every Python file of tests/ and scripts/ that git tracks or would track (new files too):
    path -> text."""
    names = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "tests", "scripts"],
                           cwd=ROOT, check=True, capture_output=True, text=True, timeout=60).stdout.splitlines()
    return {name: (ROOT / name).read_text() for name in sorted(set(names))
            if name.endswith(".py") and (ROOT / name).is_file()}


def lines_matching(pattern: re.Pattern, files: dict[str, str]) -> list[str]:
    return [f"{name}:{n}: {line.strip()}" for name, text in files.items()
            for n, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


def test_the_check_sees_the_suites_the_scripts_and_the_shared_helpers():
    files = python_files()
    for expected in ("tests/support/processes.py", "tests/integration/conftest.py", "tests/k8s/conftest.py",
                     "tests/reliability/conftest.py", "tests/spin/conftest.py", "scripts/serve_local.py"):
        assert expected in files
    assert lines_matching(POPEN, {"tests/support/processes.py": files["tests/support/processes.py"]}), \
        "the Popen pattern finds the one shared Popen"


def test_nothing_edits_the_import_path_or_loads_a_module_by_file_name():
    files = python_files()
    assert lines_matching(IMPORT_PATH_EDIT, files) == []
    assert lines_matching(FILE_IMPORT, files) == []


def test_no_suite_imports_another_suites_module():
    assert lines_matching(OTHER_SUITE, python_files()) == []


def test_only_the_shared_helpers_start_processes_with_popen():
    outside = {name: text for name, text in python_files().items()
               if not name.startswith(SUPPORT) and name not in POPEN_ALLOWED}
    assert lines_matching(POPEN, outside) == []
    # Each exception is still needed, or it goes.
    files = python_files()
    for name in POPEN_ALLOWED:
        assert lines_matching(POPEN, {name: files[name]}), f"{name} no longer starts a process: drop it from the list"


# --- the shared wait: what a test sees when a server does not come up ----------------------------


def test_a_process_that_exits_fails_the_wait_with_its_last_words(tmp_path):
    process = Process([sys.executable, "-c", "print('port already taken'); raise SystemExit(3)"],
                      tmp_path / "server.log").start()
    with pytest.raises(NotReady, match=r"(?s)exited with status 3.*port already taken"):
        process.wait_for_http(f"http://127.0.0.1:{free_port()}/healthz")


def test_a_process_that_never_listens_fails_the_wait_and_is_stopped(tmp_path):
    process = Process([sys.executable, "-c", "import time; print('still loading', flush=True); time.sleep(60)"],
                      tmp_path / "server.log").start()
    with pytest.raises(NotReady, match=r"(?s)did not answer a listener on 127\.0\.0\.1:\d+ within 0\.5 s.*still loading"):
        process.wait_for_port(free_port(), timeout=0.5)
    assert not process.running


def test_stopping_a_process_group_stops_what_its_shell_started(tmp_path):
    process = Process(["bash", "-c", "sleep 60 & echo $!; wait"], tmp_path / "shell.log", own_group=True).start()
    deadline = time.monotonic() + 10
    while not process.log_text().strip():
        assert time.monotonic() < deadline, "the shell did not say its child's pid"
        time.sleep(0.05)
    child = int(process.log_text().split()[0])
    process.stop()
    while running(child):
        assert time.monotonic() < deadline, f"the shell's child {child} outlived stop()"
        time.sleep(0.05)


def running(pid: int) -> bool:
    """Whether a process exists and has not exited (a zombie, not yet reaped, has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"

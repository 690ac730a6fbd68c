"""The Spin commands the README and the exporter's README give a user, run exactly as written,
from the repository's root, with what they print checked against what the docs say they print.

Long-running commands (a server "in a terminal of its own") run in the background until the
test ends. The local loop's fixed ports (3000, 4318, 9464) must be free; the README's
`spin build --up` listens where `SPIN_HTTP_LISTEN_ADDR` says (Spin's own variable), so the
command itself stays as written.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess

import pytest
import requests

from tests.support.markdown import code_blocks, section
from tests.support.paths import ROOT
from tests.support.ports import free_port
from tests.support.processes import Process

README = ROOT / "README.md"
EXPORTER_README = ROOT / "exporter" / "README.md"


def commands(block: str) -> list[str]:
    """Shell commands of a code block: comments dropped, continued and quoted lines joined."""
    joined, current = [], ""
    for line in block.splitlines():
        line = re.sub(r"(^|\s)#\s.*$", "", line) if not current else line
        if not line.strip() and not current:
            continue
        current += ("\n" if current else "") + line
        if current.endswith("\\"):
            continue
        if current.count("'") % 2:  # an open single-quoted string goes on on the next line
            continue
        joined.append(current.strip())
        current = ""
    return joined


class Background:
    """Commands that serve until stopped, each in its own process group, interrupted at the end
    as a user at its terminal would (Ctrl-C)."""

    def __init__(self, logdir):
        self.logdir, self.processes = logdir, []

    def start(self, command: str, env=None) -> Process:
        process = Process(["bash", "-c", command], self.logdir / f"background-{len(self.processes)}.log", env=env,
                          cwd=ROOT, own_group=True, stop_signal=signal.SIGINT)
        self.processes.append(process.start())
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.stop(timeout=15)


@pytest.fixture
def background(tmp_path):
    running = Background(tmp_path)
    yield running
    running.stop()


def run(command: str, timeout: float = 900) -> str:
    result = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # As the servers bind: connections of an earlier run in TIME_WAIT do not hold the port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_the_readmes_with_spin_command_builds_and_serves(background):
    (block,) = code_blocks(section(README, "### With Spin"), "sh")
    (command,) = commands(block)
    assert command.startswith("spin build --up"), command
    listen = f"127.0.0.1:{free_port()}"
    process = background.start(command, env={"SPIN_HTTP_LISTEN_ADDR": listen})
    process.wait_for_http(f"http://{listen}/healthz", timeout=900)  # `spin build` first

    # The README's "Try it" request, against the app the command serves.
    (try_it,) = [b for b in code_blocks(README.read_text(), "sh") if b.startswith("curl -s localhost:3000/predict")]
    (curl,) = commands(try_it)
    answer = run(curl.replace("localhost:3000", listen), timeout=30)
    assert '"model":"pce-2013"' in answer.replace(" ", ""), answer
    assert requests.get(f"http://{listen}/docs", timeout=10).status_code == 200


def test_the_exporters_local_loop_shows_the_documented_lines(background):
    text = section(EXPORTER_README, "## Local loop")
    loop, shown = code_blocks(text)[:2]
    steps = commands(loop)
    for port in (3000, 4318, 9464):
        assert port_is_free(port), f"the local loop needs 127.0.0.1:{port}, which is in use"
    # Servers: the exporter "in a terminal of its own" and `spin up`; everything else in order.
    servers = {step for step in steps if step.startswith("target/release/model-exporter") or step.endswith("spin up")}
    assert len(servers) == 2, steps
    output = ""
    for step in steps:
        if step in servers:
            process = background.start(step)
            if "model-exporter" in step:
                process.wait_for_http("http://127.0.0.1:9464/readyz", timeout=120)
            else:  # a connection only: a request would be one more than the README counts
                process.wait_for_port(3000, timeout=120)
        else:
            output = run(step)
    # The last step's scrape holds every line the README shows from it.
    for line in shown.strip().splitlines():
        assert line in output.splitlines(), f"{line!r} not in:\n{output}"

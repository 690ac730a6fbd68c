"""Child processes of the tests: servers started with their output in a log file, waited for
until they serve, and stopped cleanly.

One way for every suite, so that a server that exits or never answers fails the test at once
with its own last words (the tail of its log) instead of a bare timeout, and never outlives the
test that started it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

import requests

POLL_S = 0.05
TAIL_LINES = 40


class NotReady(RuntimeError):
    """A process exited, or did not serve in time. The message ends with its log's last lines;
    the process has been stopped."""


class Process:
    """A child process whose stdout and stderr go to one log file (appended to when it is
    started again, e.g. after `kill()`).

    `env`: variables set on top of the test's own environment. `own_group`: the process leads a
    process group of its own, and signals go to the whole group (a shell command and whatever it
    starts). `stop_signal`: what `stop()` sends first; SIGKILL follows if that is not enough.
    """

    def __init__(self, command: Sequence[str | os.PathLike], log: Path, *,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 own_group: bool = False, stop_signal: int = signal.SIGTERM):
        self.command = [str(word) for word in command]
        self.log = Path(log)
        self.env = {**os.environ, **env} if env else None
        self.cwd = cwd
        self.own_group = own_group
        self.stop_signal = stop_signal
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:  # the child keeps its own copy of the descriptor
            self.popen = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                          cwd=self.cwd, start_new_session=self.own_group)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # --- readiness --------------------------------------------------------------------------

    def wait_for_http(self, url: str, *, status: int | None = None, timeout: float = 60.0) -> None:
        """Until a GET of `url` is answered (with `status`, if given)."""

        def answers() -> bool:
            try:
                response = requests.get(url, timeout=1)
            except (requests.ConnectionError, requests.Timeout):
                return False
            return status is None or response.status_code == status

        self._wait(answers, url if status is None else f"{url} with {status}", timeout)

    def wait_for_port(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0) -> None:
        """Until a TCP connection to `host:port` is accepted: for a server that must get no
        request but the test's own (one whose requests the test counts)."""

        def listens() -> bool:
            try:
                socket.create_connection((host, port), timeout=1).close()
                return True
            except OSError:
                return False

        self._wait(listens, f"a listener on {host}:{port}", timeout)

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            # Exited first: something else may answer on a port this process failed to bind.
            if not self.running:
                failure = f"exited with status {self.popen.returncode} before {what} answered"
            elif ready():
                return
            elif time.monotonic() > deadline:
                failure = f"did not answer {what} within {timeout} s"
            else:
                time.sleep(POLL_S)
                continue
            self.stop()
            raise NotReady(f"{' '.join(self.command)}\n{failure}; last lines of {self.log}:\n{self.log_tail()}")

    # --- stopping ---------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """`stop_signal`, then SIGKILL if the process has not exited within `timeout` s. Does
        nothing to a process that was never started, or has exited and has no group left."""
        if self.popen is None:
            return
        self._signal(self.stop_signal)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL: no drain, no flush, like an OOM kill."""
        self._signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def _signal(self, signum: int) -> None:
        try:
            if self.own_group:
                os.killpg(self.popen.pid, signum)
            else:
                self.popen.send_signal(signum)  # nothing once the process has been reaped
        except ProcessLookupError:
            pass

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

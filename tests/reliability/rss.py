"""Resident memory of a process (VmRSS), read from /proc: once, or sampled in the background
while a test loads the process."""

from __future__ import annotations

import threading
import time


def rss_kib(pid: int) -> int:
    """Resident set size of a process (VmRSS, KiB)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every `interval` seconds until stopped: [(seconds, KiB)]."""

    def __init__(self, pid: int, interval: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic() - start, rss_kib(self.pid)))
            except (FileNotFoundError, ProcessLookupError):
                return
            self._halt.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self._halt.set()
        self.join(timeout=5)
        return self.samples

    def between(self, start: float, end: float) -> list[int]:
        return [kib for t, kib in self.samples if start <= t < end]

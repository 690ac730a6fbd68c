#!/usr/bin/env python3
"""Serve the Spin application without Spin: route like Spin, run each component in wasmtime.

`wasmtime serve` runs exactly one component for every path, while Spin routes paths to
components by spin.toml. This runner reads spin.toml, starts one `wasmtime serve` per
component on a private loopback port, and forwards each request to the component whose route
Spin would pick (an exact route beats a wildcard; the longest wildcard prefix wins). It uses
only the Python standard library. A component that needs what only Spin gives (variables, a
key-value store, local service chaining: the clinical endpoints) is not run; its routes answer
503.

    python3 scripts/serve_local.py --listen 127.0.0.1:3000
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

# How each `wasmtime serve` runs: with the pooling allocator, as Spin does, keeping memories and
# tables resident between requests and resetting only the pages an instance wrote. wasmtime's
# default (on-demand) allocator maps and unmaps every instance's memory and tables per request,
# and the TLB shootdowns that costs dominate a request to a composition of several instances:
# the API answered 3,300-3,600 /predict requests/s with the defaults and 7,900-8,500 with these
# flags on the same machine (docs/design/model-wiring.md, "Where the rest goes").
WASMTIME_FLAGS = [
    "-O", "pooling-allocator=y",
    "-O", "pooling-pagemap-scan=auto",
    "-O", "pooling-memory-keep-resident=2097152",
    "-O", "pooling-table-keep-resident=65536",
]

# Headers that describe one connection, not the message (RFC 9110 §7.6.1).
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer", "transfer-encoding", "upgrade",
}


@dataclass(frozen=True)
class Route:
    pattern: str
    component: str

    @property
    def is_wildcard(self) -> bool:
        return self.pattern.endswith("/...")

    @property
    def prefix(self) -> str:
        return self.pattern[: -len("/...")] if self.is_wildcard else self.pattern

    def matches(self, path: str) -> bool:
        if not self.is_wildcard:
            return path == self.pattern
        prefix = self.prefix
        return path == prefix or path.startswith(prefix + "/") or prefix == ""


def load_routes(manifest: dict) -> list[Route]:
    return [Route(t["route"], t["component"]) for t in manifest.get("trigger", {}).get("http", [])]


def pick_route(routes: list[Route], path: str) -> Route | None:
    """Spin's precedence: an exact match first, then the longest matching wildcard prefix."""
    exact = [r for r in routes if not r.is_wildcard and r.matches(path)]
    if exact:
        return exact[0]
    wildcards = [r for r in routes if r.is_wildcard and r.matches(path)]
    return max(wildcards, key=lambda r: len(r.prefix), default=None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"wasmtime exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def servable(root: Path, name: str, component: dict) -> Path:
    """The file wasmtime can serve for a component: its `source`, which for the API is the
    composition scripts/build.sh writes (the HTTP component with spin.toml's models). It must be
    newer than every model it was composed from.
    """
    source = root / component["source"]
    models = component.get("tool", {}).get("model-api", {}).get("models", [])
    parts = [source, *(root / model for model in models)]
    for part in [source, *parts]:
        if not part.exists():
            raise FileNotFoundError(f"{part} is missing: build first (scripts/build.sh)")
    stale = [part for part in parts if part.stat().st_mtime > source.stat().st_mtime]
    if stale:
        raise RuntimeError(f"{source} is older than {stale[0]}: rebuild (scripts/build.sh)")
    return source


def needs_spin(component: dict) -> bool:
    """Whether a component needs what only Spin gives: its variables, its key-value store, or
    local service chaining to another component (`*.spin.internal`). `wasmtime serve` provides
    none of them, so such a component (the clinical endpoints) is not started here."""
    chained = any(".spin.internal" in host for host in component.get("allowed_outbound_hosts", []))
    return bool(component.get("variables") or component.get("key_value_stores") or chained)


def start_components(manifest: dict, root: Path, wasmtime: str) -> tuple[dict[str, int], list]:
    ports: dict[str, int] = {}
    processes = []
    for name, component in manifest.get("component", {}).items():
        if needs_spin(component):
            continue
        source = servable(root, name, component)
        port = free_port()
        process = subprocess.Popen(
            [wasmtime, "serve", "--addr", f"127.0.0.1:{port}", "-S", "cli", *WASMTIME_FLAGS,
             str(source)],
            stdout=subprocess.DEVNULL,
            stderr=sys.stderr,
        )
        processes.append(process)
        wait_for_port(port, process)
        ports[name] = port
    return ports, processes


def make_handler(routes: list[Route], ports: dict[str, int]):
    class Forwarder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            # Request lines may carry query strings; keep the console to status codes.
            pass

        def target(self) -> str:
            """The request target as the client sent it: http.server collapses a leading `//`
            in `self.path` (an open-redirect guard), while Spin hands the component the path
            unchanged."""
            words = self.requestline.split()
            return words[1] if len(words) == 3 else self.path

        def forward(self) -> None:
            target = self.target()
            path = target.split("?", 1)[0]
            route = pick_route(routes, path)
            if route is None:
                self.send_error(404)
                return
            body = self.read_body()
            if route.component not in ports:
                self.answer_needs_spin(route.component)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["content-length"] = str(len(body))
            connection = http.client.HTTPConnection("127.0.0.1", ports[route.component], timeout=60)
            try:
                connection.request(self.command, target, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            finally:
                connection.close()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def answer_needs_spin(self, component: str) -> None:
            """503 for a component this runner cannot run (see `needs_spin`)."""
            payload = json.dumps({
                "type": "about:blank", "title": "Service Unavailable", "status": 503,
                "detail": f"the {component} component needs Spin (variables, a key-value store or "
                          "local service chaining), which scripts/serve_local.py does not provide: "
                          "use `spin up`",
            }).encode()
            self.send_response(503)
            self.send_header("content-type", "application/problem+json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def read_body(self) -> bytes:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("content-length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = forward

        def __getattr__(self, name: str):
            # Spin hands every method to the component, which answers 405 itself; http.server
            # would answer 501 to any method without a do_<METHOD> (TRACE, PROPFIND, ...).
            if name.startswith("do_"):
                return self.forward
            raise AttributeError(name)

    return Forwarder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listen", default=os.environ.get("SPIN_HTTP_LISTEN_ADDR", "127.0.0.1:3000"))
    parser.add_argument("--manifest", default=str(Path(__file__).resolve().parent.parent / "spin.toml"))
    parser.add_argument("--wasmtime", default=os.environ.get("WASMTIME", "wasmtime"))
    args = parser.parse_args()

    manifest_path = Path(args.manifest)
    manifest = tomllib.loads(manifest_path.read_text())
    routes = load_routes(manifest)
    ports, processes = start_components(manifest, manifest_path.parent, args.wasmtime)

    def stop(*_):
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), make_handler(routes, ports))
    print(f"Serving http://{host}:{port}")
    print("Available Routes:")
    for route in routes:
        note = "" if route.component in ports else "  (needs Spin: answered 503 here)"
        print(f"  {route.component}: http://{host}:{port}{route.pattern}{note}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    finally:
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

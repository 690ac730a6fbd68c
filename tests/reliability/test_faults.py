"""Faults: the exporter SIGKILLed and restarted under load, and hostile clients of the exporter.

(a) The service does not depend on the exporter. Client threads POST /predict to the API
component under `wasmtime serve`; a forwarder turns each answered request into a Spin-shaped
SERVER span and exports them in batches every half second, as Spin does (a batch that cannot
be delivered is dropped, as Spin drops it). A real Prometheus scrapes the exporter every second.
Mid-run the exporter is SIGKILLed, left down for OUTAGE_S, and started again on the same ports.
Every request to the service must succeed throughout, including during the outage; exports fail
during the outage only; Prometheus records `up` 1, then 0, then 1; the exporter's counters
restart from zero (Prometheus sees a counter reset) and then count exactly the spans delivered
after the restart.

(b) Slow and oversized requests do not starve other clients. Many connections to both
listeners send their headers, or their bodies, a byte at a time (more connections than the
exporter's connection cap, reopened when the exporter closes them), while other threads post
bodies over the size cap. Meanwhile a well-behaved client must get every OTLP post accepted
(200) and every /metrics scrape answered, each within a bounded time.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import requests

from otlp import server_span, traces
from tests.support.exporter import total
from tests.support.paths import ROOT
from tests.support.prometheus import Prometheus

OUT = ROOT / "target" / "reliability"
PREDICT_BODY = (ROOT / "bench" / "wrk" / "predict-one.json").read_bytes()
CLIENTS = 4
BEFORE_S, OUTAGE_S, AFTER_S = 6.0, 5.0, 6.0
EXPORT_EVERY_S = 0.5


# ---------------------------------------------------------------------------------------------
# (a) SIGKILL and restart
# ---------------------------------------------------------------------------------------------


class Traffic:
    """Client threads calling the service, and a forwarder exporting their spans like Spin."""

    def __init__(self, service_url: str, exporter_otlp: str):
        self.service_url, self.exporter_otlp = service_url, exporter_otlp
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.pending = []
        self.answers: list[tuple[float, int | str]] = []  # (time, status or exception)
        self.exports: list[tuple[float, int, bool]] = []  # (time, spans, delivered)

    def client(self) -> None:
        with requests.Session() as session:
            while not self.stopping.is_set():
                start = time.time()
                try:
                    status = session.post(f"{self.service_url}/predict", data=PREDICT_BODY, timeout=10,
                                          headers={"content-type": "application/json"}).status_code
                except requests.RequestException as e:
                    status = repr(e)
                end = time.time()
                with self.lock:
                    self.answers.append((end, status))
                    if isinstance(status, int):
                        self.pending.append(server_span("POST", "/predict", "/predict", str(status),
                                                        end - start, end_ns=int(end * 1e9)))
                time.sleep(0.02)

    def forwarder(self) -> None:
        with requests.Session() as session:
            while True:
                stopping = self.stopping.wait(EXPORT_EVERY_S)
                with self.lock:
                    batch, self.pending = self.pending, []
                if batch:
                    try:
                        delivered = session.post(f"{self.exporter_otlp}/v1/traces", data=traces(batch), timeout=2,
                                                 headers={"content-type": "application/x-protobuf"}).status_code == 200
                    except requests.RequestException:
                        delivered = False
                    self.exports.append((time.time(), len(batch), delivered))
                if stopping:
                    return

    def __enter__(self):
        self.threads = [threading.Thread(target=self.client, daemon=True) for _ in range(CLIENTS)]
        self.threads.append(threading.Thread(target=self.forwarder, daemon=True))
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=20)


def test_the_service_keeps_answering_while_the_exporter_is_killed_and_metrics_resume(
        service, start_exporter, tmp_path):
    service_url, _ = service()
    exporter = start_exporter("--log", "warn")
    prometheus = Prometheus(exporter.metrics_addr, tmp_path)
    try:
        prometheus.wait_for_target_up()
        t0 = time.time()
        with Traffic(service_url, exporter.otlp) as traffic:
            time.sleep(BEFORE_S)
            killed_at = time.time()
            exporter.kill()
            time.sleep(OUTAGE_S)
            restarted_at = time.time()
            exporter.start()
            time.sleep(AFTER_S)
        time.sleep(2.5)  # two more scrapes
        after = exporter.samples()
        window = f"{int(time.time() - t0) + 5}s"
        up = prometheus.query(f'up{{job="model-exporter"}}[{window}]', time.time())
        resets = prometheus.query(
            f'resets(model_exporter_otlp_requests_total{{signal="traces",code="200"}}[{window}])', time.time())
    finally:
        prometheus.stop()

    answers = traffic.answers
    during_outage = [s for t, s in answers if killed_at < t < restarted_at]
    delivered_after = sum(n for t, n, ok in traffic.exports if ok and t > restarted_at)
    up_series = [(float(t), int(float(v))) for t, v in up[0]["values"]] if up else []
    figures = {
        "requests": len(answers), "requests_during_outage": len(during_outage),
        "statuses": sorted({str(s) for _, s in answers}),
        "exports": {"delivered_before": sum(n for t, n, ok in traffic.exports if ok and t < killed_at),
                    "dropped": sum(n for _, n, ok in traffic.exports if not ok),
                    "delivered_after": delivered_after,
                    "failed_outside_outage": [(round(t - t0, 2), n) for t, n, ok in traffic.exports
                                              if not ok and not killed_at < t < restarted_at + 1]},
        "kill_at_s": round(killed_at - t0, 2), "restart_at_s": round(restarted_at - t0, 2),
        "up": [(round(t - t0, 1), v) for t, v in up_series], "resets": resets,
        "exporter_after_restart": total(after, "http_requests_total", handler="/predict", method="POST", status="2xx"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "faults-kill.json").write_text(json.dumps(figures, indent=1))
    print("\n" + json.dumps(figures))

    # The service answered every request, before, during and after the outage.
    assert answers and all(s == 200 for _, s in answers), figures["statuses"]
    assert len(during_outage) >= CLIENTS * 10, figures
    # The outage was real (exports failed then, and only then) and delivery resumed.
    assert figures["exports"]["dropped"] > 0 and not figures["exports"]["failed_outside_outage"], figures
    assert figures["exports"]["delivered_before"] > 0 and delivered_after > 0, figures
    # The restarted exporter counts from zero exactly what was delivered after the restart.
    assert figures["exporter_after_restart"] == delivered_after, figures
    # Prometheus saw the exporter up, then down during the outage, then up again.
    before = [v for t, v in up_series if t < killed_at]
    down = [v for t, v in up_series if killed_at + 1.5 < t < restarted_at]
    back = [v for t, v in up_series if t > restarted_at + 1.5]
    assert before and set(before) == {1}, figures["up"]
    assert len(down) >= OUTAGE_S - 3 and set(down) == {0}, figures["up"]
    assert back and set(back) == {1}, figures["up"]
    # ...and the exporter's own counter restarted from zero.
    assert resets and float(resets[0]["value"][1]) >= 1, figures["resets"]


# ---------------------------------------------------------------------------------------------
# (b) Slow and oversized requests
# ---------------------------------------------------------------------------------------------

MAX_CONNECTIONS = 32
REQUEST_TIMEOUT_S = 2
ATTACK_S = 8.0
# A well-behaved request may wait for the slow connections ahead of it to time out
# (REQUEST_TIMEOUT_S each, a cap's worth at a time): twice that, plus a second.
BOUND_S = 2 * REQUEST_TIMEOUT_S + 1
OVERSIZED = 5 << 20  # over the exporter's default 4 MiB cap


class SlowClients(threading.Thread):
    """Connections that send `opening`, then one more byte every `tick` seconds, for ever; one
    the exporter closes (or answers) is opened again at once."""

    def __init__(self, addr: str, count: int, opening: bytes, tick: float = 0.25):
        super().__init__(daemon=True)
        host, port = addr.split(":")
        self.addr, self.count, self.opening, self.tick = (host, int(port)), count, opening, tick
        self.stopping = threading.Event()
        self.opened = self.closed_by_server = 0

    def open(self) -> socket.socket | None:
        try:
            s = socket.create_connection(self.addr, timeout=1)
            s.sendall(self.opening)
            s.setblocking(False)
            self.opened += 1
            return s
        except OSError:
            return None

    def run(self) -> None:
        sockets = [self.open() for _ in range(self.count)]
        while not self.stopping.wait(self.tick):
            for i, s in enumerate(sockets):
                alive = s is not None
                if alive:
                    try:
                        if s.recv(4096, socket.MSG_PEEK) is not None:  # an answer (408) or EOF
                            alive = False
                    except BlockingIOError:
                        try:
                            s.send(b"a")
                        except OSError:
                            alive = False
                    except OSError:
                        alive = False
                if not alive:
                    if s is not None:
                        self.closed_by_server += 1
                        s.close()
                    sockets[i] = self.open()
        for s in sockets:
            if s is not None:
                s.close()


def oversized_posts(url: str, stopping: threading.Event, statuses: list) -> None:
    chunk = b"\0" * (1 << 20)
    while not stopping.is_set():
        for declared in (True, False):
            headers = {"content-type": "application/x-protobuf"}
            try:
                if declared:  # Content-Length over the cap: refused before the body is read
                    response = requests.post(url, data=b"\0" * OVERSIZED, headers=headers, timeout=15)
                else:  # chunked, no length: refused once the cap is crossed
                    response = requests.post(url, data=(chunk for _ in range(OVERSIZED >> 20)), headers=headers,
                                             timeout=15)
                statuses.append(response.status_code)
            except requests.RequestException as e:  # the exporter may close before reading it all
                statuses.append(type(e).__name__)


def test_slow_and_oversized_requests_do_not_starve_other_clients(start_exporter):
    exporter = start_exporter("--max-connections", str(MAX_CONNECTIONS),
                              "--request-timeout", f"{REQUEST_TIMEOUT_S}s", "--log", "warn")
    slow_count = MAX_CONNECTIONS * 3 // 2
    attackers = [
        # headers that never end, on both listeners
        SlowClients(exporter.otlp_addr, slow_count // 2, b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nX-Slow: "),
        SlowClients(exporter.metrics_addr, slow_count, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: "),
        # complete headers, then a body that never ends
        SlowClients(exporter.otlp_addr, slow_count // 2,
                    b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                    b"Content-Length: 100000\r\n\r\n"),
    ]
    for attacker in attackers:
        attacker.start()
    stopping, oversized = threading.Event(), []
    big = [threading.Thread(target=oversized_posts, args=(f"{exporter.otlp}/v1/traces", stopping, oversized),
                            daemon=True) for _ in range(2)]
    for thread in big:
        thread.start()
    time.sleep(1)  # every slow connection open
    body = traces([server_span("POST", "/predict", "/predict", "200", 0.001)])
    legit: list[tuple[str, int | str, float]] = []
    try:
        deadline = time.monotonic() + ATTACK_S
        while time.monotonic() < deadline:
            for what, call in (("otlp", lambda: exporter.post("/v1/traces", body, timeout=15)),
                               ("metrics", lambda: requests.get(f"{exporter.metrics}/metrics", timeout=15))):
                start = time.monotonic()
                try:
                    status = call().status_code
                except requests.RequestException as e:
                    status = repr(e)
                legit.append((what, status, time.monotonic() - start))
            time.sleep(0.25)
    finally:
        stopping.set()
        for attacker in attackers:
            attacker.stopping.set()
        for thread in big + attackers:
            thread.join(timeout=30)
    metrics = exporter.samples()
    figures = {
        "slow_connections": [a.count for a in attackers], "slow_opened": [a.opened for a in attackers],
        "slow_closed_by_exporter": [a.closed_by_server for a in attackers],
        "oversized": {str(s): oversized.count(s) for s in set(oversized)},
        "legit": {"requests": len(legit), "statuses": sorted({str(s) for _, s, _ in legit}),
                  "max_s": round(max(d for _, _, d in legit), 3),
                  "max_otlp_s": round(max(d for w, _, d in legit if w == "otlp"), 3),
                  "max_metrics_s": round(max(d for w, _, d in legit if w == "metrics"), 3)},
        "body_timeouts": total(metrics, "model_exporter_decode_failures_total", reason="body_timeout"),
        "body_too_large": total(metrics, "model_exporter_decode_failures_total", reason="body_too_large"),
        "busy_503": total(metrics, "model_exporter_otlp_requests_total", code="503"),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "faults-slow.json").write_text(json.dumps(figures, indent=1))
    print("\n" + json.dumps(figures))

    assert legit and all(s == 200 for _, s, _ in legit), figures
    assert figures["legit"]["max_s"] <= BOUND_S, figures
    # The attack was real: more slow connections than the cap, cut by the exporter's timeouts
    # and reopened; oversized bodies refused.
    assert sum(figures["slow_closed_by_exporter"]) >= MAX_CONNECTIONS, figures
    assert figures["body_timeouts"] > 0 and figures["body_too_large"] > 0, figures
    assert oversized and set(oversized) <= {413, "ConnectionError"}, figures

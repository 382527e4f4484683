"""Availability under hostile or careless clients, against `python -m app.serve` with real sockets
(scaled down from `make attack`, which runs them at full size and prints the figures):
non-reading batch clients hold bounded memory, abandoned batches stop costing CPU, a flood of
batches beyond the limit is refused with 503 and Retry-After, and /healthz keeps answering while
clients run what-if. Bounds are loose (about 10 times the targets) so a busy machine passes."""

import json
import socket
import statistics
import threading
import time

import httpx
import pytest

from bench.cases import generate
from bench.server import cpu_seconds, rss_mib
from tests.test_launcher import HOST, Launched, _wait_healthy, launch

pytestmark = pytest.mark.server

NDJSON = "application/x-ndjson"
JSON_BODY = {"content-type": "application/json"}


def _pids(launched: Launched) -> list[int]:
    return [launched.process.pid, *launched.workers()]


def _unread_batch(port: int, body: bytes, accept: str) -> socket.socket:
    """A batch request sent on a raw socket whose answer is never read."""
    sock = socket.create_connection((HOST, port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    head = (
        f"POST /v1/explain/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: {accept}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


def _batch_body(n: int, seed: int) -> bytes:
    return json.dumps({"cases": generate(n, seed=seed)}).encode()


def test_batch_clients_that_never_read_hold_bounded_memory_and_leave_no_work_behind() -> None:
    # Finding: 30 such clients drove the server to 3.09 GB, and batches whose clients left still
    # cost 107 s of CPU. Scaled: 6 clients x 500 cases, unread for 5 s.
    with launch(workers=1) as launched:
        _wait_healthy(launched)
        pids = _pids(launched)
        body = _batch_body(500, seed=3)
        before = rss_mib(pids)
        socks = [_unread_batch(launched.port, body, NDJSON if i % 2 else "application/json") for i in range(6)]
        peak = before
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            peak = max(peak, rss_mib(pids))
            time.sleep(0.2)
        for sock in socks:
            sock.close()
        # Each answer is about 30 MB; held whole they would be 180 MB. Streamed, each client holds a
        # socket buffer's worth and the server one entry.
        assert peak - before < 120, f"resident memory grew {peak - before:.0f} MiB"
        # Once the clients are gone their batches stop: the server returns to idle.
        idle_deadline = time.monotonic() + 30
        while True:
            start = cpu_seconds(pids)
            time.sleep(1.0)
            busy = cpu_seconds(pids) - start
            if busy < 0.2 or time.monotonic() > idle_deadline:
                break
        assert busy < 0.2, f"the server still spends {busy:.2f} s of CPU a second on departed clients"
        assert httpx.get(f"{launched.url}/healthz", timeout=10).status_code == 200


def test_batches_beyond_the_limit_are_refused_with_retry_after() -> None:
    with launch(workers=1, env={"LIVERMETS_MAX_CONCURRENT_BATCHES": "1"}) as launched:
        _wait_healthy(launched)
        body = _batch_body(300, seed=5)
        # One running and four waiting (the waiting line is four times the limit); a sixth is refused.
        holders = [_unread_batch(launched.port, body, NDJSON) for _ in range(5)]
        try:
            with httpx.Client(base_url=launched.url, timeout=30) as client:
                refused = None
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:  # until every holder has reached the limiter
                    response = client.post(
                        "/v1/explain/batch", content=body, headers={"content-type": "application/json"}
                    )
                    if response.status_code == 503:
                        refused = response
                        break
                    time.sleep(0.1)
                assert refused is not None, "a sixth concurrent batch was never refused"
                assert refused.headers["retry-after"] == "1"
                assert refused.json()["code"] == "busy"
                assert "x-request-id" in refused.headers
        finally:
            for sock in holders:
                sock.close()
        with httpx.Client(base_url=launched.url, timeout=60) as client:
            deadline = time.monotonic() + 30
            while True:  # the slots come back once the holders are gone
                status = client.post("/v1/explain/batch", json={"cases": generate(3, seed=6)}).status_code
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert status == 200


def test_liveness_answers_while_clients_run_what_if() -> None:
    # Finding: with 16 clients running what-if, /healthz took 1.9 s at the median. Target p99 under
    # 100 ms; asserted here at 10 times that.
    with launch(workers=1) as launched:
        _wait_healthy(launched)
        cases = generate(400, seed=9)
        stop = threading.Event()
        served = [0]

        def what_if_client(k: int) -> None:
            with httpx.Client(base_url=launched.url, timeout=60) as client:
                i = k
                while not stop.is_set():
                    response = client.post("/v1/explain", params={"what_if": "true"}, json=cases[i % len(cases)])
                    served[0] += response.status_code == 200
                    i += 8

        threads = [threading.Thread(target=what_if_client, args=(k,)) for k in range(8)]
        for thread in threads:
            thread.start()
        latencies: list[float] = []
        try:
            with httpx.Client(base_url=launched.url, timeout=30) as probe:
                while served[0] < 8:  # the load is running
                    time.sleep(0.05)
                for _ in range(40):
                    started = time.perf_counter()
                    assert probe.get("/healthz").status_code == 200
                    latencies.append(time.perf_counter() - started)
                    time.sleep(0.02)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert served[0] > 0
        assert max(latencies) < 1.0, (
            f"/healthz p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )

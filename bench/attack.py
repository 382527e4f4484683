"""`make attack`: the availability findings, measured at full scale against `python -m app.serve`
(the tests in tests/test_attacks.py run the same attacks scaled down, as pass/fail).

python -m bench.attack            # 2 workers, 30 batch clients x 1,000 cases unread for 30 s
python -m bench.attack --quick    # smaller and shorter, to check the harness

Prints one table: resident memory of all server processes under non-reading batch clients, the
CPU the server still spends after batch clients disconnect, and /healthz latency while clients run
what-if and batches."""

import argparse
import json
import socket
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

import httpx

from bench import server
from bench.cases import generate
from bench.run import Row, machine, table

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Scale:
    workers: int
    batch_clients: int
    batch_cases: int
    unread_s: float
    what_if_clients: int
    probe_s: float


FULL = Scale(workers=2, batch_clients=30, batch_cases=1000, unread_s=30, what_if_clients=16, probe_s=15)
QUICK = Scale(workers=2, batch_clients=6, batch_cases=500, unread_s=5, what_if_clients=8, probe_s=4)


def _post_unread(url: str, body: bytes, accept: str) -> socket.socket:
    """Send a batch request on a raw socket and never read the answer."""
    parsed = urlparse(url)
    sock = socket.create_connection((parsed.hostname, parsed.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    head = (
        f"POST /v1/explain/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: {accept}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body)
    return sock


def unread_batches(srv: server.Server, scale: Scale) -> list[Row]:
    """Finding 1: clients that post a batch and never read the answer."""
    cases = generate(scale.batch_cases * 2, seed=13)
    bodies = [json.dumps({"cases": cases[i % 2 :: 2][: scale.batch_cases]}).encode() for i in range(2)]
    before = srv.rss_mib()
    socks = [
        _post_unread(srv.url, bodies[i % 2], NDJSON if i % 2 else "application/json")
        for i in range(scale.batch_clients)
    ]
    peak = before
    deadline = time.monotonic() + scale.unread_s
    while time.monotonic() < deadline:
        peak = max(peak, srv.rss_mib())
        time.sleep(0.25)
    pids = srv.pids()
    for sock in socks:
        sock.close()
    # Finding 4: once the clients are gone, the server should stop working for them.
    time.sleep(1.0)
    cpu_before = server.cpu_seconds(pids)
    time.sleep(3.0)
    busy = (server.cpu_seconds(pids) - cpu_before) / 3.0
    after = srv.rss_mib()
    what = f"{scale.batch_clients} clients x {scale.batch_cases:,}-case batches unread for {scale.unread_s:.0f} s"
    return [
        Row(f"resident memory, all server processes: before / peak ({what})", f"{before:.0f} / {peak:.0f} MiB",
            "peak < 600 MiB (full scale)", peak < 600),
        Row("resident memory after those clients closed", f"{after:.0f} MiB"),
        Row("server CPU after the batch clients disconnected (share of one core, 3 s)", f"{busy:.2f}", "< 0.10",
            busy < 0.10),
    ]  # fmt: skip


def healthz_under_load(srv: server.Server, scale: Scale) -> list[Row]:
    """Finding 3: /healthz latency while clients run what-if and batches."""
    cases = generate(4000, seed=17)
    stop = threading.Event()
    answers = {"what_if": 0, "batch": 0, "refused": 0}

    def what_if_client(k: int) -> None:
        with httpx.Client(base_url=srv.url, timeout=60) as client:
            i = k
            while not stop.is_set():
                r = client.post("/v1/explain", params={"what_if": "true"}, json=cases[i % len(cases)])
                answers["what_if" if r.status_code == 200 else "refused"] += 1
                i += scale.what_if_clients

    def batch_client() -> None:
        with httpx.Client(base_url=srv.url, timeout=120) as client:
            while not stop.is_set():
                r = client.post("/v1/explain/batch", json={"cases": cases[:200]}, headers={"Accept": NDJSON})
                answers["batch" if r.status_code == 200 else "refused"] += 1

    threads = [threading.Thread(target=what_if_client, args=(k,)) for k in range(scale.what_if_clients)]
    threads += [threading.Thread(target=batch_client) for _ in range(2)]
    for t in threads:
        t.start()
    latencies: list[float] = []
    try:
        time.sleep(1.0)
        deadline = time.monotonic() + scale.probe_s
        with httpx.Client(base_url=srv.url, timeout=30) as probe:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                probe.get("/healthz").raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    load = f"{scale.what_if_clients} what-if clients and 2 NDJSON batch clients"
    return [
        Row(f"/healthz while {load} ({len(latencies)} probes)", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms", "p99 < 100 ms",
            p99 < 100),
        Row("answers to that load during the probes", f"{answers['what_if']} what-if, {answers['batch']} batches, "
            f"{answers['refused']} refused (503)"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller and shorter")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {machine()}", flush=True)
    print(f"server: python -m app.serve --workers {scale.workers}\n", flush=True)
    rows: list[Row] = []
    with server.serve_launcher(scale.workers) as srv:
        rows += unread_batches(srv, scale)
    with server.serve_launcher(scale.workers) as srv:
        rows += healthz_under_load(srv, scale)
    print(table(rows))


if __name__ == "__main__":
    main()

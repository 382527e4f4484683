"""Runs every benchmark against one freshly started server and prints one table.

python -m bench            # full run, about 3 minutes on 2 cores
python -m bench --quick    # short durations, for checking the harness itself
"""

import argparse
import json
import math
import os
import platform
import sys
from dataclasses import dataclass

import httpx

from bench import engine, server, wrk
from bench.cases import MIX, batch_cases

CONNECTIONS = 32
SOAK_REQUESTS = 50_000
SOAK_DISTINCT = 2_000


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.figure, self.value, self.target, verdict]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def _check(result: wrk.WrkResult, what: str) -> wrk.WrkResult:
    if result.errors:
        raise SystemExit(f"{what}: {result.errors} failed requests: the figures would not mean anything")
    return result


def _same_answers(url: str) -> None:
    """The load below is only meaningful if the server answers the mix correctly."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for case in MIX:
            response = client.post("/v1/explain", json=case)
            response.raise_for_status()
            if len(response.json()["discussed"]) + len(response.json()["not_discussed"]) < 1:
                raise SystemExit("empty explanation")


def http_rows(seconds: float, soak: bool) -> list[Row]:
    rows: list[Row] = []
    explain_lua = wrk.post_script("/v1/explain", MIX)
    batch_body = {"cases": batch_cases(1000)}
    with server.serve() as srv:
        rows.append(Row("start-up: spawn to first 200 from /healthz", f"{srv.startup_s:.2f} s"))
        rss_fresh = srv.rss_mib()
        _same_answers(srv.url)
        health = _check(wrk.run(f"{srv.url}/healthz", connections=CONNECTIONS, seconds=seconds), "healthz")
        explain = _check(
            wrk.run(f"{srv.url}/v1/explain", connections=CONNECTIONS, seconds=seconds, script=explain_lua), "explain"
        )
        ratio = explain.rps / health.rps
        rows += [
            Row(f"GET /healthz, {CONNECTIONS} connections (the floor)", _latency(health)),
            Row(f"POST /v1/explain, {CONNECTIONS} connections, {len(MIX)}-case mix", _latency(explain)),
            Row("explain / healthz throughput", f"{ratio:.3f}", ">= 0.5", ratio >= 0.5),
            Row("explain p99 latency", f"{explain.p99_ms:.1f} ms", "< 50 ms", explain.p99_ms < 50),
        ]
        if soak:
            rss_before = srv.rss_mib()
            # wrk runs for a time, not a count: run long enough for 50,000 and report the real count.
            soak_s = math.ceil(SOAK_REQUESTS / explain.rps * 1.4) + 1
            # Distinct cases, so that any per-process memoisation in the core fills up as it would in use.
            soak_lua = wrk.post_script("/v1/explain", batch_cases(SOAK_DISTINCT))
            soaked = _check(
                wrk.run(f"{srv.url}/v1/explain", connections=CONNECTIONS, seconds=soak_s, script=soak_lua), "soak"
            )
            if soaked.requests < SOAK_REQUESTS:
                raise SystemExit(f"the soak ran {soaked.requests:,} requests, fewer than {SOAK_REQUESTS:,}")
            rss_after = srv.rss_mib()
            growth = rss_after - rss_before
            rows += [
                Row("resident memory: fresh / before soak", f"{rss_fresh:.1f} MiB / {rss_before:.1f} MiB"),
                Row(
                    f"memory growth over {soaked.requests:,} explain requests ({SOAK_DISTINCT:,} distinct cases)",
                    f"{growth:+.1f} MiB (to {rss_after:.1f} MiB)",
                    "< 10 MB",
                    growth * 1.048576 < 10,
                ),
            ]
        batch_lua = wrk.post_script("/v1/explain/batch", [batch_body])
        batch = _check(
            wrk.run(f"{srv.url}/v1/explain/batch", connections=1, seconds=2 * seconds, script=batch_lua, timeout_s=60),
            "batch",
        )
        per_s = batch.rps * 1000
        rows.append(
            Row(
                "POST /v1/explain/batch, 1,000 cases a request",
                f"{per_s:,.0f} cases/s",
                ">= 2,000 cases/s",
                per_s >= 2000,
            )
        )
    with server.serve(workers=2) as srv:
        two = _check(
            wrk.run(f"{srv.url}/v1/explain", connections=CONNECTIONS, seconds=seconds, script=explain_lua), "2 workers"
        )
        rows.append(Row("POST /v1/explain, uvicorn --workers 2 (one shared socket)", _latency(two)))
    with server.serve_reuseport(2) as url:
        spread = _check(
            wrk.run(f"{url}/v1/explain", connections=CONNECTIONS, seconds=seconds, script=explain_lua), "reuseport"
        )
        rows.append(Row("POST /v1/explain, 2 processes, SO_REUSEPORT", _latency(spread)))
    return rows


def _latency(result: wrk.WrkResult) -> str:
    return f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"


def engine_rows(seconds: float) -> list[Row]:
    figures = engine.measure(MIX, seconds)
    return [
        Row("engine only: durable-rules adapter", f"{figures.engine_per_s:,.0f} cases/s"),
        Row("engine only: pure-Python reference evaluator", f"{figures.oracle_per_s:,.0f} cases/s"),
        Row("engine / reference evaluator", f"{figures.engine_per_s / figures.oracle_per_s:.2f}"),
        Row("in-process explain (engine + assembly)", f"{figures.explain_per_s:,.0f} cases/s"),
        Row(
            "serialise one explanation to JSON",
            f"{figures.serialise_per_s:,.0f} /s ({figures.explanation_bytes / 1024:.1f} KiB each)",
        ),
    ]


def table(rows: list[Row]) -> str:
    header = ["figure", "measured", "target", "met"]
    body = [r.cells() for r in rows]
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(4)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(cells) for cells in body)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs, no 50,000-request soak")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    if not wrk.available():
        sys.exit(wrk.INSTALL_HINT)
    seconds = 3.0 if args.quick else 10.0
    print(f"machine: {machine()}", flush=True)
    print(
        f"load generator: wrk, 1 thread, server: uvicorn, 1 worker unless stated; {seconds:.0f} s per run\n", flush=True
    )
    load_before = os.getloadavg()[0]
    rows = engine_rows(seconds / 2) + http_rows(seconds, soak=not args.quick)
    print(table(rows))
    # Other work on the machine lowers every figure: say how busy it was.
    load_after = os.getloadavg()[0]
    print(f"\n1-minute load average: {load_before:.2f} before, {load_after:.2f} after (2 = both cores busy)")
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))


if __name__ == "__main__":
    main()

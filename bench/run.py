"""Runs every benchmark on generated realistic traffic (bench/cases.py) and prints one table, each
figure beside its target where the speed issue sets one.

python -m bench            # full run, about 3-5 minutes on 2 cores (the 50,000-request soak runs at
                           # the explain rate: the slower explain, the longer)
python -m bench --quick    # short runs and a small soak, for checking the harness itself

The traffic is one call of `generate`, cut into disjoint slices, so no case is sent in two roles.
A figure that cannot be measured in this checkout (the launcher or the NDJSON batch not there yet)
reads "n/a (...)" and counts as not met.
"""

import argparse
import json
import math
import operator
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import engine, server, wrk
from bench.cases import generate, rulebook, variety

SEED = 20261203
CONNECTIONS = 32
NDJSON = "application/x-ndjson"
# The service's own cost, as wrk sees it: httpx asks for gzip by default, which would add the cost of
# compressing (python -m bench.compression measures that) to the batch and what-if figures.
PLAIN = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Sizes:
    """How much traffic each part sends."""

    seconds: float  # one wrk run
    explain_cases: int  # distinct cases the explain runs cycle through
    in_process_cases: int
    sequential_cases: int  # one keep-alive connection, one request at a time (what-if, 2 processes)
    warm_up: int  # explain requests before the soak's first RSS reading (the throughput runs count)
    soak_requests: int
    soak_cases: int  # distinct cases the soak cycles through
    batch_size: int
    batch_repeats: int  # of each of JSON and NDJSON
    full: bool  # the sizes the targets are stated for: memory rows are judged only then


FULL = Sizes(10, 5_000, 1_000, 200, 5_000, 50_000, 50_000, 1_000, 5, full=True)
QUICK = Sizes(3, 5_000, 300, 200, 1_000, 5_000, 5_000, 1_000, 2, full=False)


@dataclass(frozen=True)
class Goal:
    """A target: the measured value `op` the bound, e.g. ratio >= 0.5."""

    op: str  # one of OPS
    bound: float
    text: str  # as the table shows it

    def met(self, value: float) -> bool:
        return OPS[self.op](value, self.bound)


OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        verdict = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.figure, self.value, self.target, verdict]


def judged(figure: str, value: float | None, shown: str, goal: Goal, *, judge: bool = True) -> Row:
    """A row with a target. No value (not measurable here): "n/a (`shown`)", not met. judge=False
    shows the target but no verdict (a quick run's memory figures are not the target's size)."""
    if value is None:
        return Row(figure, f"n/a ({shown})", goal.text, False)
    return Row(figure, shown, goal.text, goal.met(value) if judge else None)


def table(rows: list[Row]) -> str:
    header = ["figure", "measured", "target", "met"]
    body = [r.cells() for r in rows]
    widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(4)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(cells) for cells in body)])


@dataclass(frozen=True)
class Traffic:
    """Disjoint slices of one generated list."""

    explain: list[dict[str, Any]]
    in_process: list[dict[str, Any]]
    what_if: list[dict[str, Any]]
    sequential: list[dict[str, Any]]
    soak: list[dict[str, Any]]
    batches: list[list[dict[str, Any]]]  # JSON batches first, then NDJSON

    @staticmethod
    def make(sizes: Sizes, seed: int = SEED) -> "Traffic":
        counts = [
            sizes.explain_cases,
            sizes.in_process_cases,
            sizes.sequential_cases,
            sizes.sequential_cases,
            sizes.soak_cases,
            *[sizes.batch_size] * (2 * sizes.batch_repeats),
        ]
        cases = iter(generate(sum(counts), seed))
        explain, in_process, what_if, sequential, soak, *batches = [
            [next(cases) for _ in range(count)] for count in counts
        ]
        return Traffic(explain, in_process, what_if, sequential, soak, batches)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as info:
            kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal:"))
        memory = f", {kib / 1024**2:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return (
        f"{os.cpu_count()} cores, {cpu}{memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def checkout() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=server.PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=server.PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "commit unknown"
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


class Failed(RuntimeError):
    """Requests failed: the figures would not mean anything."""


def _check(result: wrk.WrkResult, what: str) -> wrk.WrkResult:
    if result.errors:
        raise Failed(f"{what}: {result.errors} failed requests")
    return result


def _latency(result: wrk.WrkResult) -> str:
    return f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"


def _sane_answers(url: str, cases: list[dict[str, Any]]) -> None:
    """The load below is only meaningful if the server answers these cases with an explanation."""
    with httpx.Client(base_url=url, timeout=30) as client:
        for case in cases:
            response = client.post("/v1/explain", json=case)
            response.raise_for_status()
            if len(response.json()["discussed"]) + len(response.json()["not_discussed"]) < 1:
                raise SystemExit(f"empty explanation for {case}")


def sequential_ms(url: str, path: str, cases: list[dict[str, Any]]) -> list[float]:
    """Each case POSTed in turn on one keep-alive connection; milliseconds from send to the whole answer."""
    times = []
    with httpx.Client(base_url=url, timeout=60, limits=httpx.Limits(max_connections=1), headers=PLAIN) as client:
        client.get("/healthz").raise_for_status()  # the connection is open before the first timing
        for case in cases:
            started = time.perf_counter()
            response = client.post(path, json=case)
            times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return times


class NotAvailable(Exception):
    """The service does not offer this yet (the message says what it answered)."""


def batch_json_s(client: httpx.Client, cases: list[dict[str, Any]]) -> float:
    """Seconds for one batch answered as one JSON document, read whole."""
    started = time.perf_counter()
    response = client.post("/v1/explain/batch", json={"cases": cases})
    body = response.read()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    counted = re.search(rb'"explained":\s*(\d+)', body[:256] + b" " + body[-256:])
    explained = int(counted.group(1)) if counted else json.loads(body)["explained"]
    if explained != len(cases):
        raise Failed(f"batch: {explained} of {len(cases)} cases explained")
    return elapsed


def batch_ndjson_s(client: httpx.Client, cases: list[dict[str, Any]]) -> float:
    """Seconds for one batch streamed as NDJSON (one line a case), the whole stream read."""
    started = time.perf_counter()
    with client.stream("POST", "/v1/explain/batch", json={"cases": cases}, headers={"Accept": NDJSON}) as response:
        kind = response.headers.get("content-type", "")
        if response.status_code != 200 or not kind.startswith(NDJSON):
            response.read()
            raise NotAvailable(f"answered {response.status_code} {kind.split(';')[0] or 'without a type'}")
        lines = 0
        last = b""
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
            last = chunk or last
    elapsed = time.perf_counter() - started
    lines += 0 if last.endswith(b"\n") else 1
    if lines != len(cases):
        raise NotAvailable(f"{lines} lines for {len(cases)} cases, not one a case")
    return elapsed


@contextmanager
def _bodies(cases: list[dict[str, Any]]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        yield wrk.write_bodies(Path(tmp) / "bodies.ndjson", cases)


def _run_count(url: str, bodies: Path, count: int, rate: float, what: str) -> int:
    """At least `count` requests, cycling `bodies` from the start (wrk runs for a time, not a count:
    runs of the expected length, each continuing the cycle, until the count is reached)."""
    done = 0
    while done < count:
        seconds = math.ceil((count - done) / max(rate, 1) * 1.05) + 1
        result = _check(wrk.run_bodies(url, bodies, connections=CONNECTIONS, seconds=seconds, offset=done), what)
        done += result.requests
        rate = result.rps
    return done


def one_process_rows(traffic: Traffic, sizes: Sizes) -> list[Row]:
    """healthz, explain, what-if, memory and batch against one server process (bench.server.serve)."""
    rows: list[Row] = []
    seconds = sizes.seconds
    with server.serve() as srv, _bodies(traffic.explain) as explain_file, _bodies(traffic.soak) as soak_file:
        rss_fresh = srv.rss_mib()
        rows.append(
            judged(
                f"start-up of `{srv.name}`: spawn to first 200 from /healthz",
                srv.startup_s,
                f"{srv.startup_s:.2f} s",
                Goal("<", 2, "< 2 s"),
            )
        )
        _sane_answers(srv.url, traffic.explain[:16])
        healths: list[wrk.WrkResult] = []
        explains: list[wrk.WrkResult] = []
        for _ in range(2):  # alternating, so a busy moment on the machine hits both; the better run counts
            healths.append(_check(wrk.run(f"{srv.url}/healthz", connections=CONNECTIONS, seconds=seconds), "healthz"))
            explains.append(
                _check(
                    wrk.run_bodies(
                        f"{srv.url}/v1/explain",
                        explain_file,
                        connections=CONNECTIONS,
                        seconds=seconds,
                        offset=sum(e.requests for e in explains),
                    ),
                    "explain",
                )
            )
        health = max(healths, key=lambda r: r.rps)
        explain = max(explains, key=lambda r: r.rps)
        ratio = explain.rps / health.rps
        rows += [
            Row(f"GET /healthz, {CONNECTIONS} connections (the floor; better of 2 runs)", _latency(health)),
            Row(
                f"POST /v1/explain, {CONNECTIONS} connections, {len(traffic.explain):,} distinct cases (better of 2)",
                _latency(explain),
            ),
            judged("explain / healthz throughput", ratio, f"{ratio:.3f}", Goal(">=", 0.5, ">= 0.5")),
            judged(
                "explain latency, p50 / p99",
                explain.p99_ms,
                f"{explain.p50_ms:.1f} ms / {explain.p99_ms:.1f} ms",
                Goal("<", 35, "p99 < 35 ms"),
            ),
        ]
        what_if = sequential_ms(srv.url, "/v1/explain?what_if=true", traffic.what_if)
        rows.append(
            judged(
                f"what-if over HTTP, one keep-alive connection, {len(what_if)} distinct cases",
                statistics.median(what_if),
                f"median {statistics.median(what_if):.1f} ms (mean {statistics.mean(what_if):.1f})",
                Goal("<=", 15, "median <= 15 ms"),
            )
        )

        # Memory: fresh (above), after a warm-up of at least `warm_up` explain requests (the runs
        # above count), after the soak of distinct cases, and after the batches.
        warmed = sum(e.requests for e in explains)
        if warmed < sizes.warm_up:
            warmed += _run_count(f"{srv.url}/v1/explain", explain_file, sizes.warm_up - warmed, explain.rps, "warm-up")
        rss_warm = srv.rss_mib()
        soaked = _run_count(f"{srv.url}/v1/explain", soak_file, sizes.soak_requests, explain.rps, "soak")
        rss_soaked = srv.rss_mib()
        growth = rss_soaked - rss_warm
        distinct = min(soaked, len(traffic.soak))
        rows += [
            Row(
                f"resident memory: fresh / after {warmed:,} explain requests (warm-up)",
                f"{rss_fresh:.1f} MiB / {rss_warm:.1f} MiB",
            ),
            judged(
                f"memory growth over the next {soaked:,} explain requests ({distinct:,} distinct cases)",
                growth,
                f"{growth:+.1f} MiB",
                Goal("<", 15, "< 15 MiB over 50,000"),
                judge=sizes.full,
            ),
            judged(
                "resident memory after that traffic",
                rss_soaked,
                f"{rss_soaked:.1f} MiB",
                Goal("<=", 100, "<= 100 MiB"),
                judge=sizes.full,
            ),
        ]
        batched, sent = batch_rows(srv, traffic)
        rows += batched
        rows.append(
            Row(
                f"resident memory after those {sent} batches of {sizes.batch_size:,}",
                f"{srv.rss_mib():.1f} MiB",
            )
        )
    return rows


def batch_rows(srv: server.Server, traffic: Traffic) -> tuple[list[Row], int]:
    """Half the batches (distinct cases) once each as JSON, then the rest as NDJSON; the median
    counts. Also how many batches were sent."""
    half = len(traffic.batches) // 2
    size = len(traffic.batches[0])
    rows = []
    with httpx.Client(base_url=srv.url, timeout=300, headers=PLAIN) as client:
        as_json = [batch_json_s(client, cases) for cases in traffic.batches[:half]]
        per_s = size / statistics.median(as_json)
        rows.append(
            judged(
                f"POST /v1/explain/batch, {size:,} distinct cases, one JSON answer (median of {half})",
                per_s,
                f"{per_s:,.0f} cases/s",
                Goal(">=", 2000, ">= 2,000 cases/s"),
            )
        )
        figure = f"the same as NDJSON (Accept: {NDJSON}, median of {half})"
        as_ndjson: list[float] = []
        sent = half
        try:
            for cases in traffic.batches[half:]:
                sent += 1  # an answer that is not NDJSON was still a batch the server explained
                as_ndjson.append(batch_ndjson_s(client, cases))
        except NotAvailable as missing:
            rows.append(judged(figure, None, f"not available: {missing}", Goal(">=", 3000, ">= 3,000 cases/s")))
        else:
            per_s = size / statistics.median(as_ndjson)
            rows.append(judged(figure, per_s, f"{per_s:,.0f} cases/s", Goal(">=", 3000, ">= 3,000 cases/s")))
    return rows, sent


def two_process_rows(traffic: Traffic, sizes: Sizes) -> list[Row]:
    """Explain under the same load on a fresh `python -m app.serve --workers 1`, then `--workers 2`."""
    seconds = sizes.seconds
    two_goal = Goal(">=", 1.7, ">= 1.7 x one process")
    seq_goal = Goal("<", 15, "median < 15 ms")
    seq_figure = f"2 processes: one keep-alive connection, {len(traffic.sequential)} distinct explains in turn"
    results: dict[int, tuple[wrk.WrkResult, float]] = {}
    sequential: list[float] = []
    why = "not available: app.serve is not there"
    with _bodies(traffic.explain) as explain_file:
        for workers in (1, 2):
            try:
                with server.serve_launcher(workers) as srv:
                    url = f"{srv.url}/v1/explain"
                    # The same short warm-up for both, then the measured run.
                    wrk.run_bodies(url, explain_file, connections=CONNECTIONS, seconds=max(1, seconds / 5))
                    result = _check(
                        wrk.run_bodies(url, explain_file, connections=CONNECTIONS, seconds=seconds), "launcher"
                    )
                    results[workers] = (result, srv.rss_mib())
                    if workers == 2:
                        sequential = sequential_ms(srv.url, "/v1/explain", traffic.sequential)
            except Failed as failed:
                why = f"failed: {failed}"
                break
            except RuntimeError as missing:  # not there, or no answer at start-up
                why = f"not available: {missing}"
                break
    rows = []
    for workers in (1, 2):
        if workers in results:
            result, rss = results[workers]
            rows.append(Row(f"POST /v1/explain, `app.serve --workers {workers}`", f"{_latency(result)}; {rss:.0f} MiB"))
        else:
            rows.append(Row(f"POST /v1/explain, `app.serve --workers {workers}`", f"n/a ({why})"))
    if len(results) == 2:
        scale = results[2][0].rps / results[1][0].rps
        rows.append(judged("2 processes / 1 process throughput", scale, f"{scale:.2f} x", two_goal))
        median = statistics.median(sequential)
        rows.append(judged(seq_figure, median, f"median {median:.1f} ms", seq_goal))
    else:
        rows.append(judged("2 processes / 1 process throughput", None, why, two_goal))
        rows.append(judged(seq_figure, None, why, seq_goal))
    return rows


def in_process_rows(traffic: Traffic, seconds: float) -> list[Row]:
    figures = engine.measure(traffic.in_process, seconds, traffic.what_if)
    median, mean = engine.median_mean(figures.what_if_ms)
    n = len(traffic.in_process)
    return [
        Row(f"engine only: durable-rules adapter ({n:,} distinct cases)", f"{figures.engine_per_s:,.0f} cases/s"),
        Row("engine only: pure-Python reference evaluator", f"{figures.oracle_per_s:,.0f} cases/s"),
        Row("engine / reference evaluator", f"{figures.engine_per_s / figures.oracle_per_s:.2f}"),
        Row("in-process explain (engine + depends_on + assembly)", f"{figures.explain_per_s:,.0f} cases/s"),
        Row(
            "serialise one explanation to JSON",
            f"{figures.serialise_per_s:,.0f} /s ({figures.explanation_bytes / 1024:.1f} KiB each)",
        ),
        judged(
            f"in-process explain with what-if, {len(figures.what_if_ms)} distinct cases",
            median,
            f"median {median:.1f} ms (mean {mean:.1f})",
            Goal("<=", 10, "median <= 10 ms"),
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs and a small soak (memory not judged)")
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = parser.parse_args(argv)
    if not wrk.available():
        sys.exit(wrk.INSTALL_HINT)
    sizes = QUICK if args.quick else FULL
    began = time.perf_counter()
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {checkout()}; rulebook {rulebook().meta.version}")
    print(f"machine: {machine()}", flush=True)
    print(
        f"load: wrk, 1 thread, {CONNECTIONS} connections, {sizes.seconds:.0f} s a run; server: one process "
        "(the start-up row names it) unless stated",
        flush=True,
    )
    traffic = Traffic.make(sizes)
    print(f"explain traffic (seed {SEED}): {variety(traffic.explain)}\n", flush=True)
    load_before = os.getloadavg()[0]
    try:
        rows = in_process_rows(traffic, sizes.seconds / 4) + one_process_rows(traffic, sizes)
    except Failed as failed:
        sys.exit(f"{failed}: the figures would not mean anything")
    rows += two_process_rows(traffic, sizes)
    print(table(rows))
    # Other work on the machine lowers every figure: say how busy it was.
    load_after = os.getloadavg()[0]
    print(
        f"\n1-minute load average: {load_before:.2f} before, {load_after:.2f} after (2 = both cores busy); "
        f"{time.perf_counter() - began:.0f} s in all"
    )
    if not sizes.full:
        print("--quick: a small soak, so the memory targets are shown but not judged")
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))


if __name__ == "__main__":
    main()

"""Where the time of POST /v1/explain goes under load: py-spy samples the server (only the thread
holding the GIL, i.e. the Python work that bounds throughput) while wrk drives the benchmark's
explain traffic (5,000 distinct generated cases, bench/cases.py), and each sample is put in one bucket.

    .venv/bin/pip install py-spy && .venv/bin/python -m bench.profile
"""

import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

from bench import server, wrk
from bench.cases import generate
from bench.run import FULL, SEED

# First match wins, checked in this order against every frame of a sample's stack.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("rules engine (app/engine.py + durable-rules)", ("RulesEngine.evaluate",)),
    ("explanation assembly (app/core)", ("ExplainerService.explain",)),
    ("response validation + JSON serialisation", ("serialize_response",)),
    ("request body parsing + Case validation", ("solve_dependencies", "request_body_to_args", "Request.json")),
    ("access log line", ("Logger.info",)),
]
REST = "HTTP server, routing, middleware, thread hand-off"


def bucket(stack: list[str]) -> str:
    for name, markers in BUCKETS:
        if any(marker in frame for frame in stack for marker in markers):
            return name
    return REST


def summarise(raw: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        if line.strip():
            stack, samples = line.rsplit(" ", 1)
            counts[bucket(stack.split(";"))] += int(samples)
    return counts


def main() -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        sys.exit("py-spy is needed: .venv/bin/pip install py-spy")
    if not wrk.available():
        sys.exit(wrk.INSTALL_HINT)
    with server.serve() as srv, tempfile.TemporaryDirectory() as tmp:
        bodies = wrk.write_bodies(Path(tmp) / "bodies.ndjson", generate(FULL.explain_cases, SEED))
        load = threading.Thread(
            target=wrk.run_bodies,
            args=(f"{srv.url}/v1/explain", bodies),
            kwargs={"connections": 32, "seconds": 14},
        )
        load.start()
        out = Path(tmp) / "explain.raw"
        record = ["record", "--pid", str(srv.process.pid), "--duration", "10", "--rate", "250", "--gil"]
        subprocess.run(
            [py_spy, *record, "--nonblocking", "--format", "raw", "--output", str(out)],
            check=True,
            capture_output=True,
        )
        load.join()
        counts = summarise(out.read_text())
    total = sum(counts.values())
    print(f"POST /v1/explain under load, {total} samples of the GIL-holding thread:")
    for name, n in counts.most_common():
        print(f"  {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()

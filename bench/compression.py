"""`python -m bench.compression [N]`: what gzip does to a batch answer of N generated cases (default
1,000) from a real server process on loopback: bytes on the wire and seconds to the last byte, for
the JSON and the NDJSON answers, plain and gzip; and, on the plain JSON answer, the size and CPU time
of zlib levels 1 (the service's, app/compression.py), 4, 6 and 9. The README's gzip figures come from here."""

import sys
import time
import zlib

import httpx

from bench.cases import generate
from bench.server import serve

LEVELS = (1, 4, 6, 9)


def _fetch(url: str, cases: list[dict[str, object]], accept: str, encoding: str) -> tuple[int, bytes, float]:
    """Bytes on the wire, the decoded body, and seconds from sending to the last byte."""
    headers = {"Accept": accept, "Accept-Encoding": encoding}
    started = time.perf_counter()
    with httpx.stream("POST", f"{url}/v1/explain/batch", json={"cases": cases}, headers=headers, timeout=600) as r:
        r.raise_for_status()
        raw = b"".join(r.iter_raw())
        seconds = time.perf_counter() - started
        assert r.headers.get("content-encoding", "identity") == ("gzip" if encoding == "gzip" else "identity")
    body = zlib.decompress(raw, 31) if encoding == "gzip" else raw
    return len(raw), body, seconds


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 1000
    cases = generate(n)
    print(f"batch of {n} generated cases (bench.cases, seed 0)\n")
    print("| answer | Accept-Encoding | bytes on the wire | seconds to last byte |")
    print("| --- | --- | ---: | ---: |")
    with serve() as server:
        for label, accept in (("JSON", "application/json"), ("NDJSON", "application/x-ndjson")):
            plain_size, plain, plain_s = _fetch(server.url, cases, accept, "identity")
            gzip_size, decoded, gzip_s = _fetch(server.url, cases, accept, "gzip")
            assert decoded == plain, "the gzip answer decodes to the plain one"
            print(f"| {label} | identity | {plain_size:,} | {plain_s:.2f} |")
            print(f"| {label} | gzip | {gzip_size:,} ({gzip_size / plain_size:.1%}) | {gzip_s:.2f} |")
            if label == "JSON":
                json_body = plain
    print(f"\nzlib on the plain JSON answer ({len(json_body):,} bytes), whole body at once:\n")
    print("| level | bytes | CPU seconds |")
    print("| ---: | ---: | ---: |")
    for level in LEVELS:
        started = time.process_time()
        size = len(zlib.compress(json_body, level))
        print(f"| {level} | {size:,} ({size / len(json_body):.1%}) | {time.process_time() - started:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])

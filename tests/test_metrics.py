"""GET /metrics: the Prometheus text format, parsed with the client library's own parser; it counts
the requests made, by route template and status, times them, counts engine evaluations and error
answers by kind, names the rulebook, and sums every worker's figures under `--workers N`."""

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.metrics import UNMATCHED
from app.rulebook import Rulebook
from app.settings import Settings
from tests.conftest import BASE_CASE

KEY = "metrics-k3y-0123456789"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
REQUESTS = "livermets_http_requests_total"
ERRORS = "livermets_errors_total"
COUNT = "livermets_http_request_duration_seconds_count"
INFO = "livermets_rulebook_info"


def scrape(client: TestClient | httpx.Client, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of /metrics, by name and labels (parsed as a Prometheus server reads it)."""
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_a_request_is_counted_by_route_template_and_status(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/v1/explain", json=BASE_CASE).status_code == 200
    after = scrape(client)
    assert grew(before, after, REQUESTS, method="POST", route="/v1/explain", status="200") == 1
    timed = {"method": "POST", "route": "/v1/explain"}
    assert grew(before, after, COUNT, **timed) == 1
    assert value(after, "livermets_http_request_duration_seconds_bucket", le="+Inf", **timed) == value(
        after, COUNT, **timed
    )
    assert grew(before, after, "livermets_engine_evaluations_total", engine="whole") >= 1


def test_paths_are_counted_by_their_template_and_unknown_paths_together(client: TestClient) -> None:
    client.get("/static/page.css")
    client.get("/no/such/path-7f3a9c")
    samples = scrape(client)
    routes = {dict(labels).get("route") for name, labels in samples if name == REQUESTS}
    assert "/static/{name}" in routes
    assert UNMATCHED in routes
    assert not any("7f3a9c" in str(route) for route in routes), "a client's path must not become a label"


def test_error_answers_are_counted_by_kind(client: TestClient) -> None:
    before = scrape(client)
    assert client.post("/v1/explain", json={**BASE_CASE, "lesion_count": "many"}).status_code == 422
    too_large = b"[" + b" " * 70_000 + b"]"
    assert (
        client.post("/v1/explain", content=too_large, headers={"content-type": "application/json"}).status_code == 413
    )
    after = scrape(client)
    for kind in ("invalid_request", "payload_too_large"):
        assert (
            value(after, "livermets_errors_total", kind=kind) == value(before, "livermets_errors_total", kind=kind) + 1
        )


def test_a_gzip_coded_error_answer_is_counted_by_its_kind_too(client: TestClient) -> None:
    before = scrape(client)
    unknown = {f"unknown_field_{i}": i for i in range(30)}  # 20 problems listed: over 1 KiB, so gzip-coded
    response = client.post("/v1/explain", json={**BASE_CASE, **unknown}, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 422
    assert response.headers["content-encoding"] == "gzip"
    assert grew(before, scrape(client), ERRORS, kind="invalid_request") == 1


def test_the_rulebook_in_use_is_an_info_metric(client: TestClient, book: Rulebook) -> None:
    info = {
        dict(labels)["digest"]: v for (name, labels), v in scrape(client).items() if name == "livermets_rulebook_info"
    }
    assert info == {book.digest: 1.0}
    labels = next(dict(labels) for name, labels in scrape(client) if name == "livermets_rulebook_info")
    assert labels["version"] == book.meta.version


def test_metrics_follow_the_api_key(app_settings: Settings) -> None:
    with TestClient(create_app(app_settings.model_copy(update={"api_key": KEY}))) as keyed:
        assert keyed.get("/metrics").status_code == 401
        assert keyed.get("/metrics", headers={"X-API-Key": "wrong"}).status_code == 401
        samples = scrape(keyed, {"X-API-Key": KEY})
        assert value(samples, ERRORS, kind="unauthorized") == 2


def test_metrics_are_not_an_api_operation(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
    assert client.get("/metrics").headers["cache-control"] == "no-store"


# --- several workers ------------------------------------------------------------------------------


def _listening(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on `port` (read from /proc, no timing)."""
    inodes = set()
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A" and fields[9] in inodes:
                return True
    return False


@pytest.fixture
def two_workers() -> Iterator[str]:
    from tests.test_launcher import _wait_healthy, launch

    with launch(workers=2) as launched:
        _wait_healthy(launched)
        with httpx.Client(base_url=launched.url, timeout=30) as client:
            # Until both workers listen, the kernel gives every connection to the first.
            while not all(_listening(pid, launched.port) for pid in launched.workers()):
                client.get("/healthz")  # a short wait on the server, not a sleep
        yield launched.url


@pytest.mark.server
def test_with_two_workers_every_scrape_has_the_sums_of_both(two_workers: str) -> None:
    requests = 40
    for _ in range(requests):  # a new connection each: the kernel spreads them over both workers
        with httpx.Client(base_url=two_workers, headers={"Connection": "close"}) as fresh:
            assert fresh.get("/v1/categories").status_code == 200
    labels = {"method": "GET", "route": "/v1/categories", "status": "200"}
    for _ in range(6):  # each scrape on a new connection, so both workers answer some of them
        with httpx.Client(base_url=two_workers, headers={"Connection": "close"}) as fresh:
            assert value(scrape(fresh), REQUESTS, **labels) == requests

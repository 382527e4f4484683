"""POST /v1/explain/batch with `Accept: application/x-ndjson`: the entries of the JSON answer's
`results`, the same bytes, one per line, in request order, streamed as they are computed; the
Accept negotiation; the OpenAPI document lists both media types."""

import json
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from app.core.service import ExplainerService
from app.routes.batch import NDJSON_LINE_SCHEMA, wants_ndjson
from app.routes.deps import service
from schemas.case import Case
from tests.conftest import BASE_CASE
from tests.test_batch import BATCH, INVALID_CASES, distinct_cases

NDJSON = "application/x-ndjson"
ASK_NDJSON = {"accept": NDJSON}
GATE_TIMEOUT_S = 60.0


def mixed_cases() -> list[Any]:
    """Valid cases that differ, with every kind of invalid item among them."""
    valid = distinct_cases(12)
    return [*valid[:4], *INVALID_CASES, 5, None, "colorectal", *valid[4:]]


def test_the_lines_are_the_json_results_in_order_byte_for_byte(client: TestClient) -> None:
    cases = mixed_cases()
    as_json = client.post(BATCH, json={"cases": cases})
    as_ndjson = client.post(BATCH, json={"cases": cases}, headers=ASK_NDJSON)
    assert as_json.status_code == as_ndjson.status_code == 200
    body = as_json.json()
    assert body["count"] == len(cases) and body["invalid"] == len(INVALID_CASES) + 3

    assert as_ndjson.content.endswith(b"\n")
    lines = as_ndjson.content.split(b"\n")[:-1]
    assert len(lines) == len(cases)
    assert [json.loads(line) for line in lines] == body["results"]
    assert [json.loads(line)["index"] for line in lines] == list(range(len(cases)))
    # Not just equal once parsed: the JSON answer is these very lines inside its envelope.
    head = b'{"count":%d,"explained":%d,"invalid":%d,"results":[' % (len(cases), body["explained"], body["invalid"])
    assert as_json.content == head + b",".join(lines) + b"]}"


def test_the_content_type_is_ndjson_and_both_answers_vary_on_accept(client: TestClient) -> None:
    as_ndjson = client.post(BATCH, json={"cases": [BASE_CASE]}, headers=ASK_NDJSON)
    assert as_ndjson.headers["content-type"] == NDJSON
    assert "content-length" not in as_ndjson.headers
    as_json = client.post(BATCH, json={"cases": [BASE_CASE]})
    assert as_json.headers["content-type"] == "application/json"
    for response in (as_ndjson, as_json):
        assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]  # and Accept-Encoding (gzip)


def test_an_empty_batch_gives_an_empty_body(client: TestClient) -> None:
    response = client.post(BATCH, json={"cases": []}, headers=ASK_NDJSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == NDJSON
    assert response.content == b""


def test_a_malformed_batch_is_still_a_json_422(client: TestClient) -> None:
    response = client.post(BATCH, json={"cases": BASE_CASE}, headers=ASK_NDJSON)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_request"


@pytest.mark.parametrize(
    ("accept", "ndjson"),
    [
        (None, False),
        ("", False),
        ("application/json", False),
        ("*/*", False),
        ("application/*", False),
        ("text/html", False),  # allows neither: JSON, as before (the service answers no 406)
        ("application/json;q=0", False),
        (NDJSON, True),
        ("APPLICATION/X-NDJSON", True),
        (f"{NDJSON}; charset=utf-8", True),
        (f"{NDJSON}, application/json", True),  # equal: NDJSON
        (f"application/json, {NDJSON}", True),
        (f"application/json;q=0.5, {NDJSON}", True),
        (f"{NDJSON};q=0.5, application/json", False),
        (f"{NDJSON};q=0.5, application/*", False),
        (f"{NDJSON};q=0.5, */*", False),
        (f"{NDJSON};q=0.5, */*;q=0.1", True),
        (f"{NDJSON};q=0.5, application/json;q=0.1, */*", True),  # the most specific json range counts
        (f"{NDJSON};q=0", False),
        (f"{NDJSON};q=0, application/json;q=0", False),
        (f"{NDJSON};q=oops", False),
        (f"{NDJSON};q=nan", False),
        (f"{NDJSON};q=2", False),
        (f" text/html , {NDJSON} ; q=0.9 , application/json;q=0.8", True),
    ],
)
def test_accept_negotiation(accept: str | None, ndjson: bool) -> None:
    assert wants_ndjson(accept) is ndjson


@pytest.mark.parametrize(
    ("headers", "media_type"),
    [
        ([], "application/json"),
        ([("accept", "*/*")], "application/json"),
        ([("accept", "text/html")], "application/json"),
        ([("accept", f"{NDJSON};q=0.5, application/json")], "application/json"),
        ([("accept", f"application/json;q=0.5, {NDJSON}")], NDJSON),
        ([("accept", "text/html"), ("accept", NDJSON)], NDJSON),  # repeated headers are one list
    ],
)
def test_the_answer_follows_the_accept_header(
    client: TestClient, headers: list[tuple[str, str]], media_type: str
) -> None:
    request = client.build_request("POST", BATCH, json={"cases": [BASE_CASE]}, headers=headers)
    if not headers:
        del request.headers["accept"]  # httpx sends `*/*` unless told otherwise: send no Accept at all
    response = client.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    if media_type == NDJSON:
        assert json.loads(response.content)["status"] == "ok"
    else:
        assert response.json()["count"] == 1


class Gate:
    """The service with its explain held back from the second case on, until `release` is set:
    a line that arrives while the gate is shut was sent before the batch was done."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.completed = 0

    def bind(self, svc: ExplainerService) -> "Gate":
        self.svc = svc
        return self

    def explain_json(self, case: Case) -> bytes:
        if self.completed >= 1 and not self.release.wait(GATE_TIMEOUT_S):
            raise RuntimeError("the first line did not reach the client while the batch was being computed")
        explanation = self.svc.explain_json(case)
        self.completed += 1
        return explanation


@pytest.fixture
def gate(client: TestClient) -> Iterator[Gate]:
    gate = Gate()

    async def gated(request: Request) -> Gate:
        return gate.bind(await service(request))

    app: Any = client.app
    app.dependency_overrides[service] = gated
    try:
        yield gate
    finally:
        gate.release.set()
        del app.dependency_overrides[service]


def test_the_first_line_arrives_before_the_second_case_is_computed(client: TestClient, gate: Gate) -> None:
    cases = distinct_cases(20)
    with client.stream("POST", BATCH, json={"cases": cases}, headers=ASK_NDJSON) as response:
        lines = response.iter_lines()
        first = json.loads(next(lines))
        # The second case is held at the gate: only the first one has been computed.
        assert (first["index"], first["status"], gate.completed) == (0, "ok", 1)
        gate.release.set()
        rest = [json.loads(line) for line in lines]
    assert [r["index"] for r in rest] == list(range(1, len(cases)))
    assert gate.completed == len(cases)


# The plain stream: the bytes counted here are the entries themselves (gzip: tests/test_compression.py).
PLAIN = {"Accept-Encoding": "identity"}


def test_a_large_batch_streams_from_a_real_server_in_many_chunks(live_server: str) -> None:
    cases = distinct_cases(300)
    chunks = 0
    received = b""
    with (
        httpx.Client(base_url=live_server, timeout=120) as http,
        http.stream("POST", BATCH, json={"cases": cases}, headers={**ASK_NDJSON, **PLAIN}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == NDJSON
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        for chunk in response.iter_raw():
            chunks += 1
            received += chunk
    lines = received.split(b"\n")
    assert lines.pop() == b""
    assert [json.loads(line)["index"] for line in lines] == list(range(300))
    assert chunks > 1


def test_memory_stays_flat_while_streaming(client: TestClient) -> None:
    """tracemalloc's peak while a batch streams stays far below the size of the answer, as NDJSON and
    as one JSON document: the server holds one entry at a time, not the list of them."""
    cases = distinct_cases(60)
    client.post(BATCH, json={"cases": cases}, headers=ASK_NDJSON)  # warm the caches first

    def peak(headers: dict[str, str]) -> tuple[int, int]:
        size = 0
        tracemalloc.start()
        try:
            with client.stream("POST", BATCH, json={"cases": cases}, headers=headers) as response:
                for chunk in response.iter_raw():
                    size += len(chunk)
            return tracemalloc.get_traced_memory()[1], size
        finally:
            tracemalloc.stop()

    ndjson_peak, ndjson_size = peak({**ASK_NDJSON, **PLAIN})
    json_peak, json_size = peak(PLAIN)
    assert ndjson_peak < ndjson_size / 4, (ndjson_peak, ndjson_size)
    assert json_peak < json_size / 4, (json_peak, json_size)


def test_the_openapi_document_lists_both_media_types(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    ok = document["paths"][BATCH]["post"]["responses"]["200"]
    assert list(ok["content"]) == ["application/json", NDJSON]
    assert ok["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/BatchResponse"}
    line = dict(ok["content"][NDJSON]["schema"])
    assert "one json object per line" in line.pop("description").lower()
    # One line is one entry of `results`, and the references resolve in this document.
    assert line == NDJSON_LINE_SCHEMA
    assert line == document["components"]["schemas"]["BatchResponse"]["properties"]["results"]["items"]
    assert {"Explained", "Invalid"} <= set(document["components"]["schemas"])

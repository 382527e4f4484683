"""Readiness before and after the rulebook loads, and slow or abandoned clients that must not
block anyone else (through a real server on loopback)."""

import socket
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import BASE_CASE

NOT_READY = {
    "type": "/problems/not_ready",
    "title": "Not ready",
    "status": 503,
    "detail": "The rulebook is still loading; retry shortly.",
    "code": "not_ready",
    "errors": [{"field": "rulebook", "message": "the rulebook is still loading; retry shortly"}],
}


def test_readiness_is_503_until_the_rulebook_is_loaded_then_200(app_settings: Settings) -> None:
    app = create_app(app_settings)
    # Without a `with` block the lifespan never runs: the state of a server still starting up.
    starting = TestClient(app)
    response = starting.get("/readyz")
    assert response.status_code == 503
    assert response.json() == NOT_READY
    assert response.headers["retry-after"] == "1"
    with TestClient(app) as ready:
        response = ready.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"
        assert response.json()["rulebook"] == ready.get("/healthz").json()["rulebook"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/explain", BASE_CASE),
        ("POST", "/v1/explain/batch", {"cases": [BASE_CASE]}),
        ("GET", "/v1/sources", None),
        ("GET", "/v1/categories", None),
        ("GET", "/v1/rules", None),
        ("GET", "/healthz", None),
    ],
)
def test_routes_that_need_the_rulebook_answer_503_not_500_before_it_loads(
    app_settings: Settings, method: str, path: str, body: Any
) -> None:
    starting = TestClient(create_app(app_settings), raise_server_exceptions=True)
    response = starting.request(method, path, json=body)
    assert response.status_code == 503
    assert response.json() == NOT_READY


# --- slow and abandoned clients -------------------------------------------------------------

HOLD = 5.0  # seconds a stalled socket waits for anything, so the test cannot hang


def _stalled(base_url: str, payload: bytes) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=HOLD)
    if payload:
        sock.sendall(payload)
    return sock


def _stalled_clients(base_url: str) -> list[bytes]:
    body = b'{"primary_site": "colorectal", "lesion_co'
    rules = b"GET /v1/rules HTTP/1.1\r\nHost: t\r\n\r\n"
    return [
        b"",  # connects and says nothing
        b"POST /v1/explain HTTP/1.1\r\nHost: t\r\nContent-Ty",  # headers never finished
        # a body announced and never completed, on both POST endpoints
        b"POST /v1/explain HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n" + body,
        b"POST /v1/explain/batch HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 900000\r\n\r\n{" + b'"cases": [' + body,
        # many large answers requested, none ever read: the server's send buffer fills up
        rules * 200,
    ]


@pytest.fixture
def stalled(live_server: str) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        socks = []
        for _ in range(4):
            for payload in _stalled_clients(live_server):
                sock = _stalled(live_server, payload)
                stack.callback(sock.close)
                socks.append(sock)
        yield socks


def test_slow_and_abandoned_clients_do_not_block_other_clients(live_server: str, stalled: list[socket.socket]) -> None:
    assert len(stalled) == 20
    with httpx.Client(base_url=live_server, timeout=HOLD * 2) as client:
        expected = client.post("/v1/explain", json=BASE_CASE)
        assert expected.status_code == 200
        for _ in range(10):
            assert client.post("/v1/explain", json=BASE_CASE).content == expected.content
            assert client.post("/v1/explain/batch", json={"cases": [BASE_CASE]}).status_code == 200
            assert client.get("/readyz").status_code == 200
    # The stalled clients are still connected: they were waited on, not dropped to make room.
    half_sent = stalled[2]
    half_sent.sendall(b"x" * 400)
    assert half_sent.recv(12).startswith(b"HTTP/1.1 422")


@pytest.mark.parametrize("path", ["/v1/explain", "/v1/explain/batch"])
@pytest.mark.parametrize("body", [b"\x80J\x80", b"\xc3(", b'{"primary_site": "\\udfff"}'])
def test_bodies_that_are_not_utf8_text_get_the_usual_422(client: TestClient, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"

"""HEAD wherever GET is served: the GET's status and headers, no body, on every GET path of the
OpenAPI document and on the page, in process and through a real server on one connection."""

import socket
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient

PAGE_PATHS = ["/", "/static/page.js"]


def _get_paths(client: TestClient) -> list[str]:
    # Operations a bare GET can call: no path parameters and no required query parameters.
    paths = client.get("/openapi.json").json()["paths"]
    return [
        path
        for path, operations in paths.items()
        if "get" in operations
        and "{" not in path
        and not any(p.get("required") for p in operations["get"].get("parameters", []))
    ]


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    paths = _get_paths(client) + PAGE_PATHS
    assert "/healthz" in paths and "/v1/rules" in paths
    for path in paths:
        for encoding in ("identity", "gzip"):  # gzip: app/compression.py sits inside HeadAsGet
            accept = {"Accept-Encoding": encoding}
            got = client.get(path, headers=accept)
            head = client.head(path, headers=accept)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b"", path
            assert head.headers["content-type"] == got.headers["content-type"], path
            assert head.headers["content-length"] == got.headers["content-length"], path
            assert head.headers.get("content-encoding") == got.headers.get("content-encoding"), path
            if encoding == "identity":
                assert head.headers["content-length"] == str(len(got.content)), path
            assert head.headers["x-content-type-options"] == got.headers["x-content-type-options"], path
            assert "x-request-id" in head.headers, path


def test_head_where_get_is_not_served_is_still_refused(client: TestClient) -> None:
    assert client.head("/v1/explain").status_code == 405
    assert client.head("/no/such/path").status_code == 404


@pytest.mark.server
def test_a_head_answer_leaves_the_connection_usable(live_server: str) -> None:
    # No body bytes may follow a HEAD answer: the next answer on the same connection must parse.
    url = urlparse(live_server)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        request = b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(request)
        received = b""
        while received.count(b"HTTP/1.1 200") < 2 or not received.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert rest.startswith(b"HTTP/1.1 200"), "a body followed the HEAD answer"
    assert rest.rstrip().endswith(b"}")

"""gzip: large answers are compressed when the client accepts gzip, streamed answers stay streamed
(each chunk decodable as it arrives), small answers stay plain, HEAD says what GET sends, and the
catalogue's strong ETags name the gzip coding."""

import asyncio
import gzip
import json
import zlib
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.compression import MIN_BYTES, GzipAnswers, accepts_gzip
from app.main import create_app
from app.settings import Settings
from bench.cases import generate
from tests.conftest import BASE_CASE

GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}
NDJSON = {"Accept": "application/x-ndjson"}


@pytest.fixture(scope="module")
def cases() -> list[dict[str, Any]]:
    return generate(200)


def _raw(
    client: TestClient | httpx.Client, path: str, headers: dict[str, str], **kwargs: Any
) -> tuple[httpx.Response, bytes]:
    """The answer and its body as sent (content-encoding not undone)."""
    with client.stream(kwargs.pop("method", "POST"), path, headers=headers, **kwargs) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("accept", [{}, NDJSON], ids=["json", "ndjson"])
def test_a_200_case_batch_is_gzip_coded_and_decodes_to_the_plain_answer(
    client: TestClient, cases: list[dict[str, Any]], accept: dict[str, str]
) -> None:
    plain, plain_body = _raw(client, "/v1/explain/batch", {**PLAIN, **accept}, json={"cases": cases})
    coded, coded_body = _raw(client, "/v1/explain/batch", {**GZIP, **accept}, json={"cases": cases})
    assert plain.status_code == coded.status_code == 200
    assert "content-encoding" not in plain.headers
    assert coded.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in coded.headers["vary"].lower() and "accept" in coded.headers["vary"].lower()
    decoded = gzip.decompress(coded_body)
    assert decoded == plain_body
    assert len(coded_body) < len(plain_body) / 3
    if not accept:
        assert json.loads(decoded)["explained"] == len(cases)


def test_without_accept_encoding_gzip_answers_stay_plain_and_say_they_vary(client: TestClient) -> None:
    for refused in ("identity", "gzip;q=0", "br", "*;q=0", "gzip;q=0, *"):
        response, body = _raw(client, "/v1/explain", {"Accept-Encoding": refused}, json=BASE_CASE)
        assert "content-encoding" not in response.headers, refused
        assert json.loads(body)["rulebook"]
        assert "accept-encoding" in response.headers["vary"].lower()


def test_small_answers_stay_plain(client: TestClient) -> None:
    response, body = _raw(client, "/healthz", GZIP, method="GET")
    assert len(body) < MIN_BYTES
    assert "content-encoding" not in response.headers
    assert json.loads(body)["status"] == "ok"


def test_errors_and_answers_refused_before_the_app_are_still_readable(client: TestClient) -> None:
    response, body = _raw(client, "/v1/explain", GZIP, json={"primary_site": "nowhere"})
    assert response.status_code == 422
    text = gzip.decompress(body) if response.headers.get("content-encoding") == "gzip" else body
    assert json.loads(text)["detail"]


def test_head_says_what_get_sends(client: TestClient) -> None:
    get, body = _raw(client, "/v1/rules", GZIP, method="GET")
    head = client.head("/v1/rules", headers=GZIP)
    assert get.headers["content-encoding"] == head.headers["content-encoding"] == "gzip"
    assert get.headers["content-length"] == head.headers["content-length"]
    assert int(head.headers["content-length"]) == len(body)
    assert get.headers["etag"] == head.headers["etag"]
    assert head.content == b""


def test_the_gzip_coding_has_its_own_strong_tag_and_revalidates(client: TestClient) -> None:
    plain_tag = client.get("/v1/rules", headers=PLAIN).headers["etag"]
    coded_tag = client.get("/v1/rules", headers=GZIP).headers["etag"]
    assert coded_tag == plain_tag[:-1] + '-gzip"'
    again = client.get("/v1/rules", headers={**GZIP, "If-None-Match": coded_tag})
    assert again.status_code == 304
    assert again.headers["etag"] == coded_tag
    assert "accept-encoding" in again.headers["vary"].lower()
    assert client.get("/v1/rules", headers={**PLAIN, "If-None-Match": plain_tag}).status_code == 304
    # A client that no longer accepts gzip does not hold the representation it would get.
    assert client.get("/v1/rules", headers={**PLAIN, "If-None-Match": coded_tag}).status_code == 200


def test_the_docs_assets_are_compressed(client: TestClient) -> None:
    from app.routes.docs import ASSETS, SWAGGER_UI

    assert f"{SWAGGER_UI}.js" in ASSETS
    response, body = _raw(client, f"/docs/assets/{SWAGGER_UI}.js", GZIP, method="GET")
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == ASSETS[f"{SWAGGER_UI}.js"][0].read_bytes()


def test_each_streamed_chunk_is_decodable_as_soon_as_it_is_sent() -> None:
    """A streamed answer stays streamed: what has been sent so far decodes to every chunk the app
    has sent so far (so NDJSON lines reach the client as they are computed)."""
    lines = [json.dumps({"index": i, "text": "x" * (i * 300)}).encode() + b"\n" for i in range(5)]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/x-ndjson")]}
        )
        for i, line in enumerate(lines):
            await send({"type": "http.response.body", "body": line, "more_body": i < len(lines) - 1})

    sent: list[Message] = []

    async def capture(message: Message) -> None:
        sent.append(message)

    async def no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-encoding", b"gzip")]}
    asyncio.run(GzipAnswers(app)(scope, no_body, capture))
    start, *bodies = sent
    assert (b"content-encoding", b"gzip") in start["headers"]
    assert all(name != b"content-length" for name, _ in start["headers"])
    decoder = zlib.decompressobj(31)
    for i, message in enumerate(bodies):
        assert decoder.decompress(message["body"]) == lines[i]
    assert decoder.eof, "the last chunk ends the gzip stream"


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("GZIP;q=0.5", True),
        ("x-gzip", True),
        ("*", True),
        ("deflate, *;q=0.1", True),
        ("", False),
        ("identity", False),
        ("gzip;q=0", False),
        ("gzip;q=0, *;q=1", False),
        ("gzip;q=nonsense", False),
    ],
)
def test_accept_encoding_is_read_as_rfc_9110_says(header: str, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted


@pytest.mark.server
def test_gzip_ndjson_through_a_real_server(live_server: str, cases: list[dict[str, Any]]) -> None:
    with httpx.Client(base_url=live_server, timeout=120) as http:
        coded, body = _raw(http, "/v1/explain/batch", {**GZIP, **NDJSON}, json={"cases": cases[:50]})
    assert coded.headers["content-encoding"] == "gzip"
    assert coded.headers.get("transfer-encoding") == "chunked"
    lines = gzip.decompress(body).splitlines()
    assert [json.loads(line)["index"] for line in lines] == list(range(50))


def test_gzip_can_be_switched_off(app_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVERMETS_GZIP", "false")
    assert Settings.from_env().gzip is False
    with TestClient(create_app(app_settings.model_copy(update={"gzip": False}))) as plain_only:
        response, body = _raw(plain_only, "/v1/rules", GZIP, method="GET")
    assert "content-encoding" not in response.headers
    assert json.loads(body)["rules"]

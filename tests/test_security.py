"""Security and privacy: headers on every response, request ids, structured logs without case
data, nothing written to disk, unknown fields rejected, CORS by allow-list, optional API key."""

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from app.main import create_app
from app.observability import ACCESS_LOGGER, JsonFormatter
from app.settings import Settings
from tests.conftest import BASE_CASE

KEY = "k3y-for-tests-0123456789"
ORIGIN = "https://teaching.example"


@pytest.fixture(scope="module")
def keyed(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings.model_copy(update={"api_key": KEY}))) as client:
        yield client


@pytest.fixture(scope="module")
def cors(app_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings.model_copy(update={"cors_allow_origins": (ORIGIN,)}))) as client:
        yield client


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def access_lines(self) -> list[dict[str, Any]]:
        formatter = JsonFormatter()
        return [json.loads(formatter.format(r)) for r in self.records if r.name == ACCESS_LOGGER]


@pytest.fixture
def logs() -> Iterator[Collect]:
    """Every record of every logger, at every level, while the test runs."""
    handler = Collect()
    loggers = [logging.getLogger(), logging.getLogger("livermets")]  # `livermets` does not propagate
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


# --- headers ---------------------------------------------------------------------------------

REQUESTS = [
    ("GET", "/healthz", None, 200),
    ("GET", "/readyz", None, 200),
    ("POST", "/v1/explain", BASE_CASE, 200),
    ("POST", "/v1/explain", {**BASE_CASE, "x": 1}, 422),
    ("POST", "/v1/explain/batch", {"cases": [BASE_CASE]}, 200),
    ("GET", "/v1/rules", None, 200),
    ("GET", "/openapi.json", None, 200),
    ("GET", "/nowhere", None, 404),
    ("DELETE", "/v1/explain", None, 405),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), REQUESTS)
def test_every_response_carries_the_security_headers(
    client: TestClient, method: str, path: str, body: Any, status: int
) -> None:
    response = client.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    if path == "/v1/rules":  # the catalogue: kept and revalidated by its ETag (app/caching.py)
        assert response.headers["cache-control"] == "no-cache"
    elif path.startswith("/v1/"):
        assert response.headers["cache-control"] == "no-store"


def test_refusals_made_before_routing_carry_the_headers_too(client: TestClient, keyed: TestClient) -> None:
    too_large = client.post("/v1/explain", content=b" " * 70_000, headers={"content-type": "application/json"})
    unauthorised = keyed.post("/v1/explain", json=BASE_CASE)
    for response, status in ((too_large, 413), (unauthorised, 401)):
        assert response.status_code == status
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
        assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_pages_may_load_scripts_from_the_app_alone(client: TestClient, path: str) -> None:
    csp = client.get(path).headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "http" not in csp  # no CDN, no other host for anything
    assert "frame-ancestors 'none'" in csp


def test_a_policy_a_route_sets_itself_is_kept(app_settings: Settings) -> None:
    app: FastAPI = create_app(app_settings)

    @app.get("/own-policy")
    def own_policy() -> Response:
        return Response("page", headers={"Content-Security-Policy": "default-src 'self'"})

    response = TestClient(app).get("/own-policy")
    assert response.headers.get_list("content-security-policy") == ["default-src 'self'"]
    assert response.headers["x-frame-options"] == "DENY"


# --- request ids and logs ---------------------------------------------------------------------


def test_a_request_id_is_generated_returned_and_logged(client: TestClient, logs: Collect) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    assert [line["request_id"] for line in logs.access_lines()] == [first, second]


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("trace-42.a:b_c", True), ("x" * 65, False), ("has space", False), ("semi;colon", False), ("", False)],
)
def test_a_sane_incoming_request_id_is_kept_others_are_replaced(client: TestClient, sent: str, kept: bool) -> None:
    returned = client.get("/healthz", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert (returned == sent) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)


def test_one_json_line_per_request_with_method_path_status_duration_and_id(client: TestClient, logs: Collect) -> None:
    explained = client.post("/v1/explain?what_if=false", json=BASE_CASE, headers={"X-Request-ID": "abc-1"})
    refused = client.post("/v1/explain", json={"primary_site": "liver"})
    lines = logs.access_lines()
    assert len(lines) == 2
    first, second = lines
    assert {k: first[k] for k in ("request_id", "method", "path", "status", "level")} == {
        "request_id": "abc-1",
        "method": "POST",
        "path": "/v1/explain",  # never the query string
        "status": 200,
        "level": "info",
    }
    assert second["status"] == 422
    assert second["request_id"] == refused.headers["x-request-id"]
    assert explained.headers["x-request-id"] == "abc-1"
    assert all(isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0 for line in lines)


SENTINEL_SIZE = 7.654321
SENTINEL_TEXT = "SENTINEL-CASE-DATA"


def test_case_data_never_reaches_any_log(client: TestClient, logs: Collect) -> None:
    case = {**BASE_CASE, "largest_lesion_cm": SENTINEL_SIZE, "lesion_count": 87}
    client.post("/v1/explain", json=case)
    client.post(f"/v1/explain?primary_site={SENTINEL_TEXT}", json={**case, "primary_site": SENTINEL_TEXT})
    client.post("/v1/explain/batch", json={"cases": [case, {**case, "kras_status": SENTINEL_TEXT}]})
    client.post(
        "/v1/explain", content=json.dumps({"note": SENTINEL_TEXT * 5000}), headers={"content-type": "application/json"}
    )
    client.get("/healthz", headers={"X-Request-ID": f"{SENTINEL_TEXT} {SENTINEL_SIZE}"})
    assert len(logs.access_lines()) == 5
    formatter = JsonFormatter()
    server_side = [r for r in logs.records if not r.name.startswith(("httpx", "httpcore"))]  # not the test client
    for record in server_side:
        text = formatter.format(record) + json.dumps(vars(record), default=str)
        assert SENTINEL_TEXT not in text
        assert str(SENTINEL_SIZE) not in text
        assert '"lesion_count"' not in text


def test_case_data_is_never_written_to_disk(client: TestClient) -> None:
    writes: list[str] = []
    watching = [False]
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

    def audit(event: str, args: tuple[Any, ...]) -> None:
        if watching[0] and event == "open":
            path, mode, flags = args
            if (isinstance(mode, str) and set(mode) & set("wax+")) or (isinstance(flags, int) and flags & write_flags):
                writes.append(str(path))

    sys.addaudithook(audit)  # hooks cannot be removed; this one only records while `watching`
    watching[0] = True
    try:
        assert client.post("/v1/explain", json=BASE_CASE).status_code == 200
        assert client.post("/v1/explain/batch", json={"cases": [BASE_CASE, {"x": 1}]}).status_code == 200
        assert client.post("/v1/explain", json={"primary_site": "liver"}).status_code == 422
    finally:
        watching[0] = False
    assert writes == []


# --- unknown fields ---------------------------------------------------------------------------


def _object_schemas(schema: Any, components: dict[str, Any], seen: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                yield from _object_schemas(components[name], components, seen)
                if "properties" in components[name]:
                    yield name, components[name]
        for value in schema.values():
            yield from _object_schemas(value, components, seen)
    elif isinstance(schema, list):
        for item in schema:
            yield from _object_schemas(item, components, seen)


def test_every_request_body_schema_rejects_unknown_fields(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    components = document["components"]["schemas"]
    checked = {}
    for operations in document["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            for name, schema in _object_schemas(body.get("schema"), components, set()):
                checked[name] = schema.get("additionalProperties")
    assert {"Case", "BatchRequest"} <= set(checked)
    assert {name: rule for name, rule in checked.items() if rule is not False} == {}


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/v1/explain?whatif=true", BASE_CASE),
        ("POST", "/v1/explain/batch?mode=fast", {"cases": [BASE_CASE]}),
        ("GET", "/v1/rules?category=ablation", None),
    ],
)
def test_unknown_query_parameters_are_rejected_naming_them(
    client: TestClient, method: str, url: str, body: Any
) -> None:
    response = client.request(method, url, json=body)
    assert response.status_code == 422
    name = url.split("?")[1].split("=")[0]
    assert response.json()["errors"][0]["field"] == f"query.{name}"
    assert f"unknown query parameter {name!r}" in response.json()["errors"][0]["message"]


def test_declared_query_parameters_and_pages_outside_the_api_are_not_affected(client: TestClient) -> None:
    assert client.post("/v1/explain?what_if=false", json=BASE_CASE).status_code == 200
    assert client.get("/healthz?probe=k8s").status_code == 200


def test_unknown_fields_are_rejected_in_batch_envelope_and_items(client: TestClient) -> None:
    assert client.post("/v1/explain/batch", json={"cases": [], "extra": 1}).status_code == 422
    item = client.post("/v1/explain/batch", json={"cases": [{**BASE_CASE, "extra": 1}]}).json()["results"][0]
    assert item["problem"]["errors"][0]["kind"] == "extra_forbidden"


# --- CORS ---------------------------------------------------------------------------------------


def _preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/v1/explain",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_cors_is_off_by_default(client: TestClient) -> None:
    response = client.post("/v1/explain", json=BASE_CASE, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in _preflight(client, ORIGIN).headers


def test_cors_allows_exactly_the_configured_origins(cors: TestClient) -> None:
    allowed = cors.post("/v1/explain", json=BASE_CASE, headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    other = cors.post("/v1/explain", json=BASE_CASE, headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = _preflight(cors, ORIGIN)
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "x-api-key" in preflight.headers["access-control-allow-headers"].lower()
    refused = _preflight(cors, "https://elsewhere.example")
    assert refused.status_code == 400
    # The one error shape here too, not Starlette's text/plain "Disallowed CORS origin".
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "cors_refused"
    assert "origin" in refused.json()["detail"]


# --- API key ------------------------------------------------------------------------------------


def test_without_a_configured_key_the_api_is_open(client: TestClient) -> None:
    assert client.post("/v1/explain", json=BASE_CASE).status_code == 200


def test_the_contract_is_the_same_with_and_without_a_key(client: TestClient, keyed: TestClient) -> None:
    # A client generated against a development server (no key) must work against one with a key: the
    # scheme and the 401 are always published, the key marked optional (`{}`: no requirement).
    document = client.get("/openapi.json").json()
    assert document == keyed.get("/openapi.json").json()
    assert document["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path.startswith("/v1/"):
                assert operation["security"] == [{}, {"ApiKey": []}]
                assert "401" in operation["responses"]
            elif path.startswith("/cds-services"):  # the key, or a CDS client's JWT when issuers are configured
                assert operation["security"] == [{}, {"ApiKey": []}, {"CdsClientJwt": []}]
                assert "401" in operation["responses"]
            else:
                assert "security" not in operation and "401" not in operation["responses"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/explain", BASE_CASE),
        ("POST", "/v1/explain/batch", {"cases": [BASE_CASE]}),
        ("GET", "/v1/rules", None),
    ],
)
def test_with_a_configured_key_the_api_needs_it(keyed: TestClient, method: str, path: str, body: Any) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY[:-1]}, {"Authorization": f"Bearer {KEY}"}):
        response = keyed.request(method, path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response.json()["errors"][0]["field"] == "X-API-Key"
    assert keyed.request(method, path, json=body, headers={"X-API-Key": KEY}).status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
def test_with_a_configured_key_health_and_docs_stay_open(keyed: TestClient, path: str) -> None:
    assert keyed.get(path).status_code == 200


def test_with_a_configured_key_the_page_is_not_locked(keyed: TestClient) -> None:
    assert keyed.get("/").status_code != 401


def test_with_a_configured_key_the_openapi_document_declares_it(keyed: TestClient) -> None:
    document = keyed.get("/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["ApiKey"]
    assert {k: scheme[k] for k in ("type", "in", "name")} == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert document["paths"]["/v1/explain"]["post"]["security"] == [{}, {"ApiKey": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]


def test_the_key_is_never_shown_in_the_settings_repr() -> None:
    assert KEY not in repr(Settings(api_key=KEY))


def test_the_access_log_can_be_switched_off(app_settings: Settings, logs: Collect) -> None:
    try:
        with TestClient(create_app(app_settings.model_copy(update={"access_log": False}))) as quiet:
            assert quiet.get("/healthz").headers["x-request-id"]
        assert logs.access_lines() == []
    finally:  # logging is per process: leave it as the other tests' apps configured it
        logging.getLogger(ACCESS_LOGGER).disabled = False


def test_an_unhandled_exception_is_logged_by_type_without_its_message(app_settings: Settings) -> None:
    from tests.live_server import serve

    app = create_app(app_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"failed on case {SENTINEL_TEXT}")

    collect = Collect()
    uvicorn_logger = logging.getLogger("uvicorn")
    try:
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            # An answer means the lifespan (which sets the formatters) has run.
            assert http.get("/readyz").status_code == 200
            formatters = [h.formatter for h in uvicorn_logger.handlers]
            uvicorn_logger.addHandler(collect)
            assert http.get("/boom").status_code == 500
        # uvicorn logs the exception after the 500 is sent; leaving `serve` waits for that task.
    finally:
        uvicorn_logger.removeHandler(collect)
    crashes = [r for r in collect.records if r.exc_info]
    assert len(crashes) == 1
    assert formatters and all(isinstance(f, JsonFormatter) for f in formatters)
    line = json.loads(JsonFormatter().format(crashes[0]))
    assert line["exception"] == "RuntimeError"
    for formatter in formatters:
        assert formatter is not None
        assert SENTINEL_TEXT not in formatter.format(crashes[0])

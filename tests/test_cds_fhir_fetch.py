"""The FHIR fetch path: prefetch keys the EHR left out are read from its FHIR server with the token it gave. The
server is a stub on 127.0.0.1 holding a golden Bundle's resources; nothing reaches the network."""

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.testclient import TestClient

from app.cds.discovery import TEMPLATES
from app.main import create_app
from app.settings import Settings
from tests.cds_support import (
    RESPONSE_SCHEMA,
    SERVICE_URL,
    Handler,
    Stub,
    answer,
    case_in_link,
    chart,
    hook_call,
    stub_server,
)

TOKEN = "opaque-ehr-token"


def fhir_server(resources: list[dict[str, Any]], fail: str | None = None) -> Handler:
    """A handler answering /fhir/<query> like a FHIR server holding `resources`; 500 for queries on the
    resource type `fail`."""

    def handle(path: str, query: str) -> tuple[int, Any]:
        relative = path.removeprefix("/fhir/") + (f"?{query}" if query else "")
        if fail and relative.startswith(fail):
            return 500, {"resourceType": "OperationOutcome"}
        found = answer(resources, relative)
        return (404, {"resourceType": "OperationOutcome"}) if found is None else (200, found)

    return handle


@pytest.fixture(scope="module")
def ehr() -> Iterator[Stub]:
    with stub_server(fhir_server(chart("colorectal"))) as stub:
        yield stub


def fetch_call(server: str, token: str = TOKEN, **prefetch: Any) -> dict[str, Any]:
    body = hook_call(
        None,
        fhirServer=server,
        fhirAuthorization={
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "livermets",
        },
    )
    if prefetch:
        body["prefetch"] = prefetch
    return body


def without_uuid(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "uuid"} for c in cards]


def test_without_prefetch_every_template_is_fetched_with_the_token(client: TestClient, ehr: Stub) -> None:
    ehr.requests.clear()
    response = client.post(SERVICE_URL, json=fetch_call(f"{ehr.base}/fhir"))
    assert response.status_code == 200, response.text
    RESPONSE_SCHEMA.validate(response.json())
    # The same cards as with the same chart prefetched by the EHR.
    prefetched = client.post(SERVICE_URL, json=hook_call(chart("colorectal"))).json()
    assert without_uuid(response.json()["cards"]) == without_uuid(prefetched["cards"])
    assert {r.authorization for r in ehr.requests} == {f"Bearer {TOKEN}"}
    asked = sorted(r.path.removeprefix("/fhir/") + ("?" + r.query if r.query else "") for r in ehr.requests)
    expected = sorted(t.for_patient("p1") for t in TEMPLATES)
    assert [_decoded(q) for q in asked] == [_decoded(q) for q in expected]


def _decoded(query: str) -> tuple[str, list[tuple[str, str]]]:
    path, _, params = query.partition("?")
    return path, parse_qsl(params)


def test_only_the_keys_left_out_are_fetched(client: TestClient, ehr: Stub) -> None:
    full = hook_call(chart("colorectal"))["prefetch"]
    ehr.requests.clear()
    body = fetch_call(f"{ehr.base}/fhir", conditions=full["conditions"], ecog=full["ecog"])
    response = client.post(SERVICE_URL, json=body)
    assert response.status_code == 200 and len(response.json()["cards"]) == 1
    fetched = {r.path.removeprefix("/fhir/") for r in ehr.requests}
    assert "Condition" not in fetched and len(ehr.requests) == len(TEMPLATES) - 2


@pytest.mark.parametrize("fail", ["Condition", "Observation"])
def test_a_failing_fetch_of_needed_data_is_412(client: TestClient, fail: str) -> None:
    with stub_server(fhir_server(chart("colorectal"), fail=fail)) as broken:
        response = client.post(SERVICE_URL, json=fetch_call(f"{broken.base}/fhir"))
    assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
    assert all("HTTP 500" in p["message"] for p in response.json()["errors"])


def test_an_unreachable_fhir_server_is_412(client: TestClient) -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    response = client.post(SERVICE_URL, json=fetch_call(f"http://127.0.0.1:{port}/fhir"))
    assert response.status_code == 412
    assert {p["field"] for p in response.json()["errors"]} == {f"prefetch.{t.key}" for t in TEMPLATES if t.needed}


def test_search_pages_are_followed_on_the_same_server_only(client: TestClient) -> None:
    resources = chart("colorectal")
    sizes = [r for r in resources if r.get("id", "").startswith("size-")]
    assert len(sizes) == 2

    def paged(elsewhere: str) -> Handler:
        plain = fhir_server(resources)

        def handle(path: str, query: str) -> tuple[int, Any]:
            if "21889-1" not in query:
                return plain(path, query)
            if "page=2" in query:
                return 200, {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": sizes[1]}]}
            link = [{"relation": "next", "url": f"{elsewhere}/fhir/Observation?page=2&code=21889-1"}]
            return 200, {"resourceType": "Bundle", "type": "searchset", "link": link, "entry": [{"resource": sizes[0]}]}

        return handle

    with stub_server(lambda p, q: (200, {})) as other, stub_server(paged(other.base)) as leading_away:
        away = client.post(SERVICE_URL, json=fetch_call(f"{leading_away.base}/fhir"))
        assert away.status_code == 412 and "leads away" in away.text
        assert other.requests == []  # the token never left the EHR's server
    holder: dict[str, str] = {}
    with stub_server(lambda p, q: paged(holder["base"])(p, q)) as same:
        holder["base"] = same.base
        response = client.post(SERVICE_URL, json=fetch_call(f"{same.base}/fhir"))
    assert response.status_code == 200
    assert case_in_link(response.json()["cards"][0])["lesion_count"] == 2


def test_fhir_servers_outside_the_allow_list_are_not_called(app_settings: Settings, ehr: Stub) -> None:
    settings = app_settings.model_copy(update={"cds_fhir_servers": ("https://ehr.example.org/fhir",)})
    ehr.requests.clear()
    with TestClient(create_app(settings)) as client:
        response = client.post(SERVICE_URL, json=fetch_call(f"{ehr.base}/fhir"))
    assert response.status_code == 412 and "LIVERMETS_CDS_FHIR_SERVERS" in response.text
    assert ehr.requests == []


def test_a_token_the_fhir_server_refuses_is_412(client: TestClient) -> None:
    def guarded(path: str, query: str) -> tuple[int, Any]:
        return 401, {"resourceType": "OperationOutcome"}

    with stub_server(guarded) as server:
        response = client.post(SERVICE_URL, json=fetch_call(f"{server.base}/fhir", token="expired"))
    assert response.status_code == 412 and "HTTP 401" in response.text

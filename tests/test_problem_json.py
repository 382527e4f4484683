"""One error shape everywhere: every error the service sends is an RFC 9457 problem document
(`application/problem+json`) whose `type` names its code, and every operation declares each error
it can send, with that body, in the OpenAPI document."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.errors import PROBLEM_TYPES, ErrorResponse, ProblemError, problem
from app.main import create_app
from app.settings import Settings
from tests.conftest import BASE_CASE

PROBLEM_JSON = "application/problem+json"
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is the problem document of `code`: media type, members and their agreement."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    document: dict[str, Any] = response.json()
    assert document["type"] == f"/problems/{code}"
    assert document["code"] == code
    assert document["status"] == status == PROBLEM_TYPES[code].status
    assert document["title"] == PROBLEM_TYPES[code].title
    assert document["detail"] and document["errors"]
    assert all(p["field"] and p["message"] for p in document["errors"])
    return document


def test_an_unknown_path_is_a_problem_document_not_the_framework_detail(client: TestClient) -> None:
    document = assert_problem(client.get("/v1/nothing-here"), 404, "not_found")
    assert "/v1/nothing-here" in document["detail"]
    assert_problem(client.get("/static/not-an-asset.js"), 404, "not_found")


def test_a_method_a_path_does_not_serve_is_a_problem_document_with_allow(client: TestClient) -> None:
    response = client.get("/v1/explain")
    document = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "POST"
    assert "POST" in document["detail"]


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    [
        (
            {"method": "POST", "url": "/v1/explain", "json": {**BASE_CASE, "primary_site": "liver"}},
            422,
            "invalid_request",
        ),
        ({"method": "GET", "url": "/v1/rules?category=x"}, 422, "invalid_request"),
        (
            {
                "method": "POST",
                "url": "/v1/explain",
                "content": b"{}",
                "headers": {"content-type": "application/json; charset=latin-1"},
            },
            415,
            "unsupported_media_type",
        ),
        ({"method": "POST", "url": "/v1/explain", "content": b"{" + b" " * 70_000 + b"}"}, 413, "payload_too_large"),
    ],
)
def test_every_refusal_of_the_app_has_the_one_shape(
    client: TestClient, request_args: dict[str, Any], status: int, code: str
) -> None:
    assert_problem(client.request(**request_args), status, code)


def test_a_problem_type_uri_describes_the_type(client: TestClient) -> None:
    document = assert_problem(client.get("/v1/explain"), 405, "method_not_allowed")
    described = client.get(document["type"])
    assert described.status_code == 200
    assert described.json()["title"] == document["title"]
    assert described.json()["status"] == 405


@pytest.fixture
def failing(app_settings: Settings) -> Iterator[TestClient]:
    app = create_app(app_settings)

    @app.get("/v1/boom")
    async def boom() -> None:
        raise RuntimeError("an unexpected failure")

    # A route written later (by another part of the project) raising its own refusal, declared the
    # usual way: it gets the one shape, on the wire and in the document.
    @app.get("/v1/taken", responses={409: {"model": ErrorResponse, "description": "Already taken"}})
    async def taken() -> None:
        raise ProblemError("already_taken", [problem("name", "this name is already taken")], status=409)

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_problem_document_that_says_nothing_of_the_cause(failing: TestClient) -> None:
    response = failing.get("/v1/boom")
    document = assert_problem(response, 500, "internal_error")
    assert "unexpected failure" not in response.text and "RuntimeError" not in response.text
    assert document["errors"][0]["field"] == "request"


def test_a_route_of_its_own_inherits_the_shape_by_raising(failing: TestClient) -> None:
    response = failing.get("/v1/taken")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json() == {
        "type": "/problems/already_taken",
        "title": "Conflict",
        "status": 409,
        "detail": "This name is already taken.",
        "code": "already_taken",
        "errors": [{"field": "name", "message": "this name is already taken"}],
    }
    declared = failing.get("/openapi.json").json()["paths"]["/v1/taken"]["get"]["responses"]
    assert declared["409"]["content"][PROBLEM_JSON]["schema"] == ERROR_REF
    assert [e["value"]["status"] for e in declared["409"]["content"][PROBLEM_JSON]["examples"].values()] == [409]
    assert {"401", "422", "500", "503"} <= set(declared)


def test_batch_invalid_entries_carry_the_document_explain_sends(client: TestClient) -> None:
    bad = {**BASE_CASE, "lesion_count": 0}
    single = client.post("/v1/explain", json=bad)
    assert_problem(single, 422, "invalid_request")
    entry = client.post("/v1/explain/batch", json={"cases": [bad]}).json()["results"][0]
    assert entry == {"index": 0, "status": "invalid", "problem": single.json()}
    line = client.post(
        "/v1/explain/batch", json={"cases": [bad]}, headers={"accept": "application/x-ndjson"}
    ).content.splitlines()[0]
    assert json.loads(line) == entry


# The contract: every error declared where it can happen -------------------------------------------------


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in document["paths"].items():
        for operation in operations.values():
            yield path, operation


def test_every_error_response_is_declared_as_a_problem_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)
    for path, operation in _operations(document):
        responses = operation["responses"]
        errors = {status: r for status, r in responses.items() if int(status) >= 400}
        assert {"500", "503"} <= set(errors), path
        if path.startswith("/v1/"):
            assert {"401", "422"} <= set(errors), path
        if "requestBody" in operation:  # a CDS Hooks call answers malformed input with the spec's 400
            assert ({"413", "415", "422"} if path.startswith("/v1/") else {"400", "413", "415"}) <= set(errors), path
        for status, response in errors.items():
            assert set(response["content"]) == {PROBLEM_JSON}, (path, status)
            assert response["content"][PROBLEM_JSON]["schema"] == ERROR_REF
            for example in response["content"][PROBLEM_JSON]["examples"].values():
                assert example["value"]["status"] == int(status), (path, status)
    generic = document["components"]["responses"]
    assert {"NotFound", "MethodNotAllowed", "MalformedRequest", "RequestTimeout"} <= set(generic)


def test_the_503_of_each_operation_names_its_reasons(client: TestClient) -> None:
    document = client.get("/openapi.json").json()

    def codes(path: str, method: str) -> set[str]:
        examples = document["paths"][path][method]["responses"]["503"]["content"][PROBLEM_JSON]["examples"]
        return set(examples)

    # A heavy-work slot (what-if, batch) can be busy; the rulebook can be loading for every route using it.
    assert codes("/v1/explain", "post") == {"busy", "not_ready", "too_many_connections"}
    assert codes("/v1/explain/batch", "post") == {"busy", "not_ready", "too_many_connections"}
    assert codes("/v1/compare", "post") == {"not_ready", "too_many_connections"}
    assert codes("/v1/sources", "get") == {"not_ready", "too_many_connections"}


def test_a_generated_client_gets_short_ids_and_named_enums(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    ids = {operation["operationId"] for _, operation in _operations(document)}
    assert {"explain", "compare", "batch", "listSources", "listCategories"} <= ids
    assert all(len(i) <= 16 and "_" not in i for i in ids)
    text = json.dumps(document)
    # Each enum once, as a component: the discussed/not_discussed one was inline six times.
    assert text.count('"enum": ["discussed", "not_discussed"]') == 1
    schemas = document["components"]["schemas"]
    assert schemas["Case"]["properties"]["primary_site"]["$ref"] == "#/components/schemas/PrimarySite"
    kras = schemas["Case"]["properties"]["kras_status"]["anyOf"]
    assert {"$ref": "#/components/schemas/KrasStatus"} in kras
    assert schemas["BatchRequest"]["properties"]["cases"]["items"] == {"$ref": "#/components/schemas/Case"}


def test_category_and_source_ids_are_enums_of_the_loaded_rulebook(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    categories = [c["id"] for c in client.get("/v1/categories").json()]
    sources = [s["id"] for s in client.get("/v1/sources").json()]
    assert schemas["CategoryId"]["enum"] == categories
    assert schemas["SourceId"]["enum"] == sources
    category_ref = {"$ref": "#/components/schemas/CategoryId"}
    assert schemas["DiscussedCategory"]["properties"]["category"] == category_ref
    assert schemas["Comparison"]["properties"]["unchanged"]["items"] == category_ref
    assert schemas["Citation"]["properties"]["source"]["$ref"] == "#/components/schemas/SourceId"


def test_the_response_examples_are_what_the_service_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/v1/explain", "/v1/compare", "/v1/explain/batch"):
        operation = document["paths"][path]["post"]
        [request] = list(operation["requestBody"]["content"]["application/json"]["examples"].values())[:1]
        [answer] = operation["responses"]["200"]["content"]["application/json"]["examples"].values()
        assert client.post(path, json=request["value"]).json() == answer["value"], path
    batch = document["paths"]["/v1/explain/batch"]["post"]["responses"]["200"]["content"]["application/json"]
    [example] = batch["examples"].values()
    assert [r["status"] for r in example["value"]["results"]] == ["ok", "invalid"]

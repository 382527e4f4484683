"""POST /v1/explain/batch: one result per case, in order, equal to what /v1/explain answers for
that case; invalid cases get their own errors; limits on case count and body size."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import BASE_CASE

BATCH = "/v1/explain/batch"

INVALID_CASES: list[Any] = [
    {**BASE_CASE, "primary_site": "liver"},
    {**BASE_CASE, "lesion_count": "2"},
    {**BASE_CASE, "largest_lesion_cm": 31},
    {**BASE_CASE, "prior_treatments": ["ablation", "ablation"]},
    {**BASE_CASE, "tumour_grade": 2},
    {k: v for k, v in BASE_CASE.items() if k != "performance_status"},
    {},
]


def distinct_cases(n: int) -> list[dict[str, Any]]:
    sites = ["colorectal", "breast", "lung", "neuroendocrine", "ovary", "pancreas", "melanoma"]
    return [
        {
            **BASE_CASE,
            "primary_site": sites[i % len(sites)],
            "lesion_count": 1 + i % 9,
            "largest_lesion_cm": 0.5 + (i % 13) * 0.7,
            "extrahepatic_disease": ["none", "limited", "extensive"][i % 3],
            "performance_status": i % 5,
            "declines_surgery": [None, True, False][(i // 3) % 3],
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def small_limits_client(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"max_batch_items": 3, "max_batch_body_bytes": 100_000})
    with TestClient(create_app(settings)) as client:
        yield client


def test_each_case_gets_the_explanation_explain_gives_in_request_order(client: TestClient) -> None:
    cases = distinct_cases(24)
    response = client.post(BATCH, json={"cases": cases})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["explained"], body["invalid"]) == (24, 24, 0)
    assert [r["index"] for r in body["results"]] == list(range(24))
    for case, result in zip(cases, body["results"], strict=True):
        assert result["status"] == "ok"
        assert result["explanation"] == client.post("/v1/explain", json=case).json()
    assert len({json.dumps(r["explanation"]) for r in body["results"]}) > 10, "cases must differ to prove order"


def test_invalid_items_get_the_errors_explain_gives_and_do_not_fail_the_batch(client: TestClient) -> None:
    valid = distinct_cases(2)
    items = [valid[0], *INVALID_CASES, valid[1]]
    body = client.post(BATCH, json={"cases": items}).json()
    assert (body["count"], body["explained"], body["invalid"]) == (len(items), 2, len(INVALID_CASES))
    first, *middle, last = body["results"]
    assert first["status"] == last["status"] == "ok"
    assert last["explanation"] == client.post("/v1/explain", json=valid[1]).json()
    for index, (case, result) in enumerate(zip(INVALID_CASES, middle, strict=True), start=1):
        single = client.post("/v1/explain", json=case)
        assert single.status_code == 422
        assert result == {
            "index": index,
            "status": "invalid",
            "problem": single.json(),
        }


@pytest.mark.parametrize("item", [5, "colorectal", None, [BASE_CASE]])
def test_an_item_that_is_not_an_object_is_reported_as_the_case(client: TestClient, item: Any) -> None:
    body = client.post(BATCH, json={"cases": [BASE_CASE, item]}).json()
    assert body["results"][0]["status"] == "ok"
    problem = body["results"][1]["problem"]["errors"][0]
    assert body["results"][1]["status"] == "invalid"
    assert problem["field"] == "case"
    assert "JSON object" in problem["message"]


def test_an_empty_batch_is_answered_with_no_results(client: TestClient) -> None:
    assert client.post(BATCH, json={"cases": []}).json() == {"count": 0, "explained": 0, "invalid": 0, "results": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cases": [BASE_CASE], "mode": "fast"}, "mode"),
        ({}, "cases"),
        ({"cases": BASE_CASE}, "cases"),
    ],
)
def test_a_malformed_batch_is_refused_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    response = client.post(BATCH, json=body)
    assert response.status_code == 422
    assert field in [p["field"] for p in response.json()["errors"]]


def test_a_list_without_the_envelope_is_refused(client: TestClient) -> None:
    response = client.post(BATCH, json=[BASE_CASE])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_the_default_limit_is_1000_cases(client: TestClient) -> None:
    response = client.post(BATCH, json={"cases": [BASE_CASE] * 1001})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "cases",
            "message": "List should have at most 1000 items after validation, not 1001",
            "kind": "too_long",
        }
    ]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BatchRequest"]
    assert schema["properties"]["cases"]["maxItems"] == 1000


def test_the_case_limit_is_configured(small_limits_client: TestClient) -> None:
    assert small_limits_client.post(BATCH, json={"cases": distinct_cases(3)}).status_code == 200
    response = small_limits_client.post(BATCH, json={"cases": distinct_cases(4)})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cases"
    assert "at most 3 items" in response.json()["errors"][0]["message"]


def _padded(body: dict[str, Any], size: int) -> bytes:
    """Valid JSON of exactly `size` bytes (whitespace padding)."""
    raw = json.dumps(body).encode()
    return raw[:-1] + b" " * (size - len(raw)) + b"}"


def test_the_batch_has_its_own_larger_body_limit(small_limits_client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    over_explain_limit = _padded({"cases": distinct_cases(2)}, 80_000)  # explain's limit is 64 KiB
    assert small_limits_client.post(BATCH, content=over_explain_limit, headers=headers).status_code == 200
    single = _padded(BASE_CASE, 80_000)
    assert small_limits_client.post("/v1/explain", content=single, headers=headers).status_code == 413
    response = small_limits_client.post(BATCH, content=_padded({"cases": []}, 100_001), headers=headers)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "/problems/payload_too_large",
        "title": "Payload too large",
        "status": 413,
        "detail": "Request bodies are limited to 100000 bytes.",
        "code": "payload_too_large",
        "errors": [{"field": "body", "message": "request bodies are limited to 100000 bytes"}],
    }


def test_the_default_batch_body_limit_fits_1000_full_cases(client: TestClient) -> None:
    full = {
        **BASE_CASE,
        "primary_site": "uveal_melanoma",
        "symptomatic": False,
        "lobar_distribution": "unilobar",
        "primary_tumour_status": "resected",
        "prior_treatments": ["chemotherapy", "liver_resection", "ablation", "radiotherapy", "embolisation"],
        "kras_status": "wild_type",
        "hormone_receptor_status": "negative",
        "declines_surgery": False,
    }
    body = json.dumps({"cases": [full] * 1000}, indent=2).encode()
    assert len(body) <= Settings().max_batch_body_bytes


def test_an_item_holding_a_lone_surrogate_is_reported_not_a_server_error(client: TestClient) -> None:
    # "\ud800" is valid JSON but cannot be written back as UTF-8, so it must not be echoed.
    body = b'{"cases": [{"primary_site": "\\ud800", "lesion_count": 2}]}'
    response = client.post(BATCH, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    problem = response.json()["results"][0]["problem"]["errors"][0]
    assert problem["field"] == "primary_site"
    assert "input" not in problem

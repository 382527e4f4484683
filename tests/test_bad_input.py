"""Every malformed request gets a 4xx naming the field and what is allowed; none gets a 500."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import BASE_CASE


def post(client: TestClient, body: bytes, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    response = client.post("/v1/explain", content=body, headers={"content-type": content_type})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"primary_site": "liver"}, "primary_site", "'colorectal'"),
        ({"lesion_count": 0}, "lesion_count", "greater than or equal to 1"),
        ({"lesion_count": 101}, "lesion_count", "less than or equal to 100"),
        ({"lesion_count": "2"}, "lesion_count", "valid integer"),
        ({"lesion_count": 2.5}, "lesion_count", "valid integer"),
        ({"largest_lesion_cm": 0}, "largest_lesion_cm", "greater than or equal to 0.01"),
        # Found by schemathesis: the engine cannot read numbers this small (exponent form).
        ({"largest_lesion_cm": 5e-324}, "largest_lesion_cm", "greater than or equal to 0.01"),
        ({"largest_lesion_cm": 0.00001}, "largest_lesion_cm", "greater than or equal to 0.01"),
        ({"largest_lesion_cm": 31}, "largest_lesion_cm", "less than or equal to 30"),
        ({"largest_lesion_cm": "big"}, "largest_lesion_cm", "valid number"),
        ({"extrahepatic_disease": "some"}, "extrahepatic_disease", "'none', 'limited' or 'extensive'"),
        ({"liver_function": "poor"}, "liver_function", "'normal', 'impaired' or 'cirrhosis'"),
        ({"performance_status": 5}, "performance_status", "less than or equal to 4"),
        ({"performance_status": True}, "performance_status", "valid integer"),
        ({"symptomatic": "yes"}, "symptomatic", "valid boolean"),
        ({"prior_treatments": ["surgery"]}, "prior_treatments.0", "'chemotherapy'"),
        ({"prior_treatments": ["ablation", "ablation"]}, "prior_treatments", "listed once"),
        ({"kras_status": "G12D"}, "kras_status", "'mutant' or 'wild_type'"),
        ({"tumour_grade": 2}, "tumour_grade", "unknown field"),
    ],
)
def test_invalid_field_is_named_with_what_is_allowed(
    client: TestClient, change: dict[str, Any], field: str, words: str
) -> None:
    status, body = post(client, json.dumps({**BASE_CASE, **change}).encode())
    assert status == 422
    problem = next(p for p in body["errors"] if p["field"] == field)
    assert words in problem["message"]


def test_missing_required_field_is_named(client: TestClient) -> None:
    case = dict(BASE_CASE)
    del case["performance_status"]
    status, body = post(client, json.dumps(case).encode())
    assert status == 422
    assert body["errors"] == [
        {"field": "performance_status", "message": '"ECOG performance status" is required', "kind": "missing"}
    ]


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"", "application/json", "JSON object describing the case is required"),
        (b"{", "application/json", "not valid JSON"),
        # Not UTF-8. (This row sent b"\xff\xfe" until the input policy: that is a UTF-16 byte order
        # mark, now answered 415 like any UTF-16 body: tests/test_input_policy.py.)
        (b"\xff\xff", "application/json", "not valid JSON (it is not UTF-8 text"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b"primary_site=colorectal", "application/x-www-form-urlencoded", "must be a JSON object"),
    ],
)
def test_empty_or_non_json_body_is_refused_clearly(
    client: TestClient, body: bytes, content_type: str, words: str
) -> None:
    status, answer = post(client, body, content_type)
    assert status == 422
    assert words in answer["errors"][0]["message"]


def test_oversized_body_gets_413(client: TestClient) -> None:
    status, body = post(client, b'{"primary_site": "' + b"a" * 70_000 + b'"}')
    assert status == 413
    assert "limited to 65536 bytes" in body["errors"][0]["message"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from([*BASE_CASE, "symptomatic", "prior_treatments", "x"]), json_values))
def test_no_input_yields_a_server_error(client: TestClient, changes: dict[str, Any]) -> None:
    body = json.dumps({**BASE_CASE, **changes}, allow_nan=True).encode()
    response = client.post("/v1/explain", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_non_finite_numbers_are_refused_not_crashed_on(client: TestClient, literal: bytes) -> None:
    body = json.dumps(BASE_CASE).encode().replace(b'"largest_lesion_cm": 2.5', b'"largest_lesion_cm": ' + literal)
    status, answer = post(client, body)
    assert status == 422
    assert answer["errors"][0]["field"] == "largest_lesion_cm"

"""One input policy, published and enforced alike (issue "Stay up for everyone", findings 8 and 9).

Each rule is reproduced against the running app (in process) on every operation that takes a body:
- an integral float (3.0) is that integer, as the published JSON Schema's `integer` says; the schema and
  the model give the same verdict on generated bodies;
- a key repeated in a JSON object is refused (422 `duplicate_key`, naming it), at any depth;
- a boolean query parameter is exactly `true` or `false`, given once;
- bodies are UTF-8: another charset or UTF-16/UTF-32 text is 415, invalid UTF-8 a clear 422;
- nesting deeper than MAX_JSON_DEPTH is a clear 422, never a 500 or RecursionError;
- an error answer lists at most MAX_PROBLEMS problems and echoes at most MAX_INPUT_CHARS of an input."""

import json
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.core.inputs import is_whole_number
from app.errors import MAX_INPUT_CHARS, MAX_JSON_DEPTH, MAX_PROBLEMS
from schemas.case import INTEGER_FIELDS, Case
from schemas.export import OUT_DIR
from tests.conftest import BASE_CASE
from tests.strategies import case_dicts

JSON = {"content-type": "application/json"}
BODY_PATHS = ("/v1/explain", "/v1/compare", "/v1/explain/batch")


def wrap(path: str, case: Any) -> Any:
    """The body of `path` carrying `case` (compare: as `a`; batch: as the second of two cases)."""
    if path == "/v1/compare":
        return {"a": case, "b": BASE_CASE}
    if path == "/v1/explain/batch":
        return {"cases": [BASE_CASE, case]}
    return case


def post_raw(client: TestClient, path: str, body: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(path, content=body, headers=headers or JSON)


def case_text(case: dict[str, Any] | None = None) -> str:
    return json.dumps(case or BASE_CASE)


# 1. An integral float is that integer --------------------------------------------------------------------


def test_integer_fields_are_read_from_the_model() -> None:
    assert {"lesion_count", "performance_status"} <= INTEGER_FIELDS
    assert frozenset(n for n in Case.model_fields if is_whole_number(n)) == INTEGER_FIELDS


@pytest.mark.parametrize("field", ["lesion_count", "performance_status"])
@pytest.mark.parametrize("text", ["3.0", "3.00", "3e0", "0.3e1"])
def test_an_integral_float_is_that_integer_on_every_operation(client: TestClient, field: str, text: str) -> None:
    sent = case_text().replace(f'"{field}": {BASE_CASE[field]}', f'"{field}": {text}')
    reference = client.post("/v1/explain", json={**BASE_CASE, field: 3})
    assert reference.status_code == 200
    # /v1/explain answers exactly what it answers for the integer 3 (the case echoed with 3, not 3.0).
    answer = post_raw(client, "/v1/explain", sent.encode())
    assert answer.status_code == 200, answer.text
    assert answer.content == reference.content
    assert answer.json()["case"][field] == 3
    compare = post_raw(client, "/v1/compare", b'{"a": %s, "b": %s}' % (sent.encode(), case_text().encode()))
    assert compare.status_code == 200, compare.text
    batch = post_raw(client, "/v1/explain/batch", b'{"cases": [%s]}' % sent.encode()).json()
    assert batch["explained"] == 1
    assert batch["results"][0]["explanation"] == reference.json()


def test_the_model_turns_an_integral_float_into_an_int() -> None:
    case = Case.model_validate({**BASE_CASE, "lesion_count": 3.0, "performance_status": 1.0})
    assert type(case.lesion_count) is int and case.lesion_count == 3
    assert type(case.performance_status) is int and case.performance_status == 1


@pytest.mark.parametrize("value", [3.5, 0.1, True, False, "3", "3.0", None, [3]])
@pytest.mark.parametrize("path", BODY_PATHS)
def test_other_values_are_still_refused_for_an_integer(client: TestClient, path: str, value: Any) -> None:
    response = client.post(path, json=wrap(path, {**BASE_CASE, "lesion_count": value}))
    if path == "/v1/explain/batch":
        assert response.status_code == 200
        detail = response.json()["results"][1]["problem"]["errors"]
        prefix = ""
    else:
        assert response.status_code == 422
        detail = response.json()["errors"]
        prefix = "a." if path == "/v1/compare" else ""
    assert [p["field"] for p in detail] == [f"{prefix}lesion_count"]


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_very_long_integer_for_a_size_is_refused_not_crashed_on(client: TestClient, digits: int) -> None:
    # 10**400 cannot be a float; Python refuses to read integers of more than 4,300 digits at all.
    sent = case_text().replace('"largest_lesion_cm": 2.5', '"largest_lesion_cm": 1' + "0" * digits)
    response = post_raw(client, "/v1/explain", sent.encode())
    assert response.status_code == 422, response.text
    problem = response.json()["errors"][0]
    if digits == 400:
        assert problem["field"] == "largest_lesion_cm"
        assert "less than or equal to 30" in problem["message"]
    else:
        assert problem["field"] == "body"
        assert "digits" in problem["message"]
    assert len(response.content) < 2_000


# The published schema and the model agree on every body ------------------------------------------------

CASE_SCHEMA = json.loads((OUT_DIR / "case.schema.json").read_text(encoding="utf-8"))
SCHEMA = jsonschema_rs.Draft202012Validator(CASE_SCHEMA)
FIELDS = list(Case.model_fields)
REQUIRED = [n for n, f in Case.model_fields.items() if f.is_required()]

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-5, 105).map(float),  # integral floats, in and out of range
    st.sampled_from([3.5, 0.5, 2.0, -0.0, 1e2, 1e300, 0.01, 30.0, 30.000001]),
    st.text(max_size=12),
    st.sampled_from(["3", "colorectal", "none", "ablation", "true", ""]),
    st.lists(st.sampled_from(["chemotherapy", "ablation", "ablation", "surgery", 3]), max_size=7),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def mutated_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A valid case, then a few mutations: a field set to an odd value (floats for integers, 3.5,
    strings, lists, null), a required field removed, an unknown key added."""
    case = dict(draw(case_dicts))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["set", "set", "drop", "extra", "integral_float"]))
        if kind == "set":
            case[draw(st.sampled_from(FIELDS))] = draw(odd_values)
        elif kind == "drop":
            case.pop(draw(st.sampled_from(REQUIRED)), None)
        elif kind == "extra":
            case[draw(st.sampled_from(["tumour_grade", "Lesion_count", "x", ""]))] = draw(odd_values)
        else:
            name = draw(st.sampled_from(sorted(INTEGER_FIELDS)))
            if isinstance(case.get(name), int):
                case[name] = float(case[name])
    return case


def model_accepts(body: dict[str, Any]) -> bool:
    try:
        Case.model_validate(body)
    except ValidationError:
        return False
    return True


@settings(max_examples=1500, deadline=None)
@given(case=mutated_cases())
def test_the_published_schema_and_the_model_give_the_same_verdict(case: dict[str, Any]) -> None:
    body = json.loads(json.dumps(case))  # what the server sees: the body as JSON parses it
    assert SCHEMA.is_valid(body) == model_accepts(body), json.dumps(body)


@pytest.mark.parametrize(
    ("change", "valid"),
    [
        ({"lesion_count": 3.0}, True),
        ({"performance_status": 4.0}, True),
        ({"lesion_count": 3.5}, False),
        ({"lesion_count": True}, False),
        ({"lesion_count": "3"}, False),
        ({"largest_lesion_cm": 3}, True),
        ({"prior_treatments": ["ablation", "ablation"]}, False),
        ({"prior_treatments": []}, True),
        ({"symptomatic": None}, True),
        ({"primary_site": None}, False),
        ({"tumour_grade": 2}, False),
    ],
)
def test_the_schema_and_the_model_agree_on_the_known_edges(change: dict[str, Any], valid: bool) -> None:
    body = {**BASE_CASE, **change}
    assert SCHEMA.is_valid(body) is valid
    assert model_accepts(body) is valid


def test_a_missing_required_field_is_refused_by_both() -> None:
    for name in REQUIRED:
        body = {k: v for k, v in BASE_CASE.items() if k != name}
        assert not SCHEMA.is_valid(body)
        assert not model_accepts(body)


# 2. Duplicate keys ----------------------------------------------------------------------------------------


CASE = case_text()


def plus(extra: str) -> str:
    """The base case with `extra` (`"key": value` pairs) added at its end."""
    return CASE[:-1] + ", " + extra + "}"


LUNG, KNOWN, NINE = plus('"primary_site": "lung"'), plus('"symptomatic": true'), plus('"lesion_count": 9')


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/explain", plus('"lesion_count": 3'), "lesion_count"),
        ("/v1/explain", plus('"x": {"k": 1, "k": 2}'), "x.k"),
        ("/v1/compare", f'{{"a": {LUNG}, "b": {CASE}}}', "a.primary_site"),
        ("/v1/compare", f'{{"a": {CASE}, "a": {CASE}, "b": {CASE}}}', "a"),
        ("/v1/explain/batch", f'{{"cases": [{CASE}, {KNOWN}]}}', ""),
        ("/v1/explain/batch", f'{{"cases": [{CASE}, {NINE}]}}', "cases.1.lesion_count"),
        ("/v1/explain/batch", f'{{"cases": [], "cases": [{CASE}]}}', "cases"),
    ],
)
def test_a_repeated_key_is_refused_naming_it(client: TestClient, path: str, body: str, field: str) -> None:
    response = post_raw(client, path, body.encode())
    if not field:  # no key repeated in any one object: accepted
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"
    assert response.json()["errors"] == [
        {
            "field": field,
            "message": f"the key {field.rsplit('.', 1)[-1]!r} appears more than once in one JSON object; "
            "give each key once",
            "kind": "duplicate_key",
        }
    ]


def test_every_repeated_key_is_named(client: TestClient) -> None:
    body = plus('"lesion_count": 3, "performance_status": 1, "lesion_count": 4')
    detail = post_raw(client, "/v1/explain", body.encode()).json()["errors"]
    assert [p["field"] for p in detail] == ["lesion_count", "performance_status"]


def test_the_same_key_in_different_objects_is_not_a_repeat(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"a": BASE_CASE, "b": {**BASE_CASE, "lesion_count": 5}})
    assert response.status_code == 200


# 3. Query booleans ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yes", "1", "TRUE", "True", "on", "no", "0", "off", "False", "", "true "])
def test_a_boolean_query_parameter_is_exactly_true_or_false(client: TestClient, value: str) -> None:
    response = client.post("/v1/explain", params={"what_if": value}, json=BASE_CASE)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "query.what_if",
            "message": f"query parameter 'what_if' must be true or false (lower case), not {value!r}",
            "kind": "bool_parsing",
            "input": value,
        }
    ]


def test_true_and_false_still_work(client: TestClient) -> None:
    with_what_if = client.post("/v1/explain?what_if=true", json=BASE_CASE)
    without = client.post("/v1/explain?what_if=false", json=BASE_CASE)
    assert with_what_if.status_code == without.status_code == 200
    assert "what_if" in with_what_if.json() and without.json().get("what_if") is None


def test_a_query_parameter_given_twice_is_refused(client: TestClient) -> None:
    response = client.post("/v1/explain?what_if=true&what_if=false", json=BASE_CASE)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "query.what_if",
            "message": "query parameter 'what_if' is given 2 times; give it once",
            "kind": "duplicate_key",
        }
    ]


# 4. UTF-8 only --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("path", BODY_PATHS)
def test_utf16_and_utf32_bodies_get_415(client: TestClient, path: str, encoding: str) -> None:
    response = post_raw(client, path, json.dumps(wrap(path, BASE_CASE)).encode(encoding))
    assert response.status_code == 415, response.text
    [problem] = response.json()["errors"]
    assert response.json()["code"] == "unsupported_media_type"
    assert problem["field"] == "body"
    assert problem["kind"] == "unsupported_encoding"
    assert encoding[:6].upper() in problem["message"] and "UTF-8" in problem["message"]


@pytest.mark.parametrize("charset", ["utf-16", "iso-8859-1", "latin1", "UTF-32", '"utf-16"', ""])
@pytest.mark.parametrize("path", BODY_PATHS)
def test_a_charset_other_than_utf8_gets_415(client: TestClient, path: str, charset: str) -> None:
    headers = {"content-type": f"application/json; charset={charset}"}
    response = post_raw(client, path, json.dumps(wrap(path, BASE_CASE)).encode(), headers)
    assert response.status_code == 415, response.text
    assert response.json()["errors"] == [
        {
            "field": "header.content-type",
            "message": f"charset {charset.strip(chr(34))!r} is not supported: send the body as UTF-8 JSON "
            "(Content-Type: application/json)",
            "kind": "unsupported_charset",
        }
    ]


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"', "Utf-8"])
def test_charset_utf8_is_accepted(client: TestClient, charset: str) -> None:
    headers = {"content-type": f"application/json;charset={charset}"}
    assert post_raw(client, "/v1/explain", case_text().encode(), headers).status_code == 200


def test_a_utf8_byte_order_mark_is_ignored(client: TestClient) -> None:
    # RFC 8259 section 8.1: a parser may ignore it; it is still UTF-8.
    assert post_raw(client, "/v1/explain", b"\xef\xbb\xbf" + case_text().encode()).status_code == 200


@pytest.mark.parametrize("path", BODY_PATHS)
def test_invalid_utf8_is_a_clear_422(client: TestClient, path: str) -> None:
    body = json.dumps(wrap(path, {**BASE_CASE, "kras_status": "X"})).encode().replace(b'"X"', b'"\xc3("')
    response = post_raw(client, path, body)
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["field"] == "body" and problem["kind"] == "json_invalid"
    offset = body.index(b"\xc3")
    assert problem["message"] == f"the body is not valid JSON (it is not UTF-8 text: byte {offset} is not valid UTF-8)"


# 5. Nesting -----------------------------------------------------------------------------------------------


def too_deep(path: str, levels: int) -> bytes:
    nested = b"[" * levels + b"]" * levels
    if path == "/v1/explain":
        return case_text()[:-1].encode() + b', "prior_treatments": ' + nested + b"}"
    return json.dumps(wrap(path, "HOLE")).encode().replace(b'"HOLE"', nested)


@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH, 10_000, 30_000])
@pytest.mark.parametrize("path", BODY_PATHS)
def test_deep_nesting_gets_a_clear_reason(client: TestClient, path: str, levels: int) -> None:
    response = post_raw(client, path, too_deep(path, levels))
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "field": "body",
            "message": f"the body is nested too deeply (more than {MAX_JSON_DEPTH} levels of arrays and objects)",
            "kind": "json_too_deep",
        }
    ]


def test_the_whole_body_nested_deeply_gets_the_same_reason(client: TestClient) -> None:
    response = post_raw(client, "/v1/explain", b"[" * 10_000 + b"]" * 10_000)
    assert response.status_code == 422
    assert response.json()["errors"][0]["kind"] == "json_too_deep"


def test_nesting_within_the_limit_is_judged_as_usual(client: TestClient) -> None:
    response = post_raw(client, "/v1/explain", too_deep("/v1/explain", 3))
    assert response.status_code == 422
    assert [p["kind"] for p in response.json()["errors"]] == ["literal_error"]


# 6. Bounded error answers ---------------------------------------------------------------------------------


def many_problems(count: int) -> dict[str, Any]:
    return {**BASE_CASE, **{f"unknown_{i}": i for i in range(count)}}


def test_a_small_bad_body_gets_a_small_answer(client: TestClient) -> None:
    body = json.dumps(many_problems(300)).encode()
    assert 4_500 < len(body) < 6_000
    response = post_raw(client, "/v1/explain", body)
    assert response.status_code == 422
    assert len(response.content) < 10_000
    detail = response.json()["errors"]
    assert len(detail) == MAX_PROBLEMS + 1
    assert [p["field"] for p in detail[:MAX_PROBLEMS]] == [f"unknown_{i}" for i in range(MAX_PROBLEMS)]
    assert detail[-1] == {
        "field": "body",
        "message": f"{300 - MAX_PROBLEMS} more problems were found and are not listed (at most {MAX_PROBLEMS} are)",
        "kind": "too_many_errors",
    }


def test_up_to_the_limit_every_problem_is_listed(client: TestClient) -> None:
    detail = client.post("/v1/explain", json=many_problems(MAX_PROBLEMS)).json()["errors"]
    assert len(detail) == MAX_PROBLEMS
    assert all(p["kind"] == "extra_forbidden" for p in detail)


def test_the_batch_bounds_each_case_detail_alike(client: TestClient) -> None:
    response = client.post("/v1/explain/batch", json={"cases": [many_problems(300), BASE_CASE]})
    entry = response.json()["results"][0]
    assert len(entry["problem"]["errors"]) == MAX_PROBLEMS + 1
    assert entry["problem"]["errors"][-1]["field"] == "case"
    assert entry["problem"]["errors"][-1]["kind"] == "too_many_errors"
    assert len(json.dumps(entry)) < 10_000


def test_compare_bounds_the_problems_of_both_cases_together(client: TestClient) -> None:
    response = client.post("/v1/compare", json={"a": many_problems(50), "b": many_problems(50)})
    detail = response.json()["errors"]
    assert len(detail) == MAX_PROBLEMS + 1
    assert detail[-1]["message"].startswith(f"{100 - MAX_PROBLEMS} more problems")


@pytest.mark.parametrize("value", ["z" * 5_000, "é" * 300, 10**250])
def test_a_long_input_is_echoed_cut_short_and_marked(client: TestClient, value: Any) -> None:
    response = client.post("/v1/explain", json={**BASE_CASE, "primary_site": value})
    [problem] = response.json()["errors"]
    assert problem["input_truncated"] is True
    assert problem["input"] == json.dumps(value, ensure_ascii=False)[:MAX_INPUT_CHARS]
    # The problem document repeats a lone problem's message in its `detail`: still about 1 KB.
    assert len(response.content) < 1_200


@pytest.mark.parametrize("value", ["z" * (MAX_INPUT_CHARS - 2), 12345, 2.5, True])
def test_a_short_input_is_echoed_as_sent(client: TestClient, value: Any) -> None:
    [problem] = client.post("/v1/explain", json={**BASE_CASE, "primary_site": value}).json()["errors"]
    assert problem["input"] == value
    assert "input_truncated" not in problem


def test_the_openapi_document_publishes_the_limits_and_the_415(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    errors = schemas["ErrorResponse"]["properties"]["errors"]
    assert errors["maxItems"] == MAX_PROBLEMS + 1
    assert f"at most {MAX_PROBLEMS}" in errors["description"]
    assert f"{MAX_INPUT_CHARS} characters" in schemas["Problem"]["properties"]["input"]["description"]
    assert "unsupported_media_type" in schemas["ErrorResponse"]["properties"]["code"]["description"]
    for path in BODY_PATHS:
        response = document["paths"][path]["post"]["responses"]["415"]
        assert response["content"]["application/problem+json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
    what_if = next(p for p in document["paths"]["/v1/explain"]["post"]["parameters"] if p["name"] == "what_if")
    assert "`true` or `false`" in what_if["description"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated_cases())
def test_generated_bodies_get_the_same_verdict_over_http(client: TestClient, case: dict[str, Any]) -> None:
    text = json.dumps(case)
    body = json.loads(text)
    response = post_raw(client, "/v1/explain", text.encode())
    assert response.status_code == (200 if SCHEMA.is_valid(body) else 422), response.text
    if response.status_code == 422:
        assert len(response.json()["errors"]) <= MAX_PROBLEMS + 1

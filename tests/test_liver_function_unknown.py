"""Liver function may be unknown (absent or null) on every path, and then no rule reads a value into it."""

from typing import Any

from fastapi.testclient import TestClient

from app import reference as oracle
from app.engine import RulesEngine
from app.rulebook import Rule, Rulebook
from app.rulebook.examples import example_case
from tests.conftest import BASE_CASE

UNKNOWN_LIVER = {k: v for k, v in BASE_CASE.items() if k != "liver_function"}
# Many small colorectal metastases confined to the liver, a fit patient: whether the liver may not allow a
# resection (cirrhosis) decides whether external radiotherapy is commonly discussed.
MANY_SMALL_COLORECTAL = {**UNKNOWN_LIVER, "lesion_count": 5, "largest_lesion_cm": 2.0}


def explain(client: TestClient, case: dict[str, Any], query: str = "") -> dict[str, Any]:
    response = client.post(f"/v1/explain{query}", json=case)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def category(body: dict[str, Any], cat: str) -> dict[str, Any]:
    return next(c for c in body["discussed"] + body["not_discussed"] if c["category"] == cat)


def test_absent_and_null_are_the_same_unknown_liver_function(client: TestClient) -> None:
    absent = client.post("/v1/explain", json=UNKNOWN_LIVER)
    null = client.post("/v1/explain", json={**UNKNOWN_LIVER, "liver_function": None})
    assert absent.status_code == null.status_code == 200
    assert absent.content == null.content
    body = absent.json()
    assert body["case"]["liver_function"] is None
    assert "liver_function" in body["unknown_inputs"]


def test_unknown_liver_function_points_to_the_liver_function_tests(client: TestClient) -> None:
    blood = next(i for i in explain(client, UNKNOWN_LIVER)["investigations"] if i["id"] == "blood_tests")
    reasons = {r["rule"]: r for r in blood["relevance"]}
    assert reasons["investigation.blood_tests.liver_function_unknown"]["inputs"] == [
        {"field": "liver_function", "value": None, "condition": '"Liver function" is unknown'}
    ]
    known = next(i for i in explain(client, BASE_CASE)["investigations"] if i["id"] == "blood_tests")
    assert "investigation.blood_tests.liver_function_unknown" not in {r["rule"] for r in known["relevance"]}


def test_depends_on_names_liver_function_where_it_would_move_a_category(client: TestClient) -> None:
    unknown = explain(client, MANY_SMALL_COLORECTAL)
    radiotherapy = category(unknown, "external_radiotherapy")
    assert radiotherapy in unknown["not_discussed"]
    moves = [d for d in radiotherapy["depends_on"] if d["field"] == "liver_function"]
    assert [(d["value"], d["would_be"]) for d in moves] == [("cirrhosis", "discussed")]
    # ... and it says true: with cirrhosis given, radiotherapy is commonly discussed.
    cirrhosis = explain(client, {**MANY_SMALL_COLORECTAL, "liver_function": "cirrhosis"})
    assert category(cirrhosis, "external_radiotherapy") in cirrhosis["discussed"]
    # Cirrhosis is a caveat to resection, not a reason against it: resection does not depend on it.
    resection = category(unknown, "surgical_resection")
    assert "liver_function" not in {d["field"] for d in resection["depends_on"]}


def test_every_dependency_on_liver_function_is_what_the_engine_answers(client: TestClient) -> None:
    for case in (UNKNOWN_LIVER, MANY_SMALL_COLORECTAL, {**UNKNOWN_LIVER, "lesion_count": 1, "largest_lesion_cm": 1.5}):
        body = explain(client, case)
        for cat in body["discussed"] + body["not_discussed"]:
            for dep in (d for d in cat["depends_on"] if d["field"] == "liver_function"):
                changed = explain(client, {**case, "liver_function": dep["value"]})
                assert category(changed, cat["category"]) in changed[dep["would_be"]]


def test_what_if_compare_and_batch_take_an_unknown_liver_function(client: TestClient) -> None:
    what_if = explain(client, UNKNOWN_LIVER, "?what_if=true")["what_if"]
    assert "liver_function" in {u["field"] for u in what_if["unknown_inputs"]}
    assert "liver_function" not in {c["field"] for c in what_if["changes"]}, "an unknown input is not changed"
    compared = client.post(
        "/v1/compare", json={"a": UNKNOWN_LIVER, "b": {**UNKNOWN_LIVER, "liver_function": "cirrhosis"}}
    )
    assert compared.status_code == 200, compared.text
    batch = client.post("/v1/explain/batch", json={"cases": [UNKNOWN_LIVER, {**UNKNOWN_LIVER, "liver_function": None}]})
    assert batch.status_code == 200, batch.text
    assert [r["status"] for r in batch.json()["results"]] == ["ok", "ok"]


def _reads_liver_function_value(rule: Rule, book: Rulebook) -> bool:
    """The rule needs a known liver function: a value test on it, or a fact only rules with one derive."""
    if any(c.field == "liver_function" and c.op != "unknown" for c in rule.conditions):
        return True
    for cond in rule.conditions:
        derivers = [r for r in book.rules if cond.fact and r.spec.derives == cond.fact]
        if derivers and all(_reads_liver_function_value(r, book) for r in derivers):
            return True
    return False


def test_no_rule_reads_a_value_into_an_unknown_liver_function(book: Rulebook, engine: RulesEngine) -> None:
    """Each rule needing a liver function value (normal, impaired or cirrhosis) fires for its own examples
    and stops firing, in engine and reference alike, when that value is taken away."""
    readers = [r for r in book.rules if _reads_liver_function_value(r, book)]
    assert readers, "some rule reads liver function"
    for rule in readers:
        for example in rule.spec.examples.fires:
            facts = example_case(book, example).known_facts()
            facts.pop("liver_function", None)
            assert rule.id not in engine.evaluate(facts).fired, f"{rule.id} fired on unknown liver function"
            assert rule.id not in oracle.evaluate(book, facts).fired

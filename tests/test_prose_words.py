"""Prose is for people: statements, conditions, reasons, what-if and depends-on sentences name inputs
by their labels and rulebook settings and derived facts in words, never by their ids; the ids stay in
the structured fields beside them (`field`, `param`, `fact`, `rule`)."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.rulebook import Rulebook
from schemas.case import Case
from tests.conftest import BASE_CASE

# The members that hold sentences, wherever they appear in an answer.
PROSE = {"because", "condition", "statement", "summary", "description", "meaning", "text", "purpose", "limits"}
SNAKE = re.compile(r"[a-z]+(?:_[a-z0-9]+)+")

CASES = [
    BASE_CASE,
    {
        **BASE_CASE,
        "primary_site": "breast",
        "lesion_count": 5,
        "largest_lesion_cm": 4.0,
        "extrahepatic_disease": "limited",
        "liver_function": "cirrhosis",
        "performance_status": 3,
        "prior_treatments": ["chemotherapy"],
        "technical_resectability": "potentially_resectable",
    },
    {**BASE_CASE, "primary_site": "uveal_melanoma", "symptomatic": True, "ascites": False},
]


def _sentences(node: Any, key: str | None = None) -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _sentences(v, k)]
    if isinstance(node, list):
        return [s for v in node for s in _sentences(v, key)]
    return [(key, node)] if isinstance(node, str) and key in PROSE else []


def _ids_in_prose(document: Any, ids: set[str]) -> list[tuple[str, str]]:
    return [(key, text) for key, text in _sentences(document) if ids.intersection(SNAKE.findall(text))]


@pytest.fixture(scope="module")
def internal_ids(book: Rulebook) -> set[str]:
    facts = {r.spec.derives for r in book.rules if r.spec.derives}
    return set(Case.model_fields) | set(book.parameters) | facts


@pytest.mark.parametrize("case", CASES)
def test_an_explanation_with_what_if_speaks_in_words(
    client: TestClient, internal_ids: set[str], case: dict[str, Any]
) -> None:
    answer = client.post("/v1/explain?what_if=true", json=case).json()
    assert answer["what_if"]["changes"]  # the sentences under test are there
    assert _ids_in_prose(answer, internal_ids) == []


def test_the_rulebook_and_categories_speak_in_words(client: TestClient, internal_ids: set[str]) -> None:
    rules = client.get("/v1/rules").json()
    assert _ids_in_prose(rules, internal_ids) == []
    assert _ids_in_prose(client.get("/v1/categories").json(), internal_ids) == []
    # The ids stay in the structured fields.
    conditions = [c for r in rules["rules"] for c in r["when"] if c["param"]]
    assert conditions and all(c["field"] in Case.model_fields for c in conditions if c["field"])
    assert all(p["label"] and "_" not in p["label"] for p in rules["parameters"])

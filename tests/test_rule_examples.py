"""Every rule's own examples, run through the real engine and through the reference oracle."""

import pytest
import yaml

from app import reference as oracle
from app.engine import RulesEngine
from app.rulebook import Rulebook, example_failures
from tests.conftest import RULES_DIR


def rule_ids_in_files() -> list[str]:
    """Every rule id, in load order, read straight from the rule files: cheap at collection time
    (the rulebook itself, with its checks, is loaded once by the session fixtures)."""
    ids: list[str] = []
    for path in sorted((RULES_DIR / "topics").glob("*.yaml")):
        topic = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ids.extend(str(rule["id"]) for rule in topic.get("rules") or [])
    return ids


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "rule_id" in metafunc.fixturenames:
        metafunc.parametrize("rule_id", rule_ids_in_files())


def test_the_examples_are_run_for_every_rule_of_the_loaded_rulebook(book: Rulebook) -> None:
    assert rule_ids_in_files() == [r.id for r in book.rules]


def test_rule_examples_hold_in_engine_and_oracle(rule_id: str, book: Rulebook, engine: RulesEngine) -> None:
    rule = book.rule(rule_id)
    assert example_failures(book, rule, engine.evaluate) == []
    assert example_failures(book, rule, lambda facts: oracle.evaluate(book, facts)) == []


def test_every_category_can_be_discussed(book: Rulebook) -> None:
    for cat in book.categories:
        effects = {r.spec.effect for r in book.rules if r.spec.category == cat.id}
        assert "discussed" in effects, f"no rule can put {cat.id} in `discussed`"
        assert cat.otherwise.cites, f"{cat.id} has no cited reason for when no rule speaks"

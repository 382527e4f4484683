"""Every rule's own examples, run through the real engine and through the reference oracle."""

import pytest

from app import reference as oracle
from app.engine import RulesEngine
from app.rulebook import Rulebook, example_failures
from tests.conftest import RULES_DIR, seeds_dir


def _rule_ids() -> list[str]:
    from app.rulebook import load_rulebook

    return [r.id for r in load_rulebook(RULES_DIR, seeds_dir()).rules]


@pytest.mark.parametrize("rule_id", _rule_ids())
def test_rule_examples_hold_in_engine_and_oracle(rule_id: str, book: Rulebook, engine: RulesEngine) -> None:
    rule = book.rule(rule_id)
    assert example_failures(book, rule, engine.evaluate) == []
    assert example_failures(book, rule, lambda facts: oracle.evaluate(book, facts)) == []


def test_every_category_can_be_discussed(book: Rulebook) -> None:
    for cat in book.categories:
        effects = {r.spec.effect for r in book.rules if r.spec.category == cat.id}
        assert "discussed" in effects, f"no rule can put {cat.id} in `discussed`"
        assert cat.otherwise.cites, f"{cat.id} has no cited reason for when no rule speaks"

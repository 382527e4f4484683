"""The engine agrees with the reference evaluator on thousands of generated cases."""

from typing import Any

from hypothesis import HealthCheck, given, settings

from app import reference as oracle
from app.engine import RulesEngine
from app.rulebook import Rulebook
from schemas.case import Case
from tests.strategies import case_dicts


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=case_dicts)
def test_engine_agrees_with_reference_evaluator(case: dict[str, Any], engine: RulesEngine, book: Rulebook) -> None:
    facts = Case.model_validate(case).known_facts()
    assert engine.evaluate(facts) == oracle.evaluate(book, facts)

"""A pure-Python reference evaluator of the same rulebook data: naive fixpoint iteration over the
operator table's meaning, no engine involved. It exists only to cross-check the durable-rules
adapter (the tests and `make bench` compare the two); the service never answers with it."""

from typing import Any

from app.core.evaluation import Evaluation
from app.rulebook import ResolvedCondition, Rulebook
from app.rulebook.ops import holds as op_holds


def holds(cond: ResolvedCondition, facts: dict[str, Any], derived: set[str]) -> bool:
    if cond.fact is not None:
        return cond.fact in derived
    return op_holds(cond.op or "eq", facts.get(cond.field or ""), cond.value)


def evaluate(book: Rulebook, facts: dict[str, Any]) -> Evaluation:
    fired: set[str] = set()
    derived: set[str] = set()
    changed = True
    while changed:
        changed = False
        for rule in book.rules:
            if rule.id not in fired and all(holds(c, facts, derived) for c in rule.conditions):
                fired.add(rule.id)
                if rule.spec.derives:
                    derived.add(rule.spec.derives)
                changed = True
    return Evaluation(frozenset(fired), frozenset(derived))

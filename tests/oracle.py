"""A pure-Python reference evaluator of the same rulebook data, for tests only. It is the oracle
the durable-rules adapter must agree with: naive fixpoint iteration, no engine involved."""

import operator
from typing import Any

from app.core.evaluation import Evaluation
from app.rulebook import ResolvedCondition, Rulebook

COMPARE = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def holds(cond: ResolvedCondition, facts: dict[str, Any], derived: set[str]) -> bool:
    if cond.fact is not None:
        return cond.fact in derived
    value = facts.get(cond.field or "")
    if cond.op == "unknown":
        return value is None
    if value is None:  # a comparison on an unknown input never holds
        return False
    target = cond.value
    if cond.op == "in":
        return value in target
    if cond.op == "contains":
        return target in value
    return bool(COMPARE[cond.op or ""](value, target))


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

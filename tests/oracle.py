"""A pure-Python reference evaluator of the same rulebook data, for tests only. It is the oracle
the durable-rules adapter must agree with: naive fixpoint iteration, no engine involved."""

from typing import Any

from app.core.evaluation import Evaluation
from app.rulebook import ResolvedCondition, Rulebook


def holds(cond: ResolvedCondition, facts: dict[str, Any], derived: set[str]) -> bool:
    if cond.fact is not None:
        return cond.fact in derived
    value = facts.get(cond.field or "")
    if cond.op == "unknown":
        return value is None
    if value is None:  # a comparison on an unknown input never holds
        return False
    target = cond.value
    checks = {
        "eq": lambda: value == target,
        "ne": lambda: value != target,
        "lt": lambda: value < target,
        "lte": lambda: value <= target,
        "gt": lambda: value > target,
        "gte": lambda: value >= target,
        "in": lambda: value in target,
        "contains": lambda: target in value,
    }
    return bool(checks[cond.op or ""]())


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

"""The one table of condition operators: what each means, which case fields it applies to, and how
it reads in words. The loader's checks, the explanation's wording and the reference evaluator read
it here; the engine adapter translates each operator (a test fails when an operator of this table
is missing there or here)."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["any", "numeric", "list", "optional"]


@dataclass(frozen=True)
class Operator:
    name: str
    words: str  # "<field> <words> <value>" in an explanation
    fields: FieldKind  # which case fields it applies to
    takes_value: bool  # False: the operator stands alone (`unknown`)
    holds: Callable[[Any, Any], bool]  # (the case's known value, the rule's value) -> does it hold


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "is", "any", True, operator.eq),
        Operator("ne", "is not", "any", True, operator.ne),
        Operator("lt", "<", "numeric", True, operator.lt),
        Operator("lte", "<=", "numeric", True, operator.le),
        Operator("gt", ">", "numeric", True, operator.gt),
        Operator("gte", ">=", "numeric", True, operator.ge),
        Operator("in", "is one of", "any", True, lambda value, allowed: value in allowed),
        Operator("contains", "includes", "list", True, lambda items, item: item in items),
        Operator("unknown", "is unknown", "optional", False, lambda value, _: False),  # see holds()
    )
}


def holds(op: str, value: Any, target: Any) -> bool:
    """Whether a condition holds for a case value; None is an unknown input. A comparison on an unknown
    input never holds, and `unknown` holds only for one."""
    if op == "unknown":
        return value is None
    if value is None:
        return False
    return bool(OPERATORS[op].holds(value, target))

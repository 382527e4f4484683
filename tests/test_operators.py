"""One table of condition operators (app/rulebook/ops.py): the rule-file schema, the engine
translation and the reference evaluator all cover exactly its operators."""

from typing import Any, get_args

import pytest

from app import reference
from app.engine import TRANSLATIONS
from app.rulebook import ResolvedCondition
from app.rulebook.ops import OPERATORS, holds
from schemas.rulebook import Op


def test_the_rule_file_schema_offers_exactly_the_table_s_operators() -> None:
    assert set(get_args(Op)) == set(OPERATORS)


def test_the_engine_translates_every_operator_of_the_table() -> None:
    assert set(TRANSLATIONS) == set(OPERATORS)


CASES: list[tuple[str, Any, Any, bool]] = [
    ("eq", "colorectal", "colorectal", True),
    ("ne", "lung", "colorectal", True),
    ("lt", 2.9, 3, True),
    ("lte", 3, 3, True),
    ("gt", 3, 3, False),
    ("gte", 3.0, 3, True),
    ("in", "ovary", ["colorectal", "ovary"], True),
    ("contains", ["chemotherapy"], "chemotherapy", True),
    ("unknown", None, None, True),
    ("unknown", False, None, False),
    ("eq", None, "colorectal", False),
    ("ne", None, "colorectal", False),
]


@pytest.mark.parametrize(("op", "value", "target", "expected"), CASES)
def test_every_operator_means_one_thing(op: str, value: Any, target: Any, expected: bool) -> None:
    assert holds(op, value, target) is expected
    cond = ResolvedCondition(field="x", op=op, value=target, param=None, fact=None)
    facts = {} if value is None else {"x": value}
    assert reference.holds(cond, facts, set()) is expected


def test_every_operator_of_the_table_is_exercised_above() -> None:
    assert {case[0] for case in CASES} == set(OPERATORS), "add a case to CASES for a new operator"

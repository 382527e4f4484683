"""A CSV row as a case: the header names Case fields; each cell is read as its field's type.

An empty cell is an unknown input (left out, never guessed). A list field's items are separated by
';', and `none` is the empty list (known: nothing). Switches are `true`/`false`. A cell that is not
of its field's type is passed on as text, so validation names the field and the value."""

import re
from typing import Any

from schemas.case import INTEGER_FIELDS, LIST_FIELDS, NUMERIC_FIELDS, Case

_BOOLEANS = {"true": True, "false": False}
_INTEGER = re.compile(r"[+-]?\d+")
BOOLEAN_FIELDS = frozenset(n for n, f in Case.model_fields.items() if f.annotation in (bool, bool | None))
EMPTY_LIST = "none"


def cell_value(field: str, text: str) -> Any:
    if field in LIST_FIELDS:
        return [] if text.lower() == EMPTY_LIST else [item.strip() for item in text.split(";") if item.strip()]
    if field in BOOLEAN_FIELDS:
        return _BOOLEANS.get(text.lower(), text)
    if field in NUMERIC_FIELDS:
        if field in INTEGER_FIELDS and _INTEGER.fullmatch(text):
            return int(text)
        try:
            return float(text)
        except ValueError:
            return text
    return text


def csv_case(record: dict[str, str]) -> dict[str, Any]:
    """The case of one CSV row (a cell of a column no Case field has is kept, for validation to name)."""
    return {name: cell_value(name, text.strip()) for name, text in record.items() if text and text.strip()}

"""How case facts, changes and statuses read in exercise text. Wording follows the explanation's:
"commonly discussed" / "not typically discussed"; an unknown input is said to be unknown."""

import re
from typing import Any

from app.core.inputs import shown
from schemas.case import Case
from schemas.exercise import Choice, KeyStatus

KEY_WORDS: dict[str, str] = {
    "discussed": "commonly discussed",
    "not_discussed": "not typically discussed",
    "depends": "depends on an input the case leaves unknown",
}
STATUS_CHOICES = [
    Choice(value="discussed", text="Commonly discussed"),
    Choice(value="not_discussed", text="Not typically discussed"),
    Choice(value="depends", text="Depends on an input the case leaves unknown"),
]
SCALE_WORDS: dict[int, str] = {
    -2: "much less likely to be commonly discussed",
    -1: "less likely to be commonly discussed",
    0: "neither more nor less likely to be commonly discussed",
    1: "more likely to be commonly discussed",
    2: "much more likely to be commonly discussed",
}
CONCORDANCE_CHOICES = [Choice(value=v, text=f"{v:+d}: {w}" if v else f"0: {w}") for v, w in SCALE_WORDS.items()]
# Scale positions for the concordance key: to or from "depends" is half a move.
LEVEL: dict[KeyStatus, int] = {"not_discussed": 0, "depends": 1, "discussed": 2}
FIELD_ORDER = {name: i for i, name in enumerate(Case.model_fields)}


# Inputs whose name alone reads badly in a sentence.
FIELD_WORDS = {"largest_lesion_cm": "largest lesion (cm)", "performance_status": "ECOG performance status"}


def field_words(field: str) -> str:
    return FIELD_WORDS.get(field, field.replace("_", " "))


def value_words(value: Any) -> str:
    if value is None:
        return "unknown (not given)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(v.replace("_", " ") for v in value) if value else "none"
    if isinstance(value, str):
        return value.replace("_", " ")
    return shown(value)


def fact_text(field: str, value: Any) -> str:
    return f"{field_words(field)}: {value_words(value)}"


def change_text(field: str, before: Any, after: Any) -> str:
    return f"{field_words(field)} is {value_words(after)} (instead of {value_words(before)})"


def describe_case(case: Case) -> list[str]:
    """Every input of the case, unknown ones said to be unknown, in contract order."""
    return [fact_text(name, getattr(case, name)) for name in Case.model_fields]


def slug(value: Any) -> str:
    """A value as a piece of an id: stable, lower case, no dots or spaces."""
    text = "none" if value == [] else "+".join(value) if isinstance(value, list) else shown(value).lower()
    return re.sub(r"[^a-z0-9_+-]", "_", text)


def concordance_key(before: KeyStatus, after: KeyStatus) -> int:
    return LEVEL[after] - LEVEL[before]

"""The values each case input can take, read from the Case model, and how a value reads in a sentence."""

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from schemas.case import NUMERIC_FIELDS, Case, value_words


def _values_of(annotation: Any) -> list[Any]:
    """Every value a categorical or boolean input (or a list's items) can take, in contract order."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _values_of(get_args(annotation)[0])
    if origin is Literal:
        return list(get_args(annotation))
    if annotation is bool:
        return [True, False]
    if origin in (Union, UnionType):
        return [v for arg in get_args(annotation) if arg is not type(None) for v in _values_of(arg)]
    if origin is list:
        return _values_of(get_args(annotation)[0])
    return []


def choices(field: str) -> list[Any]:
    return _values_of(Case.model_fields[field].annotation)


def shown(value: Any) -> str:
    """A value in a sentence: in words, never an id (`uveal melanoma`, `yes`, `none`)."""
    return value_words(value)


def bounds(field: str) -> tuple[Any, Any]:
    """The lowest and highest value the contract allows for a numeric input."""
    metadata = Case.model_fields[field].metadata
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    return low, high


def is_whole_number(field: str) -> bool:
    return Case.model_fields[field].annotation is int


# The step of a numeric input in what-if: one for counts and scores, a millimetre for sizes in cm.
NUMERIC_STEP: dict[str, float] = {f: 1 if is_whole_number(f) else 0.1 for f in sorted(NUMERIC_FIELDS)}

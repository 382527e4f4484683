"""The values each case input can take, read from the Case model, and how a value reads in a sentence."""

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from schemas.case import Case


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
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]" if value else "[] (none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

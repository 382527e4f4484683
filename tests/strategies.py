"""Hypothesis strategies for valid cases, read from the Case model: every input (a new one is covered
as soon as it is in the model), every value, numbers near the rulebook's thresholds, and unknowns."""

from typing import Any

from hypothesis import strategies as st
from pydantic.fields import FieldInfo

from app.core.inputs import bounds, choices, is_whole_number
from schemas.case import LIST_FIELDS, NUMERIC_FIELDS, Case


def _numeric(name: str, info: FieldInfo) -> st.SearchStrategy[Any]:
    low, high = bounds(name)
    if is_whole_number(name):
        return st.integers(low, high)
    near = [v for v in (low, 0.1, 2.9, 3.0, 3.1, high) if low <= v <= high]  # 3 cm: small_lesion_below_cm
    return st.one_of(
        st.sampled_from(near), st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    )


def _strategy(name: str, info: FieldInfo) -> st.SearchStrategy[Any]:
    if name in NUMERIC_FIELDS:
        return _numeric(name, info)
    if name in LIST_FIELDS:
        return st.lists(st.sampled_from(choices(name)), unique=True)
    return st.sampled_from(choices(name))


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


case_dicts: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {name: _strategy(name, info) for name, info in Case.model_fields.items() if info.is_required()},
    optional={
        name: _optional(_strategy(name, info)) for name, info in Case.model_fields.items() if not info.is_required()
    },
)

cases = case_dicts.map(Case.model_validate)

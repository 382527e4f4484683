"""Hypothesis strategies for valid cases, covering every input value and unknowns."""

from typing import Any, get_args

from hypothesis import strategies as st

from schemas import case as c


def _choice(literal: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(get_args(literal))


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


case_dicts: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
    {
        "primary_site": _choice(c.PrimarySite),
        "lesion_count": st.integers(1, 100),
        "largest_lesion_cm": st.one_of(
            st.sampled_from([0.1, 2.9, 3.0, 3.1, 30.0]),
            st.floats(min_value=0.01, max_value=30, allow_nan=False, allow_infinity=False),
        ),
        "extrahepatic_disease": _choice(c.ExtrahepaticDisease),
        "liver_function": _choice(c.LiverFunction),
        "performance_status": st.integers(0, 4),
    },
    optional={
        "symptomatic": _optional(st.booleans()),
        "lobar_distribution": _optional(_choice(c.LobarDistribution)),
        "primary_tumour_status": _optional(_choice(c.PrimaryTumourStatus)),
        "prior_treatments": _optional(st.lists(_choice(c.PriorTreatment), unique=True)),
        "kras_status": _optional(_choice(c.KrasStatus)),
        "hormone_receptor_status": _optional(_choice(c.HormoneReceptorStatus)),
        "declines_surgery": _optional(st.booleans()),
    },
)

cases = case_dicts.map(c.Case.model_validate)

"""The explanation's bytes written from fragments (app/core/answer_json.py) are exactly what the
response model serialises to, so no template or cached fragment can drift from the model."""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from app.core.answer_json import Template
from app.core.service import ExplainerService
from app.settings import Settings
from app.startup import build_service
from bench.cases import generate
from schemas.case import Case
from schemas.explanation import Arguments, Explanation
from tests.strategies import cases

_model_json = Explanation.__pydantic_serializer__.to_json


@pytest.fixture(scope="module")
def service(seeds: Path) -> ExplainerService:
    return build_service(Settings(seeds_dir=seeds))


def _check(service: ExplainerService, case: Case) -> None:
    written = service.explain_json(case)
    assert written == _model_json(service.explain(case)), f"fragments and model differ for {case!r}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_written_answer_equals_the_model_serialisation(case: Case, service: ExplainerService) -> None:
    _check(service, case)


@pytest.mark.slow
def test_written_answer_equals_the_model_on_the_bench_traffic(service: ExplainerService) -> None:
    # The bench's own generator over the whole input space, thresholds included: thousands of
    # distinct cases, so the plan and statement caches are filled, evicted and reused as in use.
    for raw in generate(4000, seed=20261204):
        _check(service, Case.model_validate(raw))


def test_a_statement_cached_for_one_case_is_not_reused_for_other_values(service: ExplainerService) -> None:
    # Two cases with the same fired rules but a different lesion size: the statements quote each
    # case's own value.
    base = {
        "primary_site": "colorectal",
        "lesion_count": 2,
        "extrahepatic_disease": "none",
        "liver_function": "normal",
        "performance_status": 0,
    }
    small = Case.model_validate({**base, "largest_lesion_cm": 2.1})
    smaller = Case.model_validate({**base, "largest_lesion_cm": 2.2})
    assert service.explain_json(small) != service.explain_json(smaller)
    _check(service, small)
    _check(service, smaller)


def test_template_refuses_a_placeholder_it_cannot_find_once() -> None:
    # A fixed value that happens to contain the placeholder text would make the split ambiguous.
    with pytest.raises(ValueError, match="placeholder for against"):
        Template(Arguments, in_favour="\x00against\x00")

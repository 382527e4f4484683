"""Clinical invariants of the rulebook, as properties over generated cases through the engine: what a
liver surgeon and a teacher would call a backwards lesson must never appear, whatever the case."""

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.depends import DependencyFinder, field_rulebooks, status_rulebook
from app.core.evaluation import Evaluate
from app.core.explain import Explainer
from app.engine import RulesEngine
from app.rulebook import Rulebook
from schemas.case import Case
from schemas.explanation import DiscussedCategory, Explanation, NotDiscussedCategory, Statement, Status
from tests.strategies import case_dicts

OPERATIONS = ("surgical_resection", "hepatic_arterial_infusion", "liver_transplantation")
PATIENT_FACTS = {"no_operation_for_patient", "operation_high_risk", "operation_declined"}
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def explanation(book: Rulebook, engine: RulesEngine, explainer: Explainer, case: Case) -> Explanation:
    evaluation = engine.evaluate(case.known_facts())
    depends = DependencyFinder(book, explainer, engine.evaluate).find(case, evaluation)
    return explainer.explain(case, evaluation, depends)


def shown(body: Explanation) -> list[tuple[str, Statement]]:
    """Every statement the explanation shows, with the category whose card shows it."""
    out: list[tuple[str, Statement]] = []
    for d in body.discussed:
        for s in (*d.rationale, *d.caveats, *d.variants, *d.arguments.in_favour, *d.arguments.against):
            out.append((d.category, s))
    for n in body.not_discussed:
        for s in (*n.reasons, *n.arguments.in_favour, *n.arguments.against):
            out.append((n.category, s))
    return out


def statuses(explainer: Explainer, engine: RulesEngine, case: dict[str, Any]) -> dict[str, Status]:
    return dict(explainer.partition(engine.evaluate(Case.model_validate(case).known_facts()).fired))


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts, worse=st.integers(1, 4))
def test_worsening_fitness_alone_never_turns_an_operation_toward_discussed(
    case: dict[str, Any], worse: int, engine: RulesEngine, explainer: Explainer
) -> None:
    fitter = statuses(explainer, engine, case)
    frailer = statuses(explainer, engine, {**case, "performance_status": min(4, case["performance_status"] + worse)})
    for category in OPERATIONS:
        assert not (fitter[category] == "not_discussed" and frailer[category] == "discussed"), (category, case)


@pytest.mark.slow
@PROPERTY
@given(
    case=case_dicts,
    fitness=st.sampled_from([0, 1]),
    declines=st.sampled_from([False, None]),
)
def test_fit_unresectable_liver_only_colorectal_has_hai_sirt_and_transplantation_with_caveats(
    case: dict[str, Any], fitness: int, declines: bool | None, book: Rulebook, engine: RulesEngine, explainer: Explainer
) -> None:
    case = {
        **case,
        "primary_site": "colorectal",
        "technical_resectability": "unresectable",
        "extrahepatic_disease": "none",
        "liver_function": "normal",
        "performance_status": fitness,
        "declines_surgery": declines,
    }
    body = explanation(book, engine, explainer, Case.model_validate(case))
    discussed = {d.category: d for d in body.discussed}
    for category in ("hepatic_arterial_infusion", "sirt", "liver_transplantation"):
        assert category in discussed, (category, case)
        assert discussed[category].caveats, f"{category} without its caveat beside it"


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_no_statement_rests_on_a_fact_that_sets_a_discussed_category_aside(
    case: dict[str, Any], book: Rulebook, engine: RulesEngine, explainer: Explainer
) -> None:
    """A fact that one category's not_discussed rule rests on (the disease cannot be removed, the patient
    cannot have an operation, ...) is never used anywhere while that category is discussed: no card says
    "a surgeon can't remove" beside a resection that is commonly discussed."""
    sets_aside: dict[str, set[str]] = {}
    for rule in book.rules:
        if rule.spec.effect == "not_discussed" and rule.spec.category:
            for cond in rule.conditions:
                if cond.fact:
                    sets_aside.setdefault(cond.fact, set()).add(rule.spec.category)
    body = explanation(book, engine, explainer, Case.model_validate(case))
    discussed = {d.category for d in body.discussed}
    for where, statement in shown(body):
        for fact in statement.derived_facts:
            contradicted = sets_aside.get(fact, set()) & discussed
            assert not contradicted, f"{where}: {statement.rule} uses {fact} while {contradicted} is discussed"


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts, primary=st.sampled_from(["colorectal", "colorectal", "other"]))
def test_no_reason_contradicts_a_fact_of_the_case(
    case: dict[str, Any], primary: str, book: Rulebook, engine: RulesEngine, explainer: Explainer
) -> None:
    case = {**case, "primary_site": primary, "kras_status": "mutant"}
    body = explanation(book, engine, explainer, Case.model_validate(case))
    for category, statement in shown(body):
        if category == "targeted_therapy" and statement.rule.startswith(("targeted.discussed", "targeted.variant")):
            assert "EGFR" not in statement.because, f"{statement.rule} offers EGFR inhibitors with KRAS mutant"
        if case.get("technical_resectability") != "unresectable":
            assert "not_resectable_technical" not in statement.derived_facts, statement.rule


def test_patient_reasons_never_say_the_metastases_cannot_be_removed(book: Rulebook) -> None:
    """A patient who is unfit or declines is not a patient whose metastases "a surgeon can't remove"."""
    for rule in book.rules:
        if PATIENT_FACTS & {c.fact for c in rule.conditions if c.fact}:
            for cite in rule.spec.cites:
                assert "surgeon can't remove" not in cite.quote, rule.id


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_oncological_fact_is_derived_exactly_when_resection_is_set_aside_for_the_primary_or_spread(
    case: dict[str, Any], engine: RulesEngine
) -> None:
    oncological = {
        "resection.not_discussed.unfavourable_primary",
        "resection.not_discussed.beyond_single_deposit",
        "resection.not_discussed.other_primary_extrahepatic",
        "resection.not_discussed.not_suitable",
    }
    evaluation = engine.evaluate(Case.model_validate(case).known_facts())
    assert ("not_for_resection_oncological" in evaluation.derived) == bool(oncological & evaluation.fired)


FieldEngines = dict[str, tuple[Rulebook, Evaluate]]


@pytest.fixture(scope="module")
def field_engines(book: Rulebook) -> FieldEngines:
    return {name: (sub, RulesEngine(sub).evaluate) for name, sub in field_rulebooks(book).items()}


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_depends_on_evaluates_only_what_can_move_yet_misses_nothing(
    case: dict[str, Any], book: Rulebook, engine: RulesEngine, explainer: Explainer, field_engines: FieldEngines
) -> None:
    # Pruned: only the alternatives that could move a category, each evaluated on the rules its input
    # can reach. Not pruned: every alternative on the whole rulebook. Both must say the same.
    finder = DependencyFinder(book, explainer, engine.evaluate, field_engines)
    validated = Case.model_validate(case)
    evaluation = engine.evaluate(validated.known_facts())
    assert finder.find(validated, evaluation) == finder.find(validated, evaluation, prune=False)


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_depends_on_says_what_knowing_the_input_would_do(
    case: dict[str, Any], book: Rulebook, engine: RulesEngine, explainer: Explainer
) -> None:
    validated = Case.model_validate(case)
    body = explanation(book, engine, explainer, validated)
    cards: list[DiscussedCategory | NotDiscussedCategory] = [*body.discussed, *body.not_discussed]
    for cat in cards:
        now = "discussed" if isinstance(cat, DiscussedCategory) else "not_discussed"
        for dep in cat.depends_on:
            assert getattr(validated, dep.field) is None, "only unknown inputs"
            moved = statuses(explainer, engine, {**validated.known_facts(), dep.field: dep.value})
            assert moved[cat.category] == dep.would_be != now


def test_generated_cases_cover_every_input_of_the_contract() -> None:
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None)
    @given(case=case_dicts)
    def collect(case: dict[str, Any]) -> None:
        seen.update(k for k, v in case.items() if v is not None)

    collect()
    assert seen == set(Case.model_fields)


def test_every_discussed_category_says_whether_the_case_or_the_sources_in_general_put_it_there(
    book: Rulebook, engine: RulesEngine, explainer: Explainer
) -> None:
    case = Case.model_validate({**book.meta.example_base_case})
    body = explanation(book, engine, explainer, case)
    for cat in body.discussed:
        rules = [book.rule(s.rule) for s in cat.rationale]
        assert cat.basis == ("case" if any(r.conditions for r in rules) else "general"), cat.category
    always = {r.spec.category for r in book.rules if r.spec.effect == "discussed" and not r.conditions}
    assert {c.category for c in body.discussed if c.basis == "general"} <= always


@pytest.fixture(scope="module")
def status_engine(book: Rulebook) -> RulesEngine:
    return RulesEngine(status_rulebook(book))


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_the_status_engine_behind_depends_on_partitions_every_case_like_the_whole_rulebook(
    case: dict[str, Any], engine: RulesEngine, status_engine: RulesEngine, explainer: Explainer
) -> None:
    facts = Case.model_validate(case).known_facts()
    assert explainer.partition(status_engine.evaluate(facts).fired) == explainer.partition(engine.evaluate(facts).fired)


@pytest.mark.slow
@PROPERTY
@given(case=case_dicts)
def test_more_disease_outside_the_liver_never_brings_in_a_liver_directed_option(
    case: dict[str, Any], engine: RulesEngine, explainer: Explainer
) -> None:
    liver_directed = (*OPERATIONS, "ablation", "tace", "sirt", "external_radiotherapy")
    spread = [
        statuses(explainer, engine, {**case, "extrahepatic_disease": e}) for e in ("none", "limited", "extensive")
    ]
    for less, more in itertools.pairwise(spread):
        for category in liver_directed:
            assert not (less[category] == "not_discussed" and more[category] == "discussed"), (category, case)

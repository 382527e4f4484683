"""Key agreement, the property the exercises stand on: every item's key, for the vignette library, the test
fixtures and seeded variants of every vignette, equals what the engine says for that item's case, read here
straight from the explanation; every change item's reveal equals engine(before) against engine(after)."""

from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.exercises.service import Exercises
from schemas.case import Case
from schemas.exercise import MAX_SEED, Exercise, Item
from schemas.explanation import Explanation
from tests.exercise_support import every_exercises, fixture_exercises, service

# The concordance scale, written out independently of app/exercises/text.py.
MOVE = {
    ("not_discussed", "discussed"): 2,
    ("discussed", "not_discussed"): -2,
    ("not_discussed", "depends"): 1,
    ("depends", "discussed"): 1,
    ("discussed", "depends"): -1,
    ("depends", "not_discussed"): -1,
}


@cache
def _explain(case_json: str) -> Explanation:
    return service().explain(Case.model_validate_json(case_json), what_if=True)


def explain(case: Case) -> Explanation:
    return _explain(case.model_dump_json())


def engine_says(case: Case, category: str) -> dict[str, Any]:
    e = explain(case)
    for d in e.discussed:
        if d.category == category:
            return {"status": "discussed", "key": "depends" if d.depends_on else "discussed", "basis": d.basis}
    n = next(n for n in e.not_discussed if n.category == category)
    return {"status": "not_discussed", "key": "depends" if n.depends_on else "not_discussed", "basis": None}


def why_not_trace(case: Case, category: str) -> set[str]:
    """The inputs of the why-not reasons, through derived facts; if none, the one input the what-if moves it
    by (several such inputs: no fact is *the* one behind it, and the trace is empty)."""
    e = explain(case)
    reasons = next(n for n in e.not_discussed if n.category == category).reasons
    derived = {d.fact: d.derived_by for d in e.derived_facts}
    fields: set[str] = set()
    todo = list(reasons)
    while todo:
        s = todo.pop()
        fields |= {i.field for i in s.inputs}
        todo += [d for f in s.derived_facts for d in derived.get(f, [])]
    if fields:
        return fields
    moved = moved_by(case, category)
    return moved if len(moved) == 1 else set()


def moved_by(case: Case, category: str) -> set[str]:
    what_if = explain(case).what_if
    assert what_if is not None
    return {c.field for c in what_if.changes if c.category == category}


def check_item(exercise: Exercise, item: Item) -> None:
    assert item.key is not None and item.category, item.id
    assert item.id.startswith(f"{exercise.id}.{item.type}."), item.id
    assert item.exercise == exercise.id
    if item.type == "status":
        said = engine_says(exercise.case, item.category)
        assert (item.key.status, item.key.basis) == (said["key"], said["basis"]), item.id
    elif item.type in ("change", "concordance"):
        assert item.change is not None and item.case_after is not None
        before, after = exercise.case.model_dump(), item.case_after.model_dump()
        assert {f for f in before if before[f] != after[f]} == {item.change.field}, item.id
        assert after[item.change.field] == item.change.after and before[item.change.field] == item.change.before
        was, now = engine_says(exercise.case, item.category)["key"], engine_says(item.case_after, item.category)["key"]
        assert (item.before, item.after, item.key.status) == (was, now, now), item.id
        if item.type == "concordance":
            assert item.key.value == MOVE.get((was, now), 0), item.id
            assert item.note and "not a validated script concordance test" in item.note
    else:
        said = engine_says(exercise.case, item.category)
        # A why-not item asks for the fact behind a plain "not typically discussed", never a "depends".
        assert said["key"] == "not_discussed" == item.key.status, item.id
        options = [c.value for c in item.choices]
        assert item.key.option in options and len(options) >= 2, item.id
        assert item.key.option in why_not_trace(exercise.case, item.category), item.id
        for wrong in (o for o in options if o != item.key.option):
            assert isinstance(wrong, str)
            assert wrong not in why_not_trace(exercise.case, item.category) | moved_by(exercise.case, item.category)
            assert getattr(exercise.case, wrong) is not None, "a distractor is a fact the case gives"


def check_exercise(exercise: Exercise) -> None:
    assert exercise.items, exercise.id
    assert len({i.id for i in exercise.items}) == len(exercise.items), "item ids are unique"
    for item in exercise.items:
        check_item(exercise, item)


def test_every_item_key_of_every_vignette_equals_the_engine() -> None:
    count = 0
    for ex in every_exercises():
        for vid in ex.library.vignettes:
            check_exercise(ex.built(vid).exercise)
            count += 1
    assert count > 0


def test_every_category_has_a_status_item_and_every_change_item_has_its_concordance_twin() -> None:
    for ex in every_exercises():
        for vid in ex.library.vignettes:
            items = ex.built(vid).exercise.items
            assert {i.category for i in items if i.type == "status"} == {c.id for c in service().book.categories}
            changes = {i.id.replace(".change.", ".", 1) for i in items if i.type == "change"}
            assert changes == {i.id.replace(".concordance.", ".", 1) for i in items if i.type == "concordance"}


def test_why_not_items_ask_only_where_one_fact_is_behind_a_plain_not_discussed() -> None:
    """A why-not item exists only for a category keyed "not typically discussed" (never "depends"), and only
    when its reasons name inputs or the what-if moves it by exactly one field; where there is such a fact,
    the item is there (it has distractors: the cases of the library give enough facts)."""
    for ex in every_exercises():
        for vid in ex.library.vignettes:
            for exercise in [ex.built(vid).exercise] + [v.exercise for v in ex.variants(vid, 7, 2)]:
                asked = {i.category for i in exercise.items if i.type == "why_not"}
                e = explain(exercise.case)
                expected = {
                    n.category for n in e.not_discussed if not n.depends_on and why_not_trace(exercise.case, n.category)
                }
                assert asked == expected, exercise.id


def _variants_hold(ex: Exercises, seed: int) -> None:
    for vid in ex.library.vignettes:
        parent = ex.built(vid)
        variants = ex.variants(vid, seed, 2)
        assert [v.exercise.id for v in variants] == [v.exercise.id for v in ex.variants(vid, seed, 2)], "same seed"
        keys = [ex.key_of(parent.exercise.case)] + [ex.key_of(v.exercise.case) for v in variants]
        assert len(set(keys)) == len(keys), f"{vid}: a variant keyed like its parent or another variant"
        for v in variants:
            variant = v.exercise
            assert variant.parent == vid and 1 <= len(variant.changes) <= 2
            before, after = parent.exercise.case.model_dump(), variant.case.model_dump()
            assert {f for f in before if before[f] != after[f]} == {c.field for c in variant.changes}
            check_exercise(variant)
            for item in variant.items:
                assert item.parent in set(parent.keyed) | {vid}, item.id
            status_parents = {i.parent for i in variant.items if i.type == "status"}
            assert status_parents == {i.id for i in parent.exercise.items if i.type == "status"}


def test_seeded_variants_of_the_fixtures_are_keyed_by_the_engine() -> None:
    _variants_hold(fixture_exercises(), 7)


@pytest.mark.slow
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, MAX_SEED))
def test_seeded_variants_of_every_vignette_are_keyed_by_the_engine(seed: int) -> None:
    for ex in every_exercises():
        _variants_hold(ex, seed)

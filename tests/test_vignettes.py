"""The vignette library (exercises/vignettes/) against the engine. A vignette's `expect` states what its
author means to teach; the key learners see is computed by the engine, so when a rule change moves a key
away from `expect` this test fails naming the vignette, while the service still starts (start-up never
reads `expect`)."""

import shutil
from pathlib import Path

from app.exercises.service import Exercises, load_exercises
from tests.conftest import seeds_dir
from tests.exercise_support import FIXTURES, fixture_exercises, library_exercises, service


def departures(ex: Exercises) -> list[str]:
    """One line per expected status the engine's key departs from, naming the vignette."""
    out: list[str] = []
    for vid, vignette in ex.library.vignettes.items():
        keys = {i.category: i.key.status for i in ex.built(vid).exercise.items if i.type == "status" and i.key}
        out += [
            f"{vid}: {category} is expected {want}, the engine keys it {keys[category]}"
            for category, want in vignette.expect.items()
            if keys[category] != want
        ]
    return out


def test_the_library_is_there_and_loads() -> None:
    assert library_exercises().library.vignettes, "exercises/vignettes/ holds no vignette"


def test_every_vignette_of_the_library_keys_what_its_author_expects() -> None:
    assert departures(library_exercises()) == []


def test_every_fixture_keys_what_it_expects() -> None:
    assert departures(fixture_exercises()) == []


def test_a_departure_from_expect_names_the_vignette_and_the_service_still_starts(tmp_path: Path) -> None:
    folder = tmp_path / "vignettes"
    shutil.copytree(FIXTURES, folder)
    path = folder / "lung-unfit.yaml"
    path.write_text(path.read_text().replace("surgical_resection: not_discussed", "surgical_resection: discussed"))
    ex = load_exercises(service(), folder, seeds_dir())  # loads: expect is not checked at start-up
    assert departures(ex) == ["lung-unfit: surgical_resection is expected discussed, the engine keys it not_discussed"]


def always_discussed() -> set[str]:
    """Categories the rulebook discusses for every case: an unconditional discussed rule, no not_discussed rule."""
    book = service().book
    out = set()
    for category in book.categories:
        rules = [r for r in book.rules if r.spec.category == category.id]
        if any(r.spec.effect == "discussed" and not r.conditions for r in rules) and not any(
            r.spec.effect == "not_discussed" for r in rules
        ):
            out.add(category.id)
    return out


def test_every_case_specific_category_is_keyed_discussed_somewhere_and_not_discussed_elsewhere() -> None:
    ex = library_exercises()
    seen: dict[str, set[str]] = {}
    for vid in ex.library.vignettes:
        for item in ex.built(vid).exercise.items:
            if item.type == "status" and item.key:
                seen.setdefault(item.category, set()).add(item.key.status)
    missing = {
        category: sorted({"discussed", "not_discussed"} - statuses)
        for category, statuses in seen.items()
        if category not in always_discussed() and not {"discussed", "not_discussed"} <= statuses
    }
    assert missing == {}


def test_a_category_discussed_on_a_general_basis_is_keyed_discussed_and_shown_as_general() -> None:
    ex = library_exercises()
    general = [
        item
        for vid in ex.library.vignettes
        for item in ex.built(vid).exercise.items
        if item.type == "status" and item.key and item.key.basis == "general"
    ]
    assert general
    for item in general:
        assert item.key and item.key.status in ("discussed", "depends"), item.id
        assert item.note and "in general" in item.note

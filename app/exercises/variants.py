"""Seeded variants of a vignette: one or two inputs changed, values near the rulebook's thresholds preferred
(read from the rules' conditions on named parameters, and from the inputs the engine's what-if shows to move
a category). The engine keys each variant; one whose key (every category's status) equals the parent's or an
earlier variant's is dropped. The same seed and vignette always give the same variants."""

import random
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.core.inputs import NUMERIC_STEP, bounds, choices, is_whole_number
from app.exercises.text import change_text, slug
from app.rulebook import Rulebook
from schemas.case import OPTIONAL_FIELDS, Case
from schemas.exercise import FactorChange

ATTEMPTS_PER_VARIANT = 12
NEAR_THRESHOLD_WEIGHT = 4.0  # how much likelier a value next to a threshold is drawn than any other change


@dataclass(frozen=True)
class Candidate:
    field: str
    value: Any
    weight: float


@dataclass(frozen=True)
class Variant:
    id: str
    case: Case
    changes: list[FactorChange]


def thresholds(book: Rulebook) -> dict[str, set[float]]:
    """Per numeric input, the values of the named parameters the rules compare it with."""
    out: dict[str, set[float]] = {}
    for rule in book.rules:
        for cond in rule.conditions:
            if cond.param and cond.field in NUMERIC_STEP and isinstance(cond.value, (int, float)):
                out.setdefault(cond.field, set()).add(cond.value)
    return out


def candidates(case: Case, limits: dict[str, set[float]], moving: set[str]) -> list[Candidate]:
    """Every single-input change worth drawing, each with its weight; `moving`: inputs the what-if moves."""
    out: list[Candidate] = []
    for field in Case.model_fields:
        current = getattr(case, field)
        if field in NUMERIC_STEP:
            step = NUMERIC_STEP[field]
            low, high = bounds(field)
            cast = int if is_whole_number(field) else float
            near = {cast(round(t + d * step, 1)) for t in limits.get(field, ()) for d in (-1, 0, 1)}
            out += [
                Candidate(field, v, NEAR_THRESHOLD_WEIGHT) for v in sorted(near) if low <= v <= high and v != current
            ]
        elif field == "prior_treatments":
            given = current or []
            for item in choices(field):
                changed = [t for t in given if t != item] if item in given else [*given, item]
                out.append(Candidate(field, changed, 1.0))
        else:
            weight = NEAR_THRESHOLD_WEIGHT if field in moving else 1.0
            out += [Candidate(field, v, weight) for v in choices(field) if v != current]
            if field in OPTIONAL_FIELDS and current is not None:
                out.append(Candidate(field, None, 0.5))  # the input becomes unknown
    return out


def draw(parent_id: str, case: Case, pool: list[Candidate], seed: int, count: int, key_of: Any) -> list[Variant]:
    """Up to `count` variants with keys differing from the parent's and each other's. `key_of(case)` is the
    engine's key of a case (a hashable of every category's status)."""
    rng = random.Random(f"{seed}:{parent_id}")  # str seeding is stable across runs and platforms
    seen = {key_of(case)}
    out: list[Variant] = []
    weights = [c.weight for c in pool]
    for _ in range(count * ATTEMPTS_PER_VARIANT):
        if len(out) == count or not pool:
            break
        picked = rng.choices(pool, weights=weights, k=1 if rng.random() < 0.6 else 2)
        if len({c.field for c in picked}) != len(picked):
            continue
        picked.sort(key=lambda c: list(Case.model_fields).index(c.field))
        try:
            changed = Case.model_validate({**case.model_dump(), **{c.field: c.value for c in picked}})
        except ValidationError:
            continue
        key = key_of(changed)
        if key in seen:
            continue
        seen.add(key)
        changes = [
            FactorChange(
                field=c.field,
                before=getattr(case, c.field),
                after=c.value,
                text=change_text(c.field, getattr(case, c.field), c.value),
            )
            for c in picked
        ]
        suffix = "--".join(f"{c.field}-{slug(c.value) if c.value is not None else 'unknown'}" for c in picked)
        out.append(Variant(f"{parent_id}--{suffix}", changed, changes))
    return out

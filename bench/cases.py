"""Realistic benchmark traffic: a seeded generator over the whole input space of `schemas.case.Case`.

Everything is read, not listed: the inputs, which are optional, their values and bounds come from the
Case model (`OPTIONAL_FIELDS`, `NUMERIC_FIELDS`, `LIST_FIELDS`, `app.core.inputs.choices/bounds`), and
the numeric thresholds from the loaded rulebook's rule conditions (named parameters already resolved
into them). A new input or a new threshold is in the traffic as soon as it is in the model or the
rulebook.

One case:
- the primary site is dealt from a freshly shuffled deck of every site for each run of len(sites)
  cases, so every site comes up equally often and the first len(sites) cases cover them all;
- each case has its own completeness q (uniform 0.2-1.0): each optional input is known with
  probability q, otherwise left out (unknown), so sparse and fully described cases both occur;
- a numeric input is, half the time, a value at one of the rulebook's thresholds or one step either
  side of it (or a bound of the contract), otherwise uniform within the contract's bounds;
- a categorical or boolean input is uniform over its values; a list is a random subset of its items
  (in contract order; the empty list, "none", the most common size).
Every case is checked with `Case.model_validate` (an invalid one is drawn again) and the cases are
distinct (canonical JSON). `generate(n, seed)` is deterministic and prefix-stable: the first k cases of
`generate(n, s)` are `generate(k, s)`, so disjoint slices of one call serve the different runs.
"""

import json
import random
import statistics
from collections import Counter
from collections.abc import Iterable
from functools import cache
from typing import Any

from pydantic import ValidationError

from app import reference
from app.core.inputs import NUMERIC_STEP, bounds, choices, is_whole_number
from app.rulebook import Rulebook, load_rulebook
from app.settings import Settings
from schemas.case import LIST_FIELDS, NUMERIC_FIELDS, OPTIONAL_FIELDS, Case

SITE_FIELD = "primary_site"
UNKNOWN_COMPLETENESS = (0.2, 1.0)  # range of the per-case probability that an optional input is known
NEAR_THRESHOLD_SHARE = 0.5  # share of numeric values taken at or next to a threshold (or a bound)
_COMPARISONS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in"})


@cache
def rulebook() -> Rulebook:
    """The rulebook the service loads (quotes unchecked: the generator reads only the conditions)."""
    return load_rulebook(Settings().rules_dir, None)


def _numbers(value: Any) -> list[float]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, int | float) and not isinstance(v, bool)]


def thresholds(book: Rulebook) -> dict[str, list[float]]:
    """Every numeric input with the values the rulebook's conditions compare it with, sorted."""
    found: dict[str, set[float]] = {name: set() for name in sorted(NUMERIC_FIELDS)}
    for rule in book.rules:
        for cond in rule.conditions:
            if cond.field in found and (cond.op or "eq") in _COMPARISONS:
                found[cond.field].update(_numbers(cond.value))
    return {name: sorted(values) for name, values in found.items()}


def _clean(field: str, value: float) -> int | float:
    return round(value) if is_whole_number(field) else round(float(value), 2)


def edge_values(book: Rulebook) -> dict[str, list[int | float]]:
    """Per numeric input: each threshold t as t - step, t and t + step, and the contract's bounds,
    kept within the bounds."""
    edges: dict[str, list[int | float]] = {}
    for field, values in thresholds(book).items():
        low, high = bounds(field)
        step = NUMERIC_STEP[field]
        near = {_clean(field, t + d) for t in values for d in (-step, 0, step)} | {
            _clean(field, low),
            _clean(field, high),
        }
        edges[field] = sorted(v for v in near if low <= v <= high)
    return edges


class _Generator:
    def __init__(self, book: Rulebook) -> None:
        self.edges = edge_values(book)
        self.sites = choices(SITE_FIELD)

    def numeric(self, rng: random.Random, field: str) -> int | float:
        if rng.random() < NEAR_THRESHOLD_SHARE:
            return rng.choice(self.edges[field])
        low, high = bounds(field)
        if is_whole_number(field):
            return rng.randint(int(low), int(high))
        return min(max(round(rng.uniform(low, high), 2), float(low)), float(high))

    def value(self, rng: random.Random, field: str) -> Any:
        if field in NUMERIC_FIELDS:
            return self.numeric(rng, field)
        items = choices(field)
        if field in LIST_FIELDS:
            sizes = range(len(items) + 1)
            size = rng.choices(sizes, weights=[len(items) + 1 - s for s in sizes])[0]
            picked = set(rng.sample(items, size))
            return [item for item in items if item in picked]
        return rng.choice(items)

    def case(self, rng: random.Random, site: Any) -> dict[str, Any]:
        known = rng.uniform(*UNKNOWN_COMPLETENESS)
        case: dict[str, Any] = {}
        for field in Case.model_fields:
            if field == SITE_FIELD:
                case[field] = site
            elif field in OPTIONAL_FIELDS and rng.random() >= known:
                continue  # unknown: left out
            else:
                case[field] = self.value(rng, field)
        return case


def canonical(case: dict[str, Any]) -> str:
    return json.dumps(case, sort_keys=True, separators=(",", ":"))


def generate(n: int, seed: int = 0, book: Rulebook | None = None) -> list[dict[str, Any]]:
    """`n` distinct, valid cases drawn from the whole input space; the same for the same seed."""
    gen = _Generator(book or rulebook())
    rng = random.Random(seed)
    seen: set[str] = set()
    cases: list[dict[str, Any]] = []
    deck: list[Any] = []
    attempts = 0
    while len(cases) < n:
        if not deck:
            deck = rng.sample(gen.sites, len(gen.sites))
        attempts += 1
        if attempts > 100 * n + 1000:
            raise RuntimeError(f"only {len(cases)} distinct valid cases after {attempts} attempts")
        case = gen.case(rng, deck[-1])
        key = canonical(case)
        if key in seen:
            continue
        try:
            Case.model_validate(case)
        except ValidationError:
            continue
        seen.add(key)
        cases.append(case)
        deck.pop()
    return cases


def fired_sets(cases: Iterable[dict[str, Any]], book: Rulebook | None = None) -> list[frozenset[str]]:
    """The rules each case fires, by the pure-Python reference evaluator (cheaper than the engine)."""
    book = book or rulebook()
    return [reference.evaluate(book, Case.model_validate(c).known_facts()).fired for c in cases]


def variety(cases: list[dict[str, Any]], book: Rulebook | None = None) -> str:
    """How varied the traffic is: distinct cases, distinct fired-rule sets, unknowns, cases per site."""
    distinct = len({canonical(c) for c in cases})
    fired = fired_sets(cases, book)
    unknown = [sum(1 for f in OPTIONAL_FIELDS if f not in c) for c in cases]
    sites = Counter(c[SITE_FIELD] for c in cases)
    per_site = ", ".join(f"{site} {count:,}" for site, count in sorted(sites.items()))
    return (
        f"{distinct:,} distinct cases, {len(set(fired)):,} distinct fired-rule sets "
        f"({statistics.mean(len(f) for f in fired):.1f} rules fired a case on average); "
        f"unknown inputs a case: {statistics.mean(unknown):.1f} of {len(OPTIONAL_FIELDS)} on average "
        f"({sum(1 for u in unknown if u == 0):,} cases fully known); per primary site: {per_site}"
    )

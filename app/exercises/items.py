"""The items of one exercise, every key read from the engine's answer for the case, never typed:

- status: per category, discussed / not_discussed / depends (`depends` exactly where the answer gives the
  category a non-empty depends_on; a category discussed on a `general` basis is keyed discussed, basis general);
- change: per single-factor change from the engine's what-if, the categories it moves (and two it does not, as
  controls), keyed by the engine's answer for the changed case (`before` / `after`);
- why_not: per not-discussed category, the case fact behind it, from the why-not trace (the reasons' inputs,
  followed through derived facts; for a reason with no input, the inputs whose change the what-if shows to
  move it), against facts of the case that change nothing for that category;
- concordance: the same changes on a -2..+2 scale, keyed by the move between before and after."""

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from app.core.inputs import NUMERIC_STEP
from app.core.service import ExplainerService
from app.exercises.text import (
    CONCORDANCE_CHOICES,
    FIELD_ORDER,
    KEY_WORDS,
    STATUS_CHOICES,
    change_text,
    concordance_key,
    fact_text,
    slug,
)
from schemas.case import Case
from schemas.exercise import CONCORDANCE_NOTE, Choice, Exercise, FactorChange, Item, ItemKey, KeyStatus
from schemas.explanation import Basis, Citation, Dependency, Explanation, Statement, Status

MAX_CHANGES = 3  # change groups per exercise
CONTROLS = 2  # categories a change does not move, listed beside the ones it does
DISTRACTORS = 3  # why_not: wrong options beside the key


@dataclass(frozen=True)
class CategoryAnswer:
    """One category in the engine's answer for one case: all that a key and its feedback need."""

    category: str
    label: str
    status: Status
    key: KeyStatus
    basis: Basis | None
    reasons: list[Statement]
    depends_on: list[Dependency]
    citations: list[Citation]


def read_answer(explanation: Explanation) -> dict[str, CategoryAnswer]:
    out: dict[str, CategoryAnswer] = {}
    for d in explanation.discussed:
        key: KeyStatus = "depends" if d.depends_on else "discussed"
        out[d.category] = CategoryAnswer(
            d.category, d.label, "discussed", key, d.basis, d.rationale, d.depends_on, d.citations
        )
    for n in explanation.not_discussed:
        key = "depends" if n.depends_on else "not_discussed"
        cites = _unique(c for s in n.reasons for c in s.citations)
        out[n.category] = CategoryAnswer(
            n.category, n.label, "not_discussed", key, None, n.reasons, n.depends_on, cites
        )
    return out


def _unique(cites: Iterable[Citation]) -> list[Citation]:
    seen: dict[tuple[str, str], Citation] = {}
    for c in cites:
        seen.setdefault((c.source, c.quote), c)
    return list(seen.values())


@dataclass(frozen=True)
class Keyed:
    """An item with what scoring and feedback need: the answer for the keyed case, and before a change."""

    item: Item
    answer: CategoryAnswer
    before: CategoryAnswer | None = None


@dataclass(frozen=True)
class Built:
    exercise: Exercise  # items with their keys
    keyed: dict[str, Keyed]  # by item id


@dataclass(frozen=True)
class _Change:
    field: str
    value: Any
    categories: frozenset[str]


def _rotate(items: list[str], seed_text: str) -> list[str]:
    """A stable, id-dependent order, so the same exercise always gets the same controls and distractors."""
    if not items:
        return items
    shift = zlib.crc32(seed_text.encode()) % len(items)
    return items[shift:] + items[:shift]


class ItemBuilder:
    def __init__(self, svc: ExplainerService) -> None:
        self.svc = svc
        self.order = [c.id for c in svc.book.categories]

    def build(self, exercise: Exercise, parent_ids: frozenset[str] | None = None) -> Built:
        """`exercise` without items; `parent_ids`: for a variant, the item ids of its parent vignette."""
        explanation = self.svc.explain(exercise.case, what_if=True)
        now = read_answer(explanation)
        keyed: list[Keyed] = []
        keyed += self._status_items(exercise.id, now)
        for change in self._changes(explanation):
            keyed += self._change_items(exercise.id, exercise.case, now, change)
        keyed += self._why_not_items(exercise.id, exercise.case, explanation, now)
        if exercise.parent is not None:
            keyed = [self._with_parent(k, exercise.id, exercise.parent, parent_ids or frozenset()) for k in keyed]
        done = exercise.model_copy(update={"items": [k.item for k in keyed]})
        return Built(done, {k.item.id: k for k in keyed})

    @staticmethod
    def _with_parent(k: Keyed, own: str, parent: str, parent_ids: frozenset[str]) -> Keyed:
        same = parent + k.item.id[len(own) :]
        item = k.item.model_copy(update={"parent": same if same in parent_ids else parent})
        return Keyed(item, k.answer, k.before)

    def _status_items(self, eid: str, now: dict[str, CategoryAnswer]) -> list[Keyed]:
        out = []
        for cat in self.order:
            a = now[cat]
            general = " (the sources list it for liver metastases in general)" if a.basis == "general" else ""
            item = Item(
                id=f"{eid}.status.{cat}",
                type="status",
                exercise=eid,
                category=cat,
                label=a.label,
                prompt=f"For this case, how do the sources describe {a.label}?",
                choices=STATUS_CHOICES,
                key=ItemKey(status=a.key, basis=a.basis),
                note=f"Keyed {KEY_WORDS[a.key]}{general}." if a.basis == "general" else None,
            )
            out.append(Keyed(item, a))
        return out

    def _changes(self, explanation: Explanation) -> list[_Change]:
        """Up to MAX_CHANGES what-if changes on different inputs: near a threshold (numbers) first, then
        those moving the most categories."""
        grouped: dict[tuple[str, str], _Change] = {}
        for c in explanation.what_if.changes if explanation.what_if else []:
            k = (c.field, slug(c.new_value))
            old = grouped.get(k)
            grouped[k] = _Change(c.field, c.new_value, (old.categories if old else frozenset()) | {c.category})
        ranked = sorted(
            grouped.values(),
            key=lambda g: (g.field not in NUMERIC_STEP, -len(g.categories), FIELD_ORDER[g.field], slug(g.value)),
        )
        chosen: list[_Change] = []
        for g in ranked:
            if g.field not in {c.field for c in chosen} and len(chosen) < MAX_CHANGES:
                chosen.append(g)
        return chosen

    def _change_items(self, eid: str, case: Case, now: dict[str, CategoryAnswer], change: _Change) -> list[Keyed]:
        case_after = Case.model_validate({**case.model_dump(), change.field: change.value})
        after = read_answer(self.svc.explain(case_after))
        moved = [c for c in self.order if now[c].key != after[c].key]
        if not moved:
            return []
        group = f"{change.field}-{slug(change.value)}"
        others = [c for c in self.order if c not in moved and now[c].basis != "general"]
        listed = set(moved) | set(_rotate(others, f"{eid}.{group}")[:CONTROLS])
        factor = FactorChange(
            field=change.field,
            before=getattr(case, change.field),
            after=change.value,
            text=change_text(change.field, getattr(case, change.field), change.value),
        )
        out: list[Keyed] = []
        for cat in (c for c in self.order if c in listed):
            b, a = now[cat], after[cat]
            common: dict[str, Any] = {
                "exercise": eid,
                "category": cat,
                "label": a.label,
                "group": f"{eid}.{group}",
                "change": factor,
                "before": b.key,
                "after": a.key,
                "case_after": case_after,
            }
            change_item = Item(
                id=f"{eid}.change.{group}.{cat}",
                type="change",
                prompt=f"Suppose {factor.text}. How would the sources then describe {a.label}?",
                choices=STATUS_CHOICES,
                key=ItemKey(status=a.key, basis=a.basis),
                **common,
            )
            value = concordance_key(b.key, a.key)
            concordance = Item(
                id=f"{eid}.concordance.{group}.{cat}",
                type="concordance",
                prompt=f"Considering {a.label} for this case, you learn that {factor.text}. {a.label} becomes:",
                choices=CONCORDANCE_CHOICES,
                key=ItemKey(status=a.key, basis=a.basis, value=value),
                note=CONCORDANCE_NOTE,
                **common,
            )
            out += [Keyed(change_item, a, b), Keyed(concordance, a, b)]
        return out

    def _why_not_items(
        self, eid: str, case: Case, explanation: Explanation, now: dict[str, CategoryAnswer]
    ) -> list[Keyed]:
        derived = {d.fact: d.derived_by for d in explanation.derived_facts}
        moving: dict[str, list[str]] = {}
        for c in explanation.what_if.changes if explanation.what_if else []:
            moving.setdefault(c.category, []).append(c.field)
        out: list[Keyed] = []
        for cat in self.order:
            a = now[cat]
            # Only a plain "not typically discussed" has a fact behind it; a category that depends on
            # unknown inputs is keyed "depends", and the question would have no single answer.
            if a.key != "not_discussed":
                continue
            moved = _ordered(moving.get(cat, []))
            # Without inputs in the reasons, the fact behind it is the field the what-if moves it by,
            # but only when there is exactly one such field: with several, none is *the* fact.
            trace = _trace_fields(a.reasons, derived) or (moved if len(moved) == 1 else [])
            if not trace:
                continue
            excluded = set(trace) | set(moving.get(cat, []))
            others = [f for f in Case.model_fields if f not in excluded and getattr(case, f) is not None]
            wrong = _rotate(others, f"{eid}.why_not.{cat}")[:DISTRACTORS]
            if not wrong:
                continue
            options = sorted([trace[0], *wrong], key=FIELD_ORDER.__getitem__)
            item = Item(
                id=f"{eid}.why_not.{cat}",
                type="why_not",
                exercise=eid,
                category=cat,
                label=a.label,
                prompt=f"{a.label} is not typically discussed for this case. Which fact of the case is behind that?",
                choices=[Choice(value=f, text=fact_text(f, getattr(case, f))) for f in options],
                key=ItemKey(status=a.key, option=trace[0]),
            )
            out.append(Keyed(item, a))
        return out


def _ordered(fields: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(fields))


def _trace_fields(reasons: list[Statement], derived: dict[str, list[Statement]]) -> list[str]:
    """The inputs the why-not reasons test, followed through the derived facts they use, in order."""
    fields: list[str] = []
    seen_facts: set[str] = set()
    todo = list(reasons)
    while todo:
        statement = todo.pop(0)
        fields += [i.field for i in statement.inputs]
        for fact in statement.derived_facts:
            if fact not in seen_facts:
                seen_facts.add(fact)
                todo += derived.get(fact, [])
    return _ordered(fields)

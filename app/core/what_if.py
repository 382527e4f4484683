"""What-if: the single-input changes that move a category between the two lists, and what
knowing each unknown input would change. Found by re-evaluating changed cases with the same
evaluator as the explanation, never hand-written."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.core.evaluation import Evaluate, Evaluation
from app.core.explain import STATUS_WORDS, Explainer
from app.core.inputs import NUMERIC_STEP, bounds, is_whole_number
from app.core.inputs import choices as _choices
from app.core.inputs import shown as _shown
from app.rulebook import Rulebook
from schemas.case import OPTIONAL_FIELDS, Case, field_label
from schemas.explanation import CategoryMove, RuleChange, Status, UnknownInputEffect, WhatIf, WhatIfChange


@dataclass(frozen=True)
class _Candidate:
    field: str
    value: Any
    phrase: str


class WhatIfAnalyser:
    def __init__(self, book: Rulebook, explainer: Explainer, evaluate: Evaluate) -> None:
        self.explainer = explainer
        self.evaluate = evaluate
        self._categories = {c.id: c for c in book.categories}
        self._book = book
        self._thresholds: dict[str, set[float]] = {}
        for rule in book.rules:
            for cond in rule.conditions:
                if cond.field in NUMERIC_STEP and isinstance(cond.value, (int, float)):
                    self._thresholds.setdefault(cond.field, set()).add(cond.value)

    def _numeric_candidates(self, field: str, current: float) -> list[Any]:
        step = NUMERIC_STEP[field]
        values = {round(v + d, 1) for v in self._thresholds.get(field, ()) for d in (-step, 0, step)}
        low, high = bounds(field)
        if is_whole_number(field) and high - low <= 10:  # a short scale (ECOG): every value of it
            values |= set(range(low, high + 1))
        cast = int if is_whole_number(field) else float
        return sorted({cast(v) for v in values if v != current})

    def _candidates(self, case: Case) -> list[_Candidate]:
        out: list[_Candidate] = []
        for field in Case.model_fields:
            current = getattr(case, field)
            if field in OPTIONAL_FIELDS and current is None:
                continue  # unknown inputs are reported separately
            if field in NUMERIC_STEP:
                values = self._numeric_candidates(field, current)
                out += [
                    _Candidate(field, v, f"{field_label(field)} were {_shown(v)} (now {_shown(current)})")
                    for v in values
                ]
            elif field == "prior_treatments":
                for item in _choices("prior_treatments"):
                    if item in current:
                        out.append(
                            _Candidate(
                                field,
                                [t for t in current if t != item],
                                f"{field_label(field)} did not include {_shown(item)}",
                            )
                        )
                    else:
                        out.append(
                            _Candidate(field, [*current, item], f"{field_label(field)} also included {_shown(item)}")
                        )
            else:
                out += [
                    _Candidate(field, v, f"{field_label(field)} were {_shown(v)} (now {_shown(current)})")
                    for v in _choices(field)
                    if v != current
                ]
        return out

    def _changed(self, case: Case, field: str, value: Any) -> tuple[Case, Evaluation] | None:
        try:
            changed = Case.model_validate({**case.model_dump(), field: value})
        except ValidationError:
            return None
        return changed, self.evaluate(changed.known_facts())

    def analyse(self, case: Case, evaluation: Evaluation) -> WhatIf:
        now = self.explainer.partition(evaluation.fired)
        changes: list[WhatIfChange] = []
        for cand in self._candidates(case):
            result = self._changed(case, cand.field, cand.value)
            if result is None:
                continue
            changed, changed_eval = result
            for category, status in self.explainer.partition(changed_eval.fired).items():
                if status == now[category]:
                    continue
                label = self.explainer.labels[category]
                changes.append(
                    WhatIfChange(
                        category=category,
                        label=label,
                        field=cand.field,
                        current_value=getattr(case, cand.field),
                        new_value=cand.value,
                        now=now[category],
                        would_be=status,
                        statement=f"{label} would be {STATUS_WORDS[status]} if {cand.phrase}.",
                        because=self.explainer.deciding(self._categories[category], changed, changed_eval.fired),
                    )
                )
        order = {c: i for i, c in enumerate(self._categories)}
        changes = _nearest_numeric_only(changes)
        changes.sort(key=lambda c: order[c.category])  # stable: field and value order kept within a category
        return WhatIf(changes=changes, unknown_inputs=self._unknowns(case, evaluation, now))

    def _unknowns(self, case: Case, evaluation: Evaluation, now: Mapping[str, Status]) -> list[UnknownInputEffect]:
        out: list[UnknownInputEffect] = []
        for field in case.unknown_inputs():
            values: list[Any] = (
                [[], *([t] for t in _choices("prior_treatments"))] if field == "prior_treatments" else _choices(field)
            )
            for value in values:
                result = self._changed(case, field, value)
                if result is None:
                    continue
                _, changed_eval = result
                moves = [
                    CategoryMove(category=c, label=self.explainer.labels[c], now=now[c], would_be=s)
                    for c, s in self.explainer.partition(changed_eval.fired).items()
                    if s != now[c]
                ]
                out.append(
                    UnknownInputEffect(
                        field=field,
                        value=value,
                        changes=moves,
                        rules_added=self._rule_changes(changed_eval.fired - evaluation.fired),
                        rules_removed=self._rule_changes(evaluation.fired - changed_eval.fired),
                    )
                )
        return out

    def _rule_changes(self, rule_ids: frozenset[str]) -> list[RuleChange]:
        rules = [self._book.rule(r) for r in sorted(rule_ids)]
        return [
            RuleChange(
                rule=r.id,
                effect=r.spec.effect,
                about=r.spec.category or r.spec.investigation or r.spec.derives or "",
                because=r.spec.because.strip(),
            )
            for r in rules
        ]


def _nearest_numeric_only(changes: list[WhatIfChange]) -> list[WhatIfChange]:
    """For a number, the smallest change that moves a category says it all; larger ones repeat it."""
    nearest: dict[tuple[str, str, str], WhatIfChange] = {}
    for change in changes:
        if change.field in NUMERIC_STEP:
            key = (change.category, change.field, change.would_be)
            best = nearest.get(key)
            distance = abs(change.new_value - change.current_value)
            if best is None or distance < abs(best.new_value - best.current_value):
                nearest[key] = change
    return [c for c in changes if c.field not in NUMERIC_STEP or nearest[(c.category, c.field, c.would_be)] is c]

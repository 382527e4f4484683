"""Turns the rules that fired for a case into the explanation: every category exactly once,
in `discussed` or `not_discussed`, each statement with the inputs, derived facts and citations
behind it."""

from app.core.evaluation import Evaluation
from app.rulebook import Rule, Rulebook
from schemas.case import Case
from schemas.explanation import (
    Arguments,
    Citation,
    DerivedFact,
    DiscussedCategory,
    Explanation,
    InputUsed,
    NotDiscussedCategory,
    RulebookStamp,
    Statement,
)
from schemas.rulebook import CategorySpec, CitationSpec


def citations(specs: tuple[CitationSpec, ...] | list[CitationSpec]) -> list[Citation]:
    return [Citation(source=c.source, section=c.section, quote=c.quote) for c in specs]


def _unique(cites: list[Citation]) -> list[Citation]:
    seen: dict[tuple[str, str], Citation] = {}
    for cite in cites:
        seen.setdefault((cite.source, cite.quote), cite)
    return list(seen.values())


class Explainer:
    """Holds the rulebook's indexes so each explanation is a cheap assembly."""

    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self._stamp = RulebookStamp(version=book.meta.version, date=book.meta.date)
        self._disclaimer_citations = citations(book.meta.disclaimer_cites)
        self._by_effect: dict[tuple[str, str], list[Rule]] = {}
        for rule in book.rules:
            key = (rule.spec.category or "", rule.spec.effect)
            self._by_effect.setdefault(key, []).append(rule)
        self._derive_rules = [r for r in book.rules if r.spec.derives]

    def statement(self, rule: Rule, case: Case) -> Statement:
        inputs = [
            InputUsed(field=c.field, value=getattr(case, c.field), condition=c.text())
            for c in rule.conditions
            if c.field is not None
        ]
        return Statement(
            rule=rule.id,
            because=rule.spec.because.strip(),
            inputs=inputs,
            derived_facts=[c.fact for c in rule.conditions if c.fact is not None],
            citations=citations(rule.spec.cites),
        )

    def _fired(self, category: str, effect: str, fired: frozenset[str]) -> list[Rule]:
        return [r for r in self._by_effect.get((category, effect), []) if r.id in fired]

    def _otherwise(self, category: CategorySpec) -> Statement:
        return Statement(
            rule=f"{category.id}.otherwise",
            because=category.otherwise.because.strip(),
            inputs=[],
            derived_facts=[],
            citations=citations(category.otherwise.cites),
        )

    def explain(self, case: Case, evaluation: Evaluation) -> Explanation:
        fired = evaluation.fired
        discussed: list[DiscussedCategory] = []
        not_discussed: list[NotDiscussedCategory] = []
        for cat in self.book.categories:
            against = self._fired(cat.id, "not_discussed", fired)
            for_it = self._fired(cat.id, "discussed", fired)
            if for_it and not against:
                rationale = [self.statement(r, case) for r in for_it]
                caveats = [self.statement(r, case) for r in self._fired(cat.id, "caveat", fired)]
                all_cites = [c for s in (*rationale, *caveats) for c in s.citations]
                discussed.append(
                    DiscussedCategory(
                        category=cat.id,
                        label=cat.label,
                        summary=f"{cat.label}: commonly discussed in the sources for a case like this.",
                        rationale=rationale,
                        caveats=caveats,
                        variants=[],
                        arguments=Arguments(in_favour=[], against=[]),
                        citations=_unique(all_cites),
                    )
                )
            else:
                reasons = [self.statement(r, case) for r in against] or [self._otherwise(cat)]
                not_discussed.append(
                    NotDiscussedCategory(
                        category=cat.id,
                        label=cat.label,
                        summary=f"{cat.label}: not typically discussed in the sources for a case like this.",
                        reasons=reasons,
                        arguments=Arguments(in_favour=[], against=[]),
                    )
                )
        derived: dict[str, list[Statement]] = {}
        for rule in self._derive_rules:
            if rule.id in fired and rule.spec.derives in evaluation.derived:
                derived.setdefault(rule.spec.derives or "", []).append(self.statement(rule, case))
        return Explanation(
            disclaimer=self.book.meta.disclaimer.strip(),
            disclaimer_citations=self._disclaimer_citations,
            limits=self.book.meta.limits.strip(),
            case=case,
            unknown_inputs=case.unknown_inputs(),
            discussed=discussed,
            not_discussed=not_discussed,
            derived_facts=[DerivedFact(fact=f, derived_by=s) for f, s in derived.items()],
            investigations=[],
            rulebook=self._stamp,
        )

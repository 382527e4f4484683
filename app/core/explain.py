"""Turns the rules that fired for a case into the explanation: every category exactly once,
in `discussed` or `not_discussed`, each statement with the inputs, derived facts and citations
behind it, plus the options inside each category, the arguments on both sides and the work-up."""

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from app.core.evaluation import Evaluation
from app.rulebook import Rule, Rulebook
from schemas.case import Case
from schemas.explanation import (
    Arguments,
    Basis,
    Citation,
    Dependency,
    DerivedFact,
    DiscussedCategory,
    Explanation,
    InputUsed,
    Investigation,
    NotDiscussedCategory,
    RulebookStamp,
    Statement,
    Status,
    Variant,
)
from schemas.rulebook import CategorySpec, CitationSpec, InvestigationSpec, LinkedCategory

STATUS_WORDS: dict[str, str] = {"discussed": "commonly discussed", "not_discussed": "not typically discussed"}


def _hashable(value: Any) -> Any:
    """List inputs (prior treatments) as tuples, so the input values can key a cache."""
    return tuple(value) if isinstance(value, list) else value


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
        self.stamp = RulebookStamp(version=book.meta.version, date=book.meta.date, digest=book.digest)
        self._disclaimer_citations = citations(book.meta.disclaimer_cites)
        self.derive_rules = [r for r in book.rules if r.spec.derives]
        self._by_group: dict[tuple[str, str], list[Rule]] = {}
        for rule in book.rules:
            key = (rule.spec.category or rule.spec.investigation or "", rule.spec.effect)
            self._by_group.setdefault(key, []).append(rule)
        self._ids = {
            (cat.id, effect): frozenset(r.id for r in self._by_group.get((cat.id, effect), ()))
            for cat in book.categories
            for effect in ("discussed", "not_discussed")
        }
        # Which list each category is in depends only on the status rules that fired: the cache is keyed
        # by those (few distinct sets), not by every fired rule (nearly one set per case).
        self._status_ids = frozenset().union(*self._ids.values())
        self._partition = lru_cache(maxsize=2048)(self._compute_partition)
        # A statement depends only on its rule and the values of the inputs the rule tests, so
        # explanations share statements read-only (most of the assembly time otherwise).
        self._statement_for = lru_cache(maxsize=2048)(self.build_statement)
        self.labels = {c.id: c.label for c in book.categories}
        self._citations = {r.id: citations(r.spec.cites) for r in book.rules}
        self._field_tests = {
            r.id: [(c.field, c.text()) for c in r.conditions if c.field is not None] for r in book.rules
        }

    def statement_key(self, rule: Rule, case: Case) -> tuple[Any, ...]:
        """What a rule's statement depends on besides the rule: the values of the inputs it tests."""
        return tuple(_hashable(getattr(case, field)) for field, _ in self._field_tests[rule.id])

    def statement(self, rule: Rule, case: Case) -> Statement:
        return self._statement_for(rule.id, self.statement_key(rule, case))

    def statement_for(self, rule_id: str, values: tuple[Any, ...]) -> Statement:
        return self._statement_for(rule_id, values)

    def field_tests(self, rule_id: str) -> list[tuple[str, str]]:
        """The inputs a rule tests, in its conditions' order, with each condition in words."""
        return self._field_tests[rule_id]

    def rule_citations(self, rule_id: str) -> list[Citation]:
        return self._citations[rule_id]

    def build_statement(self, rule_id: str, values: tuple[Any, ...]) -> Statement:
        rule = self.book.rule(rule_id)
        return Statement(
            rule=rule.id,
            because=rule.spec.because.strip(),
            inputs=[
                InputUsed(field=field, value=list(value) if isinstance(value, tuple) else value, condition=text)
                for (field, text), value in zip(self._field_tests[rule.id], values, strict=True)
            ],
            derived_facts=[c.fact for c in rule.conditions if c.fact is not None],
            citations=self._citations[rule.id],
        )

    def fired(self, key: str, effect: str, fired: frozenset[str]) -> list[Rule]:
        """The fired rules of one category or investigation with one effect, in rulebook order."""
        return [r for r in self._by_group.get((key, effect), ()) if r.id in fired]

    def shown(self, key: str, effect: str, fired: frozenset[str], statuses: Mapping[str, Status]) -> list[Rule]:
        """Fired presentation rules whose `only_with_discussed` category (if any) is discussed and none of
        whose `unless_fired` rules fired."""
        return [
            r
            for r in self.fired(key, effect, fired)
            if (r.spec.only_with_discussed is None or statuses[r.spec.only_with_discussed] == "discussed")
            and not fired.intersection(r.spec.unless_fired)
        ]

    def basis(self, category: str, fired: frozenset[str]) -> Basis:
        """`case` when a discussed rule with conditions on the case fired, `general` when only rules that
        hold for every case did."""
        return "case" if any(r.conditions for r in self.fired(category, "discussed", fired)) else "general"

    def status(self, category: str, fired: frozenset[str]) -> Status:
        """Exclusions win: any fired not_discussed rule outweighs every discussed rule."""
        if not fired.isdisjoint(self._ids[(category, "not_discussed")]):
            return "not_discussed"
        return "discussed" if not fired.isdisjoint(self._ids[(category, "discussed")]) else "not_discussed"

    def partition(self, fired: frozenset[str]) -> Mapping[str, Status]:
        """Each category's list for a fired set (shared between callers: read it, never change it)."""
        return self._partition(fired & self._status_ids)

    def _compute_partition(self, fired: frozenset[str]) -> Mapping[str, Status]:
        return MappingProxyType({cat.id: self.status(cat.id, fired) for cat in self.book.categories})

    def deciding(self, category: CategorySpec, case: Case, fired: frozenset[str]) -> list[Statement]:
        """The statements that put the category where it is: rationale or reasons."""
        if self.status(category.id, fired) == "discussed":
            return [self.statement(r, case) for r in self.fired(category.id, "discussed", fired)]
        against = self.fired(category.id, "not_discussed", fired)
        return [self.statement(r, case) for r in against] or [self.otherwise(category)]

    def otherwise(self, category: CategorySpec) -> Statement:
        return Statement(
            rule=f"{category.id}.otherwise",
            because=category.otherwise.because.strip(),
            inputs=[],
            derived_facts=[],
            citations=citations(category.otherwise.cites),
        )

    def _arguments(self, category: str, case: Case, fired: frozenset[str], statuses: Mapping[str, Status]) -> Arguments:
        return Arguments(
            in_favour=[self.statement(r, case) for r in self.shown(category, "argument_for", fired, statuses)],
            against=[self.statement(r, case) for r in self.shown(category, "argument_against", fired, statuses)],
        )

    def _variants(
        self, category: str, case: Case, fired: frozenset[str], statuses: Mapping[str, Status]
    ) -> list[Variant]:
        return [
            Variant(label=r.spec.label or r.id, **self.statement(r, case).model_dump())
            for r in self.shown(category, "variant", fired, statuses)
        ]

    def link_statement(self, inv: InvestigationSpec, link: LinkedCategory) -> Statement:
        """Why an investigation matters when a category is discussed (the same for every case)."""
        return Statement(
            rule=f"investigation.{inv.id}.when_{link.category}_discussed",
            because=link.because.strip(),
            inputs=[],
            derived_facts=[],
            citations=citations(link.cites),
        )

    def _investigations(self, case: Case, fired: frozenset[str], discussed: set[str]) -> list[Investigation]:
        out = []
        for inv in self.book.investigations:
            relevance = [self.statement(r, case) for r in self.fired(inv.id, "investigation", fired)]
            relevance += [self.link_statement(inv, link) for link in inv.when_discussed if link.category in discussed]
            out.append(
                Investigation(
                    id=inv.id,
                    label=inv.label,
                    purpose=inv.purpose.strip(),
                    citations=citations(inv.cites),
                    relevance=relevance,
                )
            )
        return out

    def explain(
        self, case: Case, evaluation: Evaluation, depends_on: dict[str, list[Dependency]] | None = None
    ) -> Explanation:
        fired = evaluation.fired
        depends_on = depends_on or {}
        statuses = self.partition(fired)
        discussed: list[DiscussedCategory] = []
        not_discussed: list[NotDiscussedCategory] = []
        for cat in self.book.categories:
            deciding = self.deciding(cat, case, fired)
            arguments = self._arguments(cat.id, case, fired, statuses)
            if statuses[cat.id] == "discussed":
                caveats = [self.statement(r, case) for r in self.shown(cat.id, "caveat", fired, statuses)]
                discussed.append(
                    DiscussedCategory(
                        category=cat.id,
                        label=cat.label,
                        basis=self.basis(cat.id, fired),
                        summary=f"{cat.label}: commonly discussed in the sources for a case like this.",
                        depends_on=depends_on.get(cat.id, []),
                        rationale=deciding,
                        caveats=caveats,
                        variants=self._variants(cat.id, case, fired, statuses),
                        arguments=arguments,
                        citations=_unique([c for s in (*deciding, *caveats) for c in s.citations]),
                    )
                )
            else:
                not_discussed.append(
                    NotDiscussedCategory(
                        category=cat.id,
                        label=cat.label,
                        summary=f"{cat.label}: not typically discussed in the sources for a case like this.",
                        depends_on=depends_on.get(cat.id, []),
                        reasons=deciding,
                        arguments=arguments,
                    )
                )
        derived: dict[str, list[Statement]] = {}
        for rule in self.derive_rules:
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
            investigations=self._investigations(case, fired, {c.category for c in discussed}),
            rulebook=self.stamp,
        )

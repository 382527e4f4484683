"""Turns the rules that fired for a case into the explanation: every category exactly once,
in `discussed` or `not_discussed`, each statement with the inputs, derived facts and citations
behind it, plus the options inside each category, the arguments on both sides and the work-up."""

from functools import lru_cache
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
from schemas.rulebook import CategorySpec, CitationSpec

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
        self._derive_rules = [r for r in book.rules if r.spec.derives]
        # One explanation asks for the same groups of fired rules many times, and what-if asks
        # for dozens of partitions: group each distinct set of fired rules once.
        self._grouped = lru_cache(maxsize=4096)(self._group)
        # A statement depends only on its rule and the values of the inputs the rule tests, so
        # explanations share statements read-only (most of the assembly time otherwise).
        self._statement_for = lru_cache(maxsize=8192)(self._build_statement)
        self.labels = {c.id: c.label for c in book.categories}
        self._citations = {r.id: citations(r.spec.cites) for r in book.rules}
        self._field_tests = {
            r.id: [(c.field, c.text()) for c in r.conditions if c.field is not None] for r in book.rules
        }

    def statement(self, rule: Rule, case: Case) -> Statement:
        values = tuple(_hashable(getattr(case, field)) for field, _ in self._field_tests[rule.id])
        return self._statement_for(rule.id, values)

    def _build_statement(self, rule_id: str, values: tuple[Any, ...]) -> Statement:
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

    def _fired(self, key: str, effect: str, fired: frozenset[str]) -> list[Rule]:
        return self._grouped(fired).get((key, effect), [])

    def _group(self, fired: frozenset[str]) -> dict[tuple[str, str], list[Rule]]:
        """The fired rules by (category or investigation, effect), in rulebook order."""
        groups: dict[tuple[str, str], list[Rule]] = {}
        for rule in self.book.rules:
            if rule.id in fired:
                key = (rule.spec.category or rule.spec.investigation or "", rule.spec.effect)
                groups.setdefault(key, []).append(rule)
        return groups

    def _shown(self, key: str, effect: str, fired: frozenset[str], statuses: dict[str, Status]) -> list[Rule]:
        """Fired presentation rules whose `only_with_discussed` category (if any) is discussed and none of
        whose `unless_fired` rules fired."""
        return [
            r
            for r in self._fired(key, effect, fired)
            if (r.spec.only_with_discussed is None or statuses[r.spec.only_with_discussed] == "discussed")
            and not fired.intersection(r.spec.unless_fired)
        ]

    def basis(self, category: str, fired: frozenset[str]) -> Basis:
        """`case` when a discussed rule with conditions on the case fired, `general` when only rules that
        hold for every case did."""
        return "case" if any(r.conditions for r in self._fired(category, "discussed", fired)) else "general"

    def status(self, category: str, fired: frozenset[str]) -> Status:
        """Exclusions win: any fired not_discussed rule outweighs every discussed rule."""
        if self._fired(category, "not_discussed", fired):
            return "not_discussed"
        return "discussed" if self._fired(category, "discussed", fired) else "not_discussed"

    def partition(self, fired: frozenset[str]) -> dict[str, Status]:
        return {cat.id: self.status(cat.id, fired) for cat in self.book.categories}

    def deciding(self, category: CategorySpec, case: Case, fired: frozenset[str]) -> list[Statement]:
        """The statements that put the category where it is: rationale or reasons."""
        if self.status(category.id, fired) == "discussed":
            return [self.statement(r, case) for r in self._fired(category.id, "discussed", fired)]
        against = self._fired(category.id, "not_discussed", fired)
        return [self.statement(r, case) for r in against] or [self._otherwise(category)]

    def _otherwise(self, category: CategorySpec) -> Statement:
        return Statement(
            rule=f"{category.id}.otherwise",
            because=category.otherwise.because.strip(),
            inputs=[],
            derived_facts=[],
            citations=citations(category.otherwise.cites),
        )

    def _arguments(self, category: str, case: Case, fired: frozenset[str], statuses: dict[str, Status]) -> Arguments:
        return Arguments(
            in_favour=[self.statement(r, case) for r in self._shown(category, "argument_for", fired, statuses)],
            against=[self.statement(r, case) for r in self._shown(category, "argument_against", fired, statuses)],
        )

    def _variants(self, category: str, case: Case, fired: frozenset[str], statuses: dict[str, Status]) -> list[Variant]:
        return [
            Variant(label=r.spec.label or r.id, **self.statement(r, case).model_dump())
            for r in self._shown(category, "variant", fired, statuses)
        ]

    def _investigations(self, case: Case, fired: frozenset[str], discussed: set[str]) -> list[Investigation]:
        out = []
        for inv in self.book.investigations:
            relevance = [self.statement(r, case) for r in self._fired(inv.id, "investigation", fired)]
            relevance += [
                Statement(
                    rule=f"investigation.{inv.id}.when_{link.category}_discussed",
                    because=link.because.strip(),
                    inputs=[],
                    derived_facts=[],
                    citations=citations(link.cites),
                )
                for link in inv.when_discussed
                if link.category in discussed
            ]
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
                caveats = [self.statement(r, case) for r in self._shown(cat.id, "caveat", fired, statuses)]
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
            investigations=self._investigations(case, fired, {c.category for c in discussed}),
            rulebook=self.stamp,
        )

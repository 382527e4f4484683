"""The explanation's JSON bytes assembled from fragments, without building the response model.

An answer is about 60 KiB, and nearly all of it depends only on which rules fired and on the values
of the inputs each fired rule tests: statements, citations, labels and the disclaimer repeat across
cases. Building the pydantic model and serialising it cost about 600 us per answer; here every
statement is serialised once (and kept in a bounded cache), and every object around the statements
comes from a template that the response model itself serialised at start-up, with a placeholder in
each place that varies. So the shape, key order and escaping are pydantic's own; what this module
decides is only which fragment goes in which place, and it decides that with the Explainer's own
methods. A property test compares these bytes with the model's serialisation on thousands of
generated cases (tests/test_answer_json.py).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from app.core.evaluation import Evaluation
from app.core.explain import Explainer, citations
from app.rulebook import Rule
from schemas.case import LIST_FIELDS, Case
from schemas.explanation import (
    Arguments,
    Citation,
    Dependency,
    DerivedFact,
    DiscussedCategory,
    Explanation,
    Investigation,
    NotDiscussedCategory,
    Statement,
    Status,
    Variant,
)
from schemas.rulebook import CategorySpec

_MARK = "\x00"


class Template:
    """A model serialised once with a placeholder in each varying field; `fill` puts the fragments in."""

    def __init__(self, model: type[BaseModel], **fixed: Any) -> None:
        self.slots = [name for name in model.model_fields if name not in fixed]
        values = {**fixed, **{name: f"{_MARK}{name}{_MARK}" for name in self.slots}}
        # model_construct skips validation, so a placeholder string may stand where a list belongs;
        # the serialiser writes it as a string (warnings off), which is what is split on here.
        raw = model.__pydantic_serializer__.to_json(model.model_construct(**values), warnings=False)
        self.pieces: list[bytes] = []
        for name in self.slots:
            marker = to_json(f"{_MARK}{name}{_MARK}")
            head, sep, raw = raw.partition(marker)
            if not sep or marker in raw:
                raise ValueError(f"{model.__name__}: placeholder for {name} not found exactly once")
            self.pieces.append(head)
        self.pieces.append(raw)

    def fill(self, **fragments: "Sequence[Piece]") -> "list[Piece]":
        parts: list[Piece] = [self.pieces[0]]
        for name, piece in zip(self.slots, self.pieces[1:], strict=True):
            parts += [*fragments[name], piece]
        return parts


@dataclass(frozen=True)
class _Hole:
    """A place in a plan filled per case: a rule's statement (or variant), the case, its unknown inputs,
    or one category's depends_on."""

    kind: str
    name: str = ""


_CASE, _UNKNOWN = _Hole("case"), _Hole("unknown_inputs")
_STATEMENTS = ("statement", "variant")
Piece = bytes | _Hole


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a plan is made once and cached
class _Plan:
    """One category's (or investigation's) entry: static bytes and holes, and the inputs its statement
    holes quote, in a fixed order."""

    pieces: tuple[Piece, ...]
    fields: tuple[str, ...]


# A resolved entry: its bytes before the depends_on hole, the category whose depends_on goes there
# ("" for none), and its bytes after.
_Resolved = tuple[tuple[bytes, ...], str, tuple[bytes, ...]]


def _array(items: Iterable[Sequence[Piece]]) -> list[Piece]:
    out: list[Piece] = [b"["]
    for i, item in enumerate(items):
        if i:
            out.append(b",")
        out += item
    out.append(b"]")
    return out


class AnswerWriter:
    """Writes what `Explainer.explain` would serialise to, for the same case and evaluation.

    What goes where depends only on which rules fired (and the facts derived), so that is worked out
    once per distinct fired set into a plan of static bytes and holes (kept in a bounded cache); a
    case then only fills the holes: its own values, its statements (serialised once per rule and
    input values, also in a bounded cache) and its depends_on."""

    def __init__(self, explainer: Explainer) -> None:
        self.x = explainer
        book = explainer.book
        self._explanation = Template(
            Explanation,
            disclaimer=book.meta.disclaimer.strip(),
            disclaimer_citations=citations(book.meta.disclaimer_cites),
            limits=book.meta.limits.strip(),
            what_if=None,
            rulebook=explainer.stamp,
        )
        self._discussed = {
            (cat.id, basis): Template(
                DiscussedCategory,
                category=cat.id,
                label=cat.label,
                basis=basis,
                summary=f"{cat.label}: commonly discussed in the sources for a case like this.",
            )
            for cat in book.categories
            for basis in ("case", "general")
        }
        self._not_discussed = {
            cat.id: Template(
                NotDiscussedCategory,
                category=cat.id,
                label=cat.label,
                summary=f"{cat.label}: not typically discussed in the sources for a case like this.",
            )
            for cat in book.categories
        }
        self._categories = {cat.id: cat for cat in book.categories}
        self._inv_links = frozenset(link.category for inv in book.investigations for link in inv.when_discussed)
        if self._explanation.slots != [
            "case",
            "unknown_inputs",
            "discussed",
            "not_discussed",
            "derived_facts",
            "investigations",
        ]:
            raise ValueError(
                f"AnswerWriter.write does not follow the Explanation model's fields: {self._explanation.slots}"
            )
        self._arguments = Template(Arguments)
        self._derived = Template(DerivedFact)
        self._investigation = {
            inv.id: Template(
                Investigation, id=inv.id, label=inv.label, purpose=inv.purpose.strip(), citations=citations(inv.cites)
            )
            for inv in book.investigations
        }
        self._links = {
            (inv.id, link.category): _statement_json(explainer.link_statement(inv, link))
            for inv in book.investigations
            for link in inv.when_discussed
        }
        self._otherwise = {cat.id: _statement_json(explainer.otherwise(cat)) for cat in book.categories}
        self._citation: dict[tuple[str, str, str], bytes] = {}
        self._fields = {r.id: tuple(f for f, _ in explainer.field_tests(r.id)) for r in book.rules}
        self._holes = {kind: {r.id: _Hole(kind, r.id) for r in book.rules} for kind in ("statement", "variant")}
        self._depends = {cat.id: _Hole("depends_on", cat.id) for cat in book.categories}
        # What a category's entry depends on: its own rules that fired (with the rules their
        # `unless_fired` names) and the lists of the categories their `only_with_discussed` names.
        self._relevant: dict[str, frozenset[str]] = {}
        self._status_deps: dict[str, tuple[str, ...]] = {}
        for cat in book.categories:
            own = [r for r in book.rules if r.spec.category == cat.id]
            self._relevant[cat.id] = frozenset(r.id for r in own) | {u for r in own for u in r.spec.unless_fired}
            self._status_deps[cat.id] = tuple(sorted({r.spec.only_with_discussed or "" for r in own} - {""}))
        self._inv_rules = frozenset(r.id for r in book.rules if r.spec.investigation)
        self._derive_ids = frozenset(r.id for r in explainer.derive_rules)
        # Plans per category (and one for the investigations) and the fired rules that decide it: a few thousand
        # distinct keys however varied the cases, where whole fired sets are nearly one per case.
        # Statements are serialised once per rule and input values. Every cache is bounded by size.
        self._category_plan = lru_cache(maxsize=4096)(self._build_category)
        self._investigations_plan = lru_cache(maxsize=1024)(self._build_investigations)
        self._derived_plan = lru_cache(maxsize=1024)(self._build_derived)
        self._statement_bytes = lru_cache(maxsize=4096)(self._serialise)
        # A plan with its statements filled in, for the values of just the inputs those statements
        # quote: most plans quote categorical inputs only, so the same few entries serve most cases.
        self._resolved = lru_cache(maxsize=4096)(self._resolve)

    def write(self, case: Case, evaluation: Evaluation, depends_on: dict[str, list[Dependency]]) -> bytes:
        fired = evaluation.fired
        statuses = self.x.partition(fired)
        values = dict(case.__dict__)
        for name in LIST_FIELDS:  # lists (prior treatments) as tuples, so that values can key a cache
            if values[name] is not None:
                values[name] = tuple(values[name])
        discussed: list[_Resolved] = []
        not_discussed: list[_Resolved] = []
        for cat in self.x.book.categories:
            plan = self._category_plan(
                cat.id, fired & self._relevant[cat.id], tuple(map(statuses.__getitem__, self._status_deps[cat.id]))
            )
            entry = self._resolved(plan, tuple(map(values.__getitem__, plan.fields)))
            (discussed if statuses[cat.id] == "discussed" else not_discussed).append(entry)
        discussed_ids = frozenset(c for c, s in statuses.items() if s == "discussed")
        plan = self._investigations_plan(fired & self._inv_rules, discussed_ids & self._inv_links)
        investigations = self._resolved(plan, tuple(map(values.__getitem__, plan.fields)))
        plan = self._derived_plan(fired & self._derive_ids, evaluation.derived)
        derived = self._resolved(plan, tuple(map(values.__getitem__, plan.fields)))
        # The explanation's own template, slot by slot (checked in __init__): the case, its unknown
        # inputs, the two lists, the derived facts, the investigations.
        head, after_case, after_unknown, after_discussed, after_not_discussed, after_derived, tail = (
            self._explanation.pieces
        )
        parts = [head, Case.__pydantic_serializer__.to_json(case), after_case, to_json(case.unknown_inputs())]
        parts.append(after_unknown)
        self._entries(parts, discussed, depends_on)
        parts.append(after_discussed)
        self._entries(parts, not_discussed, depends_on)
        parts.append(after_not_discussed)
        parts += derived[0]
        parts.append(after_derived)
        parts += investigations[0]
        parts.append(tail)
        return b"".join(parts)

    def _entries(
        self, parts: list[bytes], entries: Sequence["_Resolved"], depends_on: dict[str, list[Dependency]]
    ) -> None:
        """A JSON array of resolved entries, each with its depends_on (if it has one) put in."""
        parts.append(b"[")
        for i, (before, depends, after) in enumerate(entries):
            if i:
                parts.append(b",")
            parts += before
            if depends:
                found = depends_on.get(depends)
                parts.append(_array_bytes(_dependency_json(d) for d in found) if found else b"[]")
                parts += after
        parts.append(b"]")

    def _hole_bytes(self, hole: _Hole, values: Mapping[str, Any]) -> bytes:
        return self._statement_bytes(hole.kind, hole.name, tuple(map(values.__getitem__, self._fields[hole.name])))

    def _resolve(self, plan: "_Plan", quoted: tuple[Any, ...]) -> "_Resolved":
        """The plan with its statements put in: references to bytes held elsewhere (templates, the
        statement cache), split at its depends_on hole, so an entry costs little memory."""
        values = dict(zip(plan.fields, quoted, strict=True))
        before: list[bytes] = []
        after: list[bytes] = []
        depends = ""
        for piece in plan.pieces:
            if isinstance(piece, bytes):
                (after if depends else before).append(piece)
            elif piece.kind in _STATEMENTS:
                (after if depends else before).append(self._hole_bytes(piece, values))
            elif piece.kind == "depends_on" and not depends:
                depends = piece.name
            else:
                raise ValueError(f"unexpected {piece} in a category or investigation plan")
        return tuple(before), depends, tuple(after)

    def _plan(self, pieces: Sequence[Piece]) -> "_Plan":
        quoted = [f for p in pieces if isinstance(p, _Hole) and p.kind in _STATEMENTS for f in self._fields[p.name]]
        return _Plan(tuple(p for p in pieces if p != b""), tuple(dict.fromkeys(quoted)))

    def _serialise(self, kind: str, rule_id: str, values: tuple[Any, ...]) -> bytes:
        # Built afresh rather than through the Explainer's own statement cache, so that the bytes
        # are the only copy kept.
        statement = self.x.build_statement(rule_id, values)
        if kind == "variant":
            label = self.x.book.rule(rule_id).spec.label or rule_id
            return Variant.__pydantic_serializer__.to_json(Variant(label=label, **statement.model_dump()))
        return _statement_json(statement)

    def _statements(self, rules: list[Rule], kind: str = "statement") -> list[Piece]:
        """A rule that tests no input says the same for every case: its bytes go in the plan itself."""
        return _array(
            [self._holes[kind][r.id] if self._fields[r.id] else self._statement_bytes(kind, r.id, ())] for r in rules
        )

    def _cite(self, cite: Citation) -> bytes:
        key = (cite.source, cite.section, cite.quote)
        found = self._citation.get(key)
        if found is None:  # one entry per quote of the rulebook: bounded by its size
            found = self._citation[key] = Citation.__pydantic_serializer__.to_json(cite)
        return found

    def _category_citations(self, rules: list[Rule]) -> list[Piece]:
        seen: dict[tuple[str, str], Citation] = {}
        for rule in rules:
            for cite in self.x.rule_citations(rule.id):
                seen.setdefault((cite.source, cite.quote), cite)
        return _array([self._cite(c)] for c in seen.values())

    def _build_category(self, cat_id: str, fired: frozenset[str], dep_statuses: tuple[Status, ...]) -> "_Plan":
        return self._plan(
            self._category(
                self._categories[cat_id], fired, dict(zip(self._status_deps[cat_id], dep_statuses, strict=True))
            )
        )

    def _category(self, cat: CategorySpec, fired: frozenset[str], deps: dict[str, Status]) -> list[Piece]:
        x = self.x
        statuses = {**deps, cat.id: x.status(cat.id, fired)}
        arguments = self._arguments.fill(
            in_favour=self._statements(x.shown(cat.id, "argument_for", fired, statuses)),
            against=self._statements(x.shown(cat.id, "argument_against", fired, statuses)),
        )
        depends = [self._depends[cat.id]]
        if statuses[cat.id] == "discussed":
            rationale = x.fired(cat.id, "discussed", fired)
            caveats = x.shown(cat.id, "caveat", fired, statuses)
            return self._discussed[(cat.id, x.basis(cat.id, fired))].fill(
                depends_on=depends,
                rationale=self._statements(rationale),
                caveats=self._statements(caveats),
                variants=self._statements(x.shown(cat.id, "variant", fired, statuses), "variant"),
                arguments=arguments,
                citations=self._category_citations(rationale + caveats),
            )
        against = x.fired(cat.id, "not_discussed", fired)
        reasons = self._statements(against) if against else [b"[", self._otherwise[cat.id], b"]"]
        return self._not_discussed[cat.id].fill(depends_on=depends, reasons=reasons, arguments=arguments)

    def _build_derived(self, fired: frozenset[str], derived: frozenset[str]) -> "_Plan":
        """The derived facts array: each fact with the statements of the rules that derived it."""
        by_fact: dict[str, list[Rule]] = {}
        for rule in self.x.derive_rules:
            if rule.id in fired and rule.spec.derives in derived:
                by_fact.setdefault(rule.spec.derives or "", []).append(rule)
        return self._plan(
            _array(
                self._derived.fill(fact=[to_json(fact)], derived_by=self._statements(rules))
                for fact, rules in by_fact.items()
            )
        )

    def _build_investigations(self, fired: frozenset[str], discussed: frozenset[str]) -> "_Plan":
        """The whole investigations array: one plan, as it depends on few rules and categories."""
        entries = []
        for inv in self.x.book.investigations:
            relevance: list[list[Piece]] = [
                [self._holes["statement"][r.id]] for r in self.x.fired(inv.id, "investigation", fired)
            ]
            relevance += [
                [self._links[(inv.id, link.category)]] for link in inv.when_discussed if link.category in discussed
            ]
            entries.append(self._investigation[inv.id].fill(relevance=_array(relevance)))
        return self._plan(_array(entries))


def _array_bytes(items: Iterable[bytes]) -> bytes:
    return b"[" + b",".join(items) + b"]"


def _dependency_json(dependency: Dependency) -> bytes:
    return Dependency.__pydantic_serializer__.to_json(dependency)


def _statement_json(statement: Statement) -> bytes:
    return Statement.__pydantic_serializer__.to_json(statement)

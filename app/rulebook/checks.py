"""Is this rulebook valid? Every check of a loaded rulebook beyond the shape of its files (which the
models in schemas/rulebook.py check): references, condition fields and operators, derived facts,
example cases, wording, and quotes against the source documents. Each problem names its file and rule."""

import re
from collections.abc import Iterable, Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.citations import MissingDocuments, SourceTexts
from app.rulebook.examples import example_case
from app.rulebook.model import ResolvedCondition, Rulebook, RulebookError
from app.rulebook.ops import OPERATORS
from schemas.case import LIST_FIELDS, NUMERIC_FIELDS, OPTIONAL_FIELDS, Case
from schemas.rulebook import CitationSpec

FORBIDDEN_WORDING = re.compile(r"\brecommend|\bindicated\b|\byou should\b", re.IGNORECASE)


class Errors:
    """Problems collected across the whole rulebook, so one start-up names them all."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")

    def raise_if_any(self, heading: str = "invalid rulebook") -> None:
        if self.lines:
            raise RulebookError(f"{heading}:\n  " + "\n  ".join(self.lines))


def check_rulebook(book: Rulebook, errors: Errors) -> None:
    _check_references(book, errors)
    _check_examples_are_cases(book, errors)
    _check_wording(book, errors)


def _check_references(book: Rulebook, errors: Errors) -> None:
    category_ids = [c.id for c in book.categories]
    if len(set(category_ids)) != len(category_ids):
        errors.add("rules/categories.yaml", "duplicate category id")
    derived = {r.spec.derives for r in book.rules if r.spec.derives}
    investigation_ids = [i.id for i in book.investigations]
    if len(set(investigation_ids)) != len(investigation_ids):
        errors.add("rules/investigations.yaml", "duplicate investigation id")
    for inv in book.investigations:
        for link in inv.when_discussed:
            if link.category not in category_ids:
                errors.add(f"rules/investigations.yaml: investigation {inv.id}", f"unknown category {link.category!r}")
    for rule in book.rules:
        where = f"{rule.file}: rule {rule.id}"
        if rule.spec.category is not None and rule.spec.category not in category_ids:
            errors.add(where, f"unknown category {rule.spec.category!r}")
        if rule.spec.only_with_discussed is not None and rule.spec.only_with_discussed not in category_ids:
            errors.add(where, f"unknown category {rule.spec.only_with_discussed!r} in only_with_discussed")
        for other in rule.spec.unless_fired:
            if not book.has_rule(other):
                errors.add(where, f"unknown rule {other!r} in unless_fired")
        if rule.spec.investigation is not None and rule.spec.investigation not in investigation_ids:
            errors.add(where, f"unknown investigation {rule.spec.investigation!r}")
        for cond in rule.conditions:
            if cond.fact is not None:
                if cond.fact not in derived:
                    errors.add(where, f"uses fact {cond.fact!r} that no rule derives")
                continue
            _check_field_test(cond, where, book.meta.example_base_case, errors)
    _check_no_cycles(book, errors)


def _check_field_test(cond: ResolvedCondition, where: str, base: dict[str, Any], errors: Errors) -> None:
    field, op = cond.field or "", OPERATORS[cond.op or "eq"]
    if field not in Case.model_fields:
        errors.add(where, f"unknown field {field!r}")
        return
    if op.fields == "numeric" and (field not in NUMERIC_FIELDS or isinstance(cond.value, (bool, list, str))):
        errors.add(where, f"op {op.name!r} needs a numeric field and value, got {field!r} {cond.value!r}")
        return
    if op.fields == "list" and field not in LIST_FIELDS:
        errors.add(where, f"op {op.name!r} needs a list field, got {field!r}")
        return
    if op.fields == "optional" and field not in OPTIONAL_FIELDS:
        errors.add(where, f"field {field!r} is required, so it is never unknown")
        return
    if op.name == "in" and not (isinstance(cond.value, list) and cond.value):
        errors.add(where, "op 'in' needs a non-empty list")
        return
    if op.name in {"eq", "ne", "in", "contains"}:
        values = cond.value if op.name == "in" else [cond.value]
        for value in values:
            candidate = [value] if op.fields == "list" else value
            try:
                Case.model_validate({**base, field: candidate})
            except ValidationError as exc:
                errors.add(where, f"value {value!r} is not allowed for {field!r}: {exc.errors()[0]['msg']}")


def _check_no_cycles(book: Rulebook, errors: Errors) -> None:
    needs: dict[str, set[str]] = {}
    derivers: dict[tuple[str, str], list[str]] = {}  # (fact, fact it uses) -> the rules deriving so
    for rule in book.rules:
        if rule.spec.derives:
            uses = {c.fact for c in rule.conditions if c.fact}
            needs.setdefault(rule.spec.derives, set()).update(uses)
            for used in sorted(uses):
                derivers.setdefault((rule.spec.derives, used), []).append(f"{rule.file}: rule {rule.id}")
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(fact: str, path: list[str]) -> None:
        if fact in done:
            return
        if fact in visiting:
            cycle = [*path[path.index(fact) :], fact]
            steps = (f"{where} derives {a} using {b}" for a, b in pairwise(cycle) for where in derivers[a, b])
            errors.add("rules/topics", f"derived facts form a cycle {' -> '.join(cycle)}: " + "; ".join(steps))
            return
        visiting.add(fact)
        for dep in sorted(needs.get(fact, ())):
            visit(dep, [*path, fact])
        visiting.discard(fact)
        done.add(fact)

    for fact in sorted(needs):
        visit(fact, [])


def _check_examples_are_cases(book: Rulebook, errors: Errors) -> None:
    try:
        Case.model_validate(book.meta.example_base_case)
    except ValidationError as exc:
        errors.add("rules/rulebook.yaml", f"example_base_case is not a valid case: {exc}")
        return
    for rule in book.rules:
        for kind, examples in (("fires", rule.spec.examples.fires), ("not_fires", rule.spec.examples.not_fires)):
            for i, example in enumerate(examples):
                try:
                    example_case(book, example)
                except ValidationError as exc:
                    errors.add(
                        f"{rule.file}: rule {rule.id}",
                        f"example {kind}[{i}] is not a valid case: {exc.errors()[0]['msg']}",
                    )


def _texts(book: Rulebook) -> Iterator[tuple[str, str]]:
    for text in (book.meta.disclaimer, book.meta.limits, book.meta.purpose, book.meta.not_for, book.meta.review):
        yield "rules/rulebook.yaml", text
    for inv in book.investigations:
        for text in (inv.label, inv.purpose, *(link.because for link in inv.when_discussed)):
            yield f"rules/investigations.yaml: investigation {inv.id}", text
    for cat in book.categories:
        for text in (cat.label, cat.description, cat.otherwise.because):
            yield f"rules/categories.yaml: category {cat.id}", text
    for param in book.parameters.values():
        yield f"rules/parameters.yaml: parameter {param.id}", param.meaning
    for rule in book.rules:
        yield f"{rule.file}: rule {rule.id}", rule.spec.because
        if rule.spec.label:
            yield f"{rule.file}: rule {rule.id}", rule.spec.label


def _check_wording(book: Rulebook, errors: Errors) -> None:
    for where, text in _texts(book):
        match = FORBIDDEN_WORDING.search(text)
        if match:
            errors.add(where, f"wording {match.group(0)!r} is not allowed outside quotes (say 'commonly discussed')")


def all_citations(book: Rulebook) -> Iterable[tuple[str, CitationSpec]]:
    yield from (("rules/rulebook.yaml: disclaimer", c) for c in book.meta.disclaimer_cites)
    for cat in book.categories:
        for cite in (*cat.cites, *cat.otherwise.cites):
            yield f"rules/categories.yaml: category {cat.id}", cite
    for param in book.parameters.values():
        yield from ((f"rules/parameters.yaml: parameter {param.id}", c) for c in param.cites)
    for inv in book.investigations:
        where = f"rules/investigations.yaml: investigation {inv.id}"
        yield from ((where, c) for c in (*inv.cites, *(c for link in inv.when_discussed for c in link.cites)))
    for rule in book.rules:
        yield from ((f"{rule.file}: rule {rule.id}", c) for c in rule.spec.cites)


def check_citations(book: Rulebook, seeds_dir: Path, errors: Errors) -> None:
    try:
        texts = SourceTexts(seeds_dir, book.sources)
    except MissingDocuments as exc:
        raise RulebookError(str(exc)) from exc
    for where, cite in all_citations(book):
        problem = texts.problem(cite)
        if problem:
            errors.add(where, problem)

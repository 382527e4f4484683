"""Reads rules/, validates every file against schemas/, checks citations, and returns the
rulebook as plain data. Knows nothing of HTTP or of the rules engine."""

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.citations import MissingDocuments, SourceTexts
from schemas.case import LIST_FIELDS, NUMERIC_FIELDS, Case
from schemas.rulebook import (
    CategoriesFile,
    CategorySpec,
    CitationSpec,
    Condition,
    InvestigationsFile,
    InvestigationSpec,
    ParametersFile,
    ParameterSpec,
    RulebookMeta,
    RuleSpec,
    SourcesFile,
    SourceSpec,
    TopicFile,
)

FORBIDDEN_WORDING = re.compile(r"\brecommend|\bindicated\b|\byou should\b", re.IGNORECASE)
OP_WORDS = {
    "eq": "is",
    "ne": "is not",
    "lt": "<",
    "lte": "<=",
    "gt": ">",
    "gte": ">=",
    "in": "is one of",
    "contains": "includes",
}


class RulebookError(Exception):
    """The rulebook cannot be used; the message names every file and rule at fault."""


@dataclass(frozen=True)
class ResolvedCondition:
    """A condition with its named parameter replaced by the parameter's value."""

    field: str | None
    op: str | None
    value: Any
    param: str | None
    fact: str | None

    def text(self) -> str:
        if self.fact is not None:
            return f"derived fact {self.fact}"
        if self.op == "unknown":
            return f"{self.field} is unknown"
        shown = ", ".join(map(str, self.value)) if isinstance(self.value, list) else str(self.value).lower()
        if isinstance(self.value, float) and self.value.is_integer():
            shown = str(int(self.value))
        named = f" (parameter {self.param})" if self.param else ""
        return f"{self.field} {OP_WORDS[self.op or 'eq']} {shown}{named}"


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    file: str
    conditions: tuple[ResolvedCondition, ...]

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Rulebook:
    meta: RulebookMeta
    sources: dict[str, SourceSpec]
    categories: tuple[CategorySpec, ...]
    parameters: dict[str, ParameterSpec]
    investigations: tuple[InvestigationSpec, ...]
    rules: tuple[Rule, ...]
    root: Path
    _by_id: dict[str, Rule] = field(init=False, repr=False, compare=False)
    digest: str = field(init=False, compare=False)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})
        object.__setattr__(self, "digest", content_digest(self))

    def derivers(self, fact: str) -> list[Rule]:
        return [r for r in self.rules if r.spec.derives == fact]


def content_digest(book: "Rulebook") -> str:
    """sha256 over the rulebook's content as loaded, in a canonical form: comments, `$schema` lines, key
    order and which file a rule sits in do not count; the version and date (what the digest is recorded
    against in rules/CHANGELOG.md) do not count either."""
    content = {
        "meta": book.meta.model_dump(mode="json", exclude={"version", "date"}),
        "sources": sorted((s.model_dump(mode="json") for s in book.sources.values()), key=lambda s: s["id"]),
        "categories": [c.model_dump(mode="json") for c in book.categories],
        "parameters": sorted((p.model_dump(mode="json") for p in book.parameters.values()), key=lambda p: p["id"]),
        "investigations": [i.model_dump(mode="json") for i in book.investigations],
        "rules": sorted((r.spec.model_dump(mode="json") for r in book.rules), key=lambda r: r["id"]),
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Errors:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise RulebookError("invalid rulebook:\n  " + "\n  ".join(self.lines))


def _read(path: Path, model: type[BaseModel], root: Path, errors: _Errors) -> Any:
    where = str(path.relative_to(root.parent))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.add(where, "file is missing")
        return None
    except yaml.YAMLError as exc:
        errors.add(where, f"not valid YAML: {exc}")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = list(err["loc"])
            rule = _rule_named_at(data, loc)
            place = ".".join(str(p) for p in loc)
            errors.add(f"{where}{rule}", f"{place}: {err['msg']}")
        return None


def _rule_named_at(data: Any, loc: list[Any]) -> str:
    """Name the rule an error sits in, so a reviewer can find it."""
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        try:
            return f": rule {data['rules'][loc[1]].get('id', '#' + str(loc[1]))}"
        except (KeyError, IndexError, TypeError, AttributeError):
            return f": rule #{loc[1]}"
    return ""


def load_rulebook(rules_dir: Path, seeds_dir: Path | None) -> Rulebook:
    """Load and check the whole rulebook. seeds_dir None skips the verbatim-quote check."""
    root = rules_dir.resolve()
    errors = _Errors()
    meta = _read(root / "rulebook.yaml", RulebookMeta, root, errors)
    sources_file = _read(root / "sources.yaml", SourcesFile, root, errors)
    categories_file = _read(root / "categories.yaml", CategoriesFile, root, errors)
    parameters_file = _read(root / "parameters.yaml", ParametersFile, root, errors)
    investigations_file = _read(root / "investigations.yaml", InvestigationsFile, root, errors)
    topic_paths = sorted((root / "topics").glob("*.yaml"))
    if not topic_paths:
        errors.add(str(root / "topics"), "no rule files (*.yaml) found")
    topics = [(p, _read(p, TopicFile, root, errors)) for p in topic_paths]
    errors.raise_if_any()

    sources = {s.id: s for s in sources_file.sources}
    parameters = {p.id: p for p in parameters_file.parameters}
    categories = tuple(categories_file.categories)
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path, topic in topics:
        file = str(path.relative_to(root.parent))
        for spec in topic.rules:
            where = f"{file}: rule {spec.id}"
            if spec.id in seen:
                errors.add(where, f"duplicate rule id (also in {seen[spec.id]})")
            seen[spec.id] = file
            conditions = tuple(_resolve(c, parameters, where, errors) for c in spec.when)
            rules.append(Rule(spec=spec, file=file, conditions=conditions))

    investigations = tuple(investigations_file.investigations)
    book = Rulebook(meta, sources, categories, parameters, investigations, tuple(rules), root)
    _check_references(book, errors)
    _check_examples_are_cases(book, errors)
    _check_wording(book, errors)
    errors.raise_if_any()
    if seeds_dir is not None:
        _check_citations(book, seeds_dir, errors)
        errors.raise_if_any()
    return book


def _resolve(cond: Condition, parameters: dict[str, ParameterSpec], where: str, errors: _Errors) -> ResolvedCondition:
    value = cond.value
    if cond.param is not None:
        if cond.param not in parameters:
            errors.add(where, f"unknown parameter {cond.param!r}")
        else:
            value = parameters[cond.param].value
    return ResolvedCondition(cond.field, cond.op, value, cond.param, cond.fact)


def _check_references(book: Rulebook, errors: _Errors) -> None:
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
            if other not in book._by_id:
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


def _check_field_test(cond: ResolvedCondition, where: str, base: dict[str, Any], errors: _Errors) -> None:
    field, op = cond.field or "", cond.op
    if field not in Case.model_fields:
        errors.add(where, f"unknown field {field!r}")
        return
    if op in {"lt", "lte", "gt", "gte"} and (field not in NUMERIC_FIELDS or isinstance(cond.value, (bool, list, str))):
        errors.add(where, f"op {op!r} needs a numeric field and value, got {field!r} {cond.value!r}")
        return
    if op == "contains" and field not in LIST_FIELDS:
        errors.add(where, f"op 'contains' needs a list field, got {field!r}")
        return
    if op == "unknown" and field in Case.model_json_schema().get("required", []):
        errors.add(where, f"field {field!r} is required, so it is never unknown")
        return
    if op == "in" and not (isinstance(cond.value, list) and cond.value):
        errors.add(where, "op 'in' needs a non-empty list")
        return
    if op in {"eq", "ne", "in", "contains"}:
        values = cond.value if op == "in" else [cond.value]
        for value in values:
            candidate = [value] if op == "contains" else value
            try:
                Case.model_validate({**base, field: candidate})
            except ValidationError as exc:
                errors.add(where, f"value {value!r} is not allowed for {field!r}: {exc.errors()[0]['msg']}")


def _check_no_cycles(book: Rulebook, errors: _Errors) -> None:
    needs: dict[str, set[str]] = {}
    for rule in book.rules:
        if rule.spec.derives:
            needs.setdefault(rule.spec.derives, set()).update(c.fact for c in rule.conditions if c.fact)
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(fact: str, path: list[str]) -> None:
        if fact in done:
            return
        if fact in visiting:
            errors.add("rules/topics", "derived facts form a cycle: " + " -> ".join([*path, fact]))
            return
        visiting.add(fact)
        for dep in sorted(needs.get(fact, ())):
            visit(dep, [*path, fact])
        visiting.discard(fact)
        done.add(fact)

    for fact in sorted(needs):
        visit(fact, [])


def example_case(book: Rulebook, example: dict[str, Any]) -> Case:
    return Case.model_validate({**book.meta.example_base_case, **example})


def _check_examples_are_cases(book: Rulebook, errors: _Errors) -> None:
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


def _check_wording(book: Rulebook, errors: _Errors) -> None:
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


def _check_citations(book: Rulebook, seeds_dir: Path, errors: _Errors) -> None:
    try:
        texts = SourceTexts(seeds_dir, book.sources)
    except MissingDocuments as exc:
        raise RulebookError(str(exc)) from exc
    for where, cite in all_citations(book):
        problem = texts.problem(cite)
        if problem:
            errors.add(where, problem)


if __name__ == "__main__":  # `make digest`: the line to record in rules/CHANGELOG.md for this rulebook
    import sys

    _book = load_rulebook(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("rules"), None)
    print(f"## {_book.meta.version} ({_book.meta.date.isoformat()})\ndigest: {_book.digest}")

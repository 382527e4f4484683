"""The rulebook as plain data once it is loaded and checked: rules with their parameters resolved,
and the digest of its content."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from app.rulebook.ops import OPERATORS
from schemas.case import field_label, value_words
from schemas.rulebook import CategorySpec, InvestigationSpec, ParameterSpec, RulebookMeta, RuleSpec, SourceSpec


class RulebookError(Exception):
    """The rulebook cannot be used; the message names every file and rule at fault."""


def words(name: str) -> str:
    """An id (a fact's or a parameter's) read as words: `few_small_lesions` -> `few small lesions`."""
    return name.replace("_", " ")


@dataclass(frozen=True)
class ResolvedCondition:
    """A condition with its named parameter replaced by the parameter's value."""

    field: str | None
    op: str | None
    value: Any
    param: str | None
    fact: str | None
    param_label: str | None = None  # the parameter's label, how prose names it

    def text(self) -> str:
        """The condition in words: the input's label and the values in words, never their ids (the
        structured fields beside it keep those)."""
        if self.fact is not None:
            return f'the derived fact "{words(self.fact)}"'
        op = OPERATORS[self.op or "eq"]
        label = field_label(self.field or "")
        if not op.takes_value:
            return f"{label} {op.words}"
        named = f' (rulebook setting "{self.param_label or words(self.param)}")' if self.param else ""
        return f"{label} {op.words} {value_words(self.value)}{named}"


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
    _by_id: dict[str, Rule] = field(init=False, repr=False, compare=False)
    digest: str = field(init=False, compare=False)

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def has_rule(self, rule_id: str) -> bool:
        return rule_id in self._by_id

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})
        object.__setattr__(self, "digest", content_digest(self))


def content_digest(book: Rulebook) -> str:
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

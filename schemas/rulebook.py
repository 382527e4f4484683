"""Models of the rule files under rules/. Unknown keys are rejected everywhere, so a typo in a
rule file stops start-up instead of being silently ignored."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Identifier = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
Op = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "unknown"]
PRESENTATION_EFFECTS = frozenset({"caveat", "variant", "argument_for", "argument_against"})
Effect = Literal[
    "discussed",  # puts the category in `discussed` (unless a not_discussed rule also fired)
    "not_discussed",  # puts the category in `not_discussed`; wins over discussed rules
    "caveat",  # a caution shown with a discussed category
    "variant",  # a documented option inside a discussed category (needs `label`)
    "argument_for",  # a consideration in favour, shown for every category
    "argument_against",  # a consideration against, shown for every category
    "investigation",  # why an assessment in rules/investigations.yaml matters for this case
    "derive",  # asserts the fact named in `derives` for other rules to use
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitationSpec(Strict):
    source: str = Field(description="Id of a source in rules/sources.yaml.")
    section: str = Field(min_length=1, description="Heading of the document the quote stands under.")
    quote: str = Field(min_length=10, max_length=400, description="Verbatim passage of the document.")


class Condition(Strict):
    """One test, all of a rule's tests must hold: a case field compared with a value or a named
    parameter, or a fact derived by another rule."""

    field: str | None = None
    op: Op | None = None
    value: Any = None
    param: str | None = None
    fact: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> "Condition":
        given = self.model_fields_set
        if self.fact is not None:
            if given - {"fact"}:
                raise ValueError("a fact condition takes only `fact`")
            return self
        if self.field is None or self.op is None:
            raise ValueError("a condition needs `fact`, or `field` and `op`")
        has_value, has_param = "value" in given, self.param is not None
        if self.op == "unknown":
            if has_value or has_param:
                raise ValueError("op `unknown` takes no value or param")
        elif has_value == has_param:
            raise ValueError(f"op `{self.op}` takes exactly one of `value` or `param`")
        return self


class Examples(Strict):
    fires: list[dict[str, Any]] = Field(min_length=1)
    not_fires: list[dict[str, Any]] = Field(default_factory=list)


class RuleSpec(Strict):
    id: str = Identifier
    version: int = Field(ge=1)
    date: dt.date
    effect: Effect
    category: str | None = None
    derives: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    label: str | None = Field(default=None, description="Name of the option, for variant rules only.")
    investigation: str | None = Field(default=None, description="Investigation id, for investigation rules only.")
    only_with_discussed: str | None = Field(
        default=None,
        description="Show this caveat, variant or argument only when that category is commonly discussed for the case.",
    )
    unless_fired: list[str] = Field(
        default_factory=list,
        description=(
            "Do not show this caveat, variant or argument when any of these rules fired for the case "
            "(for example an argument that a caveat on the same case contradicts)."
        ),
    )
    when: list[Condition] = Field(description="All must hold; an empty list matches every case.")
    because: str = Field(min_length=10)
    cites: list[CitationSpec] = Field(min_length=1)
    examples: Examples

    @model_validator(mode="after")
    def _effect_shape(self) -> "RuleSpec":
        wanted = {
            "derive": {"derives"},
            "investigation": {"investigation"},
            "variant": {"category", "label"},
        }.get(self.effect, {"category"})
        given = {k for k in ("category", "derives", "label", "investigation") if getattr(self, k) is not None}
        if given != wanted:
            raise ValueError(f"a {self.effect} rule names exactly {sorted(wanted)}, got {sorted(given)}")
        if self.only_with_discussed is not None and self.effect not in PRESENTATION_EFFECTS:
            raise ValueError(f"`only_with_discussed` applies to {sorted(PRESENTATION_EFFECTS)} rules only")
        if self.unless_fired and self.effect not in PRESENTATION_EFFECTS:
            raise ValueError(f"`unless_fired` applies to {sorted(PRESENTATION_EFFECTS)} rules only")
        if self.when and not self.examples.not_fires:
            raise ValueError("a rule with conditions needs at least one `not_fires` example")
        if not self.when and self.examples.not_fires:
            raise ValueError("a rule without conditions matches every case: it can have no `not_fires`")
        return self


class TopicFile(Strict):
    topic: str = Identifier
    title: str
    rules: list[RuleSpec] = Field(min_length=1)


class SourceSpec(Strict):
    id: str
    title: str
    publisher: str
    author: str | None = None
    document: str
    scope: str


class SourcesFile(Strict):
    sources: list[SourceSpec] = Field(min_length=1)


class Otherwise(Strict):
    because: str
    cites: list[CitationSpec] = Field(min_length=1)


class CategorySpec(Strict):
    id: str = Identifier
    label: str
    description: str
    cites: list[CitationSpec] = Field(min_length=1)
    otherwise: Otherwise


class LinkedCategory(Strict):
    """An investigation made relevant when a category is commonly discussed for the case."""

    category: str
    because: str
    cites: list[CitationSpec] = Field(min_length=1)


class InvestigationSpec(Strict):
    id: str = Identifier
    label: str
    purpose: str
    cites: list[CitationSpec] = Field(min_length=1)
    when_discussed: list[LinkedCategory] = Field(default_factory=list)


class InvestigationsFile(Strict):
    investigations: list[InvestigationSpec] = Field(min_length=1)


class CategoriesFile(Strict):
    categories: list[CategorySpec] = Field(min_length=1)


class ParameterSpec(Strict):
    id: str = Identifier
    label: str = Field(
        min_length=1, description="How explanations name the setting in words (its id is for rules, not people)."
    )
    value: float | int | list[str]
    meaning: str
    cites: list[CitationSpec] = Field(min_length=1)


class ParametersFile(Strict):
    parameters: list[ParameterSpec]


class RulebookMeta(Strict):
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    date: dt.date
    title: str
    disclaimer: str
    disclaimer_cites: list[CitationSpec] = Field(min_length=1)
    limits: str
    purpose: str
    not_for: str
    review: str
    example_base_case: dict[str, Any]

"""The explanation returned by POST /v1/explain and the catalogue responses."""

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from schemas.case import Case
from schemas.rulebook import Effect

# Category and source ids are strings here (the rulebook, loaded at start-up, decides them); the
# OpenAPI document names each as an enum component built from the loaded rulebook (app/openapi.py
# reads this mark). Elsewhere the mark is inert.
IDS_MARK = "x-livermets-ids"
CategoryId = Annotated[str, Field(json_schema_extra={IDS_MARK: "CategoryId"})]
SourceId = Annotated[str, Field(json_schema_extra={IDS_MARK: "SourceId"})]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Out):
    source: SourceId = Field(description="Source id; GET /v1/sources lists them.")
    section: str = Field(description="Heading of the document the quote stands under.")
    quote: str = Field(description="Verbatim passage of the source document.")


class InputUsed(Out):
    field: str
    value: Any = Field(description="The case's value; null when the input is unknown.")
    condition: str = Field(description="The test the rule applied, in words.")


class Statement(Out):
    """One fired rule: what it says, which inputs and derived facts it used, and its sources."""

    rule: str
    because: str
    inputs: list[InputUsed]
    derived_facts: list[str] = Field(description="Facts derived by other rules that this rule used.")
    citations: list[Citation]


class Variant(Statement):
    """A documented option inside a category (a technique, approach or timing)."""

    label: str


class Arguments(Out):
    """The considerations the sources give on each side, for this case."""

    in_favour: list[Statement]
    against: list[Statement]


Status = Literal["discussed", "not_discussed"]
Basis = Literal["case", "general"]


class Dependency(Out):
    """An unknown input whose value would move the category to the other list."""

    field: str
    value: Any = Field(description="A value the unknown input could have.")
    would_be: Status = Field(description="The category's status if the input had that value.")
    statement: str = Field(description="The same, in words.")


class DiscussedCategory(Out):
    category: CategoryId
    label: str
    basis: Basis = Field(
        description=(
            "`case`: a rule with conditions on this case puts the category here; `general`: the sources list "
            "it for liver metastases in general, with no case criteria."
        )
    )
    summary: str
    depends_on: list[Dependency] = Field(
        description="Unknown inputs that would move this category to not_discussed, with the value that would."
    )
    rationale: list[Statement]
    caveats: list[Statement]
    variants: list[Variant]
    arguments: Arguments
    citations: list[Citation]


class NotDiscussedCategory(Out):
    category: CategoryId
    label: str
    summary: str
    depends_on: list[Dependency] = Field(
        description="Unknown inputs that would move this category to discussed, with the value that would."
    )
    reasons: list[Statement]
    arguments: Arguments


class WhatIfChange(Out):
    """One single-input change that moves one category, found by re-evaluating the changed case."""

    category: CategoryId
    label: str
    field: str
    current_value: Any
    new_value: Any
    now: Status
    would_be: Status
    statement: str
    because: list[Statement] = Field(description="The rules that decide the category in the changed case.")


class CategoryMove(Out):
    category: CategoryId
    label: str
    now: Status
    would_be: Status


class RuleChange(Out):
    rule: str
    effect: str
    about: str = Field(description="The category or investigation the rule speaks to, or the fact it derives.")
    because: str


class UnknownInputEffect(Out):
    """What knowing one unknown optional input would change."""

    field: str
    value: Any
    changes: list[CategoryMove]
    rules_added: list[RuleChange] = Field(
        description="Rules (caveats, variants, arguments, ...) that would then apply."
    )
    rules_removed: list[RuleChange] = Field(description="Rules that apply now and would then no longer apply.")


class WhatIf(Out):
    changes: list[WhatIfChange]
    unknown_inputs: list[UnknownInputEffect]


class Investigation(Out):
    """An assessment the sources describe as usually done before treatment is chosen."""

    id: str
    label: str
    purpose: str
    citations: list[Citation]
    relevance: list[Statement] = Field(description="What in this case makes it relevant, or a caution.")


class DerivedFact(Out):
    fact: str
    derived_by: list[Statement]


class RulebookStamp(Out):
    version: str
    date: dt.date
    digest: str = Field(
        description=(
            "sha256 of the rulebook's content as loaded (rules, categories, parameters, investigations, "
            "sources, wording): the same rulebook always has the same digest, whatever its file layout."
        )
    )


def _no_default(schema: dict[str, Any]) -> None:
    """No `default: null` in the published schema for a member that is absent rather than null."""
    schema.pop("default", None)


class Explanation(Out):
    disclaimer: str
    disclaimer_citations: list[Citation]
    limits: str = Field(description="What the sources, and so this explanation, do not cover.")
    case: Case
    unknown_inputs: list[str] = Field(description="Optional inputs not given: treated as unknown, never guessed.")
    discussed: list[DiscussedCategory]
    not_discussed: list[NotDiscussedCategory]
    derived_facts: list[DerivedFact] = Field(description="The chain: facts rules derived and then used.")
    investigations: list[Investigation]
    # Absent (not null) unless requested: the answer writer (app/core/answer_json.py) leaves it out too.
    what_if: WhatIf | SkipJsonSchema[None] = Field(
        default=None,
        exclude_if=lambda value: value is None,
        json_schema_extra=_no_default,
        description="Present only when requested with ?what_if=true.",
    )
    rulebook: RulebookStamp


class SourceOut(Out):
    id: SourceId
    title: str
    publisher: str
    author: str | None
    document: str
    scope: str


class CategoryOut(Out):
    id: CategoryId
    label: str
    description: str
    citations: list[Citation]


class ConditionOut(Out):
    field: str | None = None
    op: str | None = None
    value: Any = None
    param: str | None = None
    fact: str | None = None
    text: str


class RuleOut(Out):
    id: str
    file: str
    version: int
    date: dt.date
    effect: Effect
    category: CategoryId | None
    derives: str | None
    label: str | None
    investigation: str | None
    only_with_discussed: CategoryId | None
    unless_fired: list[str]
    when: list[ConditionOut]
    because: str
    citations: list[Citation]


class ParameterOut(Out):
    id: str
    label: str
    value: float | int | list[str]
    meaning: str
    citations: list[Citation]


class RulebookOut(Out):
    version: str
    date: dt.date
    digest: str
    parameters: list[ParameterOut]
    rules: list[RuleOut]


class InputDifference(Out):
    field: str
    a: Any
    b: Any


class CategoryDifference(Out):
    category: CategoryId
    label: str
    a: Status
    b: Status
    a_because: list[Statement] = Field(description="What decides the category for case a.")
    b_because: list[Statement] = Field(description="What decides the category for case b.")


class CompareRequest(Out):
    a: Case
    b: Case


class Comparison(Out):
    disclaimer: str
    changed_inputs: list[InputDifference]
    differences: list[CategoryDifference]
    unchanged: list[CategoryId] = Field(description="Categories with the same status for both cases.")
    rulebook: RulebookStamp


class QuoteCheck(Out):
    """Whether the rulebook's quotes were found verbatim in the source documents, and when. The documents
    are not shipped with the image, so a server may start without them and rely on a recorded check."""

    at_start_up: bool = Field(
        description="true: this server found every quote verbatim in the source documents when it started."
    )
    verified_digest: str | None = Field(
        description="The rulebook digest whose quotes were verified against the documents: the digest of the "
        "rulebook in use, or null when no check of this rulebook is known."
    )
    verified_at: dt.datetime | None = Field(description="When that check ran (UTC): this start-up, or as recorded.")
    statement: str = Field(description="The same, in one sentence for people.")


class About(Out):
    purpose: str
    not_for: str
    rulebook: RulebookStamp
    quotes: QuoteCheck
    sources: list[SourceOut]
    review: str
    limits: str


class Health(Out):
    status: Literal["ok"]
    rulebook: RulebookStamp

"""The explanation returned by POST /v1/explain and the catalogue responses."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.case import Case


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Out):
    source: str = Field(description="Source id; GET /v1/sources lists them.")
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


class DiscussedCategory(Out):
    category: str
    label: str
    summary: str
    rationale: list[Statement]
    caveats: list[Statement]
    citations: list[Citation]


class NotDiscussedCategory(Out):
    category: str
    label: str
    summary: str
    reasons: list[Statement]


class DerivedFact(Out):
    fact: str
    derived_by: list[Statement]


class RulebookStamp(Out):
    version: str
    date: dt.date


class Explanation(Out):
    disclaimer: str
    disclaimer_citations: list[Citation]
    limits: str = Field(description="What the sources, and so this explanation, do not cover.")
    case: Case
    unknown_inputs: list[str] = Field(description="Optional inputs not given: treated as unknown, never guessed.")
    discussed: list[DiscussedCategory]
    not_discussed: list[NotDiscussedCategory]
    derived_facts: list[DerivedFact] = Field(description="The chain: facts rules derived and then used.")
    rulebook: RulebookStamp


class SourceOut(Out):
    id: str
    title: str
    publisher: str
    author: str | None
    document: str
    scope: str


class CategoryOut(Out):
    id: str
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
    effect: Literal["discussed", "not_discussed", "caveat", "derive"]
    category: str | None
    derives: str | None
    when: list[ConditionOut]
    because: str
    citations: list[Citation]


class ParameterOut(Out):
    id: str
    value: float | int | list[str]
    meaning: str
    citations: list[Citation]


class RulebookOut(Out):
    version: str
    date: dt.date
    parameters: list[ParameterOut]
    rules: list[RuleOut]


class Health(Out):
    status: Literal["ok"]
    rulebook: RulebookStamp

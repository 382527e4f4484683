"""Exercises for teaching: the vignette file format (exercises/vignettes/*.yaml) and the items, answer
sheets and scored feedback of the /v1/exercises API. Every key is computed by the engine from a case;
nothing here holds a typed answer except a vignette's optional `expect`, which only a test reads."""

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from schemas.case import Case
from schemas.explanation import Basis, Citation, Dependency, RulebookStamp, Statement, Status

Difficulty = Literal["introductory", "intermediate", "advanced"]
KeyStatus = Literal["discussed", "not_discussed", "depends"]
ItemType = Literal["status", "change", "why_not", "concordance"]
Mode = Literal["practice", "test"]
ExportFormat = Literal["moodle-xml", "qti12", "anki", "handout"]
KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CONCORDANCE_NOTE = (
    "Keyed by the rulebook, not a validated script concordance test: the key is the change in the engine's "
    "answer, not a panel of experts."
)
MAX_VARIANTS = 5
MAX_SEED = 2**31 - 1


class FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VignetteSource(FileModel):
    source: str = Field(description="Id of a source in rules/sources.yaml.")
    quote: str = Field(min_length=10, max_length=600, description="Verbatim passage of that document.")
    section: str | None = Field(default=None, description="Heading the quote stands under (checked when given).")


class VignetteFile(FileModel):
    """One file of exercises/vignettes/: a case to teach with, and what it is meant to teach."""

    id: str = Field(pattern=KEBAB, max_length=80, description="Stable kebab-case id, equal to the file name stem.")
    version: int = Field(ge=1)
    date: dt.date
    title: str = Field(min_length=3, max_length=200)
    story: str = Field(min_length=10, max_length=4000, description="The clinical story the learner reads.")
    case: Case
    objectives: list[str] = Field(min_length=1)
    difficulty: Difficulty
    tags: list[str] = Field(default_factory=list)
    rules: list[str] = Field(min_length=1, description="Ids of the rules the vignette is meant to exercise.")
    sources: list[VignetteSource] = Field(min_length=1)
    expect: dict[str, KeyStatus] = Field(
        default_factory=dict,
        description="Category id -> the status the author means to teach. Checked by a test, never at start-up.",
    )


# ---- The API ---------------------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExerciseSummary(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "crc-solitary-fit",
                    "title": "A single colorectal liver metastasis in a fit patient",
                    "objectives": ["Name the local treatments the sources describe for a single small metastasis."],
                    "difficulty": "introductory",
                    "tags": ["colorectal", "boundary-size"],
                }
            ]
        }
    )

    id: str
    title: str
    objectives: list[str]
    difficulty: Difficulty
    tags: list[str]


class Choice(Out):
    value: str | int = Field(description="What to send as the answer to the item.")
    text: str


class FactorChange(Out):
    field: str
    before: Any = Field(description="The value in the case the learner saw (null: unknown).")
    after: Any
    text: str


class ItemKey(Out):
    status: KeyStatus = Field(
        description="The engine's answer for the category in the item's case (for a change item, in `case_after`): "
        "`depends` exactly where the answer gives the category a non-empty `depends_on`."
    )
    basis: Basis | None = Field(default=None, description="For a discussed category: `case` or `general`.")
    option: str | None = Field(default=None, description="why_not: the value of the correct choice.")
    value: int | None = Field(default=None, ge=-2, le=2, description="concordance: the key on the -2..+2 scale.")


class Item(Out):
    """One scored question about one category. `key`, `before` and `after` are null unless asked for."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "crc-solitary-fit.concordance.lesion_count-4.ablation",
                    "type": "concordance",
                    "exercise": "crc-solitary-fit",
                    "parent": None,
                    "category": "ablation",
                    "label": "Ablation",
                    "prompt": "Considering Ablation for this case, you learn that lesion count is 4 (instead of 1). "
                    "Ablation becomes:",
                    "choices": [{"value": -2, "text": "-2: much less likely to be commonly discussed"}],
                    "group": "crc-solitary-fit.lesion_count-4",
                    "change": {
                        "field": "lesion_count",
                        "before": 1,
                        "after": 4,
                        "text": "lesion count is 4 (instead of 1)",
                    },
                    "case_after": {
                        "primary_site": "colorectal",
                        "lesion_count": 4,
                        "largest_lesion_cm": 2.0,
                        "extrahepatic_disease": "none",
                        "liver_function": "normal",
                        "performance_status": 0,
                    },
                    "before": "discussed",
                    "after": "not_discussed",
                    "key": {"status": "not_discussed", "basis": None, "option": None, "value": -2},
                    "note": CONCORDANCE_NOTE,
                }
            ]
        }
    )

    id: str = Field(description="Stable: exercise id, type, then the change and category it is about.")
    type: ItemType
    exercise: str = Field(description="The exercise (vignette or variant) the item belongs to.")
    parent: str | None = Field(
        default=None, description="For a variant's item: the id of the same item of the parent vignette."
    )
    category: str
    label: str
    prompt: str
    choices: list[Choice]
    group: str | None = Field(default=None, description="change and concordance: the change the item is about.")
    change: FactorChange | None = None
    case_after: Case | None = Field(
        default=None, description="change, concordance: the case with the one factor changed."
    )
    before: KeyStatus | None = Field(default=None, description="change: the engine's answer before the change.")
    after: KeyStatus | None = Field(default=None, description="change: the engine's answer after the change.")
    key: ItemKey | None = None
    note: str | None = Field(default=None, description="concordance: what the key is and is not.")


class Exercise(Out):
    id: str
    title: str
    story: str
    case: Case
    objectives: list[str]
    difficulty: Difficulty
    tags: list[str]
    rules: list[str]
    sources: list[VignetteSource]
    parent: str | None = Field(default=None, description="For a generated variant: the vignette it comes from.")
    changes: list[FactorChange] = Field(
        default_factory=list, description="For a variant: what differs from the parent."
    )
    items: list[Item]


class ExerciseDetail(Out):
    exercise: Exercise
    variants: list[Exercise] = Field(description="Generated variants (with `seed` and `variants` > 0).")
    seed: int | None
    disclaimer: str
    rulebook: RulebookStamp


class AnswerSheet(Out):
    mode: Mode = Field(
        default="practice",
        description="practice: score and feedback for each answered item. test: the final submission; every item "
        "of the exercise (and its variants) is scored, unanswered ones 0, and feedback comes for all of them.",
    )
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="The seed the variants were made with.")
    variants: int = Field(default=0, ge=0, le=MAX_VARIANTS, description="Variants per vignette; none without `seed`.")
    answers: dict[str, StrictStr | StrictInt] = Field(
        description="Item id -> answer: a status (`discussed`, `not_discussed`, `depends`) for status and change "
        "items, a choice value for why_not, an integer -2..2 for concordance.",
        max_length=1000,
    )


class Feedback(Out):
    correct: bool
    answer: str | int | None
    answer_text: str
    key: ItemKey
    key_text: str
    category_status: Status = Field(description="The category's list in the engine's answer for the keyed case.")
    basis: Basis | None = None
    before: KeyStatus | None = None
    after: KeyStatus | None = None
    reasons: list[Statement] = Field(description="The rules that decide the category for the keyed case.")
    reasons_before: list[Statement] = Field(default_factory=list, description="change/concordance: before the change.")
    depends_on: list[Dependency]
    citations: list[Citation] = Field(description="The verbatim quotes behind the reasons, with source and section.")
    note: str | None = None
    disclaimer: str


class ItemResult(Out):
    id: str
    type: ItemType
    exercise: str
    parent: str | None
    category: str
    answer: str | int | None
    score: float = Field(ge=0, le=1)
    feedback: Feedback


class MissedRule(Out):
    rule: str
    because: str
    missed: int = Field(description="Items scored below 1 whose key this rule decides.")


class ScoreReport(Out):
    exercise: str
    mode: Mode
    results: list[ItemResult]
    score: float
    max_score: int = Field(description="Items scored (practice: answered ones; test: all).")
    unanswered: list[str] = Field(description="test: items not answered (scored 0).")
    most_missed_rules: list[MissedRule]
    disclaimer: str
    rulebook: RulebookStamp

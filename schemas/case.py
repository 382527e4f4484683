"""The case description a caller sends: the request contract of POST /v1/explain."""

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

PrimarySite = Literal[
    "colorectal",
    "breast",
    "lung",
    "pancreas",
    "stomach",
    "oesophagus",
    "kidney",
    "ovary",
    "uterus",
    "melanoma",
    "uveal_melanoma",
    "neuroendocrine",
    "prostate",
    "unknown",
    "other",
]
ExtrahepaticDisease = Literal["none", "limited", "extensive"]
LiverFunction = Literal["normal", "impaired", "cirrhosis"]
LobarDistribution = Literal["unilobar", "bilobar"]
PrimaryTumourStatus = Literal["in_place", "resected"]
PriorTreatment = Literal["chemotherapy", "liver_resection", "ablation", "radiotherapy", "embolisation"]
KrasStatus = Literal["mutant", "wild_type"]
HormoneReceptorStatus = Literal["positive", "negative"]
TechnicalResectability = Literal["resectable", "potentially_resectable", "unresectable"]

# Each treatment at most once (the validator below enforces it; the schema says so too).
TreatmentList = Annotated[list[PriorTreatment], Field(max_length=5, json_schema_extra={"uniqueItems": True})]


class Case(BaseModel):
    """A de-identified description of one case of liver metastases."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "primary_site": "colorectal",
                    "lesion_count": 2,
                    "largest_lesion_cm": 2.5,
                    "extrahepatic_disease": "none",
                    "liver_function": "normal",
                    "performance_status": 0,
                }
            ]
        },
    )

    primary_site: PrimarySite = Field(title="Primary site", description="Where the cancer started.")
    lesion_count: int = Field(
        title="Number of liver lesions", ge=1, le=100, description="Number of liver lesions (1-100)."
    )
    # The minimum of 0.01 cm (0.1 mm) keeps sizes in the range the rules engine can read (it cannot
    # parse numbers below 0.0001, which JSON writes in exponent form); no lesion is smaller.
    largest_lesion_cm: float = Field(
        title="Largest lesion diameter (cm)",
        ge=0.01,
        le=30,
        description="Diameter of the largest liver lesion in centimetres (0.01-30).",
    )
    extrahepatic_disease: ExtrahepaticDisease = Field(
        title="Disease outside the liver",
        description="Cancer outside the liver (other than the primary): none, limited or extensive.",
    )
    liver_function: LiverFunction | None = Field(
        title="Liver function",
        default=None,
        description="How well the liver works: normal, impaired or cirrhosis; absent = unknown.",
    )
    performance_status: int = Field(
        title="ECOG performance status",
        ge=0,
        le=4,
        description="ECOG performance status, 0 (fully active) to 4 (completely disabled).",
    )
    symptomatic: bool | None = Field(
        title="Symptoms from the cancer", default=None, description="Symptoms from the cancer; absent = unknown."
    )
    lobar_distribution: LobarDistribution | None = Field(
        title="Lobar distribution", default=None, description="Lesions in one liver lobe or both; absent = unknown."
    )
    primary_tumour_status: PrimaryTumourStatus | None = Field(
        title="Primary tumour status",
        default=None,
        description="Primary tumour still in place or already removed; absent = unknown.",
    )
    prior_treatments: TreatmentList | None = Field(
        title="Prior treatments",
        default=None,
        description="Treatments already given; [] = none, absent = unknown.",
    )
    kras_status: KrasStatus | None = Field(
        title="KRAS status", default=None, description="KRAS gene status; absent = unknown."
    )
    hormone_receptor_status: HormoneReceptorStatus | None = Field(
        title="Hormone-receptor status",
        default=None,
        description="Hormone-receptor status of the tumour; absent = unknown.",
    )
    declines_surgery: bool | None = Field(
        title="Declines surgery",
        default=None,
        description="The patient does not wish to have an operation; absent = unknown.",
    )
    technical_resectability: TechnicalResectability | None = Field(
        title="Technical resectability",
        default=None,
        description=(
            "An experienced liver surgeon's assessment of the size, number and location of the liver "
            "metastases: resectable, potentially_resectable (might become removable if they shrink) or "
            "unresectable; absent = unknown (not yet assessed)."
        ),
    )
    systemic_disease_controlled: bool | None = Field(
        title="Systemic disease controlled",
        default=None,
        description="The cancer elsewhere in the body is stable and controlled; absent = unknown.",
    )
    ascites: bool | None = Field(
        title="Ascites", default=None, description="Fluid in the abdomen (ascites); absent = unknown."
    )
    other_treatments_exhausted: bool | None = Field(
        title="Other treatments exhausted",
        default=None,
        description="All other appropriate treatments have been tried; absent = unknown.",
    )

    @model_validator(mode="before")
    @classmethod
    def _accept_integral_floats(cls, data: object) -> object:
        # The published JSON Schema says `integer`, which admits 3.0 (and 3e0): a float with a whole
        # value is that integer. 3.5, booleans and strings are still refused by the strict fields.
        # The fields are read from the model (INTEGER_FIELDS, below the class): a new integer input
        # needs no change here.
        if not isinstance(data, dict):
            return data
        found = [n for n in INTEGER_FIELDS if type(data.get(n)) is float and data[n].is_integer()]
        if not found:
            return data
        return {**data, **{n: int(data[n]) for n in found}}

    @field_validator("largest_lesion_cm", mode="before")
    @classmethod
    def _accept_integers(cls, value: object, info: ValidationInfo) -> object:
        # Strict mode would refuse a JSON integer such as 3 for a size; a whole number is a size too.
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:  # beyond any float (10**400): out of range, not a server error
                low, high = _bounds(info.field_name or "")
                if value > 0:
                    raise PydanticCustomError(
                        "less_than_equal", "Input should be less than or equal to {le}", {"le": high}
                    ) from None
                raise PydanticCustomError(
                    "greater_than_equal", "Input should be greater than or equal to {ge}", {"ge": low}
                ) from None
        return value

    @field_validator("prior_treatments")
    @classmethod
    def _no_repeats(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("each prior treatment may be listed once")
        return value

    def known_facts(self) -> dict[str, object]:
        """The case as engine input: unknown (absent) optional fields are left out, not guessed."""
        return self.model_dump(exclude_none=True)

    def unknown_inputs(self) -> list[str]:
        return [name for name in OPTIONAL_FIELDS if getattr(self, name) is None]


def _annotation_types(annotation: Any) -> set[Any]:
    """The plain types an input's annotation admits (Optional, Annotated and Literal unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _annotation_types(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return {t for arg in get_args(annotation) if arg is not type(None) for t in _annotation_types(arg)}
    if origin is Literal:
        return {type(v) for v in get_args(annotation)}
    return {origin or annotation}


def _bounds(name: str) -> tuple[Any, Any]:
    metadata = Case.model_fields[name].metadata
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    return low, high


# Every list of inputs is read from the model, so a new input is one field above (and the page's form).
# Optional inputs: absent (or null) means "unknown", and the explanation says so.
OPTIONAL_FIELDS: tuple[str, ...] = tuple(n for n, f in Case.model_fields.items() if not f.is_required())
NUMERIC_FIELDS: frozenset[str] = frozenset(
    n for n, f in Case.model_fields.items() if _annotation_types(f.annotation) <= {int, float}
)
LIST_FIELDS: frozenset[str] = frozenset(
    n for n, f in Case.model_fields.items() if list in _annotation_types(f.annotation)
)
INTEGER_FIELDS: frozenset[str] = frozenset(
    n for n, f in Case.model_fields.items() if _annotation_types(f.annotation) == {int}
)


def field_label(name: str) -> str:
    """How prose names an input: the quoted title of the Case field (`"Primary site"`), the name
    itself (quoted) for anything that is not an input."""
    info = Case.model_fields.get(name)
    return f'"{info.title}"' if info is not None and info.title else f'"{name}"'


def value_words(value: Any) -> str:
    """An input's value as prose shows it: yes/no, words for ids (`uveal melanoma`), lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "unknown"
    if isinstance(value, list):
        return ", ".join(value_words(v) for v in value) if value else "none"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("_", " ")

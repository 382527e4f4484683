"""Reading FHIR resources with `fhir.resources` (its R4B models read the R4 resources used here):
validation, a resource's name in messages, codings, dates and the states that are not read."""

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NoReturn

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.codeableconcept import CodeableConcept
from pydantic import ValidationError

from app.fhir.codes import codes
from app.fhir.found import FhirInputError, Problem


@dataclass(frozen=True)
class Resource:
    """A validated resource, with the name messages and `mapped_from` use for it."""

    label: str  # Type/id, or entry[i] (its place in the input) when it has no id
    type: str
    model: Any  # the fhir.resources model instance


def element_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(raw: Any, where: str) -> Resource:
    """One resource validated by its fhir.resources model; `where` names it when it has no id."""
    if not isinstance(raw, Mapping):
        raise_problems([Problem(where, "", "a FHIR resource must be a JSON object")])
    kind = raw.get("resourceType")
    rid = raw.get("id")
    label = f"{kind}/{rid}" if isinstance(kind, str) and isinstance(rid, str) and rid else where
    if not isinstance(kind, str):
        raise_problems([Problem(where, "resourceType", "every resource needs a resourceType")])
    try:
        model_class = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        raise_problems([Problem(label, "resourceType", f"{kind!r} is not a FHIR R4 resource type", "unknown_resource")])
    try:
        model = model_class.model_validate(dict(raw))
    except ValidationError as err:
        raise_problems([Problem(label, element_path(tuple(e["loc"])), e["msg"], e["type"]) for e in err.errors()[:20]])
    return Resource(label, kind, model)


def raise_problems(problems: list[Problem]) -> NoReturn:
    raise FhirInputError(problems)


_LOCAL_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


def local_reference(reference: Any) -> str:
    """A reference as `Type/id` when it names one (`Patient/p1`, or an absolute URL ending so), else as given
    (`urn:uuid:...`): the same resource referred to both ways is then one resource."""
    text = str(reference or "")
    found = _LOCAL_REFERENCE.search(text)
    return found.group(1) if found else text


def references(items: Any) -> list[str]:
    """The references of a list of Reference elements (those that have one), as `local_reference` gives."""
    return [local_reference(ref.reference) for ref in items or [] if ref.reference]


def codings(concept: CodeableConcept | None) -> Iterator[tuple[int, str, str]]:
    """(index, system, code) of every coding of a CodeableConcept that has both."""
    for i, coding in enumerate((concept.coding or []) if concept is not None else []):
        if coding.system and coding.code:
            yield i, str(coding.system), str(coding.code)


def has_code(concept: CodeableConcept | None, systems: frozenset[str], *wanted: str) -> bool:
    return any(s in systems and c in wanted for _, s, c in codings(concept))


def loinc(concept: CodeableConcept | None) -> set[str]:
    return {c for _, s, c in codings(concept) if s in codes().loinc}


def profiles(model: Any) -> set[str]:
    meta = getattr(model, "meta", None)
    # A profile may be claimed with a version (`...|4.0.0`): the canonical URL is what counts.
    return {str(p).split("|")[0] for p in ((meta.profile or []) if meta is not None else [])}


def when(model: Any) -> datetime | None:
    """When an observation holds: effective[x] (a period's end, else its start), else `issued`."""
    period = getattr(model, "effectivePeriod", None)
    for value in (
        getattr(model, "effectiveDateTime", None),
        getattr(model, "effectiveInstant", None),
        period.end if period is not None else None,
        period.start if period is not None else None,
        getattr(model, "issued", None),
    ):
        if value is not None:
            return _instant(value)
    return None


def _instant(value: Any) -> datetime:
    # Dates come as datetime (with or without zone), date, or a partial "2024" / "2024-03" string.
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    parts = [int(p) for p in str(value).split("-")[:3]]
    while len(parts) < 3:
        parts.append(1)
    return datetime(parts[0], parts[1], parts[2], tzinfo=UTC)


def latest(items: list[tuple[Resource, Any]]) -> tuple[Resource, Any] | None:
    """The item of the latest observation; undated ones count as oldest, and of equal dates the later in
    the input wins."""
    oldest = datetime.min.replace(tzinfo=UTC)
    best: tuple[Resource, Any] | None = None
    best_when = oldest
    for item in items:
        at = when(item[0].model) or oldest
        if best is None or at >= best_when:
            best, best_when = item, at
    return best


def observation_read(res: Resource) -> bool:
    return str(res.model.status) not in codes().raw["ignored_observation_status"]


def condition_read(res: Resource, current_only: bool) -> bool:
    """Refuted or erroneous Conditions are never read; `current_only` also skips inactive ones."""
    c = codes().raw
    verification = {code for _, _, code in codings(res.model.verificationStatus)}
    if verification & set(c["ignored_verification_status"]):
        return False
    clinical = {code for _, _, code in codings(res.model.clinicalStatus)}
    return not (current_only and clinical & set(c["inactive_clinical_status"]))

"""FHIR R4 (mCODE STU4) to a Case: the one entry point of the FHIR mapping, free of any web framework.

`resources_from_bundle` unpacks a Bundle (collection or searchset); `map_resources` validates every
resource with `fhir.resources` and reads the case from them, saying for every case field where it came
from (`mapped_from`) or that it was not found and is left unknown, never guessed. Which codes mean
what is data (codes.yaml); the conventions the mapping adds are stated in the README (EHR integration)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from app.fhir.codes import codes
from app.fhir.conditions import liver_function, metastases, primary_site
from app.fhir.found import FhirInputError, Finding, Missing, Problem
from app.fhir.observations import ecog, hormone_receptors, kras, lesions
from app.fhir.read import Resource, element_path, local_reference, validate
from schemas.case import Case

__all__ = ["FhirInputError", "Mapped", "Missing", "Problem", "map_resources", "resources_from_bundle"]

BUNDLE_TYPES = ("collection", "searchset")
NOT_READ = "not found: this mapping does not read it from FHIR; left unknown"
# The inputs without which no case can be explained, in the order they are reported.
REQUIRED = ("primary_site", "liver_metastases", "lesion_count", "largest_lesion_cm", "performance_status")


@dataclass(frozen=True)
class Mapped:
    case: Case | None  # None when a required input is missing or there are no liver metastases
    missing: list[Missing]  # required inputs not found, with what was looked for
    liver_metastases: bool
    mapped_from: dict[str, Any]  # case field -> [{"reference", "element"[, "note"]}] or a note

    @property
    def from_absence(self) -> frozenset[str]:
        """The case fields with a value read from the absence of coded data (no resource says it): a card or
        page must not show it as charted."""
        if self.case is None:
            return frozenset()
        known = self.case.known_facts()
        return frozenset(n for n, src in self.mapped_from.items() if n in known and isinstance(src, str))


def looked_for() -> dict[str, str]:
    """For each required input, what the mapping looks for (named in a 422 or a card when it is missing)."""
    c = codes()
    sites = ", ".join(p for s in c.primary_site.values() for p in s.describe().split(" or ") if p.startswith("ICD"))
    ecog_codes = ", ".join(code for code, score in c.raw["ecog"]["answers"].items() if 0 <= score <= 4)
    size = c.raw["tumor_size"]
    return {
        "primary_site": "a Condition (mcode-primary-cancer-condition) with a primary cancer code (ICD-10 "
        + sites.replace("ICD-10 ", "")
        + ", or a SNOMED CT code of app/fhir/codes.yaml)",
        "liver_metastases": "a current Condition (mcode-secondary-cancer-condition) coded "
        + c.liver_metastases.describe(),
        "lesion_count": f"Observations with LOINC {size['code']} (mcode-tumor-size) naming each liver lesion "
        "in `focus`",
        "largest_lesion_cm": f"an Observation with LOINC {size['code']} (mcode-tumor-size) with component "
        f"{size['largest_diameter']} (largest diameter) in cm or mm",
        "performance_status": f"an Observation with LOINC {c.raw['ecog']['code']} (mcode-ecog-performance-status): "
        f"valueInteger 0-4, or an LA code ({ecog_codes}) in valueCodeableConcept or interpretation",
    }


def resources_from_bundle(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a collection or searchset Bundle, in entry order (a search's OperationOutcome
    entries are left out). Raises FhirInputError naming the entry and element at fault."""
    if not isinstance(bundle, dict):
        raise FhirInputError([Problem("Bundle", "", "a FHIR Bundle (a JSON object) is required")])
    label = f"Bundle/{bundle['id']}" if isinstance(bundle.get("id"), str) else "Bundle"
    if bundle.get("resourceType") != "Bundle":
        raise FhirInputError([Problem(label, "resourceType", "must be 'Bundle'")])
    if bundle.get("type") not in BUNDLE_TYPES:
        raise FhirInputError([Problem(label, "type", "must be 'collection' or 'searchset'")])
    entries = bundle.get("entry") or []
    problems: list[Problem] = []
    if not isinstance(entries, list):
        raise FhirInputError([Problem(label, "entry", "must be a list of entries")])
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            problems.append(Problem(f"entry[{i}]", "resource", "every entry needs a resource (a JSON object)"))
    if problems:
        raise FhirInputError(problems)
    # The envelope is validated by the Bundle model; each resource on its own in map_resources.
    try:
        Bundle.model_validate({**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"} for e in entries]})
    except ValidationError as err:
        raise FhirInputError(
            [Problem(label, element_path(tuple(e["loc"])), e["msg"], e["type"]) for e in err.errors()[:20]]
        ) from None
    return [e["resource"] for e in entries if e["resource"].get("resourceType") != "OperationOutcome"]


def _one_patient(resources: list[Resource]) -> None:
    subjects: dict[str, str] = {}
    for res in resources:
        subject = getattr(res.model, "subject", None)
        if subject is not None and subject.reference:
            subjects.setdefault(local_reference(subject.reference), res.label)
    if len(subjects) > 1:
        shown = ", ".join(f"{ref} ({label})" for ref, label in subjects.items())
        first = list(subjects.values())[1]
        raise FhirInputError(
            [Problem(first, "subject.reference", f"the resources are about several patients: {shown}")]
        )


def map_resources(resources: Sequence[dict[str, Any]]) -> Mapped:
    """The case the resources describe. Raises FhirInputError for a malformed resource (naming it and the
    element), resources about several patients, or a value outside what a case takes."""
    validated: list[Resource] = []
    problems: list[Problem] = []
    for i, raw in enumerate(resources):
        try:
            validated.append(validate(raw, f"entry[{i}]"))
        except FhirInputError as err:
            problems += err.problems
            if len(problems) >= 20:  # enough to report; the rest of a large Bundle is not read
                break
    if problems:
        raise FhirInputError(problems[:20])
    _one_patient(validated)
    conditions = [r for r in validated if r.type == "Condition"]
    observations = [r for r in validated if r.type == "Observation"]
    liver, extrahepatic = metastases(conditions)
    count, size = lesions(observations, {r.label: r for r in validated})
    performance, ecog_problems = ecog(observations)
    if ecog_problems:
        raise FhirInputError(ecog_problems)
    found: dict[str, Finding] = {
        "primary_site": primary_site(conditions),
        "liver_metastases": liver,
        "lesion_count": count,
        "largest_lesion_cm": size,
        "extrahepatic_disease": extrahepatic,
        "liver_function": liver_function(conditions),
        "performance_status": performance,
        "kras_status": kras(observations),
        "hormone_receptor_status": hormone_receptors(observations),
    }
    wanted = looked_for()
    missing = [Missing(name, wanted[name]) for name in REQUIRED if found[name].value is None]
    for item in missing:
        found[item.field].note = f"not found: looked for {item.looked_for}"
    mapped_from = {name: found[name].provenance() if name in found else NOT_READ for name in Case.model_fields}
    mapped_from["liver_metastases"] = found["liver_metastases"].provenance()
    return Mapped(_case(found) if not missing else None, missing, liver.value is True, mapped_from)


def _case(found: dict[str, Finding]) -> Case:
    values = {n: f.value for n, f in found.items() if n in Case.model_fields and f.value is not None}
    try:
        return Case.model_validate(values)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            origin = found[name].sources[0] if name in found and found[name].sources else None
            resource, element = (origin["reference"], origin["element"]) if origin else ("Bundle", name)
            problems.append(Problem(resource, element, f"{name}: {e['msg']}", e["type"]))
        raise FhirInputError(problems) from None

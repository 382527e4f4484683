"""The golden FHIR Bundles (tests/fixtures/fhir/) and small builders for variations of them."""

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "fhir"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
SNOMED, ICD10, LOINC = "http://snomed.info/sct", "http://hl7.org/fhir/sid/icd-10-cm", "http://loinc.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
SUBJECT = {"reference": "Patient/p1"}


def golden(name: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return bundle


def resources(name: str) -> list[dict[str, Any]]:
    return [copy.deepcopy(e["resource"]) for e in golden(name)["entry"]]


def without(found: list[dict[str, Any]], *ids: str) -> list[dict[str, Any]]:
    return [r for r in found if r.get("id") not in ids]


def concept(*codings: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": s, "code": c} for s, c in codings]}


def condition(cid: str, *codings: tuple[str, str], profile: str | None = None, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"resourceType": "Condition", "id": cid, "code": concept(*codings), "subject": SUBJECT}
    if profile:
        found["meta"] = {"profile": [MCODE + profile]}
    return {**found, **more}


def primary(*codings: tuple[str, str], histology: tuple[str, str] | None = None, **more: Any) -> dict[str, Any]:
    extra = {}
    if histology:
        url = MCODE + "mcode-histology-morphology-behavior"
        extra["extension"] = [{"url": url, "valueCodeableConcept": concept(histology)}]
    return condition("primary", *codings, profile="mcode-primary-cancer-condition", **extra, **more)


def secondary(cid: str, *codings: tuple[str, str], **more: Any) -> dict[str, Any]:
    return condition(cid, *codings, profile="mcode-secondary-cancer-condition", **more)


def observation(oid: str, code: str, date: str | None = None, **more: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": concept((LOINC, code)),
        "subject": SUBJECT,
    }
    if date:
        found["effectiveDateTime"] = date
    return {**found, **more}


def ecog(oid: str, score: int, date: str) -> dict[str, Any]:
    return observation(oid, "89247-1", date, valueInteger=score)


def tumour_size(oid: str, focus: str | None, value: float, unit: str, date: str, **more: Any) -> dict[str, Any]:
    component = [
        {
            "code": concept((LOINC, "33728-7")),
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
        }
    ]
    extra: dict[str, Any] = {"focus": [{"reference": focus}]} if focus else {}
    return observation(oid, "21889-1", date, component=component, **extra, **more)


def marker(oid: str, loinc_code: str, answer: str, date: str = "2026-10-01") -> dict[str, Any]:
    return observation(oid, loinc_code, date, valueCodeableConcept=concept((LOINC, answer)))


def kras(oid: str, answer: str) -> dict[str, Any]:
    gene = [
        {
            "code": concept((LOINC, "48018-6")),
            "valueCodeableConcept": concept(("http://www.genenames.org/geneId", "HGNC:6407")),
        }
    ]
    return observation(oid, "69548-6", "2026-10-01", valueCodeableConcept=concept((LOINC, answer)), component=gene)


def bundle(found: list[dict[str, Any]], kind: str = "collection") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in found]}

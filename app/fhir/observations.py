"""Case inputs read from Observations: liver lesions (count, largest size), ECOG, KRAS, hormone receptors.
Which code means what is in codes.yaml; the conventions are stated in the README (EHR integration)."""

from decimal import Decimal
from typing import Any

from app.fhir.codes import codes
from app.fhir.conditions import is_liver_metastasis
from app.fhir.found import Finding, Problem, source
from app.fhir.read import (
    Resource,
    codings,
    has_code,
    latest,
    loinc,
    observation_read,
    profiles,
    raise_problems,
    references,
)


def _of_kind(observations: list[Resource], profile: str, *loinc_codes: str) -> list[Resource]:
    """Observations with one of the LOINC codes (or claiming the mCODE profile) that are not in error."""
    url = codes().profiles[profile]
    return [
        o
        for o in observations
        if observation_read(o) and (loinc(o.model.code) & set(loinc_codes) or url in profiles(o.model))
    ]


def _site_codes(concept: Any) -> set[str]:
    return {code for _, s, code in codings(concept) if s in codes().snomed}


def _off_liver(obs: Resource, by_label: dict[str, Resource]) -> tuple[str, str] | None:
    """(why, element read) when a tumour size is not of a liver lesion: its own body site, or its focus,
    says so."""
    liver = set(codes().raw["tumor_size"]["liver_body_site"])
    stated, element = _site_codes(obs.model.bodySite), "bodySite"
    for ref in references(obs.model.focus):
        target = by_label.get(ref)
        if target is not None and target.type == "Condition":
            if is_liver_metastasis(target):
                return None
            return f"its focus {target.label} is not a liver metastasis", "focus"
        if target is not None and target.type == "BodyStructure" and not stated:
            stated, element = _site_codes(target.model.location), f"focus ({target.label}.location)"
    if stated and not stated & liver:
        why = f"body site {', '.join(sorted(stated))} is not the liver (SNOMED CT {', '.join(sorted(liver))})"
        return why, element
    return None


def _largest_cm(obs: Resource) -> tuple[float, str] | None:
    spec = codes().raw["tumor_size"]
    for i, comp in enumerate(obs.model.component or []):
        if spec["largest_diameter"] not in loinc(comp.code):
            continue
        element = f"component[{i}].valueQuantity"
        quantity = comp.valueQuantity
        if quantity is None or quantity.value is None:
            raise_problems([Problem(obs.label, element, "the largest diameter (LOINC 33728-7) has no value")])
        unit = str(quantity.code or quantity.unit or "")
        if unit not in spec["units_in_cm"]:
            raise_problems([Problem(obs.label, f"{element}.code", f"unit {unit!r} of a tumour size: cm or mm")])
        return float(Decimal(quantity.value) * Decimal(str(spec["units_in_cm"][unit]))), element
    return None


def lesions(observations: list[Resource], by_label: dict[str, Resource]) -> tuple[Finding, Finding]:
    """(lesion count, largest lesion in cm): the distinct `focus` of the tumour sizes of liver lesions; per
    lesion its latest measurement, the largest of those."""
    count, size = Finding(note="not found"), Finding(note="not found")
    skipped: list[dict[str, str]] = []
    focused: dict[str, list[Resource]] = {}  # lesion (focus) -> its tumour sizes
    by_focus: dict[str, list[tuple[Resource, tuple[float, str]]]] = {}  # lesion -> its measurements
    candidates: list[tuple[Resource, tuple[float, str]]] = []  # per lesion its latest measurement
    for obs in _of_kind(observations, "tumor_size", codes().raw["tumor_size"]["code"]):
        off = _off_liver(obs, by_label)
        if off:
            skipped.append(source(obs.label, off[1], f"not counted: {off[0]}"))
            continue
        foci = references(obs.model.focus)
        largest = _largest_cm(obs)
        for ref in foci:
            focused.setdefault(ref, []).append(obs)
            if largest is not None:
                by_focus.setdefault(ref, []).append((obs, largest))
        if largest is not None and not foci:  # a measurement without a focus stands alone
            candidates.append((obs, largest))
    if focused:
        labels = list(dict.fromkeys(o.label for items in focused.values() for o in items))
        at_least = (
            f"at least {len(focused)}: the liver lesions measured by a tumour size Observation (distinct `focus`); "
            "a lesion never measured is not counted"
        )
        count = Finding(len(focused), [source(label, "focus", at_least) for label in labels] + skipped)
    else:
        count.sources = skipped
    candidates += [item for item in map(latest, by_focus.values()) if item]
    best = max(candidates, key=lambda item: item[1][0], default=None)
    if best:
        size = Finding(best[1][0], [source(best[0].label, best[1][1])])
    return count, size


def ecog(observations: list[Resource]) -> tuple[Finding, list[Problem]]:
    answers = codes().raw["ecog"]["answers"]
    scored: list[tuple[Resource, tuple[int, str]]] = []
    for obs in _of_kind(observations, "ecog", codes().raw["ecog"]["code"]):
        if obs.model.valueInteger is not None:
            scored.append((obs, (int(obs.model.valueInteger), "valueInteger")))
            continue
        # The LA answer in valueCodeableConcept, or (mCODE STU2 on) beside the integer in `interpretation`.
        places = [("valueCodeableConcept", obs.model.valueCodeableConcept)] + [
            (f"interpretation[{j}]", concept) for j, concept in enumerate(obs.model.interpretation or [])
        ]
        found = [
            (int(answers[code]), f"{where}.coding[{i}]")
            for where, concept in places
            for i, system, code in codings(concept)
            if system in codes().loinc and code in answers
        ]
        if found:
            scored.append((obs, found[0]))
    chosen = latest(scored)
    if chosen is None:
        return Finding(note="not found"), []
    (obs, (score, element)) = chosen
    if not 0 <= score <= 4:
        return Finding(note="not found"), [Problem(obs.label, element, f"ECOG {score}: a case takes 0 to 4")]
    return Finding(score, [source(obs.label, element, f"the latest of {len(scored)} ECOG observation(s)")]), []


def kras(observations: list[Resource]) -> Finding:
    spec = codes().raw["kras"]
    found: dict[str, list[dict[str, str]]] = {}
    for obs in _of_kind(observations, "genomic_variant", spec["code"]):
        if not any(
            spec["gene_component"] in loinc(comp.code)
            and has_code(comp.valueCodeableConcept, codes().hgnc, spec["gene"])
            for comp in obs.model.component or []
        ):
            continue
        for i, system, code in codings(obs.model.valueCodeableConcept):
            if system in codes().loinc and code in spec["answers"]:
                found.setdefault(spec["answers"][code], []).append(
                    source(obs.label, f"valueCodeableConcept.coding[{i}]")
                )
    # A KRAS variant found anywhere makes the tumour KRAS mutant; wild type needs only "absent" results.
    for value in ("mutant", "wild_type"):
        if value in found:
            return Finding(value, found[value])
    return Finding(
        note=f"not found: no Observation with LOINC {spec['code']} and gene {spec['gene']} (KRAS); left unknown"
    )


def hormone_receptors(observations: list[Resource]) -> Finding:
    spec = codes().raw["hormone_receptors"]
    latest_by_receptor: dict[str, tuple[Resource, tuple[str, str]]] = {}
    for receptor in ("er", "pr"):
        results: list[tuple[Resource, tuple[str, str]]] = []
        for obs in _of_kind(observations, "tumor_marker", *spec[receptor]):
            if not loinc(obs.model.code) & set(spec[receptor]):
                continue
            for i, system, code in codings(obs.model.valueCodeableConcept):
                if system in codes().loinc and code in spec["answers"]:
                    results.append((obs, (spec["answers"][code], f"valueCodeableConcept.coding[{i}]")))
                    break
        chosen = latest(results)
        if chosen:
            latest_by_receptor[receptor] = chosen
    values = {r: v[1][0] for r, v in latest_by_receptor.items()}
    sources = [source(o.label, element) for o, (_, element) in latest_by_receptor.values()]
    if "positive" in values.values():
        return Finding("positive", sources)
    if values == {"er": "negative", "pr": "negative"}:
        return Finding("negative", sources)
    if values:
        note = "only one receptor known and negative: negative needs both ER and PR negative; left unknown"
        return Finding(None, [{**s, "note": note} for s in sources])
    return Finding(note="not found: no ER or PR tumour marker Observation with LA6576-8 / LA6577-6; left unknown")

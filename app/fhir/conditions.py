"""Case inputs read from Conditions: primary site, liver metastases, extrahepatic disease, liver function.
Which code means what is in codes.yaml; the conventions are stated in the README (EHR integration)."""

from dataclasses import dataclass

from app.fhir.codes import CodeSet, codes
from app.fhir.found import Finding, source
from app.fhir.read import Resource, codings, condition_read, profiles


@dataclass(frozen=True)
class _Site:
    value: str
    sources: list[dict[str, str]]


def _histology(res: Resource) -> tuple[str, str] | None:
    """(neuroendocrine or melanoma, element read) from the histology extension or the Condition's code."""
    c = codes()
    for i, ext in enumerate(res.model.extension or []):
        if ext.url != c.histology_extension:
            continue
        for _, system, code in codings(ext.valueCodeableConcept):
            morphology, _, behaviour = code.partition("/")
            for kind in c.histology_icdo3:
                if system in c.icdo3 and morphology in c.histology_icdo3[kind] and behaviour in c.icdo3_behaviours:
                    return kind, f"extension[{i}].valueCodeableConcept"
                if system in c.snomed and code in c.histology_snomed[kind]:
                    return kind, f"extension[{i}].valueCodeableConcept"
    for _, system, code in codings(res.model.code):
        for kind, snomed in c.histology_snomed.items():
            if system in c.snomed and code in snomed:
                return kind, "code"
    return None


def _at(res: Resource, sites: CodeSet, body_sites: frozenset[str]) -> str | None:
    """The element saying the Condition is at one of `sites` (its code) or `body_sites` (a bodySite), if any."""
    c = codes()
    if any(sites.strength(s, code, c) for _, s, code in codings(res.model.code)):
        return "code"
    for i, site in enumerate(res.model.bodySite or []):
        if any(s in c.snomed and code in body_sites for _, s, code in codings(site)):
            return f"bodySite[{i}]"
    return None


def _at_uvea(res: Resource) -> str | None:
    return _at(res, codes().uveal_site, codes().uveal_body_site)


def _at_eye(res: Resource) -> str | None:
    return _at(res, codes().eye_site, codes().eye_body_site)


def _site_of(res: Resource) -> _Site:
    c = codes()
    histology = _histology(res)
    if histology and histology[0] == "neuroendocrine":
        return _Site("neuroendocrine", [source(res.label, histology[1])])
    if histology:  # melanoma: uveal at a uveal site
        uvea = _at_uvea(res)
        if uvea:
            return _Site("uveal_melanoma", [source(res.label, histology[1]), source(res.label, uvea)])
        eye = _at_eye(res)
        if eye:
            uveal = (
                codes().uveal_site.describe() + " or bodySite SNOMED CT " + ", ".join(sorted(codes().uveal_body_site))
            )
            note = f"melanoma at an eye site that is not the uvea ({uveal}): not read as uveal melanoma"
            return _Site("melanoma", [source(res.label, histology[1]), source(res.label, eye, note)])
        return _Site("melanoma", [source(res.label, histology[1])])
    scored = [
        (max(s.strength(system, code, c) for s in c.primary_site.values()), system, code)
        for _, system, code in codings(res.model.code)
    ]
    site = next((c.best(c.primary_site, s, code) for score, s, code in sorted(scored, reverse=True) if score), None)
    if site:
        return _Site(site, [source(res.label, "code")])
    shown = ", ".join(f"{code} ({system})" for _, system, code in codings(res.model.code)) or "no coded value"
    note = f"code {shown} is not in the mapping table (app/fhir/codes.yaml): mapped to other"
    if _at_eye(res):
        note = f"an eye cancer without melanoma histology ({shown}): mapped to other"
    return _Site("other", [source(res.label, "code", note)])


def is_primary(res: Resource) -> bool:
    """An mcode-primary-cancer-condition, or a Condition without the secondary profile coded as a cancer
    of a site in the table (EHRs seldom claim the profile)."""
    c = codes()
    claimed = profiles(res.model)
    if c.profiles["primary"] in claimed:
        return True
    if c.profiles["secondary"] in claimed or is_secondary(res):
        return False
    return any(c.best(c.primary_site, s, code) for _, s, code in codings(res.model.code)) or bool(_histology(res))


def is_secondary(res: Resource) -> bool:
    c = codes()
    if c.profiles["secondary"] in profiles(res.model):
        return True
    return any(
        c.secondary_any.strength(s, code, c)
        or c.liver_metastases.strength(s, code, c)
        or c.nodal_secondary.strength(s, code, c)
        for _, s, code in codings(res.model.code)
    )


def primary_site(conditions: list[Resource]) -> Finding:
    sites = [_site_of(r) for r in conditions if condition_read(r, current_only=False) and is_primary(r)]
    if not sites:
        return Finding(note="not found")
    values = sorted({s.value for s in sites})
    found = [src for s in sites for src in s.sources]
    if len(values) == 1:
        return Finding(values[0], found)
    note = f"several primary cancers ({', '.join(values)}): which one spread to the liver is not recorded, so unknown"
    return Finding("unknown", [{**src, "note": note} for src in found])


def _is_liver(res: Resource) -> str | None:
    c = codes()
    if any(c.liver_metastases.strength(s, code, c) for _, s, code in codings(res.model.code)):
        return "code"
    liver = set(c.raw["tumor_size"]["liver_body_site"])
    for i, site in enumerate(res.model.bodySite or []):
        if any(s in c.snomed and code in liver for _, s, code in codings(site)):
            return f"bodySite[{i}]"
    return None


def is_liver_metastasis(res: Resource) -> bool:
    return is_secondary(res) and _is_liver(res) is not None


def _other_site(res: Resource) -> str:
    c = codes()
    for _, system, code in codings(res.model.code):
        named = c.best(c.secondary_sites, system, code)
        if named:
            return named
    for site in res.model.bodySite or []:
        for _, system, code in codings(site):
            return f"{system}|{code}"
    return next((f"{s}|{code}" for _, s, code in codings(res.model.code)), res.label)


def metastases(conditions: list[Resource]) -> tuple[Finding, Finding]:
    """(liver metastases as True/None, extrahepatic disease) from the current secondary cancer Conditions."""
    c = codes()
    liver: list[dict[str, str]] = []
    others: dict[str, list[dict[str, str]]] = {}
    nodal: list[str] = []
    for res in conditions:
        if not (condition_read(res, current_only=True) and is_secondary(res)):
            continue
        if any(c.nodal_secondary.strength(s, code, c) for _, s, code in codings(res.model.code)):
            nodal.append(res.label)
            continue
        element = _is_liver(res)
        if element:
            liver.append(source(res.label, element))
        else:
            site = _other_site(res)
            others.setdefault(site, []).append(source(res.label, "code", f"secondary cancer site: {site}"))
    found_liver = Finding(True, liver) if liver else Finding(note="not found")
    # Nodal disease is not read (codes.yaml): said, so that a reader knows the chart holds some.
    not_nodal = f"lymph node secondaries ({c.nodal_secondary.describe()}) are not read"
    not_nodal += f" ({', '.join(nodal)})" if nodal else ""
    if not others:
        return found_liver, Finding(
            "none",
            note="none: read from the absence of any current secondary cancer Condition other than the liver "
            f"metastases (mcode-secondary-cancer-condition, or coded {c.secondary_any.describe()}); {not_nodal}",
        )
    value = "extensive" if len(others) >= c.extensive_from_sites else "limited"
    convention = (
        f"{len(others)} site(s) outside the liver: {value} (this mapping's convention: "
        f"{c.extensive_from_sites} or more sites are extensive; {not_nodal})"
    )
    return found_liver, Finding(
        value, [{**src, "note": f"{src['note']}; {convention}"} for v in others.values() for src in v]
    )


def liver_function(conditions: list[Resource]) -> Finding:
    c = codes()
    found: dict[str, list[dict[str, str]]] = {}
    for res in conditions:
        if not condition_read(res, current_only=True):
            continue
        for _, system, code in codings(res.model.code):
            kind = c.best(c.liver_function, system, code)
            if kind:
                found.setdefault(kind, []).append(source(res.label, "code"))
                break
    for kind in ("cirrhosis", "impaired"):
        if kind in found:
            return Finding(kind, found[kind])
    looked = "; ".join(f"{k}: {s.describe()}" for k, s in c.liver_function.items())
    return Finding(note=f"not found: no current Condition coded as {looked}; left unknown (never assumed normal)")

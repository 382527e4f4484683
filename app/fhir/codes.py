"""The code tables of codes.yaml, read once, and how a FHIR coding is matched against them."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CODES_FILE = Path(__file__).with_name("codes.yaml")


def _icd10(code: str) -> str:
    # ICD-10 codes are written with and without the dot (C18.7, C187): compare without it.
    return code.replace(".", "").strip().upper()


@dataclass(frozen=True)
class CodeSet:
    """Codes standing for one value: ICD-10 prefixes, exact SNOMED CT codes."""

    icd10: tuple[str, ...] = ()
    snomed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> "CodeSet":
        raw = raw or {}
        return cls(tuple(_icd10(str(c)) for c in raw.get("icd10") or ()), frozenset(map(str, raw.get("snomed") or ())))

    def strength(self, system: str, code: str, codes: "Codes") -> int:
        """How specifically `code` matches: 0 for no match, else the length of the matched ICD-10 prefix
        (a SNOMED code matches exactly, which beats any prefix)."""
        if system in codes.snomed:
            return 100 if code in self.snomed else 0
        if system in codes.icd10:
            wanted = _icd10(code)
            return max((len(p) for p in self.icd10 if wanted.startswith(p)), default=0)
        return 0

    def describe(self) -> str:
        parts = []
        if self.snomed:
            parts.append("SNOMED CT " + ", ".join(sorted(self.snomed)))
        if self.icd10:
            parts.append("ICD-10 " + ", ".join(_dotted(p) for p in self.icd10))
        return " or ".join(parts)


def _dotted(prefix: str) -> str:
    return prefix if len(prefix) <= 3 else prefix[:3] + "." + prefix[3:]


@dataclass(frozen=True)
class Codes:
    snomed: frozenset[str]
    icd10: frozenset[str]
    icdo3: frozenset[str]
    loinc: frozenset[str]
    hgnc: frozenset[str]
    profiles: dict[str, str]
    histology_extension: str
    primary_site: dict[str, CodeSet]
    uveal_site: CodeSet
    uveal_body_site: frozenset[str]
    eye_site: CodeSet
    eye_body_site: frozenset[str]
    icdo3_behaviours: frozenset[str]
    histology_icdo3: dict[str, frozenset[str]]
    histology_snomed: dict[str, frozenset[str]]
    liver_metastases: CodeSet
    secondary_any: CodeSet
    secondary_sites: dict[str, CodeSet]
    nodal_secondary: CodeSet
    extensive_from_sites: int
    liver_function: dict[str, CodeSet]
    raw: dict[str, Any]  # the tumour size, ECOG, KRAS and receptor entries, read where used

    def best(self, table: dict[str, CodeSet], system: str, code: str) -> str | None:
        """The key of `table` that `code` matches most specifically (C25.4 beats C25), if any."""
        scored = [(s.strength(system, code, self), key) for key, s in table.items()]
        score, key = max(scored, default=(0, ""))
        return key if score else None

    def loinc_is(self, system: str | None, code: str | None, *wanted: str) -> bool:
        return system in self.loinc and code in wanted


@cache
def codes() -> Codes:
    raw = yaml.safe_load(CODES_FILE.read_text(encoding="utf-8"))
    systems = {k: frozenset(v) for k, v in raw["systems"].items()}
    histology = raw["histology"]
    return Codes(
        snomed=systems["snomed"],
        icd10=systems["icd10"],
        icdo3=systems["icdo3"],
        loinc=systems["loinc"],
        hgnc=systems["hgnc"],
        profiles=dict(raw["profiles"]),
        histology_extension=raw["histology_extension"],
        primary_site={k: CodeSet.of(v) for k, v in raw["primary_site"].items()},
        uveal_site=CodeSet.of(raw["uveal_site"]),
        uveal_body_site=frozenset(map(str, raw["uveal_site"].get("snomed_body_site") or ())),
        eye_site=CodeSet.of(raw["eye_site"]),
        eye_body_site=frozenset(map(str, raw["eye_site"].get("snomed_body_site") or ())),
        icdo3_behaviours=frozenset(map(str, raw["icdo3_behaviours"])),
        histology_icdo3={k: frozenset(map(str, v.get("icdo3") or ())) for k, v in histology.items()},
        histology_snomed={k: frozenset(map(str, v.get("snomed") or ())) for k, v in histology.items()},
        liver_metastases=CodeSet.of(raw["liver_metastases"]),
        secondary_any=CodeSet.of(raw["secondary_any"]),
        secondary_sites={k: CodeSet.of(v) for k, v in raw["secondary_sites"].items()},
        nodal_secondary=CodeSet.of(raw["nodal_secondary"]),
        extensive_from_sites=int(raw["extrahepatic_extensive_from_sites"]),
        liver_function={k: CodeSet.of(v) for k, v in raw["liver_function"].items()},
        raw=raw,
    )

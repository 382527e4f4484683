"""The cards of the patient-view service, written from what the engine said (an Explanation) or from what the
chart lacks. Each card carries the MDT disclaimer with its verbatim quote, the rulebook's version and digest,
and only absolute URLs. The service decides nothing: no suggestions, no system actions."""

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from app.cds.discovery import Template
from app.fhir.mapping import Missing
from app.rulebook import Rulebook
from schemas.case import Case
from schemas.cds_hooks import Card, Link, Source
from schemas.explanation import Citation, Explanation, Statement

SUMMARY_LIMIT = 139  # the specification: a summary of fewer than 140 characters
# What the card says after a value no resource states, read from the absence of coded data (`Mapped.from_absence`).
FROM_ABSENCE = {"extrahepatic_disease": "no other secondary cancer coded; check staging"}
FROM_ABSENCE_DEFAULT = "not coded on the chart; read from its absence"


@dataclass(frozen=True)
class Urls:
    """Absolute URLs of this service as the EHR's user reaches it."""

    base: str
    # About the rulebook and its sources (GET /v1/about, or the page when /v1/* needs an API key).
    about: str

    def page_with(self, case: Case) -> str:
        """The page, which fills in and explains a case given as `?case=<JSON>`."""
        text = json.dumps(case.model_dump(mode="json", exclude_none=True), separators=(",", ":"))
        return f"{self.base}/?case={quote(text, safe='')}"


def _words(name: str) -> str:
    return name.replace("_", " ").replace("kras", "KRAS")


def _source(book: Rulebook, urls: Urls) -> Source:
    short = book.digest.removeprefix("sha256:")[:12]
    return Source(label=f"livermets-explainer rulebook {book.meta.version} (sha256:{short})", url=urls.about)


def _quote(cite: Citation, book: Rulebook, indent: str = "  ") -> str:
    title = book.sources[cite.source].title if cite.source in book.sources else cite.source
    text = " ".join(cite.quote.split())
    return f'{indent}> "{text}"\n{indent}> — {title}, *{cite.section}*'


def _disclaimer(book: Rulebook) -> str:
    cites = [Citation(source=c.source, section=c.section, quote=c.quote) for c in book.meta.disclaimer_cites]
    quotes = "\n\n".join(_quote(c, book, indent="") for c in cites)
    return f"**Educational overview, not advice.** {book.meta.disclaimer.strip()}\n\n{quotes}"


def _footer(book: Rulebook) -> str:
    meta = book.meta
    return (
        f"---\nRulebook {meta.version} ({meta.date.isoformat()}), digest `{book.digest}`. "
        "Quotes are verbatim from the source documents."
    )


def _case_line(case: Case, from_absence: Collection[str] = ()) -> str:
    known = ", ".join(_fact(k, v, k in from_absence) for k, v in case.known_facts().items())
    unknown = ", ".join(_words(n) for n in case.unknown_inputs())
    line = f"**Case as read from the chart:** {known}."
    return line + (f" **Unknown** (left unknown, not guessed): {unknown}." if unknown else "")


def _fact(name: str, value: object, from_absence: bool = False) -> str:
    if from_absence:
        return f"{_words(name)}: {_value(value)} ({FROM_ABSENCE.get(name, FROM_ABSENCE_DEFAULT)})"
    if name == "lesion_count":  # the lesions measured by a tumour size Observation: the chart may hold more
        return f"lesion count: at least {value} (lesions with a tumour size)"
    if name == "largest_lesion_cm":
        return f"largest lesion: {value} cm"
    if name == "performance_status":
        return f"ECOG performance status: {value}"
    return f"{_words(name)}: {_value(value)}"


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return _words(str(value))


def _statement(s: Statement, book: Rulebook, kind: str = "") -> str:
    quotes = "\n".join(_quote(c, book) for c in s.citations)
    return f"- {kind}{s.because}" + (f"\n{quotes}" if quotes else "")


def _discussed(explanation: Explanation, book: Rulebook) -> str:
    parts = ["### Commonly discussed in the sources"]
    for cat in explanation.discussed:
        basis = "for a case like this" if cat.basis == "case" else "for liver metastases in general"
        parts.append(f"**{cat.label}** ({basis})")
        parts += [_statement(s, book) for s in cat.rationale]
        parts += [_statement(s, book, "*Caveat:* ") for s in cat.caveats]
        parts += [f"- *Would change:* {d.statement}" for d in cat.depends_on]
    return "\n\n".join(parts)


def _not_discussed(explanation: Explanation) -> str:
    lines = ["### Not typically discussed for this case"]
    for cat in explanation.not_discussed:
        reasons = " ".join(s.because for s in cat.reasons)
        changes = " ".join(d.statement for d in cat.depends_on)
        lines.append(f"- **{cat.label}**: {reasons} {changes}".rstrip())
    return "\n".join(lines)


def _not_read(templates: Sequence[Template]) -> str:
    listed = "\n".join(f"- {t.about} (prefetch `{t.key}`)" for t in templates)
    return f"### Not read from the chart\nThe EHR sent neither these nor access to fetch them:\n{listed}"


def fit(summary: str, fallback: str) -> str:
    return summary if len(summary) <= SUMMARY_LIMIT else fallback


def explanation_card(
    explanation: Explanation,
    book: Rulebook,
    urls: Urls,
    not_read: Sequence[Template],
    from_absence: Collection[str] = (),
) -> Card:
    """`from_absence`: the case fields read from the absence of coded data, which the card says are not charted."""
    case = explanation.case
    # Categories the sources describe for every case are counted apart: "10 discussed" would read as
    # ten options for this patient.
    for_case = sum(1 for c in explanation.discussed if c.basis == "case")
    in_general = len(explanation.discussed) - for_case
    categories = (
        f"{for_case} treatment {'category' if for_case == 1 else 'categories'} commonly discussed in the sources "
        f"for a case like this, {in_general} in general"
    )
    summary = fit(
        f"Liver metastases ({_words(case.primary_site)} primary): {categories}.",
        f"Liver metastases: {categories}.",
    )
    sections = [_disclaimer(book), _case_line(case, from_absence), _discussed(explanation, book)]
    if explanation.not_discussed:
        sections.append(_not_discussed(explanation))
    if not_read:
        sections.append(_not_read(not_read))
    sections.append(_footer(book))
    return Card(
        uuid=str(uuid.uuid4()),
        summary=summary,
        detail="\n\n".join(sections),
        indicator="info",
        source=_source(book, urls),
        links=[
            Link(label="Open this case in the liver metastases explainer", url=urls.page_with(case), type="absolute")
        ],
    )


def missing_inputs_card(missing: Sequence[Missing], book: Rulebook, urls: Urls) -> Card:
    names = ", ".join(_words(m.field) for m in missing) or "required inputs"
    summary = fit(
        f"Liver metastases on the chart, but not found: {names}. No overview without them.",
        "Liver metastases on the chart, but required inputs were not found. No overview without them.",
    )
    listed = "\n".join(f"- **{_words(m.field)}**: looked for {m.looked_for}" for m in missing)
    detail = "\n\n".join(
        [
            _disclaimer(book),
            "### Not found in the chart\nThe overview needs these inputs; they are not guessed:\n" + listed,
            _footer(book),
        ]
    )
    return Card(uuid=str(uuid.uuid4()), summary=summary, detail=detail, indicator="info", source=_source(book, urls))

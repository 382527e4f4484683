"""Which passages of the source documents the rulebook cites: for rule authors (`livermets
check-rules`), to see what the sources say that no rule, category or parameter uses yet.

A passage is a paragraph of a document (text between blank lines). It counts as cited when a quote
of the rulebook overlaps it; quotes are matched as the quote check matches them (app/citations.py)."""

import re
from dataclasses import dataclass
from pathlib import Path

from app.citations import normalise
from app.rulebook import Rulebook, all_citations

_BLANK_LINE = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class SourceCoverage:
    source: str
    document: str
    passages: tuple[str, ...]
    cited: tuple[bool, ...]

    @property
    def cited_count(self) -> int:
        return sum(self.cited)

    def uncited(self) -> list[str]:
        return [p for p, c in zip(self.passages, self.cited, strict=True) if not c]


def passages(text: str) -> list[str]:
    """The document's paragraphs, normalised; joined by single spaces they are normalise(text)."""
    return [p for p in (normalise(part) for part in _BLANK_LINE.split(text)) if p]


def _spans(haystack: str, needle: str) -> list[tuple[int, int]]:
    found, start = [], haystack.find(needle)
    while needle and start >= 0:
        found.append((start, start + len(needle)))
        start = haystack.find(needle, start + 1)
    return found


def coverage(book: Rulebook, seeds_dir: Path) -> list[SourceCoverage]:
    """For each source, in the order of sources.yaml, which of its passages some quote overlaps."""
    quotes: dict[str, set[str]] = {}
    for _, cite in all_citations(book):
        quotes.setdefault(cite.source, set()).add(normalise(cite.quote))
    result = []
    for source in book.sources.values():
        parts = passages((seeds_dir / source.document).read_text(encoding="utf-8"))
        bounds, offset = [], 0
        for part in parts:
            bounds.append((offset, offset + len(part)))
            offset += len(part) + 1  # the space that joins it to the next
        joined = " ".join(parts)
        spans = [span for quote in quotes.get(source.id, ()) for span in _spans(joined, quote)]
        cited = tuple(any(s < end and e > start for s, e in spans) for start, end in bounds)
        result.append(SourceCoverage(source.id, source.document, tuple(parts), cited))
    return result

"""Checks that every quote is copied verbatim from its source document."""

import re
from pathlib import Path

from schemas.rulebook import CitationSpec, SourceSpec

_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Whitespace and typographic quotes are the only differences a quote may have."""
    return _SPACE.sub(" ", text.translate(_TYPOGRAPHIC)).strip()


class MissingDocuments(Exception):
    pass


class SourceTexts:
    """The normalised text of each source document, read once."""

    def __init__(self, seeds_dir: Path, sources: dict[str, SourceSpec]) -> None:
        if not seeds_dir.is_dir():
            raise MissingDocuments(
                f"source documents not found: {seeds_dir} is not a directory "
                "(set LIVERMETS_SEEDS_DIR to the folder of the five seed documents)"
            )
        self._texts: dict[str, str] = {}
        for source in sources.values():
            path = seeds_dir / source.document
            if not path.is_file():
                raise MissingDocuments(
                    f"source document {source.document!r} of source {source.id!r} not found in {seeds_dir}"
                )
            self._texts[source.id] = normalise(path.read_text(encoding="utf-8"))

    def quote_problem(self, source: str, quote: str) -> str | None:
        """Why this quote is not a verbatim passage of that source, or None when it is."""
        text = self._texts.get(source)
        if text is None:
            return f"unknown source {source!r}"
        if normalise(quote) not in text:
            return f"quote not found verbatim in {source!r}: {quote!r}"
        return None

    def problem(self, cite: CitationSpec) -> str | None:
        """Why this citation does not check out, or None when it does."""
        found = self.quote_problem(cite.source, cite.quote)
        if found is not None:
            return found
        text = self._texts[cite.source]
        if normalise(cite.section) not in text:
            return f"section heading not found in {cite.source!r}: {cite.section!r}"
        return None

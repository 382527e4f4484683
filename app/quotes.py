"""Which rulebook's quotes were checked against the source documents, and when.

The documents are not ours to ship, so a server (the Docker image) may start without them. Where they
are available (tests, CI, a rule author's machine, a server given LIVERMETS_SEEDS_DIR) every quote is
checked at load and a missing one stops everything. Where they are not, the server relies on the
record `rules/quotes-verified.json`: written by `livermets check-rules --record` right after every
quote of the rulebook was found verbatim, naming the rulebook digest and the sha256 of each document.
A test with the documents holds the committed record to the committed rulebook, so the record cannot
silently fall behind; a rulebook with neither documents nor a matching record does not start unless
LIVERMETS_VERIFY_QUOTES=false says to serve it unverified."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from app.rulebook import Rulebook, RulebookError
from schemas.explanation import QuoteCheck

RECORD_NAME = "quotes-verified.json"
RECORD_NOTE = (
    "Written by `livermets check-rules --record` (make verified) after every quote of the rulebook with this "
    "digest was found verbatim in the source documents with these sha256 digests. Do not edit by hand."
)


class QuoteRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = RECORD_NOTE
    digest: str
    verified_at: datetime
    documents: dict[str, str]  # source id -> sha256 of its document file


def document_digests(book: Rulebook, seeds_dir: Path) -> dict[str, str]:
    """The sha256 of each source's document file, by source id."""
    return {
        source.id: "sha256:" + hashlib.sha256((seeds_dir / source.document).read_bytes()).hexdigest()
        for source in sorted(book.sources.values(), key=lambda s: s.id)
    }


def read_record(rules_dir: Path) -> QuoteRecord | None:
    """The record beside the rulebook, or None when there is none. A record that is not valid stops
    start-up: a check that cannot be read is no check."""
    path = rules_dir / RECORD_NAME
    if not path.is_file():
        return None
    try:
        return QuoteRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise RulebookError(f"{path}: not a valid record of a quote check: {exc}") from None


def write_record(book: Rulebook, rules_dir: Path, seeds_dir: Path, now: datetime | None = None) -> QuoteRecord:
    """Record that `book`'s quotes were found in the documents of seeds_dir. Only for a rulebook
    loaded with those documents (load_rulebook(rules_dir, seeds_dir) checked every quote)."""
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    record = QuoteRecord(digest=book.digest, verified_at=when, documents=document_digests(book, seeds_dir))
    text = json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    (rules_dir / RECORD_NAME).write_text(text, encoding="utf-8")
    return record


def _shown(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def quote_check(book: Rulebook, rules_dir: Path, documents: Path | None, required: bool) -> QuoteCheck:
    """What a server can say about its quotes. `documents`: the folder the rulebook was just loaded
    (and its quotes checked) against, or None. `required`: without documents, a matching record is
    needed to start (False only when quote checking was switched off)."""
    if documents is not None:
        now = datetime.now(UTC).replace(microsecond=0)
        return QuoteCheck(
            at_start_up=True,
            verified_digest=book.digest,
            verified_at=now,
            statement="Every quote was found verbatim in the source documents when the rulebook was loaded at start-up "
            f"({_shown(now)}).",
        )
    record = read_record(rules_dir)
    if record is not None and record.digest == book.digest:
        return QuoteCheck(
            at_start_up=False,
            verified_digest=record.digest,
            verified_at=record.verified_at,
            statement="The source documents were not available at start-up; every quote of this rulebook "
            f"(digest {record.digest}) was found verbatim in them on {_shown(record.verified_at)}.",
        )
    recorded = f"records digest {record.digest}" if record else "does not exist"
    if required:
        raise RulebookError(
            f"the quotes of this rulebook (digest {book.digest}) cannot be checked: the source documents were not "
            f"found (set LIVERMETS_SEEDS_DIR to their folder) and {rules_dir / RECORD_NAME} {recorded}. Check them "
            "where the documents are (livermets check-rules --record), or set LIVERMETS_VERIFY_QUOTES=false "
            "to serve quotes nobody checked."
        )
    return QuoteCheck(
        at_start_up=False,
        verified_digest=None,
        verified_at=None,
        statement="The quotes of this rulebook were not checked against the source documents "
        "(LIVERMETS_VERIFY_QUOTES=false), and no check of it is recorded.",
    )

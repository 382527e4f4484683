"""`livermets check-rules [DIR]`: for rule authors. Validates the rulebook as start-up does, runs every
rule's examples through the engine, checks every quote against the source documents, and prints which
passages of each document the rulebook cites. `--record` then writes the quote check's record
(app/quotes.py) that a server without the documents relies on."""

import argparse
import sys
from pathlib import Path

from app.citations import MissingDocuments, SourceTexts
from app.coverage import SourceCoverage, coverage
from app.engine import RulesEngine
from app.quotes import RECORD_NAME, document_digests, read_record, write_record
from app.rulebook import Rulebook, RulebookError, all_citations, example_failures, load_rulebook
from app.settings import Settings

HELP = "for rule authors: validate a rulebook, run its examples, check its quotes, show what it cites"
EPILOG = (
    "Problems go to stderr, each naming its file and rule. Exit status: 0 all checks pass, 1 a problem "
    "(an invalid file, a failing example, a quote not found verbatim, source documents not found), "
    "2 wrong arguments."
)
SHOWN_CHARS = 100


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("check-rules", help=HELP, description=HELP + ".", epilog=EPILOG)
    parser.add_argument(
        "rules",
        nargs="?",
        type=Path,
        metavar="DIR",
        help="the rulebook folder (default $LIVERMETS_RULES_DIR, else rules/)",
    )
    parser.add_argument(
        "--seeds",
        type=Path,
        metavar="DIR",
        help="the source documents (default $LIVERMETS_SEEDS_DIR, else ../shared/seeds)",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help=f"when every check passes, write DIR/{RECORD_NAME}: this rulebook's quotes were verified, and when",
    )
    parser.add_argument("--uncited", action="store_true", help="list the passages no quote cites")
    parser.set_defaults(run=run)


def _problems(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    rules_dir: Path = args.rules or settings.rules_dir
    seeds_dir: Path | None = args.seeds or settings.seeds_dir
    try:
        book = load_rulebook(rules_dir, None)
    except RulebookError as exc:
        print(f"livermets check-rules: {exc}", file=sys.stderr)
        return 1
    print(f"rulebook {book.meta.version} ({book.meta.date}) in {rules_dir}: {len(book.rules)} rules, {book.digest}")
    failures = [f for rule in book.rules for f in example_failures(book, rule, RulesEngine(book).evaluate)]
    examples = sum(len(r.spec.examples.fires) + len(r.spec.examples.not_fires) for r in book.rules)
    print(f"examples: {examples - len(failures)} of {examples} behave as written")
    quote_problems = _check_quotes(book, seeds_dir)
    _problems(failures + quote_problems)
    if seeds_dir is not None and not quote_problems:
        _print_coverage(coverage(book, seeds_dir), args.uncited)
    ok = not failures and not quote_problems
    if ok and args.record and seeds_dir is not None and not _record_holds(book, rules_dir, seeds_dir):
        record = write_record(book, rules_dir, seeds_dir)
        print(f"record: wrote {rules_dir / RECORD_NAME} for {record.digest} ({record.verified_at.isoformat()})")
    else:
        _print_record_state(book, rules_dir)
    return 0 if ok else 1


def _record_holds(book: Rulebook, rules_dir: Path, seeds_dir: Path) -> bool:
    """The record already says what was just checked (same rulebook, same documents): kept as it is,
    so re-running changes no committed file."""
    try:
        record = read_record(rules_dir)
    except RulebookError:
        return False
    return record is not None and (record.digest, record.documents) == (book.digest, document_digests(book, seeds_dir))


def _check_quotes(book: Rulebook, seeds_dir: Path | None) -> list[str]:
    """Every problem of a quote, named by file and rule; the documents missing is one."""
    try:
        if seeds_dir is None:
            raise MissingDocuments("quote check switched off (LIVERMETS_VERIFY_QUOTES=false): give --seeds DIR")
        texts = SourceTexts(seeds_dir, book.sources)
    except MissingDocuments as exc:
        return [f"quotes not checked: {exc}"]
    cited = list(all_citations(book))
    problems = [f"{where}: {problem}" for where, cite in cited if (problem := texts.problem(cite))]
    if not problems:
        print(f"quotes: all {len(cited)} citations found verbatim in the {len(book.sources)} documents in {seeds_dir}")
    return problems


def _print_coverage(found: list[SourceCoverage], uncited: bool) -> None:
    print("passages cited (paragraphs of each source document some quote overlaps):")
    width = max(len(c.source) for c in found)
    for source in found:
        share = 100 * source.cited_count // max(1, len(source.passages))
        print(f"  {source.source:<{width}}  {source.cited_count:>3} of {len(source.passages):>3}  {share:>3}%")
        if uncited:
            for passage in source.uncited():
                shown = passage if len(passage) <= SHOWN_CHARS else passage[: SHOWN_CHARS - 3] + "..."
                print(f"    not cited: {shown}")


def _print_record_state(book: Rulebook, rules_dir: Path) -> None:
    try:
        record = read_record(rules_dir)
    except RulebookError as exc:
        print(f"record: {exc}")
        return
    if record is None:
        print(f"record: no {RECORD_NAME}: a server without the documents will not start (use --record)")
    elif record.digest != book.digest:
        print(f"record: {RECORD_NAME} is for another digest ({record.digest}); run with --record")
    else:
        print(f"record: {RECORD_NAME} is current (verified {record.verified_at.isoformat()})")

"""`livermets batch INPUT --out OUT`: every case of a JSON Lines or CSV file explained, one line each.

Each output line is the batch endpoint's NDJSON entry (`index`, `status` "ok" with the `explanation`,
or "invalid" with the `problem` document a 422 would answer) plus `input_sha256`, the hash of the row as read.
A bad row is an "invalid" line: nothing else is lost.

Safe to re-run and resumable: lines are appended to OUT as they are computed (flushed), and a run
first keeps every line of OUT whose index, input hash and rulebook digest still match, explaining only
the rest; at the end OUT is rewritten in input order, one line per row, through a temporary file and
a rename, so it is never left half-written. An interrupted run loses at most the line being written."""

import argparse
import csv
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from pydantic import ValidationError

from app.api import Explainer
from app.cli.common import add_rulebook_options, load_explainer, parse_json
from app.cli.csv_cases import csv_case
from app.errors import Problem, error_body, problem, validation_problems

HELP = "explain every case of a JSON Lines or CSV file into a JSON Lines file"
EPILOG = (
    "INPUT: .csv is read as CSV (a header row of Case field names; an empty cell is unknown; list fields "
    "separated by ';', 'none' for an empty list; true/false), anything else as JSON Lines (one case per line; "
    "blank lines skipped). Index counts the cases from 0. Re-running keeps the lines of OUT that still match "
    "and explains the rest. Exit status: 0 every case explained, 1 some rows invalid (each has its line in OUT) "
    "or the rulebook cannot be used, 2 wrong arguments or unreadable files."
)


@dataclass(frozen=True)
class Row:
    index: int
    sha256: str
    case: Any  # the case as read (a dict for CSV), or None when it could not be read
    problems: list[Problem]


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("batch", help=HELP, description=HELP + ".", epilog=EPILOG)
    parser.add_argument("input", metavar="INPUT", type=Path, help="cases.jsonl or cases.csv")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT", help="results.jsonl (created or resumed)")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="the input's format (default: by its extension)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown on a terminal only)")
    add_rulebook_options(parser)
    parser.set_defaults(run=run)


def _hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_rows(path: Path, fmt: str) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as file:  # -sig: a spreadsheet's byte-order mark
        yield from (_csv_rows(file) if fmt == "csv" else _jsonl_rows(file))


def _jsonl_rows(file: TextIO) -> Iterator[Row]:
    index = 0
    for number, line in enumerate(file, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            yield Row(index, _hash(text), parse_json(text), [])
        except ValueError as exc:
            yield Row(index, _hash(text), None, [problem(f"line {number}", f"not valid JSON: {exc}", "json_invalid")])
        index += 1


def _csv_rows(file: TextIO) -> Iterator[Row]:
    for index, record in enumerate(csv.DictReader(file)):
        extra = record.pop(None, None)  # DictReader puts surplus cells under the key None
        shown = json.dumps([record, extra], sort_keys=True, ensure_ascii=False)
        if extra:
            yield Row(index, _hash(shown), None, [problem("row", f"{len(extra)} cells more than the header names")])
        else:
            yield Row(index, _hash(shown), csv_case(record), [])


def result_line(explainer: Explainer, row: Row) -> tuple[bytes, bool]:
    """The output line of one row (without its newline), and whether it is an "invalid" line."""
    head = {"index": row.index, "input_sha256": row.sha256}
    problems = row.problems
    if not problems:
        try:
            explanation = explainer.explain_json(row.case)
        except ValidationError as exc:
            problems = validation_problems(exc.errors())
        else:
            return _compact({**head, "status": "ok"})[:-1] + b',"explanation":' + explanation + b"}", False
    return _compact({**head, "status": "invalid", "problem": error_body("invalid_request", problems)}), True


def _compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# Where a row's line is in OUT: (offset, length without the newline, whether it is an "invalid" line).
Place = tuple[int, int, bool]


def _still_valid(line: bytes, rows: dict[int, str], digest: str) -> tuple[int, bool] | None:
    """The index a line of an earlier run stands for and whether it is invalid, when it still stands
    (same input, same rulebook)."""
    try:
        entry = json.loads(line)
        index = entry["index"]
        if rows.get(index) != entry["input_sha256"]:
            return None
        if entry["status"] == "ok" and entry["explanation"]["rulebook"]["digest"] != digest:
            return None
    except (ValueError, KeyError, TypeError):  # a line cut short by an interrupted run, or not ours
        return None
    return (index, entry["status"] == "invalid") if isinstance(index, int) else None


def _earlier(out: Path, rows: dict[int, str], digest: str) -> dict[int, Place]:
    """Where in OUT each still-valid line of an earlier run is, by index."""
    found: dict[int, Place] = {}
    if not out.exists():
        return found
    offset = 0
    with out.open("rb") as file:
        for line in file:
            valid = _still_valid(line, rows, digest)
            if valid is not None:
                found[valid[0]] = (offset, len(line.rstrip(b"\n")), valid[1])
            offset += len(line)
    return found


class Progress:
    """A one-line bar on stderr, only on a terminal."""

    def __init__(self, total: int, shown: bool) -> None:
        self.total, self.done, self.shown = total, 0, shown and sys.stderr.isatty()

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.shown and self.total:
            filled = 30 * self.done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _append(out: Path) -> BinaryIO:
    file = out.open("ab")
    if file.tell():  # a last line cut short gets its own line end, so new lines stay whole
        with out.open("rb") as check:
            check.seek(-1, os.SEEK_END)
            if check.read(1) != b"\n":
                file.write(b"\n")
    return file


def run(args: argparse.Namespace) -> int:
    fmt = args.format or ("csv" if args.input.suffix.lower() == ".csv" else "jsonl")
    if args.out.resolve() == args.input.resolve():
        print("livermets batch: --out must not be the input file", file=sys.stderr)
        return 2
    try:
        rows = list(read_rows(args.input, fmt))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"livermets batch: {args.input}: cannot read: {exc}", file=sys.stderr)
        return 2
    explainer = load_explainer(args)
    if explainer is None:
        return 1
    where = _earlier(args.out, {r.index: r.sha256 for r in rows}, explainer.stamp.digest)
    reused = len(where)
    progress = Progress(len(rows), not args.no_progress)
    progress.step(reused)
    try:
        with _append(args.out) as out:
            for row in rows:
                if row.index in where:
                    continue
                line, is_invalid = result_line(explainer, row)
                where[row.index] = (out.tell(), len(line), is_invalid)
                out.write(line + b"\n")
                out.flush()
                progress.step()
        _rewrite_in_order(args.out, [where[r.index] for r in rows])
    except OSError as exc:
        print(f"livermets batch: {args.out}: cannot write: {exc}", file=sys.stderr)
        return 2
    invalid = sum(where[r.index][2] for r in rows)
    print(
        f"livermets batch: {len(rows)} cases, {len(rows) - invalid} explained, {invalid} invalid, "
        f"{reused} kept from an earlier run; results in {args.out}",
        file=sys.stderr,
    )
    return 1 if invalid else 0


def _rewrite_in_order(out: Path, places: list[Place]) -> None:
    """OUT as exactly one line per row in input order, replaced atomically (a crash leaves the old OUT)."""
    temporary = out.with_name(out.name + ".tmp")
    with out.open("rb") as source, temporary.open("wb") as target:
        for offset, length, _ in places:
            source.seek(offset)
            target.write(source.read(length) + b"\n")
        target.flush()
        os.fsync(target.fileno())
    os.replace(temporary, out)

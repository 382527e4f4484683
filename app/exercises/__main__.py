"""python -m app.exercises export --format moodle-xml|qti12|anki|handout [--seed N --variants K] [--ids A,B] --out FILE

Reads the rulebook and the vignettes as the service does (LIVERMETS_RULES_DIR, LIVERMETS_EXERCISES_DIR,
LIVERMETS_SEEDS_DIR) and writes one export file."""

import argparse
import sys
from pathlib import Path
from typing import get_args

from app.exercises.export import export
from schemas.exercise import MAX_SEED, MAX_VARIANTS, ExportFormat


def add_export_arguments(cmd: argparse.ArgumentParser) -> None:
    """The export's options: `python -m app.exercises export` and `livermets exercises export` share them."""
    cmd.add_argument("--format", required=True, choices=get_args(ExportFormat))
    cmd.add_argument("--seed", type=int, default=None, help=f"seed of the variants (0-{MAX_SEED})")
    cmd.add_argument("--variants", type=int, default=0, help=f"variants per vignette (0-{MAX_VARIANTS})")
    cmd.add_argument("--ids", default=None, help="comma-separated vignette ids (default: every vignette)")
    cmd.add_argument("--out", required=True, type=Path, help="file to write ('-' for standard output)")


def run_export(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if args.seed is not None and not 0 <= args.seed <= MAX_SEED:
        parser.error(f"--seed must be between 0 and {MAX_SEED}")
    if not 0 <= args.variants <= MAX_VARIANTS:
        parser.error(f"--variants must be between 0 and {MAX_VARIANTS}")
    if args.variants and args.seed is None:
        parser.error("--variants needs --seed")
    only = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
    try:
        data = export(args.format, args.seed, args.variants, only)
    except ValueError as exc:
        parser.error(str(exc))
    if str(args.out) == "-":
        sys.stdout.buffer.write(data)
    else:
        args.out.write_bytes(data)
        print(f"wrote {args.out} ({len(data)} bytes)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.exercises", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("export", help="write the exercises in a learning platform's format")
    add_export_arguments(cmd)
    return run_export(parser.parse_args(argv), cmd)


if __name__ == "__main__":
    sys.exit(main())

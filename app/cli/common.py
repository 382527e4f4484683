"""What the subcommands share: the rulebook options, loading the explainer, reading JSON."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.api import Explainer
from app.rulebook import RulebookError
from app.settings import Settings
from app.startup import build_service


class InputError(Exception):
    """Input that cannot be read as a case at all; the message names where."""


def add_rulebook_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", type=Path, metavar="DIR", help="the rulebook folder (default $LIVERMETS_RULES_DIR, else rules/)"
    )
    parser.add_argument(
        "--seeds",
        type=Path,
        metavar="DIR",
        help="the source documents to check every quote against (default $LIVERMETS_SEEDS_DIR, else "
        "../shared/seeds when it exists, else the rulebook's recorded check)",
    )


def settings(args: argparse.Namespace) -> Settings:
    """The LIVERMETS_* settings, with the folders given on the command line."""
    found = Settings.from_env()
    given: dict[str, Any] = {}
    if args.rules is not None:
        given["rules_dir"] = args.rules
    if args.seeds is not None:
        given["seeds_dir"] = args.seeds
    return found.model_copy(update=given) if given else found


def load_explainer(args: argparse.Namespace) -> Explainer | None:
    """The explainer, or None after saying on stderr why the rulebook or settings cannot be used."""
    try:
        return Explainer(build_service(settings(args)))
    except (RulebookError, ValueError) as exc:
        print(f"livermets: {exc}", file=sys.stderr)
        return None


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # As the API refuses them (app/errors.py): which of two values was meant cannot be known.
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"repeated key {', '.join(map(repr, repeated))}")
    return dict(pairs)


def parse_json(text: str) -> Any:
    """JSON as the API reads it: a repeated key is an error. Raises ValueError."""
    return json.loads(text, object_pairs_hook=_no_repeated_keys)

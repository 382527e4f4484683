"""The command line: the `livermets` console script, or `python -m app.cli` from a checkout.

Every subcommand is a module with `register(subcommands)`, listed in COMMANDS: a new one (for example
`livermets exercises export`) is one module and one line here. `serve` hands its arguments to
`python -m app.serve` unchanged, so the two cannot drift apart."""

import argparse
import sys
from collections.abc import Callable, Sequence

from app.cli import batch, check_rules, exercises, explain

DESCRIPTION = (
    "Explain which treatment categories five source documents describe as commonly discussed for a case of "
    "liver metastases. An educational aid, not medical advice: every case belongs in an MDT meeting."
)
COMMANDS: tuple[Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None], ...] = (
    explain.register,
    batch.register,
    check_rules.register,
    exercises.register,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="livermets", description=DESCRIPTION)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMANDS:
        register(commands)
    # Listed for the help text only: main() passes `serve ...` to app.serve before parsing.
    commands.add_parser("serve", help="serve the API and the page over HTTP (livermets serve --help)", add_help=False)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["serve"]:
        from app.serve import main as serve

        return serve(args[1:], prog="livermets serve")
    parsed = parser().parse_args(args)
    code: int = parsed.run(parsed)
    return code

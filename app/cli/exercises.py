"""`livermets exercises export`: the teaching exercises as a Moodle XML, QTI 1.2, Anki or handout file."""

import argparse

from app.exercises.__main__ import add_export_arguments, run_export

HELP = "write the teaching exercises as a Moodle XML, QTI 1.2 (Canvas), Anki or printable handout file"
EPILOG = (
    "Reads the rulebook and the vignettes as the service does (LIVERMETS_RULES_DIR, LIVERMETS_EXERCISES_DIR, "
    "LIVERMETS_SEEDS_DIR); every key is computed by the engine. The same seed gives the same variants."
)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    group = commands.add_parser("exercises", help="teaching exercises (livermets exercises export --help)")
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    cmd = actions.add_parser("export", help=HELP, description=HELP + ".", epilog=EPILOG)
    add_export_arguments(cmd)
    cmd.set_defaults(run=lambda args: run_export(args, cmd))

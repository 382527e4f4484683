"""`livermets explain CASE`: one case's explanation, the JSON POST /v1/explain answers with."""

import argparse
import json
import sys
from pathlib import Path

from pydantic import ValidationError

from app.cli.common import add_rulebook_options, load_explainer, parse_json
from app.errors import error_body, validation_problems

HELP = "explain one case: print its explanation as JSON"
EPILOG = (
    "CASE is a JSON object with the fields of the API's Case (GET /openapi.json); leave an input out when it "
    "is unknown. Exit status: 0 explained, 1 the case or the rulebook cannot be used (the reason on stderr), "
    "2 wrong arguments."
)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("explain", help=HELP, description=HELP + ".", epilog=EPILOG)
    parser.add_argument("case", metavar="CASE", help="a JSON file holding the case, or - for standard input")
    parser.add_argument("--what-if", action="store_true", help="also compute what_if (single-input changes)")
    parser.add_argument("--pretty", action="store_true", help="indent the JSON for reading")
    add_rulebook_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        text = sys.stdin.read() if args.case == "-" else Path(args.case).read_text(encoding="utf-8")
        raw = parse_json(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"livermets explain: {args.case}: cannot read a JSON case: {exc}", file=sys.stderr)
        return 1
    explainer = load_explainer(args)
    if explainer is None:
        return 1
    try:
        if args.what_if:
            answer = explainer.explain(raw, what_if=True).model_dump_json().encode()
        else:
            answer = explainer.explain_json(raw)
    except ValidationError as exc:
        body = error_body("invalid_request", validation_problems(exc.errors()))
        print(f"livermets explain: {args.case}: not a valid case:", file=sys.stderr)
        print(json.dumps(body, indent=2, ensure_ascii=False), file=sys.stderr)
        return 1
    if args.pretty:
        answer = json.dumps(json.loads(answer), indent=2, ensure_ascii=False).encode()
    sys.stdout.buffer.write(answer + b"\n")
    sys.stdout.flush()
    return 0

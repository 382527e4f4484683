"""Every rule's own examples: a rule must fire for each `fires` example and must not fire for each
`not_fires` example. An example names only the fields it changes from the rulebook's neutral base
case. Run at start-up through the engine, and in the tests through the reference evaluator too."""

from typing import Any

from app.core.evaluation import Evaluate
from app.rulebook.model import Rule, Rulebook, RulebookError
from schemas.case import Case


def example_case(book: Rulebook, example: dict[str, Any]) -> Case:
    return Case.model_validate({**book.meta.example_base_case, **example})


def example_failures(book: Rulebook, rule: Rule, evaluate: Evaluate) -> list[str]:
    failures = []
    for kind, examples, expected in (
        ("fires", rule.spec.examples.fires, True),
        ("not_fires", rule.spec.examples.not_fires, False),
    ):
        for i, example in enumerate(examples):
            fired = rule.id in evaluate(example_case(book, example).known_facts()).fired
            if fired != expected:
                verb = "did not fire" if expected else "fired"
                failures.append(f"{rule.file}: rule {rule.id}: example {kind}[{i}] {example} {verb}")
    return failures


def check_examples(book: Rulebook, evaluate: Evaluate) -> None:
    failures = [f for rule in book.rules for f in example_failures(book, rule, evaluate)]
    if failures:
        raise RulebookError("rule examples fail:\n  " + "\n  ".join(failures))

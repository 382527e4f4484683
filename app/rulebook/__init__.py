"""The rulebook: rules/ read, validated and checked (`load_rulebook`), as plain data (`Rulebook`).
`load` reads the files, `checks` answers "is this rulebook valid?", `examples` runs every rule's
own examples, `ops` is the one table of condition operators. Knows nothing of HTTP or the engine."""

from app.rulebook.checks import all_citations
from app.rulebook.examples import check_examples, example_case, example_failures
from app.rulebook.load import load_rulebook
from app.rulebook.model import ResolvedCondition, Rule, Rulebook, RulebookError, content_digest

__all__ = [
    "ResolvedCondition",
    "Rule",
    "Rulebook",
    "RulebookError",
    "all_citations",
    "check_examples",
    "content_digest",
    "example_case",
    "example_failures",
    "load_rulebook",
]

"""The explainer for Python code, without HTTP: `from app import Explainer`.

    ex = Explainer.load()                       # the project's rules/, quotes checked as at start-up
    explanation = ex.explain({"primary_site": "colorectal", ...})
    explanation.discussed[0].summary            # the same pydantic Explanation POST /v1/explain returns

It is the service the HTTP routes call (app/startup.py builds both), so answers are the same as the
API's, and loading follows the server's rules: the rulebook is validated, every rule's examples run,
and the quotes are checked against the source documents when they are found (else the recorded check
of app/quotes.py is relied on, as in the Docker image).

Not to be confused with app.core.explain.Explainer, the assembly step inside the service."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.core.service import ExplainerService
from app.rulebook import Rulebook
from app.settings import Settings
from app.startup import build_service
from schemas.case import Case
from schemas.explanation import Comparison, Explanation, QuoteCheck, RulebookStamp

CaseInput = Case | Mapping[str, Any]


@dataclass(frozen=True)
class InvalidCase:
    """A case of a batch that is not valid: pydantic's errors (field, message, input), in the order
    the case was given. The rest of the batch is explained all the same."""

    errors: list[dict[str, Any]]


class Explainer:
    """Explanations, comparisons and batches from a loaded rulebook. Build one with `load` (it takes
    a second or two: the rulebook is compiled and checked), then call it as often as needed."""

    def __init__(self, service: ExplainerService) -> None:
        self.service = service

    @classmethod
    def load(
        cls, rules_dir: Path | str | None = None, seeds_dir: Path | str | None = None, *, verify_quotes: bool = True
    ) -> "Explainer":
        """Load, check and compile the rulebook in `rules_dir` (default: the project's rules/).
        `seeds_dir`: the source documents to check every quote against (a missing folder or quote
        raises); None looks in the default place (../shared/seeds) and, when they are not there, relies
        on the rulebook's recorded check. `verify_quotes=False` allows a rulebook that has neither.
        Raises app.rulebook.RulebookError naming each file and rule at fault."""
        given: dict[str, Any] = {"verify_quotes": verify_quotes}
        if rules_dir is not None:
            given["rules_dir"] = Path(rules_dir)
        if seeds_dir is not None:
            given["seeds_dir"] = Path(seeds_dir)
        return cls(build_service(Settings(**given)))

    @property
    def rulebook(self) -> Rulebook:
        return self.service.book

    @property
    def stamp(self) -> RulebookStamp:
        """The rulebook's version, date and digest, as every answer carries them."""
        return self.service.explainer.stamp

    @property
    def quotes(self) -> QuoteCheck:
        """Whether and when the rulebook's quotes were checked against the source documents."""
        return self.service.quotes

    def explain(self, case: CaseInput, *, what_if: bool = False) -> Explanation:
        """The explanation of one case (a Case, or a mapping of its fields; unknown inputs left out).
        Raises pydantic.ValidationError for an invalid case."""
        return self.service.explain(as_case(case), what_if=what_if)

    def explain_json(self, case: CaseInput) -> bytes:
        """The explanation (without what-if) as the JSON bytes POST /v1/explain answers with."""
        return self.service.explain_json(as_case(case))

    def compare(self, a: CaseInput, b: CaseInput) -> Comparison:
        """Which categories change list between two cases, and why."""
        return self.service.compare(as_case(a), as_case(b))

    def explain_many(self, cases: Iterable[Any]) -> Iterator[Explanation | InvalidCase]:
        """One result per case, in order: its Explanation, or an InvalidCase saying why it is not a
        valid case. Lazy: each case is explained when its result is taken."""
        for raw in cases:
            try:
                case = as_case(raw)
            except ValidationError as exc:
                yield InvalidCase(errors=[dict(e) for e in exc.errors(include_url=False)])
                continue
            yield self.service.explain(case)


def as_case(case: Any) -> Case:
    return case if isinstance(case, Case) else Case.model_validate(case)

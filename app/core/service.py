"""The explainer as one object the routes call: rulebook, engine and assembly together."""

from dataclasses import dataclass, field

from app.core.answer_json import AnswerWriter
from app.core.compare import compare
from app.core.depends import DependencyFinder
from app.core.evaluation import Evaluate
from app.core.explain import Explainer
from app.core.what_if import WhatIfAnalyser
from app.rulebook import Rulebook
from schemas.case import Case
from schemas.explanation import Comparison, Explanation, QuoteCheck


@dataclass(frozen=True)
class ExplainerService:
    book: Rulebook
    evaluate: Evaluate
    explainer: Explainer
    # Whether and when the rulebook's quotes were checked against the source documents (app/quotes.py).
    quotes: QuoteCheck
    # Evaluates only what decides each category's list (see app.core.depends.status_rulebook); used for
    # the alternatives behind depends_on. None: the whole rulebook's `evaluate`.
    evaluate_status: Evaluate | None = None
    # Per optional input, a smaller rulebook and its evaluator (app.core.depends.field_rulebooks): an
    # alternative value of that input is evaluated on only the rules it can reach.
    evaluate_by_field: dict[str, tuple[Rulebook, Evaluate]] | None = None
    what_if_analyser: WhatIfAnalyser = field(init=False)
    dependencies: DependencyFinder = field(init=False)
    writer: AnswerWriter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "what_if_analyser", WhatIfAnalyser(self.book, self.explainer, self.evaluate))
        finder = DependencyFinder(
            self.book, self.explainer, self.evaluate_status or self.evaluate, self.evaluate_by_field
        )
        object.__setattr__(self, "dependencies", finder)
        object.__setattr__(self, "writer", AnswerWriter(self.explainer))

    def explain(self, case: Case, what_if: bool = False) -> Explanation:
        evaluation = self.evaluate(case.known_facts())
        explanation = self.explainer.explain(case, evaluation, self.dependencies.find(case, evaluation))
        if what_if:
            explanation.what_if = self.what_if_analyser.analyse(case, evaluation)
        return explanation

    def explain_json(self, case: Case) -> bytes:
        """The explanation (without what-if) as the JSON bytes `explain` would serialise to, written from
        fragments (app/core/answer_json.py): several times faster, and tested byte for byte against it."""
        evaluation = self.evaluate(case.known_facts())
        return self.writer.write(case, evaluation, self.dependencies.find(case, evaluation))

    def compare(self, a: Case, b: Case) -> Comparison:
        return compare(self.explainer, a, self.evaluate(a.known_facts()), b, self.evaluate(b.known_facts()))

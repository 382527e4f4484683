"""The explainer as one object the routes call: rulebook, engine and assembly together."""

from dataclasses import dataclass

from app.core.evaluation import Evaluate
from app.core.explain import Explainer
from app.rulebook import Rulebook
from schemas.case import Case
from schemas.explanation import Explanation


@dataclass(frozen=True)
class ExplainerService:
    book: Rulebook
    evaluate: Evaluate
    explainer: Explainer

    def explain(self, case: Case) -> Explanation:
        return self.explainer.explain(case, self.evaluate(case.known_facts()))

"""Compare two cases: which inputs differ and which categories change list, and why."""

from app.core.evaluation import Evaluation
from app.core.explain import Explainer
from schemas.case import Case
from schemas.explanation import CategoryDifference, Comparison, InputDifference


def compare(explainer: Explainer, a: Case, a_eval: Evaluation, b: Case, b_eval: Evaluation) -> Comparison:
    status_a = explainer.partition(a_eval.fired)
    status_b = explainer.partition(b_eval.fired)
    differences = [
        CategoryDifference(
            category=cat.id,
            label=cat.label,
            a=status_a[cat.id],
            b=status_b[cat.id],
            a_because=explainer.deciding(cat, a, a_eval.fired),
            b_because=explainer.deciding(cat, b, b_eval.fired),
        )
        for cat in explainer.book.categories
        if status_a[cat.id] != status_b[cat.id]
    ]
    return Comparison(
        disclaimer=explainer.book.meta.disclaimer.strip(),
        changed_inputs=[
            InputDifference(field=f, a=getattr(a, f), b=getattr(b, f))
            for f in Case.model_fields
            if getattr(a, f) != getattr(b, f)
        ],
        differences=differences,
        unchanged=[c.id for c in explainer.book.categories if status_a[c.id] == status_b[c.id]],
        rulebook=explainer.stamp,
    )

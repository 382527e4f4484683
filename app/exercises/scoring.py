"""Scores answers and writes the elaborated feedback: the correct status, the rules deciding it with their
`because`, the verbatim quotes with source and section, the learner's answer beside the key and the MDT
disclaimer. Scores only: nothing here claims or measures learning."""

from collections import Counter
from dataclasses import dataclass

from app.exercises.items import Built, Keyed
from app.exercises.text import KEY_WORDS, SCALE_WORDS
from schemas.exercise import Feedback, ItemResult, MissedRule, Mode, ScoreReport
from schemas.explanation import RulebookStamp

MOST_MISSED = 5


class AnswerProblem(ValueError):
    """An answer that names no item of the exercise, or is not one of the item's choices."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def score(k: Keyed, answer: str | int | None) -> float:
    key = k.item.key
    assert key is not None  # items keep their keys until they are shown without them
    if answer is None:
        return 0.0
    if k.item.type == "concordance":
        assert key.value is not None and isinstance(answer, int)
        return 1 - abs(answer - key.value) / 4
    if k.item.type == "why_not":
        return 1.0 if answer == key.option else 0.0
    return 1.0 if answer == key.status else 0.0


def check_answer(k: Keyed, answer: str | int) -> None:
    allowed = [c.value for c in k.item.choices]
    if answer not in allowed or isinstance(answer, bool):
        shown = ", ".join(map(str, allowed))
        raise AnswerProblem(f"answers.{k.item.id}", f"not one of the item's choices ({shown})")


def _text(k: Keyed, value: str | int | None) -> str:
    if value is None:
        return "no answer"
    if k.item.type == "concordance" and isinstance(value, int):
        return f"{value:+d}: {SCALE_WORDS[value]}" if value else f"0: {SCALE_WORDS[0]}"
    if k.item.type == "why_not":
        return next((c.text for c in k.item.choices if c.value == value), str(value))
    return KEY_WORDS.get(str(value), str(value))


def feedback(k: Keyed, answer: str | int | None, disclaimer: str) -> Feedback:
    key = k.item.key
    assert key is not None
    keyed_value = key.value if k.item.type == "concordance" else key.option if k.item.type == "why_not" else key.status
    a = k.answer
    reasons = a.reasons
    return Feedback(
        correct=score(k, answer) == 1.0,
        answer=answer,
        answer_text=_text(k, answer),
        key=key,
        key_text=_text(k, keyed_value),
        category_status=a.status,
        basis=a.basis,
        before=k.item.before,
        after=k.item.after,
        reasons=reasons,
        reasons_before=k.before.reasons if k.before else [],
        depends_on=a.depends_on,
        citations=a.citations,
        note=k.item.note,
        disclaimer=disclaimer,
    )


@dataclass(frozen=True)
class Sheet:
    mode: Mode
    answers: dict[str, str | int]


def score_sheet(
    exercise_id: str, built: list[Built], sheet: Sheet, disclaimer: str, stamp: RulebookStamp
) -> ScoreReport:
    keyed = {item_id: k for b in built for item_id, k in b.keyed.items()}
    for item_id, given in sheet.answers.items():
        if item_id not in keyed:
            raise AnswerProblem(f"answers.{item_id}", "no such item in this exercise (with this seed and variants)")
        check_answer(keyed[item_id], given)
    scored = keyed if sheet.mode == "test" else {i: keyed[i] for i in keyed if i in sheet.answers}
    results: list[ItemResult] = []
    missed: Counter[str] = Counter()
    because: dict[str, str] = {}
    for item_id, k in scored.items():
        answer: str | int | None = sheet.answers.get(item_id)
        points = score(k, answer)
        if points < 1:
            for r in k.answer.reasons:
                missed[r.rule] += 1
                because[r.rule] = r.because
        results.append(
            ItemResult(
                id=item_id,
                type=k.item.type,
                exercise=k.item.exercise,
                parent=k.item.parent,
                category=k.item.category,
                answer=answer,
                score=points,
                feedback=feedback(k, answer, disclaimer),
            )
        )
    return ScoreReport(
        exercise=exercise_id,
        mode=sheet.mode,
        results=results,
        score=sum(r.score for r in results),
        max_score=len(results),
        unanswered=[i for i in scored if i not in sheet.answers] if sheet.mode == "test" else [],
        most_missed_rules=[
            MissedRule(rule=r, because=because[r], missed=n)
            for r, n in sorted(missed.items(), key=lambda x: (-x[1], x[0]))[:MOST_MISSED]
        ],
        disclaimer=disclaimer,
        rulebook=stamp,
    )

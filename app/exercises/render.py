"""HTML fragments shared by every export: an item's question (story, case facts, prompt) and its
feedback (the key, the reasons with their `because`, the verbatim quotes with source and section, the
disclaimer). Every value is escaped; nothing here adds wording of its own beyond labels."""

from html import escape

from app.exercises.items import Keyed
from app.exercises.scoring import feedback
from app.exercises.text import describe_case
from schemas.exercise import CONCORDANCE_NOTE, Exercise, Feedback


def case_html(exercise: Exercise) -> str:
    facts = "".join(f"<li>{escape(f)}</li>" for f in describe_case(exercise.case))
    return f"<p>{escape(exercise.story)}</p><ul class='facts'>{facts}</ul>"


def question_html(exercise: Exercise, k: Keyed, with_case: bool = True) -> str:
    item = k.item
    parts = [case_html(exercise)] if with_case else []
    if item.change is not None:
        parts.append(f"<p><strong>Change:</strong> {escape(item.change.text)}.</p>")
    parts.append(f"<p class='prompt'>{escape(item.prompt)}</p>")
    if item.type == "concordance":
        parts.append(f"<p class='note'><em>{escape(CONCORDANCE_NOTE)}</em></p>")
    return "".join(parts)


def key_feedback(k: Keyed, disclaimer: str) -> Feedback:
    """The feedback an export shows for an item: the key, with no learner's answer."""
    return feedback(k, None, disclaimer)


def feedback_html(fb: Feedback) -> str:
    parts = [f"<p><strong>Key:</strong> {escape(fb.key_text)}.</p>"]
    if fb.before is not None and fb.after is not None:
        before, after = (escape(s.replace("_", " ")) for s in (fb.before, fb.after))
        parts.append(f"<p>Before the change: {before}; after: {after}.</p>")
    if fb.basis == "general":
        parts.append("<p>The sources list this category for liver metastases in general (basis: general).</p>")
    if fb.depends_on:
        deps = "".join(f"<li>{escape(d.statement)}</li>" for d in fb.depends_on)
        parts.append(f"<p>Depends on:</p><ul>{deps}</ul>")
    if fb.reasons:
        reasons = "".join(f"<li>{escape(r.because)} <small>(rule {escape(r.rule)})</small></li>" for r in fb.reasons)
        parts.append(f"<p>Why:</p><ul>{reasons}</ul>")
    for c in fb.citations:
        parts.append(
            f"<blockquote>{escape(c.quote)}"
            f"<footer>{escape(c.source)}, section “{escape(c.section)}”</footer></blockquote>"
        )
    if fb.note:
        parts.append(f"<p class='note'><em>{escape(fb.note)}</em></p>")
    parts.append(f"<p class='disclaimer'><em>{escape(fb.disclaimer)}</em></p>")
    return "".join(parts)

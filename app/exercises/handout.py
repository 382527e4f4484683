"""A printable handout (one HTML file, no external assets): every question first, then the answer key with
the reasons and verbatim quotes, starting on a new page (CSS page breaks), each vignette's key on its own
page."""

from html import escape

from app.exercises.items import Built
from app.exercises.render import case_html, feedback_html, key_feedback, question_html
from schemas.exercise import CONCORDANCE_NOTE
from schemas.explanation import RulebookStamp

CSS = """
body { font-family: Georgia, serif; max-width: 48em; margin: 1em auto; line-height: 1.4; }
.answer-key { break-before: page; page-break-before: always; }
.answer-key > section + section, .questions > section + section { break-before: page; page-break-before: always; }
.item { break-inside: avoid; page-break-inside: avoid; margin-bottom: 1em; }
blockquote { border-left: 3px solid #666; margin-left: 0; padding-left: 1em; }
blockquote footer { font-size: 0.9em; color: #333; }
.choices { list-style: none; } .choices li::before { content: "\\2610  "; }
"""


def handout_html(library: list[tuple[Built, list[Built]]], disclaimer: str, stamp: RulebookStamp) -> bytes:
    questions, keys = [], []
    for parent, variants in library:
        for built in (parent, *variants):
            ex = built.exercise
            head = f"<h2>{escape(ex.title)}</h2>"
            asked, answered = [], []
            for n, (item_id, k) in enumerate(built.keyed.items(), start=1):
                choices = "".join(f"<li>{escape(c.text)}</li>" for c in k.item.choices)
                asked.append(
                    f"<div class='item'><p><strong>{n}.</strong> <small>{escape(item_id)}</small></p>"
                    f"{question_html(ex, k, with_case=False)}<ul class='choices'>{choices}</ul></div>"
                )
                answered.append(
                    f"<div class='item'><p><strong>{n}.</strong> <small>{escape(item_id)}</small></p>"
                    f"{feedback_html(key_feedback(k, disclaimer))}</div>"
                )
            questions.append(f"<section>{head}{case_html(ex)}{''.join(asked)}</section>")
            keys.append(f"<section><h2>Answer key: {escape(ex.title)}</h2>{''.join(answered)}</section>")
    page = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>Liver metastases exercises: handout</title>"
        f"<style>{CSS}</style></head><body>"
        "<header><h1>Liver metastases exercises</h1>"
        f"<p>Keys computed by the rulebook {escape(stamp.version)} ({stamp.date}) from the five source documents. "
        "Items are scored one by one.</p>"
        f"<p><em>{escape(CONCORDANCE_NOTE)}</em></p><p><em>{escape(disclaimer)}</em></p></header>"
        f"<main><div class='questions'>{''.join(questions)}</div>"
        f"<div class='answer-key'><h1>Answer key</h1>{''.join(keys)}</div></main></body></html>\n"
    )
    return page.encode("utf-8")

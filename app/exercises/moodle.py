"""Moodle XML (Moodle's own question import format): one question category per vignette (its variants
under it), one single-answer multichoice question per item, per-answer feedback and general feedback with
the reasons and the verbatim citations. Concordance items give partial credit, 1 - |answer - key| / 4
(Moodle fractions 100, 75, 50, 25, 0)."""

import xml.etree.ElementTree as ET

from app.exercises.items import Built
from app.exercises.render import feedback_html, key_feedback, question_html
from app.exercises.scoring import score
from schemas.exercise import CONCORDANCE_NOTE
from schemas.explanation import RulebookStamp

TOP = "$course$/top/Liver metastases exercises"


def _text(parent: ET.Element, tag: str, text: str, html: bool = False) -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": "html"} if html else {})
    ET.SubElement(el, "text").text = text
    return el


def _category(quiz: ET.Element, path: str, info: str) -> None:
    q = ET.SubElement(quiz, "question", {"type": "category"})
    _text(q, "category", path)
    _text(q, "info", info, html=True)


def _fraction(points: float) -> str:
    return str(round(points * 100))


def moodle_xml(library: list[tuple[Built, list[Built]]], disclaimer: str, stamp: RulebookStamp) -> bytes:
    quiz = ET.Element("quiz")
    for parent, variants in library:
        title = parent.exercise.title
        info = f"<p>Keys computed by the rulebook {stamp.version} ({stamp.date}).</p><p>{disclaimer}</p>"
        _category(quiz, f"{TOP}/{title} [{parent.exercise.id}]", info)
        for built in (parent, *variants):
            if built is not parent:
                _category(quiz, f"{TOP}/{title} [{parent.exercise.id}]/{built.exercise.id}", info)
            for item_id, k in built.keyed.items():
                q = ET.SubElement(quiz, "question", {"type": "multichoice"})
                _text(q, "name", item_id)
                _text(q, "questiontext", question_html(built.exercise, k), html=True)
                fb = key_feedback(k, disclaimer)
                _text(q, "generalfeedback", feedback_html(fb), html=True)
                ET.SubElement(q, "defaultgrade").text = "1"
                ET.SubElement(q, "penalty").text = "0"
                ET.SubElement(q, "hidden").text = "0"
                ET.SubElement(q, "single").text = "true"
                ET.SubElement(q, "shuffleanswers").text = "false"
                ET.SubElement(q, "answernumbering").text = "abc"
                for choice in k.item.choices:
                    points = score(k, choice.value)
                    a = ET.SubElement(q, "answer", {"fraction": _fraction(points), "format": "html"})
                    ET.SubElement(a, "text").text = choice.text
                    said = "Correct." if points == 1 else f"Not the key: the key is {fb.key_text}."
                    if k.item.type == "concordance":
                        said += f" Score {points:g}. {CONCORDANCE_NOTE}"
                    _text(a, "feedback", f"<p>{said}</p>", html=True)
                tags = ET.SubElement(q, "tags")
                for tag in (k.item.type, k.item.category, parent.exercise.id):
                    _text(tags, "tag", tag)
    ET.indent(quiz)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(quiz, encoding="unicode").encode("utf-8") + b"\n"

"""An Anki deck (.apkg, written by genanki) for self-study: one note per item, in a sub-deck per vignette.
Each note's GUID is derived from its item id (which is made of the vignette id, the item type and the change
and category it is about), so importing a rebuilt deck updates the notes instead of adding duplicates."""

import os
import tempfile
import zlib
from html import escape

import genanki

from app.exercises.items import Built
from app.exercises.render import feedback_html, key_feedback, question_html

DECK = "Liver metastases exercises"
MODEL_ID = 1_607_392_319  # fixed forever: a new id would make Anki treat every note as a new kind of note
CSS = ".card { font-family: sans-serif; max-width: 40em; margin: auto; } blockquote { border-left: 3px solid #888; }"
MODEL = genanki.Model(
    MODEL_ID,
    "Liver metastases exercise item",
    fields=[{"name": "ItemId"}, {"name": "Question"}, {"name": "Answer"}],
    templates=[
        {
            "name": "Item",
            "qfmt": "{{Question}}",
            "afmt": "{{FrontSide}}<hr id='answer'>{{Answer}}",
        }
    ],
    css=CSS,
    sort_field_index=0,
)


def note_guid(item_id: str) -> str:
    """The note's GUID: a function of the item id only."""
    guid: str = genanki.guid_for(item_id)
    return guid


def _deck_id(vignette_id: str) -> int:
    return 1 << 30 | zlib.crc32(vignette_id.encode())  # stable per vignette, inside Anki's id range


def _choices_html(built: Built, item_id: str) -> str:
    items = "".join(f"<li>{escape(c.text)}</li>" for c in built.keyed[item_id].item.choices)
    return f"<ol type='a'>{items}</ol>"


def anki_package(library: list[tuple[Built, list[Built]]], disclaimer: str) -> bytes:
    decks = []
    for parent, variants in library:
        deck = genanki.Deck(_deck_id(parent.exercise.id), f"{DECK}::{parent.exercise.title}")
        for built in (parent, *variants):
            for item_id, k in built.keyed.items():
                question = question_html(built.exercise, k) + _choices_html(built, item_id)
                answer = feedback_html(key_feedback(k, disclaimer))
                tags = [k.item.type, k.item.category.replace(" ", "_"), parent.exercise.id]
                deck.add_note(
                    genanki.Note(model=MODEL, fields=[item_id, question, answer], guid=note_guid(item_id), tags=tags)
                )
        decks.append(deck)
    handle, path = tempfile.mkstemp(suffix=".apkg")
    os.close(handle)
    try:
        genanki.Package(decks).write_to_file(path)
        with open(path, "rb") as file:
            return file.read()
    finally:
        os.unlink(path)

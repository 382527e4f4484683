"""The exports in one place: `render_export` for a loaded library (the API), `export` for the command line
and the `livermets` console script (loads the rulebook and the vignettes from the LIVERMETS_* settings)."""

from typing import NamedTuple

from app.exercises.anki import anki_package
from app.exercises.handout import handout_html
from app.exercises.moodle import moodle_xml
from app.exercises.qti import qti_zip
from app.exercises.service import Exercises
from schemas.exercise import ExportFormat


class ExportFile(NamedTuple):
    media_type: str
    suffix: str


FILES: dict[str, ExportFile] = {
    "moodle-xml": ExportFile("application/xml", "xml"),
    "qti12": ExportFile("application/zip", "zip"),
    "anki": ExportFile("application/octet-stream", "apkg"),
    "handout": ExportFile("text/html; charset=utf-8", "html"),
}


def render_export(
    exercises: Exercises, fmt: ExportFormat, seed: int | None, variants: int, only: list[str] | None = None
) -> bytes:
    """The export of every vignette (or of `only` these), each with `variants` variants made with `seed`."""
    library = exercises.everything(seed, variants, only)
    stamp, disclaimer = exercises.svc.explainer.stamp, exercises.disclaimer
    if fmt == "moodle-xml":
        return moodle_xml(library, disclaimer, stamp)
    if fmt == "qti12":
        return qti_zip(library, disclaimer, stamp)
    if fmt == "anki":
        return anki_package(library, disclaimer)
    return handout_html(library, disclaimer, stamp)


def file_name(fmt: ExportFormat, seed: int | None, variants: int) -> str:
    seeded = f"-seed{seed}-variants{variants}" if seed is not None and variants else ""
    return f"livermets-exercises{seeded}.{FILES[fmt].suffix}"


def export(fmt: ExportFormat, seed: int | None = None, variants: int = 0, only: list[str] | None = None) -> bytes:
    """Build the service from the LIVERMETS_* settings, load the vignettes and export them (or `only` these;
    an unknown id is a ValueError)."""
    from app.exercises.service import load_exercises
    from app.settings import Settings
    from app.startup import build_service

    settings = Settings.from_env()
    svc = build_service(settings)
    exercises = load_exercises(svc, settings.exercises_dir, settings.quote_documents())
    unknown = [i for i in only or [] if i not in exercises.library.vignettes]
    if unknown:
        raise ValueError(f"no exercise {unknown[0]!r} in {settings.exercises_dir}")
    return render_export(exercises, fmt, seed, variants, only)

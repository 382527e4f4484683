"""Golden export files of one fixture vignette (tests/golden/exercises/). After a deliberate change to the
exports or to a rule behind that vignette, regenerate them and review the diff:

    python -m tests.exercise_golden

The rulebook version and date are masked, so a version bump alone changes no golden file."""

import io
import zipfile
from pathlib import Path

from app.exercises.export import render_export
from tests.exercise_support import GOLDEN_VIGNETTE, fixture_exercises

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "exercises"
STAMP_MASK = "RULEBOOK-VERSION (RULEBOOK-DATE)"


def masked(data: bytes) -> str:
    stamp = fixture_exercises().svc.explainer.stamp
    return data.decode("utf-8").replace(f"{stamp.version} ({stamp.date})", STAMP_MASK)


def rendered() -> dict[str, str]:
    ex = fixture_exercises()
    only = [GOLDEN_VIGNETTE]
    qti = zipfile.ZipFile(io.BytesIO(render_export(ex, "qti12", None, 0, only)))
    return {
        f"{GOLDEN_VIGNETTE}.moodle.xml": masked(render_export(ex, "moodle-xml", None, 0, only)),
        f"{GOLDEN_VIGNETTE}.handout.html": masked(render_export(ex, "handout", None, 0, only)),
        f"{GOLDEN_VIGNETTE}.qti-manifest.xml": masked(qti.read("imsmanifest.xml")),
    }


def main() -> None:
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in rendered().items():
        (GOLDEN_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {GOLDEN_DIR / name}")


if __name__ == "__main__":
    main()
